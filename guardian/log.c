#include "guardian/log.h"

#include <stdarg.h>
#include <stdio.h>

static gd_log_level log_max_level = GD_LOG_INFO;

void gd_log_set_level(gd_log_level max_level) {
        log_max_level = max_level;
}

void gd_log(gd_log_level level, const char *fmt, ...) {
        static const char *const prefix[] = {
                [GD_LOG_ERR] = "error: ",     [GD_LOG_WARNING] = "warning: ",
                [GD_LOG_NOTICE] = "note: ",   [GD_LOG_INFO] = "",
                [GD_LOG_DEBUG] = "debug: ",
        };
        char line[2048];
        va_list ap;

        if (level > log_max_level)
                return;
        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        /* One fprintf per line keeps lines whole when stderr is shared. */
        fprintf(stderr, "guardian: %s%s\n", prefix[level], line);
}
