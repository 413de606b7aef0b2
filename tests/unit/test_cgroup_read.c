/* cgroup/cgroup.c: the readers and writes on temporary fixture trees,
 * discovery and path normalisation. The pure parsers are in
 * test_cgroup_parse.c. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/host.h"
#include "tests/lib/fixture.h"

/* ================================================================
 * cgroup_read: readers and writes on a temporary fixture tree
 * ================================================================ */

static char *tree;   /* per test: each Criterion test runs in its own process */
static int treefd = -1;

static void tree_setup(void) {
        tree = fx_tmpdir();
        treefd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(treefd >= 0);
}

static void tree_teardown(void) {
        if (treefd >= 0)
                close(treefd);
        treefd = -1;
        if (tree)
                fx_rmtree(tree);
        free(tree);
        tree = NULL;
}

/* Criterion runs no .fini for a skipped test: clean up first. */
#define tree_skip(...)                          \
        do {                                    \
                tree_teardown();                \
                cr_skip_test(__VA_ARGS__);      \
        } while (0)

/* Copy the checked-in fixture file into the tree as dst. */
static void tree_copy(const char *fixture, const char *dst) {
        size_t len;
        char *buf = fx_read_fixture(fixture, &len);

        fx_write_bytes(tree, dst, buf, len);
        free(buf);
}

/* Lay out the captured "limited" cgroup as tree/<dir>. */
static int tree_limited_cgroup(const char *dir) {
        static const char *const files[] = {
                "memory.events", "memory.events.local", "memory.pressure", "memory.stat",
                "memory.max", "memory.high", "memory.current", "memory.swap.max",
                "cgroup.events", "cgroup.controllers", "cgroup.procs",
        };
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
                char src[256], dst[256];
                snprintf(src, sizeof src, "cgroup/limited/%s", files[i]);
                snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
                tree_copy(src, dst);
        }
        int fd = openat(treefd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(fd >= 0);
        return fd;
}

TestSuite(cgroup_read, .init = tree_setup, .fini = tree_teardown);

Test(cgroup_read, file_present) {
        char buf[64];

        memset(buf, 'x', sizeof buf);
        fx_write(tree, "memory.max", "67108864\n");
        cr_assert_eq(cg_read_file_at(treefd, "memory.max", buf, sizeof buf), 9);
        cr_expect_str_eq(buf, "67108864\n");

        fx_write(tree, "empty", "");
        cr_expect_eq(cg_read_file_at(treefd, "empty", buf, sizeof buf), 0);
        cr_expect_str_eq(buf, "");

        fx_write(tree, "a/b/c", "deep");
        cr_expect_eq(cg_read_file_at(treefd, "a/b/c", buf, sizeof buf), 4);
}

Test(cgroup_read, file_missing) {
        char buf[64];

        cr_expect_eq(cg_read_file_at(treefd, "memory.max", buf, sizeof buf), -ENOENT);
        cr_expect_eq(cg_read_file_at(treefd, "gone/memory.max", buf, sizeof buf), -ENOENT);
        fx_mkdir(tree, "dir");
        cr_expect_eq(cg_read_file_at(treefd, "dir", buf, sizeof buf), -EISDIR);
        cr_expect_eq(cg_read_file_at(treefd, "dir", buf, 0), -EINVAL, "no room for the NUL");
}

Test(cgroup_read, file_too_big) {
        char *buf = malloc(CG_FILE_MAX);
        char *big = malloc(CG_FILE_MAX + 1);

        cr_assert(buf && big);
        memset(big, '7', CG_FILE_MAX + 1);
        /* size - 1 bytes fit with the NUL; size bytes do not. */
        fx_write_bytes(tree, "fits", big, CG_FILE_MAX - 1);
        fx_write_bytes(tree, "big", big, CG_FILE_MAX);
        fx_write_bytes(tree, "bigger", big, CG_FILE_MAX + 1);
        cr_expect_eq(cg_read_file_at(treefd, "fits", buf, CG_FILE_MAX), CG_FILE_MAX - 1);
        cr_expect_eq(buf[CG_FILE_MAX - 1], '\0');
        cr_expect_eq(cg_read_file_at(treefd, "big", buf, CG_FILE_MAX), -EFBIG);
        cr_expect_eq(cg_read_file_at(treefd, "bigger", buf, CG_FILE_MAX), -EFBIG);

        char small[4];
        fx_write(tree, "three", "abc");
        fx_write(tree, "four", "abcd");
        cr_expect_eq(cg_read_file_at(treefd, "three", small, sizeof small), 3);
        cr_expect_eq(cg_read_file_at(treefd, "four", small, sizeof small), -EFBIG);
        cr_expect_eq(cg_read_file_at(treefd, "three", small, 1), -EFBIG);
        free(buf);
        free(big);
}

/* A pipe hands over what was written so far: the reader must go on to
 * EOF, not parse the first chunk (which here ends inside a line). */
Test(cgroup_read, short_reads) {
        static const char *const parts[] = { "low 1\nhigh 2\n", "max 3\noom", " 4\noom_kill 5\n" };
        char *fifo = fx_path(tree, "memory.events");
        cg_memory_events ev = { 0 };
        int status;

        cr_assert_eq(mkfifo(fifo, 0600), 0);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
                int fd = open(fifo, O_WRONLY | O_CLOEXEC);
                for (size_t i = 0; fd >= 0 && i < sizeof parts / sizeof parts[0]; i++) {
                        if (write(fd, parts[i], strlen(parts[i])) < 0)
                                _exit(2);
                        usleep(20000);
                }
                _exit(fd < 0);
        }
        int r = cg_read_memory_events(treefd, false, &ev);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        cr_assert_eq(r, 0);
        cr_expect_eq(ev.low, 1);
        cr_expect_eq(ev.max, 3);
        cr_expect_eq(ev.oom, 4);
        cr_expect_eq(ev.oom_kill, 5);
        free(fifo);
}

/* The hot path: one fd, re-read at offset 0 after the file changed. */
Test(cgroup_read, pread_kept_open) {
        char buf[128];
        cg_memory_events ev;

        fx_write(tree, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
        int fd = openat(treefd, "memory.events", O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0);
        ssize_t n = cg_pread_file(fd, buf, sizeof buf);
        cr_assert_eq(n, 53);
        cr_assert_eq(cg_parse_memory_events(buf, (size_t)n, &ev), 0);
        cr_expect_eq(ev.oom_kill, 0);

        fx_write(tree, "memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n");
        n = cg_pread_file(fd, buf, sizeof buf);
        cr_assert_eq(n, 54);
        cr_assert_eq(cg_parse_memory_events(buf, (size_t)n, &ev), 0);
        cr_expect_eq(ev.max, 12);
        cr_expect_eq(ev.oom_kill, 1);

        char small[16];
        cr_expect_eq(cg_pread_file(fd, small, sizeof small), -EFBIG);
        close(fd);
        cr_expect_eq(cg_pread_file(fd, buf, sizeof buf), -EBADF);
}

/* A short pread ends the read: a value that fits whole, one that fills
 * the buffer exactly (the probe byte says it ends there) and one a byte
 * too long, on a kept-open fd re-read as the file changes. */
Test(cgroup_read, pread_short_read_is_the_end) {
        char small[16];
        int fd;

        fx_write(tree, "memory.current", "1234\n");
        fd = openat(treefd, "memory.current", O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0);
        cr_expect_eq(cg_pread_file(fd, small, sizeof small), 5);
        cr_expect_str_eq(small, "1234\n");
        fx_write(tree, "memory.current", "12345678901234\n");
        cr_expect_eq(cg_pread_file(fd, small, sizeof small), 15);
        cr_expect_str_eq(small, "12345678901234\n");
        fx_write(tree, "memory.current", "123456789012345\n");
        cr_expect_eq(cg_pread_file(fd, small, sizeof small), -EFBIG);
        fx_write(tree, "memory.current", "");
        cr_expect_eq(cg_pread_file(fd, small, sizeof small), 0);
        close(fd);
}

Test(cgroup_read, typed_readers) {
        int cg = tree_limited_cgroup("fxlimited");
        uint64_t v = 0;
        cg_memory_events ev, local;
        cg_psi psi;
        cg_memory_stat st;
        cg_cgroup_events cev = { 0 };

        cr_expect_eq(cg_read_u64_or_max(cg, "memory.max", &v), 0);
        cr_expect_eq(v, 64 << 20);
        cr_expect_eq(cg_read_u64_or_max(cg, "memory.swap.max", &v), 0);
        cr_expect_eq(v, 0);
        cr_expect_eq(cg_read_u64_or_max(cg, "memory.current", &v), 0);
        cr_expect_eq(v, 56750080);
        cr_expect_eq(cg_read_memory_events(cg, false, &ev), 0);
        cr_expect_eq(cg_read_memory_events(cg, true, &local), 0);
        cr_expect_eq(ev.high, 37);
        cr_expect_eq(local.high, 37);
        cr_expect_eq(cg_read_psi(cg, &psi), 0);
        cr_expect_eq(psi.some.total_us, 2428494);
        cr_expect_eq(cg_read_memory_stat(cg, &st), 0);
        cr_expect_eq(st.anon, 51900416);
        cr_expect_eq(cg_read_cgroup_events(cg, &cev), 0);
        cr_expect(cev.populated);
        cr_expect_eq(cg_has_controller(cg, "memory"), 1);
        cr_expect_eq(cg_has_controller(cg, "rdma"), 0);
        close(cg);

        /* Each reader names its own file: memory.events.local is not memory.events. */
        fx_write(tree, "only/memory.events.local", "oom_kill 4\n");
        cg = openat(treefd, "only", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(cg >= 0);
        cr_expect_eq(cg_read_memory_events(cg, false, &ev), -ENOENT);
        cr_expect_eq(cg_read_memory_events(cg, true, &ev), 0);
        cr_expect_eq(ev.oom_kill, 4);
        close(cg);
}

/* The root cgroup has no memory.max; a removed cgroup has nothing. */
Test(cgroup_read, typed_readers_missing) {
        uint64_t v = 99;
        cg_memory_events ev = { .oom = 99 };
        cg_psi psi = { .has_full = true };
        cg_memory_stat st = { .anon = 99 };
        cg_cgroup_events cev = { .populated = true };

        cr_expect_eq(cg_read_u64_or_max(treefd, "memory.max", &v), -ENOENT);
        cr_expect_eq(cg_read_memory_events(treefd, false, &ev), -ENOENT);
        cr_expect_eq(cg_read_memory_events(treefd, true, &ev), -ENOENT);
        cr_expect_eq(cg_read_psi(treefd, &psi), -ENOENT);
        cr_expect_eq(cg_read_memory_stat(treefd, &st), -ENOENT);
        cr_expect_eq(cg_read_cgroup_events(treefd, &cev), -ENOENT);
        cr_expect_eq(cg_has_controller(treefd, "memory"), -ENOENT);
        cr_expect(v == 99 && ev.oom == 99 && psi.has_full && st.anon == 99 && cev.populated,
                  "outputs touched on failure");
}

Test(cgroup_read, typed_readers_garbage) {
        uint64_t v = 99;
        cg_memory_events ev = { .oom = 99 };
        cg_psi psi = { .has_full = true };
        cg_memory_stat st = { .anon = 99 };
        cg_cgroup_events cev = { .populated = true };

        fx_write(tree, "memory.max", "lots\n");
        fx_write(tree, "memory.events", "oom -1\n");
        fx_write(tree, "memory.pressure", "some avg10=0.00\n");
        fx_write(tree, "memory.stat", "anon 18446744073709551616\n");
        fx_write(tree, "cgroup.events", "frozen 0\n");
        cr_expect_eq(cg_read_u64_or_max(treefd, "memory.max", &v), -EBADMSG);
        cr_expect_eq(cg_read_memory_events(treefd, false, &ev), -EBADMSG);
        cr_expect_eq(cg_read_psi(treefd, &psi), -EBADMSG);
        cr_expect_eq(cg_read_memory_stat(treefd, &st), -EBADMSG);
        cr_expect_eq(cg_read_cgroup_events(treefd, &cev), -EBADMSG);
        cr_expect(v == 99 && ev.oom == 99 && psi.has_full && st.anon == 99 && cev.populated,
                  "outputs touched on failure");

        /* Bigger than CG_FILE_MAX: -EFBIG, not a truncated parse. */
        size_t n = CG_FILE_MAX + 10;
        char *big = malloc(n);
        cr_assert(big);
        memset(big, '1', n);
        fx_write_bytes(tree, "memory.current", big, n);
        cr_expect_eq(cg_read_u64_or_max(treefd, "memory.current", &v), -EFBIG);
        free(big);
}

Test(cgroup_read, pids_many) {
        /* Well past the reader's first 4 KiB buffer and CG_FILE_MAX. */
        enum { N = 5000 };
        size_t cap = N * 8 + 1, len = 0;
        char *buf = malloc(cap);
        pid_t *pids = NULL;
        size_t n = 0;

        cr_assert(buf);
        for (int i = 0; i < N; i++)
                len += (size_t)snprintf(buf + len, cap - len, "%d\n", 100000 + i * 7);
        cr_assert_gt(len, CG_FILE_MAX);
        fx_write_bytes(tree, "cg/cgroup.procs", buf, len);
        free(buf);

        int cg = openat(treefd, "cg", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(cg >= 0);
        cr_assert_eq(cg_read_pids(cg, &pids, &n), 0);
        cr_assert_eq(n, N);
        for (int i = 0; i < N; i++)
                cr_assert_eq(pids[i], 100000 + i * 7, "pid %d", i);
        free(pids);
        close(cg);
}

Test(cgroup_read, pids_edge) {
        pid_t *pids = (pid_t *)&treefd; /* sentinel: must stay on failure */
        size_t n = 42;

        cr_expect_eq(cg_read_pids(treefd, &pids, &n), -ENOENT);
        cr_expect(pids == (pid_t *)&treefd && n == 42, "outputs touched on failure");

        fx_write(tree, "cgroup.procs", "12\nx\n");
        cr_expect_eq(cg_read_pids(treefd, &pids, &n), -EBADMSG);
        cr_expect(pids == (pid_t *)&treefd && n == 42, "outputs touched on failure");

        fx_write(tree, "cgroup.procs", "");
        cr_assert_eq(cg_read_pids(treefd, &pids, &n), 0);
        cr_expect_eq(n, 0);
        cr_expect_not_null(pids, "never NULL on success");
        free(pids);

        tree_copy("cgroup/limited/cgroup.procs", "cgroup.procs");
        cr_assert_eq(cg_read_pids(treefd, &pids, &n), 0);
        cr_expect_eq(n, 1);
        cr_expect_eq(pids[0], 157);
        free(pids);
}

static int compare_ino(const void *a, const void *b) {
        const struct {
                ino_t ino;
                const char *name;
        } *x = a, *y = b;
        return x->ino < y->ino ? -1 : x->ino > y->ino;
}

Test(cgroup_read, list_children_by_inode) {
        /* Created out of name order; plus things that are not cgroups. */
        static const char *const dirs[] = { "zeta", "alpha", "mid.scope", "b", "system.slice" };
        enum { N = sizeof dirs / sizeof dirs[0] };
        struct {
                ino_t ino;
                const char *name;
        } want[N];

        for (size_t i = 0; i < N; i++) {
                struct stat st;
                fx_mkdir(tree, dirs[i]);
                fx_write(tree, "memory.stat", "anon 0\n"); /* a file between dirs */
                cr_assert_eq(fstatat(treefd, dirs[i], &st, 0), 0);
                want[i].ino = st.st_ino;
                want[i].name = dirs[i];
        }
        fx_write(tree, "alpha/cgroup.procs", "");
        cr_assert_eq(symlinkat("alpha", treefd, "link-to-dir"), 0);
        qsort(want, N, sizeof want[0], compare_ino);

        char **names = NULL;
        size_t n = 0;
        cr_assert_eq(cg_list_children(treefd, &names, &n), 0);
        cr_assert_eq(n, N);
        for (size_t i = 0; i < N; i++)
                cr_expect_str_eq(names[i], want[i].name, "position %zu", i);
        cg_free_names(names, n);

        /* cgfd itself is left alone: still usable, offset untouched. */
        cr_expect_eq(fcntl(treefd, F_GETFD), FD_CLOEXEC);
}

Test(cgroup_read, list_children_edge) {
        char **names = NULL;
        size_t n = 99;

        cr_assert_eq(cg_list_children(treefd, &names, &n), 0);
        cr_expect_eq(n, 0);
        cr_expect_not_null(names);
        cg_free_names(names, n);
        cg_free_names(NULL, 0);

        /* A cgroup removed under us: openat/readdir fail as "gone". */
        fx_mkdir(tree, "gone");
        int fd = openat(treefd, "gone", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(fd >= 0);
        cr_assert_eq(unlinkat(treefd, "gone", AT_REMOVEDIR), 0);
        names = (char **)&n;
        n = 7;
        int r = cg_list_children(fd, &names, &n);
        cr_expect(cg_is_gone(r), "got %d", r);
        cr_expect(names == (char **)&n && n == 7, "outputs touched on failure");
        close(fd);

        /* A file is not a directory. */
        fx_write(tree, "file", "");
        fd = openat(treefd, "file", O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0);
        cr_expect_eq(cg_list_children(fd, &names, &n), -ENOTDIR);
        close(fd);
}

Test(cgroup_read, kill_and_freeze) {
        fx_write(tree, "cgroup.kill", "");
        fx_write(tree, "cgroup.freeze", "");

        cr_assert_eq(cg_kill(treefd), 0);
        char *s = fx_read(tree, "cgroup.kill", NULL);
        cr_expect_str_eq(s, "1");
        free(s);

        cr_assert_eq(cg_freeze(treefd, true), 0);
        s = fx_read(tree, "cgroup.freeze", NULL);
        cr_expect_str_eq(s, "1");
        free(s);

        cr_assert_eq(cg_freeze(treefd, false), 0);
        s = fx_read(tree, "cgroup.freeze", NULL);
        cr_expect_str_eq(s, "0");
        free(s);
}

/* A kernel without cgroup.kill (< 5.14): -ENOENT, and no file appears. */
Test(cgroup_read, kill_missing) {
        cr_expect_eq(cg_kill(treefd), -ENOENT);
        cr_expect_eq(cg_freeze(treefd, true), -ENOENT);
        cr_expect_eq(faccessat(treefd, "cgroup.kill", F_OK, 0), -1);
        cr_expect_eq(faccessat(treefd, "cgroup.freeze", F_OK, 0), -1);

        fx_mkdir(tree, "cgroup.freeze");
        cr_expect_eq(cg_freeze(treefd, true), -EISDIR);
}

/* ================================================================
 * cgroup_root: discovery
 * ================================================================ */

TestSuite(cgroup_root, .init = tree_setup, .fini = tree_teardown);

static cg_root untouched_root(void) {
        cg_root r;
        memset(&r, 0, sizeof r);
        strcpy(r.path, "untouched");
        r.mode = CG_MODE_HYBRID;
        return r;
}

Test(cgroup_root, explicit_fixture) {
        cg_root root;

        tree_copy("cgroup/root/cgroup.controllers", "cgroup.controllers");
        cr_assert_eq(cg_root_find(tree, "/nonexistent/mountinfo", &root), 0);
        cr_expect_str_eq(root.path, tree);
        cr_expect_eq(root.mode, CG_MODE_OTHER);
        cr_expect(root.has_memory);

        /* Trailing slashes go: the path is joined with relative ones later. */
        char *slashed = fx_path(tree, "/");
        cr_assert_eq(cg_root_find(slashed, NULL, &root), 0);
        cr_expect_str_eq(root.path, tree);
        free(slashed);

        fx_write(tree, "cgroup.controllers", "cpu io pids\n");
        cr_assert_eq(cg_root_find(tree, NULL, &root), 0);
        cr_expect(!root.has_memory);
}

Test(cgroup_root, explicit_not_cgroup) {
        cg_root root = untouched_root();

        fx_write(tree, "plain/memory.stat", "anon 0\n");
        fx_mkdir(tree, "dirctl/cgroup.controllers");
        fx_write(tree, "afile", "");

        char *p = fx_path(tree, "plain");
        cr_expect_eq(cg_root_find(p, NULL, &root), -ENOTDIR);
        free(p);
        p = fx_path(tree, "dirctl");
        cr_expect_eq(cg_root_find(p, NULL, &root), -ENOTDIR, "cgroup.controllers must be a file");
        free(p);
        p = fx_path(tree, "afile");
        cr_expect_eq(cg_root_find(p, NULL, &root), -ENOTDIR);
        free(p);
        p = fx_path(tree, "missing");
        cr_expect_eq(cg_root_find(p, NULL, &root), -ENOENT);
        free(p);
        cr_expect_str_eq(root.path, "untouched");
        cr_expect_eq(root.mode, CG_MODE_HYBRID);
}

static bool is_cgroup2_path(const char *path) {
        struct statfs sfs;
        return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* A real cgroup2 mount, if this machine has one, is accepted as it is. */
Test(cgroup_root, explicit_real_mount) {
        const char *mnt = is_cgroup2_path("/sys/fs/cgroup") ? "/sys/fs/cgroup"
                          : is_cgroup2_path("/sys/fs/cgroup/unified") ? "/sys/fs/cgroup/unified"
                                                                       : NULL;
        if (!mnt)
                tree_skip("no cgroup2 mount on this machine");

        cg_root root;
        cr_assert_eq(cg_root_find(mnt, NULL, &root), 0);
        cr_expect_str_eq(root.path, mnt);
        cr_expect_eq(root.mode, CG_MODE_OTHER);
}

/* Autodetection: the two default places first, the mountinfo last. The
 * expectation follows this machine, whatever it is. */
Test(cgroup_root, autodetect) {
        /* A cgroup2-like tree whose mount point needs escaping in mountinfo. */
        fx_write(tree, "my cgroup/cgroup.controllers", "cpu memory pids\n");
        char *mi;
        cr_assert(asprintf(&mi,
                           "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                           "30 22 0:26 / %s/my\\040cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw\n",
                           tree) >= 0);
        fx_write(tree, "mountinfo", mi);
        free(mi);
        char *mipath = fx_path(tree, "mountinfo");

        cg_root root;
        cr_assert_eq(cg_root_find(NULL, mipath, &root), 0);
        if (is_cgroup2_path("/sys/fs/cgroup")) {
                cr_expect_str_eq(root.path, "/sys/fs/cgroup");
                cr_expect_eq(root.mode, CG_MODE_UNIFIED);
        } else if (is_cgroup2_path("/sys/fs/cgroup/unified")) {
                cr_expect_str_eq(root.path, "/sys/fs/cgroup/unified");
                cr_expect_eq(root.mode, CG_MODE_HYBRID);
        } else {
                char *want = fx_path(tree, "my cgroup");
                cr_expect_str_eq(root.path, want);
                cr_expect_eq(root.mode, CG_MODE_OTHER);
                cr_expect(root.has_memory);
                free(want);
        }
        if (root.mode != CG_MODE_OTHER) {
                size_t len;
                char *path = fx_path(root.path, "cgroup.controllers");
                FILE *f = fopen(path, "re");
                char buf[512];
                cr_assert(f);
                len = fread(buf, 1, sizeof buf, f);
                fclose(f);
                free(path);
                cr_expect_eq(root.has_memory, cg_controllers_has(buf, len, "memory"));
        }
        free(mipath);
}

/* With no cgroup2 anywhere: -ENOENT (only observable without a default mount). */
Test(cgroup_root, autodetect_none) {
        if (is_cgroup2_path("/sys/fs/cgroup") || is_cgroup2_path("/sys/fs/cgroup/unified"))
                tree_skip("this machine has cgroup2 at a default place");

        cg_root root = untouched_root();
        tree_copy("cgroup/mountinfo-no-cgroup2", "mountinfo");
        char *mipath = fx_path(tree, "mountinfo");
        cr_expect_eq(cg_root_find(NULL, mipath, &root), -ENOENT);
        cr_expect_str_eq(root.path, "untouched");
        free(mipath);
}

/* ================================================================
 * cgroup_path: normalisation of the user's CGROUP argument
 * ================================================================ */

TestSuite(cgroup_path);

struct path_case {
        char root[64];
        char arg[64];
        int ret;
        char want[64]; /* root "(null)" passes NULL */
};

ParameterizedTestParameters(cgroup_path, normalize) {
        static struct path_case cases[] = {
                { "/sys/fs/cgroup", "system.slice/x.scope", 0, "system.slice/x.scope" },
                { "/sys/fs/cgroup", "/system.slice/x.scope", 0, "system.slice/x.scope" },
                { "/sys/fs/cgroup", "/sys/fs/cgroup/system.slice/x.scope", 0, "system.slice/x.scope" },
                { "/sys/fs/cgroup/", "/sys/fs/cgroup/system.slice/", 0, "system.slice" },
                { "/sys/fs/cgroup", "/", 0, "" },
                { "/sys/fs/cgroup", "", 0, "" },
                { "/sys/fs/cgroup", "///", 0, "" },
                { "/sys/fs/cgroup", "/sys/fs/cgroup", 0, "" },
                { "/sys/fs/cgroup", "/sys/fs/cgroup/", 0, "" },
                { "/sys/fs/cgroup", "//sys//fs/cgroup///a//b/", 0, "a/b" },
                { "/sys/fs/cgroup", "a//b///c/", 0, "a/b/c" },
                { "/sys/fs/cgroup", "./a/./b/.", 0, "a/b" },
                { "/sys/fs/cgroup", "/sys/fs/cgroupfoo/a", 0, "sys/fs/cgroupfoo/a" },
                { "/sys/fs/cgroup", "/sys/fs", 0, "sys/fs" },
                { "/sys/fs/cgroup/unified", "/sys/fs/cgroup/x", 0, "sys/fs/cgroup/x" },
                { "/", "/system.slice", 0, "system.slice" },
                { "/", "/", 0, "" },
                { "(null)", "/a/b", 0, "a/b" },
                { "tests/fixture", "/a", 0, "a" },
                { "/sys/fs/cgroup", "..a/b../...", 0, "..a/b../..." },
                { "/sys/fs/cgroup", "kubepods.slice/pod 1/crio-ab:c", 0, "kubepods.slice/pod 1/crio-ab:c" },
                { "/sys/fs/cgroup", "..", -EINVAL, "" },
                { "/sys/fs/cgroup", "/..", -EINVAL, "" },
                { "/sys/fs/cgroup", "a/..", -EINVAL, "" },
                { "/sys/fs/cgroup", "a/../../etc", -EINVAL, "" },
                { "/sys/fs/cgroup", "/sys/fs/cgroup/../../etc", -EINVAL, "" },
                { "/sys/fs/cgroup", "/sys/fs/cgroup/a/../b", -EINVAL, "" },
                { "/sys/fs/cgroup", "a//..//", -EINVAL, "" },
        };
        return cr_make_param_array(struct path_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct path_case *c, cgroup_path, normalize) {
        const char *root = strcmp(c->root, "(null)") ? c->root : NULL;
        char rel[256] = "untouched";
        int r = cg_path_normalize(root, c->arg, rel, sizeof rel);

        cr_expect_eq(r, c->ret, "root \"%s\" arg \"%s\": got %d", root ? root : "(null)", c->arg, r);
        cr_expect_str_eq(rel, c->ret == 0 ? c->want : "untouched", "root \"%s\" arg \"%s\"",
                         root ? root : "(null)", c->arg);
}

Test(cgroup_path, limits) {
        char rel[8] = "keep";

        /* Exactly fits ("abc/def" + NUL), then one byte too many. */
        cr_expect_eq(cg_path_normalize("/r", "/r//abc//def/", rel, sizeof rel), 0);
        cr_expect_str_eq(rel, "abc/def");
        strcpy(rel, "keep");
        cr_expect_eq(cg_path_normalize("/r", "abc/defg", rel, sizeof rel), -EINVAL);
        cr_expect_str_eq(rel, "keep");
        cr_expect_eq(cg_path_normalize("/r", "", rel, 0), -EINVAL);
        cr_expect_eq(cg_path_normalize("/r", NULL, rel, sizeof rel), -EINVAL);

        /* A component longer than NAME_MAX names no cgroup. */
        char big[NAME_MAX + 2], out[512];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        cr_expect_eq(cg_path_normalize("/r", big, out, sizeof out), -EINVAL);
        big[NAME_MAX] = '\0';
        cr_expect_eq(cg_path_normalize("/r", big, out, sizeof out), 0);
        cr_expect_eq(strlen(out), NAME_MAX);
}

/* ================================================================
 * host_open: --host-root gives the cgroup and proc roots under it
 * ================================================================ */

Test(host_open, host_root_defaults, .init = tree_setup, .fini = tree_teardown) {
        char why[512] = "", path[4096];
        struct stat st, want;
        gd_host host;

        fx_write(tree, "sys/fs/cgroup/cgroup.controllers", "memory pids\n");
        fx_write(tree, "proc/self/mountinfo", "");
        cr_assert_eq(gd_host_open(&(gd_host_paths){.host_root = tree}, why, sizeof why, &host), 0,
                     "%s", why);
        snprintf(path, sizeof path, "%s/sys/fs/cgroup", tree);
        cr_expect_str_eq(host.root.path, path);
        snprintf(path, sizeof path, "%s/proc", tree);
        cr_expect_str_eq(host.proc_path, path);
        cr_assert(fstat(host.hostfd, &st) == 0 && stat(tree, &want) == 0);
        cr_expect(st.st_ino == want.st_ino && st.st_dev == want.st_dev, "hostfd is the host root");
        gd_host_close(&host);
        cr_expect_eq(host.hostfd, -1);
}

Test(host_open, explicit_roots_win, .init = tree_setup, .fini = tree_teardown) {
        char why[512] = "", cg[4096];
        gd_host host;

        /* The host root has no cgroup tree; the explicit one is used. */
        fx_write(tree, "cg/cgroup.controllers", "memory\n");
        fx_write(tree, "proc/self/mountinfo", "");
        snprintf(cg, sizeof cg, "%s/cg", tree);
        cr_assert_eq(gd_host_open(&(gd_host_paths){.host_root = tree, .cgroup_root = cg}, why,
                                  sizeof why, &host), 0, "%s", why);
        cr_expect_str_eq(host.root.path, cg);
        gd_host_close(&host);
}

Test(host_open, missing_host_root, .init = tree_setup, .fini = tree_teardown) {
        char why[512] = "", bad[4096];
        gd_host host = {.rootfd = 77};

        snprintf(bad, sizeof bad, "%s/absent", tree);
        cr_expect_eq(gd_host_open(&(gd_host_paths){.host_root = bad}, why, sizeof why, &host), -ENOENT);
        cr_expect(strstr(why, "absent") != NULL, "why names the path: %s", why);
        cr_expect_eq(host.rootfd, 77, "untouched on failure");
        /* A host root without a cgroup tree under it: a clear error. */
        fx_write(tree, "proc/self/mountinfo", "");
        cr_expect_lt(gd_host_open(&(gd_host_paths){.host_root = tree}, why, sizeof why, &host), 0);
        cr_expect(strstr(why, "sys/fs/cgroup") != NULL, "%s", why);
}
