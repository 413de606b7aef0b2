/* Snapshot and ranking on fixture trees: a fake cgroup v2 hierarchy and a
 * fake /proc, laid out in a temporary directory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/rank.h"
#include "decide/rank.h"
#include "proc/snapshot.h"
#include "tests/lib/fixture.h"

#define PAGE 4096

static char *tree;
static int rootfd = -1, procfd = -1;

static void setup(void) {
        tree = fx_tmpdir();
        fx_mkdir(tree, "cg");
        fx_write(tree, "cg/cgroup.controllers", "cpu memory pids\n");
        fx_write(tree, "cg/cgroup.procs", "");
        fx_write(tree, "proc/meminfo",
                 "MemTotal:        1048576 kB\nMemFree:          524288 kB\n"
                 "SwapTotal:        262144 kB\nSwapFree:         262144 kB\n");
        fx_write(tree, "proc/sys/vm/swappiness", "60\n");
}

static void open_roots(void) {
        char *cg = fx_path(tree, "cg"), *proc = fx_path(tree, "proc");
        rootfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        procfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(rootfd >= 0 && procfd >= 0);
        free(cg);
        free(proc);
}

static void teardown(void) {
        if (rootfd >= 0)
                close(rootfd);
        if (procfd >= 0)
                close(procfd);
        rootfd = procfd = -1;
        fx_rmtree(tree);
        free(tree);
}

/* A process in the fake /proc: sizes in kB as status shows them. */
static void add_proc(int pid, const char *comm, int adj, unsigned rss_anon_kb, unsigned pte_kb,
                     unsigned swap_kb) {
        char rel[64], buf[1024];

        snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
        snprintf(buf, sizeof(buf),
                 "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %d 10000000 %u "
                 "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                 pid, comm, pid, pid, 1000 + pid, rss_anon_kb / 4);
        fx_write(tree, rel, buf);
        snprintf(rel, sizeof(rel), "proc/%d/status", pid);
        snprintf(buf, sizeof(buf),
                 "Name:\t%s\nState:\tS (sleeping)\nPid:\t%d\nUid:\t1000\t1000\t1000\t1000\n"
                 "VmRSS:\t%u kB\nRssAnon:\t%u kB\nRssFile:\t0 kB\nRssShmem:\t0 kB\n"
                 "VmPTE:\t%u kB\nVmSwap:\t%u kB\nThreads:\t1\n",
                 comm, pid, rss_anon_kb, rss_anon_kb, pte_kb, swap_kb);
        fx_write(tree, rel, buf);
        snprintf(rel, sizeof(rel), "proc/%d/oom_score_adj", pid);
        snprintf(buf, sizeof(buf), "%d\n", adj);
        fx_write(tree, rel, buf);
        snprintf(rel, sizeof(rel), "proc/%d/cmdline", pid);
        fx_write_bytes(tree, rel, comm, strlen(comm) + 1);
}

TestSuite(snapshot, .init = setup, .fini = teardown);

Test(snapshot, limit_from_the_tightest_ancestor_and_walk_order) {
        /* a (512M) > b (256M, the tighter one) > c (no limit): processes in
         * b and c; c is created before d so it is walked first. */
        fx_write(tree, "cg/a/memory.max", "536870912\n");
        fx_write(tree, "cg/a/cgroup.procs", "");
        fx_write(tree, "cg/a/b/memory.max", "268435456\n");
        fx_write(tree, "cg/a/b/memory.swap.max", "0\n");
        fx_write(tree, "cg/a/b/cgroup.procs", "100\n101\n");
        fx_write(tree, "cg/a/b/c/memory.max", "max\n");
        fx_write(tree, "cg/a/b/c/cgroup.procs", "102\n");
        fx_write(tree, "cg/a/b/d/memory.max", "max\n");
        fx_write(tree, "cg/a/b/d/cgroup.procs", "103\n");
        add_proc(100, "small", 0, 4000, 40, 0);
        add_proc(101, "big", 0, 80000, 160, 0);
        add_proc(102, "adjusted", 300, 20000, 80, 0);
        add_proc(103, "protected", -1000, 90000, 80, 0);
        open_roots();

        gd_snapshot snap;
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "a/b/c", true, PAGE, &snap), 0);
        cr_assert_not(snap.host_limit);
        cr_assert_str_eq(snap.limit_cgroup, "a/b");
        cr_assert_eq(snap.memory_max_bytes, 268435456ULL);
        /* swap.max 0 at the limiting cgroup: no swap counted */
        cr_assert_eq(snap.totalpages, 65536);
        cr_assert_eq(snap.n_procs, 1);
        cr_assert_eq(snap.procs[0].info.stat.pid, 102);
        gd_snapshot_free(&snap);

        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "a/b", true, PAGE, &snap), 0);
        cr_assert_eq(snap.n_procs, 4);
        cr_assert_eq(snap.procs[0].info.stat.pid, 100, "the cgroup's own processes first");
        /* then children in creation order, which the inode number stands for */
        struct stat c_st, d_st;
        cr_assert_eq(fstatat(rootfd, "a/b/c", &c_st, 0), 0);
        cr_assert_eq(fstatat(rootfd, "a/b/d", &d_st, 0), 0);
        bool c_first = c_st.st_ino < d_st.st_ino;
        cr_assert_eq(snap.procs[2].info.stat.pid, c_first ? 102 : 103);
        cr_assert_str_eq(snap.cgroups[snap.procs[3].cgroup_index], c_first ? "a/b/d" : "a/b/c");

        size_t killable = 0;
        gd_candidate *c = gd_rank_snapshot(&snap, &killable);
        cr_assert_not_null(c);
        cr_assert_eq(killable, 3);
        /* 102: 5000 + 20 + 300 * 65 = 24520 beats 101: 20000 + 40 */
        cr_assert_eq(c[0].pid, 102);
        cr_assert_eq(c[0].points, 5000 + 20 + 300 * 65);
        cr_assert_eq(c[1].pid, 101);
        cr_assert_eq(c[2].pid, 100);
        cr_assert_eq(c[3].pid, 103);
        cr_assert_not(c[3].killable);
        free(c);
        gd_snapshot_free(&snap);
}

Test(snapshot, no_limit_means_ram_plus_swap) {
        fx_write(tree, "cg/x/memory.max", "max\n");
        fx_write(tree, "cg/x/cgroup.procs", "200\n");
        add_proc(200, "p", 0, 400, 8, 4);
        open_roots();

        gd_snapshot snap;
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "x", true, PAGE, &snap), 0);
        cr_assert(snap.host_limit);
        cr_assert_eq(snap.totalpages, (1048576 + 262144) / 4);
        cr_assert_eq(snap.procs[0].info.mem.rss_pages, 100);
        cr_assert_eq(snap.procs[0].info.mem.pte_pages, 2);
        cr_assert_eq(snap.procs[0].info.mem.swap_pages, 1);
        gd_snapshot_free(&snap);
}

Test(snapshot, hybrid_host_ignores_memory_files) {
        /* Without the memory controller there is no memory.max to trust. */
        fx_write(tree, "cg/x/memory.max", "1048576\n");
        fx_write(tree, "cg/x/cgroup.procs", "200\n");
        add_proc(200, "p", 0, 400, 8, 0);
        open_roots();

        gd_snapshot snap;
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "x", false, PAGE, &snap), 0);
        cr_assert(snap.host_limit);
        cr_assert_eq(snap.totalpages, (1048576 + 262144) / 4);
        gd_snapshot_free(&snap);
}

Test(snapshot, swap_counts_up_to_swap_max) {
        fx_write(tree, "cg/x/memory.max", "268435456\n");
        fx_write(tree, "cg/x/memory.swap.max", "67108864\n");
        fx_write(tree, "cg/x/cgroup.procs", "");
        open_roots();

        gd_snapshot snap;
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "x", true, PAGE, &snap), 0);
        cr_assert_eq(snap.totalpages, 65536 + 16384);
        cr_assert_eq(snap.n_procs, 0);
        gd_snapshot_free(&snap);

        fx_write(tree, "proc/sys/vm/swappiness", "0\n");
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "x", true, PAGE, &snap), 0);
        cr_assert_eq(snap.totalpages, 65536, "vm.swappiness=0 leaves swap out");
        gd_snapshot_free(&snap);
}

Test(snapshot, vanished_processes_are_skipped_and_counted) {
        fx_write(tree, "cg/x/cgroup.procs", "300\n301\n302\n");
        add_proc(300, "alive", 0, 400, 8, 0);
        /* 301 exited after the listing: no /proc entry at all */
        /* 302 exited midway: stat is there, status is not */
        add_proc(302, "half", 0, 400, 8, 0);
        char *status = fx_path(tree, "proc/302/status");
        cr_assert_eq(unlink(status), 0);
        free(status);
        open_roots();

        gd_snapshot snap;
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "x", true, PAGE, &snap), 0);
        cr_assert_eq(snap.n_procs, 1);
        cr_assert_eq(snap.procs[0].info.stat.pid, 300);
        cr_assert_eq(snap.n_gone, 2);
        cr_assert_eq(snap.n_unreadable, 0);
        gd_snapshot_free(&snap);
}

Test(snapshot, garbage_in_proc_is_unreadable_not_fatal) {
        fx_write(tree, "cg/x/cgroup.procs", "400\n401\n");
        add_proc(400, "ok", 0, 400, 8, 0);
        add_proc(401, "bad", 0, 400, 8, 0);
        fx_write(tree, "proc/401/stat", "401 (bad\n");
        open_roots();

        gd_snapshot snap;
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "x", true, PAGE, &snap), 0);
        cr_assert_eq(snap.n_procs, 1);
        cr_assert_eq(snap.n_unreadable, 1);
        cr_assert_eq(snap.first_unreadable_error, -EBADMSG);
        gd_snapshot_free(&snap);
}

Test(snapshot, missing_cgroup_and_missing_meminfo) {
        open_roots();
        gd_snapshot snap;
        memset(&snap, 0x5a, sizeof(snap));
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "nope", true, PAGE, &snap), -ENOENT);
        cr_assert_eq(snap.n_procs, 0x5a5a5a5a5a5a5a5aULL, "output untouched on failure");

        char *meminfo = fx_path(tree, "proc/meminfo");
        cr_assert_eq(unlink(meminfo), 0);
        free(meminfo);
        cr_assert_lt(gd_snapshot_take(rootfd, procfd, "", true, PAGE, &snap), 0);
}

Test(snapshot, json_output_is_well_formed_for_hostile_names) {
        fx_write(tree, "cg/x/cgroup.procs", "500\n");
        add_proc(500, "a\"b) R (c", 0, 400, 8, 0);
        open_roots();

        gd_snapshot snap;
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "x", true, PAGE, &snap), 0);
        size_t killable;
        gd_candidate *c = gd_rank_snapshot(&snap, &killable);
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        static gd_ident_cursor none;
        gd_ident_cursor_init(&none, NULL, NULL);
        gd_rank_print_json(out, &snap, c, &none);
        fclose(out);
        cr_assert(strstr(buf, "\"comm\": \"a\\\"b) R (c\"") != NULL, "%s", buf);
        cr_assert(strstr(buf, "\"score\": 102") != NULL, "%s", buf);
        cr_assert(strstr(buf, "\"limit_cgroup\": null") != NULL, "%s", buf);
        free(buf);
        free(c);
        gd_snapshot_free(&snap);
}

/* A chain of n cgroups "name/name/..." below the fixture's x, made
 * through directory fds (the path may pass PATH_MAX); the deepest holds
 * pid. */
static void deep_chain(int n, const char *name, int pid) {
        char *x = fx_path(tree, "cg/x");
        int fd = open(x, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        free(x);
        char procs[16];
        snprintf(procs, sizeof(procs), "%d\n", pid);
        for (int i = 1; i <= n; i++) {
                cr_assert_eq(mkdirat(fd, name, 0755), 0);
                int next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                cr_assert_geq(next, 0);
                close(fd);
                fd = next;
                /* every level is a cgroup: without cgroup.procs it is gone */
                int f = openat(fd, "cgroup.procs", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                cr_assert_geq(f, 0);
                if (i == n)
                        cr_assert_eq(write(f, procs, strlen(procs)), (ssize_t)strlen(procs));
                close(f);
        }
        close(fd);
}

/* Removes what deep_chain made, deepest first, through fds again. */
static void rm_chain(int n, const char *name) {
        char *x = fx_path(tree, "cg/x");
        int fds[GD_SNAPSHOT_MAX_DEPTH + 8];
        cr_assert_lt(n, (int)(sizeof(fds) / sizeof(fds[0])));
        fds[0] = open(x, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(x);
        for (int i = 1; i <= n; i++)
                fds[i] = openat(fds[i - 1], name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = n; i >= 1; i--) {
                cr_assert_eq(unlinkat(fds[i], "cgroup.procs", 0), 0);
                close(fds[i]);
                cr_assert_eq(unlinkat(fds[i - 1], name, AT_REMOVEDIR), 0);
        }
        close(fds[0]);
}

Test(snapshot, a_tree_deeper_than_the_walk_is_not_a_complete_set) {
        /* The kernel would pick 601, nested one level past the walk: a
         * ranking without it is no ranking, so the snapshot says so. */
        fx_write(tree, "cg/x/cgroup.procs", "600\n");
        add_proc(600, "small", 0, 400, 8, 0);
        add_proc(601, "hidden", 0, 400000, 8, 0);
        deep_chain(GD_SNAPSHOT_MAX_DEPTH + 1, "d", 601);
        open_roots();

        gd_snapshot snap;
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "x", true, PAGE, &snap), 0);
        cr_assert_eq(snap.n_procs, 1);
        cr_assert_eq(snap.n_unreadable, 1);
        cr_assert_eq(snap.first_unreadable_error, -ELOOP);
        gd_snapshot_free(&snap);

        /* At the limit itself every process is seen. */
        rm_chain(GD_SNAPSHOT_MAX_DEPTH + 1, "d");
        deep_chain(GD_SNAPSHOT_MAX_DEPTH, "d", 601);
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "x", true, PAGE, &snap), 0);
        cr_assert_eq(snap.n_procs, 2);
        cr_assert_eq(snap.n_unreadable, 0);
        gd_snapshot_free(&snap);
        rm_chain(GD_SNAPSHOT_MAX_DEPTH, "d");
}

Test(snapshot, a_path_past_path_max_is_not_a_complete_set) {
        char name[241];
        memset(name, 'n', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        fx_write(tree, "cg/x/cgroup.procs", "");
        add_proc(700, "hidden", 0, 400000, 8, 0);
        deep_chain(18, name, 700); /* 18 * 241 bytes > PATH_MAX */
        open_roots();

        gd_snapshot snap;
        cr_assert_eq(gd_snapshot_take(rootfd, procfd, "x", true, PAGE, &snap), 0);
        cr_assert_eq(snap.n_procs, 0);
        cr_assert_eq(snap.n_unreadable, 1);
        cr_assert_eq(snap.first_unreadable_error, -ENAMETOOLONG);
        gd_snapshot_free(&snap);
        rm_chain(18, name);
}
