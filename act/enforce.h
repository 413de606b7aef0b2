/* Enforcement of a policy's protections, outside any kill decision:
 * oom_score_adj for the processes of protected workloads (new ones too, as
 * they appear) and memory.min / memory.low / memory.high for their cgroups.
 * Values are written only when they differ from what is there; every write
 * (and every failed one) is handed to the caller as a gd_enforce_write,
 * which the daemon logs. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/host.h"
#include "watch/watch.h"
#include "policy/policy.h"

/* Does the policy ask for any write at all? */
bool gd_enforce_needed(const pol_policy *policy);

/* Set the oom_score_adj of the process scanned as pid (with start_time)
 * to want, race-free: /proc/PID is opened once, checked to be that
 * process, and the value read and written through it, so a pid reused
 * since the scan is never written to. Returns 1 when written, 0 when it
 * already was want, -ESTALE when the pid names another process now,
 * -ESRCH when it is gone, or another negative errno. Does not log. */
int gd_enforce_set_adj(int procfd, pid_t pid, uint64_t start_time, int want);

typedef enum gd_enforce_result {
        GD_ENFORCE_SET,       /* written */
        GD_ENFORCE_WOULD_SET, /* dry run: would have been written */
        GD_ENFORCE_FAILED,    /* the write failed (err); a gone cgroup or process is not one */
} gd_enforce_result;

/* One write of a pass: a knob of a cgroup (knob set) or the oom_score_adj
 * of a process (knob NULL). Strings live until the callback returns. */
typedef struct gd_enforce_write {
        gd_enforce_result result;
        const char *workload;
        const char *knob;    /* "memory.min", "memory.low", "memory.high"; NULL: oom_score_adj */
        const char *cgroup;  /* relative to the cgroup root (knobs) */
        uint64_t bytes;      /* the knob's value */
        pid_t pid;           /* oom_score_adj */
        int adj;
        int err;             /* positive errno when FAILED */
} gd_enforce_write;

typedef void (*gd_enforce_report_fn)(void *ctx, const gd_enforce_write *write);

/* One pass over every watched cgroup and its processes. knobs: the host is
 * pure v2 with the memory controller (libcgroup may write). dry_run: write
 * nothing, report "would set". Each write is handed to report (may be
 * NULL). Returns the number of writes made (or that would be made). */
int gd_enforce_pass(const gd_host *host, const pol_policy *policy, gd_watch *watch, bool knobs,
                    bool dry_run, gd_enforce_report_fn report, void *ctx);
