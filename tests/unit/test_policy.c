/* The policy parser: every class of error at its exact line and column,
 * and a full policy read into exact values. Files and directories are in
 * test_policy_load.c, units in test_policy_units.c. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "tests/lib/fixture.h"
#include "tests/lib/policy_errors.h"

/* ---- every error class, at its line and column ---- */

/* Inline arrays, not pointers: Criterion runs each parameter in a fresh
 * process, where pointers into the parent's data are not valid. */
struct error_case {
        char yaml[300];
        unsigned line, column;
        char needle[120];
        size_t count; /* problems in all */
};

ParameterizedTestParameters(policy_errors, at_line_and_column) {
        static struct error_case cases[] = {
                /* unknown keys, with the allowed ones and a guess */
                {"version: 1\nworkload: []\n", 2, 1,
                 "unknown key 'workload' at the top level (did you mean 'workloads'?): expected "
                 "version, settings, defaults or workloads", 1},
                {"version: 1\ndefaults:\n  cooldwn: 5s\n", 3, 3,
                 "unknown key 'cooldwn' in defaults (did you mean 'cooldown'?): expected triggers, "
                 "action, cooldown or grace", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: a, pod: x}\n", 4, 22,
                 "unknown key 'pod' in workload 'a' match: expected cgroup, comm", 1},
                {"version: 1\nsettings: {color: red}\n", 2, 12,
                 "unknown key 'color' in settings: expected dry_run, poll_interval or hooks", 1},
                /* duplicate keys: libyaml accepts them, we do not */
                {"version: 1\ndefaults:\n  cooldown: 5s\n  grace: 1s\n  cooldown: 6s\n", 5, 3,
                 "duplicate key 'cooldown' in defaults (first at line 3, column 3)", 1},
                {"version: 1\nversion: 1\n", 2, 1,
                 "duplicate key 'version' at the top level (first at line 1, column 1)", 1},
                {"version: 1\ndefaults:\n  triggers:\n    pressure: {some: 1%, some: 2%}\n", 4, 26,
                 "duplicate key 'some' in defaults.triggers.pressure (first at line 4, column 16)", 1},
                /* wrong types */
                {"version: 1\nsettings: [1]\n", 2, 11, "settings: expected a mapping, got a list", 1},
                {"version: 1\nworkloads: {a: 1}\n", 2, 12, "workloads: expected a list, got a mapping", 1},
                {"version: 1\ndefaults:\n  cooldown: {a: 1}\n", 3, 13,
                 "defaults.cooldown: expected a value, got a mapping", 1},
                {"version: 1\ndefaults:\n  triggers: 5s\n", 3, 13,
                 "defaults.triggers: expected a mapping, got '5s'", 1},
                {"version: 1\ndefaults:\n  cooldown:\n", 3, 12, "defaults.cooldown: has no value", 1},
                {"version: 1\nworkloads:\n", 2, 11, "workloads: expected a list, got nothing", 1},
                {"- version\n", 1, 1, "the policy: expected a mapping, got a list", 1},
                {"version: 1\n? {a: 1}\n: 2\n", 2, 3, "keys must be names, not mappings", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: {x: 1}}\n", 4, 19,
                 "match.comm: expected a pattern or a list of patterns, got a mapping", 1},
                /* bad units */
                {"version: 1\ndefaults:\n  cooldown: 15\n", 3, 13,
                 "defaults.cooldown: '15' needs a unit, e.g. 5s", 1},
                {"version: 1\ndefaults:\n  grace: 5sec\n", 3, 10,
                 "defaults.grace: bad unit 'sec' in '5sec': use ms, s, m or h", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: a}\n    protect: {mode: never, budget: 6GB}\n",
                 5, 36, "protect.budget: bad unit 'GB' in '6GB': use K, M, G or T", 1},
                {"version: 1\ndefaults:\n  triggers: {near_limit: 0.95}\n", 3, 26,
                 "defaults.triggers.near_limit: '0.95' needs a %, e.g. 40%", 1},
                /* out of range */
                {"version: 1\ndefaults:\n  triggers: {limit: 101%}\n", 3, 21,
                 "defaults.triggers.limit: '101%' is out of range (0% to 100%)", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: a}\n    score_adj: +1001\n", 5, 16,
                 "workload 'a' score_adj: +1001 is out of range (-1000 to 1000)", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: a}\n    protect: {oom_score_adj: -1001}\n",
                 5, 30, "protect.oom_score_adj: -1001 is out of range (-1000 to 1000)", 1},
                {"version: 1\nsettings:\n  poll_interval: 5ms\n", 3, 18,
                 "settings.poll_interval: '5ms' is out of range (10ms to 1m)", 1},
                {"version: 1\ndefaults:\n  cooldown: 25h\n", 3, 13,
                 "defaults.cooldown: '25h' is out of range (0s to 24h)", 1},
                {"version: 1\nsettings:\n  dry_run: yes\n", 3, 12,
                 "settings.dry_run: 'yes' is not a boolean: use true or false", 1},
                {"version: 1\ndefaults:\n  action: throttle\n", 3, 11,
                 "defaults.action: unknown value 'throttle': expected kill-process, kill-cgroup or notify", 1},
                /* version */
                {"settings: {dry_run: true}\n", 1, 1, "missing 'version: 1' at the top level", 1},
                {"# a comment\n\nversion: 2\n", 3, 10, "version: 2 is not supported: this guardian reads version 1", 1},
                {"version: one\n", 1, 10, "version: 'one' is not a whole number", 1},
                {"", 1, 1, "the policy is empty: 'version: 1' is required", 1},
                {"# only a comment\n", 1, 1, "the policy is empty", 1},
                {"---\n", 1, 1, "the policy is empty", 1},
                /* anchors, aliases, tags */
                {"version: 1\ndefaults: &d {cooldown: 5s}\n", 2, 11, "anchors are not allowed ('&d')", 1},
                {"version: 1\ndefaults: &d {cooldown: 5s}\nsettings: *d\n", 3, 11, "aliases are not allowed ('*d')", 2},
                {"version: !!int 1\n", 1, 10, "tags are not allowed ('!!int')", 1},
                {"version: 1\nsettings: !custom {}\n", 2, 11, "tags are not allowed ('!custom')", 1},
                /* more than one document; a bare trailing "---" is tolerated */
                {"version: 1\n---\nversion: 1\n", 2, 1, "more than one document", 1},
                {"---\nversion: 1\n...\n---\n- x\n", 4, 1, "more than one document", 1},
                /* syntax errors: libyaml's words, our 1-based position */
                {"version: 1\ndefaults:\n  cooldown: 5s\n grace: 1s\n", 4, 2,
                 "syntax error: did not find expected key (while parsing a block mapping at line 1, column 1)", 1},
                {"version: 1\nsettings: {dry_run: true\n", 3, 1,
                 "syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 2, column 11)", 1},
                {"version: 1\nx: \"caf\xff\"\n", 2, 8, "syntax error: invalid leading UTF-8 octet (byte 0xff)", 1},
                {"version: 1\nx: *nowhere\n", 2, 4, "aliases are not allowed ('*nowhere')", 1},
                /* too deep: the 16th '[' opens level 17 (the root mapping is 1) */
                {"version: 1\nx: [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]\n", 2, 19, "nested more than 16 levels deep", 1},
                /* workloads */
                {"version: 1\nworkloads:\n  - name: mysql\n    match: {comm: a}\n  - name: mysql\n    match: {comm: b}\n",
                 5, 11, "workload 'mysql' name: 'mysql' is already used at line 3, column 11", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {}\n", 4, 12,
                 "match: is empty: give at least one of cgroup, comm, exe, cmdline, container, container_name, "
                 "image, labels, runtime", 1},
                {"version: 1\nworkloads:\n  - name: a\n    score_adj: 5\n", 3, 5, "workload 'a': missing match", 1},
                {"version: 1\nworkloads:\n  - match: {comm: a}\n", 3, 5, "workload #1: missing name", 1},
                {"version: 1\nworkloads:\n  - name: my sql\n    match: {comm: a}\n", 3, 11,
                 "'my sql' is not a valid name: use 1 to 63 of A-Z a-z 0-9 _ . -", 1},
                {"version: 1\nworkloads:\n  - mysql\n", 3, 5, "workload #1: expected a mapping, got 'mysql'", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: []}\n", 4, 19,
                 "match.comm: empty list: give at least one pattern", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: \"\"}\n", 4, 19, "match.comm: empty pattern", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: mysqld-exporter-x}\n", 4, 19,
                 "never matches: the kernel keeps 15 characters of a process name", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {cgroup: /system.slice/x}\n", 4, 21,
                 "cgroup patterns are relative to the cgroup root: drop the leading '/'", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {exe: mysqld}\n", 4, 18,
                 "exe patterns match the whole path", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {cmdline: \"*[ab*\"}\n", 4, 22,
                 "'[' without a closing ']'", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: \"my\\tsql\"}\n", 4, 19,
                 "match.comm: 'my?sql' holds a control character", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: \"a\\0b\"}\n", 4, 19,
                 "holds a control character", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {kubernetes: {}}\n", 4, 25,
                 "match.kubernetes: is empty: give at least one of qos, pod_uid, namespace, pod_name or "
                 "container_name", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {kubernetes: {qos: gold}}\n", 4, 31,
                 "match.kubernetes.qos: unknown value 'gold': expected guaranteed, burstable or besteffort", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {runtime: rkt}\n", 4, 22,
                 "unknown value 'rkt': expected docker, containerd, crio or podman", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: a}\n    protect: {budget: 1G}\n", 5, 15,
                 "protect: a budget limits a protection: give mode: never or avoid", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: a}\n    protect: {mode: always, budget: 1G}\n", 5, 21,
                 "protect.mode: unknown value 'always': expected never or avoid", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: a}\n    protect: {mode: never, budget: max}\n",
                 5, 36, "protect.budget: 'max' is not a size", 1},
                /* hooks */
                {"version: 1\nsettings:\n  hooks: {pre_kill: [notify-send, x]}\n", 3, 22,
                 "settings.hooks.pre_kill: 'notify-send' is not an absolute path: a command list "
                 "is run without a shell or a PATH search", 1},
                {"version: 1\nsettings:\n  hooks: {post_kill: []}\n", 3, 22,
                 "settings.hooks.post_kill: empty list: give the command's absolute path", 1},
                {"version: 1\nsettings:\n  hooks: {post_kill: \"\"}\n", 3, 22,
                 "settings.hooks.post_kill: empty command", 1},
                {"version: 1\nsettings:\n  hooks: {pre_kill: {cmd: /bin/x}}\n", 3, 21,
                 "settings.hooks.pre_kill: expected a command: a list [/absolute/path, arg, ...] "
                 "or a string for /bin/sh -c, got a mapping", 1},
                {"version: 1\nsettings:\n  hooks: {pre_kill: [/bin/x, [a]]}\n", 3, 30,
                 "settings.hooks.pre_kill: expected a value, got a list", 1},
                {"version: 1\nsettings:\n  hooks: {pre_kill: \"/bin/x\\nrm\"}\n", 3, 21,
                 "holds a control character", 1},
                {"version: 1\nsettings:\n  hooks: {timeout: 50ms}\n", 3, 20,
                 "settings.hooks.timeout: '50ms' is out of range (100ms to 5m)", 1},
                {"version: 1\nsettings:\n  hooks: {timeout: 6m}\n", 3, 20, "out of range", 1},
                {"version: 1\nsettings:\n  hooks: {pre: /bin/x}\n", 3, 11,
                 "unknown key 'pre' in settings.hooks", 1},
                {"version: 1\nsettings:\n  hooks: [/bin/x]\n", 3, 10,
                 "settings.hooks: expected a mapping, got a list", 1},
                {"version: 1\nworkloads:\n  - name: a\n    match: {comm: a}\n    hooks: {post_kill: [x]}\n", 5, 25,
                 "workload 'a' hooks.post_kill: 'x' is not an absolute path", 1},
        };
        return cr_make_param_array(struct error_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct error_case *c, policy_errors, at_line_and_column, .init = setup,
                  .fini = teardown) {
        refused_at(c->yaml, c->line, c->column, c->needle, c->count);
}

TestSuite(policy_parse, .init = setup, .fini = teardown);

/* One pass reports every problem, in file order, not just the first. */
Test(policy_parse, every_problem_of_a_file_in_order) {
        size_t len;
        char *yaml = fx_read_fixture("policy/errors.yaml", &len);
        pol_policy *p = NULL;

        int r = pol_parse("errors.yaml", yaml, len, &p, errs);
        free(yaml);
        cr_assert_eq(r, -EINVAL);
        dump_errors();
        cr_assert_eq(errs->n, 5);
        cr_assert(errs->items[0].line == 5 && errs->items[0].column == 3);
        cr_assert(strstr(errs->items[0].message, "unknown key 'cooldwn'"));
        cr_assert(errs->items[1].line == 6 && errs->items[1].column == 10);
        cr_assert(strstr(errs->items[1].message, "needs a unit"));
        cr_assert(errs->items[2].line == 9 && errs->items[2].column == 12);
        cr_assert(strstr(errs->items[2].message, "is empty"));
        cr_assert(errs->items[3].line == 10 && errs->items[3].column == 11);
        cr_assert(strstr(errs->items[3].message, "already used at line 8, column 11"));
        cr_assert(errs->items[4].line == 12 && errs->items[4].column == 37);
        cr_assert(strstr(errs->items[4].message, "bad unit 'GB'"));
        cr_assert_null(p);
}

/* Past POL_ERRORS_MAX, problems are counted, not stored. */
Test(policy_parse, errors_past_the_cap_are_counted) {
        char *yaml = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&yaml, &size);
        pol_policy *p = NULL;

        fputs("version: 1\n", f);
        for (int i = 0; i < POL_ERRORS_MAX + 10; i++)
                fprintf(f, "unknown%d: 1\n", i);
        fclose(f);
        cr_assert_eq(parse(yaml, &p), -EINVAL);
        cr_assert_eq(errs->n, POL_ERRORS_MAX);
        cr_assert_eq(errs->dropped, 10);
        cr_assert_eq(errs->items[POL_ERRORS_MAX - 1].line, POL_ERRORS_MAX + 1);
        free(yaml);
}

Test(policy_parse, too_big) {
        size_t len = POL_FILE_MAX + 1;
        char *buf = malloc(len);
        pol_policy *p = (pol_policy *)&errs;

        cr_assert_not_null(buf);
        memset(buf, '#', len);
        memcpy(buf, "version: 1\n", 11);
        cr_assert_eq(pol_parse("big.yaml", buf, len, &p, errs), -EFBIG);
        cr_assert_eq(p, (pol_policy *)&errs);
        cr_assert_eq(errs->n, 1);
        cr_assert_eq(errs->items[0].line, 0);
        cr_assert(strstr(errs->items[0].message, "too big: 1048577 bytes"));

        /* At the cap exactly (a comment to fill it), the file is fine. */
        buf[11] = '#';
        cr_assert_eq(pol_parse("big.yaml", buf, POL_FILE_MAX, &p, errs), 0);
        pol_free(p);
        free(buf);
}

/* Buffers need not end in NUL: pol_parse reads len bytes and no more. */
Test(policy_parse, buffer_without_nul) {
        static const char text[] = "version: 1\nsettings: {dry_run: true}\nJUNK";
        pol_policy *p = NULL;

        cr_assert_eq(pol_parse("t.yaml", text, sizeof(text) - 1 - 4, &p, errs), 0);
        cr_assert(p->settings.dry_run);
        pol_free(p);
}

/* Each call starts a fresh list: problems of an earlier parse are gone. */
Test(policy_parse, errors_reset_per_call) {
        pol_policy *p = NULL;

        cr_assert_eq(parse("version: 3\n", &p), -EINVAL);
        cr_assert_eq(errs->n, 1);
        cr_assert_eq(parse("version: 1\n", &p), 0);
        cr_assert_eq(errs->n, 0);
        pol_free(p);
}

/* Hostile text in a message is quoted harmlessly and cut short. */
Test(policy_parse, messages_quote_safely) {
        pol_policy *p = NULL;
        char yaml[400];

        snprintf(yaml, sizeof(yaml), "version: 1\n\"\\e[2J%0200d\": 1\n", 7);
        cr_assert_eq(parse(yaml, &p), -EINVAL);
        cr_assert_eq(errs->n, 1);
        const char *m = errs->items[0].message;
        for (const char *c = m; *c; c++)
                cr_assert((unsigned char)*c >= 0x20, "control byte in '%s'", m);
        cr_assert(strstr(m, "unknown key '?[2J000"));
        cr_assert(strstr(m, "...'"));
        cr_assert_lt(strlen(m), 200);
}

Test(policy_parse, too_many_workloads) {
        char *yaml = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&yaml, &size);
        pol_policy *p = NULL;

        fputs("version: 1\nworkloads:\n", f);
        for (int i = 0; i <= POL_WORKLOADS_MAX; i++)
                fprintf(f, "  - {name: w%d, match: {comm: c}}\n", i);
        fclose(f);
        cr_assert_eq(parse(yaml, &p), -EINVAL);
        dump_errors();
        cr_assert_eq(errs->n, 1);
        cr_assert(has_error(3 + POL_WORKLOADS_MAX, 5, "workloads: more than 1024 workloads"));
        free(yaml);
}

Test(policy_parse, too_many_patterns) {
        char *yaml = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&yaml, &size);
        pol_policy *p = NULL;

        fputs("version: 1\nworkloads:\n  - name: a\n    match:\n      comm:\n", f);
        for (int i = 0; i <= POL_PATTERNS_MAX; i++)
                fprintf(f, "        - c%d\n", i);
        fclose(f);
        cr_assert_eq(parse(yaml, &p), -EINVAL);
        cr_assert_eq(errs->n, 1);
        cr_assert(has_error(6 + POL_PATTERNS_MAX, 11, "match.comm: more than 64 patterns"));
        free(yaml);
}

Test(policy_parse, pattern_length_cap) {
        char yaml[POL_PATTERN_LEN_MAX + 100];
        pol_policy *p = NULL;

        snprintf(yaml, sizeof(yaml), "version: 1\nworkloads:\n  - name: a\n    match: {cmdline: %0*d}\n",
                 POL_PATTERN_LEN_MAX - 1, 0);
        cr_assert_eq(parse(yaml, &p), 0);
        cr_assert_eq(strlen(p->workloads[0].match.cmdline.items[0]), POL_PATTERN_LEN_MAX - 1);
        pol_free(p);
        snprintf(yaml, sizeof(yaml), "version: 1\nworkloads:\n  - name: a\n    match: {cmdline: %0*d}\n",
                 POL_PATTERN_LEN_MAX, 0);
        cr_assert_eq(parse(yaml, &p), -EINVAL);
        cr_assert(has_error(4, 22, "pattern longer than 1023 characters"));
}

Test(policy_parse, name_rules) {
        pol_policy *p = NULL;
        char yaml[200];

        /* 63 characters of the allowed set: fine; 64: too long. */
        snprintf(yaml, sizeof(yaml), "version: 1\nworkloads:\n  - name: Az09_.-%056d\n    match: {comm: a}\n", 0);
        cr_assert_eq(parse(yaml, &p), 0);
        cr_assert_eq(strlen(p->workloads[0].name), 63);
        cr_assert_eq(strncmp(p->workloads[0].name, "Az09_.-000", 10), 0);
        pol_free(p);
        snprintf(yaml, sizeof(yaml), "version: 1\nworkloads:\n  - name: a%063d\n    match: {comm: a}\n", 0);
        cr_assert_eq(parse(yaml, &p), -EINVAL);
        cr_assert(has_error(3, 11, "is not a valid name"));
}

/* ---- a full policy, value by value ---- */

Test(policy_parse, full_policy_exact_values) {
        size_t len;
        char *yaml = fx_read_fixture("policy/full.yaml", &len);
        pol_policy *p = NULL;

        cr_assert_eq(pol_parse("full.yaml", yaml, len, &p, errs), 0);
        dump_errors();
        free(yaml);
        cr_assert_eq(errs->n, 0);
        cr_assert_eq(p->version, 1);
        cr_assert_eq(p->n_files, 1);
        cr_assert_str_eq(p->files[0], "full.yaml");

        cr_assert_eq(p->settings.dry_run, true);
        cr_assert_eq(p->settings.poll_interval_ms, 250);

        const pol_triggers *t = &p->defaults.triggers;
        cr_assert(t->has_pressure_some && t->has_pressure_full && t->has_pressure_sustain);
        cr_assert(t->has_near_limit && t->has_limit && t->has_high_sustain);
        cr_assert_eq(t->pressure_some, 0.30);
        cr_assert_eq(t->pressure_full, 0.125);
        cr_assert_eq(t->pressure_sustain_ms, 3000);
        cr_assert_eq(t->near_limit, 0.97);
        cr_assert_eq(t->limit, 0.85);
        cr_assert_eq(t->high_sustain_ms, 1500);
        cr_assert_eq(p->defaults.action, POL_ACTION_NOTIFY);
        cr_assert_eq(p->defaults.cooldown_ms, 60000);
        cr_assert_eq(p->defaults.grace_ms, 2000);

        cr_assert_eq(p->n_workloads, 2);
        const pol_workload *w = &p->workloads[0];
        cr_assert_str_eq(w->name, "mysql");
        cr_assert_eq(w->mark.file, p->files[0]);
        cr_assert_eq(w->mark.line, 17);
        cr_assert_eq(w->mark.column, 5);
        cr_assert_eq(w->match.cgroup.n, 1);
        cr_assert_str_eq(w->match.cgroup.items[0], "system.slice/mysql.service");
        cr_assert_null(w->match.cgroup.items[1]);
        cr_assert_eq(w->match.comm.n, 2);
        cr_assert_str_eq(w->match.comm.items[0], "mysqld");
        cr_assert_str_eq(w->match.comm.items[1], "mariadbd");
        cr_assert_null(w->match.comm.items[2]);
        cr_assert_str_eq(w->match.exe.items[0], "/usr/sbin/mysqld");
        cr_assert_str_eq(w->match.cmdline.items[0], "*--datadir*");
        cr_assert_eq(w->match.container.n, 0);
        cr_assert_null(w->match.container.items);
        cr_assert_eq(w->match.runtime, POL_RUNTIME_ANY);
        cr_assert_eq(w->match.qos, POL_QOS_ANY);
        cr_assert_eq(w->match.pod_uid.n, 0);
        cr_assert_eq(w->protect.mode, POL_PROTECT_NEVER);
        cr_assert_eq(w->protect.budget, 6ull << 30);
        cr_assert_eq(w->protect.memory_min, 2ull << 30);
        cr_assert_eq(w->protect.memory_low, 3ull << 30);
        cr_assert_eq(w->protect.memory_high, UINT64_MAX);
        cr_assert(w->protect.has_oom_score_adj);
        cr_assert_eq(w->protect.oom_score_adj, -1000);
        cr_assert(w->has_score_adj);
        cr_assert_eq(w->score_adj, -200);
        cr_assert_eq(w->trust_oom_score_adj, false);
        cr_assert_eq(w->action, POL_ACTION_KILL_CGROUP);
        cr_assert(w->has_cooldown && w->has_grace);
        cr_assert_eq(w->cooldown_ms, 30000);
        cr_assert_eq(w->grace_ms, 5000);
        cr_assert(w->triggers.has_pressure_some && w->triggers.has_near_limit);
        cr_assert_not(w->triggers.has_pressure_full || w->triggers.has_pressure_sustain);
        cr_assert_not(w->triggers.has_limit || w->triggers.has_high_sustain);
        cr_assert_eq(w->triggers.pressure_some, 0.60);
        cr_assert_eq(w->triggers.near_limit, 0.99);

        w = &p->workloads[1];
        cr_assert_str_eq(w->name, "k8s.besteffort_pods");
        cr_assert_eq(w->mark.line, 38);
        cr_assert_eq(w->mark.column, 5);
        cr_assert_eq(w->match.container.n, 2);
        cr_assert_str_eq(w->match.container.items[0], "3f2a*");
        cr_assert_str_eq(w->match.container.items[1], "9b1e*");
        cr_assert_eq(w->match.runtime, POL_RUNTIME_CONTAINERD);
        cr_assert_eq(w->match.qos, POL_QOS_BESTEFFORT);
        cr_assert_eq(w->match.pod_uid.n, 1);
        cr_assert_str_eq(w->match.pod_uid.items[0], "8b7c*");
        cr_assert_eq(w->match.cgroup.n + w->match.comm.n + w->match.exe.n + w->match.cmdline.n, 0);
        cr_assert_eq(w->protect.mode, POL_PROTECT_AVOID);
        cr_assert_eq(w->protect.budget, POL_UNSET);
        cr_assert_eq(w->protect.memory_min, POL_UNSET);
        cr_assert_eq(w->protect.memory_low, POL_UNSET);
        cr_assert_eq(w->protect.memory_high, POL_UNSET);
        cr_assert_not(w->protect.has_oom_score_adj);
        cr_assert(w->has_score_adj);
        cr_assert_eq(w->score_adj, 500);
        cr_assert_eq(w->trust_oom_score_adj, true);
        cr_assert_eq(w->action, POL_ACTION_NONE);
        cr_assert_not(w->has_cooldown || w->has_grace);
        cr_assert(w->triggers.has_limit && w->triggers.has_high_sustain);
        cr_assert_eq(w->triggers.limit, 0.50);
        cr_assert_eq(w->triggers.high_sustain_ms, 0);
        pol_free(p);
}

/* What a file leaves out keeps the built-in values; a workload without a
 * key has it unset (has_* false, POL_UNSET, POL_ACTION_NONE), for
 * pol_effective_* to fill. */
Test(policy_parse, minimal_policy_gets_the_defaults) {
        pol_policy *p = NULL, *d = NULL;

        cr_assert_eq(parse("version: 1\nworkloads:\n  - {name: w, match: {comm: x}}\n", &p), 0);
        cr_assert_eq(pol_default(&d), 0);
        cr_assert_eq(memcmp(&p->settings, &d->settings, sizeof(p->settings)), 0);
        cr_assert_eq(memcmp(&p->defaults, &d->defaults, sizeof(p->defaults)), 0);
        const pol_workload *w = &p->workloads[0];
        cr_assert_eq(w->protect.mode, POL_PROTECT_NONE);
        cr_assert_eq(w->protect.budget, POL_UNSET);
        cr_assert_not(w->has_score_adj || w->has_cooldown || w->has_grace);
        cr_assert(w->trust_oom_score_adj);
        cr_assert_eq(w->action, POL_ACTION_NONE);
        pol_triggers none = {0};
        cr_assert_eq(memcmp(&w->triggers, &none, sizeof(none)), 0);
        pol_free(p);
        pol_free(d);
}

/* Hooks: a list is argv, a string a shell line; a workload's keys replace
 * the settings' one by one. */
Test(policy_parse, hooks_values_and_effective) {
        pol_policy *p = NULL;
        const char *yaml = "version: 1\n"
                           "settings:\n"
                           "  hooks:\n"
                           "    pre_kill: [/usr/local/bin/note, --event, pre kill]\n"
                           "    post_kill: 'logger -t guardian \"$GUARDIAN_PID\"'\n"
                           "    timeout: 2500ms\n"
                           "workloads:\n"
                           "  - name: db\n"
                           "    match: {comm: mysqld}\n"
                           "    hooks: {post_kill: [/usr/local/bin/db-post], timeout: 1m}\n"
                           "  - name: other\n"
                           "    match: {comm: x}\n";

        cr_assert_eq(parse(yaml, &p), 0);
        dump_errors();
        const pol_hooks *h = &p->settings.hooks;
        cr_assert_eq(h->pre_kill.argc, 3);
        cr_assert_not(h->pre_kill.shell);
        cr_assert_str_eq(h->pre_kill.argv[0], "/usr/local/bin/note");
        cr_assert_str_eq(h->pre_kill.argv[2], "pre kill");
        cr_assert_null(h->pre_kill.argv[3]);
        cr_assert_eq(h->post_kill.argc, 1);
        cr_assert(h->post_kill.shell);
        cr_assert_str_eq(h->post_kill.argv[0], "logger -t guardian \"$GUARDIAN_PID\"");
        cr_assert_eq(h->timeout_ms, 2500);

        const pol_workload *db = &p->workloads[0], *other = &p->workloads[1];
        cr_assert_eq(pol_effective_hook(p, db, false), &h->pre_kill);
        cr_assert_eq(pol_effective_hook(p, db, true), &db->hooks.post_kill);
        cr_assert_eq(pol_effective_hook(p, other, true), &h->post_kill);
        cr_assert_eq(pol_effective_hook(p, NULL, true), &h->post_kill);
        cr_assert_eq(pol_effective_hook_timeout_ms(p, db), 60000);
        cr_assert_eq(pol_effective_hook_timeout_ms(p, other), 2500);
        pol_free(p);
}

/* No hooks unless asked: the default has none, with a 10 s timeout. */
Test(policy_parse, hooks_off_by_default) {
        pol_policy *p = NULL;

        cr_assert_eq(parse("version: 1\nsettings: {hooks: {timeout: 1s}}\n", &p), 0);
        cr_assert_null(pol_effective_hook(p, NULL, false));
        cr_assert_null(pol_effective_hook(p, NULL, true));
        cr_assert_eq(pol_effective_hook_timeout_ms(p, NULL), 1000);
        pol_free(p);
        cr_assert_eq(pol_default(&p), 0);
        cr_assert_null(pol_effective_hook(p, NULL, false));
        cr_assert_eq(pol_effective_hook_timeout_ms(p, NULL), 10000);
        pol_free(p);
}

/* Partial defaults: the keys given change, the others keep built-ins. */
Test(policy_parse, partial_defaults) {
        pol_policy *p = NULL;

        cr_assert_eq(parse("version: 1\ndefaults:\n  triggers:\n    pressure: {full: 10%}\n  grace: 1s\n", &p), 0);
        cr_assert_eq(p->defaults.triggers.pressure_full, 0.10);
        cr_assert_eq(p->defaults.triggers.pressure_some, 0.40);
        cr_assert_eq(p->defaults.triggers.pressure_sustain_ms, 5000);
        cr_assert_eq(p->defaults.grace_ms, 1000);
        cr_assert_eq(p->defaults.cooldown_ms, 15000);
        cr_assert_eq(p->defaults.action, POL_ACTION_KILL_PROCESS);
        pol_free(p);
}

/* YAML's quoting styles all give the same string. */
Test(policy_parse, scalar_styles) {
        pol_policy *p = NULL;

        cr_assert_eq(parse("version: '1'\nworkloads:\n  - name: \"a\"\n    match:\n      comm: ['x', \"y\", z]\n"
                           "      cmdline: |-\n        --flag=*\n", &p), 0);
        cr_assert_str_eq(p->workloads[0].name, "a");
        cr_assert_str_eq(p->workloads[0].match.comm.items[0], "x");
        cr_assert_str_eq(p->workloads[0].match.comm.items[1], "y");
        cr_assert_str_eq(p->workloads[0].match.comm.items[2], "z");
        cr_assert_str_eq(p->workloads[0].match.cmdline.items[0], "--flag=*");
        pol_free(p);
}

/* "never" with a budget, "avoid" without one, globs with classes and a
 * trailing bare "---": all valid. */
Test(policy_parse, valid_edge_cases) {
        pol_policy *p = NULL;

        cr_assert_eq(parse("version: 1\nworkloads:\n"
                           "  - {name: a, match: {comm: 'x[!a-z]*', exe: '*/x'}, protect: {mode: never, budget: 1G}}\n"
                           "  - {name: b, match: {cgroup: '**/x[]]'}, protect: {mode: avoid}}\n"
                           "  - {name: c, match: {comm: mysqld-exporter*}}\n"
                           "---\n", &p), 0);
        cr_assert_eq(p->n_workloads, 3);
        cr_assert_eq(p->workloads[0].protect.budget, 1ull << 30);
        cr_assert_eq(p->workloads[1].protect.mode, POL_PROTECT_AVOID);
        cr_assert_eq(p->workloads[1].protect.budget, POL_UNSET);
        cr_assert_str_eq(p->workloads[1].match.cgroup.items[0], "**/x[]]");
        pol_free(p);
}
