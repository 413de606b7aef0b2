/* The decision, fed literal samples: defaults and names, and each trigger
 * (PSI share, limit, near limit, high, pressure) at its edges, plus data that
 * was not read never firing. The clock is just the at_ms/now_ms numbers
 * passed in; every sequence starts at 1000 ms and steps 1 s unless a test
 * says otherwise. Sizes use MAX = 1000 MiB so that 0.90 and 0.95 of it are
 * whole bytes and the edges can be hit exactly (tests/lib/decide_helpers.h). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "decide/decide.h"
#include "tests/lib/decide_helpers.h"

/* ---- defaults and names ---- */

TestSuite(decide_basics);

Test(decide_basics, default_thresholds) {
        gd_thresholds t = defaults();
        cr_assert_float_eq(t.limit_ratio, 0.90, 1e-12);
        cr_assert_float_eq(t.near_limit_ratio, 0.95, 1e-12);
        cr_assert_eq(t.high_sustain_ms, 2000);
        cr_assert_float_eq(t.pressure_some, 0.40, 1e-12);
        cr_assert_float_eq(t.pressure_full, 0.20, 1e-12);
        cr_assert_eq(t.pressure_sustain_ms, 5000);
        cr_assert_eq(t.cooldown_ms, 15000);
        cr_assert_eq(t.backoff_ms, 1000);
        cr_assert_eq(t.backoff_max_ms, 60000);
        /* Orders that the triggers rely on. */
        cr_assert_lt(t.limit_ratio, t.near_limit_ratio);
        cr_assert_lt(t.pressure_full, t.pressure_some);
        cr_assert_leq(t.backoff_ms, t.backoff_max_ms);
}

Test(decide_basics, names) {
        cr_assert_str_eq(gd_trigger_name(GD_TRIGGER_NONE), "none");
        cr_assert_str_eq(gd_trigger_name(GD_TRIGGER_LIMIT), "limit");
        cr_assert_str_eq(gd_trigger_name(GD_TRIGGER_NEAR_LIMIT), "near-limit");
        cr_assert_str_eq(gd_trigger_name(GD_TRIGGER_HIGH), "high");
        cr_assert_str_eq(gd_trigger_name(GD_TRIGGER_PRESSURE), "pressure");
        cr_assert_str_eq(gd_trigger_name(GD_TRIGGER_HOST_PRESSURE), "host-pressure");
        cr_assert_str_eq(gd_trigger_name((gd_trigger)99), "unknown");
}

/* The decided action as the workload's turns it: notify wins, a cgroup
 * kill either asks for wins next, no decision stays none. */
Test(decide_basics, route) {
        static const struct {
                pol_action decided, workload, want;
        } cases[] = {
                {POL_ACTION_NONE, POL_ACTION_NOTIFY, POL_ACTION_NONE},
                {POL_ACTION_NONE, POL_ACTION_KILL_CGROUP, POL_ACTION_NONE},
                {POL_ACTION_KILL_PROCESS, POL_ACTION_NONE, POL_ACTION_KILL_PROCESS},
                {POL_ACTION_KILL_PROCESS, POL_ACTION_KILL_PROCESS, POL_ACTION_KILL_PROCESS},
                {POL_ACTION_KILL_PROCESS, POL_ACTION_KILL_CGROUP, POL_ACTION_KILL_CGROUP},
                {POL_ACTION_KILL_PROCESS, POL_ACTION_NOTIFY, POL_ACTION_NOTIFY},
                {POL_ACTION_KILL_CGROUP, POL_ACTION_NONE, POL_ACTION_KILL_CGROUP},
                {POL_ACTION_KILL_CGROUP, POL_ACTION_KILL_PROCESS, POL_ACTION_KILL_CGROUP},
                {POL_ACTION_KILL_CGROUP, POL_ACTION_NOTIFY, POL_ACTION_NOTIFY},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                cr_assert_eq(gd_decide_route(cases[i].decided, cases[i].workload), cases[i].want,
                             "%s x %s: %s", pol_action_name(cases[i].decided),
                             pol_action_name(cases[i].workload),
                             pol_action_name(gd_decide_route(cases[i].decided,
                                                             cases[i].workload)));
}

Test(decide_basics, first_sample_never_fires) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample s = calm(1000);

        /* Everything a trigger could want, but nothing to compare with. */
        s.current = MAX;
        s.events.max = 50;
        s.psi.some.total_us = 100000000;
        assert_none(feed(&t, &st, &s));
        cr_assert(st.have_prev);
        cr_assert_eq(st.prev.at_ms, 1000);
        cr_assert_eq(st.prev.events.max, 50);
}

/* ---- gd_psi_share ---- */

TestSuite(decide_psi_share);

struct share_case {
        uint64_t prev, total, elapsed_ms;
        double expected; /* < 0: cannot be computed */
};

ParameterizedTestParameters(decide_psi_share, table) {
        static struct share_case cases[] = {
                { 0, 500000, 1000, 0.5 },
                { 1000000, 1400000, 1000, 0.4 },
                { 0, 0, 1000, 0.0 },                /* no stall at all */
                { 7, 7, 5000, 0.0 },
                { 0, 1000000, 1000, 1.0 },          /* stalled the whole interval */
                { 0, 3000000, 1000, 1.0 },          /* accounted late: clamped to 1 */
                { 0, 1, 1, 0.001 },                 /* 1 us of 1 ms */
                { 0, 500000, 0, -1.0 },             /* no elapsed time */
                { 0, 0, 0, -1.0 },
                { 2000000, 1999999, 1000, -1.0 },   /* counter went backwards */
                { UINT64_MAX - 10, UINT64_MAX, 1, 0.01 }, /* near the top, no overflow */
        };
        return cr_make_param_array(struct share_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct share_case *c, decide_psi_share, table) {
        double share = gd_psi_share(c->prev, c->total, c->elapsed_ms);
        if (c->expected < 0)
                cr_assert_lt(share, 0.0, "prev %lu total %lu elapsed %lu: got %g, want < 0",
                             (unsigned long)c->prev, (unsigned long)c->total,
                             (unsigned long)c->elapsed_ms, share);
        else
                cr_assert_float_eq(share, c->expected, 1e-9, "got %g, want %g", share,
                                   c->expected);
}

/* ---- LIMIT ---- */

TestSuite(decide_limit);

struct limit_case {
        uint64_t current, file, shmem, max;
        uint64_t d_max, d_oom, d_oom_kill, d_low, d_high; /* event counter rises */
        bool fires;
};

ParameterizedTestParameters(decide_limit, edges) {
        static struct limit_case cases[] = {
                /* max +1 with unreclaimable exactly at 90% */
                { AT_LIMIT, 0, 0, MAX, 1, 0, 0, 0, 0, true },
                /* one byte less */
                { AT_LIMIT - 1, 0, 0, MAX, 1, 0, 0, 0, 0, false },
                /* full, but the excess is page cache the kernel can drop */
                { MAX, 101 * MIB, 0, MAX, 5, 0, 0, 0, 0, false },
                { MAX, 100 * MIB, 0, MAX, 5, 0, 0, 0, 0, true },
                /* shmem counts in file but cannot be reclaimed without swap */
                { MAX, 300 * MIB, 250 * MIB, MAX, 5, 0, 0, 0, 0, true },
                { MAX, 300 * MIB, 199 * MIB, MAX, 5, 0, 0, 0, 0, false },
                /* shmem above file (read at another instant): nothing reclaimable */
                { AT_LIMIT, 10 * MIB, 20 * MIB, MAX, 1, 0, 0, 0, 0, true },
                /* cache larger than current (racy reads): nothing unreclaimable */
                { 10 * MIB, 20 * MIB, 0, MAX, 1, 0, 0, 0, 0, false },
                /* the kernel's own OOM counter counts as LIMIT */
                { MAX, 0, 0, MAX, 0, 1, 0, 0, 0, true },
                /* but when it has just killed, its victim's memory is on its way
                 * back: nothing fires until that settles (kernel_kill_settles) */
                { MAX, 0, 0, MAX, 0, 0, 1, 0, 0, false },
                { MAX, 0, 0, MAX, 5, 1, 1, 0, 0, false },
                /* full but no max/oom event: not LIMIT */
                { MAX, 0, 0, MAX, 0, 0, 0, 0, 0, false },
                /* low and high events are not the limit */
                { MAX, 0, 0, MAX, 0, 0, 0, 3, 3, false },
                /* no memory.max: nothing to be near */
                { MAX, 0, 0, CG_UNLIMITED, 9, 9, 9, 0, 0, false },
                /* memory.max = 0 is always full */
                { 0, 0, 0, 0, 1, 0, 0, 0, 0, true },
        };
        return cr_make_param_array(struct limit_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct limit_case *c, decide_limit, edges) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(2000);

        /* Same current in both samples, so NEAR_LIMIT (needs growth) stays out. */
        a.current = b.current = c->current;
        a.max = b.max = c->max;
        a.file = b.file = c->file;
        a.shmem = b.shmem = c->shmem;
        a.events = (cg_memory_events){ .low = 10, .high = 10, .max = 10, .oom = 1, .oom_kill = 1 };
        b.events = a.events;
        b.events.max += c->d_max;
        b.events.oom += c->d_oom;
        b.events.oom_kill += c->d_oom_kill;
        b.events.low += c->d_low;
        b.events.high += c->d_high;

        assert_none(feed(&t, &st, &a));
        gd_decision d = feed(&t, &st, &b);
        if (c->fires) {
                assert_fires(d, GD_TRIGGER_LIMIT);
                cr_assert_float_eq(d.threshold, 0.90, 1e-12);
                cr_assert_eq(d.sustained_ms, 0, "LIMIT is instant");
        } else {
                assert_none(d);
        }
}

/* The kernel's OOM kill: guardian takes no second victim while the first
 * one's memory comes back; trouble still there after that is new trouble. */
Test(decide_limit, kernel_kill_settles) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(2000), c = calm(2000 + GD_KERNEL_KILL_SETTLE_MS - 1),
                  d = calm(2000 + GD_KERNEL_KILL_SETTLE_MS);

        a.current = b.current = c.current = d.current = AT_LIMIT;
        a.events.max = 10;
        b.events = (cg_memory_events){ .max = 11, .oom = 1, .oom_kill = 1 };
        c.events = (cg_memory_events){ .max = 12, .oom = 1, .oom_kill = 1 };
        d.events = (cg_memory_events){ .max = 13, .oom = 1, .oom_kill = 1 };
        assert_none(feed(&t, &st, &a));
        assert_none(feed(&t, &st, &b));
        cr_assert_eq(st.kernel_kill_ms, 2000);
        assert_none(feed(&t, &st, &c));
        gd_decision dd = feed(&t, &st, &d);
        assert_fires(dd, GD_TRIGGER_LIMIT);
}

Test(decide_limit, value_is_unreclaimable_over_max) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(2000);

        a.current = b.current = 960 * MIB;
        a.file = b.file = 40 * MIB; /* 920 MiB unreclaimable */
        b.events.max = 1;
        feed(&t, &st, &a);
        gd_decision d = feed(&t, &st, &b);
        assert_fires(d, GD_TRIGGER_LIMIT);
        cr_assert_float_eq(d.value, 0.92, 1e-9, "got %g", d.value);
}

Test(decide_limit, counters_going_backwards_are_not_a_rise) {
        /* A cgroup removed and re-created under the same name restarts its
         * counters: smaller values are not events. */
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(2000);

        a.current = b.current = MAX;
        a.events = (cg_memory_events){ .max = 100, .oom = 5, .oom_kill = 5 };
        b.events = (cg_memory_events){ .max = 3, .oom = 0, .oom_kill = 0 };
        feed(&t, &st, &a);
        assert_none(feed(&t, &st, &b));
}

/* ---- NEAR_LIMIT ---- */

TestSuite(decide_near_limit);

struct near_case {
        uint64_t prev_current, current, file, max;
        bool fires;
};

ParameterizedTestParameters(decide_near_limit, edges) {
        static struct near_case cases[] = {
                /* exactly 95% and growing by a byte, all unreclaimable */
                { AT_NEAR - 1, AT_NEAR, 0, MAX, true },
                /* one byte under 95% */
                { AT_NEAR - 2, AT_NEAR - 1, 0, MAX, false },
                /* at 95% but not growing */
                { AT_NEAR, AT_NEAR, 0, MAX, false },
                { AT_NEAR + MIB, AT_NEAR, 0, MAX, false },
                /* growing at 95%, unreclaimable exactly 90% */
                { 900 * MIB, AT_NEAR, 50 * MIB, MAX, true },
                /* ... and one byte of cache more: under 90% */
                { 900 * MIB, AT_NEAR, 50 * MIB + 1, MAX, false },
                /* full and growing but no memory.max */
                { AT_NEAR, MAX, 0, CG_UNLIMITED, false },
                /* above max (a limit lowered under the usage) still counts */
                { MAX, MAX + MIB, 0, MAX, true },
        };
        return cr_make_param_array(struct near_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct near_case *c, decide_near_limit, edges) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(2000);

        a.current = c->prev_current;
        b.current = c->current;
        a.max = b.max = c->max;
        a.file = b.file = c->file;
        feed(&t, &st, &a);
        gd_decision d = feed(&t, &st, &b);
        if (c->fires) {
                assert_fires(d, GD_TRIGGER_NEAR_LIMIT);
                cr_assert_float_eq(d.threshold, 0.95, 1e-12);
                cr_assert_eq(d.sustained_ms, 0, "NEAR_LIMIT is instant");
        } else {
                assert_none(d);
        }
}

Test(decide_near_limit, value_is_current_over_max) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(2000);

        a.current = 950 * MIB;
        b.current = 980 * MIB;
        feed(&t, &st, &a);
        gd_decision d = feed(&t, &st, &b);
        assert_fires(d, GD_TRIGGER_NEAR_LIMIT);
        cr_assert_float_eq(d.value, 0.98, 1e-9, "got %g", d.value);
}

/* ---- HIGH ---- */

TestSuite(decide_high);

struct sustain_case {
        uint64_t second_ms; /* the second sample's time; the first is at 1000 */
        uint64_t third_ms;
        bool fires;         /* at the third */
};

ParameterizedTestParameters(decide_high, sustain) {
        static struct sustain_case cases[] = {
                /* rising since 1000: held 1.9 s at 2900, 2.0 s at 3000 */
                { 1950, 2900, false },
                { 1950, 3000, true },
                { 1950, 3001, true },
                /* one long interval, a single rise over 2 s: held 2.0 s */
                { 3000, 3500, true },
                { 2999, 2999 + 1, true },
                { 1500, 2999, false },
        };
        return cr_make_param_array(struct sustain_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct sustain_case *c, decide_high, sustain) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample s0 = throttled(1000, 10), s1 = throttled(c->second_ms, 20),
                  s2 = throttled(c->third_ms, 30);

        assert_none(feed(&t, &st, &s0));
        gd_decision d1 = feed(&t, &st, &s1);
        cr_assert_eq(st.high_rising_since_ms, 1000, "the rise started at the previous sample");
        gd_decision d2 = feed(&t, &st, &s2);
        if (c->second_ms - 1000 >= 2000) {
                /* The first interval alone was long enough. */
                assert_fires(d1, GD_TRIGGER_HIGH);
                cr_assert_eq(d1.sustained_ms, c->second_ms - 1000);
        } else {
                assert_none(d1);
        }
        if (c->fires) {
                assert_fires(d2, GD_TRIGGER_HIGH);
                cr_assert_eq(d2.sustained_ms, c->third_ms - 1000);
        } else {
                assert_none(d2);
        }
}

Test(decide_high, pauses_shorter_than_throttling_continue_longer_restart) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        /* one sample a second: rise at 2000, quiet 3000..5000, rises from 6000 */
        uint64_t ev[] = { 10, 20, 20, 20, 20, 30, 40, 50 };
        gd_decision d[8];

        for (int i = 0; i < 8; i++) {
                gd_sample s = throttled(1000 + 1000 * (uint64_t)i, ev[i]);
                d[i] = feed(&t, &st, &s);
                if (i == 4)
                        cr_assert_eq(st.high_rising_since_ms, 0,
                                     "3 s without a rise: longer than any throttling sleep");
        }
        assert_none(d[1]);
        /* 3000: quiet for 1 s, a throttled task sleeping; held 2.0 s since 1000 */
        assert_fires(d[2], GD_TRIGGER_HIGH);
        cr_assert_eq(d[2].sustained_ms, 2000);
        assert_fires(d[3], GD_TRIGGER_HIGH);
        assert_none(d[4]);
        assert_none(d[5]);
        /* 7000: rising again since 5000 */
        assert_fires(d[6], GD_TRIGGER_HIGH);
        cr_assert_eq(d[6].sustained_ms, 2000);
        cr_assert_eq(d[7].sustained_ms, 3000);
}

Test(decide_high, needs_unreclaimable_near_high) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_decision last = { 0 };

        for (int i = 0; i < 4; i++) {
                gd_sample s = throttled(1000 + 1000 * (uint64_t)i, 10 * (uint64_t)i);
                s.file = 1; /* one byte of cache: 90% minus a byte unreclaimable */
                last = feed(&t, &st, &s);
        }
        cr_assert_neq(st.high_rising_since_ms, 0, "still rising");
        assert_none(last);

        /* The same sequence with the byte gone fires, with the ratio to high. */
        gd_cgroup_state st2 = { 0 };
        for (int i = 0; i < 4; i++) {
                gd_sample s = throttled(1000 + 1000 * (uint64_t)i, 10 * (uint64_t)i);
                last = feed(&t, &st2, &s);
        }
        assert_fires(last, GD_TRIGGER_HIGH);
        cr_assert_float_eq(last.value, 0.90, 1e-12);
        cr_assert_float_eq(last.threshold, 0.90, 1e-12);
}

Test(decide_high, unlimited_high_never_fires) {
        /* memory.events is hierarchical: "high" rising in a cgroup without
         * its own memory.high is a child's throttling, not ours. */
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_decision last = { 0 };

        for (int i = 0; i < 6; i++) {
                gd_sample s = throttled(1000 + 1000 * (uint64_t)i, 10 * (uint64_t)i);
                s.high = CG_UNLIMITED;
                last = feed(&t, &st, &s);
        }
        assert_none(last);
        cr_assert_eq(st.high_rising_since_ms, 0);
}

/* ---- PRESSURE ---- */

TestSuite(decide_pressure);

struct pressure_case {
        uint64_t some_per_s, full_per_s; /* stall us per 1 s interval */
        bool has_full;
        bool fires;
        bool full_reported;
        double value;
};

ParameterizedTestParameters(decide_pressure, edges) {
        static struct pressure_case cases[] = {
                { 400000, 0, true, true, false, 0.40 },  /* some exactly 40% */
                { 399999, 0, true, false, false, 0 },    /* a microsecond under */
                { 399999, 200000, true, true, true, 0.20 }, /* full exactly 20% */
                { 399999, 199999, true, false, false, 0 },
                { 900000, 500000, true, true, true, 0.50 }, /* both: full reported */
                /* no "full" line: its garbage total is ignored */
                { 100000, 900000, false, false, false, 0 },
                { 870000, 900000, false, true, false, 0.87 },
                { 0, 0, true, false, false, 0 },
        };
        return cr_make_param_array(struct pressure_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct pressure_case *c, decide_pressure, edges) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_decision d[7];

        /* 1000 .. 7000: above (or not) from 1000 on; 5 s held at 6000. */
        for (uint64_t i = 0; i < 7; i++) {
                gd_sample s = calm(1000 + 1000 * i);
                s.psi.has_full = c->has_full;
                s.psi.some.total_us = 5000000 + c->some_per_s * i;
                s.psi.full.total_us = 1000000 + c->full_per_s * i;
                d[i] = feed(&t, &st, &s);
        }
        for (int i = 0; i < 5; i++)
                assert_none(d[i]); /* held at most 4 s */
        if (!c->fires) {
                assert_none(d[5]);
                assert_none(d[6]);
                cr_assert_eq(st.pressure_since_ms, 0);
                return;
        }
        assert_fires(d[5], GD_TRIGGER_PRESSURE);
        cr_assert_eq(d[5].sustained_ms, 5000);
        cr_assert_float_eq(d[5].value, c->value, 1e-9, "got %g", d[5].value);
        cr_assert_float_eq(d[5].threshold, c->full_reported ? 0.20 : 0.40, 1e-12);
        cr_assert(strstr(d[5].reason, c->full_reported ? "PSI full" : "PSI some"), "%s",
                  d[5].reason);
        assert_fires(d[6], GD_TRIGGER_PRESSURE);
        cr_assert_eq(d[6].sustained_ms, 6000);
}

Test(decide_pressure, held_4999_ms_is_not_enough) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(5999), c = calm(6000);

        b.psi.some.total_us = 5000000; /* 100% */
        c.psi.some.total_us = 5000001;
        feed(&t, &st, &a);
        assert_none(feed(&t, &st, &b));
        cr_assert_eq(st.pressure_since_ms, 1000);
        /* 5999..6000 is only 0.1% stalled: below, no decision; a 1 ms dip
         * does not end the episode, so the timer keeps running. */
        assert_none(feed(&t, &st, &c));
        cr_assert_eq(st.pressure_since_ms, 1000);

        gd_cgroup_state st2 = { 0 };
        c.psi.some.total_us = 5000400; /* 40% of the last millisecond */
        feed(&t, &st2, &a);
        feed(&t, &st2, &b);
        assert_fires(feed(&t, &st2, &c), GD_TRIGGER_PRESSURE);
}

Test(decide_pressure, a_short_dip_does_not_end_the_stall) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        uint64_t total = 0;
        gd_decision last = { 0 };

        /* 100 ms samples at 90% stall, one of them at 0%: the noise of a
         * fast tick inside a long stall. */
        for (uint64_t i = 0; i <= 52; i++) {
                gd_sample s = calm(1000 + 100 * i);
                if (i > 0 && i != 20)
                        total += 90000;
                s.psi.some.total_us = total;
                last = feed(&t, &st, &s);
                if (i == 20)
                        cr_assert_eq(st.pressure_since_ms, 1000, "one quiet 100 ms sample");
        }
        assert_fires(last, GD_TRIGGER_PRESSURE);
        cr_assert_geq(last.sustained_ms, 5000);
}

Test(decide_pressure, a_dip_restarts_the_sustain) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        /* stall us per interval; the dip is the 3000..4000 interval */
        uint64_t per[] = { 0, 800000, 800000, 100000, 800000, 800000, 800000, 800000, 800000 };
        uint64_t total = 0;
        gd_decision d[9];

        for (uint64_t i = 0; i < 9; i++) {
                gd_sample s = calm(1000 + 1000 * i);
                total += per[i];
                s.psi.some.total_us = total;
                d[i] = feed(&t, &st, &s);
        }
        /* Above again from 4000: 5 s held at 9000 (index 8), not before. */
        for (int i = 0; i < 8; i++)
                assert_none(d[i]);
        assert_fires(d[8], GD_TRIGGER_PRESSURE);
        cr_assert_eq(d[8].sustained_ms, 5000);
}

Test(decide_pressure, counter_going_backwards_stops_the_timer) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(2000), c = calm(3000);

        b.psi.some.total_us = 900000;
        c.psi.some.total_us = 10; /* a new cgroup under the old name */
        feed(&t, &st, &a);
        feed(&t, &st, &b);
        cr_assert_eq(st.pressure_since_ms, 1000);
        assert_none(feed(&t, &st, &c));
        cr_assert_eq(st.pressure_since_ms, 0);
}

/* ---- data that was not read never fires ---- */

TestSuite(decide_unread);

enum scenario { SC_LIMIT, SC_NEAR, SC_HIGH, SC_PRESSURE };
enum group { G_NONE, G_EVENTS, G_MEMORY, G_STAT, G_PSI };

struct unread_case {
        enum scenario scenario;
        enum group group; /* G_NONE: the control, which must fire */
        bool in_prev;     /* not ok in the sample before the last instead */
};

ParameterizedTestParameters(decide_unread, table) {
        static struct unread_case cases[] = {
                { SC_LIMIT, G_NONE, false },    { SC_LIMIT, G_EVENTS, false },
                { SC_LIMIT, G_EVENTS, true },   { SC_LIMIT, G_MEMORY, false },
                { SC_LIMIT, G_STAT, false },    { SC_NEAR, G_NONE, false },
                { SC_NEAR, G_MEMORY, false },   { SC_NEAR, G_MEMORY, true },
                { SC_NEAR, G_STAT, false },     { SC_HIGH, G_NONE, false },
                { SC_HIGH, G_EVENTS, false },   { SC_HIGH, G_EVENTS, true },
                { SC_HIGH, G_MEMORY, false },   { SC_HIGH, G_STAT, false },
                { SC_PRESSURE, G_NONE, false }, { SC_PRESSURE, G_PSI, false },
                { SC_PRESSURE, G_PSI, true },
        };
        return cr_make_param_array(struct unread_case, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Mark a group not read, and fill it with values that would fire if used. */
static void unread(gd_sample *s, enum group g) {
        switch (g) {
        case G_NONE:
                break;
        case G_EVENTS:
                s->events_ok = false;
                s->events = (cg_memory_events){ .high = UINT64_MAX - 1, .max = UINT64_MAX - 1,
                                                .oom = UINT64_MAX - 1, .oom_kill = 7 };
                break;
        case G_MEMORY:
                s->memory_ok = false;
                s->current = UINT64_MAX - 1;
                break;
        case G_STAT:
                s->stat_ok = false;
                s->file = 0;
                s->shmem = 0;
                break;
        case G_PSI:
                s->psi_ok = false;
                s->psi.some.total_us = UINT64_MAX - 1;
                s->psi.full.total_us = UINT64_MAX - 1;
                break;
        }
}

ParameterizedTest(struct unread_case *c, decide_unread, table) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample s[7];
        gd_trigger want = GD_TRIGGER_NONE;

        for (uint64_t i = 0; i < 7; i++) {
                s[i] = calm(1000 + 1000 * i);
                /* Full and no cache: all of it unreclaimable, as far as the
                 * stat says. */
                s[i].current = MAX;
                s[i].file = 0;
                switch (c->scenario) {
                case SC_LIMIT:
                        s[i].events.max = 10 * i;
                        want = GD_TRIGGER_LIMIT;
                        break;
                case SC_NEAR:
                        s[i].current = AT_NEAR + i * MIB;
                        want = GD_TRIGGER_NEAR_LIMIT;
                        break;
                case SC_HIGH:
                        s[i].max = CG_UNLIMITED;
                        s[i].high = AT_LIMIT;
                        s[i].events.high = 10 * i;
                        want = GD_TRIGGER_HIGH;
                        break;
                case SC_PRESSURE:
                        s[i].current = 100 * MIB;
                        s[i].psi.some.total_us = 900000 * i;
                        want = GD_TRIGGER_PRESSURE;
                        break;
                }
        }
        /* LIMIT/NEAR need 2 samples, HIGH 3 (2 s), PRESSURE 6 (5 s): the
         * decision at the last one (index 6) is the one judged. */
        unread(&s[c->in_prev ? 5 : 6], c->group);

        gd_decision d = { 0 };
        for (int i = 0; i < 7; i++)
                d = feed(&t, &st, &s[i]);
        if (c->group == G_NONE)
                assert_fires(d, want);
        else
                assert_none(d);
}
