/* The sandbox of `guardian run`: once start-up is done (every socket made,
 * every helper forked, every file outside /proc and the cgroup tree
 * opened) and before the event loop, the daemon keeps only the
 * capabilities it needs, sets no_new_privs and installs a seccomp
 * allow-list whose default action kills the whole process. A bug or an
 * exploit in the loop then cannot fork, exec, open a socket, ptrace, load
 * a module or widen the filter: the kernel kills guardian with SIGSYS
 * instead (systemd's Restart=always brings it back).
 *
 * Capabilities are per thread: apply the sandbox while the process has one
 * thread and start threads afterwards (the filter allows clone() of
 * threads only). The uid stays 0. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A capability the daemon keeps, and why. */
typedef struct gd_sandbox_cap {
        int cap;          /* CAP_* number */
        const char *name; /* "cap_kill", as capsh and systemd spell it */
        const char *why;
} gd_sandbox_cap;

/* A socket whose bind() and listen() the loop retries: the metrics
 * listener whose port was taken at start. The filter allows those two
 * calls on this one fd (no socket() still: nothing else can be bound), and
 * CAP_NET_BIND_SERVICE stays when its port is below 1024. */
typedef struct gd_sandbox_listen {
        int fd;               /* -1: none */
        bool privileged_port;
} gd_sandbox_listen;

/* The kept capabilities (a static table; *ret_n entries). CAP_IPC_LOCK and
 * CAP_NET_BIND_SERVICE are not in it: gd_sandbox_keep_mask() adds them
 * only when asked. */
const gd_sandbox_cap *gd_sandbox_caps(size_t *ret_n);

/* The mask (bit n = capability n) of the capabilities to keep, given the
 * permitted set held now: the table's, plus CAP_IPC_LOCK when
 * need_ipc_lock and CAP_NET_BIND_SERVICE when need_bind_service, each
 * only if held (capset() cannot add what is not held). Pure. */
uint64_t gd_sandbox_keep_mask(uint64_t held, bool need_ipc_lock, bool need_bind_service);

/* "cap_kill,cap_sys_ptrace" for mask (numbers for capabilities the table
 * does not name: "cap_40"), "none" for 0, into buf (truncated to size).
 * Returns buf. Pure. */
const char *gd_sandbox_cap_names(uint64_t mask, char *buf, size_t size);

/* The allow-list: syscall names as libseccomp spells them (a static
 * table; *ret_n entries). clone (threads only) and clone3 (fails with
 * ENOSYS) have rules of their own and are not in it. */
const char *const *gd_sandbox_syscalls(size_t *ret_n);

/* The calls the sanitizer test build adds (its runtime, LeakSanitizer at
 * exit); none (*ret_n 0) in a build without ASan. */
const char *const *gd_sandbox_sanitizer_syscalls(size_t *ret_n);

/* Drop capabilities, set no_new_privs, install the filter (on every
 * thread), and log one line saying what was kept. retry: a listener still
 * to bind, or NULL. Returns 0, or a negative errno with *ret_step (when
 * not NULL) naming what failed ("seccomp_load", "capset", ...): the daemon
 * must then not start. -EBUSY: the process has more than one thread (a
 * thread would keep its capabilities). */
int gd_sandbox_apply(const gd_sandbox_listen *retry, const char **ret_step);

/* What `guardian run` calls: with enabled, gd_sandbox_apply(), logging
 * an error line naming the failed step; without (--no-sandbox), a warning
 * that the daemon runs unsandboxed. Returns 0, or a negative errno: the
 * daemon must then not start. */
int gd_sandbox_start(bool enabled, const gd_sandbox_listen *retry);
