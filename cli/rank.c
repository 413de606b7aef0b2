#include "cli/rank.h"
#include "record/audit.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "decide/rank.h"
#include "util/format.h"
#include "cgroup/host.h"
#include "util/json.h"
#include "util/log.h"
#include "util/redact.h"

/* comm for a terminal: control bytes would rewrite the screen. */
static void printable(const char *s, char *buf, size_t size) {
        size_t i = 0;
        for (; s[i] && i + 1 < size; i++)
                buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
        buf[i] = '\0';
}

/* The container a process is in, for the table (gd_ident_word). */
static void container_cell(gd_ident_cursor *ids, const char *cgroup, char *buf, size_t size) {
        gd_container_names n;

        gd_ident_cursor_names(ids, cgroup, &n);
        printable(gd_ident_word(&n), buf, size);
}

void gd_rank_print_table(FILE *out, const gd_snapshot *snap, const gd_candidate *cands,
                         gd_ident_cursor *ids) {
        char limit[32], rss[32], pte[32], swap[32], comm[PROC_COMM_MAX], container[256];
        uint64_t ps = snap->page_size;

        gd_format_bytes(snap->totalpages * ps, limit, sizeof(limit));
        fprintf(out, "%-8s %-16s %12s %9s %8s %8s %5s %8s  %s\n", "PID", "COMM", "SCORE", "RSS",
                "PTE", "SWAP", "ADJ", "LIMIT", "CONTAINER");
        for (size_t i = 0; i < snap->n_procs; i++) {
                const gd_candidate *c = &cands[i];
                const proc_info *p = &snap->procs[c->scan_order].info;
                char score[24];

                if (c->killable)
                        snprintf(score, sizeof(score), "%" PRId64, c->points);
                else
                        snprintf(score, sizeof(score), "-");
                printable(p->stat.comm, comm, sizeof(comm));
                container_cell(ids, snap->cgroups[snap->procs[c->scan_order].cgroup_index],
                               container, sizeof(container));
                fprintf(out, "%-8d %-16s %12s %9s %8s %8s %5d %8s  %s\n", (int)c->pid, comm, score,
                        gd_format_bytes(c->rss_pages * ps, rss, sizeof(rss)),
                        gd_format_bytes(c->pte_pages * ps, pte, sizeof(pte)),
                        gd_format_bytes(c->swap_pages * ps, swap, sizeof(swap)), c->oom_score_adj,
                        limit, container);
        }
}

/* About 22 KiB: not on the stack. */
static gd_ident_cursor cursor[1];

static const char *unkillable_reason(const gd_candidate *c) {
        if (c->killable)
                return NULL;
        if (c->pid == 1)
                return "init";
        if (c->kthread)
                return "kernel-thread";
        if (!c->has_mm)
                return "no-mm";
        return "oom_score_adj=-1000";
}

void gd_rank_print_json(FILE *out, const gd_snapshot *snap, const gd_candidate *cands,
                        gd_ident_cursor *ids) {
        gd_json_file f;
        gd_json_writer *w = &f.w;

        gd_json_file_open(&f, out, true);
        gd_json_begin_array_lines(w);
        for (size_t i = 0; i < snap->n_procs; i++) {
                const gd_candidate *c = &cands[i];
                const gd_proc_entry *e = &snap->procs[c->scan_order];
                char cmdline[2 * PROC_CMDLINE_MAX]; /* room for masks longer than values */

                gd_redact_cmdline(e->info.cmdline, cmdline, sizeof(cmdline)); /* cut is fine */
                gd_json_begin_object(w);
                gd_json_key(w, "rank");
                gd_json_uint(w, i + 1);
                gd_json_key(w, "pid");
                gd_json_int(w, c->pid);
                gd_json_key(w, "comm");
                gd_json_str(w, e->info.stat.comm);
                gd_json_key(w, "cmdline");
                gd_json_str(w, cmdline);
                gd_json_key(w, "cgroup");
                gd_json_str(w, snap->cgroups[e->cgroup_index]);
                gd_container_names names;
                gd_ident_cursor_names(ids, snap->cgroups[e->cgroup_index], &names);
                gd_json_key(w, "container");
                (void)gd_audit_json_container(w, &names);
                gd_json_key(w, "uid");
                gd_json_uint(w, (unsigned)e->info.mem.uid);
                gd_json_key(w, "start_time");
                gd_json_uint(w, e->info.stat.start_time);
                gd_json_key(w, "killable");
                gd_json_bool(w, c->killable);
                gd_json_key(w, "score");
                gd_json_int(w, c->killable ? c->points : 0);
                gd_json_key(w, "rss_pages");
                gd_json_uint(w, c->rss_pages);
                gd_json_key(w, "pte_pages");
                gd_json_uint(w, c->pte_pages);
                gd_json_key(w, "swap_pages");
                gd_json_uint(w, c->swap_pages);
                gd_json_key(w, "oom_score_adj");
                gd_json_int(w, c->oom_score_adj);
                gd_json_key(w, "totalpages");
                gd_json_uint(w, snap->totalpages);
                gd_json_key(w, "page_size");
                gd_json_uint(w, snap->page_size);
                gd_json_key(w, "limit_cgroup");
                gd_json_str(w, snap->host_limit ? NULL : snap->limit_cgroup);
                gd_json_key(w, "unkillable_reason");
                gd_json_str(w, unkillable_reason(c));
                gd_json_end_object(w);
        }
        gd_json_end_array(w);
        (void)gd_json_file_close(&f);
}

static void rank_usage(FILE *out) {
        fputs("usage: guardian rank [--json] [--host-root DIR] [--cgroup-root DIR] [--proc-root DIR] CGROUP\n"
              "\n"
              "Rank the processes of CGROUP (and its descendants) the way the kernel's\n"
              "memcg OOM killer would: the first line is the process it would kill.\n"
              "CGROUP is relative to the cgroup v2 root, or an absolute path under it;\n"
              "\"/\" is the whole host.\n",
              out);
}

int gd_cmd_rank(int argc, char **argv) {
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"host-root", required_argument, NULL, 'H'},
                {"cgroup-root", required_argument, NULL, 'c'},
                {"proc-root", required_argument, NULL, 'p'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *host_root = NULL, *cgroup_root = NULL, *proc_root = NULL;
        bool json = false;
        int opt;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "+jh", options, NULL)) != -1) {
                switch (opt) {
                case 'j': json = true; break;
                case 'H': host_root = optarg; break;
                case 'c': cgroup_root = optarg; break;
                case 'p': proc_root = optarg; break;
                case 'h': rank_usage(stdout); return 0;
                default: rank_usage(stderr); return 2;
                }
        }
        if (argc - optind != 1) {
                rank_usage(stderr);
                return 2;
        }

        gd_host host;
        char why[PATH_MAX + 128];
        if (gd_host_open(&(gd_host_paths){host_root, cgroup_root, proc_root}, why, sizeof(why), &host) < 0) {
                gd_log(GD_LOG_ERR, "{problem}", GD_STR("problem", why));
                return 1;
        }

        int status = 1;
        char rel[4096];
        gd_snapshot snap;
        memset(&snap, 0, sizeof(snap));
        int r = cg_path_normalize(host.root.path, argv[optind], rel, sizeof(rel));
        if (r < 0) {
                gd_log(GD_LOG_ERR, "invalid cgroup path '{cgroup}': it must stay under {root}",
                       GD_STR("cgroup", argv[optind]), GD_STR("root", host.root.path));
                goto out;
        }
        if (!host.root.has_memory)
                gd_log(GD_LOG_NOTICE,
                       host.root.mode == CG_MODE_HYBRID
                               ? "the cgroup v2 hierarchy at {root} has no memory controller "
                                 "(hybrid cgroup host): scoring against host RAM + swap"
                               : "the cgroup v2 hierarchy at {root} has no memory controller: "
                                 "scoring against host RAM + swap",
                       GD_STR("root", host.root.path));
        r = gd_snapshot_take(host.rootfd, host.procfd, rel, host.root.has_memory,
                             host.page_size, &snap);
        if (r == -ENOENT || r == -ENOTDIR) {
                gd_log(GD_LOG_ERR, "no cgroup '{cgroup}' under {root}", GD_STR("cgroup", rel),
                       GD_STR("root", host.root.path));
                goto out;
        }
        if (r < 0) {
                gd_log(GD_LOG_ERR, "cannot read cgroup '{cgroup}': {error}", GD_STR("cgroup", rel),
                       GD_ERRNO(-r));
                goto out;
        }
        if (snap.n_unreadable)
                gd_log(GD_LOG_WARNING, "{unreadable} processes or cgroups could not be read ({error}), "
                                       "ignoring",
                       GD_UINT("unreadable", snap.n_unreadable),
                       GD_ERRNO(-snap.first_unreadable_error));

        size_t killable = 0;
        gd_candidate *cands = gd_rank_snapshot(&snap, &killable);
        if (!cands && snap.n_procs) {
                gd_log(GD_LOG_ERR, "out of memory");
                goto out;
        }
        /* Each container's state read once, now (no daemon's cache here). */
        gd_ident_src isrc = {.hostfd = host.hostfd, .cgrootfd = host.rootfd,
                             .procfd = host.procfd, .owner = 0};
        gd_ident_cursor_init(cursor, NULL, &isrc);
        if (json)
                gd_rank_print_json(stdout, &snap, cands, cursor);
        else
                gd_rank_print_table(stdout, &snap, cands, cursor);
        free(cands);
        status = fflush(stdout) == 0 ? 0 : 1;
out:
        gd_snapshot_free(&snap);
        gd_host_close(&host);
        return status;
}
