/* Property test of the ranking: random process tables on fixture trees,
 * ranked by guardian's real path (gd_snapshot_take, then gd_rank_snapshot
 * as `guardian rank` does and gd_verdict_rank without a policy as the
 * killer does) and by an independent model of the kernel written here
 * from mm/oom_kill.c (Linux 6.1): oom_unkillable_task(), find_lock_task_mm(),
 * oom_badness(), oom_evaluate_task(), mem_cgroup_get_max(), and the walk of
 * mem_cgroup_scan_tasks() (for_each_mem_cgroup_tree pre-order, css_task_iter
 * in cgroup.procs order) or, for the global OOM, for_each_process.
 *
 * The tables and their fixture trees come from tests/lib/rank_tables.c.
 * The model knows the tables as structs and never reads the fixture; the
 * only thing it takes from the filesystem is the order of siblings: the
 * kernel walks children in creation order, which on kernfs is inode order;
 * a fixture directory's inode number is its stand-in (as in test_snapshot.c).
 *
 * Seeds 1..500, fixed: a failure names its seed; RANKPROP_SEED=N runs one.
 *
 * Where guardian and the kernel differ, on purpose:
 * - Host scope (no memory.max from the cgroup up): the kernel's global OOM
 *   walks every process in fork order (for_each_process, the task list a
 *   fork appends to) and keeps the later one of equal points; guardian
 *   keeps its cgroup walk for ties there too. The scores and the order of
 *   unequal scores are the same; among equal scores the test checks the
 *   same set and guardian's own rule (later in the cgroup walk first).
 * - Not modelled: in_vfork() and MMF_OOM_SKIP (invisible in /proc), and
 *   cgroups without the memory controller (the kernel walks their tasks as
 *   part of the nearest ancestor's css); the fixture has it everywhere. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decide/rank.h"
#include "proc/snapshot.h"
#include "decide/verdict.h"
#include "tests/lib/fixture.h"
#include "tests/lib/rank_tables.h"

#define N_SEEDS 500
/* Seeds per test process: ten blocks, so `--jobs 2` shares them out. */
#define BLOCK 50
/* The kernel's PAGE_COUNTER_MAX on 64-bit: "max" in memory.swap.max. */
#define PAGE_COUNTER_MAX ((unsigned long)LONG_MAX / RT_PAGE)

/* ---- the kernel, as a model ---- */

typedef struct mrank {
        int pid[MAX_PROCS];
        long points[MAX_PROCS];
        int n_cand, n_all;  /* candidates first, in the order successive OOM kills take them */
        int unkillable[MAX_PROCS], n_unkillable;
        unsigned long totalpages;
        bool host, hidden; /* a cgroup beyond guardian's walk holds or may hold processes */
} mrank;

/* find_lock_task_mm(): some thread still has the mm. */
static bool model_mm(const mproc *p) {
        return p->kind == K_PLAIN || p->kind == K_THREADED || p->kind == K_LEADER_EXITED ||
               p->kind == K_PPID2 || p->kind == K_INIT || p->kind == K_EXITING;
}

/* oom_badness(): LONG_MIN for what is never chosen. */
static long model_badness(const mproc *p, unsigned long totalpages) {
        if (p->pid == 1 || p->kind == K_KTHREAD) /* oom_unkillable_task() */
                return LONG_MIN;
        if (!model_mm(p))
                return LONG_MIN;
        long adj = p->adj;
        if (adj == -1000) /* OOM_SCORE_ADJ_MIN */
                return LONG_MIN;
        long points = (long)(p->anon + p->file + p->shmem) + (long)p->swap + (long)p->pte;
        adj *= (long)(totalpages / 1000);
        return points + adj;
}

/* The memcg that runs out first: the tightest memory.max on the path from
 * the target up (nearest on equal limits), mem_cgroup_get_max() of it; the
 * global OOM's totalram + total_swap when nothing is limited. */
static unsigned long model_totalpages(const table *t, bool *ret_host) {
        int oom = -1;
        for (int c = t->target; c > 0; c = t->cg[c].parent)
                if (t->cg[c].max != ULONG_MAX && (oom < 0 || t->cg[c].max < t->cg[oom].max))
                        oom = c;
        *ret_host = oom < 0;
        if (oom < 0)
                return t->ram + t->swap;
        unsigned long max = t->cg[oom].max;
        if (t->swappiness) {
                unsigned long swap_max = t->cg[oom].swap_mode == 2 ? t->cg[oom].swap_max
                                                                   : PAGE_COUNTER_MAX;
                max += swap_max < t->swap ? swap_max : t->swap;
        }
        return max ? max : 1;
}

static void walk(const table *t, int c, int *order, int *n, bool *hidden, size_t rel_len) {
        const mcg *g = &t->cg[c];
        if (g->depth - t->cg[t->target].depth > GD_SNAPSHOT_MAX_DEPTH || rel_len >= PATH_MAX)
                *hidden = true;
        for (int i = 0; i < g->n_procs; i++)
                order[(*n)++] = g->procs[i];
        for (int k = 0; k < g->n_kids; k++)
                walk(t, g->kids[k], order, n, hidden,
                     rel_len + (rel_len ? 1 : 0) + strlen(t->cg[g->kids[k]].name));
}

static size_t rel_len_of(const table *t, int c) {
        return c <= 0 ? 0 : rel_len_of(t, t->cg[c].parent) + (t->cg[c].parent > 0) +
                                    strlen(t->cg[c].name);
}

static void model_rank(const table *t, mrank *m) {
        int order[MAX_PROCS], n = 0;
        memset(m, 0, sizeof(*m));
        m->totalpages = model_totalpages(t, &m->host);
        walk(t, t->target, order, &n, &m->hidden, rel_len_of(t, t->target));
        if (m->host) /* for_each_process: fork order */
                for (int i = 1; i < n; i++)
                        for (int j = i; j > 0 && t->p[order[j - 1]].start_time >
                                                         t->p[order[j]].start_time; j--) {
                                int s = order[j];
                                order[j] = order[j - 1];
                                order[j - 1] = s;
                        }
        m->n_all = n;
        bool taken[MAX_PROCS] = {false};
        for (;;) { /* one OOM kill after another: select_bad_process() */
                int chosen = -1;
                long chosen_points = LONG_MIN;
                for (int i = 0; i < n; i++) {
                        long points = model_badness(&t->p[order[i]], m->totalpages);
                        if (taken[i] || points == LONG_MIN || points < chosen_points)
                                continue; /* oom_evaluate_task(): equal points take the later */
                        chosen = i;
                        chosen_points = points;
                }
                if (chosen < 0)
                        break;
                taken[chosen] = true;
                m->pid[m->n_cand] = t->p[order[chosen]].pid;
                m->points[m->n_cand++] = chosen_points;
        }
        for (int i = 0; i < n; i++)
                if (!taken[i])
                        m->unkillable[m->n_unkillable++] = t->p[order[i]].pid;
}

/* ---- the comparison ---- */

static char *target_rel(const table *t, int c, char *buf, size_t size) {
        if (c <= 0) {
                buf[0] = '\0';
                return buf;
        }
        target_rel(t, t->cg[c].parent, buf, size);
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? "/" : "", t->cg[c].name);
        return buf;
}

static bool in_list(const int *pids, int n, int pid) {
        for (int i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

/* guardian's ranking (pids and points, choosable ones first) against the
 * model's. Among equal points at host scope only the set is compared (see
 * the top of the file). */
static void compare(const table *t, const mrank *m, const char *path, const int *pid,
                    const long *points, size_t n, size_t n_cand, const int *order_in_walk) {
        unsigned s = t->seed;
        cr_assert_eq(n, (size_t)m->n_all, "seed %u (%s): %zu processes, the kernel walks %d", s,
                     path, n, m->n_all);
        cr_assert_eq(n_cand, (size_t)m->n_cand, "seed %u (%s): %zu candidates, the kernel %d", s,
                     path, n_cand, m->n_cand);
        for (size_t i = 0; i < n_cand; i++) {
                cr_assert_eq(points[i], m->points[i],
                             "seed %u (%s): rank %zu: pid %d has %ld points, the kernel's rank %zu "
                             "is pid %d with %ld", s, path, i + 1, pid[i], points[i], i + 1,
                             m->pid[i], m->points[i]);
                if (!m->host) {
                        cr_assert_eq(pid[i], m->pid[i], "seed %u (%s): rank %zu is pid %d, the "
                                     "kernel's is pid %d (both %ld points)", s, path, i + 1,
                                     pid[i], m->pid[i], points[i]);
                        continue;
                }
                size_t a = i, b = i; /* the run of equal points around i */
                while (a > 0 && m->points[a - 1] == m->points[i])
                        a--;
                while (b + 1 < n_cand && m->points[b + 1] == m->points[i])
                        b++;
                cr_assert(in_list(m->pid + a, (int)(b - a + 1), pid[i]),
                          "seed %u (%s): rank %zu pid %d is not among the kernel's ties", s, path,
                          i + 1, pid[i]);
                if (i > a) /* guardian's rule among ties: later in its cgroup walk first */
                        cr_assert_gt(order_in_walk[i - 1], order_in_walk[i],
                                     "seed %u (%s): ties out of walk order", s, path);
        }
        for (size_t i = n_cand; i < n; i++)
                cr_assert(in_list(m->unkillable, m->n_unkillable, pid[i]),
                          "seed %u (%s): pid %d ranked unkillable, the kernel would pick it", s,
                          path, pid[i]);
}

static void check_table(unsigned seed) {
        static table t;
        mrank m;
        char rel[8192];
        rt_generate(&t, seed);
        char *dir = fx_tmpdir();
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(dirfd, 0);
        rt_write_fixture(&t, dirfd);
        model_rank(&t, &m);
        int rootfd = openat(dirfd, "cg", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int procfd = openat(dirfd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(rootfd >= 0 && procfd >= 0);
        target_rel(&t, t.target, rel, sizeof(rel));
        const char *shown = *rel ? rel : "/";

        gd_snapshot snap;
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, rel, true, RT_PAGE, &snap), 0, "seed %u",
                     seed);
        cr_assert_eq(snap.n_gone, 0, "seed %u", seed);
        cr_assert_eq(snap.totalpages, m.totalpages, "seed %u (%s): totalpages %lu, the kernel's "
                     "%lu", seed, shown, (unsigned long)snap.totalpages, m.totalpages);
        cr_assert_eq(snap.host_limit, m.host, "seed %u (%s)", seed, shown);
        /* What guardian cannot walk it must say it did not see: a kill is
         * made on a complete set only. */
        cr_assert_eq(snap.n_unreadable > 0, m.hidden, "seed %u (%s): %zu unreadable, hidden %d",
                     seed, shown, snap.n_unreadable, m.hidden);
        if (m.hidden)
                cr_assert(snap.first_unreadable_error == -ELOOP ||
                          snap.first_unreadable_error == -ENAMETOOLONG, "seed %u (%s): %s", seed,
                          shown, strerror(-snap.first_unreadable_error));
        else {
                int pid[MAX_PROCS], walk_pos[MAX_PROCS];
                long points[MAX_PROCS];
                size_t killable = 0, choosable = 0, n = snap.n_procs;
                cr_assert_leq(n, MAX_PROCS);

                gd_candidate *c = gd_rank_snapshot(&snap, &killable);
                cr_assert(c || n == 0);
                for (size_t i = 0; i < n; i++) {
                        pid[i] = c[i].pid;
                        points[i] = c[i].killable ? (long)c[i].points : LONG_MIN;
                        walk_pos[i] = (int)c[i].scan_order;
                }
                compare(&t, &m, shown, pid, points, n, killable, walk_pos);
                free(c);

                gd_verdict *v = gd_verdict_rank(&snap, NULL, NULL, &choosable);
                cr_assert(v || n == 0);
                for (size_t i = 0; i < n; i++) {
                        pid[i] = snap.procs[v[i].proc].info.stat.pid;
                        points[i] = (long)v[i].points;
                        walk_pos[i] = (int)v[i].proc;
                        cr_assert_eq(v[i].points, v[i].kernel_points, "seed %u", seed);
                }
                compare(&t, &m, shown, pid, points, n, choosable, walk_pos);
                free(v);
        }
        gd_snapshot_free(&snap);
        close(rootfd);
        close(procfd);
        rt_rm_at(dirfd, "cg");
        rt_rm_at(dirfd, "proc");
        close(dirfd);
        fx_rmtree(dir);
        free(dir);
}

ParameterizedTestParameters(rank_property, tables) {
        static unsigned blocks[N_SEEDS / BLOCK];
        for (unsigned i = 0; i < N_SEEDS / BLOCK; i++)
                blocks[i] = 1 + i * BLOCK;
        return cr_make_param_array(unsigned, blocks, N_SEEDS / BLOCK);
}

ParameterizedTest(unsigned *first, rank_property, tables) {
        const char *one = getenv("RANKPROP_SEED");
        if (one) {
                unsigned seed = (unsigned)strtoul(one, NULL, 10);
                if (seed >= *first && seed < *first + BLOCK)
                        check_table(seed);
                return;
        }
        for (unsigned seed = *first; seed < *first + BLOCK; seed++)
                check_table(seed);
}
