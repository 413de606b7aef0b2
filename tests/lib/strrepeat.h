/* String building for unit tests that need long or pathological inputs.
 *
 * Header-only (static inline) so a test file that does not use a helper
 * does not trip -Wunused-function. Fails the running Criterion test
 * (cr_assert) on allocation failure instead of returning NULL. */
#pragma once

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* unit repeated times times, then tail; malloc'd and NUL-terminated: free()
 * it. E.g. repeat("a/", 3, "b") is "a/a/a/b". */
static inline char *repeat(const char *unit, size_t times, const char *tail) {
        size_t ulen = strlen(unit), tlen = strlen(tail);
        char *s = malloc(ulen * times + tlen + 1);

        cr_assert_not_null(s);
        for (size_t i = 0; i < times; i++)
                memcpy(s + i * ulen, unit, ulen);
        memcpy(s + ulen * times, tail, tlen + 1);
        return s;
}
