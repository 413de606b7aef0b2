/* Log lines in text, logfmt or JSON. See log.h for the contracts. */
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/format.h"
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

/* The end of a cut line, in each format. */
static const char *const cut_marks[] = {
        [GD_LOG_FORMAT_TEXT] = " [truncated]",
        [GD_LOG_FORMAT_LOGFMT] = " truncated=true",
        [GD_LOG_FORMAT_JSON] = ",\"truncated\":true}",
};
/* Kept free at the end of the buffer for the longest cut mark, the newline
 * and the NUL. */
#define TAIL_RESERVE (sizeof(",\"truncated\":true}") - 1 + 2)
/* Below this, not even the JSON line of an empty message fits. */
#define LINE_MIN 128

static const char event_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

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
        gd_log(GD_LOG_ERR, format ? "--log-format takes text, logfmt or json, not '%s'"
                                  : "--log-level takes err, warning, notice, info or debug, not '%s'",
               value);
        return -EINVAL;
}

const char *gd_log_level_name(gd_log_level level) {
        return level <= GD_LOG_DEBUG ? level_names[level] : "unknown";
}

typedef struct pair {
        const char *key, *value;
        size_t key_len, value_len;
        bool quoted;
} pair;

static bool is_key_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
}

/* The key=value pair at p. Returns the bytes it takes, or 0 when p does
 * not start with one (followed by a space or the end). */
static size_t parse_pair(const char *p, pair *ret) {
        size_t i = 0, start;

        if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z') || p[0] == '_'))
                return 0;
        while (is_key_char(p[i]))
                i++;
        if (p[i] != '=')
                return 0;
        ret->key = p;
        ret->key_len = i++;
        ret->quoted = p[i] == '"';
        if (ret->quoted) {
                start = ++i;
                while (p[i] && p[i] != '"')
                        i += p[i] == '\\' && p[i + 1] ? 2 : 1;
                if (p[i] != '"')
                        return 0;
                ret->value = p + start;
                ret->value_len = i++ - start;
        } else {
                start = i;
                while (p[i] && p[i] != ' ' && p[i] != '"' && p[i] != '=')
                        i++;
                ret->value = p + start;
                ret->value_len = i - start;
        }
        return p[i] == ' ' || p[i] == '\0' ? i : 0;
}

static bool key_is(const pair *pr, const char *key) {
        return pr->key_len == strlen(key) && memcmp(pr->key, key, pr->key_len) == 0;
}

/* Calls fn on each pair from p, up to the first thing that is not one
 * (gd_log_lift said there is none). */
static void for_each_pair(const char *p, void (*fn)(const pair *, void *), void *data) {
        pair pr;

        for (p += strspn(p, " "); *p; p += strspn(p, " ")) {
                size_t len = parse_pair(p, &pr);
                if (len == 0)
                        return;
                fn(&pr, data);
                p += len;
        }
}

int gd_log_lift(const char *msg) {
        size_t event_len = 0;
        const char *p = msg, *pairs;

        for (;;) {
                size_t w = strspn(p, event_chars);
                if (w == 0 || (p[w] != ' ' && p[w] != '\0'))
                        break;
                event_len = (size_t)(p + w - msg);
                p += w;
                p += strspn(p, " ");
        }
        if (event_len == 0 || event_len > INT_MAX || !*p)
                return -EBADMSG;
        pairs = p;
        /* Each key once, and none of the line's own: the fields must not
         * clash in JSON. */
        while (*p) {
                pair pr, other;
                size_t len = parse_pair(p, &pr);
                if (len == 0 || key_is(&pr, "time") || key_is(&pr, "level") ||
                    key_is(&pr, "msg") || key_is(&pr, "truncated"))
                        return -EBADMSG;
                for (const char *q = pairs; q < p; q += strspn(q, " ")) {
                        q += parse_pair(q, &other);
                        if (other.key_len == pr.key_len && memcmp(other.key, pr.key, pr.key_len) == 0)
                                return -EBADMSG;
                }
                p += len;
                p += strspn(p, " ");
        }
        return (int)event_len;
}

/* A line being built: cap leaves TAIL_RESERVE free; once something did
 * not fit, nothing more is added. */
typedef struct line {
        char *buf;
        size_t cap, len;
        bool cut;
        gd_log_format format;
} line;

/* All of s or nothing. */
static bool put(line *l, const char *s, size_t n) {
        if (l->cut || n > l->cap - l->len) {
                l->cut = true;
                return false;
        }
        memcpy(l->buf + l->len, s, n);
        l->len += n;
        return true;
}

static bool put_str(line *l, const char *s) {
        return put(l, s, strlen(s));
}

/* As much of s as fits (for plain text: bare values and text lines). */
static void put_some(line *l, const char *s, size_t n) {
        if (l->cut)
                return;
        if (n > l->cap - l->len) {
                n = l->cap - l->len;
                l->cut = true;
        }
        memcpy(l->buf + l->len, s, n);
        l->len += n;
}

/* s as a quoted literal (JSON's escapes, which logfmt readers also take),
 * cut cleanly when it does not fit. Returns false when not even "" fits. */
static bool put_literal(line *l, const char *s) {
        if (l->cut)
                return false;
        /* buf[cap] is inside the reserve: room for gd_json_escape's NUL. */
        int r = gd_json_escape(l->buf + l->len, l->cap - l->len + 1, s);
        if (r >= 0) {
                l->len += (size_t)r;
                return true;
        }
        size_t n = strlen(l->buf + l->len);
        l->len += n;
        l->cut = true;
        return n > 0;
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

/* One value (NUL-terminated) in the line's format. */
static bool put_value(line *l, const char *s) {
        if (l->format == GD_LOG_FORMAT_JSON || needs_quotes(s))
                return put_literal(l, s);
        if (l->cut || l->len == l->cap) {
                l->cut = true;
                return false;
        }
        put_some(l, s, strlen(s));
        return true;
}

/* One field: key and value, or nothing when not even a cut value fits. */
static void put_field(line *l, const char *key, size_t key_len, const char *value) {
        size_t mark = l->len;
        bool json = l->format == GD_LOG_FORMAT_JSON;

        if (!(put_str(l, json ? ",\"" : " ") && put(l, key, key_len) &&
              put_str(l, json ? "\":" : "=") && put_value(l, value)))
                l->len = mark;
}

/* A pair's value into tmp (NUL-terminated), \" and \\ undone. Returns
 * false when it was cut to fit. */
static bool unquote(const pair *pr, char *tmp, size_t size) {
        size_t n = 0;

        for (size_t i = 0; i < pr->value_len; i++) {
                if (n == size - 1) {
                        tmp[n] = '\0';
                        return false;
                }
                char c = pr->value[i];
                if (pr->quoted && c == '\\' && i + 1 < pr->value_len &&
                    (pr->value[i + 1] == '"' || pr->value[i + 1] == '\\'))
                        c = pr->value[++i];
                tmp[n++] = c;
        }
        tmp[n] = '\0';
        return true;
}

typedef struct field_ctx {
        line *l;
        char *tmp;
        size_t tmp_size;
} field_ctx;

static void put_pair(const pair *pr, void *data) {
        field_ctx *f = data;
        bool whole = unquote(pr, f->tmp, f->tmp_size);

        put_field(f->l, pr->key, pr->key_len, f->tmp);
        if (!whole)
                f->l->cut = true;
}

int gd_log_format_line(gd_log_format format, gd_log_level level, int64_t unix_ms,
                       const char *msg, bool msg_cut, char *buf, size_t size) {
        static const char *const text_prefix[] = {
                [GD_LOG_ERR] = "error: ",   [GD_LOG_WARNING] = "warning: ",
                [GD_LOG_NOTICE] = "note: ", [GD_LOG_INFO] = "",
                [GD_LOG_DEBUG] = "debug: ",
        };
        char tmp[GD_LOG_MSG_MAX];
        char when[GD_TIME_UTC_MAX];
        line l = {.buf = buf, .format = format};
        bool json = format == GD_LOG_FORMAT_JSON;

        if (size < LINE_MIN || format > GD_LOG_FORMAT_JSON || level > GD_LOG_DEBUG) {
                if (size > 0)
                        buf[0] = '\0';
                return -ENOBUFS;
        }
        l.cap = size - TAIL_RESERVE;
        if (format == GD_LOG_FORMAT_TEXT) {
                put_str(&l, "guardian: ");
                put_str(&l, text_prefix[level]);
                put_some(&l, msg, strlen(msg));
        } else {
                if (gd_format_time_utc(unix_ms, when) < 0)
                        snprintf(when, sizeof(when), "invalid");
                put_str(&l, json ? "{\"time\":\"" : "time=");
                put_str(&l, when);
                put_str(&l, json ? "\",\"level\":\"" : " level=");
                put_str(&l, level_names[level]);
                put_str(&l, json ? "\",\"msg\":" : " msg=");
                int event_len = gd_log_lift(msg);
                if (event_len < 0) {
                        put_value(&l, msg);
                } else {
                        field_ctx f = {.l = &l, .tmp = tmp, .tmp_size = sizeof(tmp)};
                        bool whole = (size_t)event_len < sizeof(tmp);
                        snprintf(tmp, sizeof(tmp), "%.*s", event_len, msg);
                        put_value(&l, tmp);
                        l.cut = l.cut || !whole;
                        for_each_pair(msg + event_len, put_pair, &f);
                }
        }
        /* The reserve holds the longest mark, the newline and the NUL. */
        l.cap = size - 1;
        if (l.cut || msg_cut) {
                l.cut = false;
                put_str(&l, cut_marks[format]);
        } else if (json) {
                put_str(&l, "}");
        }
        put_str(&l, "\n");
        buf[l.len] = '\0';
        return (int)l.len;
}

bool gd_log_enabled(gd_log_level level) {
        return level <= log_max_level;
}

uint64_t gd_log_dropped_total(void) {
        return __atomic_load_n(&log_dropped_total, __ATOMIC_RELAXED);
}

const char *gd_log_value(const char *s, char *buf, size_t size) {
        size_t n = 0;
        bool plain = *s != '\0';

        for (const char *q = s; *q && plain; q++)
                plain = (unsigned char)*q > 0x20 && *q != '"' && *q != '=' && *q != '\\' &&
                        *q != 0x7f;
        if (size < 3) {
                if (size)
                        buf[0] = '\0';
                return buf;
        }
        if (plain) {
                snprintf(buf, size, "%s", s);
                return buf;
        }
        buf[n++] = '"';
        for (; *s && n + 4 <= size; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        buf[n++] = '\\';
                buf[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        return buf;
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

void gd_log(gd_log_level level, const char *fmt, ...) {
        char msg[GD_LOG_MSG_MAX];
        char buf[GD_LOG_LINE_MAX];
        int saved_errno = errno;
        int64_t now_ms = 0;
        va_list ap;

        if (!gd_log_enabled(level))
                return;
        va_start(ap, fmt);
        int n = vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (n < 0)
                msg[0] = '\0';
        if (log_format != GD_LOG_FORMAT_TEXT)
                now_ms = gd_wall_ms();
        int len = gd_log_format_line(log_format, level, now_ms, msg,
                                     n >= (int)sizeof(msg), buf, sizeof(buf));
        if (len > 0) {
                unsigned long dropped = __atomic_exchange_n(&log_dropped, 0, __ATOMIC_RELAXED);
                if (dropped) {
                        char note[160], line_buf[512];
                        snprintf(note, sizeof(note), "log lines-dropped=%lu reason=\"stderr was "
                                 "full (a stalled journal or log reader)\"", dropped);
                        int nlen = gd_log_format_line(log_format, GD_LOG_WARNING,
                                                      now_ms, note, false, line_buf, sizeof(line_buf));
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
