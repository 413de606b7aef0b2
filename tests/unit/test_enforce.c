/* The enforcer (act/enforce.c) on fixture trees: oom_score_adj is
 * written only to the process that was scanned, through one /proc/PID
 * directory checked to be it, never to a process that took its pid. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "act/enforce.h"
#include "tests/lib/fixture.h"

static char *tree;
static gd_host host;
static int epfd = -1;
static gd_watch watch;
static pol_policy *policy;

static const char POLICY[] = "version: 1\n"
                             "workloads:\n"
                             "  - name: db\n"
                             "    match: {cgroup: db}\n"
                             "    protect: {oom_score_adj: -1000}\n";

/* A process of the fake /proc, born at start_time. */
static void add_proc(int pid, const char *comm, uint64_t start_time, int adj) {
        char rel[64], buf[512];

        snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
        snprintf(buf, sizeof(buf),
                 "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %llu 10000000 "
                 "100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                 pid, comm, pid, pid, (unsigned long long)start_time);
        fx_write(tree, rel, buf);
        snprintf(rel, sizeof(rel), "proc/%d/status", pid);
        snprintf(buf, sizeof(buf),
                 "Name:\t%s\nState:\tS (sleeping)\nPid:\t%d\nUid:\t0\t0\t0\t0\n"
                 "VmRSS:\t400 kB\nRssAnon:\t400 kB\nRssFile:\t0 kB\nRssShmem:\t0 kB\n"
                 "VmPTE:\t4 kB\nVmSwap:\t0 kB\nThreads:\t1\n",
                 comm, pid);
        fx_write(tree, rel, buf);
        snprintf(rel, sizeof(rel), "proc/%d/oom_score_adj", pid);
        snprintf(buf, sizeof(buf), "%d\n", adj);
        fx_write(tree, rel, buf);
        snprintf(rel, sizeof(rel), "proc/%d/cmdline", pid);
        fx_write_bytes(tree, rel, comm, strlen(comm) + 1);
}

static char *adj_of(int pid) {
        char rel[64];
        snprintf(rel, sizeof(rel), "proc/%d/oom_score_adj", pid);
        return fx_read(tree, rel, NULL);
}

static void assert_adj(int pid, const char *want) {
        char *have = adj_of(pid);
        cr_assert_str_eq(have, want, "pid %d: oom_score_adj %s, want %s", pid, have, want);
        free(have);
}

static void setup(void) {
        tree = fx_tmpdir();
        fx_write(tree, "cg/cgroup.controllers", "memory pids\n");
        fx_write(tree, "cg/cgroup.procs", "");
        fx_write(tree, "cg/db/cgroup.procs", "100\n");
        fx_write(tree, "cg/db/memory.current", "0\n");
        fx_write(tree, "cg/db/memory.max", "max\n");
        add_proc(100, "mysqld", 5000, 0);
        memset(&host, 0, sizeof(host));
        char *cg = fx_path(tree, "cg"), *proc = fx_path(tree, "proc");
        host.rootfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        host.procfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        host.hostfd = -1;
        host.page_size = 4096;
        free(cg);
        free(proc);
        epfd = epoll_create1(EPOLL_CLOEXEC);
        cr_assert(host.rootfd >= 0 && host.procfd >= 0 && epfd >= 0);
        cr_assert_eq(gd_watch_init(&watch, epfd, host.rootfd, true), 0);
        cr_assert_eq(gd_watch_add_tree(&watch, ""), 2);
        pol_errors *errs = calloc(1, sizeof(*errs));
        cr_assert_not_null(errs);
        cr_assert_eq(pol_parse("t.yaml", POLICY, strlen(POLICY), &policy, errs), 0);
        free(errs);
}

static void teardown(void) {
        pol_free(policy);
        gd_watch_free(&watch);
        close(epfd);
        close(host.rootfd);
        close(host.procfd);
        fx_rmtree(tree);
        free(tree);
}

TestSuite(enforce, .init = setup, .fini = teardown);

/* What a pass reported, as the daemon would get it. */
static gd_enforce_write seen[4];
static size_t n_seen;

static void collect(void *ctx, const gd_enforce_write *write) {
        (void)ctx;
        if (n_seen < sizeof(seen) / sizeof(seen[0]))
                seen[n_seen] = *write;
        n_seen++;
}

Test(enforce, a_pass_writes_the_protected_process_and_only_once) {
        cr_assert(gd_enforce_needed(policy));
        n_seen = 0;
        cr_assert_eq(gd_enforce_pass(&host, policy, &watch, false, false, collect, NULL), 1);
        assert_adj(100, "-1000\n");
        cr_assert_eq(n_seen, 1, "one write reported");
        cr_assert_eq(seen[0].result, GD_ENFORCE_SET);
        cr_assert_null(seen[0].knob, "an oom_score_adj write");
        cr_assert_eq(seen[0].pid, 100);
        cr_assert_eq(seen[0].adj, -1000);
        cr_assert_str_eq(seen[0].workload, "db");
        /* Already so: nothing to write, nothing reported. */
        n_seen = 0;
        cr_assert_eq(gd_enforce_pass(&host, policy, &watch, false, false, collect, NULL), 0);
        cr_assert_eq(n_seen, 0);
}

Test(enforce, a_dry_run_writes_nothing) {
        n_seen = 0;
        cr_assert_eq(gd_enforce_pass(&host, policy, &watch, false, true, collect, NULL), 1);
        assert_adj(100, "0\n");
        cr_assert_eq(n_seen, 1);
        cr_assert_eq(seen[0].result, GD_ENFORCE_WOULD_SET, "said as would-set");
}

Test(enforce, the_scanned_process_only) {
        cr_assert_eq(gd_enforce_set_adj(host.procfd, 100, 5000, -500), 1);
        assert_adj(100, "-500\n");
        cr_assert_eq(gd_enforce_set_adj(host.procfd, 100, 5000, -500), 0);
        /* The pid now names a process born later: not written. */
        add_proc(100, "intruder", 7000, 0);
        cr_assert_eq(gd_enforce_set_adj(host.procfd, 100, 5000, -1000), -ESTALE);
        assert_adj(100, "0\n");
        /* Gone. */
        cr_assert_eq(gd_enforce_set_adj(host.procfd, 101, 5000, -1000), -ESRCH);
}
