/* Container identity, read: which container a cgroup belongs to, from
 * the runtimes' state files on the host (policy/ident.h says which file
 * holds what), and a cache the watch set keeps of it (issue 11). No
 * logging: typed states and negative errnos, which the daemon says.
 *
 * Where each runtime's files are read, relative to the host's root
 * (gd_ident_src.hostfd), for a container id taken from the cgroup path:
 *   Docker      var/lib/docker/containers/<id>/config.v2.json
 *   containerd  run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/
 *               config.json, <ns> k8s.io, moby, default, then up to 32
 *               other namespace directories listed there
 *   CRI-O       {run,var/lib}/containers/storage/<driver>-containers/<id>/
 *               userdata/config.json (driver overlay, vfs, btrfs, zfs), the
 *               first that is there
 *   Podman      the same config.json, merged with the container's entry
 *               in <driver>-containers/{volatile-containers,containers}.json
 *               under run/ then var/lib/ containers/storage
 *   a bare id under a cgroupfs pod (kubepods/<qos>/pod<uid>/<id>: the path
 *               does not name the runtime; or Docker's cgroupfs driver under
 *               --cgroup-parent): Docker, containerd, CRI-O.
 * Only an id of exactly 64 lowercase hex digits is ever put in a path
 * (every runtime names a container's cgroup by its full id); a shorter
 * one is a lookalike: UNAVAILABLE, nothing opened. Every component is
 * opened with O_NOFOLLOW relative to the one before (a symlink anywhere
 * is refused, -ELOOP or -ENOTDIR); the file must be a regular one of at
 * most GD_JREAD_SIZE_MAX bytes (1 MiB; more: -EFBIG), opened
 * O_NONBLOCK (a FIFO does not hang the loop).
 *
 * Trust: a tenant with a cgroup subtree of its own (a delegated
 * user@UID.service, a container with a writable cgroupfs) can make a
 * cgroup named docker-<the database's id>.scope inside it, to have its
 * hog matched as the database. So:
 * (a) The OUTERMOST component of the path that names a container is the
 *     container: one named inside another container's cgroup belongs to
 *     the outer one, and every sub-cgroup of a container's cgroup shares
 *     its identity. The cache is keyed by that prefix of the path.
 * (b) Every directory from the cgroup root down to the container's
 *     cgroup (the root and the container's included; fstatat, no
 *     symlinks followed, at most GD_IDENT_DEPTH_MAX levels) must be owned
 *     by gd_ident_src.owner (uid 0; a test passes its own): one that is
 *     not was made by, or given to, someone else: UNTRUSTED. Rootless
 *     Docker and Podman containers live in their user's delegated
 *     subtree and are UNTRUSTED by this rule, rightly: that user could
 *     name a cgroup anything.
 * (c) Docker and containerd, when gd_ident_src.procfd >= 0: the
 *     container's process (Docker: the file's State.Pid, with
 *     State.Running true; containerd: the bundle's init.pid, which runc
 *     writes) must be one whose cgroup, read from procfd/<pid>/cgroup, is
 *     the container's cgroup or below it; one elsewhere is UNTRUSTED. No
 *     pid yet (not running, no init.pid) or the process gone is PENDING:
 *     a starting container's cgroup appears before its pid is written.
 *     Not checked for CRI-O and Podman: their pid (userdata/pidfile) is
 *     the container's, and their conmon scopes (crio-conmon-<id>.scope)
 *     hold conmon, not it; not read yet. The cgroup paths compared are
 *     as procfd's reader sees them: the cgroup root must be its cgroup
 *     namespace's root (the usual mount), and procfd the host's pid
 *     namespace's /proc, or every check is PENDING until UNAVAILABLE.
 * UNTRUSTED is kept: the same names give the same answer. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/container.h"
#include "policy/ident.h"

typedef enum gd_ident_state {
        GD_IDENT_NONE,        /* not a container's cgroup */
        GD_IDENT_PENDING,     /* a container's; its state not read yet (retrying) */
        GD_IDENT_KNOWN,
        GD_IDENT_UNAVAILABLE, /* gave up: no readable state file after the retry window,
                               * a lookalike id, or the cache is full */
        GD_IDENT_UNTRUSTED,   /* named like a container, but in a subtree a tenant
                               * could have made: no identity */
} gd_ident_state;

/* Levels from the cgroup root to a container's cgroup checked for their
 * owner; a container deeper than this is UNTRUSTED (the watch stops at 32). */
#define GD_IDENT_DEPTH_MAX 64

/* Where the files are. The fds are borrowed: the caller keeps them open
 * while they are used and closes them. */
typedef struct gd_ident_src {
        int hostfd;   /* the host's "/" (or --host-root DIR) */
        int cgrootfd; /* the cgroup tree's root */
        int procfd;   /* the host's /proc for rule (c); -1: not checked */
        uid_t owner;  /* who owns the cgroup tree's directories (rule (b)): 0 */
        /* Where guardian's cgroup namespace root is in the tree ("/a/b"; NULL
         * or "/": the tree's root), so that rule (c) reads a pid's
         * /proc/PID/cgroup as a path of the tree (cgroup/cgns.h). */
        const char *ns_root;
} gd_ident_src;

/* The prefix of cgroup rel (relative to the root, no leading slash) up to
 * and including its outermost component that names a container (rule (a))
 * into buf (size bytes), and what that component says into *ret_pc.
 * Returns 1 when rel is at or below a container's cgroup, 0 when not
 * (buf and *ret_pc untouched), -ENAMETOOLONG when it does not fit. Pure. */
int gd_ident_container_of(const char *rel, char *buf, size_t size, pol_container *ret_pc);

/* One-shot: the identity of the container cgroup rel belongs to (for the
 * CLI). Returns 0 and *ret_state: NONE, KNOWN (*ret filled), UNTRUSTED,
 * or UNAVAILABLE (a lookalike id); or a negative errno when no state
 * file could be read now, which a later try may change (the cache's
 * PENDING): -ENOENT none there, -EBADMSG cut short or malformed (containerd
 * writes in place), -EFBIG over 1 MiB, -ELOOP or -ENOTDIR a symlink in
 * the way, -EINVAL not a regular file, -ESRCH rule (c) has no pid yet
 * (or its process is gone), -ENOMEM; the outputs are untouched then. */
int gd_ident_read(const gd_ident_src *src, const char *rel, gd_container_ident *ret,
                  gd_ident_state *ret_state);

/* The cache: one entry per container cgroup (the prefix of rule (a)),
 * made when the first cgroup at or below it appears, dropped when the
 * last one goes. Memory: an entry is about 100 bytes plus its path; a
 * KNOWN one adds a compact copy of its identity (its strings and labels
 * only: typically under 2 KiB, at most about 18 KiB). Bounded at
 * GD_IDCACHE_ENTRIES_MAX entries and GD_IDCACHE_BYTES_MAX bytes of
 * identities: a container past either is UNAVAILABLE. A state once
 * decided is kept while the entry lives: a renamed container (docker
 * rename) shows its new name when its cgroup is made again (a restart). */
#define GD_IDCACHE_ENTRIES_MAX 16384
#define GD_IDCACHE_BYTES_MAX   (64u * 1024 * 1024)
/* Retries of a PENDING entry: after 100 ms, doubling up to 2 s, for 60 s
 * from its first try; then UNAVAILABLE. */
#define GD_IDCACHE_RETRY_MIN_MS 100
#define GD_IDCACHE_RETRY_MAX_MS 2000
#define GD_IDCACHE_GIVE_UP_MS   60000

typedef struct gd_idcache gd_idcache;

/* A cache reading through *src (copied; its fds stay the caller's).
 * Returns 0, or -ENOMEM (*ret untouched). */
int gd_idcache_new(const gd_ident_src *src, gd_idcache **ret);

/* Free c and everything in it. NULL is fine. */
void gd_idcache_free(gd_idcache *c);

/* Cgroup rel appeared (the watch set calls it for every cgroup it adds).
 * No file I/O: a container's cgroup is queued, due at once; the retry
 * window starts at the first tick that tries it (the watch's add paths
 * have no clock, and that tick comes at once: gd_idcache_next_ms is 0).
 * Every appear of a rel is paired with one gd_idcache_gone of it. */
void gd_idcache_appear(gd_idcache *c, const char *rel);

/* Cgroup rel went (or is no longer watched): when it was the last cgroup
 * at or below its container's cgroup, the entry is dropped. */
void gd_idcache_gone(gd_idcache *c, const char *rel);

/* Try up to budget due entries (round robin, so a small budget starves
 * none). Returns how many changed state. */
unsigned gd_idcache_tick(gd_idcache *c, uint64_t now_ms, unsigned budget);

/* When gd_idcache_tick next has work: a time in now's clock, 0 for at
 * once, UINT64_MAX for none. */
uint64_t gd_idcache_next_ms(const gd_idcache *c);

/* The state of the container cgroup rel is at or below: NONE when rel is
 * not a container's, UNAVAILABLE when it is but the cache holds no entry
 * for it (none of its cgroups appeared, or the cache was full); when
 * KNOWN and ret is
 * not NULL, its identity is copied into *ret (about 18 KiB: the caller
 * keeps one to fill; the cache keeps compact copies, not the struct). */
gd_ident_state gd_idcache_get(const gd_idcache *c, const char *rel, gd_container_ident *ret);

/* Why the container cgroup rel is at or below has no identity, for the
 * daemon to say: the last try's negative errno (as gd_ident_read's) while
 * PENDING and once UNAVAILABLE; -ENOSPC past GD_IDCACHE_BYTES_MAX, or when
 * no entry is held (past GD_IDCACHE_ENTRIES_MAX, or no cgroup of it
 * appeared); 0 when
 * no try failed (KNOWN, UNTRUSTED, not tried yet, a lookalike) or rel is
 * no container's. */
int gd_idcache_error(const gd_idcache *c, const char *rel);

/* The containers whose state was decided (KNOWN, UNAVAILABLE, UNTRUSTED)
 * since they were last handed out, one per call, for the daemon to say:
 * start with *iter 0. Returns false when there are no more. ret_key (the
 * container's cgroup) is valid until the entry is dropped; ret_err as
 * gd_idcache_error. */
bool gd_idcache_news(gd_idcache *c, size_t *iter, const char **ret_key, gd_ident_state *ret_state,
                     int *ret_err);

/* Entries held, for tests and the status. */
size_t gd_idcache_size(const gd_idcache *c);

/* A pass over many cgroups (a ranking, an explain, an enforcement walk)
 * asks one cursor: the identity of each cgroup's container, the last
 * container's kept, so the processes of one container cost one lookup.
 * About 22 KiB: one per caller, not on every stack. */
typedef struct gd_ident_cursor {
        const gd_idcache *cache;  /* the daemon's; NULL: one-shot reads through src */
        const gd_ident_src *src;  /* NULL with no cache: identity off */
        bool have;                /* prefix, state and ident hold the last lookup */
        char prefix[PATH_MAX];    /* its container's cgroup; "" for none */
        gd_ident_state state;
        gd_container_ident ident; /* when state is KNOWN */
        unsigned pending;         /* lookups of this pass that found PENDING */
} gd_ident_cursor;

/* A cursor on cache, else on one-shot reads through src (both NULL:
 * every cgroup is NONE). Neither is owned. */
void gd_ident_cursor_init(gd_ident_cursor *k, const gd_idcache *cache, const gd_ident_src *src);

/* A new pass: forgets the last lookup (a cache may have changed) and
 * zeroes pending. */
void gd_ident_cursor_reset(gd_ident_cursor *k);

/* The identity of the container cgroup rel is at or below: its state in
 * *ret_state (optional) and the identity when KNOWN, else NULL. Valid
 * until the next call on k. A one-shot read that fails for now counts as
 * PENDING (a later try may read it). */
const gd_container_ident *gd_ident_cursor_of(gd_ident_cursor *k, const char *rel,
                                             gd_ident_state *ret_state);

/* gd_ident_cursor_of with no state, for decide/verdict.h's gd_verdict_ids
 * (ctx: the cursor). */
const gd_container_ident *gd_ident_cursor_lookup(void *ctx, const char *rel);

/* The names to show for cgroup rel (policy/ident.h gd_ident_names): the
 * identity when known, else what the path says (k NULL: the path only). */
void gd_ident_cursor_names(gd_ident_cursor *k, const char *rel, gd_container_names *ret);
