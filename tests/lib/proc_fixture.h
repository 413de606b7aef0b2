/* Helpers shared by the proc/ unit tests (test_proc_parse.c and
 * test_proc_read.c). Header-only: everything is static or a macro, so each
 * test file gets its own copy and nothing needs a prototype elsewhere.
 * Like fixture.h, the helpers fail the running Criterion test (cr_assert)
 * instead of returning an error; returned strings are malloc'd: free() them. */
#pragma once

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/fixture.h"

#define PAGE 4096u

/* A string literal as the two arguments "bytes, length" (embedded NULs
 * kept, the terminating NUL excluded). */
#define CL(s) s, sizeof(s) - 1

/* The tail of a /proc/<pid>/status after RssAnon: the remaining memory
 * lines a parser wants, all plausible. */
#define MM_REST "RssFile:\t0 kB\nRssShmem:\t0 kB\nVmPTE:\t4 kB\nVmSwap:\t0 kB\n"

/* A text-only test case (a whole input, or a file name). An array, not a
 * pointer: Criterion copies parameters into a test process where the
 * parent's addresses mean nothing. */
struct text_case {
        char s[256];
};

/* An exact-size heap copy, so ASan catches a parser reading past len (the
 * fixture helpers add a NUL that would hide a one-byte over-read). */
static inline char *dup_exact(const char *s, size_t len) {
        char *p = malloc(len ? len : 1);
        cr_assert_not_null(p);
        memcpy(p, s, len);
        return p;
}

/* The checked-in fixture proc/<name>, as an exact-size copy (see dup_exact);
 * *ret_len gets its length. */
static inline char *read_fixture(const char *name, size_t *ret_len) {
        char rel[128], *raw, *b;

        snprintf(rel, sizeof(rel), "proc/%s", name);
        raw = fx_read_fixture(rel, ret_len);
        b = dup_exact(raw, *ret_len);
        free(raw);
        return b;
}

/* A plausible stat line with the given pid, comm and state. */
static inline int make_stat(char *buf, size_t size, int pid, const char *comm, char state) {
        return snprintf(buf, size,
                        "%d (%s) %c 77 77 6160 0 -1 4194304 116 0 0 0 0 0 0 0 20 0 1 0 "
                        "1279563 3133440 365 18446744073709551615 94667445878784 0 0\n",
                        pid, comm, state);
}

/* A /proc/<pid>/status of a 1 GiB process, with every memory line. */
static const char status_mm[] =
        "Name:\tmysqld\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t100\nPPid:\t1\n"
        "Uid:\t27\t27\t27\t27\nGid:\t27\t27\t27\t27\nVmPeak:\t 2000000 kB\n"
        "VmRSS:\t 1048576 kB\nRssAnon:\t 1000000 kB\nRssFile:\t 48576 kB\n"
        "RssShmem:\t 0 kB\nVmPTE:\t 2048 kB\nVmSwap:\t 4096 kB\nThreads:\t38\n";
