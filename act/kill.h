/* The kill path: choose the victim the policy's ranking names in a
 * cgroup's subtree, kill it race-free (SIGTERM first when its workload
 * grants a grace), and follow it to its death; or kill a cgroup whole.
 *
 * It takes a small environment (the tree and /proc fds, the epoll set the
 * victims' pidfds join, guardian's cgroup namespace and own cgroup, the
 * policy, dry-run, the reaper) and returns typed outcomes: it does not
 * log, audit, count, send hooks or write decide's state. The daemon does
 * that, once per outcome. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "act/act.h"
#include "decide/badness.h"
#include "decide/decide.h"
#include "decide/verdict.h"
#include "policy/ident.h"
#include "policy/policy.h"
#include "proc/proc.h"
#include "proc/snapshot.h"
#include "watch/ident.h"
#include "watch/watch.h"

/* A victim still exiting this long after SIGKILL is reported (it may be
 * stuck in the kernel, or just slow to free its memory under thrashing)... */
#define GD_KILL_SLOW_MS 5000
/* ...and this long after, the kill counts as failed: back off, try the
 * next. Until then no other victim is taken for the same trouble: the
 * memory of the one dying is coming back. */
#define GD_KILL_DEADLINE_MS 30000
/* A process dying with its memory is waited for at most this long, as
 * the kernel's OOM reaper gives up on a victim that does not let go
 * (MMF_OOM_SKIP): a process stuck in its exit must not disarm guardian. */
#define GD_KILL_DYING_WAIT_MS 5000
/* Kills in flight at once; more would mean guardian is not the answer. */
#define GD_MAX_PENDING 16
/* Forfeited protections said per kill: the rest are counted. */
#define GD_KILL_FORFEITS_MAX 8
/* gd_inflight.owner of a host-wide kill (no watched cgroup answers for it). */
#define GD_KILL_OWNER_HOST UINT64_MAX

typedef struct gd_kill_env {
        int rootfd;              /* the cgroup tree */
        int procfd;              /* /proc */
        int epfd;                /* a victim's pidfd joins it, tagged GD_TAG_PIDFD */
        bool has_memory;         /* the tree's root has the memory controller */
        uint64_t page_size;
        const char *ns_root;     /* guardian's cgroup namespace root in the tree (gd_victim) */
        bool ns_unknown;         /* ...is not known: no single process is killed */
        const char *self_cgroup; /* guardian's cgroup in the tree, "/a/b" ("/": the root) */
        const pol_policy *policy; /* NULL: none (no ranking by workload) */
        bool dry_run;
        gd_reaper *reaper;       /* NULL: no early release */
        gd_ident_cursor *ids;    /* containers' identities (reset per call); NULL: none */
} gd_kill_env;

/* How a kill in flight ended. */
typedef enum gd_kill_end {
        GD_END_NONE,       /* still in flight */
        GD_END_EXITED,     /* its exit was seen */
        GD_END_TIMEOUT,    /* not gone GD_KILL_DEADLINE_MS after SIGKILL */
        GD_END_UNFINISHED, /* guardian stopped first: exit not seen */
} gd_kill_end;

/* What a look at the kills in flight has to tell (cleared by the caller
 * once said). */
typedef struct gd_kill_news {
        int sigkill_error; /* SIGKILL failed: negative errno (not -ESRCH) */
        bool slow;         /* still exiting GD_KILL_SLOW_MS after SIGKILL */
        bool reaper_full;  /* no early release: the reaper's queue is full */
        bool cut_short;    /* stopping: its SIGTERM grace was cut, SIGKILL sent */
} gd_kill_news;

/* A kill in flight, or (in an outcome) the process or cgroup acted on. */
typedef struct gd_inflight {
        bool used;
        bool term_only;        /* SIGTERM sent, SIGKILL due at sigkill_at_ms */
        int pidfd;
        uint64_t owner;        /* the caller's (an epoll tag of the watched cgroup), or
                                * GD_KILL_OWNER_HOST */
        /* In the pidfd's epoll tag: a wake-up left over from an earlier kill
         * in this slot (even one in the same epoll_wait batch) does not
         * match, and never finishes this one. */
        uint32_t tag_generation;
        uint64_t trigger_ms, kill_ms, sigkill_at_ms, deadline_ms;
        gd_decision decision;
        char cgroup[PATH_MAX]; /* relative to the tree's root */
        gd_container_names container; /* the container cgroup is (runtime ANY: none) */
        char workload[POL_NAME_MAX];
        char comm[PROC_COMM_MAX];
        char cmdline[PROC_CMDLINE_MAX]; /* redacted */
        gd_candidate cand;     /* pid 0: a cgroup; points: guardian's, after the policy */
        uid_t uid;
        uint64_t start_time, totalpages, memory_before;
        gd_kill_news news;
        bool slow_said;
        gd_kill_end end;
        uint64_t end_ms;
} gd_inflight;

/* The kills in flight, and the dying process the kill path waits for. */
typedef struct gd_kills {
        gd_inflight slot[GD_MAX_PENDING];
        uint32_t generation;   /* the last tag_generation given out */
        struct {
                pid_t pid;
                uint64_t start_time, since_ms;
        } waiting;
} gd_kills;

/* What a kill did. */
typedef enum gd_kill_result {
        GD_KILL_FAILED,  /* no kill: nothing choosable, an unreadable candidate, an error */
        GD_KILL_STARTED, /* a victim was signalled: its kill is in flight, and its end
                          * tells decide how it went */
        GD_KILL_DONE,    /* over at once: a dry run's "would kill", a cgroup killed
                          * whole, a notification */
        GD_KILL_WAITING, /* no kill: a process is already dying with its memory, the
                          * kernel's OOM killer took one since the decision, or the
                          * trouble went away since; look again later */
} gd_kill_result;

/* Why it stopped short of a kill, or why the kill failed. */
typedef enum gd_kill_why {
        GD_WHY_NONE,
        GD_WHY_SNAPSHOT,        /* the subtree could not be read (err; gone: cg_is_gone) */
        GD_WHY_UNREADABLE,      /* value candidates could not be read (err) */
        GD_WHY_DYING,           /* a process is dying with its memory (dying) */
        GD_WHY_FELL,            /* memory.current fell to value since the decision */
        GD_WHY_KERNEL_KILLED,   /* memory.events oom_kill rose since the decision */
        GD_WHY_NOTHING,         /* nothing guardian may kill */
        GD_WHY_TABLE_FULL,      /* GD_MAX_PENDING kills already in flight */
        GD_WHY_SIGNAL,          /* the victim could not be opened or signalled (err) */
        GD_WHY_CGROUP_KILL,     /* cgroup.kill could not be written (err) */
        GD_WHY_IDENT_PENDING,   /* the policy names containers, and the chosen victim's (pid
                                 * value) container identity is still being read: it could be
                                 * a protected one */
} gd_kill_why;

/* Why a cgroup is not killed whole (then its worst other process is). */
typedef enum gd_kill_shelter {
        GD_SHELTER_NONE,
        GD_SHELTER_PROTECTED,    /* guardian or init.scope is in it */
        GD_SHELTER_UNREADABLE,   /* its processes could not all be read */
        GD_SHELTER_NO_MEMORY,    /* out of memory ranking it */
        GD_SHELTER_NEVER,        /* shelter_pid is protected (never) */
        GD_SHELTER_ADJ_MIN,      /* shelter_pid is oom_score_adj -1000 */
        GD_SHELTER_NEVER_VICTIM, /* shelter_pid is guardian, pid 1 or in the root cgroup */
        GD_SHELTER_IDENT_PENDING, /* a container's identity in it is still being read */
} gd_kill_shelter;

/* What was acted on. */
typedef enum gd_kill_target {
        GD_TARGET_NONE,
        GD_TARGET_PROCESS, /* victim is the process */
        GD_TARGET_CGROUP,  /* victim is the cgroup (cand.pid 0) */
} gd_kill_target;

typedef struct gd_kill_outcome {
        gd_kill_result result;
        gd_kill_why why;
        int err;                  /* negative errno behind why, 0 for none */
        uint64_t value;           /* UNREADABLE: how many; FELL: memory.current */
        struct {
                pid_t pid;
                char comm[PROC_COMM_MAX];
                uint64_t rss_pages;
                bool first;       /* first look at this dying process */
                bool gave_up;     /* waited long enough: no longer waiting for it */
        } dying;                  /* DYING, or gave_up on the way to a kill */
        gd_kill_shelter shelter;  /* gd_kill_cgroup: why not whole */
        pid_t shelter_pid;
        char shelter_comm[PROC_COMM_MAX];
        size_t n_forfeited;       /* protections forfeited on the way to the victim */
        struct {
                pid_t pid;
                char why[sizeof(((gd_verdict *)0)->why)];
        } forfeited[GD_KILL_FORFEITS_MAX];
        gd_kill_target target;
        bool dry_run;             /* target was not signalled: a dry run */
        gd_inflight victim;       /* target != NONE: what was acted on */
        gd_inflight *in_flight;   /* STARTED: its slot in the kills */
} gd_kill_outcome;

/* What the caller asks: kill in rel's subtree (c its watched cgroup, NULL
 * host-wide) for dec, first seen at trigger_ms, memory_before the usage
 * decided on; owner goes into the kill in flight (gd_inflight.owner). */
typedef struct gd_kill_request {
        const gd_watched *c;
        const char *rel;
        const gd_decision *dec;
        const pol_workload *workload; /* c's workload (gd_kill_cgroup's record) */
        uint64_t trigger_ms, memory_before, owner;
} gd_kill_request;

/* Is rel guardian's own cgroup, init.scope, or below one of them? Their
 * processes are never victims. */
bool gd_kill_protected_cgroup(const gd_kill_env *env, const char *rel);

/* Never victims, whatever the policy: pid 1, guardian itself, its own
 * cgroup and the init system's, and the processes of the root cgroup
 * itself (system daemons on a host without systemd, or on a hybrid host
 * where host pressure ranks the whole tree). */
bool gd_kill_never_victim(const gd_kill_env *env, const gd_snapshot *snap,
                          const gd_proc_entry *e);

/* Before any ranking of snap (the subtree of rel, c its watched cgroup or
 * NULL): GD_KILL_FAILED when a candidate could not be read (a kill is made
 * on a complete set only), GD_KILL_WAITING while a process of it is dying
 * with its memory (for at most 5 s per process, remembered in k) or when
 * dec no longer holds against the usage the snapshot read, GD_KILL_STARTED
 * to go on. Says why in ret (why, dying). */
gd_kill_result gd_kill_preconditions(gd_kills *k, const gd_watched *c, const gd_decision *dec,
                                     const gd_snapshot *snap, uint64_t now,
                                     gd_kill_outcome *ret);

/* Kill the worst process of req->rel's subtree as the policy ranks it.
 * Kills only on a complete candidate set, never while a process of the
 * subtree is still dying with its memory or the kernel's OOM killer has
 * taken one in req->c since the decision's sample (memory.events
 * oom_kill), and not when the decision no longer holds. Fills ret (always)
 * and returns ret->result. */
gd_kill_result gd_kill_worst(gd_kills *k, const gd_kill_env *env, const gd_kill_request *req,
                             uint64_t now, gd_kill_outcome *ret);

/* Kill req->c whole (cgroup.kill); when guardian or init.scope is inside,
 * or a process in it forbids it (ret->shelter says which), its worst other
 * process instead (as gd_kill_worst). Fills ret, returns ret->result. */
gd_kill_result gd_kill_cgroup(gd_kills *k, const gd_kill_env *env, const gd_kill_request *req,
                              uint64_t now, gd_kill_outcome *ret);

/* The kill in flight a GD_TAG_PIDFD wake-up is for: the tag's slot of k,
 * in use, with the tag's generation. NULL for a tag of another kind, a
 * slot out of range, or a stale wake-up (its kill finished and the slot is
 * free or holds a newer kill). Pure. */
gd_inflight *gd_kills_for_tag(gd_kills *k, uint64_t tag);

/* Look at every kill in flight: an exit seen ends it (GD_END_EXITED), a
 * SIGTERM grace run out sends SIGKILL, a deadline passed ends it
 * (GD_END_TIMEOUT); news says the rest. Ended kills stay in k until
 * gd_kills_release. Returns true while any kill is in flight or ended. */
bool gd_kills_tick(gd_kills *k, const gd_kill_env *env, uint64_t now);

/* Guardian is stopping: a victim still in its SIGTERM grace gets its
 * SIGKILL now (news.cut_short). */
void gd_kills_cut_graces(gd_kills *k, const gd_kill_env *env, uint64_t now);

/* Then wait for every kill in flight at once, at most wait_ms: each exit
 * seen ends it (GD_END_EXITED); one that cannot be watched, or still alive
 * when the time is up, ends GD_END_UNFINISHED. Reads the clock: it waits. */
void gd_kills_wait(gd_kills *k, uint64_t wait_ms);

/* Forget an ended (or any) kill: its pidfd leaves the epoll set and is
 * closed, the slot is free. */
void gd_kills_release(const gd_kill_env *env, gd_inflight *p);

/* Any kill in flight (not ended)? */
bool gd_kills_any(const gd_kills *k);
