/* proc/proc.c: readers on temporary fake proc trees and, once each, on
 * this machine's /proc. The parsers are in test_proc_parse.c; shared
 * helpers in tests/lib/proc_fixture.h. */
#include "proc/proc.h"
#include "tests/lib/fixture.h"
#include "tests/lib/proc_fixture.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fake proc root per test, in $TMPDIR. */
static char *tree;
static int procfd = -1;

static void tree_setup(void) {
        tree = fx_tmpdir();
        procfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(procfd, 0);
}

static void tree_teardown(void) {
        if (procfd >= 0)
                close(procfd);
        if (tree)
                fx_rmtree(tree);
        free(tree);
}

static void put(const char *relpath, const char *content, size_t len) {
        fx_write_bytes(tree, relpath, content, len);
}

static void puts_(const char *relpath, const char *content) {
        fx_write(tree, relpath, content);
}

static void put_fixture(const char *relpath, const char *fixture) {
        size_t len;
        char *b = read_fixture(fixture, &len);
        put(relpath, b, len);
        free(b);
}

/* ==== proc_read: fake proc trees ========================================== */

TestSuite(proc_read, .init = tree_setup, .fini = tree_teardown);

static void put_process(int pid, const char *comm, char state, const char *status,
                        const char *adj, const char *cmdline, size_t cmdline_len) {
        char path[64], line[512];
        int n = make_stat(line, sizeof(line), pid, comm, state);

        snprintf(path, sizeof(path), "%d/stat", pid);
        put(path, line, (size_t) n);
        snprintf(path, sizeof(path), "%d/status", pid);
        puts_(path, status);
        snprintf(path, sizeof(path), "%d/oom_score_adj", pid);
        puts_(path, adj);
        snprintf(path, sizeof(path), "%d/cmdline", pid);
        put(path, cmdline, cmdline_len);
}

Test(proc_read, info_full) {
        proc_info info;

        put_process(100, "mysqld", 'S', status_mm, "-500\n", CL("/usr/sbin/mysqld\0--user=mysql\0"));
        puts_("100/cgroup", "0::/system.slice/mysql.service\n");
        cr_assert_eq(proc_read_info(procfd, 100, PAGE, &info), 0);
        cr_assert_eq(info.stat.pid, 100);
        cr_assert_str_eq(info.stat.comm, "mysqld");
        cr_assert_eq(info.stat.state, 'S');
        cr_assert_eq(info.stat.start_time, 1279563u);
        cr_assert(info.mem.has_mm);
        cr_assert_eq(info.mem.rss_pages, 262144);
        cr_assert_eq(info.mem.pte_pages, 512);
        cr_assert_eq(info.mem.swap_pages, 1024);
        cr_assert_eq(info.mem.uid, 27);
        cr_assert_eq(info.oom_score_adj, -500);
        cr_assert_str_eq(info.cmdline, "/usr/sbin/mysqld --user=mysql");
}

Test(proc_read, info_real_fixtures_zombie_and_kthread) {
        proc_info info;

        put_fixture("7716/stat", "zombie.stat");
        put_fixture("7716/status", "zombie.status");
        puts_("7716/oom_score_adj", "0\n");
        put("7716/cmdline", "", 0);
        cr_assert_eq(proc_read_info(procfd, 7716, PAGE, &info), 0);
        cr_assert_eq(info.stat.state, 'Z');
        cr_assert_not(info.mem.has_mm);
        cr_assert_str_eq(info.cmdline, "");

        put_fixture("2/stat", "kthreadd.stat");
        put_fixture("2/status", "kthreadd.status");
        puts_("2/oom_score_adj", "0\n");
        put("2/cmdline", "", 0);
        cr_assert_eq(proc_read_info(procfd, 2, PAGE, &info), 0);
        cr_assert(proc_is_kthread(&info.stat));
        cr_assert_not(info.mem.has_mm);
        cr_assert_str_eq(info.stat.comm, "kthreadd");
}

/* The process exits between the reads: whatever is missing, -ESRCH and
 * nothing written. */
ParameterizedTestParameters(proc_read, info_vanished_midway) {
        static struct text_case missing[] = { { "stat" }, { "status" }, { "oom_score_adj" },
                                              { "cmdline" } };
        return cr_make_param_array(struct text_case, missing, sizeof(missing) / sizeof(missing[0]));
}

ParameterizedTest(struct text_case *missing, proc_read, info_vanished_midway) {
        char path[300];
        proc_info info;

        put_process(100, "mysqld", 'S', status_mm, "0\n", CL("mysqld\0"));
        snprintf(path, sizeof(path), "100/%s", missing->s);
        cr_assert_eq(unlinkat(procfd, path, 0), 0);
        memset(&info, 0x5A, sizeof(info));
        cr_assert_eq(proc_read_info(procfd, 100, PAGE, &info), -ESRCH, "without %s", missing->s);
        cr_assert_eq(info.stat.pid, 0x5A5A5A5A, "ret_info touched");
}

Test(proc_read, missing_pid) {
        proc_info info = { .oom_score_adj = 33 };
        uint64_t st = 9;
        char cg[64] = "untouched";

        put_process(100, "a", 'S', status_mm, "0\n", CL("a\0"));
        cr_assert_eq(proc_read_info(procfd, 101, PAGE, &info), -ESRCH);
        cr_assert_eq(info.oom_score_adj, 33);
        cr_assert_eq(proc_read_start_time(procfd, 101, &st), -ESRCH);
        cr_assert_eq(st, 9);
        cr_assert_eq(proc_read_cgroup(procfd, 101, cg, sizeof(cg)), -ESRCH);
        cr_assert_str_eq(cg, "untouched");
        cr_assert_eq(proc_read_info(procfd, 0, PAGE, &info), -EINVAL);
        cr_assert_eq(proc_read_info(procfd, -1, PAGE, &info), -EINVAL);
}

Test(proc_read, pid_mismatch) {
        char line[512];
        proc_info info = { .oom_score_adj = 33 };
        uint64_t st = 9;
        int n;

        put_process(100, "a", 'S', status_mm, "0\n", CL("a\0"));
        n = make_stat(line, sizeof(line), 101, "a", 'S');
        put("100/stat", line, (size_t) n);
        cr_assert_eq(proc_read_info(procfd, 100, PAGE, &info), -EBADMSG);
        cr_assert_eq(info.oom_score_adj, 33);
        cr_assert_eq(proc_read_start_time(procfd, 100, &st), -EBADMSG);
        cr_assert_eq(st, 9);
}

struct bad_file_case {
        char file[16];
        char content[16];
};

ParameterizedTestParameters(proc_read, info_bad_file) {
        static struct bad_file_case cases[] = {
                { "oom_score_adj", "abc\n" },
                { "oom_score_adj", "1001\n" },
                { "oom_score_adj", "-1001\n" },
                { "oom_score_adj", "" },
                { "oom_score_adj", "5 \n" },
                { "oom_score_adj", "5\n\n" },
                { "status", "Name:\tx\n" },
                { "stat", "100 (x) S 1\n" },
                { "stat", "" },
        };
        return cr_make_param_array(struct bad_file_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_file_case *c, proc_read, info_bad_file) {
        char path[64];
        proc_info info = { .oom_score_adj = 33 };
        int r;

        put_process(100, "a", 'S', status_mm, "0\n", CL("a\0"));
        snprintf(path, sizeof(path), "100/%s", c->file);
        puts_(path, c->content);
        r = proc_read_info(procfd, 100, PAGE, &info);
        /* an empty stat is what a reaped process gives */
        cr_assert_eq(r, c->content[0] || strcmp(c->file, "stat") ? -EBADMSG : -ESRCH, "%s=%s",
                     c->file, c->content);
        cr_assert_eq(info.oom_score_adj, 33);
}

Test(proc_read, oom_score_adj_limits) {
        proc_info info;

        put_process(100, "a", 'S', status_mm, "-1000\n", CL("a\0"));
        cr_assert_eq(proc_read_info(procfd, 100, PAGE, &info), 0);
        cr_assert_eq(info.oom_score_adj, -1000);
        puts_("100/oom_score_adj", "1000");
        cr_assert_eq(proc_read_info(procfd, 100, PAGE, &info), 0);
        cr_assert_eq(info.oom_score_adj, 1000);
}

/* A process with 65536 supplementary groups must not push its Vm lines out
 * of sight and pass for a kernel thread. */
Test(proc_read, status_with_huge_groups_line) {
        size_t cap = 800000, n = 0;
        char *s = malloc(cap);
        proc_info info;

        cr_assert_not_null(s);
        n += (size_t) snprintf(s + n, cap - n, "Name:\tsneaky\nUid:\t1000\t1000\t1000\t1000\nGroups:\t");
        for (int g = 0; g < 65536; g++)
                n += (size_t) snprintf(s + n, cap - n, "%d ", 100000 + g);
        n += (size_t) snprintf(s + n, cap - n,
                               "\nVmRSS:\t 8192 kB\nRssAnon:\t 8192 kB\nRssFile:\t 0 kB\n"
                               "RssShmem:\t 0 kB\nVmPTE:\t 40 kB\nVmSwap:\t 4 kB\n");
        put_process(100, "sneaky", 'R', "", "0\n", CL("sneaky\0"));
        put("100/status", s, n);
        free(s);
        cr_assert_eq(proc_read_info(procfd, 100, PAGE, &info), 0);
        cr_assert(info.mem.has_mm);
        cr_assert_eq(info.mem.rss_pages, 2048);
        cr_assert_eq(info.mem.pte_pages, 10);
        cr_assert_eq(info.mem.swap_pages, 1);
        cr_assert_eq(info.mem.uid, 1000);
}

/* An over-long line with a key we use is garbage, not something to skip. */
Test(proc_read, status_overlong_wanted_line) {
        char s[512];
        proc_info info = { .oom_score_adj = 33 };

        snprintf(s, sizeof(s), "Uid:\t1\t1\t1\t1\nRssAnon:\t%0200d kB\n" MM_REST, 4);
        put_process(100, "a", 'R', s, "0\n", CL("a\0"));
        cr_assert_eq(proc_read_info(procfd, 100, PAGE, &info), -EBADMSG);
        cr_assert_eq(info.oom_score_adj, 33);
}

/* status filled up to pad bytes with short lines the reader skips, then
 * tail: the tail's lines land across the end of the reader's first chunk
 * (4 KiB) at every offset as pad runs through a range. */
static void put_status_at(int pad, const char *tail) {
        char s[8192];
        size_t n = (size_t) snprintf(s, sizeof(s), "Name:\tx\n");

        while (n + 11 + 17 <= (size_t) pad)
                n += (size_t) snprintf(s + n, sizeof(s) - n, "Threads:\t1\n");
        /* "Tgid:" and padding to land exactly on pad (7 to 27 bytes). */
        n += (size_t) snprintf(s + n, sizeof(s) - n, "Tgid:%.*s\n", pad - (int) n - 6,
                               "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
        cr_assert_eq(n, (size_t) pad);
        n += (size_t) snprintf(s + n, sizeof(s) - n, "%s", tail);
        put("100/status", s, n);
}

/* The reader keeps what the parser looks at, wherever the chunks end: the
 * same result as the parser over the whole file, for wanted lines, a long
 * unwanted one (skipped), a wanted one of exactly STATUS_LINE_MAX bytes
 * and a last line without its newline (refused). */
Test(proc_read, status_lines_across_chunk_ends) {
        char rss96[128], tails[4][512];
        /* "RssAnon:\t" (9) + 83 digits + " kB\n" (4) = 96 bytes. */
        snprintf(rss96, sizeof(rss96), "RssAnon:\t%083d kB\n", 8192);
        cr_assert_eq(strlen(rss96), 96);
        snprintf(tails[0], sizeof(tails[0]),
                 "Uid:\t5\t6\t7\t8\nRssAnon:\t 8192 kB\nGroups:\t%0150d\n" MM_REST, 1);
        snprintf(tails[1], sizeof(tails[1]),
                 "Groups:\t%0150d\nUid:\t5\t6\t7\t8\n%s" MM_REST, 1, rss96);
        snprintf(tails[2], sizeof(tails[2]),
                 "Uid:\t5\t6\t7\t8\nRssAnon:\t 8192 kB\n" MM_REST "Cut:\t%0150d", 1);
        snprintf(tails[3], sizeof(tails[3]),
                 "Uid:\t5\t6\t7\t8\nRssAnon:\t 8192 kB\nRssFile:\t0 kB\nRssShmem:\t0 kB\n"
                 "VmPTE:\t4 kB\nVmSwap:\t0 kB");

        put_process(100, "a", 'R', "", "0\n", CL("a\0"));
        for (int t = 0; t < 4; t++) {
                for (int pad = 3800; pad <= 4100; pad++) {
                        proc_info info = { .oom_score_adj = 33 };
                        proc_mem want = { 0 };
                        size_t len;

                        put_status_at(pad, tails[t]);
                        char *whole = fx_read(tree, "100/status", &len);
                        int want_r = proc_parse_status(whole, len, PAGE, &want);
                        free(whole);
                        int r = proc_read_info(procfd, 100, PAGE, &info);
                        cr_assert_eq(r, want_r, "tail %d at %d: %d, the parser %d", t, pad, r, want_r);
                        cr_assert_eq(r, t == 3 ? -EBADMSG : 0, "tail %d at %d", t, pad);
                        if (r < 0)
                                continue;
                        cr_assert(info.mem.has_mm);
                        cr_assert_eq(info.mem.uid, 5);
                        cr_assert_eq(info.mem.rss_pages, want.rss_pages);
                        cr_assert_eq(info.mem.pte_pages, want.pte_pages);
                        cr_assert_eq(info.mem.swap_pages, want.swap_pages);
                }
        }
}

/* A wanted line one byte over STATUS_LINE_MAX is refused wherever the
 * chunk ends: also when its start is carried over from the first. */
Test(proc_read, status_overlong_wanted_line_across_chunk_ends) {
        char tail[256];

        snprintf(tail, sizeof(tail), "Uid:\t5\t6\t7\t8\nRssAnon:\t%084d kB\n" MM_REST, 8192);
        put_process(100, "a", 'R', "", "0\n", CL("a\0"));
        for (int pad = 3950; pad <= 4100; pad++) {
                proc_info info;

                put_status_at(pad, tail);
                cr_assert_eq(proc_read_info(procfd, 100, PAGE, &info), -EBADMSG, "at %d", pad);
        }
}

Test(proc_read, cmdline_long_and_hostile) {
        char cl[8192];
        proc_info info;

        memset(cl, 'y', sizeof(cl));
        cl[3] = '\n';
        cl[5] = '\0';
        put_process(100, "a", 'R', status_mm, "0\n", cl, sizeof(cl));
        cr_assert_eq(proc_read_info(procfd, 100, PAGE, &info), 0);
        cr_assert_eq(strlen(info.cmdline), PROC_CMDLINE_MAX - 1);
        cr_assert_eq(strncmp(info.cmdline, "yyy?y yy", 8), 0, "%.10s", info.cmdline);
}

Test(proc_read, start_time_and_cgroup) {
        uint64_t st = 0;
        char cg[64];

        put_fixture("7643/stat", "self.stat");
        put_fixture("7643/cgroup", "hybrid.cgroup");
        cr_assert_eq(proc_read_start_time(procfd, 7643, &st), 0);
        cr_assert_eq(st, 1279563u);
        cr_assert_eq(proc_read_cgroup(procfd, 7643, cg, sizeof(cg)), 0);
        cr_assert_str_eq(cg, "/system.slice/mysql.service");
        cr_assert_eq(proc_read_cgroup(procfd, 7643, cg, 10), -ENAMETOOLONG);
        puts_("7643/cgroup", "");
        cr_assert_eq(proc_read_cgroup(procfd, 7643, cg, sizeof(cg)), -ESRCH);
        puts_("7643/cgroup", "1:name=systemd:/\n");
        cr_assert_eq(proc_read_cgroup(procfd, 7643, cg, sizeof(cg)), -ENOENT);
}

Test(proc_read, open_pid_checks_the_start_time) {
        int piddir = -7, adj = 5;

        put_fixture("7643/stat", "self.stat");
        puts_("7643/oom_score_adj", "0\n");
        cr_assert_eq(proc_open_pid(procfd, 7643, 1279564, &piddir), -ESTALE);
        cr_assert_eq(piddir, -7, "untouched on failure");
        cr_assert_eq(proc_open_pid(procfd, 7644, 1279563, &piddir), -ESRCH);
        cr_assert_eq(proc_open_pid(procfd, 7643, 1279563, &piddir), 0);
        cr_assert_geq(piddir, 0);
        cr_assert_eq(proc_read_oom_score_adj_at(piddir, &adj), 0);
        cr_assert_eq(adj, 0);
        cr_assert_eq(proc_write_oom_score_adj_at(piddir, -1000), 0);
        char *have = fx_read(tree, "7643/oom_score_adj", NULL);
        cr_assert_str_eq(have, "-1000\n");
        free(have);
        cr_assert_eq(proc_read_oom_score_adj_at(piddir, &adj), 0);
        cr_assert_eq(adj, -1000);
        cr_assert_eq(proc_write_oom_score_adj_at(piddir, 1001), -EINVAL);
        cr_assert_eq(proc_write_oom_score_adj_at(piddir, -1001), -EINVAL);
        puts_("7643/oom_score_adj", "-1001\n");
        adj = 5;
        cr_assert_eq(proc_read_oom_score_adj_at(piddir, &adj), -EBADMSG);
        cr_assert_eq(adj, 5, "untouched on failure");
        close(piddir);
}

Test(proc_read, a_pid_directory_fd_never_reaches_the_next_process) {
        int piddir = -1;

        put_fixture("7643/stat", "self.stat");
        puts_("7643/oom_score_adj", "0\n");
        cr_assert_eq(proc_open_pid(procfd, 7643, 1279563, &piddir), 0);
        /* The process is reaped and its pid goes to a new one (the fake
         * tree: the old directory moves away, a new one takes the name). */
        char *old = fx_path(tree, "7643"), *moved = fx_path(tree, "reaped");
        cr_assert_eq(rename(old, moved), 0);
        puts_("7643/oom_score_adj", "0\n");
        cr_assert_eq(proc_write_oom_score_adj_at(piddir, 500), 0);
        char *next = fx_read(tree, "7643/oom_score_adj", NULL);
        char *first = fx_read(tree, "reaped/oom_score_adj", NULL);
        cr_assert_str_eq(next, "0\n", "the new process is untouched");
        cr_assert_str_eq(first, "500\n", "the write went where the fd points");
        free(next);
        free(first);
        free(old);
        free(moved);
        /* Once the old one's files are gone (reaped): gone, not an error. */
        char *f = fx_path(tree, "reaped/oom_score_adj");
        cr_assert_eq(unlink(f), 0);
        free(f);
        cr_assert_eq(proc_write_oom_score_adj_at(piddir, 500), -ESRCH);
        int adj;
        cr_assert_eq(proc_read_oom_score_adj_at(piddir, &adj), -ESRCH);
        close(piddir);
}

Test(proc_read, meminfo_and_swappiness) {
        uint64_t ram = 1, swap = 1;
        int sw = -1;

        cr_assert_eq(proc_read_meminfo(procfd, PAGE, &ram, &swap), -ENOENT);
        cr_assert_eq(proc_read_swappiness(procfd, &sw), -ENOENT);
        cr_assert_eq(ram, 1);
        cr_assert_eq(sw, -1);

        put_fixture("meminfo", "meminfo");
        puts_("sys/vm/swappiness", "60\n");
        cr_assert_eq(proc_read_meminfo(procfd, PAGE, &ram, &swap), 0);
        cr_assert_eq(ram, 24684084u / 4);
        cr_assert_eq(swap, 0);
        cr_assert_eq(proc_read_swappiness(procfd, &sw), 0);
        cr_assert_eq(sw, 60);
}

struct swappiness_case {
        char text[32];
        int want_rc, want;
};

ParameterizedTestParameters(proc_read, swappiness) {
        static struct swappiness_case cases[] = {
                { "0\n", 0, 0 },     { "200\n", 0, 200 }, { "100", 0, 100 },
                { "201\n", -EBADMSG, 0 }, { "-1\n", -EBADMSG, 0 }, { "", -EBADMSG, 0 },
                { "6 0\n", -EBADMSG, 0 }, { "sixty\n", -EBADMSG, 0 },
                { "99999999999999999999\n", -EBADMSG, 0 },
        };
        return cr_make_param_array(struct swappiness_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct swappiness_case *c, proc_read, swappiness) {
        int sw = -7;

        puts_("sys/vm/swappiness", c->text);
        cr_assert_eq(proc_read_swappiness(procfd, &sw), c->want_rc, "%s", c->text);
        cr_assert_eq(sw, c->want_rc == 0 ? c->want : -7);
}

/* ==== proc_read against this machine's /proc (the fake tree goes unused) === */

static char *slurp(const char *path, size_t *ret_len) {
        static char buf[4096];
        FILE *f = fopen(path, "rb");
        size_t n;

        cr_assert_not_null(f, "%s: %s", path, strerror(errno));
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (ret_len)
                *ret_len = n;
        return buf;
}

Test(proc_read, real_self) {
        int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        long page = sysconf(_SC_PAGESIZE);
        char comm[64], *s, *tok, *save = NULL, cg[PATH_MAX];
        unsigned long long start = 0;
        proc_info info;

        cr_assert_geq(fd, 0);
        cr_assert_eq(proc_read_info(fd, getpid(), (uint64_t) page, &info), 0);
        cr_assert_eq(info.stat.pid, getpid());
        cr_assert_eq(info.stat.ppid, getppid());
        cr_assert(info.mem.has_mm);
        cr_assert_gt(info.mem.rss_pages, 0);
        cr_assert_gt(info.mem.pte_pages, 0);
        cr_assert_eq(info.mem.uid, getuid());
        cr_assert_not(proc_is_kthread(&info.stat));
        char self_exe[PROC_EXE_MAX] = "";
        cr_assert_gt(readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1), 0);
        cr_assert_str_eq(info.exe, self_exe);

        snprintf(comm, sizeof(comm), "%s", slurp("/proc/self/comm", NULL));
        comm[strcspn(comm, "\n")] = '\0';
        cr_assert_str_eq(info.stat.comm, comm);

        /* field 22, counted independently of the parser */
        s = strrchr(slurp("/proc/self/stat", NULL), ')') + 2;
        tok = strtok_r(s, " ", &save);
        for (int field = 3; tok && field < 22; field++)
                tok = strtok_r(NULL, " ", &save);
        cr_assert_not_null(tok);
        start = strtoull(tok, NULL, 10);
        cr_assert_eq(info.stat.start_time, start);
        cr_assert_gt(start, 0);

        cr_assert_eq(info.oom_score_adj, atoi(slurp("/proc/self/oom_score_adj", NULL)));
        cr_assert_gt(strlen(info.cmdline), 0);

        /* the same cgroup as the "0::" line says */
        cr_assert_eq(proc_read_cgroup(fd, getpid(), cg, sizeof(cg)), 0);
        s = strstr(slurp("/proc/self/cgroup", NULL), "0::");
        cr_assert_not_null(s);
        s[strcspn(s, "\n")] = '\0';
        cr_assert_str_eq(cg, s + 3);
        close(fd);
}

Test(proc_read, real_kthreadd) {
        int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        proc_info info;

        cr_assert_geq(fd, 0);
        if (access("/proc/2/stat", R_OK) != 0 ||
            strcmp(slurp("/proc/2/comm", NULL), "kthreadd\n") != 0)
                cr_skip_test("pid 2 is not kthreadd here (a pid namespace)");
        cr_assert_eq(proc_read_info(fd, 2, (uint64_t) sysconf(_SC_PAGESIZE), &info), 0);
        cr_assert_eq(info.stat.pid, 2);
        cr_assert_str_eq(info.stat.comm, "kthreadd");
        cr_assert(proc_is_kthread(&info.stat));
        cr_assert(info.stat.flags & PROC_PF_KTHREAD);
        cr_assert_not(info.mem.has_mm);
        cr_assert_eq(info.mem.rss_pages, 0);
        cr_assert_str_eq(info.cmdline, "");
        close(fd);
}

Test(proc_read, real_host_memory) {
        int fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        unsigned long long kb = 0;
        uint64_t ram = 0, swap = 0;
        int sw = -1;

        cr_assert_geq(fd, 0);
        cr_assert_eq(sscanf(slurp("/proc/meminfo", NULL), "MemTotal: %llu kB", &kb), 1);
        cr_assert_eq(proc_read_meminfo(fd, 4096, &ram, &swap), 0);
        cr_assert_eq(ram, kb / 4);
        cr_assert_eq(proc_read_swappiness(fd, &sw), 0);
        cr_assert_eq(sw, atoi(slurp("/proc/sys/vm/swappiness", NULL)));
        close(fd);
}

/* ==== a leader that exited while its threads hold the mm ================= */

static const char status_no_mm[] =
        "Name:\tleader\nState:\tZ (zombie)\nPid:\t300\nUid:\t0\t0\t0\t0\nThreads:\t2\n"
        "SigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n";

static void put_thread(int pid, int tid, const char *status) {
        char path[64], line[512];
        int n = make_stat(line, sizeof(line), tid, "worker", 'S');

        snprintf(path, sizeof(path), "%d/task/%d/stat", pid, tid);
        put(path, line, (size_t)n);
        snprintf(path, sizeof(path), "%d/task/%d/status", pid, tid);
        puts_(path, status);
}

Test(proc_read, leader_exited_memory_found_through_a_thread) {
        proc_info info;

        put_process(300, "leader", 'Z', status_no_mm, "0\n", CL(""));
        put_thread(300, 300, status_no_mm);
        put_thread(300, 301, status_mm);
        cr_assert_eq(proc_read_info(procfd, 300, PAGE, &info), 0);
        cr_assert(info.mem.has_mm, "find_lock_task_mm() finds the thread's mm");
        cr_assert_eq(info.mm_tid, 301);
        cr_assert_eq(info.mem.rss_pages, (1000000 + 48576) / 4);
        cr_assert_eq(info.mem.uid, 0, "the uid is the process's");
        cr_assert_not(proc_is_dying(&info), "the leader's exit is not the process's");
}

Test(proc_read, all_threads_gone_is_no_mm) {
        proc_info info;

        put_process(300, "leader", 'Z', status_no_mm, "0\n", CL(""));
        put_thread(300, 300, status_no_mm);
        cr_assert_eq(proc_read_info(procfd, 300, PAGE, &info), 0);
        cr_assert_not(info.mem.has_mm);
        cr_assert_eq(info.mm_tid, 0);
}

Test(proc_read, a_hidden_mm_is_unreadable_not_unkillable) {
        proc_info info;

        put_process(300, "leader", 'Z', status_no_mm, "0\n", CL(""));
        for (int tid = 1000; tid < 1100; tid++)
                put_thread(300, tid, status_no_mm);
        cr_assert_eq(proc_read_info(procfd, 300, PAGE, &info), -EBADMSG);
}

Test(proc_read, sigkill_pending_is_dying) {
        proc_info info;
        char status[1024];

        snprintf(status, sizeof(status), "%sSigPnd:\t0000000000000100\nShdPnd:\t0000000000000000\n",
                 status_mm);
        put_process(100, "mysqld", 'S', status, "0\n", CL("mysqld\0"));
        cr_assert_eq(proc_read_info(procfd, 100, PAGE, &info), 0);
        cr_assert(info.mem.kill_pending);
        cr_assert(proc_is_dying(&info));

        snprintf(status, sizeof(status), "%sSigPnd:\t0000000000000000\nShdPnd:\t0000000000004100\n",
                 status_mm);
        put_process(101, "mysqld", 'S', status, "0\n", CL("mysqld\0"));
        cr_assert_eq(proc_read_info(procfd, 101, PAGE, &info), 0);
        cr_assert(proc_is_dying(&info), "a group-wide SIGKILL");

        snprintf(status, sizeof(status), "%sSigPnd:\t0000000000004000\nShdPnd:\t0000000000000002\n",
                 status_mm);
        put_process(102, "mysqld", 'S', status, "0\n", CL("mysqld\0"));
        cr_assert_eq(proc_read_info(procfd, 102, PAGE, &info), 0);
        cr_assert_not(proc_is_dying(&info), "SIGTERM and SIGINT pending are not a death");

        snprintf(status, sizeof(status), "%sSigPnd:\t00000000000001zz\n", status_mm);
        put_process(103, "mysqld", 'S', status, "0\n", CL("mysqld\0"));
        cr_assert_eq(proc_read_info(procfd, 103, PAGE, &info), -EBADMSG);
}
