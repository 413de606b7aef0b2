/* /proc/PID/{stat,status,cgroup,cmdline,oom_score_adj}, meminfo and
 * vm.swappiness: pure parsers over (buf, len) and readers relative to a
 * proc-root dirfd. See proc.h for the contracts. */
#include "proc/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Decimal digits at *p (at least one, no sign, no spaces); advances *p. */
static int parse_u64(const char **p, const char *end, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (s >= end || *s < '0' || *s > '9')
                return -EBADMSG;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
                unsigned d = (unsigned) (*s - '0');
                /* v * 10 + d > UINT64_MAX, without a division per digit. */
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
                        return -EBADMSG;
        }
        *p = s;
        *ret = v;
        return 0;
}

static int kb_to_pages(uint64_t kb, uint64_t page_size, uint64_t *ret) {
        if (kb > UINT64_MAX / 1024)
                return -EBADMSG;
        *ret = kb * 1024 / page_size;
        return 0;
}

/* A small file holding one integer in [min, max] and an optional newline. */
static int parse_int_file(const char *buf, size_t len, int min, int max, int *ret) {
        const char *p = buf, *end = buf + len;
        bool neg = p < end && *p == '-';
        uint64_t u;
        int v;

        p += neg;
        if (parse_u64(&p, end, &u) < 0 || u > INT_MAX)
                return -EBADMSG;
        v = neg ? -(int) u : (int) u;
        if (p < end && *p == '\n')
                p++;
        if (p != end || v < min || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* Each line we use must end in '\n': a line cut at the end of the buffer
 * may hold a number cut short, and "12" read from "1234" would be wrong
 * without any other sign of it. */
typedef struct line_iter {
        const char *p, *end;
} line_iter;

/* Next line without its '\n'; *ret_complete tells if the '\n' was there. */
static bool next_line(line_iter *it, const char **ret_line, size_t *ret_len, bool *ret_complete) {
        const char *nl;

        if (it->p >= it->end)
                return false;
        nl = memchr(it->p, '\n', (size_t) (it->end - it->p));
        *ret_line = it->p;
        *ret_len = (size_t) ((nl ? nl : it->end) - it->p);
        *ret_complete = nl != NULL;
        it->p = nl ? nl + 1 : it->end;
        return true;
}

static bool has_prefix(const char *s, size_t len, const char *prefix) {
        size_t n = strlen(prefix);
        return len >= n && memcmp(s, prefix, n) == 0;
}

/* "Key:\t   123 kB" after the key: blanks, digits, " kB", end of line. */
static int parse_kb_value(const char *p, const char *end, uint64_t *ret_kb) {
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        if (parse_u64(&p, end, ret_kb) < 0)
                return -EBADMSG;
        if (end - p != 3 || memcmp(p, " kB", 3) != 0)
                return -EBADMSG;
        return 0;
}

/* One field of stat after the comm: a decimal followed by ' ' or '\n'.
 * Fields we skip may be negative (tpgid, nice); one we use (ret_v) must be
 * in [0, max]. The terminator is required so a buffer cut inside a number
 * is never taken for a shorter number. */
static int stat_field(const char **p, const char *end, uint64_t max, uint64_t *ret_v) {
        const char *s = *p;
        bool neg = s < end && *s == '-';
        uint64_t v;

        s += neg;
        if (parse_u64(&s, end, &v) < 0 || s >= end || (*s != ' ' && *s != '\n'))
                return -EBADMSG;
        if (ret_v && (neg || v > max))
                return -EBADMSG;
        if (ret_v)
                *ret_v = v;
        *p = s + 1;
        return 0;
}

int proc_parse_stat(const char *buf, size_t len, proc_stat *ret_stat) {
        const char *p = buf, *end = buf + len, *rparen;
        proc_stat st = {};
        size_t comm_len;
        uint64_t v;

        if (parse_u64(&p, end, &v) < 0 || v == 0 || v > INT_MAX)
                return -EBADMSG;
        st.pid = (pid_t) v;
        if (end - p < 2 || p[0] != ' ' || p[1] != '(')
                return -EBADMSG;
        p += 2;

        /* The comm is the process's to choose ("a) R 1 (b"), but the kernel
         * prints nothing but numbers and the state after it: the last ')'
         * closes it. */
        rparen = memrchr(p, ')', (size_t) (end - p));
        if (!rparen)
                return -EBADMSG;
        comm_len = (size_t) (rparen - p);
        /* The kernel's comm is a C string: a NUL in it means a broken buffer. */
        if (memchr(p, '\0', comm_len))
                return -EBADMSG;
        /* Workqueue workers and kthreads show names of up to 63 bytes
         * ("kworker/u8:0-ext4-rsv-conversion"): keep what TASK_COMM_LEN
         * holds rather than fail on every kernel thread. */
        if (comm_len > PROC_COMM_MAX - 1)
                comm_len = PROC_COMM_MAX - 1;
        memcpy(st.comm, p, comm_len);
        st.comm[comm_len] = '\0';

        p = rparen + 1;
        if (end - p < 3 || p[0] != ' ' || p[2] != ' ')
                return -EBADMSG;
        if (!((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))
                return -EBADMSG;
        st.state = p[1];
        p += 3;

        /* Fields 4 (ppid) to 22 (starttime); all are checked to be numbers so
         * a buffer of garbage does not pass for a process. */
        for (int field = 4; field <= 22; field++) {
                bool used = field == 4 || field == 9 || field == 22;
                uint64_t max = field == 4 ? INT_MAX : field == 9 ? UINT_MAX : UINT64_MAX;

                if (stat_field(&p, end, max, used ? &v : NULL) < 0)
                        return -EBADMSG;
                if (field == 4)
                        st.ppid = (pid_t) v;
                else if (field == 9)
                        st.flags = (unsigned) v;
                else if (field == 22)
                        st.start_time = v;
        }

        *ret_stat = st;
        return 0;
}

bool proc_is_kthread(const proc_stat *st) {
        /* The kernel's test (oom_unkillable_task) is PF_KTHREAD alone: a
         * user-mode helper (a core-dump pipe handler) has parent 2 and is
         * an ordinary, killable process. */
        return (st->flags & PROC_PF_KTHREAD) != 0;
}

bool proc_is_dying(const proc_info *p) {
        /* A leader-exited process is judged by the thread that holds its mm. */
        unsigned flags = p->mm_tid ? p->mm_flags : p->stat.flags;
        if (!(flags & PROC_PF_EXITING) && !p->mem.kill_pending)
                return false;
        /* exit_mm() detaches the mm before exit_mmap() frees it: an exiting
         * task without one is still giving memory back until it is a
         * zombie. */
        return p->mem.has_mm || (p->stat.state != 'Z' && p->stat.state != 'X');
}

/* ST_PTE..ST_SHMEM are task_mem()'s lines; the pending-signal masks follow. */
enum { ST_UID, ST_PTE, ST_SWAP, ST_ANON, ST_FILE, ST_SHMEM, ST_SIGPND, ST_SHDPND, ST_N };
#define ST_MEM_END ST_SIGPND
/* SIGKILL's bit in the pending masks (signal n is bit n - 1). */
#define SIGKILL_BIT (1ULL << (9 - 1))
#define STATUS_KEY(s) { s, sizeof(s) - 1 }
/* None is a prefix of another: a line has at most one key. */
static const struct status_key {
        const char *key;
        size_t len; /* at least 4 (see status_key_of) */
} status_keys[ST_N] = {
        [ST_UID] = STATUS_KEY("Uid:"),          [ST_PTE] = STATUS_KEY("VmPTE:"),
        [ST_SWAP] = STATUS_KEY("VmSwap:"),      [ST_ANON] = STATUS_KEY("RssAnon:"),
        [ST_FILE] = STATUS_KEY("RssFile:"),     [ST_SHMEM] = STATUS_KEY("RssShmem:"),
        [ST_SIGPND] = STATUS_KEY("SigPnd:"),    [ST_SHDPND] = STATUS_KEY("ShdPnd:"),
};

/* The key line starts with (ST_*), or -1. The reader asks this of every
 * line of status (~55), so: the first byte turns most away, and the first
 * four bytes (one compare, inlined) all but the line that has the key. */
static int status_key_of(const char *line, size_t len) {
        if (len < 4 || (line[0] != 'U' && line[0] != 'V' && line[0] != 'R' && line[0] != 'S'))
                return -1;
        for (int k = 0; k < ST_N; k++) {
                const struct status_key *sk = &status_keys[k];
                if (len >= sk->len && memcmp(line, sk->key, 4) == 0 &&
                    memcmp(line + 4, sk->key + 4, sk->len - 4) == 0)
                        return k;
        }
        return -1;
}

/* "SigPnd:\t0000000000000100": a signal mask, 16 hex digits. */
static int parse_mask_line(const char *p, const char *end, uint64_t *ret_mask) {
        uint64_t v = 0;
        int digits = 0;

        if (p >= end || *p != '\t')
                return -EBADMSG;
        for (p++; p < end; p++, digits++) {
                int d = *p >= '0' && *p <= '9' ? *p - '0'
                        : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
                if (d < 0 || digits == 16)
                        return -EBADMSG;
                v = v << 4 | (uint64_t)d;
        }
        if (digits == 0)
                return -EBADMSG;
        *ret_mask = v;
        return 0;
}

/* "Uid:\treal\teffective\tsaved\tfs": all four must be there. */
static int parse_uid_line(const char *p, const char *end, uid_t *ret_uid) {
        uint64_t v, real = 0;

        for (int i = 0; i < 4; i++) {
                if (p >= end || *p != '\t')
                        return -EBADMSG;
                p++;
                if (parse_u64(&p, end, &v) < 0 || v > UINT32_MAX)
                        return -EBADMSG;
                if (i == 0)
                        real = v;
        }
        if (p != end)
                return -EBADMSG;
        *ret_uid = (uid_t) real;
        return 0;
}

int proc_parse_status(const char *buf, size_t len, uint64_t page_size, proc_mem *ret_mem) {
        line_iter it = { buf, buf + len };
        uint64_t kb[ST_N] = {}, pages[ST_N] = {}, pending = 0;
        bool seen[ST_N] = {};
        proc_mem m = {};
        const char *line;
        size_t llen;
        bool complete;
        int nmem = 0;

        if (page_size == 0)
                return -EINVAL;

        while (next_line(&it, &line, &llen, &complete)) {
                const char *end = line + llen;
                int k = status_key_of(line, llen), r;

                if (k < 0)
                        continue;
                /* A second Uid: or Rss line would have come from a name
                 * that slipped a newline past the kernel's escaping:
                 * refuse the file rather than pick one. */
                if (seen[k] || !complete)
                        return -EBADMSG;
                seen[k] = true;
                if (k == ST_UID)
                        r = parse_uid_line(line + status_keys[k].len, end, &m.uid);
                else if (k >= ST_MEM_END) {
                        uint64_t mask = 0;
                        r = parse_mask_line(line + status_keys[k].len, end, &mask);
                        pending |= mask;
                } else {
                        r = parse_kb_value(line + status_keys[k].len, end, &kb[k]);
                        nmem++;
                }
                if (r < 0)
                        return r;
        }
        if (!seen[ST_UID])
                return -EBADMSG;
        /* task_mem() prints all of these or, without an mm, none. */
        if (nmem != 0 && nmem != ST_MEM_END - 1)
                return -EBADMSG;
        m.kill_pending = (pending & SIGKILL_BIT) != 0;

        if (nmem > 0) {
                for (int k = ST_PTE; k < ST_MEM_END; k++)
                        if (kb_to_pages(kb[k], page_size, &pages[k]) < 0)
                                return -EBADMSG;
                if (__builtin_add_overflow(pages[ST_ANON], pages[ST_FILE], &m.rss_pages) ||
                    __builtin_add_overflow(m.rss_pages, pages[ST_SHMEM], &m.rss_pages))
                        return -EBADMSG;
                m.has_mm = true;
                m.pte_pages = pages[ST_PTE];
                m.swap_pages = pages[ST_SWAP];
        }

        *ret_mem = m;
        return 0;
}

int proc_parse_cgroup(const char *buf, size_t len, char *ret_path, size_t size) {
        line_iter it = { buf, buf + len };
        const char *line, *path = NULL;
        size_t llen, path_len = 0;
        bool complete;

        while (next_line(&it, &line, &llen, &complete)) {
                const char *p = line, *end = line + llen, *colon;
                uint64_t id;

                /* "hierarchy-id:controllers:path". The kernel prints the path
                 * unescaped, and cgroup names may hold '\n': check every line
                 * so a name cannot forge one, and refuse a second "0::". */
                if (!complete || parse_u64(&p, end, &id) < 0 || p >= end || *p != ':')
                        return -EBADMSG;
                colon = memchr(p + 1, ':', (size_t) (end - p - 1));
                if (!colon || colon + 1 >= end || colon[1] != '/')
                        return -EBADMSG;
                if (id != 0 || colon != p + 1)
                        continue;
                if (path)
                        return -EBADMSG;
                path = colon + 1;
                path_len = (size_t) (end - path);
        }
        if (!path)
                return -ENOENT;
        if (memchr(path, '\0', path_len))
                return -EBADMSG;
        if (path_len >= size)
                return -ENAMETOOLONG;
        memcpy(ret_path, path, path_len);
        ret_path[path_len] = '\0';
        return 0;
}

void proc_format_cmdline(const char *buf, size_t len, char *ret, size_t size) {
        size_t n = 0;

        if (size == 0)
                return;
        /* Drop every trailing NUL, not just the terminator: setproctitle()
         * style rewrites leave the rest of the old argv area as NULs. */
        while (len > 0 && buf[len - 1] == '\0')
                len--;
        for (size_t i = 0; i < len && n < size - 1; i++) {
                unsigned char c = (unsigned char) buf[i];

                /* One printable ASCII line, safe for any log or audit format:
                 * anything else (newlines, escapes, UTF-8) becomes '?'. */
                if (c == '\0')
                        ret[n++] = ' ';
                else if (c < 0x20 || c >= 0x7f)
                        ret[n++] = '?';
                else
                        ret[n++] = (char) c;
        }
        ret[n] = '\0';
}

/* The given meminfo keys, each required once, in pages. */
static int parse_meminfo_keys(const char *buf, size_t len, uint64_t page_size,
                              const char *const *keys, size_t n, uint64_t *ret_pages) {
        line_iter it = { buf, buf + len };
        uint64_t kb[4] = {}, pages[4];
        bool seen[4] = {};
        const char *line;
        size_t llen;
        bool complete;

        if (page_size == 0 || n > 4)
                return -EINVAL;
        while (next_line(&it, &line, &llen, &complete)) {
                for (size_t k = 0; k < n; k++) {
                        if (!has_prefix(line, llen, keys[k]))
                                continue;
                        if (seen[k] || !complete ||
                            parse_kb_value(line + strlen(keys[k]), line + llen, &kb[k]) < 0)
                                return -EBADMSG;
                        seen[k] = true;
                }
        }
        for (size_t k = 0; k < n; k++)
                if (!seen[k] || kb_to_pages(kb[k], page_size, &pages[k]) < 0)
                        return -EBADMSG;
        memcpy(ret_pages, pages, n * sizeof(*pages));
        return 0;
}

int proc_parse_meminfo(const char *buf, size_t len, uint64_t page_size,
                       uint64_t *ret_ram_pages, uint64_t *ret_swap_pages) {
        static const char *const keys[2] = { "MemTotal:", "SwapTotal:" };
        uint64_t pages[2];
        int r = parse_meminfo_keys(buf, len, page_size, keys, 2, pages);

        if (r < 0)
                return r;
        if (pages[0] == 0)
                return -EBADMSG;
        *ret_ram_pages = pages[0];
        *ret_swap_pages = pages[1];
        return 0;
}

int proc_parse_meminfo_usage(const char *buf, size_t len, uint64_t page_size,
                             uint64_t *ret_used_pages, uint64_t *ret_total_pages) {
        static const char *const keys[4] = { "MemTotal:", "MemAvailable:", "SwapTotal:",
                                             "SwapFree:" };
        uint64_t p[4];
        int r = parse_meminfo_keys(buf, len, page_size, keys, 4, p);

        if (r < 0)
                return r;
        if (p[0] == 0 || p[1] > p[0] || p[3] > p[2])
                return -EBADMSG;
        *ret_used_pages = (p[0] - p[1]) + (p[2] - p[3]);
        *ret_total_pages = p[0] + p[2];
        return 0;
}

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
        if (status_key_of(line, len) < 0)
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
        return parse_int_file(buf, len, -1000, 1000, ret_adj) < 0 ? -EBADMSG : 0;
}

int proc_write_oom_score_adj_at(int piddir, int adj) {
        char text[16];
        int len, fd, r = 0;

        if (adj < -1000 || adj > 1000)
                return -EINVAL;
        len = snprintf(text, sizeof(text), "%d\n", adj);
        /* O_TRUNC: harmless on procfs (the shell's `echo N >` does the
         * same); a fixture's regular file is left holding the value alone. */
        fd = openat(piddir, "oom_score_adj", O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return gone(-errno);
        ssize_t n = write(fd, text, (size_t)len);
        if (n < 0)
                r = gone(-errno);
        else if (n != len)
                r = -EIO;
        close(fd);
        return r;
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
        if (full || parse_int_file(buf, len, 0, 200, &v) < 0)
                return -EBADMSG;
        *ret_swappiness = v;
        return 0;
}
