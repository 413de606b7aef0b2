/* The daemon's own state, shared by its files (start-up, the loop's
 * handlers, evaluation, the kill path's outcomes, the control socket's
 * documents); internal to daemon/. The rooms below never see it: watch
 * gets its set, act a small gd_kill_env (gd_daemon_kill_env). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "act/kill.h"
#include "record/audit.h"
#include "daemon/selfcg.h"
#include "daemon/control.h"
#include "daemon/loop.h"
#include "record/hooks.h"
#include "cgroup/host.h"
#include "daemon/sdnotify.h"
#include "daemon/policyload.h"
#include "record/stats.h"
#include "watch/ident.h"
#include "watch/watch.h"
#include "policy/policy.h"
#include "util/clock.h"

/* At shutdown, kills in flight are waited for this long: a SIGKILLed
 * process with a CPU is gone in milliseconds, so most records can say
 * "killed", and the stop stays well inside systemd's TimeoutStopSec=30s
 * and Kubernetes' 30 s termination grace. */
#define GD_SHUTDOWN_WAIT_MS 2000

typedef struct gd_daemon {
        gd_host host;
        gd_watch watch;
        pol_policy *policy;
        gd_policy_source policy_src;
        bool reload_pending;
        uint64_t reload_at_ms;
        uint64_t last_enforce_ms;
        bool knobs;            /* pure v2 with memory: libcgroup may write knobs */
        gd_reaper *reaper;
        gd_audit *audit;
        gd_hooks *hooks;       /* the hook runner; NULL: none */
        int epfd, sigfd, timerfd, host_psi_fd;
        bool cli_dry_run;
        bool dry_run;          /* the command line's or the policy's */
        bool fast;
        char self_cgroup[PATH_MAX]; /* "/a/b": guardian's cgroup in the tree */
        gd_cgns cgns;          /* guardian's cgroup namespace (cgns.h) */
        gd_cgroup_state host_state;
        bool host_hot;         /* host memory use above HOST_HOT_RATIO */
        bool host_psi_trigger; /* the host's PSI trigger is armed */
        gd_kills kills;        /* the kill path's: kills in flight */
        uint64_t last_light_ms;
        uint64_t slow_tick_ms; /* the policy's poll_interval */
        gd_sdnotify sdnotify;  /* the service manager's socket (sd_notify) */
        gd_stats stats;        /* metrics and recent kills */
        gd_control control;    /* the control socket and metrics listener */
        uint64_t start_ms;     /* monotonic */
        int64_t start_unix_ms;
        bool sandboxed;        /* the seccomp filter is installed */
        /* Containers' identities (watch/ident.h): read from the runtimes'
         * state under host.hostfd as their cgroups appear; a cursor for
         * the watch set's lookups and one for the kill path's. */
        gd_ident_src ident_src;
        gd_idcache *ids;       /* NULL: could not be made (identity off) */
        gd_ident_cursor *watch_ids, *kill_ids;
} gd_daemon;

/* ---- handlers.c: the loop's handlers, the tick, reloads ---- */

/* Arm the tick timer fast (while anything is hot) or at the policy's
 * poll_interval; a no-op when it already runs at that pace. */
void gd_set_tick(gd_daemon *d, bool fast);

/* Take the policy's settings (dry_run, poll_interval) into d. */
void gd_apply_settings(gd_daemon *d);

/* Tell the service manager guardian is ready, with a status line. */
void gd_daemon_ready(gd_daemon *d);

/* Register every source's handler on l (on d->epfd), and the hook run
 * after each wake-up (notices, the loop's cost). */
void gd_loop_register(gd_daemon *d, gd_loop *l);

/* ---- evaluate.c: from a sample to an outcome ---- */

/* A watched cgroup may be in trouble (an event, a trigger, a tick): sample
 * it, decide, and act on the decision as its workload says (evaluate.c).
 * A cgroup found gone is dropped from the watch. */
void gd_evaluate(gd_daemon *d, gd_watched *c, uint64_t now);

/* The host may be in trouble (its PSI trigger, a tick): sample
 * /proc/meminfo and the root's PSI, decide, blame a cgroup first, then
 * kill its worst process (or notify, or kill the cgroup, as its workload
 * says). Sets host_hot. */
void gd_evaluate_host(gd_daemon *d, uint64_t now);

/* The thresholds for a cgroup's workload (NULL: the policy's defaults). */
void gd_thresholds_for(const gd_daemon *d, const pol_workload *w, gd_thresholds *ret);

/* ---- killer.c: the kill path's outcomes ---- */

/* The kill path's environment from the daemon's state. */
void gd_daemon_kill_env(const gd_daemon *d, gd_kill_env *ret);

/* Act on c (a slot of d->watch; NULL: host-wide) for dec,
 * in rel's subtree, as action says: kill its worst process
 * (POL_ACTION_KILL_PROCESS) or kill c whole (POL_ACTION_KILL_CGROUP; w its
 * workload), and say the outcome once: log, audit, statistics, hooks. Returns the result for
 * decide to learn (a kill in flight learns at its end). */
gd_kill_result gd_daemon_kill(gd_daemon *d, gd_watched *c, const char *rel,
                              const pol_workload *w, pol_action action, const gd_decision *dec,
                              uint64_t trigger_ms, uint64_t memory_before, uint64_t now);

/* The workload's action is notify: log and audit, kill nothing.
 * GD_KILL_DONE. */
gd_kill_result gd_notify(gd_daemon *d, gd_watched *c, const pol_workload *w,
                         const gd_decision *dec, uint64_t memory_before, uint64_t now);

/* Close out a kill in flight that ended how (exited, timed out, or left
 * unfinished at shutdown): audit record, log, post-kill hook, decide's
 * state for the cgroup it answers for, its slot freed. */
void gd_finish_pending(gd_daemon *d, gd_inflight *p, gd_kill_end how, uint64_t now);

/* Kills in flight on a tick: exits seen, SIGTERM graces run out, deadlines,
 * each said and closed out. Returns true while any kill is in flight. */
bool gd_pending_tick(gd_daemon *d, uint64_t now);

/* Guardian is stopping: close out every kill in flight truthfully. A
 * victim still in its SIGTERM grace gets its SIGKILL now; then all are
 * waited for at once, at most wait_ms (GD_SHUTDOWN_WAIT_MS; tests pass
 * less). A victim seen exiting is recorded "killed", one still alive
 * "unfinished". */
void gd_pending_shutdown(gd_daemon *d, uint64_t wait_ms);

/* The control socket's documents from the daemon's state (a
 * gd_control_render_fn; userdata is the gd_daemon). */
int gd_daemon_render(void *userdata, gd_control_doc doc, char **ret_body, size_t *ret_len);

/* The daemon's state generation for the control socket's cache (a
 * gd_control_generation_fn): moves on kills, decisions and reloads. */
uint64_t gd_daemon_generation(void *userdata);
