/* The bounded JSON reader (util/jsonread.c): lookups by member and path,
 * decoding (escapes, surrogate pairs, what becomes U+FFFD), the limits
 * (size, depth without recursion, token count), documents malformed or cut
 * at every byte, duplicate members (the last wins), and outputs left alone
 * on failure. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/fixture.h"
#include "tests/lib/strrepeat.h"
#include "util/jsonread.h"

#define CL(s) s, sizeof(s) - 1
#define FFFD "\xef\xbf\xbd"

/* A doc that must not be written: its fields stay at this sentinel. */
static const gd_jdoc sentinel = {.text = "untouched", .len = 9, .ntoks = 77};

static void assert_untouched(const gd_jdoc *d) {
        cr_assert(d->text == sentinel.text && d->len == 9 && d->ntoks == 77 && d->toks == NULL);
}

/* Decode the value at a path of doc into a static buffer. */
static const char *str_at(const gd_jdoc *d, const char *path) {
        static char buf[4096];
        int i = gd_jread_path(d, 0, path);

        cr_assert_geq(i, 0, "%s: %d", path, i);
        cr_assert_eq(gd_jread_string(d, (size_t)i, buf, sizeof(buf), NULL), 0, "%s", path);
        return buf;
}

Test(jsonread, members_and_paths_find_nested_values) {
        const char doc[] = " {\"ID\":\"abc\",\"Config\":{\"Image\":\"mysql:8\",\"Env\":[\"A=1\",{\"x\":[]}],"
                           "\"Labels\":{\"a.b\":\"1\",\"c\":\"2\"}},\"Name\":\"/db\",\"n\":-1.5e+10} \n";
        gd_jdoc d;
        int i;

        cr_assert_eq(gd_jread_parse(CL(doc), &d), 0);
        cr_assert_eq(gd_jread_type(&d, 0), GD_JOBJECT);
        cr_assert_eq(d.toks[0].count, 4);
        cr_assert_str_eq(str_at(&d, "ID"), "abc");
        cr_assert_str_eq(str_at(&d, "Config.Image"), "mysql:8");
        cr_assert_str_eq(str_at(&d, "Name"), "/db", "found past a member holding nested arrays");
        i = gd_jread_path(&d, 0, "Config.Labels");
        cr_assert_geq(i, 0);
        cr_assert_eq(gd_jread_type(&d, (size_t)i), GD_JOBJECT);
        cr_assert_eq(d.toks[i].count, 2);
        cr_assert_eq(gd_jread_path(&d, 0, "Config.Labels.a.b"), -ENOENT,
                     "a path splits at every dot: a label's key needs gd_jread_member");
        i = gd_jread_member(&d, (size_t)i, CL("a.b"));
        cr_assert_geq(i, 0);
        cr_assert(gd_jread_string_eq(&d, (size_t)i, CL("1")));
        i = gd_jread_path(&d, 0, "Config.Env");
        cr_assert_eq(gd_jread_type(&d, (size_t)i), GD_JARRAY);
        cr_assert_eq(d.toks[i].count, 2);
        i = gd_jread_member(&d, 0, CL("n"));
        cr_assert_eq(gd_jread_type(&d, (size_t)i), GD_JNUMBER);
        cr_assert(d.toks[i].len == 8 && !memcmp(doc + d.toks[i].start, "-1.5e+10", 8),
                  "numbers are kept as their text");
        cr_assert_eq(gd_jread_path(&d, 0, "Config.Missing"), -ENOENT);
        cr_assert_eq(gd_jread_path(&d, 0, "ID.x"), -EINVAL, "a string has no members");
        cr_assert_eq(gd_jread_member(&d, (size_t)i, CL("x")), -EINVAL);
        gd_jread_free(&d);
        cr_assert(d.toks == NULL && d.ntoks == 0);
}

Test(jsonread, the_last_of_duplicate_members_wins) {
        const char doc[] = "{\"Name\":\"/first\",\"x\":1,\"Name\":\"/second\"}";
        gd_jdoc d;

        cr_assert_eq(gd_jread_parse(CL(doc), &d), 0);
        cr_assert_str_eq(str_at(&d, "Name"), "/second", "as Go's encoding/json");
        gd_jread_free(&d);
}

Test(jsonread, member_names_are_compared_decoded) {
        const char doc[] = "{\"\\u004eame\":\"x\",\"Nam\":\"y\",\"Namee\":\"z\"}";
        gd_jdoc d;

        cr_assert_eq(gd_jread_parse(CL(doc), &d), 0);
        cr_assert_str_eq(str_at(&d, "Name"), "x", "\\u004e is N; neither prefix nor extension matches");
        gd_jread_free(&d);
}

Test(jsonread, escapes_and_surrogate_pairs_decode) {
        const char doc[] = "[\"q\\\"b\\\\s\\/n\\nt\\tr\\rb\\bf\\f\",\"\\u00e9\\u20ac\\ud83d\\ude00\",\"\\u0001\\u001f\"]";
        gd_jdoc d;
        char buf[64];
        size_t n;

        cr_assert_eq(gd_jread_parse(CL(doc), &d), 0);
        cr_assert_eq(gd_jread_string(&d, 1, buf, sizeof(buf), &n), 0);
        cr_assert_str_eq(buf, "q\"b\\s/n\nt\tr\rb\bf\f");
        cr_assert_eq(n, strlen(buf));
        cr_assert_eq(gd_jread_string(&d, 2, buf, sizeof(buf), NULL), 0);
        cr_assert_str_eq(buf, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "é € and U+1F600 from a pair");
        cr_assert_eq(gd_jread_string(&d, 3, buf, sizeof(buf), &n), 0);
        cr_assert(n == 2 && buf[0] == 1 && buf[1] == 0x1f, "control characters stay bytes");
        gd_jread_free(&d);
}

Test(jsonread, what_a_c_string_cannot_carry_becomes_u_fffd) {
        /* A lone high surrogate, a lone low one, a high one followed by a
         * non-surrogate \u, \u0000, a raw 0xff, a truncated raw sequence,
         * an overlong raw '/', and valid raw UTF-8 that stays. */
        const char doc[] = "[\"a\\ud800b\",\"\\udc00\",\"\\ud800\\u0041\",\"x\\u0000y\",\"\xff\","
                           "\"\xe2\x82\",\"\xc0\xaf\",\"\xc3\xa9\"]";
        gd_jdoc d;
        char buf[64];

        cr_assert_eq(gd_jread_parse(CL(doc), &d), 0);
        const char *want[] = {"a" FFFD "b", FFFD, FFFD "A", "x" FFFD "y", FFFD, FFFD FFFD,
                              FFFD FFFD, "\xc3\xa9"};
        for (size_t k = 0; k < 8; k++) {
                cr_assert_eq(gd_jread_string(&d, k + 1, buf, sizeof(buf), NULL), 0);
                cr_assert_str_eq(buf, want[k], "string %zu", k);
        }
        gd_jread_free(&d);
}

Test(jsonread, string_outputs_are_checked_and_left_alone_when_short) {
        const char doc[] = "{\"k\":\"abcdef\",\"n\":1}";
        gd_jdoc d;
        char buf[6] = "xxxxx";
        size_t n = 99;

        cr_assert_eq(gd_jread_parse(CL(doc), &d), 0);
        cr_assert_eq(gd_jread_string(&d, 2, buf, sizeof(buf), &n), -ENOBUFS, "6 bytes and a NUL");
        cr_assert(!strcmp(buf, "xxxxx") && n == 99, "untouched on failure");
        cr_assert_eq(gd_jread_string(&d, 4, buf, sizeof(buf), &n), -EINVAL, "a number");
        cr_assert_eq(gd_jread_string(&d, 99, buf, sizeof(buf), &n), -EINVAL, "out of range");
        cr_assert_not(gd_jread_string_eq(&d, 4, CL("1")), "a number is not the string \"1\"");
        gd_jread_free(&d);
}

/* Arrays, not pointers: Criterion runs each case in a new process. */
struct bad {
        char doc[24];
        int want;
};

ParameterizedTestParameters(jsonread, malformed_documents_are_refused) {
        static struct bad cases[] = {
                {"", -EBADMSG},           {"   ", -EBADMSG},        {"{", -EBADMSG},
                {"{\"a\":}", -EBADMSG},   {"[1,]", -EBADMSG},       {"{\"a\":1,}", -EBADMSG},
                {"{\"a\" 1}", -EBADMSG},  {"{1:2}", -EBADMSG},      {"[1 2]", -EBADMSG},
                {"01", -EBADMSG},         {"1.", -EBADMSG},         {"-", -EBADMSG},
                {"1e", -EBADMSG},         {".5", -EBADMSG},         {"+1", -EBADMSG},
                {"tru", -EBADMSG},        {"nul", -EBADMSG},        {"True", -EBADMSG},
                {"{} x", -EBADMSG},       {"{}{}", -EBADMSG},       {"\"abc", -EBADMSG},
                {"\"\\x\"", -EBADMSG},    {"\"\\u12\"", -EBADMSG},  {"\"\\u12g4\"", -EBADMSG},
                {"\"a\tb\"", -EBADMSG},   {"\"a\nb\"", -EBADMSG},   {"[\"\\\"]", -EBADMSG},
                {"{\"a\":1]", -EBADMSG},  {"[1}", -EBADMSG},        {"'a'", -EBADMSG},
        };
        return cr_make_param_array(struct bad, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad *c, jsonread, malformed_documents_are_refused) {
        gd_jdoc d = sentinel;

        cr_assert_eq(gd_jread_parse(c->doc, strlen(c->doc), &d), c->want, "%s", c->doc);
        assert_untouched(&d);
}

Test(jsonread, a_nul_byte_is_malformed_inside_and_outside_strings) {
        gd_jdoc d = sentinel;

        cr_assert_eq(gd_jread_parse(CL("{\"a\":\"x\0y\"}"), &d), -EBADMSG);
        cr_assert_eq(gd_jread_parse(CL("{\"a\":1}\0"), &d), -EBADMSG);
        assert_untouched(&d);
}

Test(jsonread, a_document_cut_at_any_byte_is_refused) {
        size_t len;
        char *doc = fx_read_fixture("ident/docker-config.v2.json", &len);
        gd_jdoc d;

        cr_assert_eq(gd_jread_parse(doc, len, &d), 0, "whole, it parses");
        gd_jread_free(&d);
        for (size_t n = 0; n + 1 < len; n++) { /* the last byte is the '\n' after the '}' */
                d = sentinel;
                cr_assert_eq(gd_jread_parse(doc, n, &d), -EBADMSG, "cut at %zu", n);
                assert_untouched(&d);
        }
        free(doc);
}

Test(jsonread, nesting_is_capped_without_recursion) {
        char *ok = repeat("[", GD_JREAD_DEPTH_MAX, "");
        char *ok_doc = malloc(2 * GD_JREAD_DEPTH_MAX + 1);
        gd_jdoc d = sentinel;

        strcpy(ok_doc, ok);
        memset(ok_doc + GD_JREAD_DEPTH_MAX, ']', GD_JREAD_DEPTH_MAX);
        ok_doc[2 * GD_JREAD_DEPTH_MAX] = '\0';
        cr_assert_eq(gd_jread_parse(ok_doc, strlen(ok_doc), &d), 0, "exactly the cap");
        cr_assert_eq(d.ntoks, GD_JREAD_DEPTH_MAX);
        gd_jread_free(&d);

        char *deep = repeat("{\"a\":", GD_JREAD_DEPTH_MAX, "[]");
        d = sentinel;
        cr_assert_eq(gd_jread_parse(deep, strlen(deep), &d), -E2BIG, "one past the cap");
        assert_untouched(&d);

        char *hostile = repeat("[", 500000, ""); /* would blow a recursive parser's stack */
        cr_assert_eq(gd_jread_parse(hostile, strlen(hostile), &d), -E2BIG);
        assert_untouched(&d);
        free(ok), free(ok_doc), free(deep), free(hostile);
}

Test(jsonread, size_and_token_count_are_capped) {
        char *big = repeat(" ", GD_JREAD_SIZE_MAX - 2, "{}");
        gd_jdoc d = sentinel;

        cr_assert_eq(gd_jread_parse(big, strlen(big), &d), 0, "exactly the size cap");
        gd_jread_free(&d);
        free(big);
        big = repeat(" ", GD_JREAD_SIZE_MAX - 1, "{}");
        d = sentinel;
        cr_assert_eq(gd_jread_parse(big, strlen(big), &d), -E2BIG, "one byte over");
        assert_untouched(&d);
        free(big);

        /* Under the size cap, over the token cap: [0,0,...] */
        char *many = repeat(",0", GD_JREAD_TOKENS_MAX, "]");
        many[0] = '[';
        cr_assert_lt(strlen(many), GD_JREAD_SIZE_MAX);
        cr_assert_eq(gd_jread_parse(many, strlen(many), &d), -E2BIG);
        assert_untouched(&d);
        free(many);
}
