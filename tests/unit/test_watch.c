/* The watch set's bookkeeping on a fixture tree: cgroups found at start,
 * followed through inotify as they come and go, stale epoll tags refused.
 * (Kernel wake-ups on memory.events and PSI triggers are tested in the VM.) */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "watch/watch.h"
#include "decide/look.h"
#include "tests/lib/fixture.h"

static char *tree;
static int rootfd = -1, epfd = -1;
static gd_watch w;

static void setup(void) {
        tree = fx_tmpdir();
        fx_write(tree, "cgroup.controllers", "memory pids\n");
        fx_write(tree, "a/memory.events", "low 0\nhigh 5\nmax 0\noom 0\noom_kill 0\n");
        fx_write(tree, "a/memory.current", "1048576\n");
        fx_write(tree, "a/memory.max", "2097152\n");
        fx_write(tree, "a/memory.high", "max\n");
        fx_write(tree, "a/memory.stat", "anon 1000000\nfile 48576\nshmem 0\n");
        fx_write(tree, "a/memory.pressure",
                 "some avg10=0.00 avg60=0.00 avg300=0.00 total=100\n"
                 "full avg10=0.00 avg60=0.00 avg300=0.00 total=50\n");
        fx_write(tree, "a/b/memory.current", "0\n");
        rootfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        epfd = epoll_create1(EPOLL_CLOEXEC);
        cr_assert(rootfd >= 0 && epfd >= 0);
        cr_assert_eq(gd_watch_init(&w, epfd, rootfd, true), 0);
}

static void teardown(void) {
        gd_watch_free(&w);
        close(epfd);
        close(rootfd);
        fx_rmtree(tree);
        free(tree);
}

static gd_watched *find(const char *rel) {
        for (size_t i = 0; i < w.n_slots; i++)
                if (w.slots[i].in_use && strcmp(w.slots[i].rel, rel) == 0)
                        return &w.slots[i];
        return NULL;
}

TestSuite(watch, .init = setup, .fini = teardown);

Test(watch, finds_the_tree_and_samples_it) {
        cr_assert_eq(gd_watch_add_tree(&w, ""), 3);
        cr_assert_eq(w.n_watched, 3);
        gd_watched *a = find("a");
        cr_assert_not_null(a);
        cr_assert_not_null(find("a/b"));
        cr_assert_eq(a->max, 2097152);

        gd_sample s;
        cr_assert_eq(gd_watch_sample(&w, a, 1234, &s), 0);
        cr_assert_eq(s.at_ms, 1234);
        cr_assert(s.events_ok && s.memory_ok && s.stat_ok && s.psi_ok, "ok: %d %d %d %d", s.events_ok, s.memory_ok, s.stat_ok, s.psi_ok);
        cr_assert_eq(s.events.high, 5);
        cr_assert_eq(s.current, 1048576);
        cr_assert_eq(s.high, CG_UNLIMITED);
        cr_assert_eq(s.file, 48576);
        cr_assert_eq(s.psi.some.total_us, 100);
        cr_assert_not(s.oom_group);
        /* A second add of the same tree adds nothing. */
        cr_assert_eq(gd_watch_add_tree(&w, ""), 0);
}

Test(watch, unreadable_files_are_marked_not_ok) {
        fx_write(tree, "a/memory.stat", "anon garbage\n");
        fx_write(tree, "a/memory.events", "");
        cr_assert_gt(gd_watch_add_tree(&w, ""), 0);
        gd_sample s;
        cr_assert_eq(gd_watch_sample(&w, find("a"), 1, &s), 0);
        cr_assert_not(s.stat_ok);
        cr_assert_not(s.events_ok);
        cr_assert(s.memory_ok);
}

Test(watch, a_read_for_status_takes_only_what_it_asks_and_moves_no_baseline) {
        cr_assert_gt(gd_watch_add_tree(&w, ""), 0);
        gd_watched *a = find("a");
        fx_write(tree, "a/memory.current", "1500000\n");
        fx_write(tree, "a/memory.max", "3000000\n");
        uint64_t last_current = a->last_current, max = a->max, psi_ms = a->last_psi_ms;
        gd_sample s;
        cr_assert_eq(gd_watch_read(a, GD_READ_MEMORY | GD_READ_PSI, 99, &s), 0);
        cr_assert(s.current_ok && s.max_ok && s.high_ok && s.memory_ok && s.psi_ok);
        cr_assert_eq(s.current, 1500000);
        cr_assert_eq(s.max, 3000000);
        cr_assert_eq(s.psi.some.total_us, 100);
        /* Not asked for: not read. */
        cr_assert_not(s.events_ok);
        cr_assert_not(s.stat_ok);
        /* The watch's own baselines are a sample's to move, not a reader's. */
        cr_assert_eq(a->last_current, last_current);
        cr_assert_eq(a->max, max);
        cr_assert_eq(a->last_psi_ms, psi_ms);
        /* A sample moves them. */
        cr_assert_eq(gd_watch_sample(&w, a, 100, &s), 0);
        cr_assert_eq(a->max, 3000000);
        cr_assert_eq(a->last_current, 1500000);
        cr_assert_eq(a->last_psi_ms, 100);
}

Test(watch, an_unreadable_max_leaves_current_ok_but_not_memory) {
        fx_write(tree, "a/memory.max", "lots\n");
        cr_assert_gt(gd_watch_add_tree(&w, ""), 0);
        gd_sample s;
        cr_assert_eq(gd_watch_read(find("a"), GD_READ_ALL, 1, &s), 0);
        cr_assert(s.current_ok);
        cr_assert_not(s.max_ok);
        cr_assert_not(s.memory_ok);
        cr_assert_eq(s.max, CG_UNLIMITED);
}

Test(watch, follows_cgroups_as_they_come_and_go) {
        cr_assert_gt(gd_watch_add_tree(&w, ""), 0);
        size_t before = w.n_watched;
        gd_watched *b = find("a/b");
        uint64_t stale = gd_tag(GD_TAG_EVENTS, (uint32_t)(b - w.slots), b->generation);
        cr_assert_eq(gd_watch_lookup(&w, stale), b);

        fx_mkdir(tree, "a/c");
        fx_mkdir(tree, "a/c/d");
        /* cgroupfs removes a cgroup's files with it; a fixture needs help */
        char *bcur = fx_path(tree, "a/b/memory.current"), *bpath = fx_path(tree, "a/b");
        cr_assert_eq(unlink(bcur), 0);
        cr_assert_eq(rmdir(bpath), 0);
        free(bcur);
        free(bpath);
        cr_assert_eq(gd_watch_handle_inotify(&w), 0);

        cr_assert_not_null(find("a/c"));
        cr_assert_not_null(find("a/c/d"), "a subtree created at once is found whole");
        cr_assert_null(find("a/b"));
        cr_assert_eq(w.n_watched, before + 1);
        /* The removed cgroup's tag no longer resolves, even if its slot was
         * reused by a new cgroup. */
        cr_assert_null(gd_watch_lookup(&w, stale));
}

Test(watch, gone_cgroup_sample_reports_it) {
        cr_assert_gt(gd_watch_add_tree(&w, ""), 0);
        gd_watched *b = find("a/b");
        /* memory.current vanished between the listing and the sample, as in a
         * cgroup being removed. */
        char *cur = fx_path(tree, "a/b/memory.current");
        cr_assert_eq(unlink(cur), 0);
        free(cur);
        gd_sample s;
        memset(&s, 0, sizeof(s));
        int r = gd_watch_sample(&w, b, 1, &s);
        /* The fd kept open still reads the old content on a regular file:
         * that is a fixture artefact; on cgroupfs it is ENODEV. Either way
         * no error other than "gone" is reported. */
        cr_assert(r == 0 || r == -ENODEV || r == -ENOENT);
}

Test(watch, light_check_marks_cgroups_near_their_limit_hot) {
        cr_assert_gt(gd_watch_add_tree(&w, ""), 0);
        gd_watched *a = find("a");
        /* 1 MiB of 2 MiB: 50%, not hot */
        cr_assert_not(gd_watch_light_check(&w, a, 1000));
        cr_assert_eq(a->hot_until_ms, 0);
        fx_write(tree, "a/memory.current", "1900000\n");
        cr_assert(gd_watch_light_check(&w, a, 2000));
        cr_assert_gt(a->hot_until_ms, 2000);
        /* growth is measured over the window */
        fx_write(tree, "a/memory.current", "2000000\n");
        gd_watch_light_check(&w, a, 2000 + GD_GROWTH_WINDOW_MS);
        cr_assert_eq(a->growth, 2000000 - 1048576);
}

/* Each light check schedules the next: a small limit every tick, no limit
 * only when idle, until a limit is set (read again while it is "max"). */
Test(watch, light_check_schedules_the_next_look_from_the_headroom) {
        cr_assert_gt(gd_watch_add_tree(&w, ""), 0);
        gd_watched *a = find("a"), *b = find("a/b");
        gd_watch_light_check(&w, a, 1000);
        cr_assert_eq(a->next_look_ms, 1000 + GD_LOOK_MIN_MS, "2 MiB limit: every tick");
        w.look_min_ms = 500;
        gd_watch_light_check(&w, a, 2000);
        cr_assert_eq(a->next_look_ms, 2500, "the operator's poll_interval");
        cr_assert_eq(b->max, CG_UNLIMITED);
        gd_watch_light_check(&w, b, 1000);
        cr_assert_eq(b->next_look_ms, 1000 + GD_LOOK_IDLE_MS, "no limit: idle looks");
        fx_write(tree, "a/b/memory.max", "4194304\n");
        gd_watch_light_check(&w, b, 1000 + GD_LOOK_IDLE_MS);
        cr_assert_eq(b->max, 4194304, "a limit set since is found at the next look");
        cr_assert_eq(b->next_look_ms, 1000 + GD_LOOK_IDLE_MS + 500);
}

static pol_policy *policy_of(const char *yaml) {
        pol_policy *p = NULL;
        cr_assert_eq(pol_parse("test.yaml", yaml, strlen(yaml), &p, NULL), 0, "%s", yaml);
        return p;
}

/* The workload by path is looked up once per slot and policy: kept while
 * neither changes, looked up again after a reload and for a new cgroup in
 * a reused slot. */
Test(watch, workload_cached_per_slot_and_policy) {
        pol_policy *p1 = policy_of("version: 1\nworkloads:\n"
                                   "  - name: web\n    match:\n      cgroup: a\n");
        pol_policy *p2 = policy_of("version: 1\nworkloads:\n"
                                   "  - name: db\n    match:\n      cgroup: a/b\n");
        cr_assert_gt(gd_watch_add_tree(&w, ""), 0);
        gd_watched *a = find("a"), *b = find("a/b");

        cr_assert_null(gd_watch_workload(&w, a, NULL));
        const pol_workload *web = gd_watch_workload(&w, a, p1);
        cr_assert_not_null(web);
        cr_assert_str_eq(web->name, "web");
        cr_assert_null(gd_watch_workload(&w, b, p1));
        /* Kept: a forged answer comes back, so no lookup happened. */
        a->workload = NULL;
        cr_assert_null(gd_watch_workload(&w, a, p1));
        /* A reload, even to a policy at the same address, looks up again. */
        gd_watch_policy_changed(&w);
        cr_assert_eq(gd_watch_workload(&w, a, p1), web);

        gd_watch_policy_changed(&w);
        cr_assert_null(gd_watch_workload(&w, a, p2));
        const pol_workload *db = gd_watch_workload(&w, b, p2);
        cr_assert_not_null(db);
        cr_assert_str_eq(db->name, "db");

        /* a/b goes and a/e takes its slot: not a/b's workload. */
        size_t slot = (size_t)(b - w.slots);
        char *bcur = fx_path(tree, "a/b/memory.current"), *bpath = fx_path(tree, "a/b");
        cr_assert_eq(unlink(bcur), 0);
        cr_assert_eq(rmdir(bpath), 0);
        free(bcur);
        free(bpath);
        cr_assert_eq(gd_watch_handle_inotify(&w), 0);
        fx_mkdir(tree, "a/e");
        cr_assert_eq(gd_watch_handle_inotify(&w), 0);
        gd_watched *e = find("a/e");
        cr_assert_not_null(e);
        cr_assert_eq((size_t)(e - w.slots), slot, "the slot is reused");
        cr_assert_null(gd_watch_workload(&w, e, p2));
        pol_free(p1);
        pol_free(p2);
}

/* d/l2/.../lN below the fixture's root. */
static void deep_path(char *buf, size_t size, unsigned levels) {
        size_t n = (size_t)snprintf(buf, size, "d");
        for (unsigned i = 2; i <= levels && n < size; i++)
                n += (size_t)snprintf(buf + n, size - n, "/l%u", i);
}

/* Depth is no hiding place: below the cap (32 levels) nothing is watched
 * on its own, and the cgroup at the cap is marked to answer for it, at
 * start and for a subtree created later. */
Test(watch, a_subtree_below_the_depth_cap_answers_to_its_ancestor) {
        char p32[PATH_MAX], p35[PATH_MAX], p31[PATH_MAX];
        deep_path(p35, sizeof(p35), 35);
        deep_path(p32, sizeof(p32), 32);
        deep_path(p31, sizeof(p31), 31);
        fx_mkdir(tree, p35);

        cr_assert_gt(gd_watch_add_tree(&w, ""), 0);
        gd_watched *at_cap = find(p32);
        cr_assert_not_null(at_cap, "32 levels are watched");
        cr_assert(at_cap->unwatched_below, "it has children guardian does not watch");
        cr_assert_not(find(p31)->unwatched_below, "above the cap the tree is walked");
        char p33[PATH_MAX];
        deep_path(p33, sizeof(p33), 33);
        cr_assert_null(find(p33));

        /* Created later, below the cap: not watched, the ancestor answers. */
        at_cap->unwatched_below = false;
        cr_assert_eq(gd_watch_add_tree(&w, p33), 0);
        cr_assert_null(find(p33));
        cr_assert(find(p32)->unwatched_below);

        /* A leaf at the cap has nothing below it. */
        char q[PATH_MAX];
        deep_path(q, sizeof(q), 31);
        strncat(q, "/leaf", sizeof(q) - strlen(q) - 1);
        fx_mkdir(tree, q);
        cr_assert_eq(gd_watch_add_tree(&w, q), 1);
        cr_assert_not(find(q)->unwatched_below);
}

/* fds run out before cgroups do: past the budget a cgroup is not watched
 * on its own (its ancestor answers for it, and it is counted), and one
 * with processes or a limit takes the place of an empty one without. */
Test(watch, the_fd_budget_degrades_in_order) {
        gd_watch_set_fd_budget(&w, GD_WATCH_FD_RESERVE + 3 * GD_WATCH_FDS_PER_CGROUP);
        cr_assert_eq(w.max_watched, 3);
        cr_assert_eq(gd_watch_add_tree(&w, ""), 3, "the root, a, a/b");

        fx_mkdir(tree, "c");
        cr_assert_eq(gd_watch_add_tree(&w, "c"), 0, "an empty cgroup past the budget");
        cr_assert_null(find("c"));
        cr_assert_eq(w.n_unwatched, 1);
        cr_assert(find("")->unwatched_below, "the root answers for c");

        fx_write(tree, "d/memory.high", "1048576\n");
        cr_assert_eq(gd_watch_add_tree(&w, "d"), 1, "a cgroup with a limit gets a place");
        cr_assert_not_null(find("d"));
        cr_assert_null(find("a/b"), "the empty one without limits gave way");
        cr_assert_not_null(find("a"), "a has memory.max: kept");
        cr_assert(find("a")->unwatched_below, "a answers for a/b now");
        cr_assert_eq(w.n_watched, 3);
        cr_assert_eq(w.n_unwatched, 2);

        /* Nothing left to give way: e stays out. */
        fx_write(tree, "e/memory.max", "1048576\n");
        cr_assert_eq(gd_watch_add_tree(&w, "e"), 0);
        cr_assert_null(find("e"));

        /* The rescan recounts; too soon after the last, it does nothing. */
        cr_assert_eq(gd_watch_rescan(&w, GD_WATCH_RESCAN_MS + 1), 0);
        cr_assert_eq(w.n_unwatched, 3, "a/b, c and e");
        cr_assert_eq(gd_watch_rescan(&w, GD_WATCH_RESCAN_MS + 2), 0);
        cr_assert_eq(w.n_unwatched, 3);

        /* Room again (d removed): the next rescan fills it, and with one
         * worth watching whatever the order it walks them in. */
        gd_watch_remove(&w, (size_t)(find("d") - w.slots));
        cr_assert_geq(gd_watch_rescan(&w, 2 * GD_WATCH_RESCAN_MS + 2), 1);
        cr_assert_eq(w.n_watched, 3);
        cr_assert(find("d") || find("e"));
        cr_assert_null(find("a/b"));
        cr_assert_null(find("c"));
}

Test(watch, refused_directory_watches_are_counted_and_rescanned) {
        /* inotify refuses every watch (as at fs.inotify.max_user_watches:
         * ENOSPC; a non-inotify fd gives EINVAL): still watched through
         * their own files, and counted. */
        int real = w.inotify_fd;
        w.inotify_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        cr_assert_geq(w.inotify_fd, 0);
        cr_assert_eq(gd_watch_add_tree(&w, ""), 3);
        cr_assert_eq(w.n_no_dir_watch, 3);
        cr_assert_eq(w.watch_failures, 3);
        gd_watch_notice n;
        cr_assert(gd_watch_take_notice(&w, &n), "a notice kept for the daemon to say");
        cr_assert_eq(n.kind, GD_WATCH_NO_DIR_WATCH);
        cr_assert_eq(n.err, EINVAL);
        cr_assert_not(gd_watch_take_notice(&w, &n), "said once, not three times");
        cr_assert_eq(find("a")->wd, -1);

        /* Created below a cgroup without a watch: only a listing finds it. */
        fx_write(tree, "a/b/new/deeper/memory.current", "0\n");
        cr_assert_eq(gd_watch_retry_dir_watches(&w), 2);
        cr_assert_not_null(find("a/b/new"));
        cr_assert_not_null(find("a/b/new/deeper"));
        cr_assert_eq(w.n_no_dir_watch, 5);
        cr_assert_geq(w.watch_failures, 3 + 3 + 2, "every retry refused is counted");
        cr_assert_eq(gd_watch_retry_dir_watches(&w), 0, "nothing new, nothing added");

        /* A removed cgroup no longer counts as unwatched. */
        gd_watched *deeper = find("a/b/new/deeper");
        gd_watch_remove(&w, (size_t)(deeper - w.slots));
        cr_assert_eq(w.n_no_dir_watch, 4);

        /* The limit lifted: the retries get the watches back, and inotify
         * follows the children again. */
        close(w.inotify_fd);
        w.inotify_fd = real;
        uint64_t failures = w.watch_failures;
        cr_assert_eq(gd_watch_retry_dir_watches(&w), 1, "a/b/new/deeper found again by the listing");
        cr_assert_eq(w.n_no_dir_watch, 0);
        cr_assert_eq(w.watch_failures, failures);
        for (size_t i = 0; i < w.n_slots; i++)
                cr_assert(!w.slots[i].in_use || w.slots[i].wd >= 0, "%s", w.slots[i].rel);
        fx_mkdir(tree, "a/c");
        cr_assert_eq(gd_watch_handle_inotify(&w), 0);
        cr_assert_not_null(find("a/c"));
}

/* ---- the indexes (by path, by directory watch) and the stack of free
 * slots on a fixture tree of thousands of cgroups: whatever comes and
 * goes, each cgroup is found by its path and its wd, and nothing removed
 * is. Correctness only: what it costs is benchmarked
 * (tests/bench/cpu_bench.c, phase watch_add). ---- */

/* 50 parents of 100 children each: 5,050 cgroups below the root, paths
 * with and without a slash. */
#define PARENTS 50
#define CHILDREN 100
#define CGROUPS (PARENTS + PARENTS * CHILDREN)

static void rel_of(char *buf, size_t size, int p, int c) {
        if (c < 0)
                snprintf(buf, size, "p%02d", p);
        else
                snprintf(buf, size, "p%02d/c%03d", p, c);
}

static void setup_many(void) {
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

TestSuite(watch_index, .init = setup_many, .fini = teardown, .timeout = 120);

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
