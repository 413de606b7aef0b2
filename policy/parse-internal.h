/* The policy parser's shared machinery: parse.c drives libyaml, nodes.c
 * reads typed values out of a loaded document, schema.c walks the schema
 * and schema_match.c its match: sections. Private to those four files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "policy/policy-internal.h"

#define PP_MAP_KEYS_MAX 16
#define PP_PATH_SIZE 160
#define PP_QUOTE_SIZE 48
#define PP_MSG_SIZE 200

typedef struct pp_parser {
        const char *file; /* the name in messages: the policy's files[0] */
        pol_errors *errs;
        size_t problems;  /* counted past the POL_ERRORS_MAX cap too */
        bool oom;
        yaml_document_t *doc;
        pol_policy *policy;
        unsigned (*name_marks)[2]; /* per workload, 1-based {line, column} */
        bool has_settings, has_defaults;
        yaml_mark_t settings_mark, defaults_mark;
} pp_parser;

/* Record a problem at mark (0-based, as libyaml counts). */
void pp_problem(pp_parser *ps, yaml_mark_t mark, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

const char *pp_quote_node(const yaml_node_t *n, char buf[PP_QUOTE_SIZE]);
/* "key:" with nothing after it: libyaml gives an empty plain scalar. */
bool pp_is_empty(const yaml_node_t *n);
/* where + key for messages: "defaults" + "cooldown" -> "defaults.cooldown";
 * a workload's label joins with sep ' ': "workload 'mysql' protect". */
const char *pp_join(char buf[PP_PATH_SIZE], const char *where, char sep, const char *key);
yaml_node_t *pp_node(pp_parser *ps, int index);

/* true if n is of type, else reports "path: expected ..., got ...". */
bool pp_expect(pp_parser *ps, const yaml_node_t *n, yaml_node_type_t type, const char *path);
/* The scalar's text, or NULL after reporting why there is none. */
const char *pp_text(pp_parser *ps, const yaml_node_t *n, const char *path);

/* A key an earlier schema had: refused with hint, which says what to
 * write instead, rather than as an unknown key. */
typedef struct pp_renamed {
        const char *key, *hint;
} pp_renamed;

/* A mapping walked key by key: known keys, each at most once. */
typedef struct pp_map {
        pp_parser *ps;
        const char *where;
        const char *const *keys; /* NULL-terminated, at most PP_MAP_KEYS_MAX */
        const pp_renamed *renamed; /* NULL, or ended by {NULL}; set after pp_map_begin */
        yaml_node_pair_t *pair, *end;
        bool seen[PP_MAP_KEYS_MAX];
        yaml_mark_t first[PP_MAP_KEYS_MAX];
} pp_map;

/* false (reported) when n is not a mapping. */
bool pp_map_begin(pp_map *it, pp_parser *ps, yaml_node_t *n, const char *where,
                  const char *const *keys);
/* The next known key seen for the first time: its index in keys, or -1 at
 * the end. Unknown, renamed ("where.key: renamed: hint"), duplicate and
 * non-scalar keys are reported, skipped. */
int pp_map_next(pp_map *it, yaml_node_t **ret_key, yaml_node_t **ret_value);

/* A value that is one scalar or a list of them (patterns, a command): how
 * many items n has, 1 for a scalar. 0 after reporting a mapping ("path:
 * expected <expected>, got a mapping") or an empty list ("path: empty list:
 * <empty>"). A list of more than max is reported at its first extra item
 * ("path: more than <max> <items>"), sets *ret_over and counts as max. */
typedef struct pp_list_words {
        const char *expected, *empty, *items;
} pp_list_words;
size_t pp_list_count(pp_parser *ps, const yaml_node_t *n, const char *path, int max,
                     const pp_list_words *words, bool *ret_over);
/* Item i (< pp_list_count) of such a value: n itself for a scalar; NULL
 * for a list item libyaml does not have. */
const yaml_node_t *pp_list_item(pp_parser *ps, const yaml_node_t *n, size_t i);
/* A malloc'd copy of s, or NULL with ps->oom set. */
char *pp_strdup(pp_parser *ps, const char *s);

/* Typed values: true and *ret set, or false (reported, *ret untouched). */
bool pp_get_duration(pp_parser *ps, const yaml_node_t *n, const char *path, uint64_t min,
                     uint64_t max, uint64_t *ret);
bool pp_get_share(pp_parser *ps, const yaml_node_t *n, const char *path, double *ret);
bool pp_get_size(pp_parser *ps, const yaml_node_t *n, const char *path, bool allow_max,
                 uint64_t *ret);
bool pp_get_int(pp_parser *ps, const yaml_node_t *n, const char *path, bool allow_sign, int min,
                int max, int *ret);
bool pp_get_bool(pp_parser *ps, const yaml_node_t *n, const char *path, bool *ret);
/* One of names (NULL-terminated): *ret = values[i]. */
bool pp_get_enum(pp_parser *ps, const yaml_node_t *n, const char *path, const char *const *names,
                 const int *values, int *ret);

/* schema.c: the document's root node into ps->policy. */
void pp_walk_root(pp_parser *ps, yaml_node_t *root);

/* schema_match.c: a workload's match: mapping n at where into m. */
void pp_walk_match(pp_parser *ps, yaml_node_t *n, const char *where, pol_match *m);
/* The keys of match: as messages list them (schema_match.c's match_keys). */
#define PP_MATCH_KEYS_TEXT                                                                          \
        "cgroup, comm, exe, cmdline, container, container_name, image, labels, runtime or kubernetes"
