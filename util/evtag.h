/* The tag on every epoll registration: the kind of source, a slot within
 * it and the slot's generation, packed in epoll_event.data.u64. A source
 * that reuses slots (a removed cgroup, a closed client, a finished kill)
 * bumps the generation, so a wake-up left over for the slot's previous
 * owner is recognised and dropped. The event loop (daemon/loop.h) hands
 * each kind to the handler its source registered; nothing else switches
 * on kinds. */
#pragma once

#include <stdint.h>

typedef enum gd_tag_kind {
        GD_TAG_SIGNAL = 1,
        GD_TAG_TIMER,
        GD_TAG_INOTIFY,
        GD_TAG_EVENTS,    /* memory.events changed (EPOLLPRI) */
        GD_TAG_PRESSURE,  /* a PSI trigger fired (EPOLLPRI) */
        GD_TAG_HOST_PSI,  /* the host's PSI trigger fired */
        GD_TAG_PIDFD,     /* a victim exited */
        GD_TAG_POLICY,    /* the policy file or directory changed */
        GD_TAG_CONTROL_LISTEN, /* a client at a control listener (slot 0: Unix, 1: TCP) */
        GD_TAG_CONTROL_CONN,   /* a control client can be read or written */
        GD_TAG_KINDS,     /* the number of kinds, 0 included: not a kind */
} gd_tag_kind;

/* Slots are 24 bits (16M): more than any fd budget lets a source hold. */
static inline uint64_t gd_tag(gd_tag_kind kind, uint32_t slot, uint32_t generation) {
        return (uint64_t)kind << 56 | (uint64_t)(slot & 0xffffff) << 32 | generation;
}
static inline gd_tag_kind gd_tag_kind_of(uint64_t tag) { return (gd_tag_kind)(tag >> 56); }
static inline uint32_t gd_tag_slot(uint64_t tag) { return (uint32_t)(tag >> 32) & 0xffffff; }
static inline uint32_t gd_tag_generation(uint64_t tag) { return (uint32_t)tag; }
