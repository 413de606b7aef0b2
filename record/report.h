/* The documents the control socket serves, rendered from a plain snapshot
 * of the daemon's state: `guardian status` as text and JSON, and the
 * Prometheus text exposition format 0.0.4. Pure: the caller fills the
 * snapshot (daemon/daemon_report.c from the live daemon, tests from
 * literals); these only format. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "record/stats.h"

typedef struct gd_report_cgroup {
        const char *path;          /* relative to the cgroup root; "" is the root */
        const char *workload;      /* NULL: none */
        bool current_ok, max_ok, high_ok, psi_ok;
        uint64_t current;          /* bytes */
        uint64_t max, high;        /* bytes, CG_UNLIMITED for "max" */
        double some_avg10, full_avg10; /* PSI averages as the kernel shows them: percent */
        const char *state;         /* "ok", "pressure", "high-rising", "kill-pending", ... */
} gd_report_cgroup;

typedef struct gd_report {
        const char *version;
        pid_t pid;
        uint64_t uptime_ms;
        int64_t start_time_unix_ms;
        const char *policy_source;
        size_t n_workloads;
        bool dry_run;
        bool sandboxed;
        /* The --metrics-address listener: NULL when none is configured. */
        const char *metrics_address;
        bool metrics_listening;
        int metrics_error;               /* errno of its last failed bind or listen */
        uint64_t metrics_failed_attempts;
        uint64_t metrics_down_ms;        /* how long without it */
        uint64_t metrics_retry_ms;       /* how often it is retried */
        const gd_report_cgroup *cgroups;
        size_t n_cgroups;
        /* Left out for the fd budget (their nearest watched ancestor
         * answers for them), and what the budget is (0: none). */
        size_t n_unwatched;
        size_t max_watched;
        const gd_stats *stats;
} gd_report;

/* `guardian status`: the daemon, one line per cgroup, the recent kills. */
void gd_report_text(FILE *out, const gd_report *r);

/* `guardian status --json`: one JSON object (documented in guardian(8)). */
void gd_report_json(FILE *out, const gd_report *r);

/* Prometheus text format 0.0.4: every family with # HELP and # TYPE. */
void gd_report_metrics(FILE *out, const gd_report *r);

/* A Prometheus label value, with its quotes: '\\', '"' and newline are
 * escaped; bytes that are not valid UTF-8 become '?' (the format wants
 * UTF-8, cgroup names are any bytes). */
void gd_prom_label_value(FILE *out, const char *s);
