/* guardian's logging: the only module that writes diagnostics. One line per
 * message on stderr, prefixed so that journald and a terminal both read it. */
#pragma once

typedef enum gd_log_level {
        GD_LOG_ERR,
        GD_LOG_WARNING,
        GD_LOG_NOTICE,
        GD_LOG_INFO,
        GD_LOG_DEBUG,
} gd_log_level;

/* Messages above this level are dropped. */
void gd_log_set_level(gd_log_level max_level);

void gd_log(gd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
