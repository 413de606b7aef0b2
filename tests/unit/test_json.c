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

/* ---- the writer ---- */

static const char *write_nested(char *data, size_t size, bool *ret_failed) {
        gd_json_writer w;
        gd_buf b;

        gd_buf_init(&b, data, size);
        gd_json_writer_init(&w, &b);
        gd_json_begin_object(&w);
        gd_json_key(&w, "a");
        gd_json_int(&w, -1);
        gd_json_key(&w, "b");
        gd_json_begin_array(&w);
        gd_json_uint(&w, 18446744073709551615u);
        gd_json_bool(&w, true);
        gd_json_null(&w);
        gd_json_begin_object(&w);
        gd_json_end_object(&w);
        gd_json_begin_array(&w);
        gd_json_end_array(&w);
        gd_json_str(&w, "x");
        gd_json_end_array(&w);
        gd_json_key(&w, "c");
        gd_json_double(&w, "%.2f", 1.5);
        gd_json_key(&w, "d");
        gd_json_double(&w, "%.4g", 0.0 / 0.0);
        gd_json_key(&w, "e");
        gd_json_bool(&w, false);
        gd_json_end_object(&w);
        *ret_failed = gd_json_failed(&w);
        return data;
}

Test(json, writer_commas_and_nesting) {
        char data[256];
        bool failed;

        cr_assert_str_eq(write_nested(data, sizeof(data), &failed),
                         "{\"a\":-1,\"b\":[18446744073709551615,true,null,{},[],\"x\"],"
                         "\"c\":1.50,\"d\":null,\"e\":false}");
        cr_assert_not(failed);
}

Test(json, writer_never_past_the_end) {
        static const char whole[] = "{\"a\":-1,\"b\":[18446744073709551615,true,null,{},[],"
                                    "\"x\"],\"c\":1.50,\"d\":null,\"e\":false}";

        for (size_t size = 1; size <= sizeof(whole); size++) {
                char data[sizeof(whole) + 8];
                bool failed;

                memset(data, 'Z', sizeof(data));
                write_nested(data, size, &failed);
                cr_assert_eq(failed, size < sizeof(whole), "size %zu", size);
                cr_assert(strlen(data) < size, "size %zu", size);
                /* What is there is a prefix of the whole document. */
                cr_assert_eq(strncmp(data, whole, strlen(data)), 0, "size %zu", size);
                for (size_t i = size; i < sizeof(data); i++)
                        cr_assert_eq(data[i], 'Z', "size %zu: byte %zu written", size, i);
        }
}

Test(json, writer_escapes_hostile_keys_and_strings) {
        char data[256];
        gd_json_writer w;
        gd_buf b;

        gd_buf_init(&b, data, sizeof(data));
        gd_json_writer_init(&w, &b);
        gd_json_begin_object(&w);
        gd_json_key(&w, "k\"\n");
        gd_json_str(&w, "\"},{\x01\xff\\");
        gd_json_key(&w, "n");
        gd_json_str(&w, NULL);
        gd_json_end_object(&w);
        cr_assert_not(gd_json_failed(&w));
        cr_assert_str_eq(data, "{\"k\\\"\\n\":\"\\\"},{\\u0001\\u00ff\\\\\",\"n\":null}");
}

Test(json, writer_string_whole_or_nothing) {
        char data[8];
        gd_json_writer w;
        gd_buf b;

        gd_buf_init(&b, data, sizeof(data));
        gd_json_writer_init(&w, &b);
        gd_json_begin_array(&w);
        cr_assert_eq(gd_json_str(&w, "\x01\x01"), -ENOBUFS);
        /* Not a piece of an escape: the string is gone whole. */
        cr_assert_str_eq(data, "[");
        cr_assert(gd_json_failed(&w));
}

Test(json, writer_misuse_fails) {
        char data[256];
        gd_json_writer w;
        gd_buf b;

        gd_buf_init(&b, data, sizeof(data));
        gd_json_writer_init(&w, &b);
        cr_assert_eq(gd_json_end_object(&w), -ENOBUFS);
        cr_assert(gd_json_failed(&w));

        gd_json_writer_init(&w, &b);
        for (int i = 0; i < GD_JSON_DEPTH_MAX; i++)
                cr_assert_eq(gd_json_begin_array(&w), 0);
        cr_assert_eq(gd_json_begin_array(&w), -ENOBUFS);
        cr_assert(gd_json_failed(&w));
}

Test(json, writer_cut_between_escapes) {
        /* Each \x01 is a 6-byte escape: a cut lands between two of them,
         * never inside one, and the literal stays within max. */
        for (size_t max = 5; max < 40; max++) {
                char data[64];
                gd_json_writer w;
                gd_buf b;
                size_t len = 0;
                bool cut = false;

                gd_buf_init(&b, data, sizeof(data));
                gd_json_writer_init(&w, &b);
                cr_assert_eq(gd_json_str_cut(&w, "\x01\x01\x01\x01\x01", max, "...", &len, &cut),
                             0, "max %zu", max);
                cr_assert_eq(len, strlen(data), "max %zu", max);
                cr_assert(len <= max, "max %zu: %s", max, data);
                cr_assert_eq(cut, max < 32, "max %zu: %s", max, data);
                if (cut) {
                        size_t units = (len - 5) / 6;
                        cr_assert_eq(len, 5 + units * 6, "max %zu: %s", max, data);
                        cr_assert_eq(strcmp(data + len - 4, "...\""), 0, "max %zu: %s", max, data);
                        cr_assert_eq(units, (max - 5) / 6, "max %zu: the longest cut", max);
                }
        }
}

Test(json, writer_cut_needs_room) {
        char data[16];
        gd_json_writer w;
        gd_buf b;
        bool cut = false;

        /* A max below the mark and the quotes: whole or not at all. */
        gd_buf_init(&b, data, sizeof(data));
        gd_json_writer_init(&w, &b);
        cr_assert_eq(gd_json_str_cut(&w, "abcdef", 4, "...", NULL, &cut), -ENOBUFS);
        cr_assert_not(cut);
        cr_assert_str_eq(data, "");

        /* A max the buffer cannot hold: not cut to fit the buffer. */
        gd_buf_init(&b, data, sizeof(data));
        gd_json_writer_init(&w, &b);
        cr_assert_eq(gd_json_str_cut(&w, "abcdefghijklmnopqrstuvwxyz", 40, "...", NULL, &cut),
                     -ENOBUFS);
        cr_assert_not(cut);

        /* NULL is null. */
        gd_buf_init(&b, data, sizeof(data));
        gd_json_writer_init(&w, &b);
        cr_assert_eq(gd_json_str_cut(&w, NULL, 40, "...", NULL, NULL), 0);
        cr_assert_str_eq(data, "null");
}

Test(json, writer_spaced_and_lines) {
        char data[256];
        gd_json_writer w;
        gd_buf b;

        gd_buf_init(&b, data, sizeof(data));
        gd_json_writer_init_spaced(&w, &b);
        gd_json_begin_object(&w);
        gd_json_key(&w, "a");
        gd_json_uint(&w, 1);
        gd_json_key(&w, "l");
        gd_json_begin_array_lines(&w);
        gd_json_begin_object(&w);
        gd_json_key(&w, "x");
        gd_json_null(&w);
        gd_json_key(&w, "y");
        gd_json_bool(&w, true);
        gd_json_end_object(&w);
        gd_json_int(&w, 2);
        gd_json_end_array(&w);
        gd_json_key(&w, "e");
        gd_json_begin_array_lines(&w);
        gd_json_end_array(&w);
        gd_json_end_object(&w);
        cr_assert_not(gd_json_failed(&w));
        cr_assert_str_eq(data, "{\"a\": 1, \"l\": [\n  {\"x\": null, \"y\": true},\n  2\n], \"e\": []}");
}

Test(json, escape_some_cuts_between_escapes_within_the_buffer) {
        /* "a" then two 6-byte escapes: every buffer size cuts after a whole
         * unit and closes the literal, never past the end. */
        static const char whole[] = "\"a\\u0001\\u0001\"";

        for (size_t size = 1; size <= sizeof(whole) + 2; size++) {
                char data[sizeof(whole) + 8];
                gd_buf b;
                int r;

                memset(data, 'Z', sizeof(data));
                gd_buf_init(&b, data, size);
                r = gd_json_escape_some(&b, "a\x01\x01");
                cr_assert(strlen(data) < size, "size %zu", size);
                cr_assert_eq(r == 0, size > strlen(whole), "size %zu: %s", size, data);
                if (size < 3)
                        cr_assert_str_eq(data, "", "size %zu", size);
                else if (size < 4)
                        cr_assert_str_eq(data, "\"\"", "size %zu", size);
                else if (size < 10)
                        cr_assert_str_eq(data, "\"a\"", "size %zu", size);
                else if (size < 16)
                        cr_assert_str_eq(data, "\"a\\u0001\"", "size %zu", size);
                else
                        cr_assert_str_eq(data, whole, "size %zu", size);
                for (size_t i = size; i < sizeof(data); i++)
                        cr_assert_eq(data[i], 'Z', "size %zu: byte %zu written", size, i);
        }
}
