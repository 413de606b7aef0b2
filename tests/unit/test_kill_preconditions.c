/* The kill path's preconditions (act/kill.c), fed literal snapshots
 * and a fake clock: a kill is made on a complete candidate set only, never
 * while a process is already dying with its memory (for a bounded time),
 * and not when the limit decision no longer holds. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "act/kill.h"

static gd_proc_entry procs[3];
static char *cgroups[1] = {"batch"};
static uint64_t currents[1];
static gd_snapshot snap;
static gd_watched watched;
static gd_kills kills;
static gd_kill_outcome out;
static const gd_decision near = {.action = POL_ACTION_KILL_PROCESS,
                                 .trigger = GD_TRIGGER_NEAR_LIMIT, .threshold = 0.95};

static void setup(void) {
        memset(&snap, 0, sizeof(snap));
        memset(procs, 0, sizeof(procs));
        memset(&watched, 0, sizeof(watched));
        memset(&kills, 0, sizeof(kills));
        for (int i = 0; i < 3; i++) {
                procs[i].info.stat.pid = 100 + i;
                procs[i].info.stat.state = 'S';
                procs[i].info.stat.start_time = 1000 + (uint64_t)i;
                procs[i].info.mem.has_mm = true;
                procs[i].info.mem.rss_pages = 256;
                snprintf(procs[i].info.stat.comm, sizeof(procs[i].info.stat.comm), "p%d", i);
        }
        snap.procs = procs;
        snap.n_procs = 3;
        snap.cgroups = cgroups;
        snap.n_cgroups = 1;
        currents[0] = 250ULL << 20;
        snap.cgroup_currents = currents;
        watched.max = 256ULL << 20;
}

TestSuite(kill_preconditions, .init = setup);

/* The preconditions at now; out says why. */
static gd_kill_result pre(const gd_watched *c, uint64_t now) {
        memset(&out, 0, sizeof(out));
        return gd_kill_preconditions(&kills, c, &near, &snap, now, &out);
}

Test(kill_preconditions, a_complete_set_goes_on) {
        cr_assert_eq(pre(&watched, 1000), GD_KILL_STARTED);
}

Test(kill_preconditions, an_unreadable_candidate_blocks_the_kill) {
        snap.n_unreadable = 1;
        snap.first_unreadable_error = -EBADMSG;
        cr_assert_eq(pre(&watched, 1000), GD_KILL_FAILED);
        cr_assert_eq(out.why, GD_WHY_UNREADABLE);
        cr_assert_eq(out.value, 1);
        cr_assert_eq(out.err, -EBADMSG);
        /* Vanished processes are no gap. */
        snap.n_unreadable = 0;
        snap.n_gone = 5;
        cr_assert_eq(pre(&watched, 1000), GD_KILL_STARTED);
}

Test(kill_preconditions, a_dying_process_is_waited_for_a_bounded_time) {
        procs[1].info.mem.kill_pending = true;
        cr_assert_eq(pre(&watched, 10000), GD_KILL_WAITING);
        cr_assert_eq(out.why, GD_WHY_DYING);
        cr_assert(out.dying.first, "said once, on the first look");
        cr_assert_eq(out.dying.pid, 101);
        cr_assert_str_eq(out.dying.comm, "p1");
        cr_assert_eq(out.dying.rss_pages, 256);
        cr_assert_eq(pre(&watched, 14999), GD_KILL_WAITING);
        cr_assert_not(out.dying.first);
        /* Stuck in its exit: it must not disarm guardian. */
        cr_assert_eq(pre(&watched, 15000), GD_KILL_STARTED);
        cr_assert(out.dying.gave_up, "no longer waiting: said");
        cr_assert_eq(pre(&watched, 16000), GD_KILL_STARTED);
        cr_assert_not(out.dying.gave_up, "said within a second of giving up only");
        /* Another process dying: a wait of its own. */
        procs[1].info.mem.kill_pending = false;
        procs[2].info.stat.flags = PROC_PF_EXITING;
        cr_assert_eq(pre(&watched, 15001), GD_KILL_WAITING);
}

Test(kill_preconditions, the_memory_came_back) {
        currents[0] = 100ULL << 20;
        cr_assert_eq(pre(&watched, 1000), GD_KILL_WAITING);
        cr_assert_eq(out.why, GD_WHY_FELL);
        cr_assert_eq(out.value, 100ULL << 20);
        /* Host pressure (no watched cgroup) has no limit to re-check. */
        cr_assert_eq(pre(NULL, 1000), GD_KILL_STARTED);
}

/* Whatever the policy and the ranking: pid 1, guardian itself, init.scope,
 * guardian's own cgroup and the root cgroup's own processes (host pressure
 * on a hybrid host ranks the whole tree) are never victims. */
Test(kill_preconditions, who_is_never_a_victim) {
        gd_kill_env env = {.self_cgroup = "/system.slice/guardian.service"};
        char *cgs[4] = {"", "init.scope", "system.slice/guardian.service", "batch"};

        snap.cgroups = cgs;
        snap.n_cgroups = 4;
        for (size_t i = 0; i < 3; i++)
                procs[i].cgroup_index = 3;
        cr_assert_not(gd_kill_never_victim(&env, &snap, &procs[0]), "a batch job may go");
        procs[0].info.stat.pid = 1;
        cr_assert(gd_kill_never_victim(&env, &snap, &procs[0]), "pid 1");
        procs[0].info.stat.pid = getpid();
        cr_assert(gd_kill_never_victim(&env, &snap, &procs[0]), "guardian itself");
        for (size_t cg = 0; cg < 3; cg++) {
                procs[1].cgroup_index = cg;
                cr_assert(gd_kill_never_victim(&env, &snap, &procs[1]), "in %s", cgs[cg]);
        }
}
