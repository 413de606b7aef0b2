/* The pure parsers of /proc/PID/{stat,status,cgroup,cmdline}, meminfo and
 * one-integer files: (buf, len) in, a struct or a negative errno out, no
 * I/O (the readers are in proc.c). See proc.h for the contracts. */
#include "proc/proc.h"
#include "util/text.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
static int kb_to_pages(uint64_t kb, uint64_t page_size, uint64_t *ret) {
        if (kb > UINT64_MAX / 1024)
                return -EBADMSG;
        *ret = kb * 1024 / page_size;
        return 0;
}

int proc_parse_int(const char *buf, size_t len, int min, int max, int *ret) {
        const char *p = buf, *end = buf + len;
        bool neg = p < end && *p == '-';
        uint64_t u;
        int v;

        p += neg;
        if (gd_text_u64_prefix(&p, end, &u) < 0 || u > INT_MAX)
                return -EBADMSG;
        v = neg ? -(int) u : (int) u;
        if (p < end && *p == '\n')
                p++;
        if (p != end || v < min || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* Each line the parsers below use must end in '\n' (gd_text_line's
 * complete): a line cut at the end of the buffer may hold a number cut
 * short, and "12" read from "1234" would be wrong without any other sign
 * of it. */

/* "Key:\t   123 kB" after the key: blanks, digits, " kB", end of line. */
static int parse_kb_value(const char *p, const char *end, uint64_t *ret_kb) {
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        if (gd_text_u64_prefix(&p, end, ret_kb) < 0)
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
        if (gd_text_u64_prefix(&s, end, &v) < 0 || s >= end || (*s != ' ' && *s != '\n'))
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

        if (gd_text_u64_prefix(&p, end, &v) < 0 || v == 0 || v > INT_MAX)
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
        size_t len; /* at least 4 (see proc_status_key) */
} status_keys[ST_N] = {
        [ST_UID] = STATUS_KEY("Uid:"),          [ST_PTE] = STATUS_KEY("VmPTE:"),
        [ST_SWAP] = STATUS_KEY("VmSwap:"),      [ST_ANON] = STATUS_KEY("RssAnon:"),
        [ST_FILE] = STATUS_KEY("RssFile:"),     [ST_SHMEM] = STATUS_KEY("RssShmem:"),
        [ST_SIGPND] = STATUS_KEY("SigPnd:"),    [ST_SHDPND] = STATUS_KEY("ShdPnd:"),
};

/* The reader asks this of every line of status (~55), so: the first byte
 * turns most away, and the first four bytes (one compare, inlined) all but
 * the line that has the key. */
int proc_status_key(const char *line, size_t len) {
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
                if (gd_text_u64_prefix(&p, end, &v) < 0 || v > UINT32_MAX)
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
        size_t pos = 0;
        gd_span sp;
        uint64_t kb[ST_N] = {}, pages[ST_N] = {}, pending = 0;
        bool seen[ST_N] = {};
        proc_mem m = {};
        const char *line;
        size_t llen;
        bool complete;
        int nmem = 0;

        if (page_size == 0)
                return -EINVAL;

        while (gd_text_line(buf, len, &pos, &sp, &complete)) {
                line = sp.p;
                llen = sp.n;
                const char *end = line + llen;
                int k = proc_status_key(line, llen), r;

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
        size_t pos = 0;
        gd_span sp;
        const char *line, *path = NULL;
        size_t llen, path_len = 0;
        bool complete;

        while (gd_text_line(buf, len, &pos, &sp, &complete)) {
                line = sp.p;
                llen = sp.n;
                const char *p = line, *end = line + llen, *colon;
                uint64_t id;

                /* "hierarchy-id:controllers:path". The kernel prints the path
                 * unescaped, and cgroup names may hold '\n': check every line
                 * so a name cannot forge one, and refuse a second "0::". */
                if (!complete || gd_text_u64_prefix(&p, end, &id) < 0 || p >= end || *p != ':')
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
        size_t pos = 0;
        gd_span sp;
        uint64_t kb[4] = {}, pages[4];
        bool seen[4] = {};
        const char *line;
        size_t llen;
        bool complete;

        if (page_size == 0 || n > 4)
                return -EINVAL;
        while (gd_text_line(buf, len, &pos, &sp, &complete)) {
                line = sp.p;
                llen = sp.n;
                for (size_t k = 0; k < n; k++) {
                        if (!gd_text_starts(sp, keys[k]))
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
