/* The watch set: every cgroup below the root, with its files kept open so
 * that a wake-up costs a pread, not an open. Cgroups are followed as they
 * come and go (inotify on every directory). Each epoll registration carries
 * a tag with the slot and its generation, so an event for a cgroup that
 * was removed (and whose slot was reused) is recognised and dropped. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decide/decide.h"
#include "policy/policy.h"
#include "util/evtag.h"
#include "util/index.h"
#include "watch/ident.h"

typedef struct gd_watched {
        bool in_use;
        uint32_t generation;
        uint32_t next_free;   /* while not in use: the next free slot + 1, 0: none */
        char *rel;            /* relative to the root; "" is the root itself */
        int dirfd;
        int wd;               /* inotify watch descriptor of the directory */
        int events_fd;        /* memory.events; -1 without the memory controller */
        int current_fd;       /* memory.current; -1 likewise */
        int pressure_fd;      /* memory.pressure, kept open for reads */
        bool psi_trigger;     /* pressure_fd carries a PSI trigger (only while warm) */
        uint64_t max;         /* memory.max at the last full sample */
        uint64_t high;        /* memory.high likewise */
        uint64_t last_current;
        uint64_t window_ms, window_min, prev_window_min; /* lowest usage, this and the last window */
        uint64_t growth;      /* bytes above the lowest usage of the last 1-2 windows */
        uint64_t last_psi_total_us, last_psi_ms;
        uint64_t hot_until_ms;      /* sample on every fast tick until then */
        uint64_t last_look_ms;      /* the last light check */
        uint64_t next_look_ms;      /* the next one is due (decide/look.h) */
        uint64_t trouble_since_ms;  /* first sign of trouble, for the audit's latency */
        bool kill_pending;
        bool unwatched_below; /* cgroups below are not watched on their own
                               * (depth cap, fd budget): it answers for them */
        gd_cgroup_state state;
        /* gd_watch_workload's cache: the workload by path alone, found in
         * workload_policy at the watch's policy_gen (NULL: not looked up;
         * a reused slot starts zeroed). */
        const pol_workload *workload;
        const pol_policy *workload_policy;
        uint32_t workload_policy_gen;
} gd_watched;

/* What the watch has to tell the operator. The watch does not log: it
 * keeps each kind of notice, once per run, with the first cgroup it
 * concerns, until the daemon takes it (gd_watch_take_notice) and says it. */
typedef enum gd_watch_notice_kind {
        GD_WATCH_PSI_REFUSED,  /* the kernel refused a PSI trigger (err): averages are polled */
        GD_WATCH_NO_DIR_WATCH, /* inotify_add_watch failed (err): children are listed instead */
        GD_WATCH_TOO_DEEP,     /* a cgroup GD_WATCH_MAX_DEPTH deep has children */
        GD_WATCH_BUDGET,       /* the fd budget is reached at n_watched cgroups */
        GD_WATCH_OUT_OF_FDS,   /* EMFILE at n_watched cgroups: some are NOT watched */
        GD_WATCH_NOTICE_KINDS,
} gd_watch_notice_kind;

typedef struct gd_watch_notice {
        gd_watch_notice_kind kind;
        char cgroup[PATH_MAX]; /* relative to the root, "" for the root */
        int err;               /* positive errno, where the kind has one */
        size_t n_watched;
} gd_watch_notice;

/* PSI triggers armed at once, at most: on Linux 6.1 each cgroup with a
 * trigger gets a kernel thread of its own (psimon, 16 KiB of stack and a
 * task), so they go to the warm cgroups first come; the rest are polled
 * on their light checks. */
#define GD_WATCH_TRIGGERS_MAX 64
/* A cgroup is warm at this share of its limit (the lower of memory.max and
 * memory.high): below it, its own limit cannot stall it (pressure from the
 * host or an ancestor's limit is theirs to see), so it needs no PSI. */
#define GD_WATCH_WARM_RATIO 0.50
/* ...and cool again under this share (hysteresis: a trigger is not armed
 * and dropped on every wobble). */
#define GD_WATCH_COOL_RATIO 0.40

/* Cgroups deeper than this are not watched on their own: their memory
 * and processes count to their ancestor at this depth. */
#define GD_WATCH_MAX_DEPTH 32

typedef struct gd_watch {
        int epfd;
        int inotify_fd;
        int rootfd;
        bool has_memory;
        bool psi_triggers;     /* false once the kernel refused one */
        gd_watch_notice notices[GD_WATCH_NOTICE_KINDS];
        unsigned notices_kept;  /* bit per kind: kept, not yet taken */
        unsigned notices_made;  /* bit per kind: made once, never again */
        uint64_t look_min_ms;  /* the shortest delay between light checks (the slow
                                * tick); 0: GD_LOOK_MIN_MS */
        size_t max_watched;    /* the fd budget in cgroups; 0: no budget */
        size_t n_unwatched;    /* cgroups left out for the budget (last walk) */
        size_t evict_cursor;   /* where make_room looks next: spreads evictions */
        bool no_room;          /* this walk found nothing to evict */
        uint64_t last_rescan_ms;
        /* inotify_add_watch refused (max_user_watches reached: ENOSPC):
         * those cgroups' new children are found by
         * gd_watch_retry_dir_watches. */
        uint64_t watch_failures;  /* refusals so far, retries included */
        size_t n_no_dir_watch;    /* cgroups in use without a directory watch */
        gd_watched *slots;
        size_t n_slots;        /* slots in use or free, up to cap */
        size_t cap;
        size_t n_watched;
        size_t n_triggers;     /* cgroups with a PSI trigger armed */
        /* Slots in use by path and by directory watch, so an inotify event
         * or a new cgroup costs O(1) at any count; the keys of by_rel are
         * the slots' own rel strings. Free slots below n_slots are a
         * stack through gd_watched.next_free. */
        gd_index by_rel;
        gd_index by_wd;
        uint32_t free_top;     /* the last slot freed + 1, 0: none */
        uint32_t next_generation;
        uint32_t policy_gen;   /* bumped on every policy change: cached workloads are stale */
        /* Container identity, told of every cgroup the watch adds and
         * removes (NULL: identity off). Not owned: gd_watch_set_ids. */
        gd_idcache *ids;
        /* Where gd_watch_workload (and a pass over the set) looks an
         * identity up: on ids; NULL: none. The caller's. */
        gd_ident_cursor *ident_cursor;
} gd_watch;

/* Growth is measured from the lowest usage seen over the last one to two
 * of these windows: long enough to remember a hog that grew and then
 * stalled, short enough to forget yesterday's start-up. */
#define GD_GROWTH_WINDOW_MS 30000

/* fds a watched cgroup holds: its directory, memory.events, memory.current,
 * memory.pressure. */
#define GD_WATCH_FDS_PER_CGROUP 4
/* fds never spent on watching: the kill path's snapshot (a directory per
 * level, up to 65, and /proc reads), 16 pidfds, control clients, hooks,
 * the audit and policy files. */
#define GD_WATCH_FD_RESERVE 256
/* While cgroups are left out for the budget, the tree is walked again this
 * often: new cgroups below unwatched ones are found, and ones that got
 * processes or limits take the place of empty ones. */
#define GD_WATCH_RESCAN_MS 10000

/* Set up: an inotify instance registered in epfd. Returns 0 or -errno. */
int gd_watch_init(gd_watch *w, int epfd, int rootfd, bool has_memory);

/* Watch rel and every cgroup below it (already watched ones are kept).
 * Returns the number added, or a negative errno for rel itself (-ENOENT:
 * gone already, which callers treat as normal; -ENOMEM: rel is not
 * watched, and nothing of the watch is left half-changed). */
int gd_watch_add_tree(gd_watch *w, const char *rel);

/* Bound the cgroups watched by the open-files limit nofile, keeping
 * GD_WATCH_FD_RESERVE fds for everything else. */
void gd_watch_set_fd_budget(gd_watch *w, uint64_t nofile);

/* How many cgroups that budget allows with nofile open files. Pure. */
size_t gd_watch_budget_for(uint64_t nofile);

/* While cgroups are left out for the fd budget, walk the tree again (at
 * most every GD_WATCH_RESCAN_MS): recounts them, adds what fits, lets ones
 * worth watching take the place of empty ones. Returns the number added. */
int gd_watch_rescan(gd_watch *w, uint64_t now_ms);
/* For the slow tick: every cgroup whose directory watch was refused gets
 * it retried, then its children listed, so a child created meanwhile is
 * added (with its subtree). Returns the number of cgroups added. */
int gd_watch_retry_dir_watches(gd_watch *w);

/* The slot watching rel (relative to the root, "" for the root), or
 * NULL. O(1). */
gd_watched *gd_watch_find(const gd_watch *w, const char *rel);

/* The slot whose directory has the inotify watch descriptor wd, or NULL. */
gd_watched *gd_watch_find_wd(const gd_watch *w, int wd);

/* Stop watching one slot: close its fds, free its path. */
void gd_watch_remove(gd_watch *w, size_t slot);

/* Drain the inotify fd: add created cgroups, remove deleted ones.
 * Returns 0 or a negative errno. */
int gd_watch_handle_inotify(gd_watch *w);

/* The slot for a tag, or NULL if the tag is stale. */
gd_watched *gd_watch_lookup(gd_watch *w, uint64_t tag);

/* Which of a watched cgroup's files gd_watch_read() reads. */
enum {
        GD_READ_EVENTS = 1 << 0, /* memory.events */
        GD_READ_MEMORY = 1 << 1, /* memory.current, memory.max, memory.high */
        GD_READ_STAT = 1 << 2,   /* memory.stat, memory.oom.group */
        GD_READ_PSI = 1 << 3,    /* memory.pressure */
        GD_READ_ALL = (1 << 4) - 1,
};

/* The one reader of a watched cgroup's files, through the fds the watch
 * keeps open: those of what (GD_READ_*) it has (no memory controller: no
 * memory files). Fields not read, or that could not be, are marked not
 * ok. Returns 0, or a negative errno for which cg_is_gone() holds when
 * the cgroup is gone. Changes nothing in c: a status request reads what
 * a sample reads without moving the watch's baselines. */
int gd_watch_read(const gd_watched *c, unsigned what, uint64_t now_ms, gd_sample *ret_sample);

/* Read everything decide needs about one cgroup. Returns 0; -ENODEV or
 * -ENOENT when the cgroup is gone (the caller removes it). Fields that
 * could not be read are marked not ok. */
int gd_watch_sample(gd_watch *w, gd_watched *c, uint64_t now_ms, gd_sample *ret_sample);

/* Cheap check for the slow tick: memory.current against the last known
 * memory.max (read again first while it is "max": a limit set since), and
 * the PSI total where no trigger is armed. Schedules the next check
 * (next_look_ms) from the headroom and the growth seen (decide/look.h).
 * Returns true when the cgroup should get a full sample now. */
bool gd_watch_light_check(gd_watch *w, gd_watched *c, uint64_t now_ms);

/* Arm (on) or drop a PSI trigger on c's memory.pressure; without one, its
 * pressure_fd is a plain fd the light check polls. Arming is refused past
 * GD_WATCH_TRIGGERS_MAX or once the kernel refused a trigger (kept as a
 * notice: every cgroup is polled from then on). Returns true when c has a
 * trigger afterwards. */
bool gd_watch_set_trigger(gd_watch *w, gd_watched *c, bool on);

/* The policy was replaced (a reload): every cached workload is looked up
 * again on its next use. */
void gd_watch_policy_changed(gd_watch *w);

/* The workload c belongs to by its path alone (pol_find_workload with the
 * cgroup only), or NULL (also without a policy). The path of a slot never
 * changes, so the answer is kept until the policy changes or the slot is
 * reused: the glob matching runs once, not on every sample. */
const pol_workload *gd_watch_workload(gd_watch *w, gd_watched *c, const pol_policy *p);

/* Tell ids (NULL: none) of every cgroup added and removed from now on
 * (gd_idcache_appear, gd_idcache_gone), and of those watched already; the
 * cache set before is told they went. ids stays the caller's: free it
 * after gd_watch_free, or after setting another. */
void gd_watch_set_ids(gd_watch *w, gd_idcache *ids);

void gd_watch_free(gd_watch *w);

/* Take the next notice the watch kept (the lowest kind first). Returns
 * true and fills *ret, or false when there is none. */
bool gd_watch_take_notice(gd_watch *w, gd_watch_notice *ret);
