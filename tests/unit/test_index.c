/* util/index.h: the map the watch set finds its slots by. Its deletes
 * move entries back instead of leaving tombstones, so the tests that
 * matter are the ones where a delete lands inside a run of colliding
 * keys and the others must still be found. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/index.h"

/* The first allocation's bucket count (index.c MIN_CAP): keys whose hash
 * agrees modulo this start in the same bucket. */
#define FIRST_CAP 16

Test(index, an_empty_index_holds_nothing) {
        gd_index ix = {0};
        cr_assert_eq(gd_index_get_int(&ix, 3), GD_INDEX_NONE);
        cr_assert_eq(gd_index_get_str(&ix, "a"), GD_INDEX_NONE);
        cr_assert_eq(gd_index_del_int(&ix, 3), GD_INDEX_NONE);
        cr_assert_eq(gd_index_del_str(&ix, "a"), GD_INDEX_NONE);
        gd_index_free(&ix);
}

Test(index, put_get_replace_and_delete_ints) {
        gd_index ix = {0};
        cr_assert_eq(gd_index_put_int(&ix, 7, 70), 0);
        cr_assert_eq(gd_index_put_int(&ix, -1, 10), 0);
        cr_assert_eq(gd_index_put_int(&ix, 0, 0), 0);
        cr_assert_eq(gd_index_get_int(&ix, 7), 70);
        cr_assert_eq(gd_index_get_int(&ix, -1), 10);
        cr_assert_eq(gd_index_get_int(&ix, 0), 0);
        cr_assert_eq(gd_index_get_int(&ix, 8), GD_INDEX_NONE);
        cr_assert_eq(ix.n, 3);

        cr_assert_eq(gd_index_put_int(&ix, 7, 71), 0, "a key held is given its new value");
        cr_assert_eq(gd_index_get_int(&ix, 7), 71);
        cr_assert_eq(ix.n, 3);
        cr_assert_eq(gd_index_put_int(&ix, 9, GD_INDEX_NONE), -EINVAL);
        cr_assert_eq(ix.n, 3);

        cr_assert_eq(gd_index_del_int(&ix, 7), 71);
        cr_assert_eq(gd_index_get_int(&ix, 7), GD_INDEX_NONE);
        cr_assert_eq(gd_index_del_int(&ix, 7), GD_INDEX_NONE, "gone once");
        cr_assert_eq(gd_index_put_int(&ix, 7, 72), 0, "and back after its delete");
        cr_assert_eq(gd_index_get_int(&ix, 7), 72);
        cr_assert_eq(ix.n, 3);
        gd_index_free(&ix);
        cr_assert_eq(ix.n, 0);
        cr_assert_eq(gd_index_get_int(&ix, 7), GD_INDEX_NONE, "usable after free");
}

/* String keys are borrowed: compared by content, kept by address. */
Test(index, string_keys_by_content) {
        gd_index ix = {0};
        char a[] = "a/b", b[] = "a/b/c", probe[] = "a/b";
        cr_assert_eq(gd_index_put_str(&ix, a, 1), 0);
        cr_assert_eq(gd_index_put_str(&ix, b, 2), 0);
        cr_assert_eq(gd_index_put_str(&ix, "", 3), 0, "the root's path");
        cr_assert_eq(gd_index_get_str(&ix, probe), 1, "another copy of the same path");
        cr_assert_eq(gd_index_get_str(&ix, "a/b/c"), 2);
        cr_assert_eq(gd_index_get_str(&ix, ""), 3);
        cr_assert_eq(gd_index_get_str(&ix, "a"), GD_INDEX_NONE);
        cr_assert_eq(gd_index_del_str(&ix, probe), 1);
        cr_assert_eq(gd_index_get_str(&ix, a), GD_INDEX_NONE);
        cr_assert_eq(gd_index_get_str(&ix, b), 2);
        gd_index_free(&ix);
}

/* Growth rehashes everything: after each doubling every key is there. */
Test(index, grows_across_many_keys) {
        enum { N = 20000 };
        gd_index ix = {0};
        size_t last_cap = 0, growths = 0;
        for (int k = 0; k < N; k++) {
                cr_assert_eq(gd_index_put_int(&ix, k * 7919, (uint32_t)k), 0);
                if (ix.cap != last_cap) {
                        growths++;
                        last_cap = ix.cap;
                        for (int j = 0; j <= k; j++)
                                cr_assert_eq(gd_index_get_int(&ix, j * 7919), (uint32_t)j);
                }
        }
        cr_assert_geq(growths, 10, "from 16 buckets to the 32768 that 20000 need");
        cr_assert_eq(ix.n, N);
        cr_assert_leq(ix.n * 4, ix.cap * 3, "at most 3/4 full");
        /* Every other one deleted, the rest found, the deleted not. */
        for (int k = 0; k < N; k += 2)
                cr_assert_eq(gd_index_del_int(&ix, k * 7919), (uint32_t)k);
        for (int k = 0; k < N; k++)
                cr_assert_eq(gd_index_get_int(&ix, k * 7919), k % 2 ? (uint32_t)k : GD_INDEX_NONE);
        cr_assert_eq(ix.n, N / 2);
        gd_index_free(&ix);
}

/* n keys "k<i>" whose hashes share their first bucket in a FIRST_CAP index. */
static void colliding(char keys[][16], int n) {
        uint32_t want = gd_index_hash_str("k0") & (FIRST_CAP - 1);
        int found = 0;
        for (int i = 0; found < n; i++) {
                snprintf(keys[found], 16, "k%d", i);
                if ((gd_index_hash_str(keys[found]) & (FIRST_CAP - 1)) == want)
                        found++;
        }
}

/* Colliding keys make one run; deleting from its middle (and its start)
 * must leave every other key reachable, which a plain emptied bucket would
 * not: the probe would stop at the hole. */
Test(index, deleting_inside_a_run_of_collisions_keeps_the_rest) {
        enum { N = 8 };
        char keys[N][16];
        colliding(keys, N);
        for (int del = 0; del < N; del++) {
                gd_index ix = {0};
                for (int i = 0; i < N; i++)
                        cr_assert_eq(gd_index_put_str(&ix, keys[i], (uint32_t)i), 0);
                cr_assert_eq(ix.cap, FIRST_CAP, "one allocation: they do collide");
                cr_assert_eq(gd_index_del_str(&ix, keys[del]), (uint32_t)del);
                for (int i = 0; i < N; i++)
                        cr_assert_eq(gd_index_get_str(&ix, keys[i]),
                                     i == del ? GD_INDEX_NONE : (uint32_t)i, "%s after deleting %s",
                                     keys[i], keys[del]);
                /* Back in, at the end of the run now. */
                cr_assert_eq(gd_index_put_str(&ix, keys[del], 100), 0);
                for (int i = 0; i < N; i++)
                        cr_assert_eq(gd_index_get_str(&ix, keys[i]), i == del ? 100 : (uint32_t)i);
                gd_index_free(&ix);
        }
}

/* Random puts and deletes against a plain array: runs that wrap past the
 * last bucket and runs mixing keys of several first buckets come up on
 * their own, and a delete must move back only what may move. */
Test(index, churn_agrees_with_a_plain_array) {
        enum { KEYS = 64, STEPS = 20000 };
        uint32_t model[KEYS];
        gd_index ix = {0};
        unsigned seed = 12345;
        for (int k = 0; k < KEYS; k++)
                model[k] = GD_INDEX_NONE;
        for (int step = 0; step < STEPS; step++) {
                seed = seed * 1103515245u + 12345u;
                int k = (int)((seed >> 8) % KEYS);
                if ((seed >> 20) & 1) {
                        cr_assert_eq(gd_index_put_int(&ix, k, (uint32_t)step), 0);
                        model[k] = (uint32_t)step;
                } else {
                        cr_assert_eq(gd_index_del_int(&ix, k), model[k]);
                        model[k] = GD_INDEX_NONE;
                }
                if (step % 97 == 0)
                        for (int j = 0; j < KEYS; j++)
                                cr_assert_eq(gd_index_get_int(&ix, j), model[j], "key %d at step %d", j, step);
        }
        gd_index_free(&ix);
}

Test(index, reserve_makes_the_next_inserts_allocation_free) {
        gd_index ix = {0};
        cr_assert_eq(gd_index_reserve(&ix, 100), 0);
        size_t cap = ix.cap;
        const gd_index_entry *buckets = ix.buckets;
        cr_assert_geq(cap * 3, 100 * 4);
        for (int k = 0; k < 100; k++)
                cr_assert_eq(gd_index_put_int(&ix, k, (uint32_t)k), 0);
        cr_assert_eq(ix.cap, cap);
        cr_assert_eq(ix.buckets, buckets, "no reallocation");
        cr_assert_eq(gd_index_reserve(&ix, 50), 0, "a smaller reserve changes nothing");
        cr_assert_eq(ix.cap, cap);
        gd_index_free(&ix);
}
