/* The I/O half of cgroup.h: reading interface files relative to a
 * directory fd (whole, or by pread on a kept fd), listing children,
 * cgroup.kill and cgroup.freeze, and finding the v2 hierarchy. The
 * parsers they hand buffers to are parse.c. */
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
