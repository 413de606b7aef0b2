/* A check shared by the tests of texts cut to fit a buffer (policy/match.c's
 * why): what was written into size bytes is a NUL-terminated prefix of the
 * whole text that drops at most one incomplete UTF-8 sequence, and does not
 * end inside one.
 *
 * Header-only (static inline), as tests/lib/decide_helpers.h. */
#pragma once

#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

/* got: the size-byte buffer (size >= 1); full: the text uncut. */
static inline void assert_cut_prefix(const char *got, size_t size, const char *full) {
        size_t n = strnlen(got, size);

        cr_assert_lt(n, size, "size %zu: not NUL-terminated", size);
        cr_assert(strncmp(got, full, n) == 0, "size %zu: '%s'", size, got);
        cr_assert_geq(n + 3, size - 1, "size %zu: more than a sequence dropped: '%s'", size, got);
        size_t i = n;
        while (i > 0 && ((unsigned char)got[i - 1] & 0xc0) == 0x80)
                i--;
        if (i > 0 && (unsigned char)got[i - 1] >= 0xc0) {
                unsigned char lead = (unsigned char)got[i - 1];
                size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
                cr_assert_geq(n - (i - 1), need, "size %zu: cut inside '%s'", size, got);
        }
}
