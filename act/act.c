/* Act: pidfd-checked kills and the process_mrelease() reaper thread. See
 * act.h for the contracts.
 *
 * Static names carry an act_ or reaper_ prefix: tests/helpers/actrace.c
 * builds this file in one translation unit with proc/proc.c, proc/parse.c
 * and cgroup/cgns.c. */
#include "act/act.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "cgroup/cgns.h"
#include "cgroup/cgroup.h"
#include "proc/proc.h"

/* Is path (from /proc/PID/cgroup) cgroup itself or below it? Both are
 * absolute ("/a/b"); a path that is not is in no cgroup of the tree. */
static bool act_cgroup_holds(const char *cgroup, const char *path) {
        return path[0] == '/' && cgroup[0] == '/' && cg_rel_under(path + 1, cgroup + 1);
}

/* Why checking /proc after pidfd_open() is race-free: the pidfd pins the
 * process P that had the pid when it was opened; the number can go to a
 * new process only after P is reaped. So when /proc/PID, read after the
 * open, shows the scored start time, it is P, and P is the scored process
 * (a process that got the pid later started later). If P was reaped in
 * between, /proc shows nothing (-ESRCH) or a newer process (-ESTALE), and
 * the pidfd still names only P, whom a signal can no longer reach: a
 * recycled pid is never signalled (nor when P dies after these checks).
 * The one residue is the start time's resolution (clock ticks, 10 ms): a
 * process born, scored, reaped and replaced by one born in the same tick
 * would pass. Choosing the next pid takes CAP_CHECKPOINT_RESTORE in the
 * pid namespace that procfd shows, which a container does not have over
 * the host's.
 *
 * pidfd_open() takes pids of our own pid namespace: procfd must be a proc
 * of that namespace (a sidecar needs hostPID to act on the host). */
int gd_act_open_victim(int procfd, const gd_victim *v, int *ret_pidfd) {
        char path[PATH_MAX], placed[PATH_MAX];
        const char *where = path;
        uint64_t start_time;
        int pidfd, r;

        if (!v || v->pid <= 0 || !ret_pidfd || v->cgroup[0] != '/')
                return -EINVAL;
        pidfd = pidfd_open(v->pid, 0);
        if (pidfd < 0)
                return -errno; /* ESRCH: gone; EINVAL: not a process (a thread id) */
        /* The kernel makes every pidfd O_CLOEXEC already; the contract
         * promises it, so it does not rest on that alone (one syscall). */
        if (fcntl(pidfd, F_SETFD, FD_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }

        r = proc_read_start_time(procfd, v->pid, &start_time);
        if (r < 0)
                goto fail; /* -ESRCH when gone, as proc.h promises */
        if (start_time != v->start_time) {
                r = -ESTALE;
                goto fail;
        }
        /* A zombie is still there to read but has already freed its
         * memory: killing it achieves nothing, so it counts as gone. */
        r = gd_act_exited(pidfd);
        if (r != 0) {
                r = r > 0 ? -ESRCH : r;
                goto fail;
        }
        r = proc_read_cgroup(procfd, v->pid, path, sizeof(path));
        if (r < 0)
                goto fail;
        /* Placed in the tree, or it is somewhere outside it: then it is not
         * in the cgroup, never a match by accident. */
        if (v->ns_root && *v->ns_root) {
                if (cg_path_from_ns(v->ns_root, path, placed, sizeof(placed)) < 0) {
                        r = -EXDEV;
                        goto fail;
                }
                where = placed;
        }
        if (!act_cgroup_holds(v->cgroup, where)) {
                r = -EXDEV;
                goto fail;
        }
        *ret_pidfd = pidfd;
        return 0;
fail:
        close(pidfd);
        return r;
}

int gd_act_signal(int pidfd, int sig) {
        /* The kernel accepts signals for a zombie and drops them: say it
         * has exited, as for one already reaped. */
        int r = gd_act_exited(pidfd);

        if (r != 0)
                return r > 0 ? -ESRCH : r;
        if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
                return -errno;
        return 0;
}

int gd_act_exited(int pidfd) {
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        int r;

        do
                r = poll(&p, 1, 0);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        if (r == 0)
                return 0;
        if (p.revents & POLLNVAL)
                return -EBADF;
        /* POLLIN once it has exited (a zombie too); newer kernels add
         * POLLHUP once it is reaped. */
        return (p.revents & (POLLIN | POLLHUP)) ? 1 : 0;
}

/* ---- the reaper ---- */

/* Kills come one per cgroup and cooldown: 64 waiting releases means the
 * thread is far behind, and skipping the early release only costs time. */
#define REAPER_QUEUE 64
/* The thread only waits on a condition and makes two system calls (a few
 * hundred bytes of stack); its stack is locked and resident like all of
 * guardian's memory, so not glibc's default 8 MiB. Room is left for the
 * sanitizers' reports, which run on the thread's own stack. */
#define REAPER_STACK_BYTES (128u << 10)

struct gd_reaper {
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t wake;
        /* Below, all under lock. */
        int queue[REAPER_QUEUE]; /* ring of dup'ed pidfds */
        size_t head, count;
        bool stopping;
        uint64_t released, failed;
};

/* Everything but the thread: tests/unit/test_act.c uses it to fill the
 * queue with no thread draining it. */
static int reaper_init(gd_reaper *reaper) {
        int r;

        memset(reaper, 0, sizeof(*reaper));
        r = pthread_mutex_init(&reaper->lock, NULL);
        if (r != 0)
                return -r;
        r = pthread_cond_init(&reaper->wake, NULL);
        if (r != 0) {
                pthread_mutex_destroy(&reaper->lock);
                return -r;
        }
        return 0;
}

static void reaper_destroy(gd_reaper *reaper) {
        /* Whatever is still queued (only when there was no thread). */
        for (size_t i = 0; i < reaper->count; i++)
                close(reaper->queue[(reaper->head + i) % REAPER_QUEUE]);
        pthread_cond_destroy(&reaper->wake);
        pthread_mutex_destroy(&reaper->lock);
}

static void *reaper_main(void *arg) {
        gd_reaper *reaper = arg;

        pthread_mutex_lock(&reaper->lock);
        for (;;) {
                int fd, r;

                while (reaper->count == 0 && !reaper->stopping)
                        pthread_cond_wait(&reaper->wake, &reaper->lock);
                if (reaper->count == 0)
                        break; /* stopping, and all is done */
                fd = reaper->queue[reaper->head];
                reaper->head = (reaper->head + 1) % REAPER_QUEUE;
                reaper->count--;
                /* The slow part runs unlocked, so submit never waits on it. */
                pthread_mutex_unlock(&reaper->lock);
                /* 0: the memory is back. ESRCH: the victim's own exit got
                 * to exit_mm() first, which detaches the mm before freeing
                 * it (the usual outcome when the victim has a CPU: the
                 * release matters when it is starved or stuck). EINVAL:
                 * not killed, or the mm is shared with a live process.
                 * EINTR/EAGAIN: the kernel gave up. None of these harm:
                 * the exit frees the memory anyway. */
                r = process_mrelease(fd, 0);
                close(fd);
                pthread_mutex_lock(&reaper->lock);
                if (r == 0)
                        reaper->released++;
                else
                        reaper->failed++;
        }
        pthread_mutex_unlock(&reaper->lock);
        return NULL;
}

int gd_reaper_start(gd_reaper **ret_reaper) {
        sigset_t all, old;
        pthread_attr_t attr;
        gd_reaper *reaper;
        int r, r2 = 0;

        if (!ret_reaper)
                return -EINVAL;
        reaper = malloc(sizeof(*reaper));
        if (!reaper)
                return -ENOMEM;
        r = reaper_init(reaper);
        if (r < 0) {
                free(reaper);
                return r;
        }
        /* The thread inherits this mask: with every signal blocked there, the
         * kernel delivers process signals to the main thread, whose signalfd
         * must see them all. */
        sigfillset(&all);
        r = pthread_attr_init(&attr);
        if (r == 0) {
                r = pthread_attr_setstacksize(&attr, REAPER_STACK_BYTES);
                if (r == 0)
                        r = pthread_sigmask(SIG_SETMASK, &all, &old);
                if (r == 0) {
                        r = pthread_create(&reaper->thread, &attr, reaper_main, reaper);
                        r2 = pthread_sigmask(SIG_SETMASK, &old, NULL);
                }
                pthread_attr_destroy(&attr);
                if (r == 0 && r2 != 0) {
                        /* Cannot happen with a mask pthread_sigmask gave us;
                         * leaving every signal blocked would be worse. */
                        gd_reaper_stop(reaper);
                        return -r2;
                }
        }
        if (r != 0) {
                reaper_destroy(reaper);
                free(reaper);
                return -r;
        }
        *ret_reaper = reaper;
        return 0;
}

int gd_reaper_submit(gd_reaper *reaper, int pidfd) {
        int fd, r = 0;

        if (!reaper)
                return -EINVAL;
        /* Our own copy: the caller closes its pidfd when it likes. */
        fd = fcntl(pidfd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        pthread_mutex_lock(&reaper->lock);
        if (reaper->count == REAPER_QUEUE || reaper->stopping)
                r = -EAGAIN;
        else {
                reaper->queue[(reaper->head + reaper->count) % REAPER_QUEUE] = fd;
                reaper->count++;
                pthread_cond_signal(&reaper->wake);
        }
        pthread_mutex_unlock(&reaper->lock);
        if (r < 0)
                close(fd);
        return r;
}

void gd_reaper_counts(gd_reaper *reaper, uint64_t *ret_released, uint64_t *ret_failed) {
        uint64_t released = 0, failed = 0;

        if (reaper) {
                pthread_mutex_lock(&reaper->lock);
                released = reaper->released;
                failed = reaper->failed;
                pthread_mutex_unlock(&reaper->lock);
        }
        if (ret_released)
                *ret_released = released;
        if (ret_failed)
                *ret_failed = failed;
}

void gd_reaper_stop(gd_reaper *reaper) {
        if (!reaper)
                return;
        pthread_mutex_lock(&reaper->lock);
        reaper->stopping = true;
        pthread_cond_signal(&reaper->wake);
        pthread_mutex_unlock(&reaper->lock);
        pthread_join(reaper->thread, NULL);
        reaper_destroy(reaper);
        free(reaper);
}
