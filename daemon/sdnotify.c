#include "daemon/sdnotify.h"
#include "util/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Room for READY=1 and a STATUS line; systemd takes datagrams far larger. */
#define MSG_MAX 512

int gd_sdnotify_addr(const char *value, struct sockaddr_un *ret_addr, socklen_t *ret_len) {
        struct sockaddr_un a;

        if (!value || (value[0] != '/' && value[0] != '@')) {
                if (value && strncmp(value, "vsock:", 6) == 0)
                        return -EAFNOSUPPORT;
                return -EINVAL;
        }
        size_t len = strlen(value);
        if (len < 2)
                return -EINVAL;
        /* A path needs its NUL inside sun_path; an abstract name does not
         * (its length says where it ends). */
        if (value[0] == '/' ? len >= sizeof(a.sun_path) : len > sizeof(a.sun_path))
                return -ENAMETOOLONG;
        memset(&a, 0, sizeof(a));
        a.sun_family = AF_UNIX;
        memcpy(a.sun_path, value, len);
        if (value[0] == '@')
                a.sun_path[0] = '\0';
        *ret_addr = a;
        *ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
                               (value[0] == '/' ? 1 : 0));
        return 0;
}

/* A decimal number with nothing after it, or -1. */
static int parse_u64(const char *s, uint64_t *ret) {
        char *end;

        if (!s || *s < '0' || *s > '9')
                return -1;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
                return -1;
        *ret = v;
        return 0;
}

uint64_t gd_sdnotify_watchdog_for(const char *usec, const char *pid, pid_t self) {
        uint64_t interval, who;

        if (parse_u64(usec, &interval) < 0 || interval == 0)
                return 0;
        /* WATCHDOG_PID set: the watchdog is for that process only (a
         * wrapper that execs us passes it on; a parent's is not ours). */
        if (pid && (parse_u64(pid, &who) < 0 || who != (uint64_t)self))
                return 0;
        return interval;
}

int gd_sdnotify_open(gd_sdnotify *ret) {
        struct sockaddr_un addr;
        socklen_t len;
        gd_sdnotify n = {.fd = -1};
        int r = 0;

        const char *sock = getenv("NOTIFY_SOCKET");
        uint64_t wd = gd_sdnotify_watchdog_for(getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"),
                                               getpid());
        if (sock) {
                r = gd_sdnotify_addr(sock, &addr, &len);
                if (r == 0) {
                        n.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                        if (n.fd < 0 || connect(n.fd, (struct sockaddr *)&addr, len) < 0) {
                                r = -errno;
                                if (n.fd >= 0)
                                        close(n.fd);
                                n.fd = -1;
                        } else {
                                r = 1;
                                n.watchdog_usec = wd;
                        }
                }
        }
        /* After getenv: sock points into the environment we now drop. */
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
        *ret = n;
        return r;
}

int gd_sdnotify_send(const gd_sdnotify *n, const char *msg) {
        if (n->fd < 0)
                return 0;
        /* send(2) is sendto(2) on the connected socket; MSG_DONTWAIT as
         * well as O_NONBLOCK: a wedged manager must never stall the loop. */
        if (send(n->fd, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                return -errno;
        return 0;
}

int gd_sdnotify_ready(const gd_sdnotify *n, const char *status) {
        char msg[MSG_MAX];

        if (!status)
                return gd_sdnotify_send(n, "READY=1");
        snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
        return gd_sdnotify_send(n, msg);
}

int gd_sdnotify_reloading(const gd_sdnotify *n) {
        char msg[MSG_MAX];

        if (n->fd < 0)
                return 0;
        snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, gd_now_ns() / 1000u);
        return gd_sdnotify_send(n, msg);
}

int gd_sdnotify_stopping(const gd_sdnotify *n) {
        return gd_sdnotify_send(n, "STOPPING=1");
}

uint64_t gd_sdnotify_ping_every(const gd_sdnotify *n) {
        return n->fd >= 0 ? n->watchdog_usec / 4 : 0;
}

int gd_sdnotify_watchdog(gd_sdnotify *n, uint64_t now_usec) {
        uint64_t every = gd_sdnotify_ping_every(n);

        if (every == 0)
                return 0;
        /* Slack of a tenth: a timer due every `every` fires a hair early. */
        if (n->last_ping_usec && now_usec - n->last_ping_usec < every - every / 10)
                return 0;
        int r = gd_sdnotify_send(n, "WATCHDOG=1");
        if (r < 0)
                return r;
        n->last_ping_usec = now_usec;
        return 1;
}

void gd_sdnotify_close(gd_sdnotify *n) {
        if (n->fd >= 0)
                close(n->fd);
        n->fd = -1;
        n->watchdog_usec = 0;
}
