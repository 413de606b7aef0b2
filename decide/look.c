/* When to look at a watched cgroup next (look.h). */
#include "decide/look.h"

uint64_t gd_look_delay_ms(uint64_t current, uint64_t limit, double hot_ratio,
                          uint64_t growth_bps, uint64_t min_ms) {
        if (!min_ms)
                min_ms = GD_LOOK_MIN_MS;
        if (min_ms > GD_LOOK_IDLE_MS)
                min_ms = GD_LOOK_IDLE_MS;
        if (limit == UINT64_MAX)
                return GD_LOOK_IDLE_MS;
        double hot = hot_ratio * (double)limit;
        if ((double)current >= hot)
                return min_ms;
        double rate = growth_bps > GD_LOOK_RATE_BPS ? (double)growth_bps
                                                    : (double)GD_LOOK_RATE_BPS;
        double ms = (hot - (double)current) / rate * 1000.0;
        if (ms <= (double)min_ms)
                return min_ms;
        if (ms >= GD_LOOK_IDLE_MS)
                return GD_LOOK_IDLE_MS;
        return (uint64_t)ms;
}
