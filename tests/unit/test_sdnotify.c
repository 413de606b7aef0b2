/* daemon/sdnotify.c: the sd_notify datagrams as a service manager receives
 * them, on a real socket in a temporary directory and in the abstract
 * namespace; the environment it reads and drops; the watchdog's rules. */
#include "daemon/sdnotify.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The manager's side: a bound datagram socket. */
typedef struct manager {
        int fd;
        char dir[64];
        char path[128];
} manager;

static void manager_bind(manager *m, const char *notify_socket) {
        struct sockaddr_un a;
        socklen_t len;

        cr_assert_eq(gd_sdnotify_addr(notify_socket, &a, &len), 0);
        m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(m->fd, 0);
        cr_assert_eq(bind(m->fd, (struct sockaddr *)&a, len), 0, "bind %s: %s", notify_socket,
                     strerror(errno));
}

static void manager_in_tmpdir(manager *m) {
        snprintf(m->dir, sizeof(m->dir), "/tmp/gd-sdnotify-XXXXXX");
        cr_assert_not_null(mkdtemp(m->dir));
        snprintf(m->path, sizeof(m->path), "%s/notify", m->dir);
        manager_bind(m, m->path);
}

static void manager_close(manager *m) {
        close(m->fd);
        if (m->dir[0]) {
                unlink(m->path);
                rmdir(m->dir);
        }
}

/* The next datagram, or "" when none comes within 1 s. */
static void manager_recv(manager *m, char *buf, size_t size) {
        struct pollfd p = {.fd = m->fd, .events = POLLIN};

        buf[0] = '\0';
        if (poll(&p, 1, 1000) != 1)
                return;
        ssize_t n = recv(m->fd, buf, size - 1, 0);
        cr_assert_geq(n, 0);
        buf[n] = '\0';
}

static bool manager_quiet(manager *m) {
        struct pollfd p = {.fd = m->fd, .events = POLLIN};
        return poll(&p, 1, 50) == 0;
}

Test(sdnotify, address_forms) {
        struct sockaddr_un a;
        socklen_t len = 0;

        cr_assert_eq(gd_sdnotify_addr("/run/systemd/notify", &a, &len), 0);
        cr_assert_eq(a.sun_family, AF_UNIX);
        cr_assert_str_eq(a.sun_path, "/run/systemd/notify");
        cr_assert_eq(len, offsetof(struct sockaddr_un, sun_path) + strlen("/run/systemd/notify") + 1);

        cr_assert_eq(gd_sdnotify_addr("@guardian/test", &a, &len), 0);
        cr_assert_eq(a.sun_path[0], '\0');
        cr_assert_eq(memcmp(a.sun_path + 1, "guardian/test", 13), 0);
        /* abstract: no trailing NUL counted, the length ends the name */
        cr_assert_eq(len, offsetof(struct sockaddr_un, sun_path) + 14);

        struct sockaddr_un untouched = {.sun_family = 1234};
        socklen_t ulen = 7;
        cr_assert_eq(gd_sdnotify_addr("relative/path", &untouched, &ulen), -EINVAL);
        cr_assert_eq(gd_sdnotify_addr("", &untouched, &ulen), -EINVAL);
        cr_assert_eq(gd_sdnotify_addr("@", &untouched, &ulen), -EINVAL);
        cr_assert_eq(gd_sdnotify_addr("vsock:2:1234", &untouched, &ulen), -EAFNOSUPPORT);
        char longpath[200];
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        cr_assert_eq(gd_sdnotify_addr(longpath, &untouched, &ulen), -ENAMETOOLONG);
        cr_assert_eq(untouched.sun_family, 1234);
        cr_assert_eq(ulen, 7);
}

Test(sdnotify, watchdog_for_whom) {
        cr_assert_eq(gd_sdnotify_watchdog_for("2000000", NULL, 42), 2000000);
        cr_assert_eq(gd_sdnotify_watchdog_for("2000000", "42", 42), 2000000);
        cr_assert_eq(gd_sdnotify_watchdog_for("2000000", "43", 42), 0, "another process's");
        cr_assert_eq(gd_sdnotify_watchdog_for("2000000", "4x", 42), 0);
        cr_assert_eq(gd_sdnotify_watchdog_for(NULL, "42", 42), 0);
        cr_assert_eq(gd_sdnotify_watchdog_for("0", NULL, 42), 0);
        cr_assert_eq(gd_sdnotify_watchdog_for("-5", NULL, 42), 0);
        cr_assert_eq(gd_sdnotify_watchdog_for("30s", NULL, 42), 0);
}

Test(sdnotify, messages_reach_the_manager) {
        manager m = {0};
        gd_sdnotify n;
        char buf[1024];

        manager_in_tmpdir(&m);
        setenv("NOTIFY_SOCKET", m.path, 1);
        setenv("WATCHDOG_USEC", "2000000", 1);
        setenv("WATCHDOG_PID", "1", 1); /* not us */
        cr_assert_eq(gd_sdnotify_open(&n), 1);
        cr_assert_null(getenv("NOTIFY_SOCKET"), "children must not inherit it");
        cr_assert_null(getenv("WATCHDOG_USEC"));
        cr_assert_null(getenv("WATCHDOG_PID"));
        cr_assert_eq(n.watchdog_usec, 0, "WATCHDOG_PID names another process");

        cr_assert_eq(gd_sdnotify_ready(&n, "watching 3 cgroups"), 0);
        manager_recv(&m, buf, sizeof(buf));
        cr_assert_str_eq(buf, "READY=1\nSTATUS=watching 3 cgroups");

        cr_assert_eq(gd_sdnotify_reloading(&n), 0);
        manager_recv(&m, buf, sizeof(buf));
        unsigned long long usec = 0;
        cr_assert_eq(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec), 1, "got '%s'", buf);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        unsigned long long now = (unsigned long long)ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
        cr_assert(usec > 0 && usec <= now && now - usec < 5000000, "%llu vs now %llu", usec, now);

        cr_assert_eq(gd_sdnotify_ready(&n, NULL), 0);
        manager_recv(&m, buf, sizeof(buf));
        cr_assert_str_eq(buf, "READY=1");

        cr_assert_eq(gd_sdnotify_watchdog(&n, 5000000), 0, "no watchdog for us: no ping");
        cr_assert(manager_quiet(&m));

        cr_assert_eq(gd_sdnotify_stopping(&n), 0);
        manager_recv(&m, buf, sizeof(buf));
        cr_assert_str_eq(buf, "STOPPING=1");
        gd_sdnotify_close(&n);
        cr_assert_eq(n.fd, -1);
        manager_close(&m);
}

Test(sdnotify, watchdog_pings_when_due) {
        manager m = {0};
        gd_sdnotify n;
        char buf[256];
        char pid[32];

        manager_in_tmpdir(&m);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        setenv("NOTIFY_SOCKET", m.path, 1);
        setenv("WATCHDOG_USEC", "2000000", 1);
        setenv("WATCHDOG_PID", pid, 1);
        cr_assert_eq(gd_sdnotify_open(&n), 1);
        cr_assert_eq(n.watchdog_usec, 2000000);
        cr_assert_eq(gd_sdnotify_ping_every(&n), 500000);

        cr_assert_eq(gd_sdnotify_watchdog(&n, 10000000), 1, "the first is always due");
        manager_recv(&m, buf, sizeof(buf));
        cr_assert_str_eq(buf, "WATCHDOG=1");
        cr_assert_eq(gd_sdnotify_watchdog(&n, 10100000), 0, "100 ms later: not yet");
        cr_assert(manager_quiet(&m));
        cr_assert_eq(gd_sdnotify_watchdog(&n, 10460000), 1, "460 ms: within the timer's slack");
        manager_recv(&m, buf, sizeof(buf));
        cr_assert_str_eq(buf, "WATCHDOG=1");
        gd_sdnotify_close(&n);
        cr_assert_eq(gd_sdnotify_watchdog(&n, 20000000), 0, "closed: nothing to feed");
        manager_close(&m);
}

Test(sdnotify, abstract_namespace) {
        manager m = {0};
        gd_sdnotify n;
        char name[64], buf[256];

        snprintf(name, sizeof(name), "@guardian-test-sdnotify-%d", (int)getpid());
        manager_bind(&m, name);
        setenv("NOTIFY_SOCKET", name, 1);
        unsetenv("WATCHDOG_USEC");
        cr_assert_eq(gd_sdnotify_open(&n), 1);
        cr_assert_eq(gd_sdnotify_ready(&n, "abstract"), 0);
        manager_recv(&m, buf, sizeof(buf));
        cr_assert_str_eq(buf, "READY=1\nSTATUS=abstract");
        gd_sdnotify_close(&n);
        manager_close(&m);
}

Test(sdnotify, no_manager_is_a_noop) {
        gd_sdnotify n;

        unsetenv("NOTIFY_SOCKET");
        setenv("WATCHDOG_USEC", "2000000", 1); /* without a socket: nobody to ping */
        cr_assert_eq(gd_sdnotify_open(&n), 0);
        cr_assert_eq(n.fd, -1);
        cr_assert_eq(n.watchdog_usec, 0);
        cr_assert_null(getenv("WATCHDOG_USEC"));
        cr_assert_eq(gd_sdnotify_ready(&n, "x"), 0);
        cr_assert_eq(gd_sdnotify_reloading(&n), 0);
        cr_assert_eq(gd_sdnotify_stopping(&n), 0);
        cr_assert_eq(gd_sdnotify_watchdog(&n, 1000000), 0);
        cr_assert_eq(gd_sdnotify_ping_every(&n), 0);
        gd_sdnotify_close(&n);
}

Test(sdnotify, unusable_socket_is_reported_and_dropped) {
        gd_sdnotify n;

        setenv("NOTIFY_SOCKET", "/nonexistent-dir/notify", 1);
        cr_assert_eq(gd_sdnotify_open(&n), -ENOENT);
        cr_assert_eq(n.fd, -1);
        cr_assert_null(getenv("NOTIFY_SOCKET"));
        cr_assert_eq(gd_sdnotify_ready(&n, NULL), 0, "then a no-op");

        setenv("NOTIFY_SOCKET", "not-absolute", 1);
        cr_assert_eq(gd_sdnotify_open(&n), -EINVAL);
        cr_assert_eq(n.fd, -1);
}
