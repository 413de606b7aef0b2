/* guardian's logging: the only module that writes diagnostics. One line per
 * message on stderr, written with one write(2), in one of three formats:
 *
 *   text    guardian: warning: killed cgroup=a pid=7 ...   (the default)
 *   logfmt  time=2026-11-26T03:23:26.123Z level=warning msg=killed cgroup=a pid=7 ...
 *   json    {"time":"2026-...Z","level":"warning","msg":"killed","cgroup":"a","pid":"7",...}
 *
 * Messages written as "event words key=value key=\"quoted value\" ..." have
 * their pairs lifted into fields of their own (msg is then the event
 * words); any other message is kept whole in msg. Field values are strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* Does msg have the liftable shape: one or more event words (letters, '-'
 * and '_'), then one or more space-separated key=value pairs and nothing
 * else? Keys are [A-Za-z_][A-Za-z0-9_.-]*, not time, level, msg or
 * truncated, and each appears once; a value is bare (no space, '"' or '=')
 * or double-quoted with \" and \\ escapes. Returns the length of the event
 * words (without the space after them), or -EBADMSG. Pure. */
int gd_log_lift(const char *msg);

/* Format one line (newline included, then a NUL) for a message into buf.
 * msg_cut says the message was already cut to fit GD_LOG_MSG_MAX. A line
 * that does not fit in size is cut between escapes, never inside one, and
 * marked: " [truncated]" in text, truncated=true in logfmt and JSON (as is
 * one whose msg_cut is set), so JSON lines stay valid JSON. unix_ms is the
 * time (unused in text). Returns the length, or -ENOBUFS when size is
 * below 64 (buf then empty if size > 0). Pure. */
int gd_log_format_line(gd_log_format format, gd_log_level level, int64_t unix_ms,
                       const char *msg, bool msg_cut, char *buf, size_t size);

/* Would a message at level be written? For arguments that cost work to
 * build (the per-sample debug line). */
bool gd_log_enabled(gd_log_level level);

/* Log lines lost so far because stderr was full. Thread-safe. */
uint64_t gd_log_dropped_total(void);

/* A value from outside (a cgroup or process name) for a key=value
 * message: as it is when it is a plain word, else double-quoted with \"
 * and \\ escaped and control characters as '?', so that it stays one
 * value when lifted into fields and cannot add fields of its own. Always
 * NUL-terminated in buf (size 3 or more), cut to fit. Returns buf. Pure. */
const char *gd_log_value(const char *s, char *buf, size_t size);

/* From now on, never block on stderr: a socket (journald) gets
 * send(MSG_DONTWAIT), a pipe, FIFO or terminal a non-blocking description
 * of its own (reopened through /proc/self/fd/2), a file stays as it is.
 * A line that would block is dropped and counted; the next line that gets
 * through is preceded by a warning with the count. Call once at start-up,
 * after forking anything that closes inherited fds. Returns 0, or a
 * negative errno (stderr then stays blocking). */
int gd_log_open_nonblocking(void);

/* Log one message at level: clock_gettime(CLOCK_REALTIME) for logfmt and
 * JSON, then one write(2) to stderr. Keeps errno. Thread-safe. */
void gd_log(gd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
