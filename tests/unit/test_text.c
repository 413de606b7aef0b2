/* The text helpers every kernel-file parser uses (util/text.c): lines with
 * and without their '\n', splits, exact and prefix matches, and decimals
 * that refuse signs, blanks and overflow, leaving their outputs alone. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "util/text.h"

#define CL(s) s, sizeof(s) - 1

Test(text, lines_say_whether_their_newline_was_there) {
        const char buf[] = "a 1\n\nlast";
        size_t pos = 0;
        gd_span l;
        bool complete;

        cr_assert(gd_text_line(CL(buf), &pos, &l, &complete));
        cr_assert(l.n == 3 && !memcmp(l.p, "a 1", 3) && complete);
        cr_assert(gd_text_line(CL(buf), &pos, &l, &complete));
        cr_assert(l.n == 0 && complete, "an empty line is a line");
        cr_assert(gd_text_line(CL(buf), &pos, &l, NULL));
        cr_assert(l.n == 4 && !memcmp(l.p, "last", 4));
        pos = 5;
        cr_assert(gd_text_line(CL(buf), &pos, &l, &complete));
        cr_assert_not(complete, "cut short: no newline");
        cr_assert_not(gd_text_line(CL(buf), &pos, &l, &complete));
        pos = 0;
        cr_assert_not(gd_text_line("", 0, &pos, &l, NULL));
}

Test(text, a_nul_is_a_byte_like_any_other) {
        const char buf[] = "a\0b\nc";
        size_t pos = 0;
        gd_span l;

        cr_assert(gd_text_line(CL(buf), &pos, &l, NULL));
        cr_assert_eq(l.n, 3);
}

Test(text, split_takes_the_head_and_keeps_the_rest) {
        gd_span s = {CL("some avg10=1.00")};
        gd_span head = gd_text_split(&s, ' ');
        cr_assert(gd_text_eq(head, "some"));
        cr_assert(gd_text_eq(s, "avg10=1.00"));
        head = gd_text_split(&s, ' ');
        cr_assert(gd_text_eq(head, "avg10=1.00") && s.n == 0, "no separator: all of it");
        cr_assert(gd_text_starts((gd_span){CL("VmRSS:\t1 kB")}, "VmRSS:"));
        cr_assert_not(gd_text_starts((gd_span){CL("VmRS")}, "VmRSS:"));
        cr_assert_not(gd_text_eq((gd_span){CL("some ")}, "some"));
}

Test(text, decimals_stop_at_the_first_non_digit) {
        const char buf[] = "123 kB";
        const char *p = buf;
        uint64_t v = 0;

        cr_assert_eq(gd_text_u64_prefix(&p, buf + 6, &v), 0);
        cr_assert(v == 123 && p == buf + 3);
        cr_assert_eq(gd_text_u64((gd_span){CL("18446744073709551615")}, &v), 0);
        cr_assert_eq(v, UINT64_MAX);
}

Test(text, refused_decimals_leave_outputs_alone) {
        static const char *const bad[] = {"", "+1", "-1", " 1", "1 ", "0x10", "1e3",
                                          "18446744073709551616", "99999999999999999999"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                uint64_t v = 42;
                cr_assert_eq(gd_text_u64((gd_span){bad[i], strlen(bad[i])}, &v), -EBADMSG,
                             "%s", bad[i]);
                cr_assert_eq(v, 42, "%s", bad[i]);
        }
        const char over[] = "18446744073709551616";
        const char *p = over;
        uint64_t v = 42;
        cr_assert_eq(gd_text_u64_prefix(&p, over + sizeof(over) - 1, &v), -EBADMSG);
        cr_assert(p == over && v == 42);
}
