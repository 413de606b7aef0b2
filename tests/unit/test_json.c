/* JSON strings must stay valid whatever bytes a process puts in its name. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* Inline arrays, not pointers: Criterion runs each parameter in a fresh
 * process, where pointers into the parent's data are not valid. */
struct json_case {
        char in[32];
        char out[64];
};

ParameterizedTestParameters(json, string) {
        static struct json_case cases[] = {
                {"mysqld", "\"mysqld\""},
                {"a \"b\" \\c", "\"a \\\"b\\\" \\\\c\""},
                {"line\nbreak\ttab", "\"line\\nbreak\\ttab\""},
                {"\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""},
                {"caf\xc3\xa9", "\"caf\xc3\xa9\""},          /* valid UTF-8 kept */
                {"bad\xff\xc3", "\"bad\\u00ff\\u00c3\""},    /* invalid and truncated escaped */
                {"\xc0\xaf", "\"\\u00c0\\u00af\""},          /* overlong '/' */
                {"\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""}, /* surrogate */
                {"", "\"\""},
        };
        return cr_make_param_array(struct json_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct json_case *c, json, string) {
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        cr_assert_not_null(out);
        gd_json_string(out, c->in);
        fclose(out);
        cr_assert_str_eq(buf, c->out);
        free(buf);
}

/* ---- gd_json_escape: the same literal into a buffer, cut cleanly ---- */

/* gd_json_string's output for s, malloc'd. */
static char *json_string_of(const char *s) {
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);

        cr_assert_not_null(out);
        gd_json_string(out, s);
        fclose(out);
        return buf;
}

struct escape_case {
        char in[48];
};

ParameterizedTestParameters(json, escape_matches_string) {
        static struct escape_case cases[] = {
                {"mysqld"},
                {"a \"b\" \\c"},
                {"line\nbreak\ttab\r"},
                {"\x01\x1f\x7f"},
                {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
                {"bad\xff\xc3"},
                {"\xc0\xaf"},
                {"\xed\xa0\x80"},
                {"\xf4\x90\x80\x80"}, /* above U+10FFFF */
                {"\xe2\x82"},         /* truncated at the end */
                {""},
        };
        return cr_make_param_array(struct escape_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct escape_case *c, json, escape_matches_string) {
        char buf[512];
        char *want = json_string_of(c->in);
        int r = gd_json_escape(buf, sizeof(buf), c->in);

        cr_assert_eq(r, (int)strlen(want), "r=%d want %zu", r, strlen(want));
        cr_assert_str_eq(buf, want);
        /* Exactly enough room: fits. One byte less: does not. */
        memset(buf, 'X', sizeof(buf));
        cr_assert_eq(gd_json_escape(buf, strlen(want) + 1, c->in), r);
        cr_assert_str_eq(buf, want);
        cr_assert_eq(gd_json_escape(buf, strlen(want), c->in), -ENOBUFS);
        free(want);
}

/* Every size from 0 up: the result is the whole literal, or the longest
 * literal of a byte prefix of the input that gd_json_string would write
 * the same way as in the whole one (so no escape or UTF-8 sequence is
 * split) and that fits. The buffer is exactly size bytes on the heap so
 * ASan sees any write past it. */
Test(json, escape_cuts_between_units) {
        static const char in[] = "a\"b\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x01\xffz\\";
        size_t n = strlen(in);
        char *full = json_string_of(in);
        size_t full_len = strlen(full);
        /* cuts[k]: literal of in[0..k) if it is a clean cut, else NULL. */
        char *cuts[sizeof(in)];

        for (size_t k = 0; k <= n; k++) {
                char prefix[sizeof(in)];
                memcpy(prefix, in, k);
                prefix[k] = '\0';
                cuts[k] = json_string_of(prefix);
                size_t l = strlen(cuts[k]);
                if (strncmp(cuts[k], full, l - 1) != 0) { /* differs before its closing quote */
                        free(cuts[k]);
                        cuts[k] = NULL;
                }
        }
        for (size_t size = 0; size <= full_len + 2; size++) {
                char *buf = malloc(size ? size : 1);
                cr_assert_not_null(buf);
                memset(buf, 'X', size ? size : 1);
                int r = gd_json_escape(buf, size, in);
                if (size > full_len) {
                        cr_assert_eq(r, (int)full_len, "size %zu: r=%d", size, r);
                        cr_assert_str_eq(buf, full);
                } else if (size < 3) {
                        cr_assert_eq(r, -ENOBUFS);
                        if (size > 0)
                                cr_assert_eq(buf[0], '\0', "size %zu", size);
                        else
                                cr_assert_eq(buf[0], 'X', "size 0 must not write");
                } else {
                        const char *want = NULL;
                        for (size_t k = 0; k <= n; k++)
                                if (cuts[k] && strlen(cuts[k]) < size)
                                        want = cuts[k];
                        cr_assert_eq(r, -ENOBUFS, "size %zu: r=%d", size, r);
                        cr_assert_not_null(want);
                        cr_assert_str_eq(buf, want, "size %zu", size);
                }
                free(buf);
        }
        for (size_t k = 0; k <= n; k++)
                free(cuts[k]);
        free(full);
}
