/* Hooks, the daemon's side: starting the runner and sending to it without
 * ever blocking. The messages are policy/hookmsg.c's; the runner itself is
 * hookrunner/hookrunner.c. */
#include "record/hooks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"

/* The daemon's send buffer for the runner: room for a burst of kills. */
#define SOCK_BUF_BYTES (64 * 1024)

struct gd_hooks {
        int fd;                /* -1 once the runner is gone */
        pid_t pid;
        uint32_t generation;
        uint64_t sent, dropped;
};

int gd_hooks_start(void (*runner)(int sock, void *ctx), void *ctx, gd_hooks **ret_hooks) {
        int sv[2];
        gd_hooks *h = calloc(1, sizeof(*h));

        if (!h)
                return -ENOMEM;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                int r = -errno;
                free(h);
                return r;
        }
        int size = SOCK_BUF_BYTES;
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        /* Buffered lines would be written twice, once by each process. */
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                free(h);
                return r;
        }
        if (pid == 0) {
                close(sv[0]);
                runner(sv[1], ctx);
                _exit(127); /* runner never returns */
        }
        close(sv[1]);
        h->fd = sv[0];
        h->pid = pid;
        *ret_hooks = h;
        return 0;
}

void gd_hooks_policy_changed(gd_hooks *hooks) {
        if (hooks)
                hooks->generation++;
}

/* The runner is gone (its socket said so): say so, once. Not reaped
 * here: wait4 is not in the sandbox's allow-list, and a zombie until
 * guardian exits costs nothing. */
static void runner_gone(gd_hooks *h, int err) {
        gd_log(GD_LOG_ERR, "the hook runner (pid {pid}) is gone ({error}): hooks are off until "
                           "guardian restarts",
               GD_INT("pid", h->pid), GD_ERRNO(err));
        close(h->fd);
        h->fd = -1;
}

int gd_hooks_run(gd_hooks *hooks, const pol_policy *policy, const pol_workload *w,
                 const gd_hook_info *info) {
        char msg[GD_HOOKS_MSG_MAX];

        if (!hooks || !policy || !pol_effective_hook(policy, w, info->event == GD_HOOK_POST_KILL))
                return 0;
        const char *event = gd_hooks_event_name(info->event);
        if (hooks->fd < 0) {
                hooks->dropped++;
                return -EPIPE;
        }
        ssize_t len = gd_hooks_encode(info, hooks->generation, msg, sizeof(msg));
        if (len < 0) {
                hooks->dropped++;
                gd_log(GD_LOG_WARNING, "{event} hook for pid {pid} not run: {error}, ignoring",
                       GD_STR("event", event), GD_INT("pid", info->pid),
                       GD_ERRNO((int)-len));
                return (int)len;
        }
        if (send(hooks->fd, msg, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) == len) {
                hooks->sent++;
                return 1;
        }
        int r = -errno;
        hooks->dropped++;
        if (r == -EAGAIN || r == -EWOULDBLOCK || r == -ENOBUFS)
                gd_log(GD_LOG_WARNING, "{event} hook for pid {pid} dropped: the hook runner is "
                                       "behind ({dropped} dropped so far)",
                       GD_STR("event", event), GD_INT("pid", info->pid),
                       GD_UINT("dropped", hooks->dropped));
        else
                runner_gone(hooks, -r);
        return r;
}

void gd_hooks_counts(const gd_hooks *hooks, uint64_t *ret_sent, uint64_t *ret_dropped) {
        *ret_sent = hooks ? hooks->sent : 0;
        *ret_dropped = hooks ? hooks->dropped : 0;
}

void gd_hooks_stop(gd_hooks *hooks) {
        if (!hooks)
                return;
        if (hooks->fd >= 0)
                close(hooks->fd);
        free(hooks);
}
