#include "daemon/notices.h"

#include <errno.h>
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
                        gd_log(level, "cannot set oom_score_adj of pid {pid} (workload "
                                      "{workload}): {error}, ignoring",
                               GD_INT("pid", write->pid), GD_STR("workload", write->workload),
                               GD_ERRNO(write->err));
                else
                        gd_log(level, "{verb} oom_score_adj of pid {pid} to {adj} (workload "
                                      "{workload})",
                               GD_STR("verb", verb), GD_INT("pid", write->pid),
                               GD_INT("adj", write->adj), GD_STR("workload", write->workload));
                return;
        }
        const char *cgroup = *write->cgroup ? write->cgroup : "/";
        char text[32];
        if (write->result == GD_ENFORCE_FAILED) {
                gd_log(level, "cannot set {knob} of cgroup={cgroup} (workload {workload}): "
                              "{error}, ignoring",
                       GD_STR("knob", write->knob), GD_STR("cgroup", cgroup),
                       GD_STR("workload", write->workload), GD_ERRNO(write->err));
                return;
        }
        gd_format_bytes(write->bytes, text, sizeof(text));
        gd_log(level, "{verb} {knob} of cgroup={cgroup} to {value} (workload {workload})",
               GD_STR("verb", verb), GD_STR("knob", write->knob), GD_STR("cgroup", cgroup),
               GD_STR("value", text), GD_STR("workload", write->workload));
}

void gd_notice_watch(gd_watch *watch) {
        gd_watch_notice n;
        while (gd_watch_take_notice(watch, &n)) {
                const char *cgroup = *n.cgroup ? n.cgroup : "/";
                switch (n.kind) {
                case GD_WATCH_PSI_REFUSED:
                        gd_log(GD_LOG_NOTICE, "the kernel refused a PSI trigger on "
                                              "cgroup={cgroup} memory.pressure ({error}): "
                                              "polling pressure averages on a timer instead",
                               GD_STR("cgroup", cgroup), GD_ERRNO(n.err));
                        break;
                case GD_WATCH_NO_DIR_WATCH:
                        gd_log(GD_LOG_WARNING,
                               n.err == ENOSPC
                                       ? "cannot watch cgroup={cgroup} for new children: "
                                         "inotify_add_watch: {error} (raise "
                                         "fs.inotify.max_user_watches); cgroups without a watch "
                                         "are listed again on every slow tick"
                                       : "cannot watch cgroup={cgroup} for new children: "
                                         "inotify_add_watch: {error}; cgroups without a watch "
                                         "are listed again on every slow tick",
                               GD_STR("cgroup", cgroup), GD_ERRNO(n.err));
                        break;
                case GD_WATCH_TOO_DEEP:
                        gd_log(GD_LOG_WARNING, "cgroup={cgroup} is {depth} levels deep and has "
                                               "children: they are not watched on their own, "
                                               "their memory and processes count to it",
                               GD_STR("cgroup", cgroup), GD_INT("depth", GD_WATCH_MAX_DEPTH));
                        break;
                case GD_WATCH_BUDGET:
                        gd_log(GD_LOG_WARNING, "fd budget reached: {watched} cgroups watched "
                                               "({fds_each} fds each, {fds_kept} kept for the "
                                               "kill path); cgroup={cgroup} and others are not "
                                               "watched on their own, their nearest watched "
                                               "ancestor answers for them; empty cgroups without "
                                               "limits give way to ones with processes or limits "
                                               "(rescanned every {rescan_s} s)",
                               GD_UINT("watched", n.n_watched),
                               GD_INT("fds_each", GD_WATCH_FDS_PER_CGROUP),
                               GD_INT("fds_kept", GD_WATCH_FD_RESERVE), GD_STR("cgroup", cgroup),
                               GD_INT("rescan_s", GD_WATCH_RESCAN_MS / 1000));
                        break;
                case GD_WATCH_OUT_OF_FDS:
                        gd_log(GD_LOG_ERR, "out of file descriptors at {watched} cgroups: "
                                           "cgroup={cgroup} and others are NOT watched (raise "
                                           "LimitNOFILE / ulimit -n; guardian needs {fds_each} "
                                           "per cgroup)",
                               GD_UINT("watched", n.n_watched), GD_STR("cgroup", cgroup),
                               GD_INT("fds_each", GD_WATCH_FDS_PER_CGROUP));
                        break;
                default:
                        break;
                }
        }
}

void gd_notice_idents(gd_idcache *ids, gd_ident_cursor *k) {
        const char *cg;
        gd_ident_state st;
        int err;

        for (size_t it = 0; gd_idcache_news(ids, &it, &cg, &st, &err);) {
                if (st == GD_IDENT_KNOWN) {
                        gd_container_names n;
                        gd_ident_cursor_reset(k);
                        gd_ident_cursor_names(k, cg, &n);
                        gd_log(GD_LOG_DEBUG, "container identity of cgroup={cgroup}: {runtime} "
                                             "name={name} image={image} namespace={namespace} "
                                             "pod={pod}",
                               GD_STR("cgroup", cg), GD_STR("runtime", pol_runtime_name(n.runtime)),
                               GD_STR("name", n.name), GD_STR("image", n.image),
                               GD_STR("namespace", n.k8s_namespace), GD_STR("pod", n.pod_name));
                } else if (st == GD_IDENT_UNTRUSTED) {
                        gd_log(GD_LOG_WARNING, "cgroup={cgroup} is named like a container but is "
                                               "in a subtree its runtime does not own (or its "
                                               "process is elsewhere): no identity, its name "
                                               "matches no container_name, image or label",
                               GD_STR("cgroup", cg));
                } else {
                        gd_log(GD_LOG_WARNING, "no identity for the container at cgroup={cgroup} "
                                               "({error}): policies' container_name, image, labels "
                                               "and kubernetes names do not match it",
                               GD_STR("cgroup", cg),
                               GD_STR("error", err ? strerror(-err) : "a lookalike id, or no room"));
                }
        }
}
