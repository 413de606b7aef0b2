/* Log lines in text, logfmt or JSON. See log.h for the contracts. */
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/format.h"
#include "util/buf.h"
#include "util/json.h"

/* Set once at start-up, before the event loop and the reaper thread. */
static gd_log_level log_max_level = GD_LOG_INFO;
static gd_log_format log_format = GD_LOG_FORMAT_TEXT;
/* Where lines go, and how: see gd_log_open_nonblocking(). */
static int log_fd = STDERR_FILENO;
static bool log_to_socket;
static unsigned long log_dropped; /* lines lost to a full stderr, not yet reported (atomic) */
static unsigned long log_dropped_total; /* ever (atomic) */

static const char *const level_names[] = {
        [GD_LOG_ERR] = "error",     [GD_LOG_WARNING] = "warning", [GD_LOG_NOTICE] = "notice",
        [GD_LOG_INFO] = "info",     [GD_LOG_DEBUG] = "debug",
};

/* The end of a cut line in text and logfmt; JSON's is the field
 * "truncated":true, written by the JSON writer before the closing brace. */
static const char *const cut_marks[] = {
        [GD_LOG_FORMAT_TEXT] = " [truncated]",
        [GD_LOG_FORMAT_LOGFMT] = " truncated=true",
};
/* Kept free at the end of the buffer for the longest end of a cut line
 * (JSON's), the newline and the NUL. */
#define TAIL_RESERVE (sizeof(",\"truncated\":true}") - 1 + 2)
/* Below this, not even the JSON line of an empty message fits. */
#define LINE_MIN 128

void gd_log_set_level(gd_log_level max_level) {
        log_max_level = max_level;
}

void gd_log_set_format(gd_log_format format) {
        log_format = format;
}

int gd_log_level_from_name(const char *name, gd_log_level *ret_level) {
        static const struct {
                const char *name;
                gd_log_level level;
        } names[] = {
                {"err", GD_LOG_ERR},       {"error", GD_LOG_ERR},   {"warning", GD_LOG_WARNING},
                {"warn", GD_LOG_WARNING},  {"notice", GD_LOG_NOTICE}, {"info", GD_LOG_INFO},
                {"debug", GD_LOG_DEBUG},
        };

        for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(name, names[i].name) == 0) {
                        *ret_level = names[i].level;
                        return 0;
                }
        return -EINVAL;
}

int gd_log_format_from_name(const char *name, gd_log_format *ret_format) {
        static const char *const names[] = {
                [GD_LOG_FORMAT_TEXT] = "text",
                [GD_LOG_FORMAT_LOGFMT] = "logfmt",
                [GD_LOG_FORMAT_JSON] = "json",
        };

        for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
                if (strcmp(name, names[i]) == 0) {
                        *ret_format = (gd_log_format)i;
                        return 0;
                }
        return -EINVAL;
}

int gd_log_apply_option(bool format, const char *value) {
        gd_log_format f;
        gd_log_level level;

        if (format && gd_log_format_from_name(value, &f) == 0) {
                gd_log_set_format(f);
                return 0;
        }
        if (!format && gd_log_level_from_name(value, &level) == 0) {
                gd_log_set_level(level);
                return 0;
        }
        gd_log(GD_LOG_ERR, format ? "--log-format takes text, logfmt or json, not '{value}'"
                                  : "--log-level takes err, warning, notice, info or debug, not '{value}'",
               GD_STR("value", value));
        return -EINVAL;
}

const char *gd_log_level_name(gd_log_level level) {
        return level <= GD_LOG_DEBUG ? level_names[level] : "unknown";
}

/* A line is built in a gd_buf that stops TAIL_RESERVE short of the
 * caller's buffer (the reserve is released for the end of a cut line);
 * once something did not fit, nothing more is added. */

/* All of s or nothing. */
static bool put(gd_buf *b, const char *s, size_t n) {
        return gd_buf_append(b, s, n) == 0;
}

static bool put_str(gd_buf *b, const char *s) {
        return put(b, s, strlen(s));
}

/* As much of s as fits (for plain text: bare values and text lines). */
static void put_some(gd_buf *b, const char *s, size_t n) {
        (void)gd_buf_append_some(b, s, n);
}

/* s as a quoted literal (JSON's escapes, which logfmt readers also take),
 * cut cleanly when it does not fit. Returns false when not even "" fits. */
static bool put_literal(gd_buf *b, const char *s) {
        size_t before = b->len;

        if (b->overflow)
                return false;
        return gd_json_escape_some(b, s) == 0 || b->len > before;
}

/* Does a logfmt value need quotes: empty, or anything but printable ASCII
 * other than '=', '"' and '\\'? */
static bool needs_quotes(const char *s) {
        if (!*s)
                return true;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p <= ' ' || *p >= 0x7f || *p == '=' || *p == '"' || *p == '\\')
                        return true;
        return false;
}

/* One logfmt value (NUL-terminated): bare when it can be, else quoted. */
static bool put_value(gd_buf *b, const char *s) {
        if (needs_quotes(s))
                return put_literal(b, s);
        if (gd_buf_room(b) == 0) {
                b->overflow = true;
                return false;
        }
        put_some(b, s, strlen(s));
        return true;
}

/* One " key=value" of text and logfmt, or nothing when not even a cut
 * value fits. */
static void put_field(gd_buf *b, const char *key, const char *value) {
        size_t mark = b->len;

        if (!(put_str(b, " ") && put_str(b, key) && put_str(b, "=") && put_value(b, value))) {
                /* Back to before the field; the line stays cut. */
                gd_buf_truncate(b, mark);
                b->overflow = true;
        }
}

/* One "key":value of a JSON line through its writer: value as a string
 * literal cut between escapes to what fits (the line is then cut), NULL
 * as null; or nothing when not even a cut value fits. */
static void json_field(gd_json_writer *w, const char *key, const char *value) {
        gd_buf *b = w->buf;
        gd_json_writer before = *w; /* a writer is a value: a copy is a point to go back to */
        size_t mark = b->len;
        bool cut = false;

        if (b->overflow)
                return;
        if (gd_json_key(w, key) == 0 &&
            (value ? gd_json_str_cut(w, value, gd_buf_room(b), "", NULL, &cut)
                   : gd_json_null(w)) == 0) {
                if (cut)
                        b->overflow = true;
                return;
        }
        /* Back to before the field; the line stays cut. */
        gd_buf_truncate(b, mark);
        *w = before;
        b->overflow = true;
}

/* Can s stand bare inside a text sentence: not empty, printable ASCII or
 * whole UTF-8 sequences, spaces allowed, no '"', '=' or '\\'? Then it
 * cannot pass for a key=value pair, a quoted value or a new line. */
static bool sentence_bare(const char *s) {
        const unsigned char *p = (const unsigned char *)s;

        if (!*p)
                return false;
        while (*p) {
                if (*p >= 0x80) {
                        size_t n = gd_utf8_length((const char *)p);
                        if (n == 0)
                                return false;
                        p += n;
                        continue;
                }
                if (*p < ' ' || *p == 0x7f || *p == '=' || *p == '"' || *p == '\\')
                        return false;
                p++;
        }
        return true;
}

static bool key_ok(const char *k) {
        static const char *const reserved[] = {"time", "level", "msg", "truncated"};

        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_'))
                return false;
        for (const char *p = k; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
                        return false;
        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
                if (strcmp(k, reserved[i]) == 0)
                        return false;
        return true;
}

/* At most this many fields a line; more are left out. */
#define FIELDS_MAX 32

/* The fields that will be written: valid keys, each once, values as text
 * (numbers into num), and in json_null those that JSON writes as null (a
 * NaN or an infinity, which it has no form for). Returns how many. */
static size_t collect(const gd_log_field *fields, size_t n, const char **keys,
                      const char **values, bool *json_null, char (*num)[32]) {
        size_t k = 0;

        for (size_t i = 0; i < n && fields[i].key && k < FIELDS_MAX; i++) {
                const gd_log_field *f = &fields[i];
                const char *key = (const char *)f->key;
                bool dup = false;
                for (size_t j = 0; j < k && !dup; j++)
                        dup = strcmp(keys[j], key) == 0;
                if (dup || !key_ok(key))
                        continue;
                keys[k] = key;
                json_null[k] = false;
                switch (f->type) {
                case GD_LOG_T_INT:
                        snprintf(num[k], sizeof(num[k]), "%lld", f->v.i);
                        values[k] = num[k];
                        break;
                case GD_LOG_T_UINT:
                        snprintf(num[k], sizeof(num[k]), "%llu", f->v.u);
                        values[k] = num[k];
                        break;
                case GD_LOG_T_DBL:
                        snprintf(num[k], sizeof(num[k]), "%.3f", f->v.d);
                        values[k] = num[k];
                        json_null[k] = !isfinite(f->v.d);
                        break;
                default:
                        values[k] = f->v.s ? f->v.s : "";
                }
                k++;
        }
        return k;
}

/* The message into b with each {key} of a field replaced by its value
 * (bare when sentence_bare, or after a '=' when a logfmt value may be bare;
 * else a quoted literal) and marked in used. The message's own bytes that
 * are not printable become '?': it is ours, but must not break the line. */
static void put_message(gd_buf *b, const char *msg, const char *const *keys,
                        const char *const *values, size_t n, bool *used) {
        const char *p = msg;

        while (*p && !b->overflow) {
                if (*p == '{') {
                        size_t len = strcspn(p + 1, "{} ");
                        size_t i = 0;
                        while (p[1 + len] == '}' && i < n &&
                               !(strlen(keys[i]) == len && memcmp(keys[i], p + 1, len) == 0))
                                i++;
                        if (p[1 + len] == '}' && i < n) {
                                /* After "key=" it reads as a pair: quoted as one. */
                                bool pair = p > msg && p[-1] == '=';
                                if (pair ? !needs_quotes(values[i]) : sentence_bare(values[i]))
                                        put_some(b, values[i], strlen(values[i]));
                                else
                                        put_literal(b, values[i]);
                                used[i] = true;
                                p += len + 2;
                                continue;
                        }
                }
                put_some(b, (unsigned char)*p < ' ' || *p == 0x7f ? "?" : p, 1);
                p++;
        }
}

/* The JSON line into b (whose reserve ends at size): time, level and msg,
 * then the fields, each through the JSON writer; a line cut here, or whose
 * message was cut (cut), ends with "truncated":true. */
static void json_line(gd_buf *b, size_t size, bool cut, const char *when, gd_log_level level,
                      const char *said, const char *const *keys, const char *const *values,
                      const bool *json_null, size_t n) {
        gd_json_writer w;

        gd_json_writer_init(&w, b);
        gd_json_begin_object(&w);
        json_field(&w, "time", when);
        json_field(&w, "level", level_names[level]);
        json_field(&w, "msg", said);
        for (size_t i = 0; i < n; i++)
                json_field(&w, keys[i], json_null[i] ? NULL : values[i]);
        /* The reserve holds the cut mark, the brace, the newline and the NUL. */
        b->size = size;
        if (b->overflow || cut) {
                gd_buf_truncate(b, b->len);
                gd_json_key(&w, "truncated");
                gd_json_bool(&w, true);
        }
        gd_json_end_object(&w);
        put_str(b, "\n");
}

int gd_log_format_line(gd_log_format format, gd_log_level level, int64_t unix_ms,
                       const char *msg, const gd_log_field *fields, size_t n, char *buf,
                       size_t size) {
        static const char *const text_prefix[] = {
                [GD_LOG_ERR] = "error: ",   [GD_LOG_WARNING] = "warning: ",
                [GD_LOG_NOTICE] = "note: ", [GD_LOG_INFO] = "",
                [GD_LOG_DEBUG] = "debug: ",
        };
        char said[GD_LOG_MSG_MAX + TAIL_RESERVE];
        char when[GD_TIME_UTC_MAX];
        char num[FIELDS_MAX][32];
        const char *keys[FIELDS_MAX], *values[FIELDS_MAX];
        bool json_null[FIELDS_MAX];
        bool used[FIELDS_MAX] = {false};
        gd_buf l, m;

        if (size < LINE_MIN || format > GD_LOG_FORMAT_JSON || level > GD_LOG_DEBUG) {
                if (size > 0)
                        buf[0] = '\0';
                return -ENOBUFS;
        }
        gd_buf_init(&m, said, GD_LOG_MSG_MAX);
        size_t k = collect(fields, n, keys, values, json_null, num);
        put_message(&m, msg ? msg : "", keys, values, k, used);
        gd_buf_init(&l, buf, size - TAIL_RESERVE + 1);
        if (format != GD_LOG_FORMAT_TEXT && gd_format_time_utc(unix_ms, when) < 0)
                snprintf(when, sizeof(when), "invalid");
        if (format == GD_LOG_FORMAT_JSON) {
                json_line(&l, size, m.overflow, when, level, said, keys, values, json_null, k);
                return (int)l.len;
        }
        if (format == GD_LOG_FORMAT_TEXT) {
                put_str(&l, "guardian: ");
                put_str(&l, text_prefix[level]);
                put_some(&l, said, m.len);
        } else {
                put_str(&l, "time=");
                put_str(&l, when);
                put_str(&l, " level=");
                put_str(&l, level_names[level]);
                put_str(&l, " msg=");
                put_value(&l, said);
        }
        /* Text names a field once: in the sentence, or after it. */
        for (size_t i = 0; i < k; i++)
                if (format != GD_LOG_FORMAT_TEXT || !used[i])
                        put_field(&l, keys[i], values[i]);
        /* The reserve holds the longest mark, the newline and the NUL. */
        l.size = size;
        if (l.overflow || m.overflow) {
                gd_buf_truncate(&l, l.len);
                put_str(&l, cut_marks[format]);
        }
        put_str(&l, "\n");
        return (int)l.len;
}

bool gd_log_enabled(gd_log_level level) {
        return level <= log_max_level;
}

uint64_t gd_log_dropped_total(void) {
        return __atomic_load_n(&log_dropped_total, __ATOMIC_RELAXED);
}

int gd_log_open_nonblocking(void) {
        struct stat st;

        if (fstat(STDERR_FILENO, &st) < 0)
                return -errno;
        if (S_ISSOCK(st.st_mode)) {
                log_to_socket = true; /* journald's stream: send(MSG_DONTWAIT) */
                return 0;
        }
        if (S_ISREG(st.st_mode))
                return 0; /* a file does not stall on a reader */
        /* A pipe, FIFO or terminal: a description of our own, non-blocking,
         * so the one shared with hooks and other writers stays as it is. */
        int fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        log_fd = fd;
        return 0;
}

/* One write per line: lines stay whole when stderr is shared. A short
 * write is not continued (its rest would land apart), and a full stderr
 * loses the line rather than stalling the loop. Returns false when the
 * line was not written. */
static bool write_line(const char *buf, size_t len) {
        ssize_t w;

        do
                w = log_to_socket ? send(log_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL)
                                  : write(log_fd, buf, len);
        while (w < 0 && errno == EINTR);
        return w > 0;
}

void gd_log_fields(gd_log_level level, const char *msg, const gd_log_field *fields) {
        char buf[GD_LOG_LINE_MAX];
        int saved_errno = errno;
        int64_t now_ms = 0;

        if (!gd_log_enabled(level))
                return;
        if (log_format != GD_LOG_FORMAT_TEXT)
                now_ms = gd_wall_ms();
        int len = gd_log_format_line(log_format, level, now_ms, msg, fields, SIZE_MAX, buf,
                                     sizeof(buf));
        if (len > 0) {
                unsigned long dropped = __atomic_exchange_n(&log_dropped, 0, __ATOMIC_RELAXED);
                if (dropped) {
                        char line_buf[512];
                        const gd_log_field note[] = {
                                GD_UINT("lines-dropped", dropped),
                                GD_STR("reason", "stderr was full (a stalled journal or log reader)"),
                        };
                        int nlen = gd_log_format_line(log_format, GD_LOG_WARNING, now_ms, "log",
                                                      note, 2, line_buf, sizeof(line_buf));
                        if (nlen <= 0 || !write_line(line_buf, (size_t)nlen))
                                __atomic_fetch_add(&log_dropped, dropped, __ATOMIC_RELAXED);
                }
                if (!write_line(buf, (size_t)len)) {
                        __atomic_fetch_add(&log_dropped, 1, __ATOMIC_RELAXED);
                        __atomic_fetch_add(&log_dropped_total, 1, __ATOMIC_RELAXED);
                }
        }
        errno = saved_errno;
}
