/* Shared helpers for the policy parser's unit tests (test_policy.c,
 * test_policy_match.c): a fresh error list per test (.init = setup,
 * .fini = teardown), parse() of a YAML string named "t.yaml", the errors
 * logged for a failing test, has_error() to find one at its place, and
 * refused_at(), the body of every "refused, at line:column" case.
 *
 * Header-only (static inline) so each test file gets its own copy and an
 * unused helper does not trip -Wunused-function. */
#pragma once

#include <criterion/criterion.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

/* calloc'd, not on the stack: a pol_errors is ~280 KiB. */
static pol_errors *errs;

static inline void setup(void) {
        errs = calloc(1, sizeof(*errs));
        cr_assert_not_null(errs);
}

static inline void teardown(void) {
        free(errs);
}

static inline int parse(const char *yaml, pol_policy **p) {
        return pol_parse("t.yaml", yaml, strlen(yaml), p, errs);
}

/* Every error, in the test's log (shown with --verbose or on failure). */
static inline void dump_errors(void) {
        for (size_t i = 0; i < errs->n; i++)
                cr_log_info("%s:%u:%u: %s", errs->items[i].file, errs->items[i].line,
                            errs->items[i].column, errs->items[i].message);
}

/* errs holds a problem at line:column whose message contains needle. */
static inline bool has_error(unsigned line, unsigned column, const char *needle) {
        for (size_t i = 0; i < errs->n; i++)
                if (errs->items[i].line == line && errs->items[i].column == column &&
                    strstr(errs->items[i].message, needle))
                        return true;
        return false;
}

/* yaml is refused (-EINVAL, *ret_policy untouched) with count problems in
 * all, one of them at line:column containing needle. */
static inline void refused_at(const char *yaml, unsigned line, unsigned column, const char *needle,
                              size_t count) {
        pol_policy *p = (pol_policy *)&errs; /* sentinel: must stay untouched */

        cr_assert_eq(parse(yaml, &p), -EINVAL, "accepted:\n%s", yaml);
        cr_assert_eq(p, (pol_policy *)&errs, "*ret_policy written on failure");
        dump_errors();
        cr_assert(has_error(line, column, needle), "no %u:%u: '%s' for:\n%s", line, column, needle,
                  yaml);
        cr_assert_eq(errs->n, count, "%zu problems, want %zu", errs->n, count);
        cr_assert_str_eq(errs->items[0].file, "t.yaml");
}
