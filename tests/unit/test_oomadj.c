/* util/oomadj.c: the oom_score_adj writer on a regular file in a temporary
 * directory opened as the dirfd (what /proc/PID is to it), and once on this
 * process's own /proc/self/oom_score_adj. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/fixture.h"
#include "util/oomadj.h"

static char *dir;
static int dirfd_;

static void setup(void) {
        dir = fx_tmpdir();
        dirfd_ = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(dirfd_, 0);
}

static void teardown(void) {
        close(dirfd_);
        fx_rmtree(dir);
        free(dir);
}

TestSuite(oomadj, .init = setup, .fini = teardown);

static void assert_holds(const char *want) {
        char *got = fx_read(dir, "oom_score_adj", NULL);
        cr_assert_str_eq(got, want);
        free(got);
}

Test(oomadj, writes_the_value_alone) {
        /* Longer than what is written: O_TRUNC leaves the value alone. */
        fx_write(dir, "oom_score_adj", "-1000\n");
        cr_assert_eq(gd_oomadj_write_at(dirfd_, 500), 0);
        assert_holds("500\n");
        cr_assert_eq(gd_oomadj_write_at(dirfd_, GD_OOMADJ_MIN), 0);
        assert_holds("-1000\n");
        cr_assert_eq(gd_oomadj_write_at(dirfd_, GD_OOMADJ_MAX), 0);
        assert_holds("1000\n");
        cr_assert_eq(gd_oomadj_write_at(dirfd_, 0), 0);
        assert_holds("0\n");
}

Test(oomadj, out_of_range_writes_nothing) {
        fx_write(dir, "oom_score_adj", "7\n");
        cr_assert_eq(gd_oomadj_write_at(dirfd_, GD_OOMADJ_MAX + 1), -EINVAL);
        cr_assert_eq(gd_oomadj_write_at(dirfd_, GD_OOMADJ_MIN - 1), -EINVAL);
        assert_holds("7\n");
}

Test(oomadj, open_errors_are_negative_errno) {
        /* No file: not created (a gone process's directory is empty). */
        cr_assert_eq(gd_oomadj_write_at(dirfd_, 1), -ENOENT);
        cr_assert_eq(faccessat(dirfd_, "oom_score_adj", F_OK, 0), -1);
        fx_mkdir(dir, "oom_score_adj");
        cr_assert_eq(gd_oomadj_write_at(dirfd_, 1), -EISDIR);
        cr_assert_eq(gd_oomadj_write_at(-1, 1), -EBADF);
}

Test(oomadj, self) {
        /* Raising it needs no privilege, and the test runs in a process of
         * its own: the write changes nothing outside this test. */
        char *before = fx_read("/proc/self", "oom_score_adj", NULL), *after;
        int adj = atoi(before), want = adj < GD_OOMADJ_MAX ? adj + 1 : adj;
        char text[16];

        cr_assert_eq(gd_oomadj_write_self(want), 0);
        after = fx_read("/proc/self", "oom_score_adj", NULL);
        snprintf(text, sizeof(text), "%d\n", want);
        cr_assert_str_eq(after, text);
        free(before);
        free(after);
}
