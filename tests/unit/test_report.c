/* The status and metrics documents, rendered from literal snapshots; the
 * counters that feed them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "record/report.h"
#include "record/stats.h"

typedef void (*render_fn)(FILE *, const gd_report *);

static char *render(render_fn fn, const gd_report *r) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cr_assert_not_null(f);
        fn(f, r);
        fclose(f);
        return buf;
}

static char *label(const char *s) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cr_assert_not_null(f);
        gd_prom_label_value(f, s);
        fclose(f);
        return buf;
}

static gd_stats stats; /* big: not on the stack */

static gd_audit_record rec(gd_audit_event event, const char *workload, const char *trigger,
                           gd_audit_result result) {
        return (gd_audit_record){
                .time_unix_ms = 1700000000123, .event = event, .cgroup = "batch/job\"1",
                .workload = workload, .trigger = trigger, .pid = 4242, .comm = "eat\ner",
                .result = result,
        };
}

static const gd_report_cgroup cgroups[] = {
        {.path = "", .state = "ok"},
        {.path = "batch/job\"1", .workload = "batch", .current_ok = true, .current = 268435456,
         .max_ok = true, .max = 536870912, .high_ok = true, .high = CG_UNLIMITED,
         .psi_ok = true, .some_avg10 = 12.5, .full_avg10 = 3.25, .state = "pressure"},
        {.path = "db\\x\nnew", .current_ok = true, .current = 1024, .max_ok = true,
         .max = CG_UNLIMITED, .high_ok = true, .high = 2048, .state = "ok"},
};

static gd_report report(void) {
        return (gd_report){
                .version = "1.2.3", .pid = 99, .uptime_ms = 3723000,
                .start_time_unix_ms = 1700000000000, .policy_source = "/etc/guardian/policy.d",
                .n_workloads = 2, .dry_run = false, .sandboxed = true, .cgroups = cgroups,
                .n_cgroups = 3, .stats = &stats,
        };
}

static void setup(void) {
        memset(&stats, 0, sizeof(stats));
}

TestSuite(report, .init = setup);

Test(report, prom_label_escaping) {
        char *s = label("a\\b\"c\nd\te\xc3\xa9\xff");
        cr_assert_str_eq(s, "\"a\\\\b\\\"c\\nd\te\xc3\xa9?\"");
        free(s);
        s = label("");
        cr_assert_str_eq(s, "\"\"");
        free(s);
}

Test(report, stats_count_kills_and_failures) {
        gd_audit_record r = rec(GD_EVENT_KILL, "batch", "limit", GD_RESULT_KILLED);
        gd_stats_record(&stats, &r);
        gd_stats_record(&stats, &r);
        r = rec(GD_EVENT_KILL, NULL, "pressure", GD_RESULT_TIMEOUT);
        gd_stats_record(&stats, &r);
        r = rec(GD_EVENT_KILL_FAILED, "batch", "limit", GD_RESULT_GONE);
        gd_stats_record(&stats, &r);
        r = rec(GD_EVENT_KILL_CGROUP, "batch", "high", GD_RESULT_ERRNO);
        r.error = -EPERM;
        gd_stats_record(&stats, &r);
        r = rec(GD_EVENT_KILL_CGROUP, "batch", "high", GD_RESULT_KILLED);
        gd_stats_record(&stats, &r);
        r = rec(GD_EVENT_WOULD_KILL, "batch", "limit", GD_RESULT_DRY_RUN);
        gd_stats_record(&stats, &r);
        r = rec(GD_EVENT_WOULD_KILL_CGROUP, "batch", "limit", GD_RESULT_DRY_RUN);
        gd_stats_record(&stats, &r);
        r = rec(GD_EVENT_NOTIFY, "batch", "limit", GD_RESULT_NOTIFIED);
        gd_stats_record(&stats, &r);
        /* Out of range: in the ring, counted nowhere. */
        r = rec(GD_EVENT__N, "batch", "limit", GD_RESULT__N);
        gd_stats_record(&stats, &r);

        cr_assert_eq(stats.n_kill_keys, 3);
        cr_assert_str_eq(stats.kills[0].workload, "batch");
        cr_assert_str_eq(stats.kills[0].reason, "limit");
        cr_assert_eq(stats.kills[0].count, 2);
        cr_assert_str_eq(stats.kills[1].workload, "");
        cr_assert_eq(stats.kills[1].count, 1);
        cr_assert_str_eq(stats.kills[2].reason, "high");
        cr_assert_eq(stats.kill_failures, 3); /* timeout, kill-failed, kill-cgroup EPERM */
        cr_assert_eq(stats.n_recent, 10);
        cr_assert_eq(gd_stats_recent(&stats, 0)->event, GD_EVENT__N);
        cr_assert_eq(gd_stats_recent(&stats, 1)->event, GD_EVENT_NOTIFY);
        cr_assert_eq(gd_stats_recent(&stats, 5)->result, GD_RESULT_ERRNO);
        cr_assert_eq(gd_stats_recent(&stats, 5)->error, -EPERM);
        cr_assert_eq(gd_stats_recent(&stats, 9)->result, GD_RESULT_KILLED);
        cr_assert_null(gd_stats_recent(&stats, 10));
}

Test(report, stats_bounded) {
        char name[32];
        for (int i = 0; i < GD_STATS_KILL_KEYS + 10; i++) {
                snprintf(name, sizeof(name), "w%d", i);
                gd_audit_record r = rec(GD_EVENT_KILL, name, "limit", GD_RESULT_KILLED);
                gd_stats_record(&stats, &r);
        }
        cr_assert_eq(stats.n_kill_keys, GD_STATS_KILL_KEYS);
        cr_assert_str_eq(stats.kills[GD_STATS_KILL_KEYS - 1].workload, "other");
        cr_assert_eq(stats.kills[GD_STATS_KILL_KEYS - 1].count, 11);
        cr_assert_eq(stats.kills[0].count, 1);
        cr_assert_eq(stats.n_recent, GD_STATS_RECENT);
        cr_assert_str_eq(gd_stats_recent(&stats, 0)->workload, "w137");
}

Test(report, stats_decisions_and_loop) {
        gd_stats_decision(&stats, POL_ACTION_KILL_PROCESS);
        gd_stats_decision(&stats, POL_ACTION_KILL_CGROUP);
        gd_stats_decision(&stats, POL_ACTION_KILL_CGROUP);
        gd_stats_decision(&stats, POL_ACTION_NOTIFY);
        gd_stats_decision(&stats, POL_ACTION_NONE);
        gd_stats_decision(&stats, POL_ACTION__N);
        cr_assert_eq(stats.decisions[POL_ACTION_KILL_PROCESS], 1);
        cr_assert_eq(stats.decisions[POL_ACTION_KILL_CGROUP], 2);
        cr_assert_eq(stats.decisions[POL_ACTION_NOTIFY], 1);
        cr_assert_eq(stats.decisions[POL_ACTION_NONE], 0);
        cr_assert_eq(stats.generation, 6);
        gd_stats_loop(&stats, 50000);      /* 50 us */
        gd_stats_loop(&stats, 100000);     /* on the bound: le="0.0001" */
        gd_stats_loop(&stats, 2000000);    /* 2 ms */
        gd_stats_loop(&stats, 9000000000); /* 9 s: +Inf */
        cr_assert_eq(stats.loop_buckets[0], 2);
        cr_assert_eq(stats.loop_buckets[3], 1);
        cr_assert_eq(stats.loop_buckets[GD_STATS_LOOP_BUCKETS], 1);
        cr_assert_eq(stats.loop_count, 4);
}

Test(report, metrics) {
        gd_audit_record r = rec(GD_EVENT_KILL, "batch", "near-limit", GD_RESULT_KILLED);
        gd_stats_record(&stats, &r);
        stats.trigger_events[GD_SOURCE_PSI] = 7;
        gd_stats_decision(&stats, POL_ACTION_NOTIFY);
        stats.watch_failures = 12;
        stats.no_dir_watch_cgroups = 4;
        gd_stats_loop(&stats, 50000);
        gd_stats_loop(&stats, 2000000);
        gd_report rep = report();
        char *m = render(gd_report_metrics, &rep);

        cr_assert(strstr(m, "guardian_build_info{version=\"1.2.3\"} 1\n"), "%s", m);
        cr_assert(strstr(m, "guardian_kills_total{workload=\"batch\",reason=\"near-limit\"} 1\n"));
        cr_assert(strstr(m, "guardian_trigger_events_total{source=\"psi\"} 7\n"));
        cr_assert(strstr(m, "guardian_decisions_total{action=\"kill-process\"} 0\n"
                            "guardian_decisions_total{action=\"kill-cgroup\"} 0\n"
                            "guardian_decisions_total{action=\"notify\"} 1\n"), "%s", m);
        cr_assert(strstr(m, "guardian_trigger_events_total{source=\"memory.events\"} 0\n"));
        cr_assert(strstr(m, "guardian_start_time_seconds 1700000000.000\n"));
        cr_assert(strstr(m, "guardian_inotify_watch_failures_total 12\n"), "%s", m);
        cr_assert(strstr(m, "guardian_cgroups_without_dir_watch 4\n"), "%s", m);
        cr_assert(strstr(m, "guardian_loop_duration_seconds_bucket{le=\"0.0001\"} 1\n"));
        cr_assert(strstr(m, "guardian_loop_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        cr_assert(strstr(m, "guardian_loop_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        cr_assert(strstr(m, "guardian_loop_duration_seconds_count 2\n"));
        cr_assert(strstr(m, "guardian_cgroup_memory_current_bytes{cgroup=\"batch/job\\\"1\","
                            "workload=\"batch\"} 268435456\n"), "%s", m);
        cr_assert(strstr(m, "guardian_cgroup_memory_current_bytes{cgroup=\"db\\\\x\\nnew\","
                            "workload=\"\"} 1024\n"));
        cr_assert(strstr(m, "guardian_cgroup_memory_pressure_some_ratio{cgroup=\"batch/job\\\"1\","
                            "workload=\"batch\"} 0.125\n"));
        cr_assert(strstr(m, "guardian_cgroup_memory_pressure_full_ratio{cgroup=\"batch/job\\\"1\","
                            "workload=\"batch\"} 0.0325\n"));
        /* Unlimited and unknown values are left out, not made up. */
        cr_assert_null(strstr(m, "guardian_cgroup_memory_max_bytes{cgroup=\"db"));
        cr_assert(strstr(m, "guardian_cgroup_memory_high_bytes{cgroup=\"db\\\\x\\nnew\",workload=\"\"} 2048\n"));
        cr_assert_null(strstr(m, "cgroup=\"/\""));

        /* Every line is a comment or a sample, and every family that has
         * samples was announced with HELP and TYPE before them. */
        char *save = NULL, *copy = strdup(m);
        char typed[64][96];
        size_t n_typed = 0;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "# TYPE ", 7) == 0) {
                        cr_assert_lt(n_typed, 64);
                        sscanf(line + 7, "%95s", typed[n_typed++]);
                        continue;
                }
                if (strncmp(line, "# HELP ", 7) == 0)
                        continue;
                cr_assert_neq(line[0], '#', "%s", line);
                char name[96];
                cr_assert_eq(sscanf(line, "%95[a-z_]", name), 1, "%s", line);
                size_t len = strlen(name);
                for (const char *suf = "_bucket\0_sum\0_count\0"; *suf; suf += strlen(suf) + 1) {
                        size_t sl = strlen(suf);
                        if (len > sl && strcmp(name + len - sl, suf) == 0 &&
                            strncmp(name, "guardian_loop_duration_seconds", len - sl) == 0)
                                name[len - sl] = '\0';
                }
                bool found = false;
                for (size_t i = 0; i < n_typed; i++)
                        found = found || strcmp(typed[i], name) == 0;
                cr_assert(found, "no TYPE for %s", line);
                const char *value = strrchr(line, ' ');
                cr_assert_not_null(value);
                char *end;
                strtod(value + 1, &end);
                cr_assert_eq(*end, '\0', "bad value in %s", line);
        }
        free(copy);
        free(m);
}

Test(report, json) {
        gd_audit_record r = rec(GD_EVENT_KILL, "batch", "limit", GD_RESULT_KILLED);
        gd_stats_record(&stats, &r);
        gd_report rep = report();
        char *j = render(gd_report_json, &rep);

        cr_assert(strstr(j, "\"pid\":99,\"uptime_seconds\":3723.000"), "%s", j);
        cr_assert(strstr(j, "\"sandbox\":true"));
        cr_assert(strstr(j, "{\"cgroup\":\"batch/job\\\"1\",\"workload\":\"batch\","
                            "\"memory_current\":268435456,\"memory_max\":536870912,"
                            "\"memory_high\":\"max\",\"pressure_some_avg10\":12.50,"
                            "\"pressure_full_avg10\":3.25,\"state\":\"pressure\"}"), "%s", j);
        cr_assert(strstr(j, "{\"cgroup\":\"/\",\"workload\":null,\"memory_current\":null"));
        cr_assert(strstr(j, "\"cgroup\":\"db\\\\x\\nnew\""));
        cr_assert(strstr(j, "\"recent_kills\":[{\"time_unix_ms\":1700000000123,"
                            "\"time\":\"2023-11-14T22:13:20Z\",\"event\":\"kill\","
                            "\"cgroup\":\"batch/job\\\"1\",\"container\":null,\"pid\":4242,\"comm\":\"eat\\ner\","
                            "\"workload\":\"batch\",\"reason\":\"limit\",\"result\":\"killed\"}]"),
                  "%s", j);
        cr_assert(strstr(j, "\"counters\":{\"kills\":1,\"kill_failures\":0,\"inotify_watch_failures\":0,"
                            "\"cgroups_without_dir_watch\":0,\"decisions\":"
                            "{\"kill-process\":0,\"kill-cgroup\":0,\"notify\":0}},"), "%s", j);
        free(j);
}

/* The ring keeps event and result typed; the documents spell them as the
 * audit file does, an errno by its name, a value out of range as "". */
Test(report, recent_names) {
        gd_audit_record r = rec(GD_EVENT_KILL_CGROUP, "batch", "high", GD_RESULT_ERRNO);
        r.error = -EPERM;
        gd_stats_record(&stats, &r);
        r = rec(GD_EVENT__N, "batch", "high", GD_RESULT__N);
        gd_stats_record(&stats, &r);
        gd_report rep = report();
        char *j = render(gd_report_json, &rep);
        char *t = render(gd_report_text, &rep);

        cr_assert(strstr(j, "\"event\":\"kill-cgroup\""), "%s", j);
        cr_assert(strstr(j, "\"result\":\"EPERM\""), "%s", j);
        cr_assert(strstr(j, "\"event\":\"\""), "%s", j);
        cr_assert(strstr(j, "\"result\":\"\""), "%s", j);
        cr_assert(strstr(t, "  kill-cgroup        "), "%s", t);
        cr_assert(strstr(t, "  high           EPERM "), "%s", t);
        free(j);
        free(t);
}

Test(report, text) {
        gd_audit_record r = rec(GD_EVENT_KILL, "batch", "limit", GD_RESULT_KILLED);
        gd_stats_record(&stats, &r);
        gd_report rep = report();
        char *t = render(gd_report_text, &rep);

        cr_assert(strstr(t, "guardian 1.2.3, pid 99, up 1h02m03s\n"), "%s", t);
        cr_assert(strstr(t, "policy:  /etc/guardian/policy.d (2 workloads)\n"));
        cr_assert(strstr(t, "sandbox: yes\n"));
        cr_assert(strstr(t, "kills:   1 (0 failed)\n"));
        cr_assert(strstr(t, "cgroups: 3 watched\n"), "no watch failures, no words: %s", t);
        cr_assert(strstr(t, "256.0M"));
        cr_assert(strstr(t, "512.0M"));
        cr_assert(strstr(t, "12.50"));
        /* No raw control byte from a name reaches the terminal. */
        cr_assert(strstr(t, "db\\x?new"), "%s", t);
        cr_assert(strstr(t, "eat?er"));
        for (const char *p = t; *p; p++)
                cr_assert(*p == '\n' || (unsigned char)*p >= 0x20, "control byte in %s", t);
        cr_assert(strstr(t, "2023-11-14T22:13:20Z"));
        free(t);

        memset(&stats, 0, sizeof(stats));
        stats.watch_failures = 9;
        stats.no_dir_watch_cgroups = 3;
        t = render(gd_report_text, &rep);
        cr_assert(strstr(t, "recent kills: none\n"));
        cr_assert(strstr(t, "cgroups: 3 watched, 3 without a directory watch (9 inotify "
                            "watches refused; listed every second instead)\n"), "%s", t);
        free(t);
}

Test(report, metrics_listener_down_is_shown_everywhere) {
        gd_report r = report();
        r.metrics_address = "127.0.0.1:9187";
        r.metrics_error = EADDRINUSE;
        r.metrics_failed_attempts = 12;
        r.metrics_down_ms = 11500;
        r.metrics_retry_ms = 1000;

        char *t = render(gd_report_text, &r);
        cr_expect(strstr(t, "metrics: 127.0.0.1:9187, NOT LISTENING: Address already in use "
                            "(EADDRINUSE); 12 failed attempts in 11 s, retried every 1.0 s\n"),
                  "%s", t);
        free(t);
        t = render(gd_report_json, &r);
        cr_expect(strstr(t, "\"metrics_listener\":{\"address\":\"127.0.0.1:9187\",\"listening\":"
                            "false,\"error\":\"EADDRINUSE\",\"error_text\":\"Address already in "
                            "use\",\"failed_attempts\":12,\"down_seconds\":11.500}},"),
                  "%s", t);
        free(t);
        t = render(gd_report_metrics, &r);
        cr_expect(strstr(t, "# TYPE guardian_metrics_listener_up gauge\n"
                            "guardian_metrics_listener_up{address=\"127.0.0.1:9187\"} 0\n"),
                  "%s", t);
        cr_expect(strstr(t, "guardian_metrics_listener_failed_attempts_total{address=\"127.0.0.1:"
                            "9187\"} 12\n"));
        free(t);

        r.metrics_listening = true;
        r.metrics_error = 0;
        t = render(gd_report_text, &r);
        cr_expect(strstr(t, "metrics: 127.0.0.1:9187, listening\n"), "%s", t);
        free(t);
        t = render(gd_report_json, &r);
        cr_expect(strstr(t, "\"listening\":true,\"error\":null,\"error_text\":null"), "%s", t);
        free(t);
        t = render(gd_report_metrics, &r);
        cr_expect(strstr(t, "guardian_metrics_listener_up{address=\"127.0.0.1:9187\"} 1\n"));
        free(t);
}

Test(report, no_metrics_listener_configured) {
        gd_report r = report();
        char *t = render(gd_report_text, &r);
        cr_expect(strstr(t, "metrics: on the control socket only\n"), "%s", t);
        free(t);
        t = render(gd_report_json, &r);
        cr_expect(strstr(t, "\"metrics_listener\":null}"), "%s", t);
        free(t);
        t = render(gd_report_metrics, &r);
        cr_expect_null(strstr(t, "guardian_metrics_listener"), "a family with no sample");
        free(t);
}

/* Kills in containers: counted by runtime, namespace and image, at most
 * GD_STATS_CONTAINER_KEYS series; status shows the container's name. */
Test(report, container_kills) {
        gd_container_names c = {.runtime = POL_RUNTIME_DOCKER};
        gd_audit_record r = rec(GD_EVENT_KILL, "batch", "limit", GD_RESULT_KILLED);
        char image[64];

        strcpy(c.id, "3f2a");
        strcpy(c.name, "etl-1\x1b[2J");
        strcpy(c.image, "etl:latest");
        r.container = &c;
        gd_stats_record(&stats, &r);
        gd_stats_record(&stats, &r);
        for (int i = 0; i < GD_STATS_CONTAINER_KEYS + 5; i++) {
                snprintf(image, sizeof(image), "throwaway-%d:1", i);
                strcpy(c.image, image);
                gd_stats_record(&stats, &r);
        }
        /* A failed kill is not counted; a dry run neither. */
        strcpy(c.image, "etl:latest");
        gd_audit_record f = rec(GD_EVENT_KILL_FAILED, "batch", "limit", GD_RESULT_GONE);
        f.container = &c;
        gd_stats_record(&stats, &f);
        cr_assert_eq(stats.n_container_keys, GD_STATS_CONTAINER_KEYS);
        cr_assert_eq(stats.container_kills[0].count, 2);
        cr_assert_str_eq(stats.container_kills[GD_STATS_CONTAINER_KEYS - 1].image, "other");
        cr_assert_eq(stats.container_kills[GD_STATS_CONTAINER_KEYS - 1].count, 7);

        gd_report rep = report();
        char *m = render(gd_report_metrics, &rep);
        cr_assert(strstr(m, "guardian_container_kills_total{runtime=\"docker\",namespace=\"\","
                            "image=\"etl:latest\"} 2\n"), "%s", m);
        cr_assert(strstr(m, "guardian_container_kills_total{runtime=\"other\",namespace=\"other\","
                            "image=\"other\"} 7\n"), "%s", m);
        free(m);
        char *t = render(gd_report_text, &rep);
        cr_assert(strstr(t, " (docker etl-1?[2J, image throwaway-"), "%s", t);
        free(t);
        char *j = render(gd_report_json, &rep);
        cr_assert(strstr(j, "\"container\":{\"runtime\":\"docker\",\"id\":\"3f2a\","
                            "\"name\":\"etl-1\\u001b[2J\""), "%s", j);
        free(j);
}
