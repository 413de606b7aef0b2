#include "cli/explain.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "util/format.h"
#include "cgroup/host.h"
#include "util/json.h"
#include "util/log.h"
#include "daemon/policyload.h"
#include "proc/snapshot.h"
#include "decide/verdict.h"
#include "policy/match.h"
#include "record/audit.h"
#include "watch/ident.h"

static void explain_usage(FILE *out) {
        fputs("usage: guardian explain [--json] [--policy FILE | --policy-dir DIR]\n"
              "                        [--host-root DIR] [--cgroup-root DIR] [--proc-root DIR] CGROUP\n"
              "\n"
              "Show which workload of the policy CGROUP and each of its processes match,\n"
              "why, and the resulting ranking: the kernel's score and guardian's.\n",
              out);
}

static const char *verdict_word(const gd_verdict *v) {
        if (!v->killable)
                return "unkillable";
        if (v->protected_never)
                return "protected";
        if (v->forfeited)
                return "forfeited";
        if (v->workload && v->workload->protect.mode == POL_PROTECT_AVOID)
                return "avoided";
        return "candidate";
}

/* What explain knows of the cgroup's container. */
typedef struct explain_container {
        gd_container_names names;
        gd_ident_state state;
} explain_container;

static void print_container(const explain_container *ec) {
        const gd_container_names *n = &ec->names;

        if (n->runtime == POL_RUNTIME_ANY)
                return;
        printf("container %s ", pol_runtime_name(n->runtime));
        (void)gd_format_fput_printable(stdout, gd_ident_word(n));
        if (n->image[0]) {
                fputs(", image ", stdout);
                (void)gd_format_fput_printable(stdout, n->image);
        }
        if (n->k8s_namespace[0] || n->pod_name[0]) {
                fputs(", pod ", stdout);
                (void)gd_format_fput_printable(stdout, n->k8s_namespace[0] ? n->k8s_namespace : "-");
                putchar('/');
                (void)gd_format_fput_printable(stdout, n->pod_name[0] ? n->pod_name : "-");
        }
        if (n->container_name[0]) {
                fputs(", container ", stdout);
                (void)gd_format_fput_printable(stdout, n->container_name);
        }
        if (ec->state != GD_IDENT_KNOWN)
                printf(" (identity %s: names from its runtime's state are not used)",
                       gd_audit_ident_state_name(ec->state));
        putchar('\n');
}

static void print_table(const gd_snapshot *snap, const gd_verdict *v, const pol_workload *cw,
                        const char *cwhy, const pol_policy *policy, const explain_container *ec) {
        char limit[32];
        pol_triggers t;

        pol_effective_triggers(policy, cw, &t);
        printf("cgroup    %s\n", *snap->cgroup ? snap->cgroup : "/");
        print_container(ec);
        if (cw)
                printf("workload  %s (%s)\n", cw->name, cwhy);
        else
                printf("workload  none matches the cgroup by its path\n");
        printf("action    %s, cooldown %" PRIu64 "ms, grace %" PRIu64 "ms\n",
               pol_action_name(pol_effective_action(policy, cw)),
               pol_effective_cooldown_ms(policy, cw), pol_effective_grace_ms(policy, cw));
        printf("triggers  pressure some %.0f%% / full %.0f%% for %" PRIu64 "ms; near-limit %.0f%%; "
               "limit %.0f%%; high for %" PRIu64 "ms\n",
               t.pressure_some * 100, t.pressure_full * 100, t.pressure_sustain_ms,
               t.near_limit * 100, t.limit * 100, t.high_sustain_ms);
        printf("limit     %s%s%s (totalpages %" PRIu64 ")\n\n",
               gd_format_bytes(snap->totalpages * snap->page_size, limit, sizeof(limit)),
               snap->host_limit ? ", host RAM + swap" : " from ",
               snap->host_limit ? "" : snap->limit_cgroup, snap->totalpages);
        printf("%-8s %-16s %-16s %12s %12s  %-10s %s\n", "PID", "COMM", "WORKLOAD", "KERNEL",
               "GUARDIAN", "VERDICT", "WHY");
        for (size_t i = 0; i < snap->n_procs; i++) {
                const proc_info *p = &snap->procs[v[i].proc].info;
                char comm[PROC_COMM_MAX];
                size_t k = 0;
                for (; p->stat.comm[k]; k++)
                        comm[k] = (unsigned char)p->stat.comm[k] < 0x20 ? '?' : p->stat.comm[k];
                comm[k] = '\0';
                printf("%-8d %-16s %-16s %12" PRId64 " %12" PRId64 "  %-10s %s\n",
                       (int)p->stat.pid, comm, v[i].workload ? v[i].workload->name : "-",
                       v[i].kernel_points, v[i].points, verdict_word(&v[i]), v[i].why);
        }
}

static void print_json(const gd_snapshot *snap, const gd_verdict *v, const pol_workload *cw,
                       const char *cwhy, const pol_policy *policy, const explain_container *ec) {
        gd_json_file f;
        gd_json_writer *w = &f.w;

        gd_json_file_open(&f, stdout, true);
        gd_json_begin_object(w);
        gd_json_key(w, "cgroup");
        gd_json_str(w, snap->cgroup);
        gd_json_key(w, "container");
        (void)gd_audit_json_container(w, &ec->names);
        gd_json_key(w, "identity");
        gd_json_str(w, gd_audit_ident_state_name(ec->state));
        gd_json_key(w, "workload");
        gd_json_str(w, cw ? cw->name : NULL);
        gd_json_key(w, "why");
        gd_json_str(w, cwhy);
        gd_json_key(w, "action");
        gd_json_str(w, pol_action_name(pol_effective_action(policy, cw)));
        gd_json_key(w, "totalpages");
        gd_json_uint(w, snap->totalpages);
        gd_json_key(w, "processes");
        gd_json_begin_array_lines(w);
        for (size_t i = 0; i < snap->n_procs; i++) {
                const proc_info *p = &snap->procs[v[i].proc].info;

                gd_json_begin_object(w);
                gd_json_key(w, "pid");
                gd_json_int(w, p->stat.pid);
                gd_json_key(w, "comm");
                gd_json_str(w, p->stat.comm);
                gd_json_key(w, "workload");
                gd_json_str(w, v[i].workload ? v[i].workload->name : NULL);
                gd_json_key(w, "kernel_score");
                gd_json_int(w, v[i].kernel_points);
                gd_json_key(w, "score");
                gd_json_int(w, v[i].points);
                gd_json_key(w, "verdict");
                gd_json_str(w, verdict_word(&v[i]));
                gd_json_key(w, "why");
                gd_json_str(w, v[i].why);
                gd_json_end_object(w);
        }
        gd_json_end_array(w);
        gd_json_end_object(w);
        (void)gd_json_file_close(&f);
}

/* About 22 KiB: not on the stack. */
static gd_ident_cursor cursor[1];

int gd_cmd_explain(int argc, char **argv) {
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"policy", required_argument, NULL, 'P'},
                {"policy-dir", required_argument, NULL, 'D'},
                {"host-root", required_argument, NULL, 'H'},
                {"cgroup-root", required_argument, NULL, 'c'},
                {"proc-root", required_argument, NULL, 'p'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        pol_source src = {0};
        const char *host_root = NULL, *cgroup_root = NULL, *proc_root = NULL;
        bool json = false;
        int opt, status = 1;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "+jh", options, NULL)) != -1) {
                switch (opt) {
                case 'j': json = true; break;
                case 'P': src.file = optarg; break;
                case 'D': src.dir = optarg; break;
                case 'H': host_root = optarg; break;
                case 'c': cgroup_root = optarg; break;
                case 'p': proc_root = optarg; break;
                case 'h': explain_usage(stdout); return 0;
                default: explain_usage(stderr); return 2;
                }
        }
        if (argc - optind != 1 || (src.file && src.dir)) {
                explain_usage(stderr);
                return 2;
        }
        pol_source_default(&src);

        pol_policy *policy = NULL;
        if (gd_policy_load(&src, &policy) < 0)
                return 1;
        gd_host host;
        char why[PATH_MAX + 128];
        if (gd_host_open(&(gd_host_paths){host_root, cgroup_root, proc_root}, why, sizeof(why), &host) < 0) {
                gd_log(GD_LOG_ERR, "{problem}", GD_STR("problem", why));
                pol_free(policy);
                return 1;
        }
        char rel[4096];
        gd_snapshot snap;
        memset(&snap, 0, sizeof(snap));
        gd_verdict *v = NULL;
        if (cg_path_normalize(host.root.path, argv[optind], rel, sizeof(rel)) < 0) {
                gd_log(GD_LOG_ERR, "invalid cgroup path '{cgroup}': it must stay under {root}",
                       GD_STR("cgroup", argv[optind]), GD_STR("root", host.root.path));
                goto out;
        }
        int r = gd_snapshot_take(host.rootfd, host.procfd, rel, host.root.has_memory,
                                 host.page_size, &snap);
        if (r < 0) {
                gd_log(GD_LOG_ERR, "cannot read cgroup '{cgroup}' under {root}: {error}",
                       GD_STR("cgroup", rel), GD_STR("root", host.root.path),
                       GD_STR("error", r == -ENOENT ? "no such cgroup" : strerror(-r)));
                goto out;
        }
        size_t choosable = 0;
        /* Read now, once per container: explain is the daemon's view
         * without its cache. */
        gd_ident_src isrc = {.hostfd = host.hostfd, .cgrootfd = host.rootfd,
                             .procfd = host.procfd, .owner = 0};
        gd_verdict_ids ids = {.of = gd_ident_cursor_lookup, .ctx = cursor};
        gd_ident_cursor_init(cursor, NULL, &isrc);
        v = gd_verdict_rank(&snap, policy, &ids, &choosable);
        if (!v && snap.n_procs) {
                gd_log(GD_LOG_ERR, "out of memory");
                goto out;
        }
        char cwhy[256] = "";
        explain_container ec;
        gd_ident_cursor_names(cursor, rel, &ec.names);
        pol_subject s = {.cgroup = rel, .ident = gd_ident_cursor_of(cursor, rel, &ec.state)};
        const pol_workload *cw = pol_find_workload(policy, &s, cwhy, sizeof(cwhy));
        if (json)
                print_json(&snap, v, cw, cwhy, policy, &ec);
        else
                print_table(&snap, v, cw, cwhy, policy, &ec);
        status = fflush(stdout) == 0 ? 0 : 1;
out:
        free(v);
        gd_snapshot_free(&snap);
        gd_host_close(&host);
        pol_free(policy);
        return status;
}
