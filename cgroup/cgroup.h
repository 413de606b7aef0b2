/* cgroup v2 access: parsers for the memory.* interface files and readers
 * that work relative to a directory fd, so the cgroup root is chosen at run
 * time (host, sidecar mount, or a fixture tree in tests).
 *
 * Contract for the whole module: functions return 0 (or a count) on success
 * and a negative errno on failure; ret_* outputs are written only on
 * success. -ENOENT, -ENODEV and -ESRCH mean the cgroup (or process) went
 * away while we looked: callers treat that as normal (see cg_is_gone()).
 * -EBADMSG means a file was read but its content did not parse. Nothing here
 * logs or exits. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "max" in memory.max and friends: no limit. */
#define CG_UNLIMITED UINT64_MAX

/* Largest interface file we read whole; memory.stat is ~1.5 KiB on 6.x. */
#define CG_FILE_MAX 16384

typedef struct cg_memory_events {
        uint64_t low;
        uint64_t high;
        uint64_t max;
        uint64_t oom;
        uint64_t oom_kill;
        uint64_t oom_group_kill; /* 0 on kernels older than 5.17 */
} cg_memory_events;

typedef struct cg_psi_line {
        double avg10;
        double avg60;
        double avg300;
        uint64_t total_us;
} cg_psi_line;

typedef struct cg_psi {
        cg_psi_line some;
        cg_psi_line full;
        bool has_full; /* the host-wide /proc/pressure/cpu lacks "full" on old kernels */
} cg_psi;

/* The memory.stat keys guardian uses, in bytes (counters are event counts).
 * Keys a kernel does not have stay 0. */
typedef struct cg_memory_stat {
        uint64_t anon;
        uint64_t file;
        uint64_t kernel;
        uint64_t shmem;
        uint64_t sock;
        uint64_t file_mapped;
        uint64_t file_dirty;
        uint64_t file_writeback;
        uint64_t anon_thp;
        uint64_t inactive_anon;
        uint64_t active_anon;
        uint64_t inactive_file;
        uint64_t active_file;
        uint64_t unevictable;
        uint64_t slab_reclaimable;
        uint64_t slab_unreclaimable;
        uint64_t pgfault;
        uint64_t pgmajfault;
        uint64_t workingset_refault_anon;
        uint64_t workingset_refault_file;
} cg_memory_stat;

/* cgroup.events */
typedef struct cg_cgroup_events {
        bool populated;
        bool frozen;
} cg_cgroup_events;

/* Where the v2 hierarchy is and what it offers. */
typedef enum cg_mode {
        CG_MODE_UNIFIED, /* pure v2: /sys/fs/cgroup is cgroup2 */
        CG_MODE_HYBRID,  /* v1 controllers, v2 at /sys/fs/cgroup/unified */
        CG_MODE_OTHER,   /* given explicitly, or a cgroup2 mount found elsewhere */
} cg_mode;

typedef struct cg_root {
        char path[4096];
        cg_mode mode;
        bool has_memory; /* "memory" listed in the root's cgroup.controllers */
} cg_root;

static inline bool cg_is_gone(int err) {
        return err == -ENOENT || err == -ENODEV || err == -ESRCH;
}

/* ---- pure parsers: buffer in, struct out ---- */

/* Parse a single-value file ("12345\n" or "max\n"). "max" gives
 * CG_UNLIMITED. Returns 0, or -EBADMSG on anything else (empty, junk,
 * trailing garbage, overflow). */
int cg_parse_u64_or_max(const char *buf, size_t len, uint64_t *ret_value);

/* Parse memory.events / memory.events.local ("key value" lines). Unknown
 * keys are ignored (newer kernels add some); a known key with a bad value,
 * or no known key at all, is -EBADMSG. */
int cg_parse_memory_events(const char *buf, size_t len, cg_memory_events *ret_events);

/* Parse a PSI file (memory.pressure, /proc/pressure/memory):
 * "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" and optionally "full ...".
 * A missing "some" line, or a malformed field, is -EBADMSG. */
int cg_parse_psi(const char *buf, size_t len, cg_psi *ret_psi);

/* Parse memory.stat. Missing keys stay 0; malformed lines are -EBADMSG. */
int cg_parse_memory_stat(const char *buf, size_t len, cg_memory_stat *ret_stat);

/* Parse cgroup.events. -EBADMSG if "populated" is missing. */
int cg_parse_cgroup_events(const char *buf, size_t len, cg_cgroup_events *ret_events);

/* Does a cgroup.controllers / subtree_control line name this controller?
 * Returns true or false; never fails. */
bool cg_controllers_has(const char *buf, size_t len, const char *controller);

/* Parse cgroup.procs (one pid per line) into pids[0..cap). Returns the
 * number of pids in the file (which may exceed cap: only cap are stored,
 * call again with more room), or -EBADMSG. */
int cg_parse_pids(const char *buf, size_t len, pid_t *pids, size_t cap);

/* Find the first cgroup2 mount in a /proc/PID/mountinfo buffer and copy its
 * mount point (octal escapes such as \040 decoded) into ret_path. Returns 0,
 * -ENOENT (no cgroup2 mount), -ENAMETOOLONG, or -EBADMSG (malformed line). */
int cg_parse_mountinfo_cgroup2(const char *buf, size_t len, char *ret_path, size_t size);

/* ---- readers relative to a cgroup directory fd ---- */

/* Read a whole file below dirfd into buf (NUL-terminated, at most size-1
 * bytes). Returns the length, -EFBIG if the file does not fit, or the
 * negative errno of openat/read. */
ssize_t cg_read_file_at(int dirfd, const char *name, char *buf, size_t size);

/* Read from an fd kept open (pread at offset 0): the hot-path variant.
 * Same returns as cg_read_file_at. For single-record files only (every
 * cgroup interface file but cgroup.procs and cgroup.threads, PSI files):
 * a short read is taken for the end of the file, so a file that fits
 * costs one pread. */
ssize_t cg_pread_file(int fd, char *buf, size_t size);

/* Typed readers; each returns 0 or a negative errno (-ENOENT when the
 * file does not exist, e.g. memory.max on the root cgroup). */
int cg_read_u64_or_max(int cgfd, const char *name, uint64_t *ret_value);
int cg_read_memory_events(int cgfd, bool local, cg_memory_events *ret_events);
int cg_read_psi(int cgfd, cg_psi *ret_psi);
int cg_read_memory_stat(int cgfd, cg_memory_stat *ret_stat);
int cg_read_cgroup_events(int cgfd, cg_cgroup_events *ret_events);

/* Read cgroup.procs into a malloc'd array. Returns 0 and sets *ret_pids
 * (caller frees) and *ret_n, or a negative errno. */
int cg_read_pids(int cgfd, pid_t **ret_pids, size_t *ret_n);

/* Does the cgroup at cgfd offer the memory controller (cgroup.controllers
 * lists it)? Returns 1, 0, or a negative errno. */
int cg_has_controller(int cgfd, const char *controller);

/* List the child cgroup directory names of cgfd, sorted by inode number,
 * which is creation order (the order the kernel walks children in).
 * Returns 0 and a malloc'd array of malloc'd names (free with
 * cg_free_names), or a negative errno. */
int cg_list_children(int cgfd, char ***ret_names, size_t *ret_n);
void cg_free_names(char **names, size_t n);

/* ---- writes ---- */

/* Write "1" to cgroup.kill (kernel >= 5.14): every process in the subtree
 * gets SIGKILL. -ENOENT when the kernel lacks cgroup.kill. */
int cg_kill(int cgfd);

/* Write "1"/"0" to cgroup.freeze. */
int cg_freeze(int cgfd, bool frozen);

/* ---- protection knobs, through libcgroup (cgroup/knob.c) ----
 * Only for a pure v2 host (CG_MODE_UNIFIED with the memory controller):
 * on a hybrid host libcgroup routes "memory" to the v1 mount. */

/* Prepare libcgroup. Returns 0, -ENODEV (no cgroup mounted), -EIO. */
int cg_knobs_init(void);

/* Write memory.min, memory.low or memory.high (name) of the cgroup rel
 * (relative to the v2 root) as value bytes, CG_UNLIMITED for "max".
 * Returns 0, -EINVAL (another file), -ENOENT (no such cgroup), or a
 * negative errno from the write. */
int cg_knob_write(const char *rel, const char *name, uint64_t value);

/* ---- discovery ---- */

/* Find the cgroup v2 hierarchy. With explicit != NULL, use that directory
 * (it must be a cgroup2 mount or a directory tree laid out like one: a
 * fixture tree in tests is accepted when it has cgroup.controllers).
 * Otherwise: /sys/fs/cgroup if it is cgroup2, else /sys/fs/cgroup/unified,
 * else the first cgroup2 mount in mountinfo_path (normally
 * /proc/self/mountinfo). Returns 0, or -ENOENT when no v2 hierarchy exists,
 * -ENOTDIR when explicit is not a cgroup directory. */
int cg_root_find(const char *explicit, const char *mountinfo_path, cg_root *ret_root);

/* Is the cgroup rel (relative to the root, no leading slash) top itself
 * or below it? "" is the root, which holds everything; a trailing '/' on
 * top is ignored; "a" does not hold "ab". Pure. */
bool cg_rel_under(const char *rel, const char *top);

/* The path of rel's child name ("" is the root: just name) into buf.
 * Returns 0, or -ENAMETOOLONG when it does not fit (buf is then cut). */
int cg_rel_child(const char *rel, const char *name, char *buf, size_t size);

/* Turn a user's CGROUP argument (relative to the root, or an absolute path
 * under it, or "/") into a path relative to the root with no leading slash
 * ("" for the root itself), rejecting ".." components. Returns 0,
 * -EINVAL (escapes the root, or too long). */
int cg_path_normalize(const char *root, const char *arg, char *ret_rel, size_t size);
