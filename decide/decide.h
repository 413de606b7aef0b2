/* Decide: given what one cgroup looked like a moment ago and now, is it in
 * trouble, and what should guardian do? Pure functions: no I/O, no clock;
 * the caller passes samples and now, and keeps the per-cgroup state.
 *
 * Triggers (thresholds in gd_thresholds, from the policy):
 *  LIMIT       memory.events "max" rose (the cgroup hit memory.max and the
 *              kernel had to reclaim) while the memory it cannot reclaim
 *              (current - reclaimable file cache) is near memory.max: the
 *              kernel's OOM killer is next.
 *  NEAR_LIMIT  memory.current is close to memory.max and still growing,
 *              with the same unreclaimable test.
 *  HIGH        memory.events "high" keeps rising over memory.high for a
 *              sustained time (pauses shorter than the kernel's longest
 *              throttling sleep do not count as a stop) while its memory
 *              is mostly unreclaimable
 *              (throttled, going nowhere: the livelock the kernel never ends).
 *  PRESSURE    the cgroup's PSI stall share (from the "total" counters, so
 *              exact over the sample interval) stays above a threshold for a
 *              sustained time (dips shorter than half a second do not end it).
 * The kernel's own oom/oom_kill counters rising count as LIMIT too: guardian
 * was late, but the cgroup is still in trouble.
 *
 * Every trigger needs data that was read: a sample field marked not ok
 * never fires anything. After an action a cgroup is left alone for the
 * cooldown; a kill that failed backs off exponentially. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "policy/policy.h"

typedef enum gd_trigger {
        GD_TRIGGER_NONE,
        GD_TRIGGER_LIMIT,
        GD_TRIGGER_NEAR_LIMIT,
        GD_TRIGGER_HIGH,
        GD_TRIGGER_PRESSURE,
        GD_TRIGGER_HOST_PRESSURE,
} gd_trigger;

typedef struct gd_thresholds {
        /* LIMIT/NEAR_LIMIT: unreclaimable memory / memory.max at or above this. */
        double limit_ratio;
        /* NEAR_LIMIT: memory.current / memory.max at or above this, and growing. */
        double near_limit_ratio;
        /* HIGH: "high" must keep rising for this long. */
        uint64_t high_sustain_ms;
        /* PRESSURE: PSI "some" share (0..1) above this for pressure_sustain_ms. */
        double pressure_some;
        /* PRESSURE: PSI "full" share (0..1) above this for pressure_sustain_ms. */
        double pressure_full;
        uint64_t pressure_sustain_ms;
        /* NEAR_LIMIT by time to exhaustion (0: off; the host's): free memory
         * (memory.max - memory.current) under this share of memory.max, and
         * at its trend (rate_bps) gone within exhaustion_horizon_ms. */
        double exhaustion_free_ratio;
        uint64_t exhaustion_horizon_ms;
        /* After an action, the cgroup is left alone this long. */
        uint64_t cooldown_ms;
        /* First back-off after a failed kill; doubles up to backoff_max_ms. */
        uint64_t backoff_ms;
        uint64_t backoff_max_ms;
} gd_thresholds;

/* The embedded default policy's thresholds. */
void gd_thresholds_default(gd_thresholds *ret);

/* One reading of a cgroup. A field group whose *_ok is false was not read
 * (or not parseable) and is ignored. */
typedef struct gd_sample {
        uint64_t at_ms;            /* monotonic time of the reading */
        bool events_ok;
        cg_memory_events events;
        bool memory_ok;            /* current and max read */
        bool current_ok, max_ok, high_ok; /* each of them read */
        uint64_t current;          /* bytes */
        uint64_t max;              /* bytes, CG_UNLIMITED */
        uint64_t high;             /* bytes, CG_UNLIMITED */
        bool stat_ok;
        uint64_t file;             /* memory.stat file (includes shmem) */
        uint64_t shmem;
        bool psi_ok;
        cg_psi psi;
        bool oom_group;            /* memory.oom.group is 1 */
} gd_sample;

/* What guardian remembers of a cgroup between samples. Zero it to start. */
/* After the kernel's own OOM kill in a cgroup, guardian decides nothing
 * there for this long: freeing a few hundred MiB takes tens of ms, and the
 * next sample then shows whether trouble is left. */
#define GD_KERNEL_KILL_SETTLE_MS 500

typedef struct gd_cgroup_state {
        bool have_prev;
        gd_sample prev;
        uint64_t high_rising_since_ms;  /* 0: not rising */
        uint64_t last_high_rise_ms;     /* sample time of the last rise of "high" */
        uint64_t last_pressure_above_ms; /* sample time of the last interval above */
        uint64_t pressure_since_ms;     /* 0: not above the threshold */
        uint64_t quiet_until_ms;        /* cooldown or back-off end */
        unsigned failed_actions;        /* consecutive; drives the back-off */
        uint64_t last_action_ms;
        uint64_t kernel_kill_ms;        /* sample time of the last oom_kill rise; 0: none */
        /* The trend of memory.current, bytes a second (negative: falling),
         * smoothed over about GD_TREND_TAU_MS: a host that sits steady
         * near full has a trend near 0, a squeeze a steady climb. */
        double rate_bps;
} gd_cgroup_state;

/* The trend's time constant: long enough that allocation noise of a
 * steady host averages out, short enough that a climb shows within it. */
#define GD_TREND_TAU_MS 1000

typedef struct gd_decision {
        pol_action action;     /* NONE, KILL_PROCESS or KILL_CGROUP */
        gd_trigger trigger;
        /* The numbers behind the trigger, for the log and the audit record. */
        double value;          /* the ratio or share that crossed the threshold */
        double threshold;
        uint64_t sustained_ms; /* how long it has held (0 for instant triggers) */
        char reason[160];      /* one human sentence, e.g. "memory.events max +3 ..." */
} gd_decision;

/* Feed a new sample. Updates *state (sustain timers, previous sample) and
 * returns the decision for now_ms: POL_ACTION_NONE unless a trigger holds
 * and the cgroup is not in its cooldown or back-off. The action is
 * KILL_CGROUP when sample->oom_group is set, else KILL_PROCESS. Pure. */
gd_decision gd_decide(const gd_thresholds *t, gd_cgroup_state *state, const gd_sample *sample,
                      uint64_t now_ms);

/* Right before a kill, does the decision still hold? current is the
 * cgroup's memory.current read after the decision, max its memory.max. A
 * limit or near-limit decision whose usage has fallen below its threshold
 * (the kernel's own victim freed its memory meanwhile) no longer holds;
 * other triggers are sustained conditions and hold. Returns true when
 * current is unknown (UINT64_MAX) or max is unlimited. Pure. */
bool gd_decide_still_holds(const gd_decision *d, uint64_t current, uint64_t max);

/* Tell the state what came of an action taken at now_ms: success starts the
 * cooldown and resets the back-off; failure starts the next back-off
 * (backoff_ms * 2^(failures-1), capped at backoff_max_ms). Pure. */
void gd_decide_record(const gd_thresholds *t, gd_cgroup_state *state, bool success,
                      uint64_t now_ms);

/* The stall share of a PSI line between two samples: delta total_us over
 * the elapsed time, clamped to 0..1. Returns a negative value when it
 * cannot be computed (no elapsed time, counter went backwards). Pure. */
double gd_psi_share(uint64_t prev_total_us, uint64_t total_us, uint64_t elapsed_ms);

/* Host-wide pressure: which cgroup is most to blame? Each candidate is a
 * cgroup with processes; blame is usage above its protection
 * (max(memory.min, memory.low)) plus growth since the last sample, in
 * bytes, growth weighted by GD_BLAME_GROWTH_WEIGHT. Protected ones (the caller's judgement: guardian's own cgroup,
 * init.scope, a policy) are skipped. Returns the index of the most to
 * blame, or -1 if none has any blame. Pure. */
typedef struct gd_blame_candidate {
        uint64_t current;
        uint64_t protection;   /* max(memory.min, memory.low) */
        uint64_t prev_current; /* 0 when unknown */
        uint64_t growth;       /* bytes grown lately, if the caller measured it (else
                                * current - prev_current); wins over prev_current */
        bool protected_cgroup;
        size_t n_killable;     /* cgroups with nothing killable are skipped */
} gd_blame_candidate;

long gd_blame_pick(const gd_blame_candidate *cands, size_t n);

/* A cgroup that grew 100 MiB in the last seconds is more to blame for host
 * pressure than one that has sat on 300 MiB all day. */
#define GD_BLAME_GROWTH_WEIGHT 4

/* The action to take on a decision that called for decided, given the
 * effective action of the cgroup's workload (NONE when no policy says):
 * NOTIFY wins, a cgroup kill that either asks for kills the cgroup, else
 * the worst process. NONE when decided is NONE. Pure. */
pol_action gd_decide_route(pol_action decided, pol_action workload);

/* Short stable names for logs and audit records: "limit", "near-limit",
 * "high", "pressure", "host-pressure", "none" (actions are named by
 * pol_action_name()). */
const char *gd_trigger_name(gd_trigger trigger);
