/* policy/match.c globs: glob tables (with a brute-force reference matcher
 * fed random patterns) and hostile patterns. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/glob.h"
#include "tests/lib/strrepeat.h"

/* ================================================================
 * match_glob
 * ================================================================ */

TestSuite(match_glob);

#define P true  /* path mode */
#define N false /* comm, exe, cmdline, ids */

struct glob_case {
        char pattern[96]; /* arrays, not pointers: each parameter runs in a fresh process */
        char s[128];
        bool path;
        bool want;
};

ParameterizedTestParameters(match_glob, table) {
        static struct glob_case cases[] = {
                /* literals, anchored at both ends, case-sensitive, bytes */
                {"system.slice/mysql.service", "system.slice/mysql.service", P, true},
                {"mysql", "mysqld", N, false},
                {"mysql", "xmysql", N, false},
                {"MySQL", "mysql", N, false},
                {"*mysql*", "x-mysql-y", N, true},
                /* empty pattern and string */
                {"", "", P, true},
                {"", "", N, true},
                {"", "a", P, false},
                {"a", "", N, false},
                {"*", "", P, true},
                {"**", "", P, true},
                {"?", "", N, false},
                /* '*' stays in one level in path mode, crosses '/' otherwise */
                {"system.slice/mysql*", "system.slice/mysql.service", P, true},
                {"system.slice/*", "system.slice/a.service", P, true},
                {"system.slice/*", "system.slice/a/b", P, false},
                {"system.slice/*", "system.slice/", P, true},
                {"*", "a/b", P, false},
                {"*", "a/b", N, true},
                {"*/*", "a/b", P, true},
                {"*/*", "a/b/c", P, false},
                {"*.service", "system.slice/x.service", P, false},
                {"/usr/*/mysqld", "/usr/local/sbin/mysqld", N, true},
                {"*--datadir*", "/usr/sbin/mysqld --datadir=/var/lib/mysql", N, true},
                {"a*b*c", "axxbyyc", N, true},
                {"a*b*c", "axxbyy", N, false},
                {"a*b*c", "a/b/c", P, false},
                {"a*/b*/c", "ax/by/c", P, true},
                {"a*/b*/c", "ax/b/y/c", P, false},
                /* cgroup paths are relative: a leading '/' is a literal */
                {"/system.slice/*", "system.slice/a.service", P, false},
                /* '**' crosses levels */
                {"**", "a/b/c", P, true},
                {"**", "a/b", N, true},
                {"***", "a/b", P, true},
                {"a**b", "a/x/b", P, true},
                {"a**b", "ab", P, true},
                {"**.scope", "system.slice/docker-x.scope", P, true},
                {"**.scope", "system.slice/docker-x.scope/init", P, false},
                /* a trailing "**" level: every descendant of a, not a itself */
                {"a/**", "a/b", P, true},
                {"a/**", "a/b/c", P, true},
                {"a/**", "a", P, false},
                {"a/**", "a/", P, true},
                {"a/**", "ab", P, false},
                {"a/**", "b/a/c", P, false},
                /* leading "**" + '/' matches zero or more whole levels */
                {"**/x.scope", "x.scope", P, true},
                {"**/x.scope", "a/x.scope", P, true},
                {"**/x.scope", "a/b/c/x.scope", P, true},
                {"**/x.scope", "ax.scope", P, false},
                {"**/x.scope", "a/x.scope/y", P, false},
                {"**/x.scope", "a/yx.scope", P, false},
                {"**/**/x", "x", P, true},
                {"**/**/x", "a/b/x", P, true},
                /* a "**" level in the middle: zero or more levels */
                {"a/**/b", "a/b", P, true},
                {"a/**/b", "a/x/b", P, true},
                {"a/**/b", "a/x/y/b", P, true},
                {"a/**/b", "a/xb", P, false},
                {"a/**/b", "ab", P, false},
                {"a/**/b", "a/x/b/c", P, false},
                {"a/**/b", "a/b/b", P, true},
                {"a/**/**/b", "a/b", P, true},
                {"a/***/b", "a/b", P, true},
                /* "**" not a whole level: any run, no level to skip */
                {"a**/b", "a/b", P, true},
                {"a**/b", "ax/y/b", P, true},
                {"a/**b", "a/b", P, true},
                {"a/**b", "a/x/yb", P, true},
                {"x**/b", "b", P, false},
                {"**/docker-*.scope", "system.slice/docker-abc.scope", P, true},
                {"**/docker-*.scope", "system.slice/docker-abc.scope/init.scope", P, false},
                {"**/docker-*.scope/**", "system.slice/docker-abc.scope/init.scope", P, true},
                {"kubepods.slice/**/cri-containerd-*.scope",
                 "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
                 "cri-containerd-ab.scope",
                 P, true},
                {"kubepods.slice/**", "kubepods.slice", P, false},
                /* '?': one byte, never '/' in path mode */
                {"a?c", "abc", P, true},
                {"a?c", "a/c", P, false},
                {"a?c", "a/c", N, true},
                {"?", "/", P, false},
                {"?", "/", N, true},
                {"??", "a", N, false},
                {"caf?", "caf\xc3\xa9", N, false}, /* bytes: "é" is two */
                {"caf??", "caf\xc3\xa9", N, true},
                /* classes */
                {"[abc]", "b", N, true},
                {"[abc]", "d", N, false},
                {"[abc]", "", N, false},
                {"[abc]", "ab", N, false},
                {"[a-z]x", "qx", N, true},
                {"[a-z]", "A", N, false},
                {"[0-9a-f]", "e", N, true},
                {"[0-9a-f]", "g", N, false},
                {"[!abc]", "d", N, true},
                {"[!abc]", "a", N, false},
                {"[^abc]", "d", N, true},
                {"[^abc]", "b", N, false},
                {"[]a]", "]", N, true},
                {"[]a]", "a", N, true},
                {"[]a]", "b", N, false},
                {"[!]a]", "]", N, false},
                {"[!]a]", "b", N, true},
                {"[]-a]", "^", N, true}, /* ']'..'a' is a range */
                {"[a-]", "-", N, true},
                {"[-a]", "-", N, true},
                {"[-a]", "b", N, false},
                {"[z-a]", "m", N, false}, /* a reversed range is empty */
                {"[/]", "/", P, false},
                {"[/]", "/", N, true},
                {"[!a]", "/", P, false},
                {"[!a]", "/", N, true},
                {"a[/]b", "a/b", P, false},
                {"mysql[d-]*", "mysqld", N, true},
                {"[[]", "[", N, true},
                /* an unterminated '[' is a literal '[' */
                {"[abc", "[abc", N, true},
                {"[abc", "a", N, false},
                {"a[", "a[", P, true},
                {"[", "[", N, true},
                {"[]", "[]", N, true},
                {"[!]", "[!]", N, true},
                {"[]", "]", N, false},
                /* no backslash escapes: '\' is a byte like any other; a class
                 * spells a literal '*', '?' or '[' */
                {"\\*", "\\anything", N, true},
                {"\\*", "*", N, false},
                {"a\\b", "a\\b", N, true},
                {"\\?", "\\x", N, true},
                {"[*]", "*", N, true},
                {"[*]", "x", N, false},
                {"[?]", "?", N, true},
                {"[?]", "x", N, false},
        };
        return cr_make_param_array(struct glob_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct glob_case *c, match_glob, table) {
        cr_assert_eq(pol_glob_match(c->pattern, c->s, c->path), c->want, "'%s' vs '%s' (%s mode): want %s",
                     c->pattern, c->s, c->path ? "path" : "plain", c->want ? "match" : "no match");
}

Test(match_glob, null_never_matches) {
        cr_assert_not(pol_glob_match(NULL, "a", N));
        cr_assert_not(pol_glob_match("*", NULL, P));
        cr_assert(pol_glob_match("*", "", P));
}

/* ---- hostile patterns: right answers in polynomial time ---- */

Test(match_glob, hostile_stars_against_4000_bytes) {
        char *no_b = repeat("a", 4000, "");
        char *with_b = repeat("a", 3999, "b");
        const char *pat = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";

        for (int path = 0; path < 2; path++) {
                cr_assert_not(pol_glob_match(pat, no_b, path));
                cr_assert(pol_glob_match(pat, with_b, path));
        }
        free(no_b);
        free(with_b);
}

Test(match_glob, hostile_double_stars_across_levels) {
        char *no_b = repeat("a/", 2000, "a");
        char *with_b = repeat("a/", 2000, "b");
        char *deep_x = repeat("a/", 1999, "x");

        cr_assert_not(pol_glob_match("**a**a**a**a**a**a**a**a**b", no_b, P));
        cr_assert(pol_glob_match("**a**a**a**a**a**a**a**a**b", with_b, P));
        cr_assert_not(pol_glob_match("**/**/**/**/**/**/**/**/**/x", no_b, P));
        cr_assert(pol_glob_match("**/**/**/**/**/**/**/**/**/x", deep_x, P));
        /* single stars cannot cross the 2000 levels */
        cr_assert_not(pol_glob_match("*a*a*a*a*a*a*b", with_b, P));
        cr_assert(pol_glob_match("*a*a*a*a*a*a*b", with_b, N));
        free(no_b);
        free(with_b);
        free(deep_x);
}

Test(match_glob, longest_pattern_against_longest_string) {
        /* 511 "*a" and "*b": exactly POL_PATTERN_LEN_MAX bytes, every state live */
        char *pat = repeat("*a", POL_PATTERN_LEN_MAX / 2 - 1, "*b");
        char *no_b = repeat("a", 4096, "");
        char *with_b = repeat("a", 4095, "b");

        cr_assert_eq(strlen(pat), POL_PATTERN_LEN_MAX);
        cr_assert_not(pol_glob_match(pat, no_b, P));
        cr_assert(pol_glob_match(pat, with_b, P));
        free(pat);
        free(no_b);
        free(with_b);
}

Test(match_glob, lengths_over_the_caps_never_match) {
        char *pat_max = repeat("?", POL_PATTERN_LEN_MAX, "");
        char *pat_over = repeat("?", POL_PATTERN_LEN_MAX + 1, "");
        char *s_max = repeat("x", POL_PATTERN_LEN_MAX, "");
        char *s_over = repeat("x", POL_PATTERN_LEN_MAX + 1, "");
        char *long_ok = repeat("x", 4096, "");
        char *long_over = repeat("x", 4097, "");
        char *stars_over = repeat("*", POL_PATTERN_LEN_MAX + 1, "");

        cr_assert(pol_glob_match(pat_max, s_max, N));
        cr_assert_not(pol_glob_match(pat_over, s_over, N));
        cr_assert_not(pol_glob_match(stars_over, "a", N));
        cr_assert(pol_glob_match("*", long_ok, N));
        cr_assert(pol_glob_match("**", long_ok, P));
        cr_assert_not(pol_glob_match("*", long_over, N));
        cr_assert_not(pol_glob_match("**", long_over, P));
        free(pat_max);
        free(pat_over);
        free(s_max);
        free(s_over);
        free(long_ok);
        free(long_over);
        free(stars_over);
}

/* ---- a brute-force reference, compared on random small inputs ---- */

/* The class at p ('[' already seen, p after it): sets *ret_len to the bytes
 * it spans after the '[' and returns whether c is in it; -1 if unterminated. */
static int ref_class(const char *p, unsigned char c, size_t *ret_len) {
        bool neg = p[0] == '!' || p[0] == '^', in = false;
        size_t first = neg, end;
        const char *close = strchr(p + first + (p[first] == ']'), ']');

        if (!close)
                return -1;
        end = (size_t) (close - p);
        for (size_t i = first; i < end; i++) {
                if (i + 2 < end && p[i + 1] == '-') {
                        in |= c >= (unsigned char) p[i] && c <= (unsigned char) p[i + 2];
                        i += 2;
                } else {
                        in |= c == (unsigned char) p[i];
                }
        }
        *ret_len = end + 1;
        return in != neg;
}

static bool ref_match(const char *pat, size_t pi, const char *s, bool path) {
        const char *p = pat + pi;

        if (!*p)
                return !*s;
        if (*p == '*') {
                size_t k = 0;
                while (p[k] == '*')
                        k++;
                bool dbl = path && k >= 2;
                if (dbl && (pi == 0 || pat[pi - 1] == '/') && p[k] == '/' && ref_match(pat, pi + k + 1, s, path))
                        return true;
                for (size_t n = 0;; n++) {
                        if (ref_match(pat, pi + k, s + n, path))
                                return true;
                        if (!s[n] || (!dbl && path && s[n] == '/'))
                                return false;
                }
        }
        if (!*s)
                return false;
        if (*p == '?')
                return !(path && *s == '/') && ref_match(pat, pi + 1, s + 1, path);
        if (*p == '[') {
                size_t len = 0;
                int r = ref_class(p + 1, (unsigned char) *s, &len);
                if (r >= 0)
                        return r && !(path && *s == '/') && ref_match(pat, pi + 1 + len, s + 1, path);
        }
        return *p == *s && ref_match(pat, pi + 1, s + 1, path);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return (unsigned) (rng % n);
}

static void random_string(char *buf, const char *alphabet, unsigned maxlen) {
        unsigned len = rnd(maxlen + 1), k = (unsigned) strlen(alphabet);

        for (unsigned i = 0; i < len; i++)
                buf[i] = alphabet[rnd(k)];
        buf[len] = '\0';
}

Test(match_glob, agrees_with_brute_force_reference) {
        char pat[16], s[16];
        unsigned matches = 0;

        for (int i = 0; i < 200000; i++) {
                bool path = rnd(2);
                random_string(pat, "ab/**?[]!-a/", 9);
                random_string(s, "ab/-[]!", 9);
                bool want = ref_match(pat, 0, s, path);
                matches += want;
                cr_assert_eq(pol_glob_match(pat, s, path), want, "'%s' vs '%s' (%s mode): want %s", pat,
                             s, path ? "path" : "plain", want ? "match" : "no match");
        }
        /* the generator must exercise both answers */
        cr_assert_gt(matches, 1000);
}
