/* The event loop (loop.h). */
#include "daemon/loop.h"

#include <errno.h>
#include <string.h>

#include "util/clock.h"

void gd_loop_init(gd_loop *l, int epfd) {
        memset(l, 0, sizeof(*l));
        l->epfd = epfd;
        l->now_ms = gd_now_ms;
        l->now_ns = gd_now_ns;
}

int gd_loop_on(gd_loop *l, gd_tag_kind kind, const gd_loop_source *src) {
        if ((int)kind <= 0 || kind >= GD_TAG_KINDS || !src || !src->handle)
                return -EINVAL;
        if (l->sources[kind].handle)
                return -EEXIST;
        l->sources[kind] = *src;
        return 0;
}

static const gd_loop_source *source_of(const gd_loop *l, uint64_t tag) {
        gd_tag_kind kind = gd_tag_kind_of(tag);
        if ((int)kind <= 0 || kind >= GD_TAG_KINDS || !l->sources[kind].handle)
                return NULL;
        return &l->sources[kind];
}

/* One phase of a batch: the sources with last == late. */
static bool dispatch_phase(gd_loop *l, const struct epoll_event *events, int n, bool late) {
        bool woken[GD_TAG_KINDS] = {false};
        bool any = false;

        for (int i = 0; i < n; i++) {
                const gd_loop_source *s = source_of(l, events[i].data.u64);
                if (!s || s->last != late)
                        continue;
                any = true;
                gd_tag_kind kind = gd_tag_kind_of(events[i].data.u64);
                if (s->wakeup && !woken[kind]) {
                        woken[kind] = true;
                        s->wakeup(s->userdata);
                }
        }
        if (!any)
                return false;
        /* The early phase's handlers may have taken a while (a kill). */
        uint64_t now = l->now_ms();
        for (int i = 0; i < n; i++) {
                const gd_loop_source *s = source_of(l, events[i].data.u64);
                if (s && s->last == late &&
                    s->handle(s->userdata, events[i].data.u64, events[i].events, now))
                        return true;
        }
        return false;
}

bool gd_loop_dispatch(gd_loop *l, const struct epoll_event *events, int n) {
        return dispatch_phase(l, events, n, false) || dispatch_phase(l, events, n, true);
}

int gd_loop_run(gd_loop *l) {
        struct epoll_event events[GD_LOOP_BATCH];

        for (;;) {
                int n = epoll_wait(l->epfd, events, GD_LOOP_BATCH, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                uint64_t t0 = l->now_ns();
                if (gd_loop_dispatch(l, events, n))
                        return 0;
                if (l->after)
                        l->after(l->after_userdata, l->now_ns() - t0);
        }
}
