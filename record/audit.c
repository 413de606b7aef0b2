/* The audit trail: one JSON line per kill, appended with one write(). See
 * audit.h for the contracts. */
#include "record/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
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

/* pages * page_size, null where it would overflow (a corrupt snapshot). */
static void out_bytes(gd_json_writer *w, uint64_t pages, uint64_t page_size) {
        if (page_size != 0 && pages > UINT64_MAX / page_size)
                gd_json_null(w);
        else
                gd_json_uint(w, pages * page_size);
}

/* RFC 3339 UTC with milliseconds (gd_format_time_utc); years outside
 * 0000-9999 have no RFC 3339 form: null. */
static void out_time(gd_json_writer *w, int64_t unix_ms) {
        char text[GD_TIME_UTC_MAX];

        gd_json_str(w, gd_format_time_utc(unix_ms, text) < 0 ? NULL : text);
}

/* A string that may be cut to budget bytes of literal (NO_CUT: whole or
 * not at all); returns the literal's length, for the cut arithmetic in
 * gd_audit_format. */
static size_t out_string_cut(gd_json_writer *w, const char *s, size_t budget, bool *ret_cut) {
        size_t len = 0;

        if (gd_json_str_cut(w, s, budget, CUT_MARK, &len, ret_cut) < 0)
                return 0;
        return len;
}

/* A container's names take at most this much literal each: seven of them
 * cannot crowd out the process and the outcome. */
#define CONTAINER_FIELD_MAX 320

const char *gd_audit_ident_state_name(gd_ident_state st) {
        switch (st) {
        case GD_IDENT_NONE: return "none";
        case GD_IDENT_PENDING: return "pending";
        case GD_IDENT_KNOWN: return "known";
        case GD_IDENT_UNAVAILABLE: return "unavailable";
        case GD_IDENT_UNTRUSTED: return "untrusted";
        }
        return "unknown";
}

bool gd_audit_json_container(gd_json_writer *w, const gd_container_names *c) {
        bool any_cut = false;

        if (!c || c->runtime == POL_RUNTIME_ANY) {
                gd_json_null(w);
                return false;
        }
        const struct {
                const char *key, *value;
        } fields[] = {
                {"runtime", pol_runtime_name(c->runtime)},
                {"id", c->id},
                {"name", c->name},
                {"image", c->image},
                {"namespace", c->k8s_namespace},
                {"pod", c->pod_name},
                {"container", c->container_name},
        };
        gd_json_begin_object(w);
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                bool cut = false;
                gd_json_key(w, fields[i].key);
                out_string_cut(w, fields[i].value[0] ? fields[i].value : NULL, CONTAINER_FIELD_MAX,
                               &cut);
                any_cut |= cut;
        }
        gd_json_end_object(w);
        return any_cut;
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
        gd_json_writer w;
        gd_buf o;
        bool proc = rec->pid > 0, cut[CUT_N] = {false};

        for (int k = 0; k < CUT_N; k++)
                ret_len[k] = 0;
        if (size == 0)
                return -ENOBUFS;
        gd_buf_init(&o, buf, size);
        gd_json_writer_init(&w, &o);
        gd_json_begin_object(&w);
        gd_json_key(&w, "time");
        out_time(&w, rec->time_unix_ms);
        gd_json_key(&w, "event");
        gd_json_str(&w, gd_audit_event_name(rec->event));
        gd_json_key(&w, "cgroup");
        ret_len[CUT_CGROUP] = out_string_cut(&w, rec->cgroup, budget[CUT_CGROUP], &cut[CUT_CGROUP]);
        gd_json_key(&w, "container");
        bool container_cut = gd_audit_json_container(&w, rec->container);
        gd_json_key(&w, "workload");
        gd_json_str(&w, rec->workload);
        gd_json_key(&w, "trigger");
        gd_json_str(&w, rec->trigger);
        gd_json_key(&w, "trigger_value");
        gd_json_double(&w, "%.4g", rec->trigger_value);
        gd_json_key(&w, "trigger_threshold");
        gd_json_double(&w, "%.4g", rec->trigger_threshold);
        gd_json_key(&w, "sustained_ms");
        gd_json_uint(&w, rec->sustained_ms);
        gd_json_key(&w, "reason");
        ret_len[CUT_REASON] = out_string_cut(&w, rec->reason, budget[CUT_REASON], &cut[CUT_REASON]);

        /* A whole-cgroup kill has no process: its fields are null rather
         * than absent, so every line has the same keys. */
        gd_json_key(&w, "pid");
        if (proc)
                gd_json_int(&w, rec->pid);
        else
                gd_json_null(&w);
        gd_json_key(&w, "comm");
        gd_json_str(&w, proc ? rec->comm : NULL);
        gd_json_key(&w, "cmdline");
        ret_len[CUT_CMDLINE] = out_string_cut(&w, proc ? rec->cmdline : NULL,
                                              budget[CUT_CMDLINE], &cut[CUT_CMDLINE]);
        if (proc) {
                gd_json_key(&w, "uid");
                gd_json_uint(&w, rec->uid);
                gd_json_key(&w, "start_time");
                gd_json_uint(&w, rec->start_time);
                gd_json_key(&w, "score");
                gd_json_int(&w, rec->score);
                gd_json_key(&w, "rss_bytes");
                out_bytes(&w, rec->rss_pages, rec->page_size);
                gd_json_key(&w, "pte_bytes");
                out_bytes(&w, rec->pte_pages, rec->page_size);
                gd_json_key(&w, "swap_bytes");
                out_bytes(&w, rec->swap_pages, rec->page_size);
                gd_json_key(&w, "rss_pages");
                gd_json_uint(&w, rec->rss_pages);
                gd_json_key(&w, "pte_pages");
                gd_json_uint(&w, rec->pte_pages);
                gd_json_key(&w, "swap_pages");
                gd_json_uint(&w, rec->swap_pages);
                gd_json_key(&w, "oom_score_adj");
                gd_json_int(&w, rec->oom_score_adj);
        } else {
                static const char *const keys[] = {
                        "uid",       "start_time", "score",     "rss_bytes",
                        "pte_bytes", "swap_bytes", "rss_pages", "pte_pages",
                        "swap_pages", "oom_score_adj",
                };
                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
                        gd_json_key(&w, keys[i]);
                        gd_json_null(&w);
                }
        }
        gd_json_key(&w, "totalpages");
        gd_json_uint(&w, rec->totalpages);
        gd_json_key(&w, "memory_before");
        gd_json_uint(&w, rec->memory_before);
        gd_json_key(&w, "memory_after");
        gd_json_uint(&w, rec->memory_after);
        gd_json_key(&w, "trigger_to_kill_ms");
        gd_json_int(&w, rec->trigger_to_kill_ms);
        gd_json_key(&w, "trigger_to_death_ms");
        if (rec->trigger_to_death_ms < 0)
                gd_json_null(&w);
        else
                gd_json_int(&w, rec->trigger_to_death_ms);
        gd_json_key(&w, "result");
        gd_json_str(&w, gd_audit_result_name(rec->result, rec->error));
        /* Always there, so every line has the same keys; "..." at the end
         * of a string alone could be the string's own. null, or the cut
         * keys: "cmdline,cgroup". */
        gd_json_key(&w, "truncated");
        char cut_list[sizeof("cmdline,reason,cgroup,container")];
        gd_buf list;
        gd_buf_init(&list, cut_list, sizeof(cut_list));
        for (int k = 0; k < CUT_N; k++)
                if (cut[k]) {
                        if (list.len > 0)
                                gd_buf_putc(&list, ',');
                        gd_buf_puts(&list, cut_names[k]);
                }
        if (container_cut) {
                if (list.len > 0)
                        gd_buf_putc(&list, ',');
                gd_buf_puts(&list, "container");
        }
        gd_json_str(&w, list.len > 0 ? cut_list : NULL);
        gd_json_end_object(&w);
        gd_buf_putc(&o, '\n');
        if (gd_json_failed(&w) || o.len > INT_MAX) {
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
