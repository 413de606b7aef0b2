/* Act: kill exactly the process that was scored, or a whole cgroup.
 *
 * A pid is only a number: between scoring and killing, the process may
 * exit and its pid go to another process. So: open a pidfd (it pins one
 * process), then check through /proc that the pid still names the process
 * that was scored (same start time) and that it is still inside the cgroup;
 * only then signal through the pidfd. Memory comes back sooner with
 * process_mrelease(), which blocks ~50-100 ms per GiB: it runs on a reaper
 * thread, never on the event loop. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct gd_victim {
        pid_t pid;
        uint64_t start_time;   /* /proc/PID/stat field 22 when it was scored */
        char cgroup[PATH_MAX]; /* the scanned cgroup, in the watched tree: "/a/b" */
        /* Where the reader's cgroup namespace is rooted in the tree ("/a/b",
         * cgroup/cgns.h): /proc/PID/cgroup paths are relative to it. NULL
         * or "": the namespace is the tree's, paths are taken as they are. */
        const char *ns_root;
} gd_victim;

/* Open a pidfd for v->pid and verify it is the scored process, still in
 * v->cgroup or a cgroup below it. Returns 0 and *ret_pidfd (O_CLOEXEC);
 * -ESRCH when it is gone, -ESTALE when the pid now names another process,
 * -EXDEV when it left the cgroup (or its cgroup, placed through ns_root,
 * lies outside the tree), another negative errno on failure (-EPERM,
 * -ENOSYS when the kernel has no pidfd_open). */
int gd_act_open_victim(int procfd, const gd_victim *v, int *ret_pidfd);

/* pidfd_send_signal(). Returns 0, -ESRCH when it already exited, or a
 * negative errno. */
int gd_act_signal(int pidfd, int sig);

/* Is the process behind pidfd gone (pidfd readable)? Returns 1, 0, or a
 * negative errno. Non-blocking. */
int gd_act_exited(int pidfd);

/* The reaper thread: process_mrelease() for killed processes. */
typedef struct gd_reaper gd_reaper;

/* Start the thread. Returns 0 or a negative errno. */
int gd_reaper_start(gd_reaper **ret_reaper);

/* Hand a killed process to the reaper: pidfd is dup'ed, the caller keeps
 * its own. Never blocks; returns 0, -EAGAIN when the queue is full (the
 * kill stands, only the early release is skipped), or a negative errno. */
int gd_reaper_submit(gd_reaper *reaper, int pidfd);

/* How many releases succeeded / failed so far (for metrics and tests). */
void gd_reaper_counts(gd_reaper *reaper, uint64_t *ret_released, uint64_t *ret_failed);

/* Stop the thread (finishing what is queued) and free it. NULL is fine. */
void gd_reaper_stop(gd_reaper *reaper);
