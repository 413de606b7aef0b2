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

#include "daemon/policyload.h"
#include "policy/policy.h"

/* One message: the variables of one hook run (a cgroup path is at most
 * PATH_MAX, the rest is short). */
#define GD_HOOKS_MSG_MAX 8192
/* Variables a message may carry: the fixed set gd_hooks_env_build writes,
 * with room to grow. */
#define GD_HOOKS_ENV_MAX 24
/* Hooks running at once: a hook is a notification; more would only add
 * load to a host already short of memory. */
#define GD_HOOKS_PARALLEL 4
/* Hooks waiting for a free slot; beyond this they are dropped (logged). */
#define GD_HOOKS_QUEUE 16
/* The only variable of the hook's environment not from the message. */
#define GD_HOOKS_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

typedef enum gd_hook_event {
        GD_HOOK_PRE_KILL,
        GD_HOOK_POST_KILL,
} gd_hook_event;

/* What a hook is told of a kill. Strings may be NULL (the variable is then
 * empty); they may hold anything: gd_hooks_env_build sanitizes them. */
typedef struct gd_hook_info {
        gd_hook_event event;
        pid_t pid;             /* 0: a whole cgroup (kill-cgroup) */
        const char *comm;
        const char *cgroup;    /* relative to the cgroup root, "" for the root */
        const char *workload;
        const char *trigger;   /* gd_trigger_name() */
        const char *reason;
        const char *outcome;   /* post-kill: "killed", "timeout", "unfinished", "gone", ... */
        bool has_process;      /* score, rss and uid are known */
        int64_t score;
        uint64_t rss_bytes;
        uid_t uid;
        bool dry_run;
        int64_t kill_latency_ms; /* signal to death; negative: unknown */
} gd_hook_info;

/* A decoded message. env points into buf. */
typedef struct gd_hook_msg {
        gd_hook_event event;
        uint32_t generation;   /* the daemon's policy generation */
        char workload[POL_NAME_MAX];
        size_t n_env;
        char *env[GD_HOOKS_ENV_MAX + 1]; /* NULL-terminated "GUARDIAN_X=value" */
        char buf[GD_HOOKS_MSG_MAX];
} gd_hook_msg;

/* "pre-kill" or "post-kill". */
const char *gd_hooks_event_name(gd_hook_event event);

/* The hook's GUARDIAN_* variables for info, as "NAME=value" strings one
 * after the other, each NUL-terminated, into buf (size bytes). Control
 * bytes in values become '?', and long values are cut, so that every
 * value is one printable line. Returns the number of variables and sets
 * *ret_len to the bytes used; -ENOBUFS when buf is too small (*ret_len is
 * then untouched). Pure. */
int gd_hooks_env_build(const gd_hook_info *info, char *buf, size_t size, size_t *ret_len);

/* One message for info into out (size bytes; GD_HOOKS_MSG_MAX is always
 * enough). Returns its length, or -ENOBUFS. Pure. */
ssize_t gd_hooks_encode(const gd_hook_info *info, uint32_t generation, char *out, size_t size);

/* Check and decode a message received from the daemon. Returns 0 and fills
 * *ret, or -EBADMSG when anything is off: bad header, a workload name or a
 * variable that gd_hooks_env_build would not write (a name outside
 * GUARDIAN_[A-Z0-9_]*, a control byte, too many variables). Pure. */
int gd_hooks_decode(const char *buf, size_t len, gd_hook_msg *ret);

/* The daemon's end of the runner. */
typedef struct gd_hooks gd_hooks;

/* Fork the hook runner, which runs with a copy of policy and re-reads
 * src (file, directory or neither: the embedded default) when the policy
 * generation changes. Call before the sandbox and before any thread is
 * started. Returns 0 and *ret_hooks, or a negative errno. */
int gd_hooks_start(const gd_policy_source *src, const pol_policy *policy, gd_hooks **ret_hooks);

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

/* The runner process: never returns. Internal to hooks.c/hookrunner.c. */
__attribute__((noreturn)) void gd_hooks_runner_main(int sock, const gd_policy_source *src,
                                                    pol_policy *policy);
