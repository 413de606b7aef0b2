/* Enforcement of a policy's protections, outside any kill decision:
 * oom_score_adj for the processes of protected workloads (new ones too, as
 * they appear) and memory.min / memory.low / memory.high for their cgroups.
 * Values are written only when they differ from what is there, and every
 * write is logged. */
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

/* One pass over every watched cgroup and its processes. knobs: the host is
 * pure v2 with the memory controller (libcgroup may write). dry_run: log
 * "would set" and write nothing. Returns the number of writes made (or
 * that would be made). */
int gd_enforce_pass(const gd_host *host, const pol_policy *policy, gd_watch *watch, bool knobs,
                    bool dry_run);
