#include "record/report.h"
#include "util/format.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "util/json.h"

/* ---- text ---- */

/* Terminal-safe: control bytes (a comm can hold any) print as '?'. */
static void text_safe(FILE *out, const char *s, int width) {
        for (int n = (int)gd_format_fput_printable(out, s); n < width; n++)
                fputc(' ', out);
}

static const char *cgroup_name(const char *path) { return *path ? path : "/"; }

/* 1536 -> "1.5K"; CG_UNLIMITED -> "max". */
static void human_bytes(char *buf, size_t size, bool ok, uint64_t v) {
        static const char units[] = "BKMGTPE";
        double d = (double)v;
        size_t u = 0;

        if (!ok) {
                snprintf(buf, size, "-");
                return;
        }
        if (v == CG_UNLIMITED) {
                snprintf(buf, size, "max");
                return;
        }
        while (d >= 1024 && u + 1 < sizeof(units) - 1) {
                d /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 "B", v);
        else
                snprintf(buf, size, "%.1f%c", d, units[u]);
}

static void utc_time(char *buf, size_t size, int64_t unix_ms) {
        time_t t = (time_t)(unix_ms / 1000);
        struct tm tm;
        /* UTC: local time would read /etc/localtime, and the loop opens
         * nothing outside /proc and the cgroup tree. */
        if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(buf, size, "?");
}

static void uptime(char *buf, size_t size, uint64_t ms) {
        uint64_t s = ms / 1000;
        if (s >= 86400)
                snprintf(buf, size, "%" PRIu64 "d%02" PRIu64 "h%02" PRIu64 "m", s / 86400,
                         s % 86400 / 3600, s % 3600 / 60);
        else if (s >= 3600)
                snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", s / 3600,
                         s % 3600 / 60, s % 60);
        else
                snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
}

static const char *errno_name(int err) {
        const char *s = err ? strerrorname_np(err) : NULL;
        return s ? s : "?";
}

static uint64_t total_kills(const gd_stats *s) {
        uint64_t n = 0;
        for (size_t i = 0; i < s->n_kill_keys; i++)
                n += s->kills[i].count;
        return n;
}

static void text_cgroups(FILE *out, const gd_report *r) {
        int wc = (int)strlen("CGROUP"), ww = (int)strlen("WORKLOAD");

        for (size_t i = 0; i < r->n_cgroups; i++) {
                const gd_report_cgroup *c = &r->cgroups[i];
                int l = (int)strlen(cgroup_name(c->path));
                wc = l > wc ? l : wc;
                l = c->workload ? (int)strlen(c->workload) : 1;
                ww = l > ww ? l : ww;
        }
        fprintf(out, "%-*s  %-*s  %9s  %9s  %9s  %6s  %6s  %s\n", wc, "CGROUP", ww, "WORKLOAD",
                "CURRENT", "MAX", "HIGH", "SOME10", "FULL10", "STATE");
        for (size_t i = 0; i < r->n_cgroups; i++) {
                const gd_report_cgroup *c = &r->cgroups[i];
                char cur[24], max[24], high[24], some[16] = "-", full[16] = "-";
                human_bytes(cur, sizeof(cur), c->current_ok, c->current);
                human_bytes(max, sizeof(max), c->max_ok, c->max);
                human_bytes(high, sizeof(high), c->high_ok, c->high);
                if (c->psi_ok) {
                        snprintf(some, sizeof(some), "%.2f", c->some_avg10);
                        snprintf(full, sizeof(full), "%.2f", c->full_avg10);
                }
                text_safe(out, cgroup_name(c->path), wc);
                fputs("  ", out);
                text_safe(out, c->workload ? c->workload : "-", ww);
                fprintf(out, "  %9s  %9s  %9s  %6s  %6s  %s\n", cur, max, high, some, full,
                        c->state ? c->state : "-");
        }
}

/* A recent kill's event and result as the audit file spells them; "" for
 * a value out of range, as a record without one always showed. */
static const char *event_name(const gd_recent_kill *k) {
        const char *name = gd_audit_event_name(k->event);
        return name ? name : "";
}

static const char *result_name(const gd_recent_kill *k) {
        const char *name = gd_audit_result_name(k->result, k->error);
        return name ? name : "";
}

static void text_recent(FILE *out, const gd_stats *s) {
        if (s->n_recent == 0) {
                fputs("recent kills: none\n", out);
                return;
        }
        fputs("recent kills (newest first):\n", out);
        fprintf(out, "%-20s  %-17s  %7s  %-15s  %-14s  %-13s  %s\n", "TIME (UTC)", "EVENT", "PID",
                "COMM", "WORKLOAD", "REASON", "RESULT CGROUP");
        for (size_t i = 0; i < s->n_recent; i++) {
                const gd_recent_kill *k = gd_stats_recent(s, i);
                char when[32];
                utc_time(when, sizeof(when), k->time_unix_ms);
                fprintf(out, "%-20s  %-17s  %7d  ", when, event_name(k), (int)k->pid);
                text_safe(out, k->pid ? k->comm : "-", 15);
                fputs("  ", out);
                text_safe(out, *k->workload ? k->workload : "-", 14);
                fprintf(out, "  %-13s  %s ", k->reason, result_name(k));
                text_safe(out, cgroup_name(k->cgroup), 0);
                const gd_container_names *c = &k->container;
                if (c->runtime != POL_RUNTIME_ANY) {
                        fprintf(out, " (%s ", pol_runtime_name(c->runtime));
                        text_safe(out, gd_ident_word(c), 0);
                        if (c->image[0]) {
                                fputs(", image ", out);
                                text_safe(out, c->image, 0);
                        }
                        fputc(')', out);
                }
                fputc('\n', out);
        }
}

void gd_report_text(FILE *out, const gd_report *r) {
        char up[48];
        uptime(up, sizeof(up), r->uptime_ms);
        fprintf(out, "guardian %s, pid %d, up %s\n", r->version, (int)r->pid, up);
        fputs("policy:  ", out);
        text_safe(out, r->policy_source, 0);
        fprintf(out, " (%zu workloads)%s\n", r->n_workloads, r->dry_run ? ", DRY RUN" : "");
        fprintf(out, "sandbox: %s\n", r->sandboxed ? "yes" : "no");
        if (!r->metrics_address)
                fputs("metrics: on the control socket only\n", out);
        else if (r->metrics_listening)
                fprintf(out, "metrics: %s, listening\n", r->metrics_address);
        else
                fprintf(out, "metrics: %s, NOT LISTENING: %s (%s); %" PRIu64 " failed attempts "
                             "in %" PRIu64 " s, retried every %.1f s\n",
                        r->metrics_address, strerror(r->metrics_error),
                        errno_name(r->metrics_error), r->metrics_failed_attempts,
                        r->metrics_down_ms / 1000, (double)r->metrics_retry_ms / 1000.0);
        fprintf(out, "kills:   %" PRIu64 " (%" PRIu64 " failed)\n", total_kills(r->stats),
                r->stats->kill_failures);
        fprintf(out, "cgroups: %zu watched", r->n_cgroups);
        if (r->n_unwatched)
                fprintf(out, ", %zu NOT WATCHED on their own: the fd budget (%zu cgroups) is "
                             "reached, their nearest watched ancestor answers for them",
                        r->n_unwatched, r->max_watched);
        if (r->stats->watch_failures)
                fprintf(out, ", %" PRIu64 " without a directory watch (%" PRIu64
                             " inotify watches refused; listed every second instead)",
                        r->stats->no_dir_watch_cgroups, r->stats->watch_failures);
        fputs("\n\n", out);
        text_cgroups(out, r);
        fputc('\n', out);
        text_recent(out, r->stats);
}

/* ---- JSON ---- */

static void json_bytes(gd_json_writer *w, bool ok, uint64_t v) {
        if (!ok)
                gd_json_null(w);
        else if (v == CG_UNLIMITED)
                gd_json_str(w, "max");
        else
                gd_json_uint(w, v);
}

static void json_opt_string(gd_json_writer *w, const char *s) {
        gd_json_str(w, s && *s ? s : NULL);
}

static void json_cgroup(gd_json_writer *w, const gd_report_cgroup *c) {
        gd_json_begin_object(w);
        gd_json_key(w, "cgroup");
        gd_json_str(w, cgroup_name(c->path));
        gd_json_key(w, "workload");
        json_opt_string(w, c->workload);
        gd_json_key(w, "memory_current");
        json_bytes(w, c->current_ok, c->current);
        gd_json_key(w, "memory_max");
        json_bytes(w, c->max_ok, c->max);
        gd_json_key(w, "memory_high");
        json_bytes(w, c->high_ok, c->high);
        gd_json_key(w, "pressure_some_avg10");
        gd_json_double(w, "%.2f", c->psi_ok ? c->some_avg10 : NAN);
        gd_json_key(w, "pressure_full_avg10");
        gd_json_double(w, "%.2f", c->psi_ok ? c->full_avg10 : NAN);
        gd_json_key(w, "state");
        gd_json_str(w, c->state ? c->state : "");
        gd_json_end_object(w);
}

static void json_recent(gd_json_writer *w, const gd_recent_kill *k) {
        char when[32];
        utc_time(when, sizeof(when), k->time_unix_ms);
        gd_json_begin_object(w);
        gd_json_key(w, "time_unix_ms");
        gd_json_int(w, k->time_unix_ms);
        gd_json_key(w, "time");
        gd_json_str(w, when);
        gd_json_key(w, "event");
        gd_json_str(w, event_name(k));
        gd_json_key(w, "cgroup");
        gd_json_str(w, cgroup_name(k->cgroup));
        gd_json_key(w, "container");
        (void)gd_audit_json_container(w, &k->container);
        gd_json_key(w, "pid");
        gd_json_int(w, k->pid);
        gd_json_key(w, "comm");
        json_opt_string(w, k->pid ? k->comm : NULL);
        gd_json_key(w, "workload");
        json_opt_string(w, k->workload);
        gd_json_key(w, "reason");
        gd_json_str(w, k->reason);
        gd_json_key(w, "result");
        gd_json_str(w, result_name(k));
        gd_json_end_object(w);
}

static void json_daemon(gd_json_writer *w, const gd_report *r) {
        gd_json_begin_object(w);
        gd_json_key(w, "version");
        gd_json_str(w, r->version);
        gd_json_key(w, "pid");
        gd_json_int(w, r->pid);
        gd_json_key(w, "uptime_seconds");
        gd_json_double(w, "%.3f", (double)r->uptime_ms / 1000.0);
        gd_json_key(w, "start_time_unix_ms");
        gd_json_int(w, r->start_time_unix_ms);
        gd_json_key(w, "policy");
        gd_json_str(w, r->policy_source);
        gd_json_key(w, "workloads");
        gd_json_uint(w, r->n_workloads);
        gd_json_key(w, "dry_run");
        gd_json_bool(w, r->dry_run);
        gd_json_key(w, "sandbox");
        gd_json_bool(w, r->sandboxed);
        gd_json_key(w, "watched_cgroups");
        gd_json_uint(w, r->n_cgroups);
        gd_json_key(w, "unwatched_cgroups");
        gd_json_uint(w, r->n_unwatched);
        gd_json_key(w, "max_watched_cgroups");
        gd_json_uint(w, r->max_watched);
        gd_json_key(w, "metrics_listener");
        if (!r->metrics_address) {
                gd_json_null(w);
        } else {
                gd_json_begin_object(w);
                gd_json_key(w, "address");
                gd_json_str(w, r->metrics_address);
                gd_json_key(w, "listening");
                gd_json_bool(w, r->metrics_listening);
                gd_json_key(w, "error");
                json_opt_string(w, r->metrics_listening ? NULL : errno_name(r->metrics_error));
                gd_json_key(w, "error_text");
                json_opt_string(w, r->metrics_listening ? NULL : strerror(r->metrics_error));
                gd_json_key(w, "failed_attempts");
                gd_json_uint(w, r->metrics_failed_attempts);
                gd_json_key(w, "down_seconds");
                gd_json_double(w, "%.3f", (double)r->metrics_down_ms / 1000.0);
                gd_json_end_object(w);
        }
        gd_json_end_object(w);
}

static void json_counters(gd_json_writer *w, const gd_stats *s) {
        gd_json_begin_object(w);
        gd_json_key(w, "kills");
        gd_json_uint(w, total_kills(s));
        gd_json_key(w, "kill_failures");
        gd_json_uint(w, s->kill_failures);
        gd_json_key(w, "inotify_watch_failures");
        gd_json_uint(w, s->watch_failures);
        gd_json_key(w, "cgroups_without_dir_watch");
        gd_json_uint(w, s->no_dir_watch_cgroups);
        gd_json_key(w, "decisions");
        gd_json_begin_object(w);
        for (pol_action a = POL_ACTION_KILL_PROCESS; a < POL_ACTION__N; a++) {
                gd_json_key(w, pol_action_name(a));
                gd_json_uint(w, s->decisions[a]);
        }
        gd_json_end_object(w);
        gd_json_end_object(w);
}

void gd_report_json(FILE *out, const gd_report *r) {
        const gd_stats *s = r->stats;
        gd_json_file f;
        gd_json_writer *w = &f.w;

        gd_json_file_open(&f, out, false);
        gd_json_begin_object(w);
        gd_json_key(w, "daemon");
        json_daemon(w, r);
        gd_json_key(w, "counters");
        json_counters(w, s);
        gd_json_key(w, "cgroups");
        gd_json_begin_array(w);
        for (size_t i = 0; i < r->n_cgroups; i++)
                json_cgroup(w, &r->cgroups[i]);
        gd_json_end_array(w);
        gd_json_key(w, "recent_kills");
        gd_json_begin_array(w);
        for (size_t i = 0; i < s->n_recent; i++)
                json_recent(w, gd_stats_recent(s, i));
        gd_json_end_array(w);
        gd_json_end_object(w);
        (void)gd_json_file_close(&f);
}

/* ---- Prometheus ---- */

void gd_prom_label_value(FILE *out, const char *s) {
        fputc('"', out);
        while (*s) {
                unsigned char c = (unsigned char)*s;
                if (c == '\\' || c == '"') {
                        fputc('\\', out);
                        fputc(c, out);
                } else if (c == '\n') {
                        fputs("\\n", out);
                } else if (c >= 0x80) {
                        size_t len = gd_utf8_length(s);
                        if (len == 0) {
                                fputc('?', out);
                        } else {
                                fwrite(s, 1, len, out);
                                s += len - 1;
                        }
                } else {
                        fputc(c, out);
                }
                s++;
        }
        fputc('"', out);
}

static void family(FILE *out, const char *name, const char *type, const char *help) {
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void cgroup_labels(FILE *out, const char *name, const gd_report_cgroup *c) {
        fprintf(out, "%s{cgroup=", name);
        gd_prom_label_value(out, cgroup_name(c->path));
        fputs(",workload=", out);
        gd_prom_label_value(out, c->workload ? c->workload : "");
        fputs("} ", out);
}

typedef enum cgroup_metric { CM_CURRENT, CM_MAX, CM_HIGH, CM_SOME, CM_FULL } cgroup_metric;

static void cgroup_family(FILE *out, const gd_report *r, cgroup_metric m, const char *name,
                          const char *help) {
        family(out, name, "gauge", help);
        for (size_t i = 0; i < r->n_cgroups; i++) {
                const gd_report_cgroup *c = &r->cgroups[i];
                bool ok = m == CM_CURRENT ? c->current_ok
                        : m == CM_MAX     ? c->max_ok && c->max != CG_UNLIMITED
                        : m == CM_HIGH    ? c->high_ok && c->high != CG_UNLIMITED
                                          : c->psi_ok;
                if (!ok)
                        continue;
                cgroup_labels(out, name, c);
                if (m == CM_CURRENT || m == CM_MAX || m == CM_HIGH)
                        fprintf(out, "%" PRIu64 "\n",
                                m == CM_CURRENT ? c->current : m == CM_MAX ? c->max : c->high);
                else
                        fprintf(out, "%.6g\n", (m == CM_SOME ? c->some_avg10 : c->full_avg10) / 100.0);
        }
}

static void metrics_loop(FILE *out, const gd_stats *s) {
        const char *name = "guardian_loop_duration_seconds";
        uint64_t cum = 0;

        family(out, name, "histogram", "Time spent handling one wake-up of the event loop.");
        for (size_t b = 0; b < GD_STATS_LOOP_BUCKETS; b++) {
                cum += s->loop_buckets[b];
                fprintf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
                        (double)gd_stats_loop_bounds_ns[b] / 1e9, cum);
        }
        cum += s->loop_buckets[GD_STATS_LOOP_BUCKETS];
        fprintf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, cum);
        fprintf(out, "%s_sum %.9f\n%s_count %" PRIu64 "\n", name, (double)s->loop_sum_ns / 1e9,
                name, s->loop_count);
}

void gd_report_metrics(FILE *out, const gd_report *r) {
        const gd_stats *s = r->stats;

        family(out, "guardian_build_info", "gauge", "Always 1; the version of guardian running.");
        fputs("guardian_build_info{version=", out);
        gd_prom_label_value(out, r->version);
        fputs("} 1\n", out);
        family(out, "guardian_start_time_seconds", "gauge",
               "When the daemon started, in seconds since the Unix epoch.");
        fprintf(out, "guardian_start_time_seconds %.3f\n", (double)r->start_time_unix_ms / 1000.0);
        family(out, "guardian_dry_run", "gauge", "1 when guardian only says what it would kill.");
        fprintf(out, "guardian_dry_run %d\n", r->dry_run ? 1 : 0);
        family(out, "guardian_policy_workloads", "gauge", "Workloads in the policy in force.");
        fprintf(out, "guardian_policy_workloads %zu\n", r->n_workloads);
        family(out, "guardian_watched_cgroups", "gauge", "Cgroups guardian watches.");
        fprintf(out, "guardian_watched_cgroups %zu\n", r->n_cgroups);
        family(out, "guardian_unwatched_cgroups", "gauge",
               "Cgroups not watched on their own for the fd budget (at the last walk).");
        fprintf(out, "guardian_unwatched_cgroups %zu\n", r->n_unwatched);

        family(out, "guardian_kills_total", "counter",
               "Kills (a signal sent, or cgroup.kill written), by the victim's workload and "
               "the trigger that caused it.");
        for (size_t i = 0; i < s->n_kill_keys; i++) {
                fputs("guardian_kills_total{workload=", out);
                gd_prom_label_value(out, s->kills[i].workload);
                fputs(",reason=", out);
                gd_prom_label_value(out, s->kills[i].reason);
                fprintf(out, "} %" PRIu64 "\n", s->kills[i].count);
        }
        family(out, "guardian_container_kills_total", "counter",
               "Kills in containers, by runtime, Kubernetes namespace and image (at most 32 "
               "series; past them, image \"other\").");
        for (size_t i = 0; i < s->n_container_keys; i++) {
                const gd_container_kill_count *k = &s->container_kills[i];
                fputs("guardian_container_kills_total{runtime=", out);
                gd_prom_label_value(out, k->runtime == POL_RUNTIME_ANY ? "other"
                                                                       : pol_runtime_name(k->runtime));
                fputs(",namespace=", out);
                gd_prom_label_value(out, k->k8s_namespace);
                fputs(",image=", out);
                gd_prom_label_value(out, k->image);
                fprintf(out, "} %" PRIu64 "\n", k->count);
        }
        family(out, "guardian_kill_failures_total", "counter",
               "Kills that could not be made, or whose victim outlived the deadline.");
        fprintf(out, "guardian_kill_failures_total %" PRIu64 "\n", s->kill_failures);
        family(out, "guardian_decisions_total", "counter",
               "Decisions to act on a cgroup in trouble (dry run included), by action.");
        for (pol_action a = POL_ACTION_KILL_PROCESS; a < POL_ACTION__N; a++)
                fprintf(out, "guardian_decisions_total{action=\"%s\"} %" PRIu64 "\n",
                        pol_action_name(a), s->decisions[a]);
        family(out, "guardian_trigger_events_total", "counter",
               "Wake-ups by the kernel: memory.events changes and PSI triggers.");
        for (int k = 0; k < GD_SOURCE__N; k++)
                fprintf(out, "guardian_trigger_events_total{source=\"%s\"} %" PRIu64 "\n",
                        gd_trigger_source_name(k), s->trigger_events[k]);
        family(out, "guardian_policy_reloads_total", "counter",
               "Policy reloads; a reload with an invalid policy keeps the old one.");
        fprintf(out, "guardian_policy_reloads_total{result=\"ok\"} %" PRIu64 "\n"
                     "guardian_policy_reloads_total{result=\"error\"} %" PRIu64 "\n",
                s->reloads_ok, s->reloads_error);
        family(out, "guardian_hooks_total", "counter",
               "Pre- and post-kill hooks handed to the hook runner, or dropped (runner "
               "behind or gone).");
        fprintf(out, "guardian_hooks_total{result=\"sent\"} %" PRIu64 "\n"
                     "guardian_hooks_total{result=\"dropped\"} %" PRIu64 "\n",
                s->hooks_sent, s->hooks_dropped);
        family(out, "guardian_log_lines_dropped_total", "counter",
               "Log lines lost because stderr was full (a stalled journal or log reader).");
        fprintf(out, "guardian_log_lines_dropped_total %" PRIu64 "\n", s->log_lines_dropped);
        family(out, "guardian_inotify_watch_failures_total", "counter",
               "Directory watches inotify refused (fs.inotify.max_user_watches reached): "
               "new cgroups below are found by listing on the slow tick.");
        fprintf(out, "guardian_inotify_watch_failures_total %" PRIu64 "\n", s->watch_failures);
        family(out, "guardian_cgroups_without_dir_watch", "gauge",
               "Watched cgroups without a directory watch for their children.");
        fprintf(out, "guardian_cgroups_without_dir_watch %" PRIu64 "\n", s->no_dir_watch_cgroups);
        metrics_loop(out, s);
        if (r->metrics_address) {
                family(out, "guardian_metrics_listener_up", "gauge",
                       "1 when the --metrics-address listener accepts connections, 0 while "
                       "its port cannot be bound (taken by another process; retried).");
                fputs("guardian_metrics_listener_up{address=", out);
                gd_prom_label_value(out, r->metrics_address);
                fprintf(out, "} %d\n", r->metrics_listening ? 1 : 0);
                family(out, "guardian_metrics_listener_failed_attempts_total", "counter",
                       "Failed attempts to bind and listen on the --metrics-address.");
                fputs("guardian_metrics_listener_failed_attempts_total{address=", out);
                gd_prom_label_value(out, r->metrics_address);
                fprintf(out, "} %" PRIu64 "\n", r->metrics_failed_attempts);
        }

        cgroup_family(out, r, CM_CURRENT, "guardian_cgroup_memory_current_bytes",
                      "memory.current of a watched cgroup.");
        cgroup_family(out, r, CM_MAX, "guardian_cgroup_memory_max_bytes",
                      "memory.max of a watched cgroup (absent when unlimited).");
        cgroup_family(out, r, CM_HIGH, "guardian_cgroup_memory_high_bytes",
                      "memory.high of a watched cgroup (absent when unlimited).");
        cgroup_family(out, r, CM_SOME, "guardian_cgroup_memory_pressure_some_ratio",
                      "PSI memory some avg10 of a watched cgroup, as a ratio 0..1.");
        cgroup_family(out, r, CM_FULL, "guardian_cgroup_memory_pressure_full_ratio",
                      "PSI memory full avg10 of a watched cgroup, as a ratio 0..1.");
}
