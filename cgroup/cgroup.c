#include "cgroup/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* cgroup.procs holding every pid the kernel can have (PID_MAX_LIMIT, 4M
 * pids of at most 8 bytes each) fits, and so does the mountinfo of a host
 * with a hundred thousand mounts; anything bigger was not written by the
 * kernel. A power of two times 4 KiB: read_all_at() doubles up to it. */
#define CG_READ_ALL_MAX ((size_t)64 << 20)

/* ---- text helpers: every parser works on (pointer, length), never on
 * NUL-terminated strings, because kernel buffers are not terminated ---- */

typedef struct span {
        const char *p;
        size_t n;
} span;

/* The next '\n'-terminated line of buf from *pos; the last line may lack
 * its newline (fixtures, hand-written files). */
static bool next_line(const char *buf, size_t len, size_t *pos, span *ret) {
        if (*pos >= len)
                return false;

        const char *start = buf + *pos;
        const char *nl = memchr(start, '\n', len - *pos);
        size_t n = nl ? (size_t)(nl - start) : len - *pos;

        *ret = (span){ start, n };
        *pos += n + (nl ? 1 : 0);
        return true;
}

/* Split s at the first sep: head before it, s keeps the rest. Without a
 * separator the whole span is the head and s becomes empty. */
static span split(span *s, char sep) {
        const char *at = memchr(s->p, sep, s->n);
        span head = { s->p, at ? (size_t)(at - s->p) : s->n };

        s->p += head.n + (at ? 1 : 0);
        s->n -= head.n + (at ? 1 : 0);
        return head;
}

static bool span_eq(span s, const char *lit) {
        size_t n = strlen(lit);
        return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* Kernel interface files never hold a NUL; one means a hostile or corrupt
 * buffer, and it would cut any later C-string handling short. */
static bool has_nul(const char *buf, size_t len) {
        return len > 0 && memchr(buf, '\0', len) != NULL;
}

/* Decimal digits only: no sign, no spaces, no base prefix. */
static int parse_u64(span s, uint64_t *ret) {
        uint64_t v = 0;

        if (s.n == 0)
                return -EBADMSG;
        for (size_t i = 0; i < s.n; i++) {
                unsigned d = (unsigned char)s.p[i] - '0';
                if (d > 9)
                        return -EBADMSG;
                /* v * 10 + d > UINT64_MAX, without a division per digit. */
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

/* ---- pure parsers ---- */

int cg_parse_u64_or_max(const char *buf, size_t len, uint64_t *ret_value) {
        span s = { buf, len };
        uint64_t v;

        if (has_nul(buf, len))
                return -EBADMSG;
        /* The kernel ends the value with exactly one newline. */
        if (s.n > 0 && s.p[s.n - 1] == '\n')
                s.n--;
        if (span_eq(s, "max"))
                v = CG_UNLIMITED;
        else if (parse_u64(s, &v) < 0)
                return -EBADMSG;
        *ret_value = v;
        return 0;
}

typedef struct kv_field {
        const char *key;
        size_t offset; /* of a uint64_t in the destination struct */
} kv_field;

/* Parse "key value" lines into the uint64_t fields of dst. With strict,
 * every line must be "key <u64>", known key or not; without, lines with an
 * unknown key are skipped unread. Returns the number of known keys found,
 * or -EBADMSG (a known key with a bad value, or one seen twice). */
static int parse_kv(const char *buf, size_t len, bool strict, const kv_field *fields, size_t nfields,
                    void *dst) {
        uint32_t seen = 0;
        size_t pos = 0;
        span line;
        int found = 0;

        if (has_nul(buf, len))
                return -EBADMSG;
        while (next_line(buf, len, &pos, &line)) {
                span key = split(&line, ' ');
                size_t i = 0;
                uint64_t v;

                while (i < nfields && !span_eq(key, fields[i].key))
                        i++;
                if (i == nfields && !strict)
                        continue;
                if (key.n == 0 || parse_u64(line, &v) < 0)
                        return -EBADMSG;
                if (i == nfields)
                        continue;
                if (seen & (UINT32_C(1) << i))
                        return -EBADMSG;
                seen |= UINT32_C(1) << i;
                memcpy((char *)dst + fields[i].offset, &v, sizeof v);
                found++;
        }
        return found;
}

#define KV(type, name) { #name, offsetof(type, name) }
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

int cg_parse_memory_events(const char *buf, size_t len, cg_memory_events *ret_events) {
        static const kv_field fields[] = {
                KV(cg_memory_events, low),      KV(cg_memory_events, high),
                KV(cg_memory_events, max),      KV(cg_memory_events, oom),
                KV(cg_memory_events, oom_kill), KV(cg_memory_events, oom_group_kill),
        };
        cg_memory_events ev = { 0 };
        /* Not strict: the contract is to ignore whatever newer kernels add. */
        int r = parse_kv(buf, len, false, fields, ELEMENTSOF(fields), &ev);

        if (r <= 0)
                return -EBADMSG;
        *ret_events = ev;
        return 0;
}

int cg_parse_memory_stat(const char *buf, size_t len, cg_memory_stat *ret_stat) {
        static const kv_field fields[] = {
                KV(cg_memory_stat, anon), KV(cg_memory_stat, file),
                KV(cg_memory_stat, kernel), KV(cg_memory_stat, shmem),
                KV(cg_memory_stat, sock), KV(cg_memory_stat, file_mapped),
                KV(cg_memory_stat, file_dirty), KV(cg_memory_stat, file_writeback),
                KV(cg_memory_stat, anon_thp), KV(cg_memory_stat, inactive_anon),
                KV(cg_memory_stat, active_anon), KV(cg_memory_stat, inactive_file),
                KV(cg_memory_stat, active_file), KV(cg_memory_stat, unevictable),
                KV(cg_memory_stat, slab_reclaimable), KV(cg_memory_stat, slab_unreclaimable),
                KV(cg_memory_stat, pgfault), KV(cg_memory_stat, pgmajfault),
                KV(cg_memory_stat, workingset_refault_anon), KV(cg_memory_stat, workingset_refault_file),
        };
        _Static_assert(ELEMENTSOF(fields) <= 32, "parse_kv tracks keys in a uint32_t");
        cg_memory_stat st = { 0 };
        int r = parse_kv(buf, len, true, fields, ELEMENTSOF(fields), &st);

        /* Every kernel since 4.5 has "anon" and "file": a memory.stat with
         * none of our keys is not a memory.stat. */
        if (r <= 0)
                return -EBADMSG;
        *ret_stat = st;
        return 0;
}

int cg_parse_cgroup_events(const char *buf, size_t len, cg_cgroup_events *ret_events) {
        struct {
                uint64_t populated;
                uint64_t frozen;
        } v = { UINT64_MAX, 0 }; /* frozen is absent before 5.2 */
        static const kv_field fields[] = {
                { "populated", offsetof(__typeof__(v), populated) },
                { "frozen", offsetof(__typeof__(v), frozen) },
        };

        if (parse_kv(buf, len, true, fields, ELEMENTSOF(fields), &v) < 0)
                return -EBADMSG;
        if (v.populated > 1 || v.frozen > 1)
                return -EBADMSG; /* also catches a missing "populated" */
        *ret_events = (cg_cgroup_events){ .populated = v.populated, .frozen = v.frozen };
        return 0;
}

/* "12.34" as the kernel prints it ("%lu.%02lu"); up to 9 fraction digits
 * so a finer format would still parse. */
static int parse_decimal(span s, double *ret) {
        span frac = s;
        span whole = split(&frac, '.');
        uint64_t w, f;
        double scale = 1;

        if (frac.n == 0 || frac.n > 9)
                return -EBADMSG; /* no '.', or nothing after it */
        if (parse_u64(whole, &w) < 0 || parse_u64(frac, &f) < 0)
                return -EBADMSG;
        for (size_t i = 0; i < frac.n; i++)
                scale *= 10;
        *ret = (double)w + (double)f / scale;
        return 0;
}

/* "avg10=0.00 avg60=0.00 avg300=0.00 total=0", fields in this order,
 * separated by single spaces. */
static int parse_psi_fields(span s, cg_psi_line *ret) {
        static const char *const names[] = { "avg10", "avg60", "avg300" };
        double *avgs[] = { &ret->avg10, &ret->avg60, &ret->avg300 };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                span val = split(&s, ' ');
                span name = split(&val, '=');
                if (!span_eq(name, names[i]) || parse_decimal(val, avgs[i]) < 0)
                        return -EBADMSG;
        }
        span name = split(&s, '=');
        if (!span_eq(name, "total") || parse_u64(s, &ret->total_us) < 0)
                return -EBADMSG;
        return 0;
}

int cg_parse_psi(const char *buf, size_t len, cg_psi *ret_psi) {
        cg_psi psi = { 0 };
        bool has_some = false;
        size_t pos = 0;
        span line;

        if (has_nul(buf, len))
                return -EBADMSG;
        while (next_line(buf, len, &pos, &line)) {
                span kind = split(&line, ' ');
                bool *seen;
                cg_psi_line *dst;

                if (span_eq(kind, "some")) {
                        seen = &has_some;
                        dst = &psi.some;
                } else if (span_eq(kind, "full")) {
                        seen = &psi.has_full;
                        dst = &psi.full;
                } else
                        return -EBADMSG;
                if (*seen || parse_psi_fields(line, dst) < 0)
                        return -EBADMSG;
                *seen = true;
        }
        if (!has_some)
                return -EBADMSG;
        *ret_psi = psi;
        return 0;
}

bool cg_controllers_has(const char *buf, size_t len, const char *controller) {
        size_t want = controller ? strlen(controller) : 0;
        size_t i = 0;

        if (want == 0)
                return false;
        while (i < len) {
                size_t start = i;
                while (i < len && buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\t')
                        i++;
                if (i - start == want && memcmp(buf + start, controller, want) == 0)
                        return true;
                i++;
        }
        return false;
}

int cg_parse_pids(const char *buf, size_t len, pid_t *pids, size_t cap) {
        size_t pos = 0, n = 0;
        span line;

        if (has_nul(buf, len))
                return -EBADMSG;
        while (next_line(buf, len, &pos, &line)) {
                uint64_t v;

                if (parse_u64(line, &v) < 0 || v == 0 || v > INT_MAX)
                        return -EBADMSG;
                if (n == INT_MAX)
                        return -EBADMSG; /* the count must fit the return value */
                if (n < cap)
                        pids[n] = (pid_t)v;
                n++;
        }
        return (int)n;
}

/* Mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo (fs/proc_namespace.c
 * mangle()). Decodes s into out (PATH_MAX bytes). */
static int unescape_mount_point(span s, char *out, size_t size) {
        size_t o = 0;

        for (size_t i = 0; i < s.n; i++) {
                unsigned char c = (unsigned char)s.p[i];

                if (c == '\\') {
                        unsigned v = 0;
                        if (s.n - i < 4)
                                return -EBADMSG;
                        for (size_t k = 1; k <= 3; k++) {
                                unsigned d = (unsigned char)s.p[i + k] - '0';
                                if (d > 7)
                                        return -EBADMSG;
                                v = v * 8 + d;
                        }
                        if (v == 0 || v > 255)
                                return -EBADMSG;
                        c = (unsigned char)v;
                        i += 3;
                }
                if (o + 1 >= size)
                        return -ENAMETOOLONG;
                out[o++] = (char)c;
        }
        out[o] = '\0';
        return 0;
}

int cg_parse_mountinfo_cgroup2(const char *buf, size_t len, char *ret_path, size_t size) {
        size_t pos = 0;
        span line;

        if (has_nul(buf, len))
                return -EBADMSG;
        /* "36 35 98:0 /root /mount/point opts [optional...] - fstype source superopts" */
        while (next_line(buf, len, &pos, &line)) {
                span mount_point = { 0 }, fstype = { 0 };
                bool sep = false;

                for (size_t field = 1; line.n > 0; field++) {
                        span tok = split(&line, ' ');
                        if (tok.n == 0)
                                return -EBADMSG;
                        if (field == 5)
                                mount_point = tok;
                        else if (field >= 7 && !sep && span_eq(tok, "-"))
                                sep = true;
                        else if (sep) {
                                fstype = tok;
                                break;
                        }
                }
                /* After the fstype only the source must follow, and it may be
                 * empty ("mount -t tmpfs '' /x" gives two spaces). */
                if (mount_point.n == 0 || mount_point.p[0] != '/' || fstype.n == 0 || line.n == 0)
                        return -EBADMSG;
                if (!span_eq(fstype, "cgroup2"))
                        continue;

                char path[PATH_MAX];
                int r = unescape_mount_point(mount_point, path, sizeof path);
                if (r < 0)
                        return r;
                if (strlen(path) >= size)
                        return -ENAMETOOLONG;
                memcpy(ret_path, path, strlen(path) + 1);
                return 0;
        }
        return -ENOENT;
}

/* ---- readers ---- */

/* Read fd to EOF into buf, from offset 0 when positional (kept-open fds),
 * else from the current position. one_record: the file is a single-record
 * seq_file (every cgroup interface file but cgroup.procs and
 * cgroup.threads; the PSI files in /proc/pressure) or a regular file: the kernel hands
 * over the whole record at once, so a short read is the end and the read
 * that would return 0 is saved. Pipes and multi-record files (whose reads
 * stop at a page of records) go on to a read of 0. */
static ssize_t read_to_eof(int fd, bool positional, bool one_record, char *buf, size_t size) {
        size_t n = 0;

        if (size == 0 || size > SSIZE_MAX)
                return -EINVAL;
        for (;;) {
                char probe;
                /* Once buf is full, one more byte tells "exactly fits" from "too big". */
                bool full = n == size - 1;
                char *dst = full ? &probe : buf + n;
                size_t want = full ? 1 : size - 1 - n;
                ssize_t r = positional ? pread(fd, dst, want, (off_t)n) : read(fd, dst, want);

                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0)
                        break;
                if (full)
                        return -EFBIG;
                n += (size_t)r;
                if (one_record && (size_t)r < want)
                        break;
        }
        buf[n] = '\0';
        return (ssize_t)n;
}

ssize_t cg_read_file_at(int dirfd, const char *name, char *buf, size_t size) {
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        ssize_t r = read_to_eof(fd, false, false, buf, size);
        close(fd);
        return r;
}

ssize_t cg_pread_file(int fd, char *buf, size_t size) {
        return read_to_eof(fd, true, true, buf, size);
}

/* Read a file of unknown size (cgroup.procs, mountinfo) into a malloc'd,
 * NUL-terminated buffer of at most max bytes. Too small a buffer is grown
 * and the file read again from offset 0: seq_files restart cleanly there,
 * and the copies stay one consistent snapshot instead of spliced halves. */
static int read_all_at(int dirfd, const char *name, char **ret_buf, size_t *ret_len) {
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        char *buf = NULL;
        ssize_t n = -EFBIG;
        for (size_t size = 4096; n == -EFBIG && size <= CG_READ_ALL_MAX; size *= 2) {
                char *nbuf = realloc(buf, size);
                if (!nbuf) {
                        n = -ENOMEM;
                        break;
                }
                buf = nbuf;
                n = read_to_eof(fd, true, false, buf, size);
        }
        close(fd);
        if (n < 0) {
                free(buf);
                return (int)n;
        }
        *ret_buf = buf;
        *ret_len = (size_t)n;
        return 0;
}

/* Read a small interface file whole and hand it to a parser. */
#define READ_PARSED(cgfd, name, parse, ret)                                     \
        ({                                                                      \
                char buf_[CG_FILE_MAX];                                         \
                ssize_t n_ = cg_read_file_at((cgfd), (name), buf_, sizeof buf_); \
                n_ < 0 ? (int)n_ : parse(buf_, (size_t)n_, (ret));              \
        })

int cg_read_u64_or_max(int cgfd, const char *name, uint64_t *ret_value) {
        return READ_PARSED(cgfd, name, cg_parse_u64_or_max, ret_value);
}

int cg_read_memory_events(int cgfd, bool local, cg_memory_events *ret_events) {
        const char *name = local ? "memory.events.local" : "memory.events";
        return READ_PARSED(cgfd, name, cg_parse_memory_events, ret_events);
}

int cg_read_psi(int cgfd, cg_psi *ret_psi) {
        return READ_PARSED(cgfd, "memory.pressure", cg_parse_psi, ret_psi);
}

int cg_read_memory_stat(int cgfd, cg_memory_stat *ret_stat) {
        return READ_PARSED(cgfd, "memory.stat", cg_parse_memory_stat, ret_stat);
}

int cg_read_cgroup_events(int cgfd, cg_cgroup_events *ret_events) {
        return READ_PARSED(cgfd, "cgroup.events", cg_parse_cgroup_events, ret_events);
}

int cg_read_pids(int cgfd, pid_t **ret_pids, size_t *ret_n) {
        char *buf;
        size_t len;
        int r = read_all_at(cgfd, "cgroup.procs", &buf, &len);

        if (r < 0)
                return r;
        /* First pass counts, second fills exactly that many. */
        r = cg_parse_pids(buf, len, NULL, 0);
        if (r < 0) {
                free(buf);
                return r;
        }

        size_t n = (size_t)r;
        /* Never NULL on success, even for an empty cgroup. */
        pid_t *pids = calloc(n ? n : 1, sizeof *pids);
        if (!pids) {
                free(buf);
                return -ENOMEM;
        }
        cg_parse_pids(buf, len, pids, n);
        free(buf);
        *ret_pids = pids;
        *ret_n = n;
        return 0;
}

int cg_has_controller(int cgfd, const char *controller) {
        return READ_PARSED(cgfd, "cgroup.controllers", cg_controllers_has, controller);
}

void cg_free_names(char **names, size_t n) {
        if (!names)
                return;
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}

/* Directories, or entries whose type only fstatat() can tell. */
static int maybe_child(const struct dirent *de) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                return 0;
        return de->d_type == DT_DIR || de->d_type == DT_UNKNOWN;
}

static int compare_inode(const struct dirent **a, const struct dirent **b) {
        if ((*a)->d_ino != (*b)->d_ino)
                return (*a)->d_ino < (*b)->d_ino ? -1 : 1;
        return strcmp((*a)->d_name, (*b)->d_name); /* same inode: only on odd filesystems */
}

int cg_list_children(int cgfd, char ***ret_names, size_t *ret_n) {
        struct stat st;

        /* "." of a removed directory still opens and lists empty; say
         * "gone" where the filesystem tells (kernfs keeps nlink, so there
         * a removed cgroup just has no children). */
        if (fstatat(cgfd, ".", &st, 0) < 0)
                return -errno;
        if (st.st_nlink == 0)
                return -ENOENT;

        struct dirent **des;
        int m = scandirat(cgfd, ".", &des, maybe_child, compare_inode);
        if (m < 0)
                return -errno;

        char **names = calloc(m > 0 ? (size_t)m : 1, sizeof *names);
        size_t n = 0;
        int r = names ? 0 : -ENOMEM;

        for (int i = 0; i < m; i++) {
                bool dir = des[i]->d_type == DT_DIR;

                if (r == 0 && !dir) { /* DT_UNKNOWN: ask; ENOENT: removed meanwhile */
                        if (fstatat(cgfd, des[i]->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                                dir = S_ISDIR(st.st_mode);
                        else if (errno != ENOENT)
                                r = -errno;
                }
                if (r == 0 && dir && !(names[n++] = strdup(des[i]->d_name)))
                        r = -ENOMEM;
                free(des[i]);
        }
        free(des);
        if (r < 0) {
                cg_free_names(names, n);
                return r;
        }
        *ret_names = names;
        *ret_n = n;
        return 0;
}

/* ---- writes ---- */

/* cgroup interface files take one write(2) each: a short write did not
 * happen as far as the kernel is concerned. No O_TRUNC, no O_CREAT: the
 * file must exist (the kernel made it). */
static int write_at(int dirfd, const char *name, const char *value) {
        int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        size_t len = strlen(value);
        ssize_t w;
        do
                w = write(fd, value, len);
        while (w < 0 && errno == EINTR);

        int r = w < 0 ? -errno : (size_t)w != len ? -EIO : 0;
        close(fd);
        return r;
}

int cg_kill(int cgfd) {
        return write_at(cgfd, "cgroup.kill", "1");
}

int cg_freeze(int cgfd, bool frozen) {
        return write_at(cgfd, "cgroup.freeze", frozen ? "1" : "0");
}

/* ---- discovery ---- */

static bool is_cgroup2(int fd) {
        struct statfs sfs;
        return fstatfs(fd, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* Use the directory at path as the root if it is a cgroup2 mount, or, when
 * laid_out is set, any directory with a cgroup.controllers file (fixture
 * trees; a mount point mountinfo already called cgroup2). */
static int use_root(const char *path, cg_mode mode, bool laid_out, cg_root *ret_root) {
        cg_root root = { .mode = mode };
        size_t n = strlen(path);
        struct stat st;
        int r;

        while (n > 1 && path[n - 1] == '/')
                n--;
        if (n >= sizeof root.path)
                return -ENAMETOOLONG;
        memcpy(root.path, path, n);

        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno; /* -ENOENT, or -ENOTDIR for a file */
        if (!is_cgroup2(fd) &&
            (!laid_out || fstatat(fd, "cgroup.controllers", &st, 0) < 0 || !S_ISREG(st.st_mode)))
                r = -ENOTDIR;
        else
                r = cg_has_controller(fd, "memory");
        close(fd);
        if (r < 0)
                return r;
        root.has_memory = r > 0;
        *ret_root = root;
        return 0;
}

int cg_root_find(const char *explicit, const char *mountinfo_path, cg_root *ret_root) {
        if (explicit)
                return use_root(explicit, CG_MODE_OTHER, true, ret_root);

        if (use_root("/sys/fs/cgroup", CG_MODE_UNIFIED, false, ret_root) == 0 ||
            use_root("/sys/fs/cgroup/unified", CG_MODE_HYBRID, false, ret_root) == 0)
                return 0;

        /* Last resort: a cgroup2 mount somewhere else (a sidecar's own mount). */
        char *buf, path[PATH_MAX];
        size_t len;
        int r = read_all_at(AT_FDCWD, mountinfo_path ? mountinfo_path : "/proc/self/mountinfo", &buf, &len);
        if (r < 0)
                return r;
        r = cg_parse_mountinfo_cgroup2(buf, len, path, sizeof path);
        free(buf);
        return r < 0 ? r : use_root(path, CG_MODE_OTHER, true, ret_root);
}

/* The next non-empty '/'-separated component of s from *pos, skipping "."
 * (which names the same directory). */
static bool next_component(const char *s, size_t len, size_t *pos, span *ret) {
        while (*pos < len) {
                span rest = { s + *pos, len - *pos };
                span c = split(&rest, '/');

                *pos = (size_t)(rest.p - s);
                if (c.n > 0 && !span_eq(c, ".")) {
                        *ret = c;
                        return true;
                }
        }
        return false;
}

bool cg_rel_under(const char *rel, const char *top) {
        size_t n = strlen(top);
        return n == 0 || (strncmp(rel, top, n) == 0 && (rel[n] == '\0' || rel[n] == '/'));
}

int cg_rel_child(const char *rel, const char *name, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s%s%s", rel, *rel ? "/" : "", name);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int cg_path_normalize(const char *root, const char *arg, char *ret_rel, size_t size) {
        size_t alen, pos = 0, start = 0;
        span c;

        if (!arg || !ret_rel)
                return -EINVAL;
        alen = strlen(arg);
        while (next_component(arg, alen, &pos, &c))
                if (span_eq(c, "..") || c.n > NAME_MAX)
                        return -EINVAL;

        /* An absolute arg is taken as under the root when the root's
         * components are a prefix of its own; otherwise it is relative to
         * the root, as cgroup paths in /proc/PID/cgroup are. */
        if (arg[0] == '/' && root && root[0] == '/') {
                size_t rlen = strlen(root), rpos = 0, apos = 0;
                span rc, ac;
                bool under = true;

                while (under && next_component(root, rlen, &rpos, &rc))
                        under = next_component(arg, alen, &apos, &ac) && ac.n == rc.n &&
                                memcmp(ac.p, rc.p, rc.n) == 0;
                if (under)
                        start = apos;
        }

        size_t need = 0;
        pos = start;
        while (next_component(arg, alen, &pos, &c))
                need += c.n + (need > 0);
        if (need >= size)
                return -EINVAL;

        size_t o = 0;
        pos = start;
        while (next_component(arg, alen, &pos, &c)) {
                if (o > 0)
                        ret_rel[o++] = '/';
                memcpy(ret_rel + o, c.p, c.n);
                o += c.n;
        }
        ret_rel[o] = '\0';
        return 0;
}
