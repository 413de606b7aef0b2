/* The kernel's oom_badness() and victim choice, fed literals. Expected
 * values are worked out by hand from mm/oom_kill.c (Linux 6.1). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>

#include "decide/badness.h"
#include "proc/snapshot.h"

static gd_candidate task(pid_t pid, uint64_t rss, uint64_t pte, uint64_t swap, int adj) {
        return (gd_candidate){
                .pid = pid, .has_mm = true, .rss_pages = rss, .pte_pages = pte,
                .swap_pages = swap, .oom_score_adj = adj,
        };
}

TestSuite(badness);

struct points_case {
        uint64_t rss, pte, swap;
        int adj;
        uint64_t totalpages;
        int64_t expected;
};

ParameterizedTestParameters(badness, points) {
        static struct points_case cases[] = {
                /* plain sum of rss, page tables and swap entries */
                {1000, 10, 5, 0, 65536, 1015},
                /* adj scaled by totalpages / 1000, integer division first: 65536 -> 65 */
                {1000, 0, 0, 100, 65536, 1000 + 100 * 65},
                {1000, 0, 0, -100, 65536, 1000 - 100 * 65},
                /* 1999 pages: the quotient is 1, not 1.999 */
                {10, 0, 0, 500, 1999, 10 + 500},
                /* under 1000 pages oom_score_adj counts for nothing */
                {10, 0, 0, 1000, 999, 10},
                /* no floor since Linux 5.9: points may go negative */
                {100, 0, 0, -500, 100000, 100 - 500 * 100},
                /* +1000 on a big host */
                {0, 0, 0, 1000, 6291456, 1000 * 6291},
                /* an empty address space still scores its page tables */
                {0, 3, 0, 0, 65536, 3},
        };
        return cr_make_param_array(struct points_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct points_case *c, badness, points) {
        gd_candidate t = task(100, c->rss, c->pte, c->swap, c->adj);
        int64_t points = INT64_MIN;
        cr_assert(gd_badness(&t, c->totalpages, &points));
        cr_assert_eq(points, c->expected, "got %lld, want %lld", (long long)points,
                     (long long)c->expected);
}

Test(badness, unkillable_tasks_are_never_scored) {
        gd_candidate init = task(1, 5000, 0, 0, 0);
        gd_candidate kthread = task(2, 0, 0, 0, 0);
        gd_candidate zombie = task(300, 0, 0, 0, 0);
        gd_candidate protected = task(301, 90000, 0, 0, -1000);
        int64_t points = 42;

        kthread.kthread = true;
        zombie.has_mm = false;
        cr_assert_not(gd_badness(&init, 65536, &points));
        cr_assert_not(gd_badness(&kthread, 65536, &points));
        cr_assert_not(gd_badness(&zombie, 65536, &points));
        cr_assert_not(gd_badness(&protected, 65536, &points));
        cr_assert_eq(points, 42, "points must be untouched for unkillable tasks");

        gd_candidate almost = task(302, 90000, 0, 0, -999);
        cr_assert(gd_badness(&almost, 65536, &points));
        cr_assert_eq(points, 90000 - 999 * 65);
}

Test(badness, rank_orders_by_points_then_later_scan) {
        gd_candidate c[] = {
                task(10, 500, 0, 0, 0),  /* scan 0 */
                task(11, 900, 0, 0, 0),  /* scan 1 */
                task(12, 900, 0, 0, 0),  /* scan 2: ties with 11, later in the walk wins */
                task(13, 100, 0, 0, -1000),
                task(14, 50, 0, 0, 0),
        };
        for (size_t i = 0; i < 5; i++)
                c[i].scan_order = i;
        size_t killable = gd_rank(c, 5, 65536);

        cr_assert_eq(killable, 4);
        cr_assert_eq(c[0].pid, 12, "on equal points the kernel keeps the later task");
        cr_assert_eq(c[1].pid, 11);
        cr_assert_eq(c[2].pid, 10);
        cr_assert_eq(c[3].pid, 14);
        cr_assert_eq(c[4].pid, 13, "unkillable last");
        cr_assert_not(c[4].killable);
}

Test(badness, negative_points_rank_without_a_floor) {
        /* Both would be 1 with a floor; the kernel picks -200 over -500. */
        gd_candidate c[] = {task(20, 100, 0, 0, -5), task(21, 100, 0, 0, -2)};
        c[0].scan_order = 1; /* 20 comes later: a floor would make it win the tie */
        c[1].scan_order = 0;
        cr_assert_eq(gd_rank(c, 2, 65536), 2);
        cr_assert_eq(c[0].pid, 21);
        cr_assert_eq(c[0].points, 100 - 2 * 65);
        cr_assert_eq(c[1].points, 100 - 5 * 65);
}

Test(badness, adj_beats_size_as_the_kernel_scales_it) {
        /* 256 MiB limit = 65536 pages: +100 is worth 6500 pages (25 MiB). */
        gd_candidate c[] = {task(30, 20000, 40, 0, 0), task(31, 14000, 30, 0, 100)};
        c[1].scan_order = 1;
        gd_rank(c, 2, 65536);
        cr_assert_eq(c[0].pid, 31);
        cr_assert_eq(c[0].points, 14030 + 6500);
}

Test(badness, rank_with_nothing_killable) {
        gd_candidate c[] = {task(1, 10, 0, 0, 0), task(40, 10, 0, 0, -1000)};
        cr_assert_eq(gd_rank(c, 2, 65536), 0);
        cr_assert_not(c[0].killable);
        cr_assert_not(c[1].killable);
        cr_assert_eq(gd_rank(NULL, 0, 65536), 0);
}

Test(badness, totalpages_memcg) {
        /* memory.max 256 MiB, swap.max 64 MiB, 1 GiB of swap: both count */
        cr_assert_eq(gd_totalpages_memcg(65536, 16384, 262144, 60), 65536 + 16384);
        /* swap.max above the swap that exists: only what exists counts */
        cr_assert_eq(gd_totalpages_memcg(65536, UINT64_MAX, 1000, 60), 66536);
        /* no swap device */
        cr_assert_eq(gd_totalpages_memcg(65536, UINT64_MAX, 0, 60), 65536);
        /* vm.swappiness=0: mem_cgroup_get_max() leaves swap out */
        cr_assert_eq(gd_totalpages_memcg(65536, UINT64_MAX, 262144, 0), 65536);
        /* "?: 1": never zero, so callers can divide */
        cr_assert_eq(gd_totalpages_memcg(0, 0, 0, 60), 1);
        /* no wrap-around */
        cr_assert_eq(gd_totalpages_memcg(UINT64_MAX - 5, UINT64_MAX, 100, 60), UINT64_MAX);
}

Test(badness, totalpages_host) {
        cr_assert_eq(gd_totalpages_host(6152666, 0), 6152666);
        cr_assert_eq(gd_totalpages_host(1000, 500), 1500);
        cr_assert_eq(gd_totalpages_host(0, 0), 1);
        cr_assert_eq(gd_totalpages_host(UINT64_MAX, 1), UINT64_MAX);
}
