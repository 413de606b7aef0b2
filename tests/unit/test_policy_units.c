/* Every unit form of the policy (sizes, durations, shares, integers,
 * booleans), read through pol_parse at the key that takes it, and the
 * forms refused with the message and the column of the value. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

static pol_errors *errs;

static void setup(void) {
        errs = calloc(1, sizeof(*errs));
        cr_assert_not_null(errs);
}

static void teardown(void) {
        free(errs);
}

enum unit_kind { SIZE, SIZE_OR_MAX, DURATION, SHARE, ADJ, BOOL };

/* Where each kind is written: the value follows the prefix, at the end of
 * its last line (value_line, value_column). */
static const char *const prefixes[] = {
        [SIZE] = "version: 1\nworkloads:\n  - {name: w, match: {comm: x}, protect: {mode: never}}\n"
                 "  - name: v\n    match: {comm: x}\n    protect:\n      mode: avoid\n      budget: ",
        [SIZE_OR_MAX] = "version: 1\nworkloads:\n  - {name: w, match: {comm: x}, protect: {mode: never}}\n"
                        "  - name: v\n    match: {comm: x}\n    protect:\n      mode: avoid\n      memory_min: ",
        [DURATION] = "version: 1\ndefaults:\n  cooldown: ",
        [SHARE] = "version: 1\ndefaults:\n  triggers:\n    near_limit: ",
        [ADJ] = "version: 1\nworkloads:\n  - {name: w, match: {comm: x}, protect: {mode: never}}\n"
                "  - name: v\n    match: {comm: x}\n    score_adj: ",
        [BOOL] = "version: 1\nsettings:\n  dry_run: ",
};
static const unsigned value_line[] = {[SIZE] = 8, [SIZE_OR_MAX] = 8, [DURATION] = 3,
                                      [SHARE] = 4, [ADJ] = 6, [BOOL] = 3};
static const unsigned value_column[] = {[SIZE] = 15, [SIZE_OR_MAX] = 19, [DURATION] = 13,
                                        [SHARE] = 17, [ADJ] = 16, [BOOL] = 12};

static int parse_value(enum unit_kind kind, const char *value, pol_policy **p) {
        char yaml[512];

        snprintf(yaml, sizeof(yaml), "%s%s\n", prefixes[kind], value);
        return pol_parse("u.yaml", yaml, strlen(yaml), p, errs);
}

struct good_case {
        enum unit_kind kind;
        char value[32];
        uint64_t want;      /* sizes, durations, integers (as int64 bits), bools */
        double want_share;
};

ParameterizedTestParameters(policy_units, accepted) {
        static struct good_case cases[] = {
                {SIZE, "0", 0, 0},
                {SIZE, "512", 512, 0},
                {SIZE, "1K", 1024, 0},
                {SIZE, "512K", 512ull << 10, 0},
                {SIZE, "2M", 2ull << 20, 0},
                {SIZE, "6G", 6ull << 30, 0},
                {SIZE, "1T", 1ull << 40, 0},
                {SIZE, "1048576T", 1ull << 60, 0},
                {SIZE, "1152921504606846976", 1ull << 60, 0},
                {SIZE, "007M", 7ull << 20, 0},
                {SIZE_OR_MAX, "max", UINT64_MAX, 0},
                {SIZE_OR_MAX, "3G", 3ull << 30, 0},
                {DURATION, "0s", 0, 0},
                {DURATION, "0ms", 0, 0},
                {DURATION, "250ms", 250, 0},
                {DURATION, "5s", 5000, 0},
                {DURATION, "2m", 120000, 0},
                {DURATION, "1h", 3600000, 0},
                {DURATION, "24h", 86400000, 0},
                {DURATION, "1440m", 86400000, 0},
                {SHARE, "0%", 0, 0.0},
                {SHARE, "40%", 0, 0.40},
                {SHARE, "95%", 0, 0.95},
                {SHARE, "100%", 0, 1.0},
                {SHARE, "100.000%", 0, 1.0},
                {SHARE, "12.5%", 0, 0.125},
                {SHARE, "0.5%", 0, 0.005},
                {SHARE, ".5%", 0, 0.005},
                {SHARE, "99.999999%", 0, 0.99999999},
                {ADJ, "500", 500, 0},
                {ADJ, "+500", 500, 0},
                {ADJ, "-500", (uint64_t)-500, 0},
                {ADJ, "-1000", (uint64_t)-1000, 0},
                {ADJ, "+1000", 1000, 0},
                {ADJ, "0", 0, 0},
                {ADJ, "-0", 0, 0},
                {BOOL, "true", 1, 0},
                {BOOL, "false", 0, 0},
        };
        return cr_make_param_array(struct good_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct good_case *c, policy_units, accepted, .init = setup, .fini = teardown) {
        pol_policy *p = NULL;

        int r = parse_value(c->kind, c->value, &p);
        for (size_t i = 0; i < errs->n; i++)
                cr_log_info("%u:%u: %s", errs->items[i].line, errs->items[i].column,
                            errs->items[i].message);
        cr_assert_eq(r, 0, "'%s' refused", c->value);
        switch (c->kind) {
        case SIZE:
                cr_assert_eq(p->workloads[1].protect.budget, c->want, "'%s' -> %llu", c->value,
                             (unsigned long long)p->workloads[1].protect.budget);
                break;
        case SIZE_OR_MAX:
                cr_assert_eq(p->workloads[1].protect.memory_min, c->want);
                break;
        case DURATION:
                cr_assert_eq(p->defaults.cooldown_ms, c->want, "'%s' -> %llu", c->value,
                             (unsigned long long)p->defaults.cooldown_ms);
                break;
        case SHARE:
                /* Exact: "40%" must be the double 0.40 is, not near it. */
                cr_assert_eq(p->defaults.triggers.near_limit, c->want_share, "'%s' -> %.17g", c->value,
                             p->defaults.triggers.near_limit);
                break;
        case ADJ:
                cr_assert(p->workloads[1].has_score_adj);
                cr_assert_eq(p->workloads[1].score_adj, (int)(int64_t)c->want);
                break;
        case BOOL:
                cr_assert_eq(p->settings.dry_run, c->want == 1);
                break;
        }
        pol_free(p);
}

struct bad_case {
        enum unit_kind kind;
        char value[40];
        char needle[140];
};

ParameterizedTestParameters(policy_units, refused) {
        static struct bad_case cases[] = {
                {SIZE, "2GB", "bad unit 'GB' in '2GB': use K, M, G or T (powers of 1024), e.g. 512M"},
                {SIZE, "2Gi", "bad unit 'Gi' in '2Gi'"},
                {SIZE, "2g", "bad unit 'g' in '2g'"},
                {SIZE, "2P", "bad unit 'P' in '2P'"},
                {SIZE, "1.5G", "bad unit '.5G' in '1.5G'"},
                {SIZE, "'2 G'", "bad unit ' G' in '2 G'"},
                {SIZE, "-1", "'-1' is not a size: use a number of bytes"},
                {SIZE, "G", "'G' is not a size"},
                {SIZE, "max", "'max' is not a size"},
                {SIZE, "1048577T", "'1048577T' is too large (at most 1048576T)"},
                {SIZE, "1152921504606846977", "is too large"},
                {SIZE, "99999999999999999999999", "is too large"},
                {SIZE_OR_MAX, "MAX", "'MAX' is not a size: use a number of bytes with an optional K, M, G or T (powers of 1024), e.g. 512M, or max"},
                {SIZE_OR_MAX, "unlimited", "'unlimited' is not a size"},
                {DURATION, "15", "'15' needs a unit, e.g. 5s (ms, s, m or h)"},
                {DURATION, "1.5s", "'1.5s' is not a whole number: write 1500ms, not 1.5s"},
                {DURATION, "5sec", "bad unit 'sec' in '5sec': use ms, s, m or h, e.g. 5s"},
                {DURATION, "5S", "bad unit 'S' in '5S'"},
                {DURATION, "1d", "bad unit 'd' in '1d'"},
                {DURATION, "'5 s'", "bad unit ' s' in '5 s'"},
                {DURATION, "-5s", "'-5s' is not a duration"},
                {DURATION, "s", "'s' is not a duration"},
                {DURATION, "25h", "'25h' is out of range (0s to 24h)"},
                {DURATION, "99999999999999999999h", "is too long a duration"},
                {DURATION, "true", "'true' is not a duration"},
                {SHARE, "0.95", "'0.95' needs a %, e.g. 40%"},
                {SHARE, "95", "'95' needs a %, e.g. 40%"},
                {SHARE, "101%", "'101%' is out of range (0% to 100%)"},
                {SHARE, "100.000001%", "'100.000001%' is out of range (0% to 100%)"},
                {SHARE, "1000000%", "is out of range (0% to 100%)"},
                {SHARE, "-5%", "'-5%' is not a share: use a percentage, e.g. 40%"},
                {SHARE, "'40 %'", "'40 %' is not a share"},
                {SHARE, "40%%", "'40%%' is not a share"},
                {SHARE, "'%'", "'%' is not a share"},
                {SHARE, "5.%", "'5.%' is not a share"},
                {SHARE, "1.2345678%", "'1.2345678%' has too many decimals (at most 6)"},
                {ADJ, "1001", "1001 is out of range (-1000 to 1000)"},
                {ADJ, "-1001", "-1001 is out of range (-1000 to 1000)"},
                {ADJ, "99999999999999999999", "is out of range (-1000 to 1000)"},
                {ADJ, "'+'", "'+' is not a whole number"},
                {ADJ, "'--5'", "'--5' is not a whole number"},
                {ADJ, "5e2", "'5e2' is not a whole number"},
                {ADJ, "0x10", "'0x10' is not a whole number"},
                {ADJ, "'+ 5'", "'+ 5' is not a whole number"},
                {BOOL, "yes", "'yes' is not a boolean: use true or false"},
                {BOOL, "True", "'True' is not a boolean"},
                {BOOL, "on", "'on' is not a boolean"},
                {BOOL, "1", "'1' is not a boolean"},
        };
        return cr_make_param_array(struct bad_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *c, policy_units, refused, .init = setup, .fini = teardown) {
        pol_policy *p = NULL;

        cr_assert_eq(parse_value(c->kind, c->value, &p), -EINVAL, "'%s' accepted", c->value);
        cr_assert_null(p);
        cr_assert_eq(errs->n, 1);
        cr_log_info("%u:%u: %s", errs->items[0].line, errs->items[0].column, errs->items[0].message);
        cr_assert_eq(errs->items[0].line, value_line[c->kind]);
        cr_assert_eq(errs->items[0].column, value_column[c->kind]);
        cr_assert(strstr(errs->items[0].message, c->needle), "'%s' lacks '%s'",
                  errs->items[0].message, c->needle);
}

/* Each key's own range, at both ends. */
struct range_case {
        char yaml[200];
        bool ok;
};

ParameterizedTestParameters(policy_units, ranges) {
        static struct range_case cases[] = {
                {"version: 1\nsettings: {poll_interval: 10ms}\n", true},
                {"version: 1\nsettings: {poll_interval: 9ms}\n", false},
                {"version: 1\nsettings: {poll_interval: 1m}\n", true},
                {"version: 1\nsettings: {poll_interval: 60001ms}\n", false},
                {"version: 1\nsettings: {poll_interval: 0s}\n", false},
                {"version: 1\ndefaults: {grace: 5m}\n", true},
                {"version: 1\ndefaults: {grace: 301s}\n", false},
                {"version: 1\ndefaults: {triggers: {pressure: {sustain: 1h}}}\n", true},
                {"version: 1\ndefaults: {triggers: {pressure: {sustain: 61m}}}\n", false},
                {"version: 1\ndefaults: {triggers: {high: {sustain: 3601s}}}\n", false},
                {"version: 1\nworkloads: [{name: a, match: {comm: a}, cooldown: 24h, grace: 0s}]\n", true},
                {"version: 1\nworkloads: [{name: a, match: {comm: a}, cooldown: 1441m}]\n", false},
                {"version: 1\nworkloads: [{name: a, match: {comm: a}, grace: 6m}]\n", false},
                {"version: 1\nworkloads: [{name: a, match: {comm: a}, protect: {oom_score_adj: +1000}}]\n", true},
                {"version: 1\nworkloads: [{name: a, match: {comm: a}, protect: {memory_high: 0}}]\n", true},
                {"version: +1\n", false},
                {"version: 01\n", true},
        };
        return cr_make_param_array(struct range_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct range_case *c, policy_units, ranges, .init = setup, .fini = teardown) {
        pol_policy *p = NULL;

        int r = pol_parse("r.yaml", c->yaml, strlen(c->yaml), &p, errs);
        cr_assert_eq(r, c->ok ? 0 : -EINVAL, "%s", c->yaml);
        if (!c->ok)
                cr_assert(strstr(errs->items[0].message, "out of range") ||
                          strstr(errs->items[0].message, "not a whole number"),
                          "%s", errs->items[0].message);
        pol_free(p);
}
