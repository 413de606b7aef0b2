/* The decision once a trigger holds: which trigger wins (precedence),
 * cooldown and backoff timing, the reason text, and host-wide blame. The
 * clock is just the at_ms/now_ms numbers passed in; every sequence starts at
 * 1000 ms and steps 1 s unless a test says otherwise. Sizes use MAX = 1000 MiB
 * so that 0.90 and 0.95 of it are whole bytes (tests/lib/decide_helpers.h). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "decide/decide.h"
#include "tests/lib/decide_helpers.h"

/* ---- precedence ---- */

TestSuite(decide_precedence);

struct prec_case {
        bool max_event, growing, pressure;
        gd_trigger expected;
};

ParameterizedTestParameters(decide_precedence, order) {
        static struct prec_case cases[] = {
                { true, true, true, GD_TRIGGER_LIMIT },
                { false, true, true, GD_TRIGGER_NEAR_LIMIT },
                { false, false, true, GD_TRIGGER_PRESSURE },
                { false, false, false, GD_TRIGGER_HIGH },
        };
        return cr_make_param_array(struct prec_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct prec_case *c, decide_precedence, order) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_decision d = { 0 };

        /* Six seconds of HIGH and PRESSURE both holding, at 96% of max. */
        for (uint64_t i = 0; i < 7; i++) {
                gd_sample s = calm(1000 + 1000 * i);
                s.current = 960 * MIB;
                s.high = 900 * MIB;
                s.events.high = 10 * i;
                s.psi.some.total_us = 500000 * i;
                if (i == 6) {
                        s.events.max = c->max_event ? 1 : 0;
                        s.current += c->growing ? MIB : 0;
                        s.psi.some.total_us = 500000 * 5 + (c->pressure ? 500000 : 0);
                }
                d = feed(&t, &st, &s);
        }
        assert_fires(d, c->expected);
}

Test(decide_precedence, oom_group_kills_the_cgroup) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(2000);

        a.current = b.current = MAX;
        b.events.max = 1;
        b.oom_group = true;
        feed(&t, &st, &a);
        gd_decision d = feed(&t, &st, &b);
        cr_assert_eq(d.trigger, GD_TRIGGER_LIMIT);
        cr_assert_eq(d.action, POL_ACTION_KILL_CGROUP, "got %s", pol_action_name(d.action));
}

/* ---- cooldown, back-off, clock ---- */

TestSuite(decide_timing);

/* A cgroup over its limit at every sample: LIMIT fires whenever allowed. */
static gd_sample at_limit(uint64_t at) {
        gd_sample s = calm(at);
        s.current = MAX;
        s.events.max = at; /* rises with every new sample */
        return s;
}

Test(decide_timing, cooldown_after_success) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample s = at_limit(1000);

        feed(&t, &st, &s);
        s = at_limit(2000);
        assert_fires(feed(&t, &st, &s), GD_TRIGGER_LIMIT);
        gd_decide_record(&t, &st, true, 2000);
        cr_assert_eq(st.quiet_until_ms, 17000);
        cr_assert_eq(st.last_action_ms, 2000);
        cr_assert_eq(st.failed_actions, 0);

        for (uint64_t at = 3000; at < 17000; at += 1000) {
                s = at_limit(at);
                assert_none(feed(&t, &st, &s));
        }
        /* One millisecond before the end, still quiet; at the end, act. */
        s = at_limit(16999);
        assert_none(feed(&t, &st, &s));
        s = at_limit(17000);
        assert_fires(feed(&t, &st, &s), GD_TRIGGER_LIMIT);
}

Test(decide_timing, sustain_runs_through_the_cooldown) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_decision d = { 0 };

        for (uint64_t i = 0; i < 4; i++) {
                gd_sample s = throttled(1000 + 1000 * i, 10 * i);
                d = feed(&t, &st, &s);
        }
        assert_fires(d, GD_TRIGGER_HIGH); /* at 4000 */
        gd_decide_record(&t, &st, true, 4000);
        cr_assert_eq(st.high_rising_since_ms, 0, "success restarts the sustain");

        for (uint64_t at = 5000; at < 19000; at += 1000) {
                gd_sample s = throttled(at, at);
                assert_none(feed(&t, &st, &s));
        }
        cr_assert_eq(st.high_rising_since_ms, 4000, "timer restarted from the action's sample");
        gd_sample s = throttled(19000, 19000);
        d = feed(&t, &st, &s);
        assert_fires(d, GD_TRIGGER_HIGH);
        cr_assert_eq(d.sustained_ms, 15000);
}

Test(decide_timing, cooldown_shorter_than_sustain_needs_a_fresh_sustain) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_decision d = { 0 };

        t.cooldown_ms = 500;
        for (uint64_t i = 0; i < 4; i++) {
                gd_sample s = throttled(1000 + 1000 * i, 10 * i);
                d = feed(&t, &st, &s);
        }
        assert_fires(d, GD_TRIGGER_HIGH);
        gd_decide_record(&t, &st, true, 4000);
        gd_sample s = throttled(5000, 100);
        assert_none(feed(&t, &st, &s)); /* out of cooldown, 1 s into the new sustain */
        s = throttled(6000, 200);
        assert_fires(feed(&t, &st, &s), GD_TRIGGER_HIGH);
}

struct backoff_case {
        unsigned failures;
        uint64_t backoff_ms, backoff_max_ms;
        uint64_t expected;
};

ParameterizedTestParameters(decide_timing, backoff) {
        static struct backoff_case cases[] = {
                { 1, 1000, 60000, 1000 },
                { 2, 1000, 60000, 2000 },
                { 3, 1000, 60000, 4000 },
                { 6, 1000, 60000, 32000 },
                { 7, 1000, 60000, 60000 }, /* 64 s capped */
                { 8, 1000, 60000, 60000 },
                { 64, 1000, 60000, 60000 },  /* a shift of 63 */
                { 65, 1000, 60000, 60000 },  /* a shift of 64: undefined if done */
                { 500, 1000, 60000, 60000 },
                { 2, 1000, 2000, 2000 },     /* exactly at the cap */
                { 1, 5000, 3000, 3000 },     /* first step above the cap */
                { 64, 1, UINT64_MAX, 1ULL << 63 },
                { 3, 0, 60000, 0 },
        };
        return cr_make_param_array(struct backoff_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct backoff_case *c, decide_timing, backoff) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };

        t.backoff_ms = c->backoff_ms;
        t.backoff_max_ms = c->backoff_max_ms;
        for (unsigned i = 0; i < c->failures; i++)
                gd_decide_record(&t, &st, false, 100000);
        cr_assert_eq(st.failed_actions, c->failures);
        cr_assert_eq(st.quiet_until_ms, 100000 + c->expected, "failures %u: quiet until %lu",
                     c->failures, (unsigned long)st.quiet_until_ms);
}

Test(decide_timing, backoff_doubles_then_success_resets) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample s = at_limit(1000);

        feed(&t, &st, &s);
        s = at_limit(2000);
        assert_fires(feed(&t, &st, &s), GD_TRIGGER_LIMIT);
        gd_decide_record(&t, &st, false, 2000); /* back off 1 s */
        cr_assert_eq(st.last_action_ms, 2000);
        s = at_limit(2500);
        assert_none(feed(&t, &st, &s));
        s = at_limit(3000);
        assert_fires(feed(&t, &st, &s), GD_TRIGGER_LIMIT);
        gd_decide_record(&t, &st, false, 3000); /* back off 2 s */
        s = at_limit(4999);
        assert_none(feed(&t, &st, &s));
        s = at_limit(5000);
        assert_fires(feed(&t, &st, &s), GD_TRIGGER_LIMIT);
        gd_decide_record(&t, &st, true, 5000);
        cr_assert_eq(st.failed_actions, 0);
        cr_assert_eq(st.quiet_until_ms, 20000);
        gd_decide_record(&t, &st, false, 20000);
        cr_assert_eq(st.quiet_until_ms, 21000, "back-off starts over after a success");
}

Test(decide_timing, failure_keeps_the_sustain) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_decision d = { 0 };

        for (uint64_t i = 0; i < 4; i++) {
                gd_sample s = throttled(1000 + 1000 * i, 10 * i);
                d = feed(&t, &st, &s);
        }
        assert_fires(d, GD_TRIGGER_HIGH);
        gd_decide_record(&t, &st, false, 4000);
        cr_assert_eq(st.high_rising_since_ms, 1000);
        gd_sample s = throttled(5000, 100);
        d = feed(&t, &st, &s);
        assert_fires(d, GD_TRIGGER_HIGH); /* retried right after the 1 s back-off */
        cr_assert_eq(d.sustained_ms, 4000);
}

Test(decide_timing, record_saturates_at_the_end_of_time) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };

        gd_decide_record(&t, &st, true, UINT64_MAX - 5);
        cr_assert_eq(st.quiet_until_ms, UINT64_MAX);
        st.failed_actions = UINT_MAX;
        gd_decide_record(&t, &st, false, 10);
        cr_assert_eq(st.failed_actions, UINT_MAX, "the count does not wrap to 0");
        cr_assert_eq(st.quiet_until_ms, 10 + 60000);
}

Test(decide_timing, clock_going_backwards_changes_nothing) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(5000), b = at_limit(5000), c = at_limit(4000), d = at_limit(6000);

        a.current = MAX;
        a.events.max = 1;
        a.psi.some.total_us = 1000;
        feed(&t, &st, &a);
        st.pressure_since_ms = 4000; /* as if pressure had been above */

        /* Same instant and earlier: would fire LIMIT if compared. */
        b.events.max = 2;
        c.events.max = 3;
        c.psi.some.total_us = 0; /* would also stop the pressure timer */
        assert_none(feed(&t, &st, &b));
        assert_none(feed(&t, &st, &c));
        cr_assert_eq(st.prev.at_ms, 5000);
        cr_assert_eq(st.prev.events.max, 1);
        cr_assert_eq(st.prev.psi.some.total_us, 1000);
        cr_assert_eq(st.pressure_since_ms, 4000);

        /* The next good sample compares against the kept one: max +9. */
        d.events.max = 10;
        d.psi.some.total_us = 1000;
        gd_decision r = feed(&t, &st, &d);
        assert_fires(r, GD_TRIGGER_LIMIT);
        cr_assert(strstr(r.reason, "max +9"), "%s", r.reason);
}

Test(decide_timing, now_ahead_of_the_sample_only_moves_the_cooldown) {
        /* The decision may come later than the reading: the sustain is what
         * the samples saw, the cooldown is judged at now. */
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample s0 = throttled(1000, 0), s1 = throttled(2000, 10), s2 = throttled(2900, 20);

        gd_decide(&t, &st, &s0, 1000);
        gd_decide(&t, &st, &s1, 2000);
        assert_none(gd_decide(&t, &st, &s2, 9000));

        st.quiet_until_ms = 10000;
        gd_sample s3 = throttled(3000, 30);
        assert_none(gd_decide(&t, &st, &s3, 9999));
        gd_sample s4 = throttled(3100, 40);
        assert_fires(gd_decide(&t, &st, &s4, 10000), GD_TRIGGER_HIGH);
}

/* ---- reasons ---- */

TestSuite(decide_reason);

Test(decide_reason, limit) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(2000);

        a.max = b.max = 256 * MIB;
        a.current = b.current = 250 * MIB;
        a.file = b.file = 7 * MIB; /* 243.0M unreclaimable, 94.9% */
        a.events.max = 5;
        b.events.max = 8;
        b.events.oom = 1;
        feed(&t, &st, &a);
        gd_decision d = feed(&t, &st, &b);
        assert_fires(d, GD_TRIGGER_LIMIT);
        cr_assert_str_eq(d.reason,
                         "memory.events max +3 oom +1, unreclaimable 243.0M of memory.max "
                         "256.0M (95%)");
}

Test(decide_reason, near_limit) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(1500);

        a.max = b.max = 2048 * MIB;
        a.current = 1990 * MIB;
        b.current = 2000 * MIB;
        b.file = 10 * MIB;
        feed(&t, &st, &a);
        gd_decision d = feed(&t, &st, &b);
        assert_fires(d, GD_TRIGGER_NEAR_LIMIT);
        cr_assert(strstr(d.reason, "memory.current 2.0G of memory.max 2.0G (98%)"), "%s", d.reason);
        cr_assert(strstr(d.reason, "+10.0M in 0.5s"), "%s", d.reason);
        cr_assert(strstr(d.reason, "unreclaimable 1.9G (97%)"), "%s", d.reason);
}

Test(decide_reason, pressure) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_decision d = { 0 };

        for (uint64_t i = 0; i < 6; i++) {
                gd_sample s = calm(1000 + 1040 * i); /* 5.2 s in five steps */
                s.psi.some.total_us = 904800 * i;    /* 87% of 1.04 s */
                d = feed(&t, &st, &s);
        }
        assert_fires(d, GD_TRIGGER_PRESSURE);
        cr_assert_str_eq(d.reason, "PSI some 87% of the last 1.0s, at or above 40% for 5.2s "
                                   "(sustain 5.0s)");
}

Test(decide_reason, high) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_decision d = { 0 };

        for (uint64_t i = 0; i < 4; i++) {
                gd_sample s = throttled(1000 + 1000 * i, 7 * i);
                s.high = 512 * MIB;
                s.current = 500 * MIB;
                d = feed(&t, &st, &s);
        }
        assert_fires(d, GD_TRIGGER_HIGH);
        cr_assert_str_eq(d.reason, "memory.events high rising for 3.0s (+7 in the last 1.0s), "
                                   "unreclaimable 500.0M of memory.high 512.0M (98%)");
}

Test(decide_reason, huge_numbers_fit) {
        gd_thresholds t = defaults();
        gd_cgroup_state st = { 0 };
        gd_sample a = calm(1000), b = calm(2000);

        a.max = b.max = UINT64_MAX - 1;
        a.current = b.current = UINT64_MAX - 1;
        b.events = (cg_memory_events){ .max = UINT64_MAX, .oom = UINT64_MAX };
        feed(&t, &st, &a);
        gd_decision d = feed(&t, &st, &b);
        assert_fires(d, GD_TRIGGER_LIMIT);
        cr_assert_lt(strlen(d.reason), sizeof(d.reason));
        cr_assert(strstr(d.reason, "oom +18446744073709551615"), "%s", d.reason);
        cr_assert(strstr(d.reason, "16.0E"), "%s", d.reason);
}

/* ---- host-wide blame ---- */

TestSuite(decide_blame);

Test(decide_blame, measured_growth_counts_even_from_nothing) {
        /* A cgroup that grew from empty to 227M beats a steady 495M one;
         * prev_current 0 would have read as "unknown". */
        gd_blame_candidate c[] = {
                { .current = 495u << 20, .n_killable = 1 },
                { .current = 227u << 20, .growth = 227u << 20, .n_killable = 1 },
        };
        cr_assert_eq(gd_blame_pick(c, 2), 1);
        c[1].growth = 60u << 20; /* 227 + 4 * 60 = 467 < 495 */
        cr_assert_eq(gd_blame_pick(c, 2), 0);
}

Test(decide_blame, usage_above_protection) {
        gd_blame_candidate c[] = {
                { .current = 800 * MIB, .protection = 700 * MIB, .n_killable = 3 }, /* 100M */
                { .current = 400 * MIB, .protection = 0, .n_killable = 1 },          /* 400M */
                { .current = 900 * MIB, .protection = 1000 * MIB, .n_killable = 5 }, /* 0 */
        };
        cr_assert_eq(gd_blame_pick(c, 3), 1);
}

Test(decide_blame, growth_counts) {
        gd_blame_candidate c[] = {
                /* 300M over, no growth */
                { .current = 300 * MIB, .prev_current = 300 * MIB, .n_killable = 1 },
                /* 200M over + 150M growth */
                { .current = 200 * MIB, .prev_current = 50 * MIB, .n_killable = 1 },
                /* shrinking counts as no growth, not negative */
                { .current = 320 * MIB, .prev_current = 900 * MIB, .n_killable = 1 },
                /* fully protected but growing fast */
                { .current = 100 * MIB, .protection = 500 * MIB, .prev_current = 1,
                  .n_killable = 1 },
        };
        cr_assert_eq(gd_blame_pick(c, 4), 1);
        c[3].prev_current = 0; /* unknown: no growth */
        c[1].prev_current = 0;
        cr_assert_eq(gd_blame_pick(c, 4), 2);
}

Test(decide_blame, growth_alone_is_blame) {
        gd_blame_candidate c[] = {
                { .current = 100 * MIB, .protection = 500 * MIB, .prev_current = 99 * MIB,
                  .n_killable = 1 },
        };
        cr_assert_eq(gd_blame_pick(c, 1), 0);
}

Test(decide_blame, protected_and_empty_are_skipped) {
        gd_blame_candidate c[] = {
                { .current = 4000 * MIB, .protected_cgroup = true, .n_killable = 10 },
                { .current = 3000 * MIB, .n_killable = 0 },
                { .current = 1 * MIB, .n_killable = 1 },
        };
        cr_assert_eq(gd_blame_pick(c, 3), 2);
        c[2].protected_cgroup = true;
        cr_assert_eq(gd_blame_pick(c, 3), -1);
}

Test(decide_blame, ties_go_to_the_lowest_index) {
        gd_blame_candidate c[] = {
                { .current = 10, .n_killable = 1 },
                { .current = 50, .protection = 10, .n_killable = 1 },
                { .current = 40, .n_killable = 1 },
                { .current = 40, .n_killable = 1 },
        };
        cr_assert_eq(gd_blame_pick(c, 4), 1);
        c[1].current = 30;
        cr_assert_eq(gd_blame_pick(c, 4), 2);
}

Test(decide_blame, none_to_blame) {
        gd_blame_candidate c[] = {
                { .current = 100, .protection = 100, .n_killable = 1 },
                { .current = 0, .n_killable = 1 },
                { .current = 100, .protection = 200, .prev_current = 100, .n_killable = 1 },
        };
        cr_assert_eq(gd_blame_pick(c, 3), -1);
        cr_assert_eq(gd_blame_pick(c, 0), -1);
        cr_assert_eq(gd_blame_pick(NULL, 0), -1);
}

Test(decide_blame, blame_saturates) {
        gd_blame_candidate c[] = {
                { .current = UINT64_MAX - 1, .n_killable = 1 },
                { .current = UINT64_MAX, .prev_current = 1, .n_killable = 1 },
        };
        /* over + growth would wrap for the second one; saturated it wins. */
        cr_assert_eq(gd_blame_pick(c, 2), 1);
}

/* Right before a kill: the kernel's own victim may have given the memory
 * back since the sample the decision was made on. */
TestSuite(decide_still_holds);

Test(decide_still_holds, limit_and_near_limit_recheck_usage) {
        gd_decision near = {.action = POL_ACTION_KILL_PROCESS, .trigger = GD_TRIGGER_NEAR_LIMIT,
                            .threshold = 0.95};
        gd_decision limit = {.action = POL_ACTION_KILL_PROCESS, .trigger = GD_TRIGGER_LIMIT,
                             .threshold = 0.90};
        uint64_t max = 256ULL << 20;

        cr_assert(gd_decide_still_holds(&near, max / 100 * 96, max));
        cr_assert_not(gd_decide_still_holds(&near, max / 100 * 94, max));
        cr_assert(gd_decide_still_holds(&limit, max / 100 * 91, max));
        cr_assert_not(gd_decide_still_holds(&limit, max / 2, max), "the victim freed its memory");
        cr_assert(gd_decide_still_holds(&limit, UINT64_MAX, max), "unknown: the decision stands");
        cr_assert(gd_decide_still_holds(&limit, max / 2, CG_UNLIMITED));
}

Test(decide_still_holds, sustained_triggers_hold) {
        gd_decision high = {.action = POL_ACTION_KILL_PROCESS, .trigger = GD_TRIGGER_HIGH,
                            .threshold = 0.5};
        gd_decision psi = {.action = POL_ACTION_KILL_PROCESS, .trigger = GD_TRIGGER_PRESSURE,
                           .threshold = 0.5};
        cr_assert(gd_decide_still_holds(&high, 1, 1ULL << 30));
        cr_assert(gd_decide_still_holds(&psi, 1, 1ULL << 30));
}
