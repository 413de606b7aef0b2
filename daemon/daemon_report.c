/* What the control socket serves, from the running daemon: a snapshot of
 * its state and of every watched cgroup, read at request time from the
 * watch's kept-open files, then rendered by record/report.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "daemon/state.h"
#include "util/log.h"
#include "record/report.h"
#include "util/version.h"

static const char *trouble_state(const gd_daemon *d, const gd_watched *c, uint64_t now) {
        if (c->kill_pending)
                return "kill-pending";
        if (c->state.pressure_since_ms)
                return "pressure";
        if (c->state.high_rising_since_ms)
                return "high-rising";
        if (now < c->state.quiet_until_ms)
                return c->state.failed_actions ? "backoff" : "cooldown";
        if (now < c->hot_until_ms)
                return "watching";
        return "ok";
}

/* Fill one cgroup's line. Returns false when the cgroup is gone. */
static bool read_cgroup(gd_daemon *d, gd_watched *c, uint64_t now,
                        gd_report_cgroup *ret) {
        gd_report_cgroup r;

        memset(&r, 0, sizeof(r));
        r.path = c->rel;
        const pol_workload *w = gd_watch_workload(&d->watch, c, d->policy);
        r.workload = w ? w->name : NULL;
        gd_sample s;
        if (cg_is_gone(gd_watch_read(c, GD_READ_MEMORY | GD_READ_PSI, now, &s)))
                return false;
        r.current_ok = s.current_ok;
        r.current = s.current;
        r.max_ok = s.max_ok;
        r.max = s.max;
        r.high_ok = s.high_ok;
        r.high = s.high;
        r.psi_ok = s.psi_ok;
        if (r.psi_ok) {
                r.some_avg10 = s.psi.some.avg10;
                r.full_avg10 = s.psi.has_full ? s.psi.full.avg10 : 0;
        }
        r.state = trouble_state(d, c, now);
        *ret = r;
        return true;
}

static int by_path(const void *a, const void *b) {
        return strcmp(((const gd_report_cgroup *)a)->path, ((const gd_report_cgroup *)b)->path);
}

int gd_daemon_render(void *userdata, gd_control_doc doc, char **ret_body, size_t *ret_len) {
        gd_daemon *d = userdata;
        const gd_control_metrics *m = &d->control.metrics;
        uint64_t now = gd_now_ms();
        gd_report_cgroup *cgs = calloc(d->watch.n_slots ? d->watch.n_slots : 1, sizeof(*cgs));
        size_t n = 0;
        char *body = NULL;
        size_t len = 0;

        if (!cgs)
                return -ENOMEM;
        for (size_t i = 0; i < d->watch.n_slots; i++) {
                gd_watched *c = &d->watch.slots[i];
                /* A cgroup gone mid-read is left out; inotify removes it soon. */
                if (c->in_use && read_cgroup(d, c, now, &cgs[n]))
                        n++;
        }
        qsort(cgs, n, sizeof(*cgs), by_path);
        gd_hooks_counts(d->hooks, &d->stats.hooks_sent, &d->stats.hooks_dropped);
        d->stats.log_lines_dropped = gd_log_dropped_total();
        d->stats.watch_failures = d->watch.watch_failures;
        d->stats.no_dir_watch_cgroups = d->watch.n_no_dir_watch;
        gd_report r = {
                .version = GUARDIAN_VERSION,
                .pid = getpid(),
                .uptime_ms = now - d->start_ms,
                .start_time_unix_ms = d->start_unix_ms,
                .policy_source = pol_source_name(&d->policy_src.where),
                .n_workloads = d->policy ? d->policy->n_workloads : 0,
                .dry_run = d->dry_run,
                .sandboxed = d->sandboxed,
                .metrics_address = *m->address ? m->address : NULL,
                .metrics_listening = m->listening,
                .metrics_error = m->error,
                .metrics_failed_attempts = m->failed_attempts,
                .metrics_down_ms = m->listening ? 0 : now - m->down_since_ms,
                .metrics_retry_ms = GD_CONTROL_METRICS_RETRY_MS,
                .cgroups = cgs,
                .n_cgroups = n,
                .n_unwatched = d->watch.n_unwatched,
                .max_watched = d->watch.max_watched,
                .stats = &d->stats,
        };
        FILE *f = open_memstream(&body, &len);
        if (!f) {
                free(cgs);
                return -ENOMEM;
        }
        if (doc == GD_DOC_METRICS)
                gd_report_metrics(f, &r);
        else if (doc == GD_DOC_STATUS_JSON)
                gd_report_json(f, &r);
        else
                gd_report_text(f, &r);
        int err = fclose(f);
        free(cgs);
        if (err != 0) {
                free(body);
                return -ENOMEM;
        }
        *ret_body = body;
        *ret_len = len;
        return 0;
}

uint64_t gd_daemon_generation(void *userdata) {
        const gd_daemon *d = userdata;
        return d->stats.generation + d->stats.reloads_ok + d->stats.reloads_error;
}
