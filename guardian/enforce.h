/* Enforcement of a policy's protections, outside any kill decision:
 * oom_score_adj for the processes of protected workloads (new ones too, as
 * they appear) and memory.min / memory.low / memory.high for their cgroups.
 * Values are written only when they differ from what is there, and every
 * write is logged. */
#pragma once

#include <stdbool.h>

#include "guardian/host.h"
#include "guardian/watch.h"
#include "policy/policy.h"

/* Does the policy ask for any write at all? */
bool gd_enforce_needed(const pol_policy *policy);

/* One pass over every watched cgroup and its processes. knobs: the host is
 * pure v2 with the memory controller (libcgroup may write). dry_run: log
 * "would set" and write nothing. Returns the number of writes made (or
 * that would be made). */
int gd_enforce_pass(const gd_host *host, const pol_policy *policy, gd_watch *watch, bool knobs,
                    bool dry_run);
