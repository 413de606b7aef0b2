/* When to look at a watched cgroup next: idle work in proportion to the
 * cgroups that could be in trouble, not to all of them.
 *
 * The slow tick's light check (watch/sample.c) reads memory.current to see
 * a cgroup approach its memory.max before it gets there; between looks,
 * memory.events (a limit hit) and PSI wake guardian at once, whatever the
 * schedule. A cgroup far below its limit cannot reach the hot share of it
 * before the time the fastest plausible allocation needs to cross the gap,
 * so it is looked at no sooner; one without a limit of its own has no gap
 * to cross (its ancestors' limits and the host are looked at on their
 * own), and is looked at only every GD_LOOK_IDLE_MS. Pure. */
#pragma once

#include <stdint.h>

/* The shortest delay by default: the slow tick's (poll_interval's) own
 * default; the caller passes its tick. */
#define GD_LOOK_MIN_MS 1000
/* The longest: a cgroup without a limit, or one no plausible rate brings
 * near it sooner; keeps its usage and growth fresh enough for status and
 * for host-pressure blame (which looks at every cgroup each second once
 * the host is hot), and finds a limit set since within this long. */
#define GD_LOOK_IDLE_MS 30000
/* The fastest allocation assumed of a cgroup whose growth was not seen
 * faster: one thread faulting in 4 KiB pages reaches 2-4 GiB/s on current
 * x86 servers; more threads in one cgroup contend on its page counter. */
#define GD_LOOK_RATE_BPS (4ULL << 30)

/* The delay until the next light check of a cgroup using current bytes of
 * limit (memory.max; UINT64_MAX: none), seen growing at growth_bps bytes a
 * second: the time the faster of growth_bps and GD_LOOK_RATE_BPS takes to
 * bring it to hot_ratio of limit, within [min_ms, GD_LOOK_IDLE_MS] (min_ms:
 * the slow tick; 0 for GD_LOOK_MIN_MS). min_ms once it is there;
 * GD_LOOK_IDLE_MS without a limit. */
uint64_t gd_look_delay_ms(uint64_t current, uint64_t limit, double hot_ratio,
                          uint64_t growth_bps, uint64_t min_ms);
