/* Hooks: the policy's pre_kill and post_kill commands.
 *
 * The daemon never forks after start-up (its sandbox forbids it) and never
 * waits for a hook. So a small process, the hook runner, is forked at
 * start-up, before the sandbox, and connected by a SOCK_SEQPACKET
 * socketpair. For each hook the daemon sends one message (the event, the
 * workload, the victim's details as GUARDIAN_* variables) with a
 * non-blocking send: when the runner is behind and the socket is full,
 * the hook is dropped and counted, and the kill goes on regardless.
 *
 * The messages carry no command: the runner runs the commands of the
 * policy it read itself (the copy it was forked with, re-read from the
 * same files when the daemon's policy generation changes). A daemon taken
 * over by an exploit can then make the runner run the policy's hooks, but
 * nothing else, outside the sandbox.
 *
 * The runner runs at most GD_HOOKS_PARALLEL hooks at once and queues
 * GD_HOOKS_QUEUE more; each hook gets its own session and process group,
 * oom_score_adj 0, default signals, stdin from /dev/null, stdout and
 * stderr on guardian's stderr, and an environment of PATH and the GUARDIAN_*
 * variables only. At its timeout, and when it exits, its process group is
 * killed. When guardian exits, running hooks are killed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/hookmsg.h"
#include "policy/policy.h"

/* The daemon's end of the runner. */
typedef struct gd_hooks gd_hooks;

/* Fork the hook runner: the child calls runner(sock, ctx), which never
 * returns (the daemon passes the runner's main, hookrunner/hookrunner.h).
 * Call before the sandbox and before any thread is started. Returns 0 and
 * *ret_hooks, or a negative errno. */
int gd_hooks_start(void (*runner)(int sock, void *ctx), void *ctx, gd_hooks **ret_hooks);

/* The policy in force changed (a reload): the runner re-reads it before
 * the next hook it runs. */
void gd_hooks_policy_changed(gd_hooks *hooks);

/* Ask the runner to run the hook the policy has for info->event and w (the
 * workload's own, else the settings'); nothing when there is none. Never
 * blocks: a full socket or a dead runner drops the hook with a warning.
 * Returns 1 when sent, 0 when there is no hook, a negative errno when it
 * was dropped. hooks may be NULL (no runner: nothing happens). */
int gd_hooks_run(gd_hooks *hooks, const pol_policy *policy, const pol_workload *w,
                 const gd_hook_info *info);

/* Hooks sent to the runner and hooks dropped, since start-up. */
void gd_hooks_counts(const gd_hooks *hooks, uint64_t *ret_sent, uint64_t *ret_dropped);

/* Close the daemon's end (the runner then kills its running hooks and
 * exits) and free. NULL is fine. */
void gd_hooks_stop(gd_hooks *hooks);
