/* The match: section of a workload, walked over a loaded document: the
 * glob patterns (checked here for what match.c would silently read
 * otherwise), the container runtime and the Kubernetes keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parse-internal.h"

static const char *const runtime_names[] = {"docker", "containerd", "crio", "podman", NULL};
static const int runtime_values[] = {POL_RUNTIME_DOCKER, POL_RUNTIME_CONTAINERD, POL_RUNTIME_CRIO,
                                     POL_RUNTIME_PODMAN};
static const char *const qos_names[] = {"guaranteed", "burstable", "besteffort", NULL};
static const int qos_values[] = {POL_QOS_GUARANTEED, POL_QOS_BURSTABLE, POL_QOS_BESTEFFORT};

/* PP_MATCH_KEYS_TEXT (parse-internal.h) lists these in messages. */
static const char *const match_keys[] = {"cgroup",    "comm",    "exe",        "cmdline",
                                         "container", "runtime", "kubernetes", NULL};

/* ---- patterns ---- */

typedef enum pattern_kind {
        PAT_CGROUP,
        PAT_COMM,
        PAT_EXE,
        PAT_PLAIN, /* cmdline, container and pod ids */
} pattern_kind;

/* A '[' class must be closed: match.c would take an unclosed one as a
 * literal '[', which is rarely what was meant. After '[' and an optional
 * '!' or '^', the first character (even ']') belongs to the class, as
 * match.c and fnmatch(3) read it. */
static bool brackets_closed(const char *s) {
        for (const char *p = s; *p; p++) {
                if (*p != '[')
                        continue;
                const char *c = p + 1;
                if (*c == '!' || *c == '^')
                        c++;
                if (*c == '\0' || !(c = strchr(c + 1, ']')))
                        return false;
                p = c;
        }
        return true;
}

/* What is wrong with one pattern, or NULL. */
static const char *pattern_problem(const char *s, pattern_kind kind, char *buf, size_t size) {
        size_t len = strlen(s);

        if (len == 0)
                return "empty pattern";
        if (len >= POL_PATTERN_LEN_MAX) {
                snprintf(buf, size, "pattern longer than %d characters", POL_PATTERN_LEN_MAX - 1);
                return buf;
        }
        if (!brackets_closed(s))
                return "'[' without a closing ']' (write '[[]' for a literal '[')";
        if (kind == PAT_CGROUP && s[0] == '/')
                return "cgroup patterns are relative to the cgroup root: drop the leading '/'";
        if (kind == PAT_EXE && s[0] != '/' && !strchr("*?[", s[0]))
                return "exe patterns match the whole path: write '/usr/sbin/name' or '*/name'";
        /* The kernel keeps 15 bytes of a process name: a longer literal
         * name can never match, and nothing else would say so. */
        if (kind == PAT_COMM && len > POL_COMM_LEN_MAX && !strpbrk(s, "*?[")) {
                snprintf(buf, size,
                         "'%.*s...' never matches: the kernel keeps %d characters of a process "
                         "name; use exe, or '%.*s*'",
                         POL_COMM_LEN_MAX, s, POL_COMM_LEN_MAX, POL_COMM_LEN_MAX, s);
                return buf;
        }
        return NULL;
}

static void add_pattern(pp_parser *ps, const yaml_node_t *n, const char *path, pattern_kind kind,
                        pol_patterns *out) {
        char buf[PP_MSG_SIZE];
        const char *s = pp_text(ps, n, path);

        if (!s)
                return;
        const char *why = pattern_problem(s, kind, buf, sizeof(buf));
        if (why) {
                pp_problem(ps, n->start_mark, "%s: %s", path, why);
                return;
        }
        char *copy = pp_strdup(ps, s);
        if (copy)
                out->items[out->n++] = copy;
}

/* A glob, or a list of globs (any one matches). A list that is too long
 * keeps its first POL_PATTERNS_MAX. */
static void get_patterns(pp_parser *ps, const yaml_node_t *n, const char *path, pattern_kind kind,
                         pol_patterns *out) {
        static const pp_list_words words = {
                .expected = "a pattern or a list of patterns",
                .empty = "give at least one pattern",
                .items = "patterns",
        };
        bool over;
        size_t count = pp_list_count(ps, n, path, POL_PATTERNS_MAX, &words, &over);

        if (count == 0)
                return;
        out->items = calloc(count + 1, sizeof(*out->items));
        if (!out->items) {
                ps->oom = true;
                return;
        }
        for (size_t i = 0; i < count; i++) {
                const yaml_node_t *item = pp_list_item(ps, n, i);
                if (item)
                        add_pattern(ps, item, path, kind, out);
        }
}

/* ---- the section ---- */

static void walk_kubernetes(pp_parser *ps, yaml_node_t *n, const char *where, pol_match *m) {
        static const char *const keys[] = {"qos", "pod", NULL};
        char path[PP_PATH_SIZE];
        yaml_node_t *k, *v;
        pp_map it;
        int key, qos;

        if (!pp_map_begin(&it, ps, n, where, keys))
                return;
        if (n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
                pp_problem(ps, n->start_mark, "%s: is empty: give qos, pod or both", where);
                return;
        }
        while ((key = pp_map_next(&it, &k, &v)) >= 0) {
                pp_join(path, where, '.', keys[key]);
                if (key == 0) {
                        if (pp_get_enum(ps, v, path, qos_names, qos_values, &qos))
                                m->qos = (pol_qos)qos;
                } else {
                        get_patterns(ps, v, path, PAT_PLAIN, &m->pod);
                }
        }
}

void pp_walk_match(pp_parser *ps, yaml_node_t *n, const char *where, pol_match *m) {
        static const pattern_kind kinds[] = {PAT_CGROUP, PAT_COMM, PAT_EXE, PAT_PLAIN, PAT_PLAIN};
        pol_patterns *lists[] = {&m->cgroup, &m->comm, &m->exe, &m->cmdline, &m->container};
        char path[PP_PATH_SIZE];
        yaml_node_t *k, *v;
        pp_map it;
        int key, runtime;

        if (!pp_map_begin(&it, ps, n, where, match_keys))
                return;
        /* match.c matches nothing with no keys: say so instead of keeping
         * a workload that silently never applies. */
        if (n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
                pp_problem(ps, n->start_mark,
                           "%s: is empty: give at least one of " PP_MATCH_KEYS_TEXT, where);
                return;
        }
        while ((key = pp_map_next(&it, &k, &v)) >= 0) {
                pp_join(path, where, '.', match_keys[key]);
                if (key < 5)
                        get_patterns(ps, v, path, kinds[key], lists[key]);
                else if (key == 5 &&
                         pp_get_enum(ps, v, path, runtime_names, runtime_values, &runtime))
                        m->runtime = (pol_runtime)runtime;
                else if (key == 6)
                        walk_kubernetes(ps, v, path, m);
        }
}
