/* cgroup/cgns.c: placing /proc/PID/cgroup paths read inside a private
 * cgroup namespace in the watched tree, fed literals. */
#include "cgroup/cgns.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

/* Arrays, not pointers: Criterion copies parameters into the test process. */
struct ns_case {
        char root[64];
        char path[64];
        int want;
        char out[64];
};

ParameterizedTestParameters(cgns, path_from_ns) {
        static struct ns_case cases[] = {
                /* The namespace is the tree's: paths as they are. */
                {"", "/", 0, "/"},
                {"/", "/a/b", 0, "/a/b"},
                /* guardian's own cgroup, and one below it. */
                {"/kubepods.slice/pod1/ctr", "/", 0, "/kubepods.slice/pod1/ctr"},
                {"/kubepods.slice/pod1/ctr", "/sub", 0, "/kubepods.slice/pod1/ctr/sub"},
                /* What containerd's namespace shows for the neighbours. */
                {"/kubepods.slice/pod1/ctr", "/..", 0, "/kubepods.slice/pod1"},
                {"/kubepods.slice/pod1/ctr", "/../ctr2", 0, "/kubepods.slice/pod1/ctr2"},
                {"/kubepods.slice/pod1/ctr", "/../../pod2/x", 0, "/kubepods.slice/pod2/x"},
                {"/kubepods.slice/pod1/ctr", "/../../..", 0, "/"},
                {"/kubepods.slice/pod1/ctr", "/../../../init.scope", 0, "/init.scope"},
                /* "." and doubled slashes; a root without its leading slash. */
                {"a//b/", "/./c//d/", 0, "/a/b/c/d"},
                {"/a", "/b/../c", 0, "/a/c"},
                /* Above the tree's root: not in the tree, never a match. */
                {"/kubepods.slice/pod1/ctr", "/../../../..", -EINVAL, ""},
                {"/", "/..", -EINVAL, ""},
                {"", "/a/../..", -EINVAL, ""},
                {"/a", "/../../a", -EINVAL, ""},
                /* Not a /proc path; a root that is not a tree path. */
                {"/a", "", -EINVAL, ""},
                {"/a", "b", -EINVAL, ""},
                {"/a/../b", "/", -EINVAL, ""},
        };
        return cr_make_param_array(struct ns_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ns_case *c, cgns, path_from_ns) {
        char out[PATH_MAX] = "untouched";

        cr_assert_eq(cg_path_from_ns(c->root, c->path, out, sizeof(out)), c->want, "%s + %s",
                     c->root, c->path);
        cr_assert_str_eq(out, c->want == 0 ? c->out : "untouched", "%s + %s", c->root, c->path);
}

Test(cgns, path_from_ns_too_long) {
        char small[8] = "x";

        cr_assert_eq(cg_path_from_ns("/abc", "/defgh", small, sizeof(small)), -ENAMETOOLONG);
        cr_assert_str_eq(small, "x");
        cr_assert_eq(cg_path_from_ns("/abc", "/defg/..", small, sizeof(small)), 0);
        cr_assert_str_eq(small, "/abc");
        cr_assert_eq(cg_path_from_ns("/", "/", small, 1), -ENAMETOOLONG);
}

Test(cgns, path_from_ns_null) {
        char out[16];

        cr_assert_eq(cg_path_from_ns(NULL, "/", out, sizeof(out)), -EINVAL);
        cr_assert_eq(cg_path_from_ns("/", NULL, out, sizeof(out)), -EINVAL);
        cr_assert_eq(cg_path_from_ns("/", "/", NULL, sizeof(out)), -EINVAL);
}

ParameterizedTestParameters(cgns, ns_root_from) {
        static struct ns_case cases[] = {
                /* root = tree path, path = /proc/self/cgroup. */
                {"/kubepods.slice/pod1/ctr", "/", 0, "/kubepods.slice/pod1/ctr"},
                {"/gd-pod", "/", 0, "/gd-pod"},
                {"/", "/", 0, "/"},
                {"/a/b/c", "/c", 0, "/a/b"},
                {"/a/b/c", "/b/c", 0, "/a"},
                {"/a/b/c", "/a/b/c", 0, "/"},
                {"/a/b/c/", "//b/./c", 0, "/a"},
                /* Not its end; a component's end is not enough. */
                {"/a/b/c", "/x", -EINVAL, ""},
                {"/ab/c", "/b/c", -EINVAL, ""},
                {"/a", "/a/b", -EINVAL, ""},
                /* Moved above the namespace root: the root cannot be told. */
                {"/a/b", "/../b", -EINVAL, ""},
                {"/a/../b", "/", -EINVAL, ""},
                {"/a", "a", -EINVAL, ""},
        };
        return cr_make_param_array(struct ns_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ns_case *c, cgns, ns_root_from) {
        char out[PATH_MAX] = "untouched";

        cr_assert_eq(cg_ns_root_from(c->root, c->path, out, sizeof(out)), c->want, "%s, %s",
                     c->root, c->path);
        cr_assert_str_eq(out, c->want == 0 ? c->out : "untouched", "%s, %s", c->root, c->path);
}

/* The two agree: guardian's own /proc path, placed through the root found
 * from it, is its tree path again. */
Test(cgns, round_trip) {
        char root[PATH_MAX], back[PATH_MAX];

        cr_assert_eq(cg_ns_root_from("/k/pod/ctr/svc", "/svc", root, sizeof(root)), 0);
        cr_assert_str_eq(root, "/k/pod/ctr");
        cr_assert_eq(cg_path_from_ns(root, "/svc", back, sizeof(back)), 0);
        cr_assert_str_eq(back, "/k/pod/ctr/svc");
        cr_assert_eq(cg_path_from_ns(root, "/../../other", back, sizeof(back)), 0);
        cr_assert_str_eq(back, "/k/other");
}
