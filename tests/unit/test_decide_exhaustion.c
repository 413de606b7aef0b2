/* The host squeeze by time to exhaustion (decide.c check_exhaustion), fed
 * literal samples of the host as the daemon makes them (memory.max: RAM +
 * swap, memory.current: all of it but MemAvailable, all unreclaimable),
 * every 100 ms as the fast tick takes them: the squeeze of the benchmark's
 * S2 shape is caught as free memory crosses 10%, a host that sits steady
 * at 90-95% used is never killed on, and the trend forgets a climb that
 * stopped. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "decide/decide.h"

enum { MIB = 1 << 20, STEP_MS = 100 };
static const uint64_t TOTAL = 1000ULL * MIB;
static gd_thresholds t;
static gd_cgroup_state st;

static void setup(void) {
        gd_thresholds_default(&t);
        t.exhaustion_free_ratio = 0.10;
        t.exhaustion_horizon_ms = 5000;
        t.near_limit_ratio = 2.0; /* only the trigger under test fires */
        t.pressure_some = t.pressure_full = 2.0;
        memset(&st, 0, sizeof(st));
}

TestSuite(decide_exhaustion, .init = setup);

static gd_decision feed(uint64_t at, uint64_t used) {
        gd_sample s;
        memset(&s, 0, sizeof(s));
        s.at_ms = at;
        s.memory_ok = s.current_ok = s.max_ok = s.stat_ok = true;
        s.current = used;
        s.max = TOTAL;
        s.high = UINT64_MAX;
        return gd_decide(&t, &st, &s, at);
}

/* S2: no limits, a 400 MiB database, a hog adding 50 MiB/s from 500 MiB. */
Test(decide_exhaustion, the_squeeze_is_caught_as_free_memory_crosses_ten_percent) {
        uint64_t at = 1000, used = 900ULL * MIB - 5ULL * MIB * 100;
        gd_decision d = {0};
        for (int i = 0; i < 200 && d.action == POL_ACTION_NONE; i++, at += STEP_MS) {
                used += 5ULL * MIB; /* 50 MiB/s */
                d = feed(at, used);
        }
        cr_assert_eq(d.action, POL_ACTION_KILL_PROCESS);
        cr_assert_eq(d.trigger, GD_TRIGGER_NEAR_LIMIT);
        uint64_t free = TOTAL - used;
        cr_assert_lt(free, TOTAL / 10, "not before it crosses 10%%");
        cr_assert_geq(free, TOTAL / 10 - 5ULL * MIB, "on the first sample past it: %llu MiB",
                      (unsigned long long)(free / MIB));
        cr_assert_float_eq(st.rate_bps, 50.0 * MIB, 1.0 * MIB, "the trend is the hog's rate");
        cr_assert(strstr(d.reason, "falling") && strstr(d.reason, "gone in"), "%s", d.reason);
}

/* A host that sits as full as 90-95%: its use swings between them and back
 * every 20 s with jitter both ways on every tick, and it wanders as
 * a random walk between them. Never a kill, over a minute of fast ticks. */
Test(decide_exhaustion, a_host_steady_at_ninety_to_ninety_five_percent_is_left_alone) {
        uint64_t at = 1000, seed = 12345;
        for (int i = 0; i < 600; i++, at += STEP_MS) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                double jitter = (double)((seed >> 33) % (2 * MIB)) - MIB;
                /* Up 50 MiB in 10 s, down again: 5 MiB/s either way. */
                int phase = i % 200;
                double swing = 50.0 * MIB * (phase < 100 ? phase : 200 - phase) / 100.0;
                uint64_t used = (uint64_t)(900.0 * MIB + swing + jitter);
                gd_decision d = feed(at, used);
                cr_assert_eq(d.action, POL_ACTION_NONE, "tick %d at %llu MiB used: %s", i,
                             (unsigned long long)(used / MIB), d.reason);
        }
        memset(&st, 0, sizeof(st));
        double used = 925.0 * MIB;
        for (int i = 0; i < 600; i++, at += STEP_MS) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                used += (double)((seed >> 33) % (4 * MIB)) - 2.0 * MIB;
                used = used < 900.0 * MIB ? 1800.0 * MIB - used
                       : used > 950.0 * MIB ? 1900.0 * MIB - used : used;
                gd_decision d = feed(at, (uint64_t)used);
                cr_assert_eq(d.action, POL_ACTION_NONE, "walk tick %d at %.0f MiB used: %s", i,
                             used / MIB, d.reason);
        }
}

/* The same host slowly filling (2 MiB/s at 95%: 25 s left) is not a squeeze
 * either; at 99% with the same trend (5 s left) it is. */
Test(decide_exhaustion, a_slow_climb_is_a_squeeze_only_when_it_is_about_to_end) {
        uint64_t at = 1000, used = 940ULL * MIB;
        gd_decision d = {0};
        for (int i = 0; i < 100; i++, at += STEP_MS) {
                used += MIB / 5;
                d = feed(at, used);
                cr_assert_eq(d.action, POL_ACTION_NONE, "at %llu MiB", (unsigned long long)(used / MIB));
        }
        used = 991ULL * MIB;
        for (int i = 0; i < 5; i++, at += STEP_MS) {
                used += MIB / 5;
                d = feed(at, used);
        }
        cr_assert_eq(d.action, POL_ACTION_KILL_PROCESS, "%s", d.reason);
}

/* A climb that stopped: within a second or two the trend forgets it. */
Test(decide_exhaustion, the_trend_forgets_a_climb_that_stopped) {
        uint64_t at = 1000, used = 700ULL * MIB;
        for (int i = 0; i < 20; i++, at += STEP_MS) {
                used += 5ULL * MIB;
                feed(at, used);
        }
        cr_assert_gt(st.rate_bps, 40.0 * MIB);
        for (int i = 0; i < 30; i++, at += STEP_MS)
                feed(at, used);
        cr_assert_lt(st.rate_bps, 3.0 * MIB, "%f", st.rate_bps);
        cr_assert_eq(feed(at, used).action, POL_ACTION_NONE);
}

/* Off (the cgroups' thresholds): never fires, however close and fast. */
Test(decide_exhaustion, off_unless_asked_for) {
        t.exhaustion_free_ratio = 0;
        uint64_t at = 1000, used = 800ULL * MIB;
        for (int i = 0; i < 30; i++, at += STEP_MS) {
                used += 6ULL * MIB;
                cr_assert_eq(feed(at, used).action, POL_ACTION_NONE);
        }
}
