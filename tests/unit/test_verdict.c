/* A policy's verdict on a ranking, fed literal snapshots and policies. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide/verdict.h"

#define PAGES_256M 65536

static gd_proc_entry procs[4];
static char *cgroups[2] = {"db", "batch"};
static gd_snapshot snap;

static void add(size_t i, pid_t pid, const char *comm, uint64_t rss, int adj, size_t cgroup) {
        memset(&procs[i], 0, sizeof(procs[i]));
        procs[i].info.stat.pid = pid;
        snprintf(procs[i].info.stat.comm, sizeof(procs[i].info.stat.comm), "%s", comm);
        procs[i].info.mem.has_mm = true;
        procs[i].info.mem.rss_pages = rss;
        procs[i].info.oom_score_adj = adj;
        procs[i].scan_order = i;
        procs[i].cgroup_index = cgroup;
}

static void setup(void) {
        memset(&snap, 0, sizeof(snap));
        /* mysqld is the largest; the batch job is second */
        add(0, 100, "mysqld", 30000, 0, 0);
        add(1, 200, "batch", 20000, 0, 1);
        add(2, 201, "helper", 1000, 0, 1);
        snap.procs = procs;
        snap.n_procs = 3;
        snap.cgroups = cgroups;
        snap.n_cgroups = 2;
        snap.totalpages = PAGES_256M;
        snap.page_size = 4096;
}

static char *mysqld_patterns[] = {"mysqld", NULL};
static char *batch_patterns[] = {"batch", NULL};

static pol_workload workload(const char *name, char **comm, char **cgroup) {
        pol_workload w;
        memset(&w, 0, sizeof(w));
        snprintf(w.name, sizeof(w.name), "%s", name);
        if (comm)
                w.match.comm = (pol_patterns){comm, 1};
        if (cgroup)
                w.match.cgroup = (pol_patterns){cgroup, 1};
        w.protect.budget = w.protect.memory_min = w.protect.memory_low = w.protect.memory_high =
                POL_UNSET;
        w.trust_oom_score_adj = true;
        return w;
}

static pol_policy policy_of(pol_workload *w, size_t n) {
        pol_policy p;
        memset(&p, 0, sizeof(p));
        p.version = 1;
        p.workloads = w;
        p.n_workloads = n;
        return p;
}

TestSuite(verdict, .init = setup);

Test(verdict, without_a_policy_it_is_the_kernels_ranking) {
        size_t choosable = 0;
        gd_verdict *v = gd_verdict_rank(&snap, NULL, NULL, &choosable);
        cr_assert_not_null(v);
        cr_assert_eq(choosable, 3);
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 100);
        cr_assert_eq(v[0].points, v[0].kernel_points);
        cr_assert_eq(v[0].points, 30000);
        free(v);
}

Test(verdict, never_excludes_until_the_budget_is_spent) {
        pol_workload w = workload("mysql", mysqld_patterns, NULL);
        w.protect.mode = POL_PROTECT_NEVER;
        w.protect.budget = 200u << 20;
        pol_policy p = policy_of(&w, 1);
        uint64_t current[2] = {150u << 20, 100u << 20};
        size_t choosable = 0;

        snap.cgroup_currents = current;
        gd_verdict *v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert_eq(choosable, 2);
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 200, "the batch job goes first");
        cr_assert_eq(procs[v[2].proc].info.stat.pid, 100);
        cr_assert(v[2].protected_never);
        cr_assert(strstr(v[2].why, "workload mysql") != NULL, "%s", v[2].why);
        free(v);

        current[0] = 300u << 20; /* over its 200M budget */
        v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert_eq(choosable, 3);
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 100);
        cr_assert(v[0].forfeited);
        cr_assert(strstr(v[0].why, "forfeited") != NULL, "%s", v[0].why);
        free(v);

        /* unknown usage never spends a budget */
        snap.cgroup_currents = NULL;
        v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert_eq(choosable, 2);
        free(v);
}

Test(verdict, avoid_divides_and_score_adj_adds) {
        pol_workload w[2] = {workload("mysql", mysqld_patterns, NULL),
                             workload("batch", NULL, batch_patterns)};
        w[0].protect.mode = POL_PROTECT_AVOID;
        w[1].has_score_adj = true;
        w[1].score_adj = -100;
        pol_policy p = policy_of(w, 2);
        size_t choosable = 0;

        gd_verdict *v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert_eq(choosable, 3);
        /* batch: 20000 - 100 * 65 = 13500; helper: 1000 - 6500; mysql: 3000 */
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 200);
        cr_assert_eq(v[0].points, 20000 - 100 * 65);
        cr_assert_eq(v[0].kernel_points, 20000);
        cr_assert_eq(procs[v[1].proc].info.stat.pid, 100);
        cr_assert_eq(v[1].points, 30000 / GD_AVOID_DIVISOR);
        cr_assert_eq(v[2].points, 1000 - 100 * 65);
        cr_assert_str_eq(v[0].workload->name, "batch");
        free(v);
}

Test(verdict, untrusted_adj_and_the_policys_own_adj) {
        pol_workload w[2] = {workload("mysql", mysqld_patterns, NULL),
                             workload("batch", NULL, batch_patterns)};
        /* The policy made mysqld -900 for the kernel; guardian still sees
         * it (as "avoid"), and the batch job's own +1000 is not trusted. */
        w[0].protect.has_oom_score_adj = true;
        w[0].protect.oom_score_adj = -900;
        w[0].protect.mode = POL_PROTECT_AVOID;
        w[1].trust_oom_score_adj = false;
        procs[0].info.oom_score_adj = -900;
        procs[2].info.oom_score_adj = 1000;
        pol_policy p = policy_of(w, 2);
        size_t choosable = 0;

        gd_verdict *v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert_eq(choosable, 3, "-900 written by the policy does not hide it from guardian");
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 200);
        cr_assert_eq(procs[v[1].proc].info.stat.pid, 100);
        cr_assert_eq(v[1].points, 3000);
        cr_assert_eq(procs[v[2].proc].info.stat.pid, 201);
        cr_assert_eq(v[2].points, 1000, "its own +1000 is ignored");
        cr_assert_eq(v[2].kernel_points, 1000 + 1000 * 65, "the kernel still counts it");
        free(v);
}

/* guardian never kills what the kernel never would: -1000 holds whoever
 * wrote it (the policy, or the job's launcher) and whatever the trust. */
Test(verdict, minus_1000_always_holds) {
        pol_workload w[2] = {workload("mysql", mysqld_patterns, NULL),
                             workload("batch", NULL, batch_patterns)};
        w[0].protect.has_oom_score_adj = true;
        w[0].protect.oom_score_adj = -1000;
        w[0].protect.mode = POL_PROTECT_AVOID;
        w[0].protect.budget = 1; /* over budget: protection forfeited, -1000 still holds */
        w[1].trust_oom_score_adj = false;
        w[1].score_adj = 1000;
        w[1].has_score_adj = true;
        w[1].match.cgroup = (pol_patterns){batch_patterns, 1};
        procs[0].info.oom_score_adj = -1000;
        procs[1].info.oom_score_adj = -1000;
        uint64_t currents[2] = {1ULL << 30, 0};
        snap.cgroup_currents = currents;
        pol_policy p = policy_of(w, 2);
        size_t choosable = 0;

        gd_verdict *v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert_eq(choosable, 1, "only pid 201 is left");
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 201);
        for (size_t i = 1; i < 3; i++) {
                cr_assert_not(v[i].killable, "pid %d", (int)procs[v[i].proc].info.stat.pid);
                cr_assert_eq(v[i].points, 0);
        }
        free(v);
}

/* A negative oom_score_adj still counts when the workload is not trusted:
 * only the push upwards is clamped. */
Test(verdict, untrusted_negative_adj_still_counts) {
        pol_workload w[1] = {workload("batch", NULL, batch_patterns)};
        w[0].trust_oom_score_adj = false;
        procs[2].info.oom_score_adj = -500;
        pol_policy p = policy_of(w, 1);
        size_t choosable = 0;

        gd_verdict *v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert_eq(choosable, 3);
        for (size_t i = 0; i < 3; i++)
                if (procs[v[i].proc].info.stat.pid == 201)
                        cr_assert_eq(v[i].points, 1000 - 500 * 65);
        free(v);
}

Test(verdict, kernel_threads_and_init_are_never_choosable) {
        procs[1].info.stat.pid = 1;
        procs[2].info.stat.flags = PROC_PF_KTHREAD;
        size_t choosable = 9;
        gd_verdict *v = gd_verdict_rank(&snap, NULL, NULL, &choosable);
        cr_assert_eq(choosable, 1);
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 100);
        cr_assert_not(v[1].killable);
        cr_assert_not(v[2].killable);
        free(v);
}

/* A process already on its way out with its memory: wait, as the kernel's
 * OOM killer does, rather than take a second victim. */
Test(verdict, a_dying_process_means_wait) {
        size_t i = 99;

        cr_assert_not(gd_verdict_dying(&snap, &i));
        cr_assert_eq(i, 99, "untouched when there is none");

        procs[1].info.mem.kill_pending = true;
        cr_assert(gd_verdict_dying(&snap, &i));
        cr_assert_eq(i, 1);

        procs[1].info.mem.kill_pending = false;
        procs[2].info.stat.flags = PROC_PF_EXITING;
        cr_assert(gd_verdict_dying(&snap, &i));
        cr_assert_eq(i, 2);

        /* mm detached, still exiting: exit_mmap() is freeing it. */
        procs[2].info.mem.has_mm = false;
        procs[2].info.stat.state = 'D';
        cr_assert(gd_verdict_dying(&snap, &i));
        /* A zombie: its memory is back, nothing to wait for. */
        procs[2].info.stat.state = 'Z';
        cr_assert_not(gd_verdict_dying(&snap, &i));
        procs[2].info.stat.state = 'S';

        /* A leader that exited is not a process that exits: its thread's
         * flags decide. */
        procs[2].info.mem.has_mm = true;
        procs[2].info.mm_tid = 202;
        procs[2].info.mm_flags = 0;
        cr_assert_not(gd_verdict_dying(&snap, &i));
        procs[2].info.mm_flags = PROC_PF_EXITING;
        cr_assert(gd_verdict_dying(&snap, &i));
}

/* A whole-cgroup kill (memory.oom.group, action: kill-cgroup) takes every
 * process: it must not when one is protected by "never" under its budget,
 * or carries -1000 (the kernel's own group kill spares those). */
Test(verdict, what_shelters_a_cgroup_from_a_whole_kill) {
        pol_workload w = workload("mysql", mysqld_patterns, NULL);
        w.protect.mode = POL_PROTECT_NEVER;
        w.protect.budget = 200u << 20;
        pol_policy p = policy_of(&w, 1);
        uint64_t current[2] = {150u << 20, 100u << 20};
        size_t choosable = 0, i = 99;

        gd_verdict *v = gd_verdict_rank(&snap, NULL, NULL, &choosable);
        cr_assert_not(gd_verdict_shelters(&snap, v, snap.n_procs, &i), "no policy, no -1000");
        cr_assert_eq(i, 99, "untouched when nothing shelters");
        free(v);

        snap.cgroup_currents = current;
        v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert(gd_verdict_shelters(&snap, v, snap.n_procs, &i));
        cr_assert_eq(procs[v[i].proc].info.stat.pid, 100, "mysqld, never");
        free(v);

        current[0] = 300u << 20; /* over budget: forfeited, the cgroup may go */
        v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert_not(gd_verdict_shelters(&snap, v, snap.n_procs, &i));
        free(v);

        procs[2].info.oom_score_adj = -1000;
        v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert(gd_verdict_shelters(&snap, v, snap.n_procs, &i));
        cr_assert_eq(procs[v[i].proc].info.stat.pid, 201, "-1000 holds in a group kill too");
        free(v);
}

/* ---- container identity: the ids callback ---- */

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define CG_A "system.slice/docker-" ID_A ".scope"
#define CG_B "system.slice/docker-" ID_B ".scope"

static char *container_cgroups[2] = {CG_A, CG_B};
static gd_container_ident mysql_ident, etl_ident;

/* The identities by cgroup path, literal; known false: none known. */
typedef struct ids_ctx {
        bool known;
        unsigned calls, unexpected;
} ids_ctx;

static const gd_container_ident *ident_by_path(void *ctx, const char *cgroup) {
        ids_ctx *x = ctx;
        x->calls++;
        if (strcmp(cgroup, CG_A) && strcmp(cgroup, CG_B))
                x->unexpected++;
        if (!x->known)
                return NULL;
        return strcmp(cgroup, CG_A) == 0 ? &mysql_ident : &etl_ident;
}

static void container_setup(void) {
        setup();
        snap.cgroups = container_cgroups;
        memset(&mysql_ident, 0, sizeof(mysql_ident));
        memset(&etl_ident, 0, sizeof(etl_ident));
        mysql_ident.runtime = etl_ident.runtime = POL_RUNTIME_DOCKER;
        snprintf(mysql_ident.id, sizeof(mysql_ident.id), "%s", ID_A);
        snprintf(mysql_ident.name, sizeof(mysql_ident.name), "mysql-1");
        snprintf(mysql_ident.image, sizeof(mysql_ident.image), "mysql:8");
        snprintf(etl_ident.id, sizeof(etl_ident.id), "%s", ID_B);
        snprintf(etl_ident.name, sizeof(etl_ident.name), "etl-1");
        snprintf(etl_ident.image, sizeof(etl_ident.image), "etl:1");
}

TestSuite(verdict_ids, .init = container_setup);

static char *mysql_names[] = {"mysql*", NULL};

/* A workload "db" matching container names mysql*, protected by mode. */
static pol_workload db_by_name(pol_protect_mode mode) {
        pol_workload w = workload("db", NULL, NULL);
        w.match.container_name = (pol_patterns){mysql_names, 1};
        w.protect.mode = mode;
        return w;
}

Test(verdict_ids, a_container_name_protects_its_process) {
        pol_workload w = db_by_name(POL_PROTECT_NEVER);
        pol_policy p = policy_of(&w, 1);
        ids_ctx x = {.known = true};
        gd_verdict_ids ids = {.of = ident_by_path, .ctx = &x};
        size_t choosable = 0;

        gd_verdict *v = gd_verdict_rank(&snap, &p, &ids, &choosable);
        cr_assert_not_null(v);
        cr_assert_eq(x.calls, 3, "asked once per choosable process: %u", x.calls);
        cr_assert_eq(x.unexpected, 0, "asked with the snapshot's cgroup paths");
        cr_assert_eq(choosable, 2);
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 200, "the etl's batch is first");
        cr_assert_null(v[0].workload);
        cr_assert_eq(procs[v[2].proc].info.stat.pid, 100);
        cr_assert(v[2].protected_never, "mysqld in mysql-1 is never chosen");
        cr_assert_str_eq(v[2].workload->name, "db");
        cr_assert(strstr(v[2].why, "mysql-1") != NULL, "%s", v[2].why);
        size_t i = 99;
        cr_assert(gd_verdict_shelters(&snap, v, snap.n_procs, &i));
        cr_assert_eq(procs[v[i].proc].info.stat.pid, 100);
        free(v);

        /* A container named otherwise is not protected by the glob. */
        snprintf(mysql_ident.name, sizeof(mysql_ident.name), "postgres-1");
        v = gd_verdict_rank(&snap, &p, &ids, &choosable);
        cr_assert_eq(choosable, 3);
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 100);
        free(v);
}

/* Unknown identity (the callback has none): the identity keys match
 * nothing, so the mysql process ranks as anyone; the kill path must then
 * refuse while its identity is pending (test_kill_ident.c). */
Test(verdict_ids, an_unknown_identity_protects_nothing) {
        pol_workload w = db_by_name(POL_PROTECT_NEVER);
        pol_policy p = policy_of(&w, 1);
        ids_ctx x = {.known = false};
        gd_verdict_ids ids = {.of = ident_by_path, .ctx = &x};
        size_t choosable = 0;

        gd_verdict *v = gd_verdict_rank(&snap, &p, &ids, &choosable);
        cr_assert_gt(x.calls, 0);
        cr_assert_eq(choosable, 3);
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 100, "mysqld, the largest");
        cr_assert_not(v[0].protected_never);
        cr_assert_null(v[0].workload);
        free(v);

        /* NULL ids: the same, and nothing to call. */
        v = gd_verdict_rank(&snap, &p, NULL, &choosable);
        cr_assert_eq(choosable, 3);
        cr_assert_eq(procs[v[0].proc].info.stat.pid, 100);
        free(v);
}

/* A policy without identity keys costs no lookup. */
Test(verdict_ids, a_policy_without_identity_keys_never_asks) {
        pol_workload w = workload("mysql", mysqld_patterns, NULL);
        w.protect.mode = POL_PROTECT_NEVER;
        pol_policy p = policy_of(&w, 1);
        ids_ctx x = {.known = true};
        gd_verdict_ids ids = {.of = ident_by_path, .ctx = &x};
        size_t choosable = 0;

        gd_verdict *v = gd_verdict_rank(&snap, &p, &ids, &choosable);
        cr_assert_eq(x.calls, 0);
        cr_assert_eq(choosable, 2, "comm still protects it");
        cr_assert(v[2].protected_never);
        free(v);
        v = gd_verdict_rank(&snap, NULL, &ids, &choosable);
        cr_assert_eq(x.calls, 0, "nor without a policy");
        cr_assert_eq(choosable, 3);
        free(v);

        /* The control: one identity key, and it is asked. */
        pol_workload w2[2] = {w, db_by_name(POL_PROTECT_NONE)};
        p = policy_of(w2, 2);
        v = gd_verdict_rank(&snap, &p, &ids, &choosable);
        cr_assert_gt(x.calls, 0);
        free(v);
}

/* What the kernel never kills is not looked up either. */
Test(verdict_ids, a_process_never_choosable_is_not_looked_up) {
        pol_workload w = db_by_name(POL_PROTECT_NONE);
        pol_policy p = policy_of(&w, 1);
        ids_ctx x = {.known = true};
        gd_verdict_ids ids = {.of = ident_by_path, .ctx = &x};
        size_t choosable = 0;

        procs[1].info.oom_score_adj = -1000;
        procs[2].info.stat.flags = PROC_PF_KTHREAD;
        gd_verdict *v = gd_verdict_rank(&snap, &p, &ids, &choosable);
        cr_assert_eq(choosable, 1);
        cr_assert_eq(x.calls, 1, "only mysqld: %u", x.calls);
        free(v);
}
