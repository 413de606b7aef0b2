/* The clocks, read only at the edges: the loop reads now once and passes
 * it down; logic takes now as an argument. */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds: intervals, deadlines, sustain windows. */
uint64_t gd_now_ms(void);

/* CLOCK_MONOTONIC in nanoseconds: the loop's own cost (metrics). */
uint64_t gd_now_ns(void);

/* CLOCK_REALTIME in milliseconds since the epoch: timestamps for people. */
int64_t gd_wall_ms(void);
