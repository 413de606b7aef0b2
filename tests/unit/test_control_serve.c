/* The control socket in use: the render cache (renders counted through
 * the render function), the per-wake-up budgets on a real Unix socket, and
 * a metrics port taken at start that is bound once it is free. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/control.h"

/* What the fake daemon renders: a counter in the text, so a render shows. */
typedef struct fake {
        unsigned renders;
        uint64_t generation;
        size_t size;   /* body bytes; 0: a short line */
        int fail;      /* negative errno to return */
} fake;

static int fake_render(void *userdata, gd_control_doc doc, char **ret_body, size_t *ret_len) {
        fake *f = userdata;

        if (f->fail)
                return f->fail;
        f->renders++;
        size_t len = f->size ? f->size : 64;
        char *body = malloc(len);
        cr_assert_not_null(body);
        memset(body, 'x', len);
        snprintf(body, len, "doc %d render %u\n", (int)doc, f->renders);
        body[strlen(body)] = 'x'; /* no NUL inside: the length says where it ends */
        *ret_body = body;
        *ret_len = len;
        return 0;
}

static uint64_t fake_generation(void *userdata) {
        return ((fake *)userdata)->generation;
}

static gd_control ctl; /* big: not on the stack */

/* Fetch doc at now in a fresh wake-up; returns the blob (a reference). */
static gd_control_blob *fetch(gd_control_doc doc, uint64_t now) {
        gd_control_blob *b = NULL;
        gd_control_wakeup(&ctl);
        cr_assert_eq(gd_control_document(&ctl, doc, now, &b), 0);
        cr_assert_not_null(b);
        return b;
}

Test(control_cache, same_period_serves_the_cached_bytes) {
        fake f = {0};
        gd_control_init(&ctl, -1, fake_render, fake_generation, &f);

        gd_control_blob *a = fetch(GD_DOC_METRICS, 10000);
        gd_control_blob *b = fetch(GD_DOC_METRICS, 10000 + GD_CONTROL_CACHE_MS - 1);
        cr_expect_eq(f.renders, 1, "rendered %u times", f.renders);
        cr_expect_eq(ctl.renders, 1);
        cr_expect_eq(a, b, "not the cached bytes");
        cr_expect(strncmp(b->data, "doc 2 render 1\n", 15) == 0, "%.20s", b->data);
        /* Another document is a render of its own. */
        gd_control_blob *s = fetch(GD_DOC_STATUS, 10000);
        cr_expect_eq(f.renders, 2);
        cr_expect(strncmp(s->data, "doc 0 render 2\n", 15) == 0);
        gd_control_blob_unref(a);
        gd_control_blob_unref(b);
        gd_control_blob_unref(s);
        gd_control_close(&ctl);
}

Test(control_cache, a_stale_cache_is_rendered_again) {
        fake f = {0};
        gd_control_init(&ctl, -1, fake_render, fake_generation, &f);

        gd_control_blob *a = fetch(GD_DOC_METRICS, 10000);
        gd_control_blob *b = fetch(GD_DOC_METRICS, 10000 + GD_CONTROL_CACHE_MS);
        cr_expect_eq(f.renders, 2, "rendered %u times", f.renders);
        cr_expect_neq(a, b);
        cr_expect(strncmp(b->data, "doc 2 render 2\n", 15) == 0, "%.20s", b->data);
        /* The old bytes stay whole for the client still writing them. */
        cr_expect(strncmp(a->data, "doc 2 render 1\n", 15) == 0);
        gd_control_blob_unref(a);
        gd_control_blob_unref(b);
        gd_control_close(&ctl);
}

Test(control_cache, a_new_generation_renders_again_but_not_within_the_minimum) {
        fake f = {0};
        gd_control_init(&ctl, -1, fake_render, fake_generation, &f);
        uint64_t t0 = 10000;

        gd_control_blob_unref(fetch(GD_DOC_STATUS_JSON, t0));
        f.generation++; /* a kill */
        gd_control_blob_unref(fetch(GD_DOC_STATUS_JSON, t0 + GD_CONTROL_CACHE_MIN_MS - 1));
        cr_expect_eq(f.renders, 1, "re-rendered within the minimum interval");
        gd_control_blob_unref(fetch(GD_DOC_STATUS_JSON, t0 + GD_CONTROL_CACHE_MIN_MS));
        cr_expect_eq(f.renders, 2, "the new generation was not rendered");
        /* The listener's own changes count too. */
        ctl.own_generation++;
        gd_control_blob_unref(fetch(GD_DOC_STATUS_JSON, t0 + 2 * GD_CONTROL_CACHE_MIN_MS));
        cr_expect_eq(f.renders, 3);
        gd_control_blob_unref(fetch(GD_DOC_STATUS_JSON, t0 + 3 * GD_CONTROL_CACHE_MIN_MS));
        cr_expect_eq(f.renders, 3, "same generation, young: cached");
        gd_control_close(&ctl);
}

Test(control_cache, one_render_per_wakeup) {
        fake f = {0};
        gd_control_blob *b = NULL;
        gd_control_init(&ctl, -1, fake_render, fake_generation, &f);

        gd_control_wakeup(&ctl);
        cr_assert_eq(gd_control_document(&ctl, GD_DOC_METRICS, 5000, &b), 0);
        gd_control_blob_unref(b);
        b = NULL;
        /* Cached: no render needed, served in the same wake-up. */
        cr_assert_eq(gd_control_document(&ctl, GD_DOC_METRICS, 5000, &b), 0);
        gd_control_blob_unref(b);
        b = NULL;
        cr_expect_eq(gd_control_document(&ctl, GD_DOC_STATUS, 5000, &b), -EAGAIN);
        cr_expect_null(b, "set on failure");
        cr_expect_eq(f.renders, 1);
        gd_control_wakeup(&ctl);
        cr_expect_eq(gd_control_document(&ctl, GD_DOC_STATUS, 5000, &b), 0);
        cr_expect_eq(f.renders, 2);
        gd_control_blob_unref(b);
        gd_control_close(&ctl);
}

Test(control_cache, a_failed_render_is_not_cached) {
        fake f = {.fail = -ENOMEM};
        gd_control_blob *b = NULL;
        gd_control_init(&ctl, -1, fake_render, fake_generation, &f);

        gd_control_wakeup(&ctl);
        cr_expect_eq(gd_control_document(&ctl, GD_DOC_METRICS, 5000, &b), -ENOMEM);
        cr_expect_null(b);
        f.fail = 0;
        gd_control_blob_unref(fetch(GD_DOC_METRICS, 5001));
        cr_expect_eq(f.renders, 1);
        gd_control_close(&ctl);
}

/* ---- on a real socket ---- */

static char dir[] = "/tmp/gd-control-test.XXXXXX";
static char sock_path[108];
static int epfd = -1;

static void sock_setup(void) {
        cr_assert_not_null(mkdtemp(dir));
        snprintf(sock_path, sizeof(sock_path), "%s/guardian.sock", dir);
        epfd = epoll_create1(EPOLL_CLOEXEC);
        cr_assert_geq(epfd, 0);
}

static void sock_teardown(void) {
        gd_control_close(&ctl);
        unlink(sock_path);
        rmdir(dir);
        close(epfd);
}

/* One loop wake-up as daemon.c runs it, waiting up to ms for events. */
static int wake(int ms) {
        struct epoll_event ev[32];
        int n = epoll_wait(epfd, ev, 32, ms);
        gd_control_wakeup(&ctl);
        for (int i = 0; i < n; i++)
                gd_control_handle(&ctl, ev[i].data.u64, ev[i].events, 1000);
        return n;
}

static int client(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(fd, 0);
        cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
        static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
        cr_assert_eq(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
        return fd;
}

static int queued(int fd) {
        int n = 0;
        cr_assert_eq(ioctl(fd, FIONREAD, &n), 0);
        return n;
}

/* Drive the loop and read everything fd gets until EOF. */
static size_t drain(int fd, char *last) {
        size_t total = 0;
        char buf[65536];

        for (int rounds = 0; rounds < 10000; rounds++) {
                wake(0);
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, 10) <= 0)
                        continue;
                ssize_t n = read(fd, buf, sizeof(buf));
                cr_assert_geq(n, 0);
                if (n == 0)
                        return total;
                total += (size_t)n;
                *last = buf[n - 1];
        }
        cr_assert_fail("no EOF");
        return 0;
}

TestSuite(control_socket, .init = sock_setup, .fini = sock_teardown);

Test(control_socket, budgets_per_wakeup_and_one_render_for_two_clients) {
        fake f = {.size = 1u << 20}; /* /metrics at a few thousand cgroups */
        cr_assert_eq(gd_control_open(&ctl, epfd, sock_path, NULL, fake_render, fake_generation,
                                     &f), 0);
        int a = client(sock_path), b = client(sock_path);

        /* Accept both, then read both requests: wake-ups until each client
         * has some of its answer. */
        for (int i = 0; i < 20 && (queued(a) == 0 || queued(b) == 0); i++)
                wake(100);
        cr_expect_eq(f.renders, 1, "two clients, one period: %u renders", f.renders);
        cr_expect_gt(queued(a), 0);
        cr_expect_leq(queued(a), (int)(GD_CONTROL_WRITE_BUDGET + sizeof(ctl.conns[0].head)),
                      "one wake-up wrote %d bytes to one client", queued(a));
        cr_expect_leq(queued(b), (int)(GD_CONTROL_WRITE_BUDGET + sizeof(ctl.conns[0].head)));

        char last = 0;
        size_t got = drain(a, &last);
        cr_expect_gt(got, f.size, "the whole answer: %zu", got);
        cr_expect_eq(last, 'x');
        got = drain(b, &last);
        cr_expect_gt(got, f.size);
        cr_expect_eq(f.renders, 1);
        close(a);
        close(b);
}

/* A loopback port nobody uses, held by a listening socket. */
static int hold_port(int *ret_port) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_geq(fd, 0);
        cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
        cr_assert_eq(listen(fd, 4), 0);
        cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

Test(control_socket, a_taken_metrics_port_is_retried_until_free) {
        fake f = {0};
        char addr[32];
        int port, holder = hold_port(&port);

        snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
        cr_assert_eq(gd_control_open(&ctl, epfd, sock_path, addr, fake_render, fake_generation,
                                     &f), 0, "a taken port must not stop the start");
        cr_expect_geq(ctl.unix_fd, 0, "the control socket is up");
        cr_expect_geq(ctl.tcp_fd, 0, "the socket is made before the sandbox");
        cr_expect_not(ctl.metrics.listening);
        cr_expect_eq(ctl.metrics.error, EADDRINUSE, "%s", strerror(ctl.metrics.error));
        cr_expect_eq(ctl.metrics.failed_attempts, 1);
        cr_expect_str_eq(ctl.metrics.address, addr);

        uint64_t t = ctl.metrics.retry_at_ms;
        cr_expect_eq(gd_control_metrics_retry(&ctl, t - 1), 0);
        cr_expect_eq(ctl.metrics.failed_attempts, 1, "retried before it was due");
        cr_expect_eq(gd_control_metrics_retry(&ctl, t), 0);
        cr_expect_eq(ctl.metrics.failed_attempts, 2);
        cr_expect_not(ctl.metrics.listening);

        close(holder);
        uint64_t gen = ctl.own_generation;
        cr_expect_eq(gd_control_metrics_retry(&ctl, t + GD_CONTROL_METRICS_RETRY_MS), 1);
        cr_expect(ctl.metrics.listening);
        cr_expect_eq(ctl.metrics.error, 0);
        cr_expect_gt(ctl.own_generation, gen, "status must show it at once");
        cr_expect_eq(gd_control_metrics_retry(&ctl, t + 10 * GD_CONTROL_METRICS_RETRY_MS), 0,
                     "nothing to do once it listens");

        /* And it serves /metrics there. */
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
        static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
        cr_assert_eq(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
        char last = 0;
        cr_expect_gt(drain(fd, &last), 64);
        cr_expect_eq(f.renders, 1);
        close(fd);
}

Test(control_socket, a_bad_metrics_address_still_stops_the_start) {
        fake f = {0};
        cr_expect_eq(gd_control_open(&ctl, epfd, "none", "10.1.2.3:9100", fake_render,
                                     fake_generation, &f), -EADDRNOTAVAIL);
        cr_expect_eq(gd_control_open(&ctl, epfd, "none", "127.0.0.1:0", fake_render,
                                     fake_generation, &f), -EINVAL);
        cr_expect_eq(ctl.tcp_fd, -1);
}
