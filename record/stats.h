/* The daemon's counters for metrics and `guardian status`: kills by
 * workload and reason, decisions, trigger wake-ups, loop latency, policy
 * reloads, and a ring of the most recent kills. Fixed-size: nothing here
 * allocates, so counting never fails and costs nothing on the kill path.
 * Pure: callers pass what happened; the clock is theirs. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc/proc.h"
#include "record/audit.h"
#include "policy/policy.h"

/* Distinct (workload, reason) pairs counted apart: workloads x triggers of
 * a real policy fit; beyond, kills count under workload "other" so the
 * total stays right and the series stay bounded. */
#define GD_STATS_KILL_KEYS 128
/* Distinct (runtime, Kubernetes namespace, image) triples whose kills are
 * counted apart: images and namespaces are an operator's, yet a host that
 * runs throwaway images would grow the series for ever; past the cap the
 * kills count under image "other". Container and pod names are never
 * labels: every re-creation makes a new one (they are in status, the
 * audit log and the log). */
#define GD_STATS_CONTAINER_KEYS 32

/* Recent kills kept for `guardian status`: a screenful. */
#define GD_STATS_RECENT 32
/* Reasons are gd_trigger_name()s: the longest is "host-pressure". */
#define GD_STATS_REASON_MAX 24
/* Upper bounds of the loop-latency histogram, in ns: from a pread of one
 * file (~10 us) to a kill under heavy reclaim (seconds). */
#define GD_STATS_LOOP_BUCKETS 10
extern const uint64_t gd_stats_loop_bounds_ns[GD_STATS_LOOP_BUCKETS];

typedef enum gd_trigger_source {
        GD_SOURCE_MEMORY_EVENTS, /* a memory.events wake-up */
        GD_SOURCE_PSI,           /* a cgroup's PSI trigger */
        GD_SOURCE_HOST_PSI,      /* the host's PSI trigger */
        GD_SOURCE__N,
} gd_trigger_source;

typedef struct gd_kill_count {
        char workload[POL_NAME_MAX]; /* "" for none; "other" past GD_STATS_KILL_KEYS */
        char reason[GD_STATS_REASON_MAX];
        uint64_t count;
} gd_kill_count;

typedef struct gd_container_kill_count {
        pol_runtime runtime;
        char k8s_namespace[254];     /* "" off Kubernetes */
        char image[512];             /* "" when unknown; "other" past GD_STATS_CONTAINER_KEYS */
        uint64_t count;
} gd_container_kill_count;

typedef struct gd_recent_kill {
        int64_t time_unix_ms;
        gd_audit_event event;        /* the audit record's */
        char cgroup[PATH_MAX];
        pid_t pid;                   /* 0 for a whole cgroup */
        char comm[PROC_COMM_MAX];
        char workload[POL_NAME_MAX]; /* "" for none */
        char reason[GD_STATS_REASON_MAX];
        gd_container_names container; /* runtime ANY: not a container's */
        gd_audit_result result;
        int error;                   /* GD_RESULT_ERRNO: the negative errno */
} gd_recent_kill;

typedef struct gd_stats {
        gd_kill_count kills[GD_STATS_KILL_KEYS];
        size_t n_kill_keys;
        gd_container_kill_count container_kills[GD_STATS_CONTAINER_KEYS];
        size_t n_container_keys;
        uint64_t kill_failures;
        uint64_t decisions[POL_ACTION__N]; /* by the action taken; never NONE */
        uint64_t trigger_events[GD_SOURCE__N];
        uint64_t reloads_ok, reloads_error;
        /* Copied in when a document is rendered (their owners count). */
        uint64_t hooks_sent, hooks_dropped, log_lines_dropped;
        /* Refused directory watches so far, and cgroups without one now. */
        uint64_t watch_failures, no_dir_watch_cgroups;
        /* Loop latency: per bucket (not cumulative), the last one +Inf. */
        uint64_t loop_buckets[GD_STATS_LOOP_BUCKETS + 1];
        uint64_t loop_count, loop_sum_ns;
        /* Grows on every record and decision: what the control socket's
         * cache compares (a new kill is shown at once). */
        uint64_t generation;
        gd_recent_kill recent[GD_STATS_RECENT];
        size_t recent_next, n_recent; /* ring: next slot to write, how many held */
} gd_stats;

/* Count what an audit record says happened and keep it in the ring of
 * recent kills: GD_EVENT_KILL and a GD_EVENT_KILL_CGROUP that worked are
 * kills (a signal was sent); GD_EVENT_KILL_FAILED, a cgroup kill that
 * failed and a kill whose victim outlived the deadline (GD_RESULT_TIMEOUT)
 * are failures; dry-run and notify records only enter the ring. */
void gd_stats_record(gd_stats *s, const gd_audit_record *rec);

/* Count a decision by the action taken (gd_decide_route()); NONE and
 * values out of range count nowhere. */
void gd_stats_decision(gd_stats *s, pol_action taken);

/* One epoll wake-up took ns nanoseconds. */
void gd_stats_loop(gd_stats *s, uint64_t ns);

/* The i-th most recent kill (0: the newest), or NULL past the end. */
const gd_recent_kill *gd_stats_recent(const gd_stats *s, size_t i);

/* Short stable names for metric labels: "memory.events", "psi",
 * "host-psi" (actions are named by pol_action_name()). */
const char *gd_trigger_source_name(gd_trigger_source src);

