/* The match: section of a workload, walked over a loaded document: the
 * glob patterns (checked here for what match.c would silently read
 * otherwise), the container runtime, the identity keys (names, image,
 * labels) and the Kubernetes keys. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parse-internal.h"

static const char *const runtime_names[] = {"docker", "containerd", "crio", "podman", NULL};
static const int runtime_values[] = {POL_RUNTIME_DOCKER, POL_RUNTIME_CONTAINERD, POL_RUNTIME_CRIO,
                                     POL_RUNTIME_PODMAN};
static const char *const qos_names[] = {"guaranteed", "burstable", "besteffort", NULL};
static const int qos_values[] = {POL_QOS_GUARANTEED, POL_QOS_BURSTABLE, POL_QOS_BESTEFFORT};


/* ---- patterns ---- */

typedef enum pattern_kind {
        PAT_CGROUP,
        PAT_COMM,
        PAT_EXE,
        PAT_PLAIN, /* cmdline, ids, names, images, label values */
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

/* ---- labels ---- */

/* What is wrong with a label key, or NULL. Keys are exact strings, not
 * globs: a runtime's label key is a name, and "*" in one is a '*'. */
static const char *label_key_problem(const yaml_node_t *k, char *buf, size_t size) {
        const char *s = (const char *)k->data.scalar.value;
        size_t len = k->data.scalar.length;

        if (len == 0)
                return "empty label key";
        if (len > POL_LABEL_KEY_LEN_MAX) {
                snprintf(buf, size, "label key longer than %d bytes (guardian keeps no longer key)",
                         POL_LABEL_KEY_LEN_MAX);
                return buf;
        }
        for (size_t i = 0; i < len; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return "label key holds a control character";
        return NULL;
}

/* The pair before index i whose key has the same bytes as k's, or NULL. */
static const yaml_node_t *earlier_key(pp_parser *ps, const yaml_node_t *map, size_t i,
                                      const yaml_node_t *k) {
        for (size_t j = 0; j < i; j++) {
                const yaml_node_t *e = pp_node(ps, map->data.mapping.pairs.start[j].key);
                if (e && e->type == YAML_SCALAR_NODE &&
                    e->data.scalar.length == k->data.scalar.length &&
                    memcmp(e->data.scalar.value, k->data.scalar.value, k->data.scalar.length) == 0)
                        return e;
        }
        return NULL;
}

/* labels: { key: glob or list }, any keys, each once; at most
 * POL_PATTERNS_MAX of them. */
static void walk_labels(pp_parser *ps, yaml_node_t *n, const char *where, pol_labels *out) {
        char path[PP_PATH_SIZE], buf[PP_MSG_SIZE], qb[PP_QUOTE_SIZE];
        size_t count;

        if (!pp_expect(ps, n, YAML_MAPPING_NODE, where))
                return;
        count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
        if (count == 0) {
                pp_problem(ps, n->start_mark, "%s: is empty: give a label and its value, "
                           "e.g. { com.docker.compose.service: etl }", where);
                return;
        }
        if (count > POL_PATTERNS_MAX) {
                yaml_node_t *extra = pp_node(ps, n->data.mapping.pairs.start[POL_PATTERNS_MAX].key);
                pp_problem(ps, extra ? extra->start_mark : n->start_mark, "%s: more than %d labels",
                           where, POL_PATTERNS_MAX);
                count = POL_PATTERNS_MAX;
        }
        out->items = calloc(count, sizeof(*out->items));
        if (!out->items) {
                ps->oom = true;
                return;
        }
        for (size_t i = 0; i < count; i++) {
                yaml_node_t *k = pp_node(ps, n->data.mapping.pairs.start[i].key);
                yaml_node_t *v = pp_node(ps, n->data.mapping.pairs.start[i].value);
                const yaml_node_t *first;
                const char *why;

                if (!k || !v)
                        continue;
                if (k->type != YAML_SCALAR_NODE) {
                        pp_problem(ps, k->start_mark, "%s: keys must be names, not %s", where,
                                   k->type == YAML_MAPPING_NODE ? "mappings" : "lists");
                        continue;
                }
                if ((why = label_key_problem(k, buf, sizeof(buf)))) {
                        pp_problem(ps, k->start_mark, "%s: %s", where, why);
                        continue;
                }
                /* libyaml keeps both; which value would apply is a guess. */
                if ((first = earlier_key(ps, n, i, k))) {
                        pp_problem(ps, k->start_mark,
                                   "duplicate label '%s' in %s (first at line %zu, column %zu)",
                                   pp_quote_node(k, qb), where, first->start_mark.line + 1,
                                   first->start_mark.column + 1);
                        continue;
                }
                pol_label_match *l = &out->items[out->n];
                /* Scalars are NUL-terminated, and the key holds no NUL (a
                 * control byte): strdup copies all of it. */
                if (!(l->key = pp_strdup(ps, (const char *)k->data.scalar.value)))
                        return;
                out->n++;
                pp_join(path, where, '.', pp_quote_node(k, qb));
                get_patterns(ps, v, path, PAT_PLAIN, &l->values);
        }
}

/* ---- the section ---- */

/* The keys whose values are glob lists, and what their patterns are. */
typedef struct pattern_key {
        const char *name;
        pattern_kind kind;
        size_t offset; /* of the pol_patterns in pol_match */
} pattern_key;

#define PK(name, kind, field) {name, kind, offsetof(pol_match, field)}

static const pattern_key k8s_pattern_keys[] = {
        PK("pod_uid", PAT_PLAIN, pod_uid),
        PK("namespace", PAT_PLAIN, k8s_namespace),
        PK("pod_name", PAT_PLAIN, pod_name),
        PK("container_name", PAT_PLAIN, k8s_container_name),
};
static const char *const k8s_keys[] = {"pod_uid", "namespace", "pod_name", "container_name",
                                       "qos", NULL};
enum { K8S_PATTERN_KEYS = 4 };
_Static_assert(sizeof(k8s_pattern_keys) / sizeof(k8s_pattern_keys[0]) == K8S_PATTERN_KEYS,
               "k8s_keys starts with the pattern keys, in their order");

/* image: '*' crosses '/', as in exe: "*" + "/mysql:*" names any registry
 * and path, which operators write more often than one level. */
static const pattern_key match_pattern_keys[] = {
        PK("cgroup", PAT_CGROUP, cgroup),
        PK("comm", PAT_COMM, comm),
        PK("exe", PAT_EXE, exe),
        PK("cmdline", PAT_PLAIN, cmdline),
        PK("container", PAT_PLAIN, container),
        PK("container_name", PAT_PLAIN, container_name),
        PK("image", PAT_PLAIN, image),
};
/* PP_MATCH_KEYS_TEXT (parse-internal.h) lists these in messages. */
static const char *const match_keys[] = {"cgroup",         "comm",  "exe",    "cmdline",
                                         "container",      "container_name", "image",
                                         "labels",         "runtime", "kubernetes", NULL};
enum { MATCH_PATTERN_KEYS = 7, MATCH_LABELS = 7, MATCH_RUNTIME, MATCH_KUBERNETES };
_Static_assert(sizeof(match_pattern_keys) / sizeof(match_pattern_keys[0]) == MATCH_PATTERN_KEYS,
               "match_keys starts with the pattern keys, in their order");

static pol_patterns *patterns_at(pol_match *m, const pattern_key *pk) {
        return (pol_patterns *)((char *)m + pk->offset);
}

/* The key the first schema had: a pod's UID, which operators took for
 * its name. */
static const pp_renamed k8s_renamed[] = {
        {"pod", "use pod_uid for the pod's UID, or pod_name for its name"},
        {NULL, NULL},
};

static void walk_kubernetes(pp_parser *ps, yaml_node_t *n, const char *where, pol_match *m) {
        char path[PP_PATH_SIZE];
        yaml_node_t *k, *v;
        pp_map it;
        int key, qos;

        if (!pp_map_begin(&it, ps, n, where, k8s_keys))
                return;
        it.renamed = k8s_renamed;
        if (n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
                pp_problem(ps, n->start_mark,
                           "%s: is empty: give at least one of qos, pod_uid, namespace, pod_name "
                           "or container_name", where);
                return;
        }
        while ((key = pp_map_next(&it, &k, &v)) >= 0) {
                pp_join(path, where, '.', k8s_keys[key]);
                if (key < K8S_PATTERN_KEYS)
                        get_patterns(ps, v, path, k8s_pattern_keys[key].kind,
                                     patterns_at(m, &k8s_pattern_keys[key]));
                else if (pp_get_enum(ps, v, path, qos_names, qos_values, &qos))
                        m->qos = (pol_qos)qos;
        }
}

void pp_walk_match(pp_parser *ps, yaml_node_t *n, const char *where, pol_match *m) {
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
                if (key < MATCH_PATTERN_KEYS)
                        get_patterns(ps, v, path, match_pattern_keys[key].kind,
                                     patterns_at(m, &match_pattern_keys[key]));
                else if (key == MATCH_LABELS)
                        walk_labels(ps, v, path, &m->labels);
                else if (key == MATCH_RUNTIME &&
                         pp_get_enum(ps, v, path, runtime_names, runtime_values, &runtime))
                        m->runtime = (pol_runtime)runtime;
                else if (key == MATCH_KUBERNETES)
                        walk_kubernetes(ps, v, path, m);
        }
}
