/* cgroup/cgroup.c: the pure parsers against real kernel files (captured from
 * the Linux 6.1 test VM, see tests/unit/fixtures/cgroup/README) and hostile
 * input. The readers, discovery and path normalisation are in
 * test_cgroup_read.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <criterion/parameterized.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "tests/lib/fixture.h"

/* A copy of exactly len bytes with no NUL after it, so ASan reports any
 * read past len. Free with free(). */
static char *exact(const char *s, size_t len) {
        char *p = malloc(len ? len : 1);
        cr_assert(p);
        memcpy(p, s, len);
        return p;
}

/* Hostile-input case: bytes in, expected result out. len 0 means strlen(in)
 * (inputs with embedded NULs give their length). */
struct hostile {
        char in[200]; /* arrays, not pointers: Criterion copies parameters into
                       * a test process where the parent's addresses mean nothing */
        size_t len;
        int ret;
        uint64_t value; /* a field the case checks on success */
};

static size_t hostile_len(const struct hostile *h) {
        return h->len ? h->len : strlen(h->in);
}

/* ================================================================
 * cgroup_parse: pure parsers
 * ================================================================ */

TestSuite(cgroup_parse);

ParameterizedTestParameters(cgroup_parse, u64_or_max) {
        static struct hostile cases[] = {
                { "0\n", 0, 0, 0 },
                { "12345\n", 0, 0, 12345 },
                { "67108864", 0, 0, 67108864 }, /* no trailing newline */
                { "max\n", 0, 0, CG_UNLIMITED },
                { "max", 0, 0, CG_UNLIMITED },
                { "18446744073709551615\n", 0, 0, UINT64_MAX },
                { "007\n", 0, 0, 7 },
                { "12345\n", 2, 0, 12 }, /* len rules, not the NUL */
                { "", 0, -EBADMSG, 0 },
                { "\n", 0, -EBADMSG, 0 },
                { "18446744073709551616\n", 0, -EBADMSG, 0 },
                { "99999999999999999999\n", 0, -EBADMSG, 0 },
                { "184467440737095516150\n", 0, -EBADMSG, 0 },
                { "-1\n", 0, -EBADMSG, 0 },
                { "+1\n", 0, -EBADMSG, 0 },
                { " 1\n", 0, -EBADMSG, 0 },
                { "1 \n", 0, -EBADMSG, 0 },
                { "1\n\n", 0, -EBADMSG, 0 },
                { "1\r\n", 0, -EBADMSG, 0 },
                { "12a\n", 0, -EBADMSG, 0 },
                { "0x10\n", 0, -EBADMSG, 0 },
                { "1.5\n", 0, -EBADMSG, 0 },
                { "1e3\n", 0, -EBADMSG, 0 },
                { "maxx\n", 0, -EBADMSG, 0 },
                { "Max\n", 0, -EBADMSG, 0 },
                { "ma", 0, -EBADMSG, 0 },
                { "max\n", 2, -EBADMSG, 0 },
                { "max 1\n", 0, -EBADMSG, 0 },
                { "1\0", 2, -EBADMSG, 0 },
                { "\0", 1, -EBADMSG, 0 },
                { "1\0002\n", 4, -EBADMSG, 0 },
        };
        return cr_make_param_array(struct hostile, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct hostile *h, cgroup_parse, u64_or_max) {
        size_t len = hostile_len(h);
        char *buf = exact(h->in, len);
        uint64_t v = 0xdeadbeef;
        int r = cg_parse_u64_or_max(buf, len, &v);

        cr_expect_eq(r, h->ret, "\"%s\" (len %zu): got %d, want %d", h->in, len, r, h->ret);
        if (h->ret == 0)
                cr_expect_eq(v, h->value, "\"%s\": got %lu", h->in, (unsigned long)v);
        else
                cr_expect_eq(v, 0xdeadbeef, "output touched on failure");
        free(buf);
}

Test(cgroup_parse, u64_real_files) {
        static const struct {
                const char *file;
                uint64_t want;
        } files[] = {
                { "cgroup/limited/memory.max", 64 << 20 },
                { "cgroup/limited/memory.high", 48 << 20 },
                { "cgroup/limited/memory.swap.max", 0 },
                { "cgroup/limited/memory.current", 56750080 },
                { "cgroup/oom/memory.max", 16 << 20 },
                { "cgroup/oom/memory.current", 57344 },
                { "cgroup/default/memory.max", CG_UNLIMITED },
                { "cgroup/default/memory.high", CG_UNLIMITED },
                { "cgroup/default/memory.swap.max", CG_UNLIMITED },
                { "cgroup/default/memory.low", 0 },
                { "cgroup/default/memory.min", 0 },
                { "cgroup/default/memory.current", 0 },
        };
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
                size_t len;
                char *buf = fx_read_fixture(files[i].file, &len);
                uint64_t v = 1;
                cr_expect_eq(cg_parse_u64_or_max(buf, len, &v), 0, "%s", files[i].file);
                cr_expect_eq(v, files[i].want, "%s: %lu", files[i].file, (unsigned long)v);
                free(buf);
        }
}

Test(cgroup_parse, memory_events_real) {
        size_t len;
        char *buf = fx_read_fixture("cgroup/oom/memory.events", &len);
        cg_memory_events ev;

        cr_assert_eq(cg_parse_memory_events(buf, len, &ev), 0);
        /* The kernel OOM-killed the one process of that cgroup. */
        cr_expect_eq(ev.oom, 1);
        cr_expect_eq(ev.oom_kill, 1);
        cr_expect_eq(ev.oom_group_kill, 0);
        cr_expect_eq(ev.max, 39);
        cr_expect_eq(ev.high, 0);
        cr_expect_eq(ev.low, 0);
        free(buf);

        buf = fx_read_fixture("cgroup/limited/memory.events", &len);
        cr_assert_eq(cg_parse_memory_events(buf, len, &ev), 0);
        cr_expect_eq(ev.high, 37, "the capture allocated past memory.high");
        cr_expect_eq(ev.max, 0);
        cr_expect_eq(ev.oom_kill, 0);
        free(buf);

        buf = fx_read_fixture("cgroup/limited/memory.events.local", &len);
        cr_assert_eq(cg_parse_memory_events(buf, len, &ev), 0);
        cr_expect_eq(ev.high, 37);
        free(buf);

        buf = fx_read_fixture("cgroup/default/memory.events", &len);
        memset(&ev, 0xff, sizeof ev);
        cr_assert_eq(cg_parse_memory_events(buf, len, &ev), 0);
        cr_expect(ev.low == 0 && ev.high == 0 && ev.max == 0 && ev.oom == 0 && ev.oom_kill == 0 &&
                  ev.oom_group_kill == 0);
        free(buf);
}

/* value: the expected oom_kill on success. */
ParameterizedTestParameters(cgroup_parse, memory_events_hostile) {
        static struct hostile cases[] = {
                { "low 0\nhigh 0\nmax 0\noom 0\noom_kill 7\noom_group_kill 0\n", 0, 0, 7 },
                { "oom_kill 3", 0, 0, 3 },                   /* no trailing newline */
                { "oom_kill 3\nsock_throttled 9\n", 0, 0, 3 }, /* unknown key ignored */
                { "newer_key 1\noom_kill 18446744073709551615\n", 0, 0, UINT64_MAX },
                { "low 1\n", 0, 0, 0 },                      /* missing keys stay 0 */
                { "oom_kill 12\n", 10, 0, 1 },               /* cut by len */
                { "", 0, -EBADMSG, 0 },
                { "\n", 0, -EBADMSG, 0 },
                { "garbage", 0, -EBADMSG, 0 },
                { "sock_throttled 1\n", 0, -EBADMSG, 0 },    /* no known key */
                { "oom_kill 2\nhigh 0\nma", 0, 0, 2 },        /* a cut unknown key */
                { "oom_kill 2\nnewer_key -1 x\n", 0, 0, 2 }, /* unknown: not even read */
                { "oom_kill 2\n\ngarbage\n", 0, 0, 2 },
                { "low 0\nhigh 0\nmax ", 0, -EBADMSG, 0 },     /* a cut known key */
                { "low\n", 0, -EBADMSG, 0 },
                { " low 1\n", 0, -EBADMSG, 0 },
                { "low  1\n", 0, -EBADMSG, 0 },
                { "low\t1\n", 0, -EBADMSG, 0 },               /* key "low\t1": unknown */
                { "low 1 2\n", 0, -EBADMSG, 0 },
                { "low -1\n", 0, -EBADMSG, 0 },
                { "low max\n", 0, -EBADMSG, 0 },
                { "oom_kill 18446744073709551616\n", 0, -EBADMSG, 0 },
                { "oom 1\noom 2\n", 0, -EBADMSG, 0 },        /* duplicate key */
                { "oom_kill 1\noom 2x\n", 0, -EBADMSG, 0 },
                { "low 0\0\nhigh 0\n", 13, -EBADMSG, 0 },    /* embedded NUL */
                { "lo\0w 0\n", 7, -EBADMSG, 0 },
        };
        return cr_make_param_array(struct hostile, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct hostile *h, cgroup_parse, memory_events_hostile) {
        size_t len = hostile_len(h);
        char *buf = exact(h->in, len);
        cg_memory_events ev, before;

        memset(&ev, 0xa5, sizeof ev);
        before = ev;
        int r = cg_parse_memory_events(buf, len, &ev);
        cr_expect_eq(r, h->ret, "case \"%s\": got %d", h->in, r);
        if (h->ret == 0)
                cr_expect_eq(ev.oom_kill, h->value, "case \"%s\": oom_kill %lu", h->in, (unsigned long)ev.oom_kill);
        else
                cr_expect(memcmp(&ev, &before, sizeof ev) == 0, "output touched on failure");
        free(buf);
}

Test(cgroup_parse, psi_real) {
        size_t len;
        char *buf = fx_read_fixture("cgroup/oom/memory.pressure", &len);
        cg_psi psi;

        cr_assert_eq(cg_parse_psi(buf, len, &psi), 0);
        cr_expect(psi.has_full);
        /* Reclaim before the OOM kill stalled the cgroup. */
        cr_expect_eq(psi.some.total_us, 16980);
        cr_expect_eq(psi.full.total_us, 16980);
        free(buf);

        buf = fx_read_fixture("cgroup/limited/memory.pressure", &len);
        cr_assert_eq(cg_parse_psi(buf, len, &psi), 0);
        cr_expect_float_eq(psi.some.avg10, 11.68, 1e-9);
        cr_expect_float_eq(psi.some.avg60, 2.33, 1e-9);
        cr_expect_float_eq(psi.some.avg300, 0.49, 1e-9);
        cr_expect_eq(psi.some.total_us, 2428494);
        cr_expect_float_eq(psi.full.avg10, 11.68, 1e-9);
        cr_expect_eq(psi.full.total_us, 2428494);
        free(buf);

        buf = fx_read_fixture("cgroup/proc-pressure-cpu", &len);
        cr_assert_eq(cg_parse_psi(buf, len, &psi), 0);
        cr_expect_float_eq(psi.some.avg10, 3.02, 1e-9);
        cr_expect_eq(psi.some.total_us, 1281680);
        cr_expect(psi.has_full);
        cr_expect_eq(psi.full.total_us, 0);
        free(buf);

        buf = fx_read_fixture("cgroup/proc-pressure-memory", &len);
        cr_assert_eq(cg_parse_psi(buf, len, &psi), 0);
        cr_expect(psi.has_full);
        free(buf);

        buf = fx_read_fixture("cgroup/hybrid-host.memory.pressure", &len);
        cr_assert_eq(cg_parse_psi(buf, len, &psi), 0);
        cr_expect(psi.has_full);
        free(buf);
}

Test(cgroup_parse, psi_values) {
        static const char in[] = "some avg10=12.34 avg60=0.50 avg300=100.00 total=987654321\n"
                                 "full avg10=1.05 avg60=0.00 avg300=0.01 total=42\n";
        cg_psi psi;

        cr_assert_eq(cg_parse_psi(in, sizeof in - 1, &psi), 0);
        cr_expect_float_eq(psi.some.avg10, 12.34, 1e-9);
        cr_expect_float_eq(psi.some.avg60, 0.50, 1e-9);
        cr_expect_float_eq(psi.some.avg300, 100.0, 1e-9);
        cr_expect_eq(psi.some.total_us, 987654321);
        cr_expect(psi.has_full);
        cr_expect_float_eq(psi.full.avg10, 1.05, 1e-9);
        cr_expect_float_eq(psi.full.avg300, 0.01, 1e-9);
        cr_expect_eq(psi.full.total_us, 42);
}

struct psi_case {
        char in[200];
        size_t len;
        int ret;
        uint64_t some_total;
        bool has_full;
};

ParameterizedTestParameters(cgroup_parse, psi_hostile) {
        static struct psi_case cases[] = {
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", 0, 0, 5, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=5", 0, 0, 5, false },
                { "full avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"
                  "some avg10=0.00 avg60=0.00 avg300=0.00 total=2\n", 0, 0, 2, true },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551615\n", 0, 0, UINT64_MAX, false },
                { "", 0, -EBADMSG, 0, false },
                { "\n", 0, -EBADMSG, 0, false },
                { "some\n", 0, -EBADMSG, 0, false },
                { "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00\n", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=\n", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 tot", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=0 \n", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=0 extra=1\n", 0, -EBADMSG, 0, false },
                { "some avg60=0.00 avg10=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=abc avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=1 avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=1. avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=.5 avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=1.2.3 avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=0.0000000001 avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=99999999999999999999.00 avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some  avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                  "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                  "cpu avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00", 0, -EBADMSG, 0, false },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\0\n", 48, -EBADMSG, 0, false },
        };
        return cr_make_param_array(struct psi_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct psi_case *h, cgroup_parse, psi_hostile) {
        size_t len = h->len ? h->len : strlen(h->in);
        char *buf = exact(h->in, len);
        cg_psi psi, before;

        memset(&psi, 0x5a, sizeof psi);
        before = psi;
        int r = cg_parse_psi(buf, len, &psi);
        cr_expect_eq(r, h->ret, "case \"%s\": got %d", h->in, r);
        if (h->ret == 0) {
                cr_expect_eq(psi.some.total_us, h->some_total);
                cr_expect_eq(psi.has_full, h->has_full);
        } else
                cr_expect(memcmp(&psi, &before, sizeof psi) == 0, "output touched on failure");
        free(buf);
}

Test(cgroup_parse, memory_stat_real) {
        size_t len;
        char *buf = fx_read_fixture("cgroup/limited/memory.stat", &len);
        cg_memory_stat st;

        cr_assert_eq(cg_parse_memory_stat(buf, len, &st), 0);
        /* 51 lines; the ones guardian keeps: */
        cr_expect_eq(st.anon, 51900416);
        cr_expect_eq(st.anon_thp, 48234496);
        cr_expect_eq(st.inactive_anon, 51896320);
        cr_expect_eq(st.active_anon, 4096);
        cr_expect_eq(st.file, 0);
        cr_expect_eq(st.kernel, 221184);
        cr_expect_eq(st.slab_reclaimable, 32672);
        cr_expect_eq(st.slab_unreclaimable, 12560);
        cr_expect_eq(st.pgfault, 1077);
        cr_expect_eq(st.pgmajfault, 17);
        cr_expect_eq(st.anon, st.inactive_anon + st.active_anon);
        free(buf);

        buf = fx_read_fixture("cgroup/oom/memory.stat", &len);
        cr_assert_eq(cg_parse_memory_stat(buf, len, &st), 0);
        cr_expect_eq(st.anon, 0, "the OOM victim's memory is gone");
        cr_expect_eq(st.kernel, 12288);
        cr_expect_eq(st.pgfault, 545);
        cr_expect_eq(st.pgmajfault, 1);
        free(buf);
}

Test(cgroup_parse, memory_stat_values) {
        static const char in[] = "anon 1\nfile 2\nkernel 3\nkernel_stack 999\nshmem 4\nsock 5\n"
                                 "file_mapped 6\nfile_dirty 7\nfile_writeback 8\nanon_thp 9\n"
                                 "inactive_anon 10\nactive_anon 11\ninactive_file 12\nactive_file 13\n"
                                 "unevictable 14\nslab_reclaimable 15\nslab_unreclaimable 16\n"
                                 "slab 31\nworkingset_refault_anon 17\nworkingset_refault_file 18\n"
                                 "pgfault 19\npgmajfault 20\n";
        cg_memory_stat st;

        cr_assert_eq(cg_parse_memory_stat(in, sizeof in - 1, &st), 0);
        const uint64_t got[] = {
                st.anon, st.file, st.kernel, st.shmem, st.sock, st.file_mapped, st.file_dirty,
                st.file_writeback, st.anon_thp, st.inactive_anon, st.active_anon, st.inactive_file,
                st.active_file, st.unevictable, st.slab_reclaimable, st.slab_unreclaimable,
                st.workingset_refault_anon, st.workingset_refault_file, st.pgfault, st.pgmajfault,
        };
        for (size_t i = 0; i < sizeof got / sizeof got[0]; i++)
                cr_expect_eq(got[i], i + 1, "field %zu: %lu", i, (unsigned long)got[i]);
}

/* value: the expected anon on success. */
ParameterizedTestParameters(cgroup_parse, memory_stat_hostile) {
        static struct hostile cases[] = {
                { "anon 5\n", 0, 0, 5 },
                { "file 5\n", 0, 0, 0 },            /* missing keys stay 0 */
                { "anon 5", 0, 0, 5 },
                { "zswap 1\nanon 18446744073709551615\n", 0, 0, UINT64_MAX },
                { "", 0, -EBADMSG, 0 },
                { "\n", 0, -EBADMSG, 0 },
                { "zswap 1\nzswapped 2\n", 0, -EBADMSG, 0 }, /* none of our keys */
                { "anon 1\nfile x\n", 0, -EBADMSG, 0 },
                { "anon 1\nfoo bar\n", 0, -EBADMSG, 0 },     /* unknown keys must still be "key u64" */
                { "anon 1\ngarbage\n", 0, -EBADMSG, 0 },
                { "anon 1\n\nfile 2\n", 0, -EBADMSG, 0 },
                { "anon 1\nfile\n", 0, -EBADMSG, 0 },
                { "anon 1\nfi", 0, -EBADMSG, 0 },
                { "anon 18446744073709551616\n", 0, -EBADMSG, 0 },
                { "anon -5\n", 0, -EBADMSG, 0 },
                { "anon max\n", 0, -EBADMSG, 0 },
                { "anon 1\nanon 2\n", 0, -EBADMSG, 0 },
                { "anon 1\r\n", 0, -EBADMSG, 0 },
                { "anon 1\n\0file 2\n", 14, -EBADMSG, 0 },
        };
        return cr_make_param_array(struct hostile, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct hostile *h, cgroup_parse, memory_stat_hostile) {
        size_t len = hostile_len(h);
        char *buf = exact(h->in, len);
        cg_memory_stat st, before;

        memset(&st, 0x77, sizeof st);
        before = st;
        int r = cg_parse_memory_stat(buf, len, &st);
        cr_expect_eq(r, h->ret, "case \"%s\": got %d", h->in, r);
        if (h->ret == 0)
                cr_expect_eq(st.anon, h->value);
        else
                cr_expect(memcmp(&st, &before, sizeof st) == 0, "output touched on failure");
        free(buf);
}

/* A 1 MiB line: an unknown key is skipped whatever its length, a value
 * that long overflows. */
Test(cgroup_parse, memory_stat_long_lines) {
        size_t n = 1 << 20;
        char *buf = malloc(n + 64);
        cg_memory_stat st;

        cr_assert(buf);
        size_t len = (size_t)sprintf(buf, "anon 5\n");
        memset(buf + len, 'k', n);
        len += n;
        len += (size_t)sprintf(buf + len, " 1\nfile 6\n");
        cr_expect_eq(cg_parse_memory_stat(buf, len, &st), 0);
        cr_expect_eq(st.anon, 5);
        cr_expect_eq(st.file, 6);

        len = (size_t)sprintf(buf, "anon ");
        memset(buf + len, '9', n);
        len += n;
        cr_expect_eq(cg_parse_memory_stat(buf, len, &st), -EBADMSG);
        free(buf);
}

Test(cgroup_parse, cgroup_events_real) {
        size_t len;
        char *buf = fx_read_fixture("cgroup/limited/cgroup.events", &len);
        cg_cgroup_events ev = { .populated = false, .frozen = true };

        cr_assert_eq(cg_parse_cgroup_events(buf, len, &ev), 0);
        cr_expect(ev.populated);
        cr_expect(!ev.frozen);
        free(buf);

        buf = fx_read_fixture("cgroup/frozen/cgroup.events", &len);
        cr_assert_eq(cg_parse_cgroup_events(buf, len, &ev), 0);
        cr_expect(ev.populated);
        cr_expect(ev.frozen);
        free(buf);

        buf = fx_read_fixture("cgroup/oom/cgroup.events", &len);
        cr_assert_eq(cg_parse_cgroup_events(buf, len, &ev), 0);
        cr_expect(!ev.populated, "the OOM-killed cgroup is empty");
        free(buf);

        buf = fx_read_fixture("cgroup/default/cgroup.events", &len);
        ev = (cg_cgroup_events){ .populated = true, .frozen = true };
        cr_assert_eq(cg_parse_cgroup_events(buf, len, &ev), 0);
        cr_expect(!ev.populated);
        cr_expect(!ev.frozen);
        free(buf);
}

/* value: populated * 2 + frozen on success. */
ParameterizedTestParameters(cgroup_parse, cgroup_events_hostile) {
        static struct hostile cases[] = {
                { "populated 1\nfrozen 0\n", 0, 0, 2 },
                { "populated 0\nfrozen 1\n", 0, 0, 1 },
                { "frozen 1\npopulated 1", 0, 0, 3 },
                { "populated 1\n", 0, 0, 2 },                  /* no "frozen" before 5.2 */
                { "populated 0\nnew_key 7\n", 0, 0, 0 },
                { "", 0, -EBADMSG, 0 },
                { "frozen 0\n", 0, -EBADMSG, 0 },
                { "populated 2\n", 0, -EBADMSG, 0 },
                { "populated 1\nfrozen 2\n", 0, -EBADMSG, 0 },
                { "populated yes\n", 0, -EBADMSG, 0 },
                { "populated\n", 0, -EBADMSG, 0 },
                { "populated 18446744073709551616\n", 0, -EBADMSG, 0 },
                { "populated 1\npopulated 0\n", 0, -EBADMSG, 0 },
                { "populated 1\nfoo bar\n", 0, -EBADMSG, 0 },
                { "populated 1\0\n", 13, -EBADMSG, 0 },
        };
        return cr_make_param_array(struct hostile, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct hostile *h, cgroup_parse, cgroup_events_hostile) {
        size_t len = hostile_len(h);
        char *buf = exact(h->in, len);
        cg_cgroup_events ev = { .populated = true, .frozen = true };
        int r = cg_parse_cgroup_events(buf, len, &ev);

        cr_expect_eq(r, h->ret, "case \"%s\": got %d", h->in, r);
        if (h->ret == 0)
                cr_expect_eq(ev.populated * 2u + ev.frozen, h->value);
        else
                cr_expect(ev.populated && ev.frozen, "output touched on failure");
        free(buf);
}

struct controllers_case {
        char buf[64];
        size_t len;
        char controller[16];
        bool want; /* controller "(null)" passes NULL */
};

ParameterizedTestParameters(cgroup_parse, controllers_has) {
        static struct controllers_case cases[] = {
                { "cpuset cpu io memory hugetlb pids rdma misc\n", 0, "memory", true },
                { "cpuset cpu io memory hugetlb pids rdma misc\n", 0, "cpuset", true },
                { "cpuset cpu io memory hugetlb pids rdma misc\n", 0, "misc", true },
                { "memory", 0, "memory", true },
                { "io\tmemory\n", 0, "memory", true },
                { "cpuset cpu io memory\n", 0, "mem", false },
                { "cpuset cpu io memoryx\n", 0, "memory", false },
                { "hugetlb\n", 0, "memory", false },
                { "", 0, "memory", false },
                { "\n", 0, "memory", false },
                { "memory\n", 0, "", false },
                { "memory\n", 0, "(null)", false },
                { "cpu memory", 6, "memory", false }, /* "cpu me": len rules */
                { "mem\0ory\n", 8, "memory", false },
                { "cpu\0memory\n", 11, "memory", false }, /* a NUL separates nothing */
        };
        return cr_make_param_array(struct controllers_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct controllers_case *c, cgroup_parse, controllers_has) {
        size_t len = c->len ? c->len : strlen(c->buf);
        char *buf = exact(c->buf, len);

        const char *controller = strcmp(c->controller, "(null)") ? c->controller : NULL;

        cr_expect_eq(cg_controllers_has(buf, len, controller), c->want, "\"%s\" has \"%s\"", c->buf,
                     controller ? controller : "(null)");
        free(buf);
}

Test(cgroup_parse, controllers_real) {
        size_t len;
        char *buf = fx_read_fixture("cgroup/root/cgroup.controllers", &len);

        cr_expect(cg_controllers_has(buf, len, "memory"));
        cr_expect(cg_controllers_has(buf, len, "pids"));
        cr_expect(!cg_controllers_has(buf, len, "memory.max"));
        free(buf);

        buf = fx_read_fixture("cgroup/hybrid-host.cgroup.controllers", &len);
        cr_expect(!cg_controllers_has(buf, len, "memory"), "a hybrid host's v2 has no memory controller");
        free(buf);
}

Test(cgroup_parse, pids) {
        static const char in[] = "1\n22\n333\n4194304\n";
        pid_t pids[8] = { 0 };

        cr_assert_eq(cg_parse_pids(in, sizeof in - 1, pids, 8), 4);
        cr_expect_eq(pids[0], 1);
        cr_expect_eq(pids[1], 22);
        cr_expect_eq(pids[2], 333);
        cr_expect_eq(pids[3], 4194304);
        cr_expect_eq(pids[4], 0);

        /* Too little room: the full count, and nothing stored past cap. */
        pid_t small[3] = { -1, -1, -1 };
        cr_expect_eq(cg_parse_pids(in, sizeof in - 1, small, 2), 4);
        cr_expect_eq(small[0], 1);
        cr_expect_eq(small[1], 22);
        cr_expect_eq(small[2], -1);
        cr_expect_eq(cg_parse_pids(in, sizeof in - 1, NULL, 0), 4);

        cr_expect_eq(cg_parse_pids("", 0, pids, 8), 0, "an empty cgroup");
        cr_expect_eq(cg_parse_pids("7", 1, pids, 8), 1);
        cr_expect_eq(pids[0], 7);

        size_t len;
        char *buf = fx_read_fixture("cgroup/limited/cgroup.procs", &len);
        cr_expect_eq(cg_parse_pids(buf, len, pids, 8), 1, "the capture ran one process");
        cr_expect_eq(pids[0], 157);
        free(buf);
        buf = fx_read_fixture("cgroup/oom/cgroup.procs", &len);
        cr_expect_eq(cg_parse_pids(buf, len, pids, 8), 0);
        free(buf);
}

ParameterizedTestParameters(cgroup_parse, pids_hostile) {
        static struct hostile cases[] = {
                { "0\n", 0, -EBADMSG, 0 },
                { "-1\n", 0, -EBADMSG, 0 },
                { "2147483648\n", 0, -EBADMSG, 0 },
                { "18446744073709551616\n", 0, -EBADMSG, 0 },
                { "1\n\n2\n", 0, -EBADMSG, 0 },
                { "\n", 0, -EBADMSG, 0 },
                { "abc\n", 0, -EBADMSG, 0 },
                { "1 \n", 0, -EBADMSG, 0 },
                { "1 2\n", 0, -EBADMSG, 0 },
                { "1\n2\0\n", 5, -EBADMSG, 0 },
                { "2147483647\n", 0, 1, 2147483647 },
        };
        return cr_make_param_array(struct hostile, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct hostile *h, cgroup_parse, pids_hostile) {
        size_t len = hostile_len(h);
        char *buf = exact(h->in, len);
        pid_t pids[4] = { 0 };

        cr_expect_eq(cg_parse_pids(buf, len, pids, 4), h->ret, "case \"%s\"", h->in);
        if (h->ret > 0)
                cr_expect_eq((uint64_t)pids[0], h->value);
        free(buf);
}

Test(cgroup_parse, mountinfo_real) {
        size_t len;
        char *buf = fx_read_fixture("cgroup/mountinfo-vm", &len);
        char path[PATH_MAX] = "untouched";

        cr_assert_eq(cg_parse_mountinfo_cgroup2(buf, len, path, sizeof path), 0);
        cr_expect_str_eq(path, "/sys/fs/cgroup");
        free(buf);

        /* A hybrid host: a dozen v1 "cgroup" mounts come first. */
        buf = fx_read_fixture("cgroup/mountinfo-hybrid", &len);
        cr_assert_eq(cg_parse_mountinfo_cgroup2(buf, len, path, sizeof path), 0);
        cr_expect_str_eq(path, "/sys/fs/cgroup/unified");
        free(buf);

        buf = fx_read_fixture("cgroup/mountinfo-escaped", &len);
        cr_assert_eq(cg_parse_mountinfo_cgroup2(buf, len, path, sizeof path), 0);
        cr_expect_str_eq(path, "/run/my cgroup\tv2\\x");
        /* The exact room, then one byte short. */
        cr_expect_eq(cg_parse_mountinfo_cgroup2(buf, len, path, strlen("/run/my cgroup\tv2\\x") + 1), 0);
        strcpy(path, "untouched");
        cr_expect_eq(cg_parse_mountinfo_cgroup2(buf, len, path, strlen("/run/my cgroup\tv2\\x")),
                     -ENAMETOOLONG);
        cr_expect_str_eq(path, "untouched");
        free(buf);
}

struct mountinfo_case {
        char in[200];
        int ret;
        char path[64];
};

ParameterizedTestParameters(cgroup_parse, mountinfo_hostile) {
        static struct mountinfo_case cases[] = {
                { "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw", 0,
                  "/sys/fs/cgroup/unified" },
                { "1 0 0:1 / /a rw shared:1 master:2 - cgroup2 none rw\n", 0, "/a" },
                { "1 0 0:1 / /a rw - cgroup none rw\n2 0 0:2 / /b rw - cgroup2 none rw\n"
                  "3 0 0:3 / /c rw - cgroup2 none rw\n", 0, "/b" },
                { "1 0 0:1 / /a\\040b rw - cgroup2 none rw\n", 0, "/a b" },
                { "1 0 0:1 / /- rw - cgroup2 none rw\n", 0, "/-" },
                { "", -ENOENT, "" },
                { "1 0 0:1 / / rw - ext4 /dev/sda1 rw\n", -ENOENT, "" },
                { "1 0 0:1 / /a rw - cgroup2fs none rw\n", -ENOENT, "" },
                { "1 0 0:1 / /a rw - cgroup2", -EBADMSG, "" },  /* cut after the fstype */
                { "1 0 0:1 / /a rw - cgroup2  rw\n", 0, "/a" }, /* empty source (mount -t cgroup2 "" /a) */
                { "1 0 0:1 / / rw - tmpfs  rw\n2 0 0:2 / /b rw - cgroup2 none rw\n", 0, "/b" },
                { "1 0 0:1 / /a rw cgroup2 none rw\n", -EBADMSG, "" },   /* no separator */
                { "1 0 0:1 / /a rw -\n", -EBADMSG, "" },
                { "1 0 0:1 /\n", -EBADMSG, "" },
                { "\n", -EBADMSG, "" },
                { "1 0 0:1 / /a  rw - cgroup2 none rw\n", -EBADMSG, "" },
                { "1 0 0:1 / a rw - cgroup2 none rw\n", -EBADMSG, "" },  /* relative */
                { "1 0 0:1 / /a\\04 rw - cgroup2 none rw\n", -EBADMSG, "" },
                { "1 0 0:1 / /a\\ rw - cgroup2 none rw\n", -EBADMSG, "" },
                { "1 0 0:1 / /a\\000 rw - cgroup2 none rw\n", -EBADMSG, "" },
                { "1 0 0:1 / /a\\089 rw - cgroup2 none rw\n", -EBADMSG, "" },
                { "1 0 0:1 / /a\\777 rw - cgroup2 none rw\n", -EBADMSG, "" },
        };
        return cr_make_param_array(struct mountinfo_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct mountinfo_case *c, cgroup_parse, mountinfo_hostile) {
        size_t len = strlen(c->in);
        char *buf = exact(c->in, len);
        char path[64] = "untouched";
        int r = cg_parse_mountinfo_cgroup2(buf, len, path, sizeof path);

        cr_expect_eq(r, c->ret, "case \"%s\": got %d", c->in, r);
        cr_expect_str_eq(path, c->ret == 0 ? c->path : "untouched");
        free(buf);
}

Test(cgroup_parse, mountinfo_nul) {
        static const char in[] = "1 0 0:1 / /a rw - cgroup2 none rw\n";
        char *buf = exact(in, sizeof in - 1);
        char path[64];

        buf[12] = '\0';
        cr_expect_eq(cg_parse_mountinfo_cgroup2(buf, sizeof in - 1, path, sizeof path), -EBADMSG);
        free(buf);
}

Test(cgroup_parse, is_gone) {
        cr_expect(cg_is_gone(-ENOENT));
        cr_expect(cg_is_gone(-ENODEV));
        cr_expect(cg_is_gone(-ESRCH));
        cr_expect(!cg_is_gone(-EBADMSG));
        cr_expect(!cg_is_gone(-EACCES));
        cr_expect(!cg_is_gone(0));
}


Test(cgroup_parse, rel_under) {
        cr_assert(cg_rel_under("a/b", "a/b"));
        cr_assert(cg_rel_under("a/b/c", "a/b"));
        cr_assert(cg_rel_under("init.scope", "init.scope"));
        cr_assert(cg_rel_under("anything", "")); /* the root holds everything */
        cr_assert(cg_rel_under("", ""));
        cr_assert_not(cg_rel_under("a/bc", "a/b"));
        cr_assert_not(cg_rel_under("a", "a/b"));
        cr_assert_not(cg_rel_under("", "a"));
        cr_assert_not(cg_rel_under("init.scoped", "init.scope"));
        /* A trailing '/' on top is not part of its name. */
        cr_assert(cg_rel_under("a/b/c", "a/b/"));
        cr_assert(cg_rel_under("a/b", "a/b//"));
        cr_assert_not(cg_rel_under("a/bc", "a/b/"));
        cr_assert(cg_rel_under("x", "/")); /* only slashes: the root */
}

/* One way to name a child: a path too long is an error the walkers count,
 * never a silently cut name. */
Test(cgroup_parse, rel_child_joins_and_refuses_what_does_not_fit) {
        char buf[8];
        cr_assert_eq(cg_rel_child("", "a", buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "a", "the root's child has no slash");
        cr_assert_eq(cg_rel_child("a", "b", buf, sizeof(buf)), 0);
        cr_assert_str_eq(buf, "a/b");
        cr_assert_eq(cg_rel_child("abc", "defg", buf, sizeof(buf)), -ENAMETOOLONG, "8 bytes");
        cr_assert_eq(cg_rel_child("abc", "def", buf, sizeof(buf)), 0, "7 bytes and the NUL");
}
