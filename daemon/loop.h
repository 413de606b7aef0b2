/* The daemon's one event loop: an epoll set whose registrations carry a tag
 * (util/evtag.h), and one handler per kind of tag, registered by the
 * source that owns those fds. The loop knows no source: it reads the
 * clock once per wake-up, hands each event to its kind's handler, and
 * runs the sources marked "last" (the control socket's clients) after all
 * the others of the same wake-up, so that what the kernel reported (a
 * trigger, a victim's exit) is acted on before a client is answered. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "util/evtag.h"

/* Handle one event of the kind registered. Returns true to stop the loop
 * (gd_loop_run then returns 0 at once; the rest of the batch is dropped). */
typedef bool (*gd_loop_handler_fn)(void *userdata, uint64_t tag, uint32_t events,
                                   uint64_t now_ms);

typedef struct gd_loop_source {
        gd_loop_handler_fn handle;
        /* Optional: called once per wake-up that has events of this kind,
         * before the first of them (a per-wake-up budget is reset there). */
        void (*wakeup)(void *userdata);
        void *userdata;
        bool last;      /* after every other source's events of the wake-up */
} gd_loop_source;

/* Events taken from one epoll_wait: a wake-up's batch. */
#define GD_LOOP_BATCH 64

typedef struct gd_loop {
        int epfd;
        gd_loop_source sources[GD_TAG_KINDS];
        /* Called after every wake-up with the time it took (metrics). */
        void (*after)(void *userdata, uint64_t cost_ns);
        void *after_userdata;
        /* The clocks (util/clock.h); tests put their own. */
        uint64_t (*now_ms)(void);
        uint64_t (*now_ns)(void);
} gd_loop;

/* An empty loop on epfd (not owned), with the real clocks. */
void gd_loop_init(gd_loop *l, int epfd);

/* Give events tagged kind to src. Returns 0, -EINVAL for a kind out of
 * range or a source without a handler, -EEXIST when kind already has one. */
int gd_loop_on(gd_loop *l, gd_tag_kind kind, const gd_loop_source *src);

/* Hand a batch of n events to their handlers (an unregistered kind is
 * dropped), the sources marked last after the others, with now re-read
 * before them. Returns true when a handler stopped the loop. */
bool gd_loop_dispatch(gd_loop *l, const struct epoll_event *events, int n);

/* Wait and dispatch until a handler stops the loop: returns 0, or the
 * negative errno of a failed epoll_wait (EINTR is waited through). */
int gd_loop_run(gd_loop *l);
