/* cgroup namespace paths. See cgns.h for the contracts.
 *
 * Static names carry a cgns_ prefix: tests/helpers/actrace.c builds this
 * file in one translation unit with act/act.c, proc/proc.c and
 * proc/parse.c. */
#include "cgroup/cgns.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* The next non-empty '/'-separated component of s from *pos. Returns its
 * length (0 at the end) and its start in *ret. */
static size_t cgns_next(const char *s, size_t *pos, const char **ret) {
        while (s[*pos] == '/')
                (*pos)++;
        size_t start = *pos;
        while (s[*pos] && s[*pos] != '/')
                (*pos)++;
        *ret = s + start;
        return *pos - start;
}

static bool cgns_is(const char *c, size_t n, const char *word) {
        return n == strlen(word) && memcmp(c, word, n) == 0;
}

/* Append component c to the path in buf (length *len, "" for the root);
 * "." is skipped and ".." takes the last one off. Returns 0, -EINVAL when
 * ".." climbs above the root, -ENAMETOOLONG. */
static int cgns_push(char *buf, size_t *len, size_t cap, const char *c, size_t n) {
        if (cgns_is(c, n, "."))
                return 0;
        if (cgns_is(c, n, "..")) {
                if (*len == 0)
                        return -EINVAL;
                while (*len > 0 && buf[*len - 1] != '/')
                        (*len)--;
                if (*len > 0)
                        (*len)--; /* the '/' before the removed component */
                buf[*len] = '\0';
                return 0;
        }
        if (*len + 1 + n >= cap)
                return -ENAMETOOLONG;
        buf[(*len)++] = '/';
        memcpy(buf + *len, c, n);
        *len += n;
        buf[*len] = '\0';
        return 0;
}

/* Normalize path s into buf ("/a/b", "" for the root; "." and doubled
 * slashes gone). Returns 0 and *ret_len, -EINVAL when s holds "..",
 * -ENAMETOOLONG. */
static int cgns_normalize(const char *s, char *buf, size_t cap, size_t *ret_len) {
        size_t len = 0, pos = 0, n;
        const char *c;

        buf[0] = '\0';
        while ((n = cgns_next(s, &pos, &c)) > 0) {
                if (cgns_is(c, n, ".."))
                        return -EINVAL;
                int r = cgns_push(buf, &len, cap, c, n);
                if (r < 0)
                        return r;
        }
        *ret_len = len;
        return 0;
}

/* Copy buf[0..len) ("" for the root) out as "/a/b" or "/". */
static int cgns_emit(const char *buf, size_t len, char *ret_path, size_t size) {
        if ((len ? len : 1) >= size)
                return -ENAMETOOLONG;
        if (len == 0) {
                memcpy(ret_path, "/", 2);
        } else {
                memcpy(ret_path, buf, len); /* buf may go on past len */
                ret_path[len] = '\0';
        }
        return 0;
}

int cg_path_from_ns(const char *ns_root, const char *ns_path, char *ret_path, size_t size) {
        char buf[PATH_MAX];
        size_t len, pos = 0, n;
        const char *c;
        int r;

        if (!ns_root || !ns_path || !ret_path || ns_path[0] != '/')
                return -EINVAL;
        /* A root found in the tree has no ".."; the path may climb. */
        r = cgns_normalize(ns_root, buf, sizeof(buf), &len);
        if (r < 0)
                return r;
        while ((n = cgns_next(ns_path, &pos, &c)) > 0) {
                r = cgns_push(buf, &len, sizeof(buf), c, n);
                if (r < 0)
                        return r;
        }
        return cgns_emit(buf, len, ret_path, size);
}

int cg_ns_root_from(const char *self_tree, const char *self_ns, char *ret_root, size_t size) {
        char tree[PATH_MAX], ns[PATH_MAX];
        size_t tlen, nlen;
        int r;

        if (!self_tree || !self_ns || !ret_root || self_ns[0] != '/')
                return -EINVAL;
        /* Both normalized first, so the suffix test below compares whole
         * components. */
        r = cgns_normalize(self_tree, tree, sizeof(tree), &tlen);
        if (r == 0)
                r = cgns_normalize(self_ns, ns, sizeof(ns), &nlen);
        if (r < 0)
                return r;
        /* ns ("/c/d", or "" at the namespace root) must be tree's end; its
         * leading '/' keeps "/b/c" from matching the end of "/ab/c". */
        if (nlen > tlen || memcmp(tree + tlen - nlen, ns, nlen) != 0)
                return -EINVAL;
        return cgns_emit(tree, tlen - nlen, ret_root, size);
}
