/* /proc/PID/{stat,status,cgroup,cmdline,oom_score_adj}, meminfo and
 * vm.swappiness read relative to a proc-root dirfd; what they hold is
 * parsed by parse.c. See proc.h for the contracts. */
#include "proc/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/oomadj.h"

/* Worst case of 6.x stat: 52 numeric fields of up to 20 digits and a comm
 * of up to 63 bytes (workqueue and kthread names): ~1.2 KiB. */
#define STAT_BUF 2048
/* The status lines we keep (see read_status_lines) and meminfo. */
#define STATUS_BUF 1024
#define STATUS_LINE_MAX 96
/* status is ~1.5 KiB: one read takes it whole. */
#define STATUS_CHUNK 4096
#define MEMINFO_BUF 8192
#define SMALL_BUF 64

static int open_at(int dirfd, const char *path) {
        int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? -errno : fd;
}

/* Read up to size bytes at offset off; *ret_full tells the caller the
 * file may go on. pread, so seekable files only: every file read here is a
 * single-record seq_file (stat, status, oom_score_adj, cgroup, meminfo),
 * a sysctl, or cmdline, which the kernel fills as far as it goes. For all
 * of them (and for regular files) a short read is the end of the file, so
 * it ends the loop without the read that would return 0. */
static int read_fd(int fd, off_t off, char *buf, size_t size, size_t *ret_len, bool *ret_full) {
        size_t n = 0;

        while (n < size) {
                size_t want = size - n;
                ssize_t r = pread(fd, buf + n, want, off + (off_t)n);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                n += (size_t)r;
                if ((size_t)r < want) /* 0 included */
                        break;
        }
        *ret_len = n;
        if (ret_full)
                *ret_full = n == size;
        return 0;
}

/* A process that is reaped while we look: openat gives ENOENT, a read on an
 * fd opened before gives ESRCH. Both mean "gone". */
static int gone(int r) {
        return r == -ENOENT ? -ESRCH : r;
}

static int read_file_at(int dirfd, const char *path, char *buf, size_t size,
                        size_t *ret_len, bool *ret_full) {
        int fd = open_at(dirfd, path), r;

        if (fd < 0)
                return fd;
        r = read_fd(fd, 0, buf, size, ret_len, ret_full);
        close(fd);
        return r;
}

/* A whole file of a process that must fit in buf. */
static int read_pid_file(int piddir, const char *name, char *buf, size_t size, size_t *ret_len) {
        bool full;
        int r = gone(read_file_at(piddir, name, buf, size, ret_len, &full));

        if (r < 0)
                return r;
        return full ? -EBADMSG : 0;
}

/* Open /proc/PID once and read every file through it: if the process dies
 * and the pid is reused between two reads, the old directory gives ENOENT
 * instead of mixing two processes in one proc_info. */
static int open_pid_dir(int procfd, pid_t pid) {
        char name[16];
        int fd;

        if (pid <= 0)
                return -EINVAL;
        snprintf(name, sizeof(name), "%d", (int) pid);
        fd = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? gone(-errno) : fd;
}

/* One line of status, its '\n' included when it has one. A wanted line
 * longer than STATUS_LINE_MAX is garbage; any other long one is skipped. */
static int keep_status_line(char *out, size_t size, size_t *n, const char *line, size_t len) {
        if (proc_status_key(line, len) < 0)
                return 0;
        if (len > STATUS_LINE_MAX || size - *n < len)
                return -EBADMSG;
        memcpy(out + *n, line, len);
        *n += len;
        return 0;
}

/* Copy the status lines proc_parse_status looks at into out. status has no
 * bound: Groups: lists up to 65536 gids, and a process must not push its
 * Vm lines past our buffer to look like a kernel thread. So it is read in
 * chunks (one, for all but huge files), whole lines cut out with memchr; a
 * line cut by the chunk's end is carried to the next one, unless it is
 * already longer than any we keep: then the rest of it is skipped unread. */
static int read_status_lines(int piddir, char *out, size_t size, size_t *ret_len) {
        char chunk[STATUS_CHUNK];
        size_t have = 0, n = 0, got = 0;
        off_t off = 0;
        bool skipping = false, full = true;
        int fd = gone(open_at(piddir, "status")), r = 0;

        if (fd < 0)
                return fd;
        while (r == 0 && full) {
                r = gone(read_fd(fd, off, chunk + have, sizeof(chunk) - have, &got, &full));
                if (r < 0)
                        break;
                off += (off_t)got;
                const char *p = chunk, *end = chunk + have + got, *nl;
                while (r == 0 && (nl = memchr(p, '\n', (size_t)(end - p)))) {
                        if (!skipping)
                                r = keep_status_line(out, size, &n, p, (size_t)(nl + 1 - p));
                        skipping = false;
                        p = nl + 1;
                }
                have = (size_t)(end - p);
                if (r == 0 && !skipping && have > STATUS_LINE_MAX) {
                        r = keep_status_line(out, size, &n, p, have); /* EBADMSG if wanted */
                        skipping = true;
                }
                if (skipping)
                        have = 0;
                else
                        memmove(chunk, p, have);
        }
        /* A last line without '\n' goes in as is: the parser refuses it. */
        if (r == 0 && !skipping)
                r = keep_status_line(out, size, &n, chunk, have);
        close(fd);
        if (r == 0)
                *ret_len = n;
        return r;
}

static int read_stat_at(int piddir, pid_t pid, proc_stat *ret_stat) {
        char buf[STAT_BUF];
        proc_stat st;
        size_t len = 0;
        int r;

        r = read_pid_file(piddir, "stat", buf, sizeof(buf), &len);
        if (r < 0)
                return r;
        /* An empty read: the process was reaped between open and read. */
        if (len == 0)
                return -ESRCH;
        if (proc_parse_stat(buf, len, &st) < 0 || st.pid != pid)
                return -EBADMSG;
        *ret_stat = st;
        return 0;
}

/* Threads looked at for a leader-exited process's mm: threads that exited
 * leave task/ at once, so the first live one is near the front; a process
 * that hides its mm behind more than this is unreadable, not unkillable. */
#define THREAD_SCAN_MAX 64

/* For a process whose leader has no mm: the memory of the first thread
 * under task/ that has one (every thread shares the one mm). Fills
 * ret_info->mem, mm_tid and mm_flags when one is found; 0 also when none
 * is (a process that is all gone: no mm, as for the kernel); -EBADMSG when
 * THREAD_SCAN_MAX threads were looked at without an answer. */
static int read_thread_mm(int piddir, uint64_t page_size, proc_info *ret_info) {
        char buf[STATUS_BUF];
        int taskfd = openat(piddir, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = 0, seen = 0;

        /* No task/ (a reaped process's stale directory): no thread, no mm. */
        if (taskfd < 0)
                return errno == ENOENT ? 0 : -errno;
        DIR *dir = fdopendir(taskfd);
        if (!dir) {
                close(taskfd);
                return -errno;
        }
        struct dirent *de;
        while ((de = readdir(dir))) {
                char *endp;
                long tid = strtol(de->d_name, &endp, 10);
                if (*endp || tid <= 0 || tid > INT_MAX || tid == ret_info->stat.pid)
                        continue;
                if (++seen > THREAD_SCAN_MAX) {
                        r = -EBADMSG;
                        break;
                }
                int tiddir = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (tiddir < 0)
                        continue; /* that thread exited since the listing */
                proc_stat st;
                proc_mem m;
                size_t len = 0;
                int q = read_stat_at(tiddir, (pid_t)tid, &st);
                if (q == 0)
                        q = read_status_lines(tiddir, buf, sizeof(buf), &len);
                if (q == 0)
                        q = proc_parse_status(buf, len, page_size, &m);
                close(tiddir);
                if (gone(q) == -ESRCH)
                        continue;
                if (q < 0) {
                        r = q;
                        break;
                }
                if (m.has_mm) {
                        m.uid = ret_info->mem.uid;
                        ret_info->mem = m;
                        ret_info->mm_tid = (pid_t)tid;
                        ret_info->mm_flags = st.flags;
                        break;
                }
        }
        closedir(dir);
        return r;
}

int proc_read_info(int procfd, pid_t pid, uint64_t page_size, proc_info *ret_info) {
        char buf[STATUS_BUF];
        proc_info info = {};
        size_t len = 0;
        int piddir, r;

        if (page_size == 0)
                return -EINVAL;
        piddir = open_pid_dir(procfd, pid);
        if (piddir < 0)
                return piddir;

        r = read_stat_at(piddir, pid, &info.stat);
        if (r < 0)
                goto out;

        r = read_status_lines(piddir, buf, sizeof(buf), &len);
        if (r < 0)
                goto out;
        r = proc_parse_status(buf, len, page_size, &info.mem);
        if (r < 0)
                goto out;
        /* A leader that exited (pthread_exit in main) shows no mm while its
         * other threads still hold one: the kernel finds it through them
         * (find_lock_task_mm), and so must we. */
        if (!info.mem.has_mm && !proc_is_kthread(&info.stat) &&
            (info.stat.state == 'Z' || (info.stat.flags & PROC_PF_EXITING))) {
                r = read_thread_mm(piddir, page_size, &info);
                if (r < 0)
                        goto out;
        }

        r = proc_read_oom_score_adj_at(piddir, &info.oom_score_adj);
        if (r < 0)
                goto out;

        /* Only the start matters, so a long cmdline is not an error. An empty
         * one is normal for kernel threads and zombies, and is what an
         * exiting process gets: reading its cmdline takes its mmap_lock,
         * which exit holds for as long as freeing its memory takes. */
        if (info.stat.flags & PROC_PF_EXITING) {
                info.cmdline[0] = '\0';
        } else {
                r = gone(read_file_at(piddir, "cmdline", buf, PROC_CMDLINE_MAX, &len, NULL));
                if (r < 0)
                        goto out;
                proc_format_cmdline(buf, len, info.cmdline, sizeof(info.cmdline));
        }

        /* exe is a symlink the kernel resolves; reading another user's
         * needs ptrace access, and kernel threads have none: "" then, which
         * matches no exe pattern, rather than failing the whole process. */
        ssize_t n = readlinkat(piddir, "exe", info.exe, sizeof(info.exe) - 1);
        info.exe[n > 0 ? (size_t)n : 0] = '\0';

        *ret_info = info;
out:
        close(piddir);
        return r;
}

int proc_read_start_time(int procfd, pid_t pid, uint64_t *ret_start_time) {
        proc_stat st;
        int piddir = open_pid_dir(procfd, pid), r;

        if (piddir < 0)
                return piddir;
        r = read_stat_at(piddir, pid, &st);
        close(piddir);
        if (r < 0)
                return r;
        *ret_start_time = st.start_time;
        return 0;
}

int proc_open_pid(int procfd, pid_t pid, uint64_t start_time, int *ret_piddir) {
        proc_stat st;
        int piddir = open_pid_dir(procfd, pid), r;

        if (piddir < 0)
                return piddir;
        r = read_stat_at(piddir, pid, &st);
        if (r == 0 && st.start_time != start_time)
                r = -ESTALE;
        if (r < 0) {
                close(piddir);
                return r;
        }
        *ret_piddir = piddir;
        return 0;
}

int proc_read_oom_score_adj_at(int piddir, int *ret_adj) {
        char buf[SMALL_BUF];
        size_t len = 0;
        int r = read_pid_file(piddir, "oom_score_adj", buf, sizeof(buf), &len);

        if (r < 0)
                return r;
        return proc_parse_int(buf, len, -1000, 1000, ret_adj) < 0 ? -EBADMSG : 0;
}

/* util/oomadj.c is the one writer; through a piddir, ENOENT (open) and
 * ESRCH (write) both mean the process was reaped. */
int proc_write_oom_score_adj_at(int piddir, int adj) {
        return gone(gd_oomadj_write_at(piddir, adj));
}

int proc_read_cgroup(int procfd, pid_t pid, char *ret_path, size_t size) {
        /* Hybrid hosts list a dozen v1 hierarchies before "0::"; paths are
         * at most PATH_MAX each, in practice far less. */
        char buf[8192];
        size_t len = 0;
        int piddir = open_pid_dir(procfd, pid), r;

        if (piddir < 0)
                return piddir;
        r = read_pid_file(piddir, "cgroup", buf, sizeof(buf), &len);
        close(piddir);
        if (r < 0)
                return r;
        /* Reaped between open and read: the kernel prints nothing. */
        if (len == 0)
                return -ESRCH;
        return proc_parse_cgroup(buf, len, ret_path, size);
}

int proc_read_meminfo_usage(int procfd, uint64_t page_size, uint64_t *ret_used_pages,
                            uint64_t *ret_total_pages) {
        char buf[8192];
        size_t len = 0;
        int r = read_file_at(procfd, "meminfo", buf, sizeof(buf), &len, NULL);
        if (r < 0)
                return r;
        return proc_parse_meminfo_usage(buf, len, page_size, ret_used_pages, ret_total_pages);
}

int proc_read_meminfo(int procfd, uint64_t page_size, uint64_t *ret_ram_pages,
                      uint64_t *ret_swap_pages) {
        char buf[MEMINFO_BUF];
        size_t len = 0;
        int r;

        /* Both lines are near the top: a meminfo longer than buf (one day)
         * is parsed as far as it goes, its cut last line is never used. */
        r = read_file_at(procfd, "meminfo", buf, sizeof(buf), &len, NULL);
        if (r < 0)
                return r;
        return proc_parse_meminfo(buf, len, page_size, ret_ram_pages, ret_swap_pages);
}

int proc_read_swappiness(int procfd, int *ret_swappiness) {
        char buf[SMALL_BUF];
        size_t len = 0;
        bool full;
        int v, r;

        r = read_file_at(procfd, "sys/vm/swappiness", buf, sizeof(buf), &len, &full);
        if (r < 0)
                return r;
        /* 0..200 since 5.8 (100 before). */
        if (full || proc_parse_int(buf, len, 0, 200, &v) < 0)
                return -EBADMSG;
        *ret_swappiness = v;
        return 0;
}
