/* Policy files and directories (a Kubernetes ConfigMap mount included),
 * the embedded default, the examples, the effective values of a workload
 * and the `guardian check` / `default-policy` commands. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/check.h"
#include "policy/policy.h"
#include "tests/lib/fixture.h"

static pol_errors *errs;
static char *dir;

static void setup(void) {
        errs = calloc(1, sizeof(*errs));
        cr_assert_not_null(errs);
        dir = fx_tmpdir();
}

static void teardown(void) {
        fx_rmtree(dir);
        free(dir);
        free(errs);
}

static void dump_errors(void) {
        for (size_t i = 0; i < errs->n; i++)
                cr_log_info("%s:%u:%u: %s", errs->items[i].file, errs->items[i].line,
                            errs->items[i].column, errs->items[i].message);
}

/* The examples/ directory of the source tree, found the way
 * fx_fixture_dir() finds the fixtures: from this file's path. */
static const char *examples_dir(void) {
        static char path[4096];
        const char *env = getenv("GUARDIAN_EXAMPLES");
        const char *self = __FILE__;
        const char *cut = strstr(self, "tests/unit/test_policy_load.c");

        if (env && *env)
                return env;
        cr_assert(cut, "cannot locate examples/ from %s: set GUARDIAN_EXAMPLES", self);
        snprintf(path, sizeof(path), "%.*sexamples", (int)(cut - self), self);
        return path;
}

static void symlink_at(const char *target, const char *relpath) {
        char *path = fx_path(dir, relpath);
        cr_assert_eq(symlink(target, path), 0, "symlink %s: %s", path, strerror(errno));
        free(path);
}

static const char mysql_yaml[] = "version: 1\nworkloads:\n  - name: mysql\n    match: {comm: mysqld}\n";
static const char batch_yaml[] =
        "version: 1\nsettings: {dry_run: true}\nworkloads:\n  - name: batch\n    match: {cgroup: batch.slice/**}\n"
        "  - name: cron\n    match: {cgroup: system.slice/cron.service}\n";

TestSuite(policy_load, .init = setup, .fini = teardown);

Test(policy_load, file) {
        char *path = fx_path(dir, "p.yaml");
        pol_policy *p = NULL;

        fx_write(dir, "p.yaml", batch_yaml);
        cr_assert_eq(pol_load_file(path, &p, errs), 0);
        cr_assert_eq(p->n_files, 1);
        cr_assert_str_eq(p->files[0], path);
        cr_assert_eq(p->n_workloads, 2);
        cr_assert_eq(p->workloads[1].mark.file, p->files[0]);
        cr_assert_eq(p->workloads[1].mark.line, 6);
        cr_assert(p->settings.dry_run);
        pol_free(p);
        free(path);
}

/* Problems of a file name it as it was given. */
Test(policy_load, file_errors_name_the_path) {
        char *path = fx_path(dir, "bad.yaml");
        pol_policy *p = (pol_policy *)&errs;

        fx_write(dir, "bad.yaml", "version: 1\ndefaults: {grace: 1}\n");
        cr_assert_eq(pol_load_file(path, &p, errs), -EINVAL);
        cr_assert_eq(p, (pol_policy *)&errs);
        cr_assert_eq(errs->n, 1);
        cr_assert_str_eq(errs->items[0].file, path);
        cr_assert_eq(errs->items[0].line, 2);
        cr_assert_eq(errs->items[0].column, 19);
        free(path);
}

Test(policy_load, file_open_errors) {
        char *missing = fx_path(dir, "missing.yaml");
        char *fifo = fx_path(dir, "fifo.yaml");
        pol_policy *p = (pol_policy *)&errs;

        cr_assert_eq(pol_load_file(missing, &p, errs), -ENOENT);
        cr_assert_eq(errs->n, 1);
        cr_assert_eq(errs->items[0].line, 0);
        cr_assert_str_eq(errs->items[0].file, missing);
        cr_assert_str_eq(errs->items[0].message, "cannot open: No such file or directory");

        cr_assert_eq(pol_load_file(dir, &p, errs), -EISDIR);
        cr_assert(strstr(errs->items[0].message, "is a directory"));

        /* A FIFO is refused without opening it (which would block). */
        cr_assert_eq(mkfifo(fifo, 0600), 0);
        cr_assert_eq(pol_load_file(fifo, &p, errs), -EINVAL);
        cr_assert_str_eq(errs->items[0].message, "not a regular file");
        cr_assert_eq(pol_load_file("/dev/null", &p, errs), -EINVAL);
        cr_assert_eq(p, (pol_policy *)&errs);
        free(missing);
        free(fifo);
}

/* A ConfigMap key is a symlink to a symlinked directory: followed. */
Test(policy_load, file_through_symlinks) {
        char *path = fx_path(dir, "mysql.yaml");
        pol_policy *p = NULL;

        fx_write(dir, "..2024_01_01/mysql.yaml", mysql_yaml);
        symlink_at("..2024_01_01", "..data");
        symlink_at("..data/mysql.yaml", "mysql.yaml");
        cr_assert_eq(pol_load_file(path, &p, errs), 0);
        cr_assert_str_eq(p->workloads[0].name, "mysql");
        pol_free(p);
        free(path);
}

Test(policy_load, file_too_big) {
        char *path = fx_path(dir, "big.yaml");
        size_t len = POL_FILE_MAX + 1;
        char *buf = malloc(len);
        pol_policy *p = NULL;

        cr_assert_not_null(buf);
        memset(buf, '#', len);
        memcpy(buf, "version: 1\n", 11);
        fx_write_bytes(dir, "big.yaml", buf, len);
        cr_assert_eq(pol_load_file(path, &p, errs), -EFBIG);
        cr_assert_null(p);
        cr_assert_eq(errs->items[0].line, 0);
        cr_assert(strstr(errs->items[0].message, "too big"));
        fx_write_bytes(dir, "big.yaml", buf, len - 1);
        cr_assert_eq(pol_load_file(path, &p, errs), 0);
        pol_free(p);
        free(buf);
        free(path);
}

/* The layout kubelet makes of a ConfigMap volume, plus what else a
 * directory may hold: only the top-level *.yaml regular files (or links
 * to them) count, in byte order of their names. */
Test(policy_load, configmap_directory) {
        pol_policy *p = NULL;
        char *a = fx_path(dir, "10-batch.yaml"), *b = fx_path(dir, "20-mysql.yaml");

        fx_write(dir, "..2024_05_01_10_00_00.123456789/10-batch.yaml", batch_yaml);
        fx_write(dir, "..2024_05_01_10_00_00.123456789/20-mysql.yaml", mysql_yaml);
        symlink_at("..2024_05_01_10_00_00.123456789", "..data");
        symlink_at("..data/10-batch.yaml", "10-batch.yaml");
        symlink_at("..data/20-mysql.yaml", "20-mysql.yaml");
        /* Ignored, each would fail if read: */
        fx_write(dir, ".hidden.yaml", "not: [valid");
        fx_write(dir, "README.md", "not: [valid");
        fx_write(dir, "old.yml", "not: [valid");
        fx_write(dir, "20-mysql.yaml.bak", "not: [valid");
        fx_write(dir, "sub/x.yaml", "not: [valid");
        fx_mkdir(dir, "dir.yaml");
        symlink_at("nowhere", "dangling.yaml");

        cr_assert_eq(pol_load_dir(dir, &p, errs), 0);
        dump_errors();
        cr_assert_eq(p->n_files, 2);
        cr_assert_str_eq(p->files[0], a);
        cr_assert_str_eq(p->files[1], b);
        cr_assert_eq(p->n_workloads, 3);
        cr_assert_str_eq(p->workloads[0].name, "batch");
        cr_assert_str_eq(p->workloads[1].name, "cron");
        cr_assert_str_eq(p->workloads[2].name, "mysql");
        cr_assert_eq(p->workloads[0].mark.file, p->files[0]);
        cr_assert_eq(p->workloads[2].mark.file, p->files[1]);
        cr_assert_eq(p->workloads[2].mark.line, 3);
        cr_assert(p->settings.dry_run, "settings from 10-batch.yaml");
        cr_assert_eq(p->defaults.cooldown_ms, 15000);
        pol_free(p);
        free(a);
        free(b);
}

/* A policy file that cannot be read is an error, not skipped: only a
 * link that leads nowhere (ENOENT) counts as absent. */
Test(policy_load, unreadable_entry_fails_the_directory) {
        char *loop = fx_path(dir, "loop.yaml");
        pol_policy *p = (pol_policy *)&errs;

        fx_write(dir, "a.yaml", mysql_yaml);
        symlink_at("loop.yaml", "loop.yaml");
        cr_assert_eq(pol_load_dir(dir, &p, errs), -ELOOP);
        cr_assert_eq(p, (pol_policy *)&errs);
        cr_assert_eq(errs->n, 1);
        cr_assert_str_eq(errs->items[0].file, loop);
        cr_assert_eq(errs->items[0].line, 0);
        cr_assert(strstr(errs->items[0].message, "cannot open: "), "%s", errs->items[0].message);
        free(loop);
}

Test(policy_load, directory_order_is_bytewise) {
        static const char *const names[] = {"b.yaml", "a.yaml", "B.yaml", "10.yaml", "9.yaml"};
        static const char *const order[] = {"w10", "w9", "wB", "wa", "wb"};
        pol_policy *p = NULL;
        char body[128];

        for (size_t i = 0; i < 5; i++) {
                snprintf(body, sizeof(body), "version: 1\nworkloads: [{name: w%.*s, match: {comm: x}}]\n",
                         (int)(strlen(names[i]) - 5), names[i]);
                fx_write(dir, names[i], body);
        }
        cr_assert_eq(pol_load_dir(dir, &p, errs), 0);
        cr_assert_eq(p->n_workloads, 5);
        for (size_t i = 0; i < 5; i++)
                cr_assert_str_eq(p->workloads[i].name, order[i]);
        pol_free(p);
}

Test(policy_load, duplicate_workload_across_files) {
        char *a = fx_path(dir, "a.yaml"), *b = fx_path(dir, "b.yaml");
        char want[8192];
        pol_policy *p = (pol_policy *)&errs;

        fx_write(dir, "a.yaml", mysql_yaml);
        fx_write(dir, "b.yaml", "version: 1\nworkloads:\n  - name: other\n    match: {comm: x}\n"
                                "  - name: mysql\n    match: {comm: mariadbd}\n");
        cr_assert_eq(pol_load_dir(dir, &p, errs), -EINVAL);
        dump_errors();
        cr_assert_eq(p, (pol_policy *)&errs);
        cr_assert_eq(errs->n, 1);
        cr_assert_str_eq(errs->items[0].file, b);
        cr_assert_eq(errs->items[0].line, 5);
        cr_assert_eq(errs->items[0].column, 11);
        snprintf(want, sizeof(want), "workload 'mysql' is already defined at %s:3:11", a);
        cr_assert_str_eq(errs->items[0].message, want);
        free(a);
        free(b);
}

Test(policy_load, settings_and_defaults_in_one_file_only) {
        char *a = fx_path(dir, "a.yaml");
        pol_policy *p = NULL;
        char want[8192];

        fx_write(dir, "a.yaml", "version: 1\nsettings: {dry_run: true}\ndefaults: {grace: 1s}\n");
        fx_write(dir, "b.yaml", "version: 1\n\ndefaults: {grace: 2s}\nsettings: {dry_run: false}\n");
        cr_assert_eq(pol_load_dir(dir, &p, errs), -EINVAL);
        dump_errors();
        cr_assert_eq(errs->n, 2);
        snprintf(want, sizeof(want), "settings are already given at %s:2:1", a);
        cr_assert(strstr(errs->items[0].message, want), "%s", errs->items[0].message);
        cr_assert_eq(errs->items[0].line, 4);
        snprintf(want, sizeof(want), "defaults are already given at %s:3:1", a);
        cr_assert(strstr(errs->items[1].message, want), "%s", errs->items[1].message);
        cr_assert_eq(errs->items[1].line, 3);
        cr_assert_null(p);
        free(a);
}

/* Hooks move with the settings and the workloads into the merged policy
 * (ASan says if anything is freed twice or not at all), also when the
 * merge fails. */
Test(policy_load, hooks_across_files) {
        pol_policy *p = NULL;

        fx_write(dir, "a.yaml", "version: 1\nsettings: {hooks: {pre_kill: [/bin/a, x]}}\n");
        fx_write(dir, "b.yaml", "version: 1\nworkloads:\n  - name: w\n    match: {comm: w}\n"
                                "    hooks: {post_kill: /bin/b}\n");
        cr_assert_eq(pol_load_dir(dir, &p, errs), 0);
        dump_errors();
        cr_assert_str_eq(pol_effective_hook(p, NULL, false)->argv[1], "x");
        cr_assert_str_eq(pol_effective_hook(p, &p->workloads[0], true)->argv[0], "/bin/b");
        cr_assert(pol_effective_hook(p, &p->workloads[0], true)->shell);
        pol_free(p);
        p = NULL;
        fx_write(dir, "c.yaml", "version: 1\nsettings: {hooks: {post_kill: [/bin/c]}}\n"
                                "workloads:\n  - name: w\n    match: {comm: w}\n"
                                "    hooks: {pre_kill: /bin/c}\n");
        cr_assert_eq(pol_load_dir(dir, &p, errs), -EINVAL);
        cr_assert_null(p);
}

/* One bad file fails the whole directory, and every file's problems are
 * reported, not just the first file's. */
Test(policy_load, bad_files_fail_the_directory) {
        char *b = fx_path(dir, "b.yaml"), *c = fx_path(dir, "c.yaml");
        pol_policy *p = (pol_policy *)&errs;

        fx_write(dir, "a.yaml", mysql_yaml);
        fx_write(dir, "b.yaml", "version: 1\nsettings: {dry_run: maybe}\n");
        fx_write(dir, "c.yaml", "version: 1\nworkloads: [{name: x}]\n");
        cr_assert_eq(pol_load_dir(dir, &p, errs), -EINVAL);
        dump_errors();
        cr_assert_eq(p, (pol_policy *)&errs);
        cr_assert_eq(errs->n, 2);
        cr_assert_str_eq(errs->items[0].file, b);
        cr_assert_eq(errs->items[0].line, 2);
        cr_assert_str_eq(errs->items[1].file, c);
        cr_assert(strstr(errs->items[1].message, "missing match"));
        free(b);
        free(c);
}

/* No policy files: the embedded default, as pol_default() gives it. */
Test(policy_load, empty_directory_is_the_default) {
        pol_policy *p = NULL, *d = NULL;

        fx_write(dir, "README.md", "policies go here\n");
        cr_assert_eq(pol_load_dir(dir, &p, errs), 0);
        cr_assert_eq(pol_default(&d), 0);
        cr_assert_eq(p->n_files, 0);
        cr_assert_eq(p->n_workloads, 0);
        cr_assert_eq(p->version, d->version);
        cr_assert_eq(memcmp(&p->settings, &d->settings, sizeof(d->settings)), 0);
        cr_assert_eq(memcmp(&p->defaults, &d->defaults, sizeof(d->defaults)), 0);
        pol_free(p);
        pol_free(d);

        char *missing = fx_path(dir, "nope");
        p = (pol_policy *)&errs;
        cr_assert_eq(pol_load_dir(missing, &p, errs), -ENOENT);
        cr_assert_eq(p, (pol_policy *)&errs);
        cr_assert(strstr(errs->items[0].message, "cannot open directory"));
        free(missing);
}

Test(policy_load, too_many_workloads_across_files) {
        char *yaml = NULL, name[32];
        size_t size = 0;
        pol_policy *p = NULL;

        for (int f = 0; f < 2; f++) {
                FILE *out = open_memstream(&yaml, &size);
                fputs("version: 1\nworkloads:\n", out);
                for (int i = 0; i < POL_WORKLOADS_MAX / 2 + 1; i++)
                        fprintf(out, "  - {name: f%dw%d, match: {comm: c}}\n", f, i);
                fclose(out);
                snprintf(name, sizeof(name), "%d.yaml", f);
                fx_write(dir, name, yaml);
                free(yaml);
        }
        cr_assert_eq(pol_load_dir(dir, &p, errs), -EINVAL);
        cr_assert_eq(errs->n, 1);
        /* 0.yaml has 513; the 512th of 1.yaml is the 1025th. */
        cr_assert_eq(errs->items[0].line, 3 + 511);
        cr_assert(strstr(errs->items[0].message, "more than 1024 workloads"));
}

/* ---- the embedded default ---- */

Test(policy_load, default_matches_its_yaml) {
        pol_policy *parsed = NULL, *d = NULL;

        cr_assert_eq(pol_parse("default", pol_default_yaml, strlen(pol_default_yaml), &parsed, errs), 0);
        cr_assert_eq(pol_default(&d), 0);
        cr_assert_eq(parsed->version, d->version);
        cr_assert_eq(parsed->settings.dry_run, d->settings.dry_run);
        cr_assert_eq(parsed->settings.poll_interval_ms, d->settings.poll_interval_ms);
        cr_assert_eq(memcmp(&parsed->defaults, &d->defaults, sizeof(d->defaults)), 0);
        cr_assert_eq(parsed->n_workloads, d->n_workloads);
        cr_assert_eq(d->n_workloads, 0);
        /* And those are the schema's documented numbers. */
        const pol_triggers *t = &d->defaults.triggers;
        cr_assert(t->pressure_some == 0.40 && t->pressure_full == 0.20 && t->pressure_sustain_ms == 5000);
        cr_assert(t->near_limit == 0.95 && t->limit == 0.90 && t->high_sustain_ms == 2000);
        cr_assert(t->has_pressure_some && t->has_pressure_full && t->has_pressure_sustain &&
                  t->has_near_limit && t->has_limit && t->has_high_sustain);
        cr_assert_eq(d->defaults.action, POL_ACTION_KILL_PROCESS);
        cr_assert_eq(d->defaults.cooldown_ms, 15000);
        cr_assert_eq(d->defaults.grace_ms, 0);
        cr_assert_eq(d->settings.poll_interval_ms, 1000);
        cr_assert_not(d->settings.dry_run);
        pol_free(parsed);
        pol_free(d);
}

/* examples/default.yaml is `guardian default-policy > examples/default.yaml`:
 * regenerate it when pol_default_yaml changes. */
Test(policy_load, examples_default_is_the_embedded_text) {
        char *text = fx_read(examples_dir(), "default.yaml", NULL);

        cr_assert_str_eq(text, pol_default_yaml,
                         "examples/default.yaml is stale: build/guardian default-policy > examples/default.yaml");
        free(text);
}

Test(policy_load, examples_pass_check) {
        static const struct {
                const char *file;
                size_t workloads;
        } examples[] = {
                {"default.yaml", 0},
                {"mysql-host.yaml", 5},
                {"docker-host.yaml", 4},
                {"kubernetes-node.yaml", 5},
        };
        for (size_t i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
                char *path = fx_path(examples_dir(), examples[i].file);
                pol_policy *p = NULL;
                int r = pol_load_file(path, &p, errs);
                dump_errors();
                cr_assert_eq(r, 0, "%s does not pass", path);
                cr_assert_eq(p->n_workloads, examples[i].workloads, "%s", path);
                pol_free(p);
                free(path);
        }
}

Test(policy_load, examples_protect_what_they_say) {
        char *path = fx_path(examples_dir(), "mysql-host.yaml");
        pol_policy *p = NULL;

        cr_assert_eq(pol_load_file(path, &p, errs), 0);
        const pol_workload *w = &p->workloads[0];
        cr_assert_str_eq(w->name, "mysql");
        cr_assert_eq(w->protect.mode, POL_PROTECT_NEVER);
        cr_assert_neq(w->protect.budget, POL_UNSET);
        cr_assert_neq(w->protect.memory_min, POL_UNSET);
        cr_assert(w->protect.has_oom_score_adj && w->protect.oom_score_adj == -1000);
        pol_free(p);
        free(path);

        path = fx_path(examples_dir(), "kubernetes-node.yaml");
        cr_assert_eq(pol_load_file(path, &p, errs), 0);
        bool besteffort = false, guaranteed = false;
        for (size_t i = 0; i < p->n_workloads; i++) {
                w = &p->workloads[i];
                if (w->match.qos == POL_QOS_BESTEFFORT)
                        besteffort = w->has_score_adj && w->score_adj == 500;
                if (w->match.qos == POL_QOS_GUARANTEED)
                        guaranteed = w->protect.mode == POL_PROTECT_AVOID;
        }
        cr_assert(besteffort && guaranteed);
        cr_assert_eq(p->workloads[0].protect.mode, POL_PROTECT_NEVER);
        pol_free(p);
        free(path);
}

/* ---- effective values and names ---- */

Test(policy_load, effective_values_inherit_key_by_key) {
        static const char yaml[] =
                "version: 1\ndefaults:\n  triggers: {pressure: {some: 30%}, limit: 80%}\n"
                "  action: notify\n  cooldown: 20s\n  grace: 1s\n"
                "workloads:\n"
                "  - name: own\n    match: {comm: a}\n    action: kill-cgroup\n    cooldown: 0s\n"
                "    grace: 3s\n    triggers: {pressure: {full: 5%}, high: {sustain: 0s}}\n"
                "  - name: bare\n    match: {comm: b}\n";
        pol_policy *p = NULL;
        pol_triggers t;

        cr_assert_eq(pol_parse("e.yaml", yaml, strlen(yaml), &p, errs), 0);
        const pol_workload *own = &p->workloads[0], *bare = &p->workloads[1];

        cr_assert_eq(pol_effective_action(p, own), POL_ACTION_KILL_CGROUP);
        cr_assert_eq(pol_effective_action(p, bare), POL_ACTION_NOTIFY);
        cr_assert_eq(pol_effective_action(p, NULL), POL_ACTION_NOTIFY);
        cr_assert_eq(pol_effective_cooldown_ms(p, own), 0, "0s is a value, not unset");
        cr_assert_eq(pol_effective_cooldown_ms(p, bare), 20000);
        cr_assert_eq(pol_effective_cooldown_ms(p, NULL), 20000);
        cr_assert_eq(pol_effective_grace_ms(p, own), 3000);
        cr_assert_eq(pol_effective_grace_ms(p, bare), 1000);

        pol_effective_triggers(p, own, &t);
        cr_assert_eq(t.pressure_some, 0.30);  /* the file's defaults */
        cr_assert_eq(t.pressure_full, 0.05);  /* its own */
        cr_assert_eq(t.pressure_sustain_ms, 5000); /* built in */
        cr_assert_eq(t.limit, 0.80);
        cr_assert_eq(t.near_limit, 0.95);
        cr_assert_eq(t.high_sustain_ms, 0);
        cr_assert(t.has_pressure_some && t.has_pressure_full && t.has_pressure_sustain &&
                  t.has_near_limit && t.has_limit && t.has_high_sustain);
        pol_effective_triggers(p, NULL, &t);
        cr_assert_eq(memcmp(&t, &p->defaults.triggers, sizeof(t)), 0);
        pol_effective_triggers(p, bare, &t);
        cr_assert_eq(t.pressure_full, 0.20);
        cr_assert_eq(t.high_sustain_ms, 2000);
        pol_free(p);
}

Test(policy_load, names) {
        cr_assert_str_eq(pol_action_name(POL_ACTION_KILL_PROCESS), "kill-process");
        cr_assert_str_eq(pol_action_name(POL_ACTION_KILL_CGROUP), "kill-cgroup");
        cr_assert_str_eq(pol_action_name(POL_ACTION_NOTIFY), "notify");
        cr_assert_str_eq(pol_action_name(POL_ACTION_NONE), "none");
        cr_assert_str_eq(pol_action_name(POL_ACTION__N), "unknown");
        cr_assert_str_eq(pol_action_name((pol_action)42), "unknown");
        cr_assert_str_eq(pol_action_name((pol_action)-1), "unknown");
        cr_assert_str_eq(pol_protect_mode_name(POL_PROTECT_NEVER), "never");
        cr_assert_str_eq(pol_protect_mode_name(POL_PROTECT_AVOID), "avoid");
        cr_assert_str_eq(pol_protect_mode_name(POL_PROTECT_NONE), "none");
        cr_assert_str_eq(pol_protect_mode_name((pol_protect_mode)42), "unknown");
}

/* ---- the commands ---- */

static char *read_redirected(FILE *f) {
        char *buf = calloc(1, 65536);
        cr_assert_not_null(buf);
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
        return buf;
}

/* The commands print on both streams; keep the runner's output clean. */
static void redirect_both(void) {
        cr_redirect_stdout();
        cr_redirect_stderr();
}

TestSuite(policy_cmd, .init = setup, .fini = teardown);

Test(policy_cmd, check_reports_every_problem, .init = redirect_both) {
        char *bad = fx_path(dir, "bad.yaml");
        char *args[] = {"check", bad, NULL};
        char want[8192];

        fx_write(dir, "bad.yaml", "version: 1\ndefaults:\n  cooldwn: 5s\n  grace: 1\n");
        cr_assert_eq(gd_cmd_check(2, args), 1);
        fflush(stderr);
        char *out = read_redirected(cr_get_redirected_stderr());
        snprintf(want, sizeof(want),
                 "%s:3:3: unknown key 'cooldwn' in defaults (did you mean 'cooldown'?): expected "
                 "triggers, action, cooldown or grace\n"
                 "%s:4:10: defaults.grace: '1' needs a unit, e.g. 5s (ms, s, m or h)\n",
                 bad, bad);
        cr_assert_str_eq(out, want);
        free(out);
        free(bad);
}

Test(policy_cmd, check_ok_files_and_directories, .init = redirect_both) {
        char *good = fx_path(dir, "d/a.yaml"), *d = fx_path(dir, "d"), *e = fx_path(dir, "e");
        char *args[] = {"check", good, d, e, NULL};
        char want[8192];

        fx_write(dir, "d/a.yaml", mysql_yaml);
        fx_write(dir, "d/b.yaml", batch_yaml);
        fx_mkdir(dir, "e");
        cr_assert_eq(gd_cmd_check(4, args), 0);
        fflush(stdout);
        char *out = read_redirected(cr_get_redirected_stdout());
        snprintf(want, sizeof(want),
                 "%s: ok (1 workload)\n%s: ok (3 workloads)\n"
                 "%s: ok (no *.yaml files: the embedded default policy applies)\n",
                 good, d, e);
        cr_assert_str_eq(out, want);
        free(out);
        free(good);
        free(d);
        free(e);
}

/* Hooks run commands as root: check says a policy has them. */
Test(policy_cmd, check_mentions_hooks, .init = redirect_both) {
        char *a = fx_path(dir, "a.yaml"), *b = fx_path(dir, "b.yaml");
        char *args[] = {"check", a, b, NULL};
        char want[8192];

        fx_write(dir, "a.yaml", "version: 1\nworkloads:\n  - name: w\n    match: {comm: w}\n"
                                "    hooks: {post_kill: /bin/true}\n");
        fx_write(dir, "b.yaml", "version: 1\nsettings: {hooks: {timeout: 1s}}\n");
        cr_assert_eq(gd_cmd_check(3, args), 0);
        fflush(stdout);
        char *out = read_redirected(cr_get_redirected_stdout());
        snprintf(want, sizeof(want), "%s: ok (1 workload, with hooks)\n%s: ok (0 workloads)\n",
                 a, b);
        cr_assert_str_eq(out, want);
        free(out);
        free(a);
        free(b);
}

/* Any bad argument fails the run; the good ones are still checked. */
Test(policy_cmd, check_mixed_and_usage, .init = redirect_both) {
        char *good = fx_path(dir, "a.yaml");
        char *args[] = {"check", "/nonexistent/p.yaml", good, NULL};
        char *none[] = {"check", NULL};
        char *opt[] = {"check", "--bogus", good, NULL};

        fx_write(dir, "a.yaml", mysql_yaml);
        cr_assert_eq(gd_cmd_check(3, args), 1);
        cr_assert_eq(gd_cmd_check(1, none), 2);
        cr_assert_eq(gd_cmd_check(3, opt), 2);
        fflush(stderr);
        char *out = read_redirected(cr_get_redirected_stderr());
        cr_assert(strstr(out, "/nonexistent/p.yaml: cannot open: No such file or directory\n"), "%s", out);
        cr_assert(strstr(out, "usage: guardian check"));
        free(out);
        free(good);
}

Test(policy_cmd, default_policy_prints_the_embedded_text, .init = redirect_both) {
        char *args[] = {"default-policy", NULL};
        char *extra[] = {"default-policy", "x", NULL};

        cr_assert_eq(gd_cmd_default_policy(2, extra), 2);
        cr_assert_eq(gd_cmd_default_policy(1, args), 0);
        fflush(stdout);
        cr_assert_stdout_eq_str(pol_default_yaml);
}

/* The examples pass the command itself, not only the library under it. */
Test(policy_cmd, examples_pass_guardian_check, .init = redirect_both) {
        char *paths[4], want[16384];
        static const char *const files[] = {"default.yaml", "docker-host.yaml", "kubernetes-node.yaml",
                                            "mysql-host.yaml"};
        char *args[6] = {"check"};

        for (int i = 0; i < 4; i++)
                args[i + 1] = paths[i] = fx_path(examples_dir(), files[i]);
        cr_assert_eq(gd_cmd_check(5, args), 0);
        fflush(stdout);
        snprintf(want, sizeof(want),
                 "%s: ok (0 workloads)\n%s: ok (4 workloads)\n%s: ok (5 workloads)\n%s: ok (5 workloads)\n",
                 paths[0], paths[1], paths[2], paths[3]);
        cr_assert_stdout_eq_str(want);
        for (int i = 0; i < 4; i++)
                free(paths[i]);
}
