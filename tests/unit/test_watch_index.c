/* The watch set's indexes (by path, by directory watch) and its stack of
 * free slots on a fixture tree of thousands of cgroups: whatever comes
 * and goes, each cgroup is found by its path and its wd, and nothing
 * removed is. Correctness only: what it costs is benchmarked
 * (tests/bench/cpu_bench.c, phase watch_add). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "watch/watch.h"
#include "tests/lib/fixture.h"

/* 50 parents of 100 children each: 5,050 cgroups below the root, paths
 * with and without a slash. */
#define PARENTS 50
#define CHILDREN 100
#define CGROUPS (PARENTS + PARENTS * CHILDREN)

static char *tree;
static int rootfd = -1, epfd = -1;
static gd_watch w;

static void rel_of(char *buf, size_t size, int p, int c) {
        if (c < 0)
                snprintf(buf, size, "p%02d", p);
        else
                snprintf(buf, size, "p%02d/c%03d", p, c);
}

static void setup(void) {
        /* A directory fd per cgroup, for up to twice the tree (re-added
         * ones), and room for the rest. */
        struct rlimit rl;
        cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * CGROUPS + 256)
                cr_skip_test("RLIMIT_NOFILE's hard limit %llu is below %d",
                             (unsigned long long)rl.rlim_max, 2 * CGROUPS + 256);
        rl.rlim_cur = rl.rlim_max;
        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);

        tree = fx_tmpdir();
        fx_write(tree, "cgroup.controllers", "memory\n");
        for (int p = 0; p < PARENTS; p++)
                for (int c = 0; c < CHILDREN; c++) {
                        char rel[32];
                        rel_of(rel, sizeof(rel), p, c);
                        fx_mkdir(tree, rel);
                }
        rootfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        epfd = epoll_create1(EPOLL_CLOEXEC);
        cr_assert(rootfd >= 0 && epfd >= 0);
        cr_assert_eq(gd_watch_init(&w, epfd, rootfd, true), 0);
        cr_assert_eq(gd_watch_add_tree(&w, ""), CGROUPS + 1);
}

static void teardown(void) {
        gd_watch_free(&w);
        close(epfd);
        close(rootfd);
        fx_rmtree(tree);
        free(tree);
}

/* Every slot in use is found by its path and its wd; the indexes hold
 * nothing else. */
static void check_consistent(void) {
        size_t with_wd = 0;
        for (size_t i = 0; i < w.n_slots; i++) {
                gd_watched *c = &w.slots[i];
                if (!c->in_use)
                        continue;
                cr_assert_eq(gd_watch_find(&w, c->rel), c, "%s", c->rel);
                if (c->wd >= 0) {
                        cr_assert_eq(gd_watch_find_wd(&w, c->wd), c, "%s wd %d", c->rel, c->wd);
                        with_wd++;
                }
        }
        cr_assert_eq(w.by_rel.n, w.n_watched);
        cr_assert_eq(w.by_wd.n, with_wd);
        /* inotify may run out of watches on a shared machine; it may not
         * leave the count wrong. */
        cr_assert_eq(with_wd + w.n_no_dir_watch, w.n_watched);
}

TestSuite(watch_index, .init = setup, .fini = teardown, .timeout = 120);

Test(watch_index, thousands_of_cgroups_are_found_by_path_and_wd) {
        cr_assert_eq(w.n_watched, CGROUPS + 1);
        check_consistent();
        cr_assert_not_null(gd_watch_find(&w, ""), "the root");
        cr_assert_not_null(gd_watch_find(&w, "p49/c099"));
        cr_assert_null(gd_watch_find(&w, "p50"));
        cr_assert_null(gd_watch_find(&w, "p00/c100"));
        cr_assert_null(gd_watch_find(&w, "p00/"));
        cr_assert_null(gd_watch_find_wd(&w, -1));
        cr_assert_eq(gd_watch_add_tree(&w, ""), 0, "a second walk adds nothing");
        check_consistent();
}

/* Removed slots are reused before the array grows, and the new cgroups in
 * them are found under their own paths, not the old ones'. */
Test(watch_index, removed_slots_are_reused_and_found_again) {
        size_t n_slots = w.n_slots, removed = 0;
        for (int p = 0; p < PARENTS; p++)
                for (int c = p % 3; c < CHILDREN; c += 3) {
                        char rel[32];
                        rel_of(rel, sizeof(rel), p, c);
                        gd_watched *s = gd_watch_find(&w, rel);
                        cr_assert_not_null(s, "%s", rel);
                        gd_watch_remove(&w, (size_t)(s - w.slots));
                        cr_assert_null(gd_watch_find(&w, rel), "%s removed", rel);
                        removed++;
                }
        cr_assert_eq(w.n_watched, CGROUPS + 1 - removed);
        check_consistent();
        for (int p = 0; p < PARENTS; p++)
                for (int c = 0; c < CHILDREN; c++) {
                        char rel[32];
                        rel_of(rel, sizeof(rel), p, c);
                        cr_assert_eq(gd_watch_find(&w, rel) != NULL, c % 3 != p % 3, "%s", rel);
                }

        /* Back, under other names: into the freed slots, not new ones. */
        for (size_t k = 0; k < removed; k++) {
                char rel[32];
                snprintf(rel, sizeof(rel), "p%02zu/new%04zu", k % PARENTS, k);
                fx_mkdir(tree, rel);
                cr_assert_eq(gd_watch_add_tree(&w, rel), 1, "%s", rel);
        }
        cr_assert_eq(w.n_slots, n_slots, "no slot added while one was free");
        cr_assert_eq(w.n_watched, CGROUPS + 1);
        check_consistent();
        /* The old names stay gone, and the walk finds them again on disk. */
        cr_assert_null(gd_watch_find(&w, "p00/c000"));
        cr_assert_eq(gd_watch_add_tree(&w, ""), (int)removed);
        cr_assert_eq(w.n_watched, CGROUPS + 1 + removed);
        check_consistent();
}

/* inotify events find their parent by wd: a child made under any of the
 * thousands of directories is added under the right path, a child removed
 * is forgotten. */
Test(watch_index, inotify_finds_the_parent_by_wd) {
        const gd_watched *parent = gd_watch_find(&w, "p37/c042");
        cr_assert_not_null(parent);
        if (parent->wd < 0)
                cr_skip_test("inotify refused the directory watch (max_user_watches)");
        fx_mkdir(tree, "p37/c042/x");
        fx_mkdir(tree, "p12/y");
        cr_assert_eq(gd_watch_handle_inotify(&w), 0);
        cr_assert_not_null(gd_watch_find(&w, "p37/c042/x"));
        cr_assert_not_null(gd_watch_find(&w, "p12/y"));
        check_consistent();

        char *x = fx_path(tree, "p37/c042/x");
        cr_assert_eq(rmdir(x), 0);
        free(x);
        cr_assert_eq(gd_watch_handle_inotify(&w), 0);
        cr_assert_null(gd_watch_find(&w, "p37/c042/x"));
        cr_assert_not_null(gd_watch_find(&w, "p37/c042"));
        check_consistent();
}
