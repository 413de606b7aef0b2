/* guardian's logging: the only module that writes diagnostics. One line per
 * message on stderr, written with one write(2), in one of three formats:
 *
 *   text    guardian: warning: killed cgroup=a pid=7 ...   (the default)
 *   logfmt  time=2026-11-26T03:23:26.123Z level=warning msg=killed cgroup=a pid=7 ...
 *   json    {"time":"2026-...Z","level":"warning","msg":"killed","cgroup":"a","pid":"7",...}
 *
 * A message is guardian's own words; every value from outside (a cgroup or
 * process name, a path, an error) travels as a typed field and is quoted
 * here, in each format, so that no value can add a field or a line:
 *
 *   gd_log(GD_LOG_WARNING, "cannot watch {path}: {error}",
 *          GD_STR("path", p), GD_ERRNO(errno));
 *
 * A {key} in the message names a field: its value is written there (in
 * text, and in msg of logfmt and JSON). Fields the message does not name
 * follow it as key=value in text. In logfmt and JSON every field is a field
 * of its own, and its value a string (in JSON a double that is NaN or
 * infinite, which JSON has no form for, is null). The JSON line is written
 * with the JSON writer (util/json.h): its escapes, its cuts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h> /* strerror, for GD_ERRNO */

typedef enum gd_log_level {
        GD_LOG_ERR,
        GD_LOG_WARNING,
        GD_LOG_NOTICE,
        GD_LOG_INFO,
        GD_LOG_DEBUG,
} gd_log_level;

typedef enum gd_log_format {
        GD_LOG_FORMAT_TEXT,
        GD_LOG_FORMAT_LOGFMT,
        GD_LOG_FORMAT_JSON,
} gd_log_format;

/* A message longer than this is cut (and the line says so). */
#define GD_LOG_MSG_MAX 2048
/* A whole line, newline included: PIPE_BUF, so that one write(2) to a pipe
 * shared with other writers (journald, a container runtime) lands whole. */
#define GD_LOG_LINE_MAX 4096

/* Messages above this level are dropped. */
void gd_log_set_level(gd_log_level max_level);

void gd_log_set_format(gd_log_format format);

/* "err" (or "error"), "warning" ("warn"), "notice", "info", "debug".
 * Returns 0 and *ret_level, or -EINVAL. */
int gd_log_level_from_name(const char *name, gd_log_level *ret_level);

/* "text", "logfmt", "json". Returns 0 and *ret_format, or -EINVAL. */
int gd_log_format_from_name(const char *name, gd_log_format *ret_format);

/* Apply a command-line option: --log-format VALUE when format is set,
 * else --log-level VALUE. Returns 0, or -EINVAL after logging what the
 * option takes. */
int gd_log_apply_option(bool format, const char *value);

/* The level's name in logfmt and JSON lines: "error", "warning", "notice",
 * "info", "debug". */
const char *gd_log_level_name(gd_log_level level);

typedef enum gd_log_type {
        GD_LOG_T_STR,
        GD_LOG_T_INT,
        GD_LOG_T_UINT,
        GD_LOG_T_DBL,
} gd_log_type;

/* A key's text, as a type of its own: a bare value where a field belongs
 * (a string or a number passed printf-style) is then a compile error. */
typedef struct gd_log_key gd_log_key;

/* One key and its value; made by the macros below, which check the type of
 * the value at compile time and take only a string literal as the key. */
typedef struct gd_log_field {
        const gd_log_key *key; /* a string literal; NULL ends a list */
        gd_log_type type;
        union {
                const char *s; /* NULL is written as "" */
                long long i;
                unsigned long long u;
                double d; /* written with three decimals; NaN, inf: null in JSON */
        } v;
} gd_log_field;

#define GD_LOG_KEY_(k) ((const gd_log_key *)("" k))
#define GD_STR(k, val) ((gd_log_field){.key = GD_LOG_KEY_(k), .type = GD_LOG_T_STR, .v.s = (val)})
#define GD_INT(k, val) ((gd_log_field){.key = GD_LOG_KEY_(k), .type = GD_LOG_T_INT, .v.i = (val)})
#define GD_UINT(k, val) \
        ((gd_log_field){.key = GD_LOG_KEY_(k), .type = GD_LOG_T_UINT, .v.u = (val)})
#define GD_DBL(k, val) ((gd_log_field){.key = GD_LOG_KEY_(k), .type = GD_LOG_T_DBL, .v.d = (val)})
/* The error text of a positive errno, as the field "error". */
#define GD_ERRNO(e) GD_STR("error", strerror(e))

/* Format one line (newline included, then a NUL) for msg and its fields
 * (n of them, or up to the first with a NULL key) into buf. A key that is
 * not [A-Za-z_][A-Za-z0-9_.-]*, is time, level, msg or truncated, or
 * repeats an earlier one, is left out, as are fields past the 32nd. The
 * message with its {key} values in place is cut at GD_LOG_MSG_MAX. A line
 * that does not fit in size is cut between escapes, never inside one, and
 * marked: " [truncated]" in text, truncated=true in logfmt and JSON, so
 * JSON lines stay valid JSON.
 * unix_ms is the time (unused in text). Returns the length, or -ENOBUFS
 * when size is below 128 (buf then empty if size > 0). Pure. */
int gd_log_format_line(gd_log_format format, gd_log_level level, int64_t unix_ms,
                       const char *msg, const gd_log_field *fields, size_t n, char *buf,
                       size_t size);

/* Would a message at level be written? For arguments that cost work to
 * build (the per-sample debug line). */
bool gd_log_enabled(gd_log_level level);

/* Log lines lost so far because stderr was full. Thread-safe. */
uint64_t gd_log_dropped_total(void);

/* From now on, never block on stderr: a socket (journald) gets
 * send(MSG_DONTWAIT), a pipe, FIFO or terminal a non-blocking description
 * of its own (reopened through /proc/self/fd/2), a file stays as it is.
 * A line that would block is dropped and counted; the next line that gets
 * through is preceded by a warning with the count. Call once at start-up,
 * after forking anything that closes inherited fds. Returns 0, or a
 * negative errno (stderr then stays blocking). */
int gd_log_open_nonblocking(void);

/* Log msg and its fields (a list ended by a NULL key) at level:
 * clock_gettime(CLOCK_REALTIME) for logfmt and JSON, then one write(2) to
 * stderr. Keeps errno. Thread-safe. Called through gd_log(). */
void gd_log_fields(gd_log_level level, const char *msg, const gd_log_field *fields);

/* gd_log(level, msg, GD_STR("key", value), GD_INT("n", 3), ...) */
#define gd_log(level, msg, ...) \
        gd_log_fields((level), (msg), (const gd_log_field[]){__VA_ARGS__ __VA_OPT__(, ) {0}})
