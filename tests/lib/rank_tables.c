/* The random process tables of the ranking property test and their
 * fixture trees. See rank_tables.h. */
#include "tests/lib/rank_tables.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc/snapshot.h"

#define PF_EXITING 0x00000004u
#define PF_KTHREAD 0x00200000u
#define PF_FORKNOEXEC 0x00000040u

/* ---- a reproducible generator (splitmix64) ---- */

static uint64_t rng;
static uint64_t rnd(void) {
        uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}
static unsigned long below(unsigned long n) { return (unsigned long)(rnd() % n); }
static bool chance(unsigned pct) { return below(100) < pct; }

/* Sizes that tie often, and sizes that do not. */
static unsigned long pages(unsigned long big) {
        static const unsigned long tie[] = {0, 1, 2, 100, 1000, 4096};
        return chance(40) ? tie[below(6)] : below(big);
}

static int rand_adj(void) {
        static const int special[] = {-1000, -999, -998, -500, -1, 0, 0, 0, 1, 500, 999, 1000};
        return chance(60) ? special[below(12)] : (int)below(2001) - 1000;
}

static int add_cg(table *t, int parent, const char *name) {
        cr_assert_lt(t->n_cg, MAX_CG);
        mcg *c = &t->cg[t->n_cg];
        memset(c, 0, sizeof(*c));
        c->parent = parent;
        c->depth = parent < 0 ? 0 : t->cg[parent].depth + 1;
        snprintf(c->name, sizeof(c->name), "%s", name);
        c->max = ULONG_MAX;
        if (parent >= 0 && chance(45)) {
                static const unsigned long lim[] = {0, 500, 999, 1000, 1001, 4096, 65536, 262144};
                c->max = chance(70) ? lim[below(8)] : 1 + below(1UL << 22);
        }
        c->swap_mode = parent < 0 ? 0 : (int)below(3);
        c->swap_max = pages(1UL << 20);
        if (parent >= 0)
                t->cg[parent].kids[t->cg[parent].n_kids++] = t->n_cg;
        return t->n_cg++;
}

/* A chain of n cgroups below parent; returns the deepest. */
static int add_chain(table *t, int parent, int n, size_t name_len) {
        char fill[NAME_MAX + 1], name[NAME_MAX + 16]; /* names stay under NAME_MAX: name_len <= 240 */
        memset(fill, 'n', name_len);
        fill[name_len] = '\0';
        for (int i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "%s%d", fill, i);
                parent = add_cg(t, parent, name);
        }
        return parent;
}

static void add_proc(table *t, int pid, kind k, int cg) {
        cr_assert_lt(t->n_p, MAX_PROCS);
        mproc *p = &t->p[t->n_p++];
        memset(p, 0, sizeof(*p));
        p->pid = pid;
        p->kind = k;
        p->cg = cg;
        p->ppid = k == K_KTHREAD || k == K_PPID2 ? 2 : k == K_INIT ? 0 : 1 + (int)below(5000);
        p->adj = k == K_KTHREAD && chance(70) ? 0 : rand_adj();
        p->anon = pages(300000);
        p->file = chance(50) ? pages(50000) : 0;
        p->shmem = chance(20) ? pages(20000) : 0;
        p->pte = chance(70) ? pages(600) : 0;
        p->swap = chance(40) ? pages(60000) : 0;
        if (t->n_p > 1 && chance(30)) { /* a twin (prefork workers): equal points */
                const mproc *twin = &t->p[below((unsigned long)t->n_p - 1)];
                p->adj = twin->adj;
                p->anon = twin->anon;
                p->file = twin->file;
                p->shmem = twin->shmem;
                p->pte = twin->pte;
                p->swap = twin->swap;
        }
        p->n_threads = k == K_THREADED || k == K_LEADER_EXITED ? 1 + (int)below(MAX_THREADS - 1) : 0;
        p->kthread_vm = k == K_KTHREAD && chance(20);
        t->cg[cg].procs[t->cg[cg].n_procs++] = t->n_p - 1;
}

void rt_generate(table *t, unsigned seed) {
        memset(t, 0, sizeof(*t));
        t->seed = seed;
        rng = seed * 0x2545f4914f6cdd1dULL;
        add_cg(t, -1, "");
        int n = 1 + (int)below(14);
        for (int i = 0; i < n; i++) {
                char name[16];
                int parent = (int)below((unsigned long)t->n_cg);
                snprintf(name, sizeof(name), "c%d", t->n_cg);
                add_cg(t, parent, name);
        }
        if (chance(30)) /* a deep tree, within guardian's walk */
                add_chain(t, (int)below((unsigned long)t->n_cg), 8 + (int)below(20), 2);
        t->target = chance(12) ? 0 : 1 + (int)below((unsigned long)t->n_cg - 1);
        /* Beyond guardian's walk: deeper than GD_SNAPSHOT_MAX_DEPTH below
         * the target, or a path longer than PATH_MAX. */
        int hidden = -1;
        if (seed % 20 == 0)
                hidden = add_chain(t, t->target, GD_SNAPSHOT_MAX_DEPTH + 1 + (int)below(4), 1);
        else if (seed % 20 == 10)
                hidden = add_chain(t, t->target, 18, 240);

        t->ram = (1UL << 16) + below(1UL << 24);
        t->swap = chance(40) ? 0 : below(1UL << 22);
        static const int swappiness[] = {0, 1, 60, 200};
        t->swappiness = swappiness[below(4)];

        int used[MAX_PROCS + 1] = {0};
        int np = 1 + (int)below(MAX_PROCS - 4);
        for (int i = 0; i < np; i++) {
                int pid;
                bool dup;
                do {
                        pid = 3 + (int)below(99000);
                        dup = false;
                        for (int j = 0; j < t->n_p; j++)
                                dup = dup || used[j] == pid;
                } while (dup);
                used[t->n_p] = pid;
                kind k = (kind)below(K_N);
                if (k == K_INIT) {
                        bool have = false;
                        for (int j = 0; j < t->n_p; j++)
                                have = have || t->p[j].pid == 1;
                        if (have)
                                k = K_PLAIN;
                        else
                                pid = 1;
                }
                add_proc(t, pid, k, (int)below((unsigned long)t->n_cg));
        }
        if (hidden >= 0) { /* the biggest process of all, where guardian cannot see it */
                add_proc(t, 99999, K_PLAIN, hidden);
                t->p[t->n_p - 1].anon = 1UL << 22;
                t->p[t->n_p - 1].adj = 1000;
        }
        /* Fork order: a shuffled sequence of distinct start times. */
        for (int i = 0; i < t->n_p; i++)
                t->p[i].start_time = 1000 + (unsigned long)i * 7;
        for (int i = t->n_p - 1; i > 0; i--) {
                int j = (int)below((unsigned long)i + 1);
                unsigned long s = t->p[i].start_time;
                t->p[i].start_time = t->p[j].start_time;
                t->p[j].start_time = s;
        }
        /* cgroup.procs order is the kernel's css_set order, not pid order. */
        for (int c = 0; c < t->n_cg; c++)
                for (int i = t->cg[c].n_procs - 1; i > 0; i--) {
                        int j = (int)below((unsigned long)i + 1), s = t->cg[c].procs[i];
                        t->cg[c].procs[i] = t->cg[c].procs[j];
                        t->cg[c].procs[j] = s;
                }
}

/* ---- the fixture, written through directory fds (paths may pass PATH_MAX) ---- */

static void put(int dirfd, const char *name, const char *content) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        cr_assert_geq(fd, 0, "open %s: %s", name, strerror(errno));
        size_t len = strlen(content);
        cr_assert_eq(write(fd, content, len), (ssize_t)len);
        cr_assert_eq(close(fd), 0);
}

static int subdir(int dirfd, const char *name) {
        cr_assert(mkdirat(dirfd, name, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", name,
                  strerror(errno));
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fd, 0, "open %s: %s", name, strerror(errno));
        return fd;
}

void rt_rm_at(int dirfd, const char *name) {
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                cr_assert(unlinkat(dirfd, name, 0) == 0 || errno == ENOENT);
                return;
        }
        DIR *d = fdopendir(fd);
        cr_assert_not_null(d);
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        rt_rm_at(fd, de->d_name);
        closedir(d);
        cr_assert_eq(unlinkat(dirfd, name, AT_REMOVEDIR), 0, "rmdir %s: %s", name, strerror(errno));
}

static table *by_ino_table; /* qsort has no context argument */
static int by_ino(const void *a, const void *b) {
        const mcg *x = &by_ino_table->cg[*(const int *)a], *y = &by_ino_table->cg[*(const int *)b];
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void write_cg(table *t, int c, int fd) {
        mcg *g = &t->cg[c];
        char buf[MAX_PROCS * 12 + 1] = "", *s = buf;
        for (int i = 0; i < g->n_procs; i++)
                s += sprintf(s, "%d\n", t->p[g->procs[i]].pid);
        put(fd, "cgroup.procs", buf);
        if (g->parent >= 0) { /* the root has no memory.max */
                if (g->max == ULONG_MAX)
                        put(fd, "memory.max", "max\n");
                else {
                        snprintf(buf, sizeof(buf), "%lu\n", g->max * RT_PAGE);
                        put(fd, "memory.max", buf);
                }
                if (g->swap_mode == 1)
                        put(fd, "memory.swap.max", "max\n");
                else if (g->swap_mode == 2) {
                        snprintf(buf, sizeof(buf), "%lu\n", g->swap_max * RT_PAGE);
                        put(fd, "memory.swap.max", buf);
                }
        }
        for (int k = 0; k < g->n_kids; k++) {
                int kfd = subdir(fd, t->cg[g->kids[k]].name);
                write_cg(t, g->kids[k], kfd);
                struct stat st;
                cr_assert_eq(fstat(kfd, &st), 0);
                t->cg[g->kids[k]].ino = st.st_ino;
                close(kfd);
        }
        by_ino_table = t;
        qsort(g->kids, (size_t)g->n_kids, sizeof(int), by_ino);
}

static bool has_vm(const mproc *p) {
        return p->kind == K_PLAIN || p->kind == K_THREADED || p->kind == K_PPID2 ||
               p->kind == K_INIT || p->kind == K_EXITING || p->kthread_vm;
}

static void write_task(int dirfd, const mproc *p, int tid, char state, unsigned flags, bool vm,
                       const char *comm) {
        char buf[1024];
        int n = snprintf(buf, sizeof(buf),
                         "%d (%s) %c %d %d %d 0 -1 %u 100 0 0 0 5 3 0 0 20 0 %d 0 %lu 10000000 "
                         "365 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 "
                         "0 0 0 0\n",
                         tid, comm, state, p->ppid, p->pid, p->pid, flags, 1 + p->n_threads,
                         p->start_time);
        cr_assert_lt(n, (int)sizeof(buf));
        put(dirfd, "stat", buf);
        n = snprintf(buf, sizeof(buf),
                     "Name:\t%s\nUmask:\t0022\nState:\t%c (x)\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\n"
                     "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n",
                     comm, state, p->pid, tid, p->ppid);
        if (vm)
                n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                              "VmRSS:\t%lu kB\nRssAnon:\t%lu kB\nRssFile:\t%lu kB\n"
                              "RssShmem:\t%lu kB\nVmPTE:\t%lu kB\nVmSwap:\t%lu kB\n",
                              (p->anon + p->file + p->shmem) * 4, p->anon * 4, p->file * 4,
                              p->shmem * 4, p->pte * 4, p->swap * 4);
        snprintf(buf + n, sizeof(buf) - (size_t)n,
                 "Threads:\t%d\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n",
                 1 + p->n_threads);
        put(dirfd, "status", buf);
}

static void write_proc(int procfd, const mproc *p) {
        static const char *const comms[] = {"mysqld", "java", "a) Z 2 (b", "sh", "x y"};
        static const char states[] = "RSDT";
        char name[16];
        snprintf(name, sizeof(name), "%d", p->pid);
        int fd = subdir(procfd, name);
        const char *comm = p->kind == K_KTHREAD ? "kworker/u8:2" : comms[p->pid % 5];
        bool dead = p->kind == K_ZOMBIE || p->kind == K_LEADER_EXITED || p->kind == K_ALL_GONE;
        bool exiting = dead || p->kind == K_EXITING || p->kind == K_EXITING_NO_MM;
        char state = dead ? 'Z' : p->kind == K_KTHREAD ? "SI"[p->pid % 2]
                   : exiting ? "RD"[p->pid % 2] : states[p->pid % 4];
        unsigned flags = p->kind == K_KTHREAD ? PF_KTHREAD | PF_FORKNOEXEC | 0x8000u
                       : 0x00400100u | (exiting ? PF_EXITING : 0);
        write_task(fd, p, p->pid, state, flags, has_vm(p), comm);
        char buf[32];
        snprintf(buf, sizeof(buf), "%d\n", p->adj);
        put(fd, "oom_score_adj", buf);
        put(fd, "cmdline", dead || p->kind == K_KTHREAD || exiting ? "" : comm);
        /* task/: the leader, exited threads without an mm, then live ones. */
        if (p->kind != K_ZOMBIE || p->pid % 2) {
                int taskfd = subdir(fd, "task"), tid = p->pid + 100000;
                snprintf(name, sizeof(name), "%d", p->pid);
                int tfd = subdir(taskfd, name);
                write_task(tfd, p, p->pid, state, flags, has_vm(p), comm);
                close(tfd);
                int gone = p->kind == K_LEADER_EXITED || p->kind == K_ALL_GONE ? p->pid % 3 : 0;
                for (int i = 0; i < gone + p->n_threads; i++, tid++) {
                        snprintf(name, sizeof(name), "%d", tid);
                        tfd = subdir(taskfd, name);
                        bool live = i >= gone;
                        write_task(tfd, p, tid, live ? 'S' : 'R', live ? 0x00400040u : PF_EXITING,
                                   live, "worker");
                        close(tfd);
                }
                close(taskfd);
        }
        close(fd);
}

void rt_write_fixture(table *t, int dirfd) {
        int cgfd = subdir(dirfd, "cg"), procfd = subdir(dirfd, "proc");
        write_cg(t, 0, cgfd);
        char buf[256];
        snprintf(buf, sizeof(buf), "MemTotal:  %lu kB\nMemFree:  1024 kB\nSwapTotal:  %lu kB\n"
                 "SwapFree:  %lu kB\n", t->ram * 4, t->swap * 4, t->swap * 4);
        put(procfd, "meminfo", buf);
        int fd = subdir(procfd, "sys"), vm = subdir(fd, "vm");
        snprintf(buf, sizeof(buf), "%d\n", t->swappiness);
        put(vm, "swappiness", buf);
        close(vm);
        close(fd);
        for (int i = 0; i < t->n_p; i++)
                write_proc(procfd, &t->p[i]);
        close(cgfd);
        close(procfd);
}
