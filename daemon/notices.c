#include "daemon/notices.h"

#include <errno.h>
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

void gd_notice_watch(gd_watch *watch) {
        gd_watch_notice n;
        char cgq[PATH_MAX];

        while (gd_watch_take_notice(watch, &n)) {
                gd_log_value(*n.cgroup ? n.cgroup : "/", cgq, sizeof(cgq));
                switch (n.kind) {
                case GD_WATCH_PSI_REFUSED:
                        gd_log(GD_LOG_NOTICE, "the kernel refused a PSI trigger on cgroup=%s "
                                              "memory.pressure (%s): polling pressure averages on "
                                              "a timer instead",
                               cgq, strerror(n.err));
                        break;
                case GD_WATCH_NO_DIR_WATCH:
                        gd_log(GD_LOG_WARNING, "cannot watch cgroup=%s for new children: "
                                               "inotify_add_watch: %s%s; cgroups without a watch "
                                               "are listed again on every slow tick",
                               cgq, strerror(n.err),
                               n.err == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
                        break;
                case GD_WATCH_TOO_DEEP:
                        gd_log(GD_LOG_WARNING, "cgroup=%s is %d levels deep and has children: "
                                               "they are not watched on their own, their memory "
                                               "and processes count to it",
                               cgq, GD_WATCH_MAX_DEPTH);
                        break;
                case GD_WATCH_BUDGET:
                        gd_log(GD_LOG_WARNING, "fd budget reached: %zu cgroups watched (%d fds "
                                               "each, %d kept for the kill path); cgroup=%s and "
                                               "others are not watched on their own, their "
                                               "nearest watched ancestor answers for them; empty "
                                               "cgroups without limits give way to ones with "
                                               "processes or limits (rescanned every %d s)",
                               n.n_watched, GD_WATCH_FDS_PER_CGROUP, GD_WATCH_FD_RESERVE, cgq,
                               GD_WATCH_RESCAN_MS / 1000);
                        break;
                case GD_WATCH_OUT_OF_FDS:
                        gd_log(GD_LOG_ERR, "out of file descriptors at %zu cgroups: cgroup=%s "
                                           "and others are NOT watched (raise LimitNOFILE / "
                                           "ulimit -n; guardian needs %d per cgroup)",
                               n.n_watched, cgq, GD_WATCH_FDS_PER_CGROUP);
                        break;
                default:
                        break;
                }
        }
}
