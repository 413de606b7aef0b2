/* When a watched cgroup is looked at next (decide/look.c), fed literals. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "decide/look.h"

enum { MIB = 1 << 20 };
static const uint64_t GIB = 1ULL << 30;

Test(look, a_cgroup_without_a_limit_is_looked_at_when_idle_only) {
        cr_assert_eq(gd_look_delay_ms(0, UINT64_MAX, 0.8, 0, 0), GD_LOOK_IDLE_MS);
        cr_assert_eq(gd_look_delay_ms(100 * GIB, UINT64_MAX, 0.8, 10 * GIB, 0), GD_LOOK_IDLE_MS);
}

Test(look, a_cgroup_at_or_above_the_hot_share_is_looked_at_every_tick) {
        cr_assert_eq(gd_look_delay_ms(800 * MIB, 1000 * MIB, 0.8, 0, 0), GD_LOOK_MIN_MS);
        cr_assert_eq(gd_look_delay_ms(2000 * MIB, 1000 * MIB, 0.8, 0, 500), 500);
}

Test(look, a_small_limit_is_looked_at_every_tick_whatever_its_use) {
        /* 512 MiB at 10%: the fastest plausible rate crosses the gap in
         * well under a second. */
        cr_assert_eq(gd_look_delay_ms(51 * MIB, 512 * MIB, 0.8, 0, 0), GD_LOOK_MIN_MS);
}

Test(look, headroom_buys_time_at_the_fastest_plausible_rate) {
        /* 64 GiB at 10%: 44.8 GiB to the hot share, 11.2 s at 4 GiB/s. */
        uint64_t limit = 64 * GIB, cur = limit / 10;
        uint64_t want = (uint64_t)((0.8 * (double)limit - (double)cur) /
                                   (double)GD_LOOK_RATE_BPS * 1000.0);
        cr_assert_eq(gd_look_delay_ms(cur, limit, 0.8, 0, 0), want);
        cr_assert(want > 11000 && want < 11300, "%llu", (unsigned long long)want);
        /* Growth seen faster than that rate shortens it. */
        cr_assert_eq(gd_look_delay_ms(cur, limit, 0.8, 4 * GD_LOOK_RATE_BPS, 0), want / 4);
        /* Growth slower than the rate does not lengthen it. */
        cr_assert_eq(gd_look_delay_ms(cur, limit, 0.8, MIB, 0), want);
}

Test(look, the_delay_stays_within_its_bounds) {
        cr_assert_eq(gd_look_delay_ms(0, 1ULL << 50, 0.8, 0, 0), GD_LOOK_IDLE_MS);
        cr_assert_eq(gd_look_delay_ms(0, 1ULL << 50, 0.8, 0, 5000), GD_LOOK_IDLE_MS);
        /* A tick longer than the idle delay: the idle delay. */
        cr_assert_eq(gd_look_delay_ms(0, 1000 * MIB, 0.8, 0, 60000), GD_LOOK_IDLE_MS);
        cr_assert_eq(gd_look_delay_ms(0, 0, 0.8, 0, 0), GD_LOOK_MIN_MS, "a zero limit is hot");
}
