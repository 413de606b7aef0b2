/* The one tree walk (cgroup/walk.c) on fixture trees: pre-order, children
 * in inode order (creation order on cgroupfs), a visitor that skips, stops or fails, the depth cap,
 * and every place the walk cannot go reported with its path: a child gone
 * since the listing, a cgroup removed under the walk, a name too long. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/walk.h"
#include "tests/lib/fixture.h"

/* What the walk did: "v:rel@depth" per visit, "t<kind>:rel/name(err)" per
 * trouble, space-separated. */
static char trace[4 * PATH_MAX];
static char *dir;
static const char *skip_at, *stop_at, *fail_at, *remove_at, *remove_what;

static void note(const char *what) {
        strncat(trace, what, sizeof(trace) - strlen(trace) - 1);
        strncat(trace, " ", sizeof(trace) - strlen(trace) - 1);
}

static int visit(void *userdata, int cgfd, const char *rel, unsigned depth) {
        char buf[PATH_MAX + 32];
        snprintf(buf, sizeof(buf), "v:%s@%u", rel, depth);
        note(buf);
        if (remove_at && !strcmp(rel, remove_at)) {
                char *p = fx_path(dir, remove_what);
                cr_assert_eq(rmdir(p), 0);
                free(p);
        }
        if (skip_at && !strcmp(rel, skip_at))
                return CG_WALK_SKIP;
        if (stop_at && !strcmp(rel, stop_at))
                return CG_WALK_STOP;
        if (fail_at && !strcmp(rel, fail_at))
                return -ENOMEM;
        return CG_WALK_DESCEND;
}

static void trouble(void *userdata, cg_walk_trouble what, const char *rel, const char *name,
                    int err) {
        char buf[PATH_MAX + 64];
        snprintf(buf, sizeof(buf), "t%d:%s/%s(%d)", (int)what, rel, name ? name : "", err);
        note(buf);
}

static const cg_walk_visitor visitor = {.visit = visit, .trouble = trouble, .max_depth = 8};

static void setup(void) {
        trace[0] = 0;
        skip_at = stop_at = fail_at = remove_at = remove_what = NULL;
        dir = fx_tmpdir();
                fx_mkdir(dir, "a");
        fx_mkdir(dir, "b");
        fx_mkdir(dir, "a/x");
        fx_mkdir(dir, "a/y");
        fx_mkdir(dir, "a/x/deep");
        fx_write(dir, "a/memory.current", "0\n"); /* a file: not a child */
}

static void teardown(void) {
        fx_rmtree(dir);
        free(dir);
}

TestSuite(cgroup_walk, .init = setup, .fini = teardown);

static int walk_root(unsigned max_depth) {
        cg_walk_visitor v = visitor;
        v.max_depth = max_depth;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(fd >= 0);
        int r = cg_walk(fd, "", 0, &v);
        close(fd);
        return r;
}

/* Does p come before its sibling q (inode order, as the kernel walks)? */
static bool first_by_inode(const char *p, const char *q) {
        struct stat a, b;
        char *pa = fx_path(dir, p), *pb = fx_path(dir, q);
        cr_assert_eq(stat(pa, &a), 0);
        cr_assert_eq(stat(pb, &b), 0);
        free(pa);
        free(pb);
        return a.st_ino < b.st_ino;
}

/* The pre-order of the fixture tree, x's subtree given. */
static void expected(const char *x, char *buf, size_t size) {
        char sub_a[256];
        const char *y = "v:a/y@2 ";
        snprintf(sub_a, sizeof(sub_a), "v:a@1 %s%s", first_by_inode("a/x", "a/y") ? x : y,
                 first_by_inode("a/x", "a/y") ? y : x);
        snprintf(buf, size, "v:@0 %s%s", first_by_inode("a", "b") ? sub_a : "v:b@1 ",
                 first_by_inode("a", "b") ? "v:b@1 " : sub_a);
}

static bool has(const char *what) {
        return strstr(trace, what) != NULL;
}

Test(cgroup_walk, pre_order_in_inode_order) {
        char want[512];
        expected("v:a/x@2 v:a/x/deep@3 ", want, sizeof(want));
        cr_assert_eq(walk_root(8), 0);
        cr_assert_str_eq(trace, want);
}

Test(cgroup_walk, a_skipped_cgroup_hides_its_subtree_only) {
        char want[512];
        expected("v:a/x@2 ", want, sizeof(want));
        skip_at = "a/x";
        cr_assert_eq(walk_root(8), 0);
        cr_assert_str_eq(trace, want);
}

Test(cgroup_walk, a_stop_ends_the_whole_walk) {
        stop_at = "a/x/deep";
        cr_assert_eq(walk_root(8), CG_WALK_STOP);
        /* Nothing after it. */
        const char *end = strstr(trace, "v:a/x/deep@3 ");
        cr_assert(end && !end[strlen("v:a/x/deep@3 ")], "%s", trace);
}

Test(cgroup_walk, a_visitors_error_ends_the_walk_and_is_returned) {
        fail_at = "a/x";
        cr_assert_eq(walk_root(8), -ENOMEM);
        const char *end = strstr(trace, "v:a/x@2 ");
        cr_assert(end && !end[strlen("v:a/x@2 ")], "%s", trace);
}

Test(cgroup_walk, the_depth_cap_is_reported_where_children_are_cut) {
        cr_assert_eq(walk_root(2), 0);
        /* a/x has a child at the cap: reported; a/y has none: silent. */
        cr_assert(has("v:a/x@2 t1:a/x/(0) ") && !has("deep") && !has("t1:a/y"), "%s", trace);
        cr_assert(has("v:a/y@2 ") && has("v:b@1 "), "%s", trace);
}

Test(cgroup_walk, a_child_removed_since_the_listing_is_reported) {
        fx_mkdir(dir, "c/p");
        fx_mkdir(dir, "c/q");
        bool p_first = first_by_inode("c/p", "c/q");
        remove_at = p_first ? "c/p" : "c/q";
        remove_what = p_first ? "c/q" : "c/p";
        cr_assert_eq(walk_root(8), 0);
        char want[128];
        snprintf(want, sizeof(want), "v:%s@2 t3:c/%s(%d) ", remove_at, remove_what + 2, -ENOENT);
        cr_assert(has(want), "%s lacks %s", trace, want);
}

Test(cgroup_walk, a_cgroup_removed_under_the_walk_cannot_be_listed) {
        /* Visited while it exists, removed before its children are listed. */
        remove_at = "a/y";
        remove_what = "a/y";
        cr_assert_eq(walk_root(8), 0);
        char want[128];
        snprintf(want, sizeof(want), "v:a/y@2 t0:a/y/(%d) ", -ENOENT);
        cr_assert(has(want) && has("v:b@1 ") && has("v:a/x/deep@3 "), "%s", trace);
}

Test(cgroup_walk, a_path_past_path_max_is_reported_not_cut) {
        /* The walk starts at a (real) directory given a long name: its
         * children's paths do not fit. */
        char rel[PATH_MAX];
        memset(rel, 'r', PATH_MAX - 2); /* rel + "/x" is PATH_MAX long: no room for the NUL */
        rel[PATH_MAX - 2] = '\0';
        char *a = fx_path(dir, "a");
        int fd = open(a, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(a);
        cr_assert(fd >= 0);
        cr_assert_eq(cg_walk(fd, rel, 1, &visitor), 0);
        close(fd);
        char want[2 * PATH_MAX];
        snprintf(want, sizeof(want), "v:%s@1 t2:", rel);
        cr_assert_eq(strncmp(trace, want, strlen(want)), 0);
        snprintf(want, sizeof(want), "t2:%s/x(%d) ", rel, -ENAMETOOLONG);
        cr_assert(has(want));
        snprintf(want, sizeof(want), "t2:%s/y(%d) ", rel, -ENAMETOOLONG);
        cr_assert(has(want));
        cr_assert_eq(strlen(trace), strlen(rel) * 3 + 2 * strlen(" t2:/x(-36)") + strlen("v:@1 "));
}
