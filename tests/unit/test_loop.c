/* The event loop (daemon/loop.c): each kind of tag reaches the handler its
 * source registered and no other; the sources marked last run after all
 * the others of the same wake-up, their wake-up hook first; a handler can
 * stop the loop mid-batch; a real epoll set with real eventfds. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/loop.h"

/* What happened, in order: "h<kind>@<now>" for a handler, "w<kind>" for a
 * wake-up hook. */
static char trace[512];
static uint64_t fake_now;
static int stop_on_kind;

static void note(const char *what) {
        strncat(trace, what, sizeof(trace) - strlen(trace) - 1);
        strncat(trace, " ", sizeof(trace) - strlen(trace) - 1);
}

static uint64_t clock_ms(void) { return fake_now += 10; }
static uint64_t clock_ns(void) { return 0; }

static bool handle(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        char buf[32];
        snprintf(buf, sizeof(buf), "h%d.%u@%llu", (int)gd_tag_kind_of(tag), gd_tag_slot(tag),
                 (unsigned long long)now);
        note(buf);
        return (int)gd_tag_kind_of(tag) == stop_on_kind;
}

static void wakeup(void *userdata) {
        char buf[16];
        snprintf(buf, sizeof(buf), "w%d", *(int *)userdata);
        note(buf);
}


static gd_loop loop;
static int listen_kind = GD_TAG_CONTROL_LISTEN, conn_kind = GD_TAG_CONTROL_CONN;

static void setup(void) {
        trace[0] = 0;
        fake_now = 0;
        stop_on_kind = -1;
        gd_loop_init(&loop, -1);
        loop.now_ms = clock_ms;
        loop.now_ns = clock_ns;
}

TestSuite(loop, .init = setup);

static struct epoll_event ev(gd_tag_kind kind, uint32_t slot) {
        return (struct epoll_event){.events = EPOLLIN, .data.u64 = gd_tag(kind, slot, 1)};
}

Test(loop, a_kind_has_one_handler_and_kinds_are_checked) {
        gd_loop_source s = {.handle = handle};
        cr_assert_eq(gd_loop_on(&loop, GD_TAG_TIMER, &s), 0);
        cr_assert_eq(gd_loop_on(&loop, GD_TAG_TIMER, &s), -EEXIST);
        cr_assert_eq(gd_loop_on(&loop, 0, &s), -EINVAL);
        cr_assert_eq(gd_loop_on(&loop, GD_TAG_KINDS, &s), -EINVAL);
        cr_assert_eq(gd_loop_on(&loop, (gd_tag_kind)-1, &s), -EINVAL);
        cr_assert_eq(gd_loop_on(&loop, GD_TAG_SIGNAL, &(gd_loop_source){0}), -EINVAL);
        cr_assert_eq(gd_loop_on(&loop, GD_TAG_SIGNAL, NULL), -EINVAL);
}

Test(loop, each_event_reaches_its_kinds_handler_and_unknown_kinds_are_dropped) {
        gd_loop_on(&loop, GD_TAG_TIMER, &(gd_loop_source){.handle = handle});
        gd_loop_on(&loop, GD_TAG_EVENTS, &(gd_loop_source){.handle = handle});
        struct epoll_event batch[] = {
                ev(GD_TAG_EVENTS, 4), ev(GD_TAG_POLICY, 0), /* no handler */
                ev(GD_TAG_TIMER, 0), {.data.u64 = 0},        /* kind 0 */
                {.data.u64 = (uint64_t)0xff << 56},          /* out of range */
                ev(GD_TAG_EVENTS, 9),
        };
        cr_assert_not(gd_loop_dispatch(&loop, batch, 6));
        cr_assert_str_eq(trace, "h4.4@10 h2.0@10 h4.9@10 ");
}

Test(loop, clients_come_last_after_their_wakeup_with_a_fresh_now) {
        gd_loop_on(&loop, GD_TAG_PIDFD, &(gd_loop_source){.handle = handle});
        gd_loop_on(&loop, GD_TAG_EVENTS, &(gd_loop_source){.handle = handle});
        gd_loop_on(&loop, GD_TAG_CONTROL_LISTEN, &(gd_loop_source){
                .handle = handle, .wakeup = wakeup, .userdata = &listen_kind, .last = true});
        gd_loop_on(&loop, GD_TAG_CONTROL_CONN, &(gd_loop_source){
                .handle = handle, .wakeup = wakeup, .userdata = &conn_kind, .last = true});
        struct epoll_event batch[] = {
                ev(GD_TAG_CONTROL_CONN, 2), ev(GD_TAG_CONTROL_CONN, 3), ev(GD_TAG_PIDFD, 1),
                ev(GD_TAG_CONTROL_LISTEN, 0), ev(GD_TAG_EVENTS, 5),
        };
        cr_assert_not(gd_loop_dispatch(&loop, batch, 5));
        /* One wake-up per kind, both before any client is handled. */
        cr_assert_str_eq(trace, "h7.1@10 h4.5@10 w10 w9 h10.2@20 h10.3@20 h9.0@20 ");
}

Test(loop, a_batch_without_clients_wakes_no_client_source) {
        gd_loop_on(&loop, GD_TAG_TIMER, &(gd_loop_source){.handle = handle});
        gd_loop_on(&loop, GD_TAG_CONTROL_CONN, &(gd_loop_source){
                .handle = handle, .wakeup = wakeup, .userdata = &conn_kind, .last = true});
        struct epoll_event batch[] = {ev(GD_TAG_TIMER, 0)};
        gd_loop_dispatch(&loop, batch, 1);
        cr_assert_str_eq(trace, "h2.0@10 ");
}

Test(loop, a_handler_stops_the_loop_mid_batch) {
        gd_loop_on(&loop, GD_TAG_SIGNAL, &(gd_loop_source){.handle = handle});
        gd_loop_on(&loop, GD_TAG_TIMER, &(gd_loop_source){.handle = handle});
        gd_loop_on(&loop, GD_TAG_CONTROL_CONN, &(gd_loop_source){.handle = handle, .last = true});
        stop_on_kind = GD_TAG_SIGNAL;
        struct epoll_event batch[] = {ev(GD_TAG_TIMER, 0), ev(GD_TAG_SIGNAL, 0),
                                      ev(GD_TAG_TIMER, 1), ev(GD_TAG_CONTROL_CONN, 0)};
        cr_assert(gd_loop_dispatch(&loop, batch, 4));
        cr_assert_str_eq(trace, "h2.0@10 h1.0@10 ");
}

/* A real epoll set with two eventfds: slot 0 is written first; the hook
 * after that wake-up writes slot 1, whose handler stops the loop. */
static int efds[2];
static bool drain(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        uint64_t v;
        cr_assert_eq(read(efds[gd_tag_slot(tag)], &v, sizeof(v)), (ssize_t)sizeof(v));
        note(gd_tag_slot(tag) == 1 ? "stop" : "drained");
        return gd_tag_slot(tag) == 1;
}

static void after_write(void *userdata, uint64_t cost_ns) {
        uint64_t one = 1;
        note("a");
        cr_assert_eq(write(efds[1], &one, sizeof(one)), (ssize_t)sizeof(one));
}

Test(loop, runs_on_a_real_epoll_set_until_a_handler_stops_it) {
        int epfd = epoll_create1(EPOLL_CLOEXEC);
        cr_assert(epfd >= 0);
        for (uint32_t i = 0; i < 2; i++) {
                efds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                cr_assert(efds[i] >= 0);
                struct epoll_event e = {.events = EPOLLIN, .data.u64 = gd_tag(GD_TAG_TIMER, i, 0)};
                cr_assert_eq(epoll_ctl(epfd, EPOLL_CTL_ADD, efds[i], &e), 0);
        }
        gd_loop_init(&loop, epfd);
        gd_loop_on(&loop, GD_TAG_TIMER, &(gd_loop_source){.handle = drain});
        loop.after = after_write;
        uint64_t one = 1;
        cr_assert_eq(write(efds[0], &one, sizeof(one)), (ssize_t)sizeof(one));
        cr_assert_eq(gd_loop_run(&loop), 0);
        /* No after hook once a handler stopped the loop. */
        cr_assert_str_eq(trace, "drained a stop ");
        close(efds[0]);
        close(efds[1]);
        close(epfd);
}

Test(loop, a_failed_wait_is_returned_as_negative_errno) {
        int fd = eventfd(0, EFD_CLOEXEC); /* not an epoll fd */
        gd_loop_init(&loop, fd);
        cr_assert_eq(gd_loop_run(&loop), -EINVAL);
        close(fd);
        gd_loop_init(&loop, -1);
        cr_assert_eq(gd_loop_run(&loop), -EBADF);
}
