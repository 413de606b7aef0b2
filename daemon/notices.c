#include "daemon/notices.h"

#include <limits.h>
#include <string.h>

#include "util/format.h"
#include "util/log.h"

static gd_log_level level_of(gd_enforce_result result) {
        switch (result) {
        case GD_ENFORCE_SET: return GD_LOG_NOTICE;
        case GD_ENFORCE_WOULD_SET: return GD_LOG_INFO;
        default: return GD_LOG_WARNING;
        }
}

void gd_notice_enforce(void *ctx, const gd_enforce_write *write) {
        const char *verb = write->result == GD_ENFORCE_SET ? "set" : "would set";
        gd_log_level level = level_of(write->result);

        if (!write->knob) {
                if (write->result == GD_ENFORCE_FAILED)
                        gd_log(level, "cannot set oom_score_adj of pid %d (workload %s): %s, "
                                      "ignoring",
                               (int)write->pid, write->workload, strerror(write->err));
                else
                        gd_log(level, "%s oom_score_adj of pid %d to %d (workload %s)", verb,
                               (int)write->pid, write->adj, write->workload);
                return;
        }
        char cgq[PATH_MAX], text[32];
        gd_log_value(*write->cgroup ? write->cgroup : "/", cgq, sizeof(cgq));
        if (write->result == GD_ENFORCE_FAILED) {
                gd_log(level, "cannot set %s of cgroup=%s (workload %s): %s, ignoring",
                       write->knob, cgq, write->workload, strerror(write->err));
                return;
        }
        gd_format_bytes(write->bytes, text, sizeof(text));
        gd_log(level, "%s %s of cgroup=%s to %s (workload %s)", verb, write->knob, cgq, text,
               write->workload);
}
