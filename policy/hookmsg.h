/* The hook runner's wire protocol: what a hook is told of a kill, as
 * GUARDIAN_* variables, in one SOCK_SEQPACKET message from the daemon
 * (record/hooks.c) to the runner (hookrunner/). Pure: encode, decode and
 * the variables, tested with literals. The runner trusts nothing in a
 * message: it carries no command, and decoding refuses what encoding would
 * not write. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/ident.h"
#include "policy/policy.h"

/* One message: the variables of one hook run (a cgroup path is at most
 * PATH_MAX, the rest is short). */
#define GD_HOOKS_MSG_MAX 8192
/* Variables a message may carry: the fixed set gd_hooks_env_build writes,
 * with room to grow. */
#define GD_HOOKS_ENV_MAX 32
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
        const char *outcome;   /* post-kill: the audit record's result, "killed", "gone", ... */
        bool has_process;      /* score, rss and uid are known */
        int64_t score;
        uint64_t rss_bytes;
        uid_t uid;
        bool dry_run;
        int64_t kill_latency_ms; /* signal to death; negative: unknown */
        const gd_container_names *container; /* NULL (or runtime ANY): not a container's */
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
