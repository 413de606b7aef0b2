/* The audit trail: one JSON line per kill, appended with one write(). See
 * audit.h for the contracts. */
#include "record/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/format.h"
#include "util/json.h"
#include "util/redact.h"

struct gd_audit {
        int fd;
};

/* A cut string ends with this, inside its quotes, so a reader sees it was cut. */
#define CUT_MARK "..."
#define CUT_MARK_LEN (sizeof(CUT_MARK) - 1)
/* The shortest literal a cut string can become: "..." with its quotes. */
#define CUT_MIN (CUT_MARK_LEN + 2)
#define NO_CUT SIZE_MAX
/* A string cut for room that a later one needed is given back whole when
 * it is at most this long: cheap, and what identifies the kill. */
#define CUT_RESTORE_MAX 256

/* mkdir of path's parent, 0700. One level only: the parent of that must
 * exist (/var/log, /var/lib, a mounted volume). An existing directory is
 * used as it is: its mode is the operator's choice. */
static int audit_make_parent(const char *path) {
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        size_t len;

        if (!slash || slash == path)
                return 0; /* relative name in the cwd, or a file in "/" */
        len = (size_t)(slash - path);
        if (len >= sizeof(dir))
                return -ENAMETOOLONG;
        memcpy(dir, path, len);
        dir[len] = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int gd_audit_open(const char *path, gd_audit **ret_audit) {
        struct stat st;
        gd_audit *audit;
        int fd, r, flags;

        if (!path || !*path || !ret_audit)
                return -EINVAL;
        r = audit_make_parent(path);
        if (r < 0)
                return r;
        /* O_NOFOLLOW: a symlink planted at the path must not redirect root's
         * appends (ELOOP). O_NONBLOCK: a FIFO planted there must not hang
         * the daemon in open() (ENXIO without a reader); a regular file
         * ignores it. O_NOCTTY: a tty must not become our terminal. */
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
                  O_NONBLOCK, 0600);
        if (fd < 0) {
                r = -errno;
                /* A directory (EISDIR) or a FIFO/socket (ENXIO, EOPNOTSUPP)
                 * at the path: not a regular file. */
                if (r == -EISDIR || r == -ENXIO || r == -EOPNOTSUPP)
                        r = -EINVAL;
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                goto fail;
        }
        if (!S_ISREG(st.st_mode)) {
                r = -EINVAL;
                goto fail;
        }
        /* Someone else's file, or one others may write, could be edited to
         * forge or hide kills: refuse it rather than trust it. */
        if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
                r = -EPERM;
                goto fail;
        }
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
                r = -errno;
                goto fail;
        }
        audit = calloc(1, sizeof(*audit));
        if (!audit) {
                r = -ENOMEM;
                goto fail;
        }
        audit->fd = fd;
        *ret_audit = audit;
        return 0;
fail:
        close(fd);
        return r;
}

void gd_audit_close(gd_audit *audit) {
        if (!audit)
                return;
        close(audit->fd);
        free(audit);
}

/* ---- names ---- */

/* The one place the strings of "event" and "result" are spelled. */
static const char *const event_names[GD_EVENT__N] = {
        [GD_EVENT_KILL] = "kill",
        [GD_EVENT_WOULD_KILL] = "would-kill",
        [GD_EVENT_KILL_CGROUP] = "kill-cgroup",
        [GD_EVENT_WOULD_KILL_CGROUP] = "would-kill-cgroup",
        [GD_EVENT_KILL_FAILED] = "kill-failed",
        [GD_EVENT_NOTIFY] = "notify",
};

static const char *const result_names[GD_RESULT__N] = {
        [GD_RESULT_KILLED] = "killed",
        [GD_RESULT_DRY_RUN] = "dry-run",
        [GD_RESULT_NOTIFIED] = "notified",
        [GD_RESULT_TIMEOUT] = "timeout",
        [GD_RESULT_UNFINISHED] = "unfinished",
        [GD_RESULT_GONE] = "gone",
        [GD_RESULT_PID_REUSED] = "pid-reused",
        [GD_RESULT_MOVED] = "moved",
        [GD_RESULT_CGROUPNS_UNKNOWN] = "cgroupns-unknown",
        [GD_RESULT_ERRNO] = "error",
};

const char *gd_audit_event_name(gd_audit_event event) {
        return (unsigned)event < GD_EVENT__N ? event_names[event] : NULL;
}

const char *gd_audit_result_name(gd_audit_result result, int error) {
        if ((unsigned)result >= GD_RESULT__N)
                return NULL;
        /* An errno glibc has no name for (or none at all) is an "error". */
        const char *name = result == GD_RESULT_ERRNO && error < 0 ? strerrorname_np(-error) : NULL;
        return name ? name : result_names[result];
}

/* ---- formatting ---- */

/* An output cursor. Once something did not fit, failed stays set and
 * nothing more is written; the caller sees one -ENOBUFS at the end. */
typedef struct audit_out {
        char *buf;
        size_t size;
        size_t len;
        bool failed;
} audit_out;

static void out_raw(audit_out *o, const char *s, size_t len) {
        if (o->failed)
                return;
        if (len >= o->size - o->len) {
                o->failed = true;
                return;
        }
        memcpy(o->buf + o->len, s, len);
        o->len += len;
        o->buf[o->len] = '\0';
}

static void out_str(audit_out *o, const char *s) {
        out_raw(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void out_fmt(audit_out *o, const char *fmt, ...) {
        char tmp[64];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(tmp)) {
                o->failed = true;
                return;
        }
        out_raw(o, tmp, (size_t)n);
}

/* ,"key": (no comma before the first key). */
static void out_key(audit_out *o, const char *key) {
        out_str(o, o->len > 1 ? ",\"" : "\"");
        out_str(o, key);
        out_str(o, "\":");
}

/* A string as a JSON literal of at most budget bytes (NO_CUT: whole or
 * not at all), NULL as null. Returns the literal's length, for the cut
 * arithmetic in gd_audit_format. */
static size_t out_string_cut(audit_out *o, const char *s, size_t budget, bool *ret_cut) {
        size_t room = o->size - o->len, start = o->len, limit;
        int r;

        if (o->failed)
                return 0;
        if (!s) {
                out_str(o, "null");
                return 4;
        }
        limit = budget == NO_CUT || budget >= room ? room : budget + 1;
        r = gd_json_escape(o->buf + o->len, limit, s);
        if (r >= 0) {
                o->len += (size_t)r;
                return (size_t)r;
        }
        if (budget == NO_CUT || budget < CUT_MIN || budget >= room) {
                /* Whole or nothing, or not even the budget fits the buffer. */
                o->failed = true;
                return 0;
        }
        /* Cut, leaving room for the mark before the closing quote. The cut
         * literal always fits: limit - 1 - CUT_MARK_LEN >= 2 bytes for "". */
        (void)gd_json_escape(o->buf + o->len, budget + 1 - CUT_MARK_LEN, s);
        o->len += strlen(o->buf + o->len) - 1; /* drop the closing quote */
        out_str(o, CUT_MARK "\"");
        if (ret_cut)
                *ret_cut = true;
        return o->len - start;
}

static size_t out_string(audit_out *o, const char *s, size_t budget) {
        return out_string_cut(o, s, budget, NULL);
}

static void out_u64(audit_out *o, uint64_t v) {
        out_fmt(o, "%" PRIu64, v);
}

static void out_i64(audit_out *o, int64_t v) {
        out_fmt(o, "%" PRId64, v);
}

/* pages * page_size, null where it would overflow (a corrupt snapshot). */
static void out_bytes(audit_out *o, uint64_t pages, uint64_t page_size) {
        if (page_size != 0 && pages > UINT64_MAX / page_size)
                out_str(o, "null");
        else
                out_u64(o, pages * page_size);
}

/* A double as JSON: NaN and infinities have no JSON form. printf writes the
 * locale's decimal point: whatever it is (a ',' or several bytes), it
 * becomes '.' here, so a setlocale() anywhere cannot break the record. */
static void out_double(audit_out *o, double v) {
        char tmp[64], num[64];
        size_t n = 0;
        bool in_point = false;

        if (!isfinite(v)) {
                out_str(o, "null");
                return;
        }
        snprintf(tmp, sizeof(tmp), "%.4g", v);
        for (const char *p = tmp; *p && n < sizeof(num) - 1; p++) {
                bool plain = (*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == 'e';
                if (plain)
                        num[n++] = *p;
                else if (!in_point)
                        num[n++] = '.';
                in_point = !plain;
        }
        num[n] = '\0';
        out_str(o, num);
}

/* RFC 3339 UTC with milliseconds (gd_format_time_utc); years outside
 * 0000-9999 have no RFC 3339 form: null. */
static void out_time(audit_out *o, int64_t unix_ms) {
        char text[GD_TIME_UTC_MAX];

        if (gd_format_time_utc(unix_ms, text) < 0) {
                out_str(o, "null");
                return;
        }
        out_fmt(o, "\"%s\"", text);
}

/* The strings that may be cut, in the order they are: the command line is
 * the least needed (pid, comm and start time identify the process), the
 * cgroup the most (a record must say where it killed). */
enum { CUT_CMDLINE, CUT_REASON, CUT_CGROUP, CUT_N };
static const char *const cut_names[CUT_N] = {"cmdline", "reason", "cgroup"};

/* The whole record, with the cuttable strings cut to at most budget[k]
 * bytes of literal; ret_len[k] gets the length each took. A cut string
 * ends in CUT_MARK and is named in "truncated". Returns the length or
 * -ENOBUFS. */
static int audit_format_with(const gd_audit_record *rec, char *buf, size_t size,
                             const size_t budget[CUT_N], size_t ret_len[CUT_N]) {
        audit_out o = {.buf = buf, .size = size};
        bool proc = rec->pid > 0, cut[CUT_N] = {false};

        for (int k = 0; k < CUT_N; k++)
                ret_len[k] = 0;
        out_str(&o, "{");
        out_key(&o, "time");
        out_time(&o, rec->time_unix_ms);
        out_key(&o, "event");
        out_string(&o, gd_audit_event_name(rec->event), NO_CUT);
        out_key(&o, "cgroup");
        ret_len[CUT_CGROUP] = out_string_cut(&o, rec->cgroup, budget[CUT_CGROUP], &cut[CUT_CGROUP]);
        out_key(&o, "workload");
        out_string(&o, rec->workload, NO_CUT);
        out_key(&o, "trigger");
        out_string(&o, rec->trigger, NO_CUT);
        out_key(&o, "trigger_value");
        out_double(&o, rec->trigger_value);
        out_key(&o, "trigger_threshold");
        out_double(&o, rec->trigger_threshold);
        out_key(&o, "sustained_ms");
        out_u64(&o, rec->sustained_ms);
        out_key(&o, "reason");
        ret_len[CUT_REASON] = out_string_cut(&o, rec->reason, budget[CUT_REASON], &cut[CUT_REASON]);

        /* A whole-cgroup kill has no process: its fields are null rather
         * than absent, so every line has the same keys. */
        out_key(&o, "pid");
        if (proc)
                out_i64(&o, rec->pid);
        else
                out_str(&o, "null");
        out_key(&o, "comm");
        out_string(&o, proc ? rec->comm : NULL, NO_CUT);
        out_key(&o, "cmdline");
        ret_len[CUT_CMDLINE] = out_string_cut(&o, proc ? rec->cmdline : NULL,
                                              budget[CUT_CMDLINE], &cut[CUT_CMDLINE]);
        if (proc) {
                out_key(&o, "uid");
                out_u64(&o, rec->uid);
                out_key(&o, "start_time");
                out_u64(&o, rec->start_time);
                out_key(&o, "score");
                out_i64(&o, rec->score);
                out_key(&o, "rss_bytes");
                out_bytes(&o, rec->rss_pages, rec->page_size);
                out_key(&o, "pte_bytes");
                out_bytes(&o, rec->pte_pages, rec->page_size);
                out_key(&o, "swap_bytes");
                out_bytes(&o, rec->swap_pages, rec->page_size);
                out_key(&o, "rss_pages");
                out_u64(&o, rec->rss_pages);
                out_key(&o, "pte_pages");
                out_u64(&o, rec->pte_pages);
                out_key(&o, "swap_pages");
                out_u64(&o, rec->swap_pages);
                out_key(&o, "oom_score_adj");
                out_i64(&o, rec->oom_score_adj);
        } else {
                static const char *const keys[] = {
                        "uid",       "start_time", "score",     "rss_bytes",
                        "pte_bytes", "swap_bytes", "rss_pages", "pte_pages",
                        "swap_pages", "oom_score_adj",
                };
                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                        out_key(&o, keys[i]);
                        out_str(&o, "null");
                }
        }
        out_key(&o, "totalpages");
        out_u64(&o, rec->totalpages);
        out_key(&o, "memory_before");
        out_u64(&o, rec->memory_before);
        out_key(&o, "memory_after");
        out_u64(&o, rec->memory_after);
        out_key(&o, "trigger_to_kill_ms");
        out_i64(&o, rec->trigger_to_kill_ms);
        out_key(&o, "trigger_to_death_ms");
        if (rec->trigger_to_death_ms < 0)
                out_str(&o, "null");
        else
                out_i64(&o, rec->trigger_to_death_ms);
        out_key(&o, "result");
        out_string(&o, gd_audit_result_name(rec->result, rec->error), NO_CUT);
        /* Always there, so every line has the same keys; "..." at the end
         * of a string alone could be the string's own. null, or the cut
         * keys: "cmdline,cgroup". */
        out_key(&o, "truncated");
        bool any = false;
        for (int k = 0; k < CUT_N; k++)
                if (cut[k]) {
                        out_str(&o, any ? "," : "\"");
                        out_str(&o, cut_names[k]);
                        any = true;
                }
        out_str(&o, any ? "\"}\n" : "null}\n");
        if (o.failed || o.len > INT_MAX) {
                if (size > 0)
                        buf[0] = '\0';
                return -ENOBUFS;
        }
        return (int)o.len;
}

/* Too long as a whole: the strings are cut in cut_names' order, each only
 * when cutting the ones before it to the bone was not enough. Each pass
 * formats the rest unchanged, so the room measured with a string at its
 * shortest is exactly what that string may take (the "truncated" list of
 * the final pass is never longer than that of the measuring pass). */
int gd_audit_format(const gd_audit_record *rec, char *buf, size_t size) {
        size_t budget[CUT_N], len[CUT_N];
        int r;

        if (!rec || !buf)
                return -EINVAL;
        /* Every record's command line is masked here, whoever made it. A
         * longer one would be cut below anyway. */
        char cmdline[GD_AUDIT_RECORD_MAX];
        gd_audit_record masked = *rec;
        if (rec->cmdline) {
                gd_redact_cmdline(rec->cmdline, cmdline, sizeof(cmdline));
                masked.cmdline = cmdline;
                rec = &masked;
        }
        for (int k = 0; k < CUT_N; k++)
                budget[k] = NO_CUT;
        r = audit_format_with(rec, buf, size, budget, len);
        for (int k = 0; r < 0 && k < CUT_N; k++) {
                budget[k] = CUT_MIN;
                r = audit_format_with(rec, buf, size, budget, len);
                if (r < 0)
                        continue;
                /* k at its shortest makes it fit: the short ones cut before
                 * it come back whole where room allows (a long cgroup must
                 * not cost a 30-byte command line), then k takes the rest. */
                const char *strs[CUT_N] = {rec->cmdline, rec->reason, rec->cgroup};
                for (int j = 0; j < k; j++) {
                        if (!strs[j] || strlen(strs[j]) > CUT_RESTORE_MAX)
                                continue;
                        budget[j] = NO_CUT;
                        if (audit_format_with(rec, buf, size, budget, len) < 0)
                                budget[j] = CUT_MIN;
                }
                r = audit_format_with(rec, buf, size, budget, len);
                size_t rest = (size_t)r - len[k];
                budget[k] = size - 1 - rest;
                r = audit_format_with(rec, buf, size, budget, len);
        }
        return r;
}

int gd_audit_write(gd_audit *audit, const gd_audit_record *rec) {
        char buf[GD_AUDIT_RECORD_MAX];
        ssize_t w;
        int len;

        if (!audit || !rec)
                return -EINVAL;
        len = gd_audit_format(rec, buf, sizeof(buf));
        if (len < 0)
                return len;
        /* One write() on an O_APPEND fd: the line lands whole, after any
         * other writer's, or not at all. Never continue a short write: the
         * rest would land apart from its beginning. A short one (a full
         * disk, a file size limit) is cut off again, so the next record
         * starts a line of its own instead of finishing a broken one. */
        struct stat st;
        if (fstat(audit->fd, &st) < 0)
                return -errno;
        do
                w = write(audit->fd, buf, (size_t)len);
        while (w < 0 && errno == EINTR);
        if (w == len)
                return 0;
        int r = w < 0 ? -errno : -ENOSPC;
        if (w > 0 && ftruncate(audit->fd, st.st_size) < 0)
                return -errno;
        return r;
}
