/* JSON strings must stay valid whatever bytes a process puts in its name. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guardian/json.h"

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
