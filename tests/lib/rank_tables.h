/* The random process tables of the ranking property test
 * (tests/unit/test_rank_property.c): a tree of cgroups with limits and the
 * processes in them, as plain structs the test's model of the kernel reads,
 * drawn from a seed, and written out as a fixture cgroup and proc tree that
 * guardian's real path reads.
 *
 * Like fixture.h, the helpers fail the running Criterion test (cr_assert)
 * instead of returning an error. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define RT_PAGE 4096
#define MAX_CG 128
#define MAX_PROCS 40
#define MAX_THREADS 6

typedef enum {
        K_PLAIN,          /* one thread, an mm */
        K_THREADED,       /* leader and threads sharing the mm */
        K_ZOMBIE,         /* exited, not reaped: no mm */
        K_LEADER_EXITED,  /* leader Z without Vm lines, a thread holds the mm */
        K_ALL_GONE,       /* leader Z, no thread with an mm left */
        K_KTHREAD,        /* PF_KTHREAD */
        K_PPID2,          /* parent pid 2 without PF_KTHREAD: a user-mode helper */
        K_INIT,           /* pid 1 */
        K_EXITING,        /* PF_EXITING, mm not yet dropped */
        K_EXITING_NO_MM,  /* PF_EXITING, exit_mm() done, not a zombie yet */
        K_N
} kind;

typedef struct mproc {
        int pid, ppid, cg, n_threads;
        kind kind;
        int adj;
        unsigned long anon, file, shmem, pte, swap; /* pages */
        unsigned long start_time;                   /* fork order */
        bool kthread_vm;                            /* a kthread showing Vm lines (hostile) */
} mproc;

typedef struct mcg {
        int parent, depth;
        char name[NAME_MAX + 16];
        unsigned long max;      /* pages; ULONG_MAX: "max" */
        int swap_mode;          /* 0: no memory.swap.max, 1: "max", 2: swap_max */
        unsigned long swap_max; /* pages */
        int procs[MAX_PROCS], n_procs;
        int kids[MAX_CG], n_kids; /* creation order, then sorted by inode */
        ino_t ino;
} mcg;

typedef struct table {
        unsigned seed;
        mcg cg[MAX_CG];
        int n_cg;
        mproc p[MAX_PROCS];
        int n_p;
        unsigned long ram, swap; /* pages */
        int swappiness, target;
} table;

/* Fill t with the table of seed: the same seed gives the same table. */
void rt_generate(table *t, unsigned seed);

/* Write t below dirfd as cg/ (the cgroup tree, t->cg[0] its root) and proc/
 * (a /proc with meminfo, sys/vm/swappiness and one directory a process).
 * Records each cgroup's inode and sorts its kids by it: the kernel's walk
 * order, which the model follows. Paths may pass PATH_MAX: everything is
 * written through directory fds. */
void rt_write_fixture(table *t, int dirfd);

/* rm -rf name below dirfd, through directory fds (fx_rmtree works on paths,
 * which here may pass PATH_MAX). */
void rt_rm_at(int dirfd, const char *name);
