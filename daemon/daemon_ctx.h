/* Internal to the daemon (daemon.c, killer.c): its state, shared by the
 * loop and the kill path. Not an API. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc/proc.h"
#include "act/act.h"
#include "record/audit.h"
#include "decide/badness.h"
#include "daemon/selfcg.h"
#include "daemon/control.h"
#include "daemon/loop.h"
#include "decide/decide.h"
#include "record/hooks.h"
#include "cgroup/host.h"
#include "daemon/sdnotify.h"
#include "daemon/policyload.h"
#include "proc/snapshot.h"
#include "record/stats.h"
#include "watch/watch.h"
#include "policy/policy.h"
#include "util/clock.h"

/* A victim still exiting this long after SIGKILL is reported (it may be
 * stuck in the kernel, or just slow to free its memory under thrashing)... */
#define GD_KILL_SLOW_MS 5000
/* ...and this long after, the kill counts as failed: back off, try the
 * next. Until then no other victim is taken for the same trouble: the
 * memory of the one dying is coming back. */
#define GD_KILL_DEADLINE_MS 30000
/* At shutdown, kills in flight are waited for this long: a SIGKILLed
 * process with a CPU is gone in milliseconds, so most records can say
 * "killed", and the stop stays well inside systemd's TimeoutStopSec=30s
 * and Kubernetes' 30 s termination grace. */
#define GD_SHUTDOWN_WAIT_MS 2000
/* Kills in flight at once; more would mean guardian is not the answer. */
#define GD_MAX_PENDING 16

typedef struct pending_kill {
        bool used;
        bool term_only;        /* SIGTERM sent, SIGKILL due at sigkill_at_ms */
        bool slow_logged;
        int pidfd;
        uint32_t slot, generation; /* the watched cgroup; slot UINT32_MAX: host-wide */
        /* In the pidfd's epoll tag: a wake-up left over from an earlier kill
         * in this slot (even one in the same epoll_wait batch) does not
         * match, and never finishes this one. */
        uint32_t tag_generation;
        uint64_t trigger_ms, kill_ms, sigkill_at_ms, deadline_ms;
        gd_decision decision;
        char cgroup[PATH_MAX];
        char workload[POL_NAME_MAX];
        char comm[PROC_COMM_MAX];
        char cmdline[PROC_CMDLINE_MAX];
        gd_candidate cand;     /* points: guardian's, after the policy */
        uid_t uid;
        uint64_t start_time, totalpages, memory_before;
} pending_kill;

typedef struct daemon_ctx {
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
        pending_kill pending[GD_MAX_PENDING];
        uint32_t pending_generation; /* the last tag_generation given out */
        uint64_t last_light_ms;
        uint64_t slow_tick_ms; /* the policy's poll_interval */
        gd_sdnotify sdnotify;  /* the service manager's socket (sd_notify) */
        gd_stats stats;        /* metrics and recent kills */
        gd_control control;    /* the control socket and metrics listener */
        uint64_t start_ms;     /* monotonic */
        int64_t start_unix_ms;
        bool sandboxed;        /* the seccomp filter is installed */
} daemon_ctx;

/* ---- handlers.c: the loop's handlers, the tick, reloads ---- */

/* Arm the tick timer fast (while anything is hot) or at the policy's
 * poll_interval; a no-op when it already runs at that pace. */
void gd_set_tick(daemon_ctx *d, bool fast);

/* Take the policy's settings (dry_run, poll_interval) into d. */
void gd_apply_settings(daemon_ctx *d);

/* Tell the service manager guardian is ready, with a status line. */
void gd_daemon_ready(daemon_ctx *d);

/* Register every source's handler on l (on d->epfd), and the hook run
 * after each wake-up (notices, the loop's cost). */
void gd_loop_register(daemon_ctx *d, gd_loop *l);

/* ---- evaluate.c: from a sample to an outcome ---- */

/* A watched cgroup may be in trouble (an event, a trigger, a tick): sample
 * it, decide, and act on the decision as its workload says (evaluate.c).
 * A cgroup found gone is dropped from the watch. */
void gd_evaluate(daemon_ctx *d, gd_watched *c, uint64_t now);

/* The host may be in trouble (its PSI trigger, a tick): sample
 * /proc/meminfo and the root's PSI, decide, blame a cgroup first, then
 * kill its worst process (or notify, or kill the cgroup, as its workload
 * says). Sets host_hot. */
void gd_evaluate_host(daemon_ctx *d, uint64_t now);

/* The thresholds for a cgroup's workload (NULL: the policy's defaults). */
void gd_thresholds_for(const daemon_ctx *d, const pol_workload *w, gd_thresholds *ret);

/* Is rel guardian's own cgroup, init.scope, or below one of them? Their
 * processes are never victims. */
bool gd_cgroup_protected(const daemon_ctx *d, const char *rel);

/* What gd_kill_worst() did. */
typedef enum gd_kill_result {
        GD_KILL_FAILED,  /* no kill: nothing choosable, an unreadable candidate, an error */
        GD_KILL_STARTED, /* a victim was signalled: its kill is in flight, and its end
                          * (gd_finish_pending) tells decide how it went */
        GD_KILL_DONE,    /* over at once: a dry run's "would kill", a cgroup killed
                          * whole, a notification */
        GD_KILL_WAITING, /* no kill: a process is already dying with its memory, the
                          * kernel's OOM killer took one since the decision, or the
                          * trouble went away since; look again later */
} gd_kill_result;

/* Never victims, whatever the policy: pid 1, guardian itself, its own
 * cgroup and the init system's, and the processes of the root cgroup
 * itself (system daemons on a host without systemd, or on a hybrid host
 * where host pressure ranks the whole tree). */
bool gd_kill_never_victim(const daemon_ctx *d, const gd_snapshot *snap, const gd_proc_entry *e);

/* Before any ranking of snap (the subtree of rel, c its watched cgroup or
 * NULL): GD_KILL_FAILED when a candidate could not be read (a kill is made
 * on a complete set only), GD_KILL_WAITING while a process of it is dying
 * with its memory (for at most 5 s per process) or when dec no longer
 * holds against the usage the snapshot read, GD_KILL_STARTED to go on.
 * Logs why it stops. */
gd_kill_result gd_kill_preconditions(const gd_watched *c, const char *rel,
                                     const gd_decision *dec, const gd_snapshot *snap,
                                     uint64_t now);

/* Kill the worst process of rel's subtree as the policy ranks it. c is the
 * watched cgroup that triggered (NULL for host-wide pressure). Kills only
 * on a complete candidate set, never while a process of the subtree is
 * still dying with its memory or the kernel's OOM killer has taken one in
 * c since the decision's sample (memory.events oom_kill), and not when the
 * decision no longer holds. */
gd_kill_result gd_kill_worst(daemon_ctx *d, gd_watched *c, const char *rel, const gd_decision *dec,
                   uint64_t trigger_ms, uint64_t memory_before, uint64_t now);

/* Kill a whole cgroup (memory.oom.group, or the workload's action); when
 * guardian or init.scope is inside, its worst other process instead (as
 * gd_kill_worst). Neither this nor gd_kill_worst nor gd_notify writes
 * decide's state: the caller records the outcome they return. */
gd_kill_result gd_kill_cgroup(daemon_ctx *d, gd_watched *c, const gd_decision *dec,
                              uint64_t memory_before, uint64_t now);

/* The workload's action is notify: log and audit, kill nothing.
 * GD_KILL_DONE. */
gd_kill_result gd_notify(daemon_ctx *d, gd_watched *c, const pol_workload *w,
                         const gd_decision *dec, uint64_t memory_before, uint64_t now);

/* Close out a kill in flight that ended as result (GD_RESULT_KILLED,
 * TIMEOUT or UNFINISHED): audit record, log, post-kill hook, state, fds. */
void gd_finish_pending(daemon_ctx *d, pending_kill *p, gd_audit_result result, uint64_t now);

/* The kill in flight a GD_TAG_PIDFD wake-up is for: the tag's slot of
 * pending (n of them), in use, with the tag's generation. NULL for a tag of
 * another kind, a slot out of range, or a stale wake-up (its kill finished
 * and the slot is free or holds a newer kill). Pure. */
pending_kill *gd_pending_for_tag(pending_kill *pending, size_t n, uint64_t tag);

/* Kills in flight on a tick: exits seen, SIGTERM graces run out, deadlines.
 * Returns true while any kill is in flight. */
bool gd_pending_tick(daemon_ctx *d, uint64_t now);

/* Guardian is stopping: close out every kill in flight truthfully. A
 * victim still in its SIGTERM grace gets its SIGKILL now; then all are
 * waited for at once, at most wait_ms (GD_SHUTDOWN_WAIT_MS; tests pass
 * less). A victim seen exiting is recorded "killed", one still alive
 * "unfinished". */
void gd_pending_shutdown(daemon_ctx *d, uint64_t wait_ms);

/* The control socket's documents from the daemon's state (a
 * gd_control_render_fn; userdata is the daemon_ctx). */
int gd_daemon_render(void *userdata, gd_control_doc doc, char **ret_body, size_t *ret_len);

/* The daemon's state generation for the control socket's cache (a
 * gd_control_generation_fn): moves on kills, decisions and reloads. */
uint64_t gd_daemon_generation(void *userdata);
