/* The one bounded buffer: never past its end, an overflow reported once
 * and kept, a sink buffer that never overflows. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

Test(buf, appends_and_stays_terminated) {
        char data[8];
        gd_buf b;

        gd_buf_init(&b, data, sizeof(data));
        cr_assert_str_eq(data, "");
        cr_assert_eq(gd_buf_puts(&b, "abc"), 0);
        cr_assert_eq(gd_buf_putc(&b, 'd'), 0);
        cr_assert_eq(gd_buf_printf(&b, "%d", 12), 0);
        cr_assert_str_eq(data, "abcd12");
        cr_assert_eq(b.len, 6);
        cr_assert_eq(gd_buf_room(&b), 1);
        cr_assert_not(b.overflow);
}

Test(buf, overflow_is_whole_or_nothing_and_sticky) {
        char data[16];
        gd_buf b;

        memset(data, 'Z', sizeof(data));
        /* Only the first 6 bytes belong to the buffer: 5 and the NUL. */
        gd_buf_init(&b, data, 6);
        cr_assert_eq(gd_buf_puts(&b, "abc"), 0);
        cr_assert_eq(gd_buf_puts(&b, "def"), -ENOBUFS);
        cr_assert_str_eq(data, "abc");
        cr_assert(b.overflow);
        /* A piece that would fit fails too: the buffer is already cut. */
        cr_assert_eq(gd_buf_putc(&b, 'x'), -ENOBUFS);
        cr_assert_eq(gd_buf_room(&b), 0);
        cr_assert_str_eq(data, "abc");
        for (size_t i = 6; i < sizeof(data); i++)
                cr_assert_eq(data[i], 'Z', "byte %zu past the end written", i);
}

Test(buf, exact_fit_and_one_byte) {
        char data[4];
        gd_buf b;

        gd_buf_init(&b, data, sizeof(data));
        cr_assert_eq(gd_buf_puts(&b, "xyz"), 0);
        cr_assert_str_eq(data, "xyz");
        cr_assert_eq(gd_buf_putc(&b, 'w'), -ENOBUFS);

        gd_buf_init(&b, data, 1);
        cr_assert_eq(gd_buf_puts(&b, ""), 0);
        cr_assert_eq(gd_buf_putc(&b, 'a'), -ENOBUFS);
        cr_assert_str_eq(data, "");
}

Test(buf, printf_too_long_fails) {
        char data[512], big[300];
        gd_buf b;

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        gd_buf_init(&b, data, sizeof(data));
        cr_assert_eq(gd_buf_printf(&b, "%s", big), -ENOBUFS);
        cr_assert(b.overflow);
        cr_assert_str_eq(data, "");
}

Test(buf, truncate_backs_off) {
        char data[8];
        gd_buf b;

        gd_buf_init(&b, data, sizeof(data));
        gd_buf_puts(&b, "abcdef");
        gd_buf_puts(&b, "gh");
        cr_assert(b.overflow);
        gd_buf_truncate(&b, 2);
        cr_assert_not(b.overflow);
        cr_assert_str_eq(data, "ab");
        cr_assert_eq(gd_buf_puts(&b, "Z"), 0);
        cr_assert_str_eq(data, "abZ");
}

Test(buf, sink_flushes_and_never_overflows) {
        char data[4], *out = NULL;
        size_t out_len = 0;
        FILE *f = open_memstream(&out, &out_len);
        gd_buf b;

        cr_assert_not_null(f);
        gd_buf_init_sink(&b, data, sizeof(data), f);
        cr_assert_eq(gd_buf_puts(&b, "ab"), 0);
        cr_assert_eq(gd_buf_puts(&b, "cd"), 0);
        /* Longer than the whole buffer: straight through. */
        cr_assert_eq(gd_buf_puts(&b, "efghij"), 0);
        cr_assert_eq(gd_buf_putc(&b, 'k'), 0);
        cr_assert_not(b.overflow);
        cr_assert_eq(gd_buf_flush(&b), 0);
        fclose(f);
        cr_assert_str_eq(out, "abcdefghijk");
        free(out);
}

Test(buf, append_some_cuts_to_the_room) {
        char data[16];
        gd_buf b;

        memset(data, 'Z', sizeof(data));
        gd_buf_init(&b, data, 6);
        cr_assert_eq(gd_buf_append_some(&b, "ab", 2), 0);
        cr_assert_eq(gd_buf_append_some(&b, "cdefgh", 6), -ENOBUFS);
        cr_assert_str_eq(data, "abcde");
        cr_assert(b.overflow);
        cr_assert_eq(gd_buf_append_some(&b, "x", 1), -ENOBUFS);
        for (size_t i = 6; i < sizeof(data); i++)
                cr_assert_eq(data[i], 'Z', "byte %zu past the end written", i);
}
