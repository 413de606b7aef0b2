/* proc/parse.c: parsers on real and hostile /proc files. The readers, on
 * temporary fake proc trees and on this machine's /proc, are in
 * test_proc_read.c; shared helpers in tests/lib/proc_fixture.h. */
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

/* ==== proc_parse ======================================================== */

TestSuite(proc_parse);

Test(proc_parse, stat_real_self) {
        size_t len;
        char *b = read_fixture("self.stat", &len);
        proc_stat st;

        cr_assert_eq(proc_parse_stat(b, len, &st), 0);
        cr_assert_eq(st.pid, 7643);
        cr_assert_str_eq(st.comm, "cat");
        cr_assert_eq(st.state, 'R');
        cr_assert_eq(st.ppid, 7640);
        cr_assert_eq(st.flags, 4194304u);
        cr_assert_eq(st.start_time, 1279563u);
        cr_assert_not(proc_is_kthread(&st));
        free(b);
}

Test(proc_parse, stat_real_kthreadd) {
        size_t len;
        char *b = read_fixture("kthreadd.stat", &len);
        proc_stat st;

        cr_assert_eq(proc_parse_stat(b, len, &st), 0);
        cr_assert_eq(st.pid, 2);
        cr_assert_str_eq(st.comm, "kthreadd");
        cr_assert_eq(st.ppid, 0);
        cr_assert(st.flags & PROC_PF_KTHREAD);
        cr_assert_eq(st.start_time, 25u);
        cr_assert(proc_is_kthread(&st));
        free(b);
}

Test(proc_parse, stat_real_zombie) {
        size_t len;
        char *b = read_fixture("zombie.stat", &len);
        proc_stat st;

        cr_assert_eq(proc_parse_stat(b, len, &st), 0);
        cr_assert_eq(st.pid, 7716);
        cr_assert_eq(st.state, 'Z');
        cr_assert_str_eq(st.comm, "python3");
        cr_assert_not(proc_is_kthread(&st));
        free(b);
}

/* Criterion re-executes the binary for each test (ASLR moves everything),
 * so parameters carry their strings inline, never as pointers. */
struct comm_case {
        char raw[48];
        char want[PROC_COMM_MAX];
};

ParameterizedTestParameters(proc_parse, stat_hostile_comm) {
        static struct comm_case cases[] = {
                { "a b", "a b" },
                { "a) R 1 (b", "a) R 1 (b" },
                { "x)", "x)" },
                { ")", ")" },
                { "((", "((" },
                { "a\nb", "a\nb" },
                { "\n) Z 2 2 2 0 ", "\n) Z 2 2 2 0 " },
                { "123456789012345", "123456789012345" },
                { "", "" },
                /* kworkers show their workqueue: longer than TASK_COMM_LEN */
                { "kworker/u8:0-ext4-rsv-conversion", "kworker/u8:0-ex" },
        };
        return cr_make_param_array(struct comm_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct comm_case *c, proc_parse, stat_hostile_comm) {
        char line[512];
        int n = make_stat(line, sizeof(line), 4242, c->raw, 'S');
        char *b = dup_exact(line, (size_t) n);
        proc_stat st;

        cr_assert_eq(proc_parse_stat(b, (size_t) n, &st), 0, "comm %s", c->raw);
        cr_assert_eq(st.pid, 4242);
        cr_assert_str_eq(st.comm, c->want);
        cr_assert_eq(st.state, 'S');
        cr_assert_eq(st.ppid, 77);
        cr_assert_eq(st.flags, 4194304u);
        cr_assert_eq(st.start_time, 1279563u);
        free(b);
}

/* Every prefix that stops before starttime is complete must be refused, and
 * the first one past it accepted. */
Test(proc_parse, stat_truncated_every_prefix) {
        size_t len, stop = 0;
        char *full = read_fixture("self.stat", &len);
        const char *p = memrchr(full, ')', len);
        proc_stat st;

        /* past the spaces after ')', the state and fields 4..22: 21 of them */
        for (int spaces = 0; spaces < 21; p++)
                if (*p == ' ')
                        spaces++;
        stop = (size_t) (p - full); /* just past the space after field 22 */
        for (size_t i = 0; i < stop; i++) {
                char *b = dup_exact(full, i);
                memset(&st, 0xAA, sizeof(st));
                cr_assert_eq(proc_parse_stat(b, i, &st), -EBADMSG, "prefix %zu", i);
                cr_assert_eq(st.pid, (pid_t) 0xAAAAAAAA, "touched at prefix %zu", i);
                free(b);
        }
        for (size_t i = stop; i <= len; i++) {
                char *b = dup_exact(full, i);
                cr_assert_eq(proc_parse_stat(b, i, &st), 0, "prefix %zu", i);
                cr_assert_eq(st.start_time, 1279563u);
                free(b);
        }
        free(full);
}

ParameterizedTestParameters(proc_parse, stat_garbage) {
        static struct text_case cases[] = {
                { "" },
                { "garbage" },
                { "12 cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12(cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "0 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "-12 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "2147483648 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat) R -1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat) R 2147483648 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat) R 1 1 1 0 -1 4294967296 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat) R 1 1 1 0 -1 -4 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551616 0 0\n" },
                { "12 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 0 0\n" },
                { "12 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5x 0 0\n" },
                { "12 (cat) R 1 1 1 0 -1 0 0 0 0 x 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat) R 1  1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat) R 1 1 1 0 - 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat)  1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat) 7 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat) RR 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat)R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n" },
                { "12 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 5\n" }, /* 21 fields */
                { "12 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5" },    /* cut in starttime */
                { "12 (cat) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\t0 0\n" },
        };
        return cr_make_param_array(struct text_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct text_case *c, proc_parse, stat_garbage) {
        size_t len = strlen(c->s);
        char *b = dup_exact(c->s, len);
        proc_stat st;

        memset(&st, 0x5A, sizeof(st));
        cr_assert_eq(proc_parse_stat(b, len, &st), -EBADMSG, "accepted: %s", c->s);
        cr_assert_eq(st.start_time, 0x5A5A5A5A5A5A5A5Aull, "ret_stat touched");
        free(b);
}

Test(proc_parse, stat_nul_in_comm) {
        static const char line[] = "12 (c\0t) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n";
        char *b = dup_exact(line, sizeof(line) - 1);
        proc_stat st;

        cr_assert_eq(proc_parse_stat(b, sizeof(line) - 1, &st), -EBADMSG);
        free(b);
}

struct kthread_case {
        pid_t pid, ppid;
        unsigned flags;
        bool want;
};

ParameterizedTestParameters(proc_parse, is_kthread) {
        static struct kthread_case cases[] = {
                { 2, 0, 0x00208040, true },  /* kthreadd */
                { 15, 2, 0x04208060, true }, /* a kworker */
                { 15, 2, 0x00400100, false },/* a usermode helper: parent 2, no PF_KTHREAD */
                { 2, 0, 0, false },          /* pid 2 of a container's pid namespace */
                { 99, 1, PROC_PF_KTHREAD, true },
                { 1, 0, 0x00400100, false }, /* init */
                { 7643, 7640, 4194304, false },
                { 3, 1, ~PROC_PF_KTHREAD, false },
        };
        return cr_make_param_array(struct kthread_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct kthread_case *c, proc_parse, is_kthread) {
        proc_stat st = { .pid = c->pid, .ppid = c->ppid, .flags = c->flags, .state = 'S' };
        cr_assert_eq(proc_is_kthread(&st), c->want, "pid %d ppid %d flags %#x", c->pid, c->ppid,
                     c->flags);
}

Test(proc_parse, status_real_self) {
        size_t len;
        char *b = read_fixture("self.status", &len);
        proc_mem m;

        cr_assert_eq(proc_parse_status(b, len, PAGE, &m), 0);
        cr_assert(m.has_mm);
        /* RssAnon 112 + RssFile 1584 + RssShmem 0 kB */
        cr_assert_eq(m.rss_pages, (112 + 1584) / 4);
        cr_assert_eq(m.pte_pages, 44 / 4);
        cr_assert_eq(m.swap_pages, 0);
        cr_assert_eq(m.uid, 0);
        free(b);
}

Test(proc_parse, status_real_kthread_and_zombie) {
        static const char *names[] = { "kthreadd.status", "zombie.status" };

        for (size_t i = 0; i < 2; i++) {
                size_t len;
                char *b = read_fixture(names[i], &len);
                proc_mem m;

                memset(&m, 0xAA, sizeof(m));
                cr_assert_eq(proc_parse_status(b, len, PAGE, &m), 0, "%s", names[i]);
                cr_assert_not(m.has_mm, "%s", names[i]);
                cr_assert_eq(m.rss_pages, 0);
                cr_assert_eq(m.pte_pages, 0);
                cr_assert_eq(m.swap_pages, 0);
                cr_assert_eq(m.uid, 0);
                free(b);
        }
}

Test(proc_parse, status_counters_and_page_sizes) {
        size_t len = sizeof(status_mm) - 1;
        char *b = dup_exact(status_mm, len);
        proc_mem m;

        cr_assert_eq(proc_parse_status(b, len, PAGE, &m), 0);
        cr_assert(m.has_mm);
        cr_assert_eq(m.uid, 27);
        cr_assert_eq(m.rss_pages, 1048576u / 4);
        cr_assert_eq(m.pte_pages, 512);
        cr_assert_eq(m.swap_pages, 1024);
        /* arm64 with 16 KiB and 64 KiB pages */
        cr_assert_eq(proc_parse_status(b, len, 16384, &m), 0);
        cr_assert_eq(m.rss_pages, 1048576u / 16);
        cr_assert_eq(m.swap_pages, 256);
        cr_assert_eq(proc_parse_status(b, len, 65536, &m), 0);
        cr_assert_eq(m.pte_pages, 32);
        memset(&m, 0x11, sizeof(m));
        cr_assert_eq(proc_parse_status(b, len, 0, &m), -EINVAL);
        cr_assert_eq(m.uid, 0x11111111u);
        free(b);
}

/* The largest kB that still fits in bytes (2^54 - 1), and one more. */
Test(proc_parse, status_kb_limits) {
        static const char ok[] =
                "Uid:\t1\t1\t1\t1\nRssAnon:\t18014398509481983 kB\nRssFile:\t0 kB\n"
                "RssShmem:\t0 kB\nVmPTE:\t0 kB\nVmSwap:\t18014398509481983 kB\n";
        static const char over[] =
                "Uid:\t1\t1\t1\t1\nRssAnon:\t18014398509481984 kB\nRssFile:\t0 kB\n"
                "RssShmem:\t0 kB\nVmPTE:\t0 kB\nVmSwap:\t0 kB\n";
        char *b = dup_exact(ok, sizeof(ok) - 1);
        proc_mem m;

        cr_assert_eq(proc_parse_status(b, sizeof(ok) - 1, PAGE, &m), 0);
        cr_assert_eq(m.rss_pages, 18014398509481983ull / 4);
        cr_assert_eq(m.swap_pages, 18014398509481983ull / 4);
        free(b);
        b = dup_exact(over, sizeof(over) - 1);
        cr_assert_eq(proc_parse_status(b, sizeof(over) - 1, PAGE, &m), -EBADMSG);
        free(b);
}

/* Each counter fits, their sum does not (only reachable with tiny pages). */
Test(proc_parse, status_rss_sum_overflow) {
        static const char s[] =
                "Uid:\t0\t0\t0\t0\nRssAnon:\t9007199254740992 kB\nRssFile:\t"
                "9007199254740992 kB\nRssShmem:\t0 kB\nVmPTE:\t0 kB\nVmSwap:\t0 kB\n";
        char *b = dup_exact(s, sizeof(s) - 1);
        proc_mem m = { .uid = 5 };

        /* 2^53 kB = 2^63 bytes each: fine alone, 2^64 together */
        cr_assert_eq(proc_parse_status(b, sizeof(s) - 1, 1, &m), -EBADMSG);
        cr_assert_eq(m.uid, 5);
        cr_assert_eq(proc_parse_status(b, sizeof(s) - 1, 2, &m), 0);
        cr_assert_eq(m.rss_pages, 1ull << 63);
        free(b);
}

ParameterizedTestParameters(proc_parse, status_bad) {
        static struct text_case cases[] = {
                { "" },
                { "Name:\tx\nState:\tS (sleeping)\n" },                    /* no Uid */
                { "Name:\tx\nUid:\t0\t0\t0\n" },                          /* 3 uids */
                { "Uid:\t0\t0\t0\t0\t0\n" },                              /* 5 uids */
                { "Uid:\t4294967296\t0\t0\t0\n" },                        /* > uid_t */
                { "Uid:\t-1\t0\t0\t0\n" },
                { "Uid:\t0 0 0 0\n" },
                { "Uid:\t0\t0\t0\t0" },                                   /* cut */
                { "Uid:\t0\t0\t0\t0\nUid:\t1000\t1000\t1000\t1000\n" },   /* twice */
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t18446744073709551615 kB\n" MM_REST },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t99999999999999999999999 kB\n" MM_REST },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t abc kB\n" MM_REST },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t -4 kB\n" MM_REST },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t 4\n" MM_REST },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t 4 MB\n" MM_REST },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t 4 kB junk\n" MM_REST },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t kB\n" MM_REST },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t 4 kB\n" },                /* partial mm */
                { "Uid:\t0\t0\t0\t0\nVmSwap:\t0 kB\n" },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t 4 kB\nRssAnon:\t 4 kB\n" MM_REST },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t 4 kB\n" MM_REST "RssFile:\t0 kB\n" },
                { "Uid:\t0\t0\t0\t0\nRssAnon:\t 4 kB\nRssFile:\t0 kB\nRssShmem:\t0 kB\n"
                "VmPTE:\t4 kB\nVmSwap:\t0 k" }, /* cut */
                /* a name that smuggled a newline past escaping */
                { "Name:\tevil\nUid:\t0\t0\t0\t0\nState:\tR\nUid:\t1000\t1000\t1000\t1000\n" },
        };
        return cr_make_param_array(struct text_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct text_case *c, proc_parse, status_bad) {
        size_t len = strlen(c->s);
        char *b = dup_exact(c->s, len);
        proc_mem m;

        memset(&m, 0x5A, sizeof(m));
        cr_assert_eq(proc_parse_status(b, len, PAGE, &m), -EBADMSG, "accepted: %s", c->s);
        cr_assert_eq(m.rss_pages, 0x5A5A5A5A5A5A5A5Aull, "ret_mem touched");
        free(b);
}

/* Keys only count at the start of a line. */
Test(proc_parse, status_key_inside_name) {
        static const char s[] = "Name:\tUid:\t0\t0\t0\t0 RssAnon:\t9 kB\n"
                                "Uid:\t1000\t1001\t1002\t1003\n";
        char *b = dup_exact(s, sizeof(s) - 1);
        proc_mem m;

        cr_assert_eq(proc_parse_status(b, sizeof(s) - 1, PAGE, &m), 0);
        cr_assert_eq(m.uid, 1000);
        cr_assert_not(m.has_mm);
        free(b);
}

struct cg_case {
        char name[32]; /* fixture file, or "" for text */
        char text[64];
        size_t size;
        int want_rc;
        char want_path[64];
};

ParameterizedTestParameters(proc_parse, cgroup) {
        static struct cg_case cases[] = {
                { "v2.cgroup", "", 256, 0, "/system.slice/mysql.service" },
                { "hybrid.cgroup", "", 256, 0, "/system.slice/mysql.service" },
                { "host-hybrid.cgroup", "", 256, 0, "/" },
                { "", "0::/\n", 2, 0, "/" },
                { "", "0::/kubepods/pod1/abc\n3:memory:/x\n", 64, 0, "/kubepods/pod1/abc" },
                { "", "0::/a b:c\n", 64, 0, "/a b:c" },
                /* exactly fits, one byte short */
                { "", "0::/abcdefg\n", 9, 0, "/abcdefg" },
                { "", "0::/abcdefg\n", 8, -ENAMETOOLONG, "" },
                { "", "0::/\n", 0, -ENAMETOOLONG, "" },
                { "", "", 64, -ENOENT, "" },
                { "", "4:memory:/a\n1:name=systemd:/a\n", 64, -ENOENT, "" },
                { "", "0:memory:/a\n", 64, -ENOENT, "" },
                /* malformed */
                { "", "0::/a", 64, -EBADMSG, "" },
                { "", "0::a\n", 64, -EBADMSG, "" },
                { "", "0::\n", 64, -EBADMSG, "" },
                { "", "junk\n0::/a\n", 64, -EBADMSG, "" },
                { "", "x:memory:/a\n0::/a\n", 64, -EBADMSG, "" },
                { "", "0:/a\n", 64, -EBADMSG, "" },
                /* a cgroup named "evil\n0::/system.slice/mysql.service" */
                { "", "0::/user/evil\n0::/system.slice/mysql.service\n", 64, -EBADMSG, "" },
                { "", "0::/user/evil\nstuff\n", 64, -EBADMSG, "" },
        };
        return cr_make_param_array(struct cg_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct cg_case *c, proc_parse, cgroup) {
        char out[256];
        size_t len;
        char *b = c->name[0] ? read_fixture(c->name, &len)
                             : dup_exact(c->text, len = strlen(c->text));

        cr_assert_leq(c->size, sizeof(out));
        memset(out, 'Z', sizeof(out));
        cr_assert_eq(proc_parse_cgroup(b, len, out, c->size), c->want_rc, "%s",
                     c->name[0] ? c->name : c->text);
        if (c->want_rc == 0)
                cr_assert_str_eq(out, c->want_path);
        else
                cr_assert_eq(out[0], 'Z', "ret_path touched");
        free(b);
}

struct cmdline_case {
        char in[64];
        size_t len;
        size_t size;
        char want[64];
};

ParameterizedTestParameters(proc_parse, format_cmdline) {
        static struct cmdline_case cases[] = {
                { CL("/usr/sbin/mysqld\0--user=mysql\0"), 64, "/usr/sbin/mysqld --user=mysql" },
                { CL("a\0b"), 64, "a b" },                  /* no final NUL */
                { CL(""), 64, "" },
                { CL("\0"), 64, "" },
                { CL("nginx: worker\0\0\0\0\0"), 64, "nginx: worker" },
                { CL("a\0\0b\0"), 64, "a  b" },             /* an empty argument */
                { CL("sh\0-c\0echo hi\nrm -rf /\0"), 64, "sh -c echo hi?rm -rf /" },
                { CL("a\tb\r\x1b[31m\x7f"), 64, "a?b??[31m?" },
                { CL("caf\xc3\xa9"), 64, "caf??" },
                { CL("abcdef"), 4, "abc" },
                { CL("ab\0cd\0"), 4, "ab " },
                { CL("abc"), 1, "" },
                { CL("abc\0"), 4, "abc" },
        };
        return cr_make_param_array(struct cmdline_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct cmdline_case *c, proc_parse, format_cmdline) {
        char out[80];
        char *b = dup_exact(c->in, c->len);

        memset(out, 'Z', sizeof(out));
        proc_format_cmdline(b, c->len, out, c->size);
        cr_assert_str_eq(out, c->want);
        cr_assert_eq(out[c->size], 'Z', "wrote past size");
        free(b);
}

Test(proc_parse, format_cmdline_long_and_zero_size) {
        char in[4096], out[PROC_CMDLINE_MAX + 1];
        char *b;

        for (size_t i = 0; i < sizeof(in); i++)
                in[i] = i % 8 == 7 ? '\0' : 'x';
        b = dup_exact(in, sizeof(in));
        memset(out, 'Z', sizeof(out));
        proc_format_cmdline(b, sizeof(in), out, PROC_CMDLINE_MAX);
        cr_assert_eq(strlen(out), PROC_CMDLINE_MAX - 1);
        cr_assert_eq(out[7], ' ');
        cr_assert_eq(out[PROC_CMDLINE_MAX], 'Z');
        for (size_t i = 0; i < PROC_CMDLINE_MAX - 1; i++)
                cr_assert(out[i] == 'x' || out[i] == ' ');

        memset(out, 'Z', sizeof(out));
        proc_format_cmdline(b, sizeof(in), out, 0);
        cr_assert_eq(out[0], 'Z');
        free(b);
}

Test(proc_parse, meminfo_real) {
        size_t len;
        char *b = read_fixture("meminfo", &len);
        uint64_t ram, swap;

        cr_assert_eq(proc_parse_meminfo(b, len, PAGE, &ram, &swap), 0);
        cr_assert_eq(ram, 24684084u / 4);
        cr_assert_eq(swap, 0);
        free(b);
}

struct meminfo_case {
        char text[96];
        uint64_t page_size;
        int want_rc;
        uint64_t ram, swap;
};

ParameterizedTestParameters(proc_parse, meminfo) {
        static struct meminfo_case cases[] = {
                { "MemTotal:       1024 kB\nMemFree: 5 kB\nSwapTotal:      2048 kB\n", PAGE, 0,
                  256, 512 },
                { "SwapTotal: 2048 kB\nMemTotal: 1024 kB\n", 16384, 0, 64, 128 },
                { "MemTotal: 1024 kB\n", PAGE, -EBADMSG, 0, 0 },
                { "SwapTotal: 1024 kB\n", PAGE, -EBADMSG, 0, 0 },
                { "MemTotal: 0 kB\nSwapTotal: 0 kB\n", PAGE, -EBADMSG, 0, 0 },
                { "MemTotal: 1024 kB\nSwapTotal: 2048 kB", PAGE, -EBADMSG, 0, 0 },
                { "MemTotal: 1024\nSwapTotal: 2048 kB\n", PAGE, -EBADMSG, 0, 0 },
                { "MemTotal: 18446744073709551615 kB\nSwapTotal: 0 kB\n", PAGE, -EBADMSG, 0, 0 },
                { "MemTotal: 1024 kB\nSwapTotal: -1 kB\n", PAGE, -EBADMSG, 0, 0 },
                { "MemTotal: 1 kB\nMemTotal: 2 kB\nSwapTotal: 0 kB\n", PAGE, -EBADMSG, 0, 0 },
                { "MemTotal: 1024 kB\nSwapTotal: 0 kB\n", 0, -EINVAL, 0, 0 },
        };
        return cr_make_param_array(struct meminfo_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct meminfo_case *c, proc_parse, meminfo) {
        size_t len = strlen(c->text);
        char *b = dup_exact(c->text, len);
        uint64_t ram = 7, swap = 7;

        cr_assert_eq(proc_parse_meminfo(b, len, c->page_size, &ram, &swap), c->want_rc, "%s",
                     c->text);
        cr_assert_eq(ram, c->want_rc == 0 ? c->ram : 7);
        cr_assert_eq(swap, c->want_rc == 0 ? c->swap : 7);
        free(b);
}


Test(proc_parse, meminfo_usage) {
        static const char mi[] = "MemTotal:        1000000 kB\nMemFree:          100000 kB\n"
                                 "MemAvailable:     250000 kB\nSwapTotal:        400000 kB\n"
                                 "SwapFree:         300000 kB\n";
        uint64_t used = 7, total = 7;

        cr_assert_eq(proc_parse_meminfo_usage(mi, strlen(mi), 4096, &used, &total), 0);
        /* (1000000 - 250000) + (400000 - 300000) kB, in 4 KiB pages */
        cr_assert_eq(used, (750000 + 100000) / 4);
        cr_assert_eq(total, 1400000 / 4);

        static const char no_avail[] = "MemTotal: 1000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n";
        used = total = 7;
        cr_assert_eq(proc_parse_meminfo_usage(no_avail, strlen(no_avail), 4096, &used, &total),
                     -EBADMSG);
        cr_assert_eq(used, 7, "untouched on failure");
        static const char odd[] = "MemTotal: 1000 kB\nMemAvailable: 2000 kB\nSwapTotal: 0 kB\n"
                                  "SwapFree: 0 kB\n";
        cr_assert_eq(proc_parse_meminfo_usage(odd, strlen(odd), 4096, &used, &total), -EBADMSG);
}
