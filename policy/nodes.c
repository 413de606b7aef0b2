/* Reading a loaded libyaml document: node types, mappings with known keys
 * (libyaml accepts duplicate keys and any key at all; we refuse both), and
 * typed scalars with messages that name the key and say what would do. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parse-internal.h"

void pp_problem(pp_parser *ps, yaml_mark_t mark, const char *fmt, ...) {
        va_list ap;

        ps->problems++;
        va_start(ap, fmt);
        /* libyaml counts from 0; editors and compilers from 1. */
        pol_errors_vadd(ps->errs, ps->file, (unsigned)mark.line + 1, (unsigned)mark.column + 1, fmt,
                        ap);
        va_end(ap);
}

const char *pp_quote_node(const yaml_node_t *n, char buf[PP_QUOTE_SIZE]) {
        return pol_quote((const char *)n->data.scalar.value, n->data.scalar.length, buf,
                         PP_QUOTE_SIZE);
}

bool pp_is_empty(const yaml_node_t *n) {
        return n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
               n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

const char *pp_join(char buf[PP_PATH_SIZE], const char *where, char sep, const char *key) {
        if (!*where)
                snprintf(buf, PP_PATH_SIZE, "%s", key);
        else
                snprintf(buf, PP_PATH_SIZE, "%s%c%s", where, sep, key);
        return buf;
}

yaml_node_t *pp_node(pp_parser *ps, int index) {
        return yaml_document_get_node(ps->doc, index);
}

bool pp_expect(pp_parser *ps, const yaml_node_t *n, yaml_node_type_t type, const char *path) {
        static const char *const names[] = {
                [YAML_NO_NODE] = "nothing",
                [YAML_SCALAR_NODE] = "a value",
                [YAML_SEQUENCE_NODE] = "a list",
                [YAML_MAPPING_NODE] = "a mapping",
        };
        char qb[PP_QUOTE_SIZE];

        if (n->type == type)
                return true;
        if (pp_is_empty(n))
                pp_problem(ps, n->start_mark, "%s: expected %s, got nothing", path, names[type]);
        else if (n->type == YAML_SCALAR_NODE)
                pp_problem(ps, n->start_mark, "%s: expected %s, got '%s'", path, names[type],
                           pp_quote_node(n, qb));
        else
                pp_problem(ps, n->start_mark, "%s: expected %s, got %s", path, names[type],
                           n->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
        return false;
}

/* Control bytes are refused (NUL included, which "\0" in a quoted scalar
 * produces): they would cut strings short or garble terminals and logs. */
const char *pp_text(pp_parser *ps, const yaml_node_t *n, const char *path) {
        char qb[PP_QUOTE_SIZE];

        if (!pp_expect(ps, n, YAML_SCALAR_NODE, path))
                return NULL;
        if (pp_is_empty(n)) {
                pp_problem(ps, n->start_mark, "%s: has no value", path);
                return NULL;
        }
        const char *s = (const char *)n->data.scalar.value;
        for (size_t i = 0; i < n->data.scalar.length; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
                        pp_problem(ps, n->start_mark, "%s: '%s' holds a control character", path,
                                   pp_quote_node(n, qb));
                        return NULL;
                }
        return s;
}

char *pp_strdup(pp_parser *ps, const char *s) {
        char *copy = strdup(s);

        if (!copy)
                ps->oom = true;
        return copy;
}

/* ---- one or a list ---- */

size_t pp_list_count(pp_parser *ps, const yaml_node_t *n, const char *path, int max,
                     const pp_list_words *words, bool *ret_over) {
        size_t count;

        *ret_over = false;
        if (n->type == YAML_MAPPING_NODE) {
                pp_problem(ps, n->start_mark, "%s: expected %s, got a mapping", path,
                           words->expected);
                return 0;
        }
        if (n->type != YAML_SEQUENCE_NODE)
                return 1;
        count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (count == 0) {
                pp_problem(ps, n->start_mark, "%s: empty list: %s", path, words->empty);
                return 0;
        }
        if (count > (size_t)max) {
                yaml_node_t *extra = pp_node(ps, n->data.sequence.items.start[max]);
                pp_problem(ps, extra ? extra->start_mark : n->start_mark, "%s: more than %d %s",
                           path, max, words->items);
                *ret_over = true;
                count = (size_t)max;
        }
        return count;
}

const yaml_node_t *pp_list_item(pp_parser *ps, const yaml_node_t *n, size_t i) {
        if (n->type == YAML_SCALAR_NODE)
                return n;
        return pp_node(ps, n->data.sequence.items.start[i]);
}

/* ---- mappings ---- */

/* Levenshtein distance for "did you mean"; keys are short. */
static size_t distance(const char *a, size_t la, const char *b) {
        size_t lb = strlen(b), row[32];

        if (la >= 32 || lb >= 32)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t best = diag + (a[i - 1] != b[j - 1]);
                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb];
}

/* "a, b or c" */
static void list_names(const char *const *names, char *buf, size_t size) {
        size_t count = 0, used = 0;

        while (names[count])
                count++;
        buf[0] = '\0';
        for (size_t i = 0; i < count; i++) {
                int w = snprintf(buf + used, size - used, "%s%s",
                                 i == 0           ? ""
                                 : i + 1 == count ? " or "
                                                  : ", ",
                                 names[i]);
                if (w < 0 || (size_t)w >= size - used)
                        return;
                used += (size_t)w;
        }
}

static void unknown_key(pp_map *it, const yaml_node_t *k) {
        const char *s = (const char *)k->data.scalar.value;
        size_t len = k->data.scalar.length, best = 3;
        const char *guess = NULL;
        char allowed[PP_MSG_SIZE], hint[PP_MSG_SIZE] = "", qb[PP_QUOTE_SIZE];

        /* A typo is one or two edits away, and not most of the word. */
        for (size_t i = 0; it->keys[i]; i++) {
                size_t d = distance(s, len, it->keys[i]);
                if (d < best && d * 3 <= strlen(it->keys[i])) {
                        best = d;
                        guess = it->keys[i];
                }
        }
        if (guess)
                snprintf(hint, sizeof(hint), " (did you mean '%s'?)", guess);
        list_names(it->keys, allowed, sizeof(allowed));
        pp_problem(it->ps, k->start_mark, "unknown key '%s' %s%s%s: expected %s",
                   pol_quote(s, len, qb, sizeof(qb)), *it->where ? "in " : "at the top level",
                   it->where, hint, allowed);
}

bool pp_map_begin(pp_map *it, pp_parser *ps, yaml_node_t *n, const char *where,
                  const char *const *keys) {
        *it = (pp_map){.ps = ps, .where = where, .keys = keys};
        if (!pp_expect(ps, n, YAML_MAPPING_NODE, *where ? where : "the policy"))
                return false;
        it->pair = n->data.mapping.pairs.start;
        it->end = n->data.mapping.pairs.top;
        return true;
}

int pp_map_next(pp_map *it, yaml_node_t **ret_key, yaml_node_t **ret_value) {
        char qb[PP_QUOTE_SIZE];

        for (; it->pair < it->end; it->pair++) {
                yaml_node_t *k = pp_node(it->ps, it->pair->key);
                yaml_node_t *v = pp_node(it->ps, it->pair->value);
                if (!k || !v)
                        continue;
                if (k->type != YAML_SCALAR_NODE) {
                        pp_problem(it->ps, k->start_mark, "%s: keys must be names, not %s",
                                   *it->where ? it->where : "the policy",
                                   k->type == YAML_MAPPING_NODE ? "mappings" : "lists");
                        continue;
                }
                int i = 0;
                for (; it->keys[i]; i++)
                        if (strlen(it->keys[i]) == k->data.scalar.length &&
                            memcmp(it->keys[i], k->data.scalar.value, k->data.scalar.length) == 0)
                                break;
                if (!it->keys[i]) {
                        const pp_renamed *r = it->renamed;
                        while (r && r->key && !(strlen(r->key) == k->data.scalar.length &&
                                                memcmp(r->key, k->data.scalar.value,
                                                       k->data.scalar.length) == 0))
                                r++;
                        if (r && r->key)
                                pp_problem(it->ps, k->start_mark, "%s%s%s: renamed: %s", it->where,
                                           *it->where ? "." : "", r->key, r->hint);
                        else
                                unknown_key(it, k);
                        continue;
                }
                /* libyaml keeps both; a reader would not know which wins. */
                if (it->seen[i]) {
                        pp_problem(it->ps, k->start_mark,
                                   "duplicate key '%s' %s%s (first at line %zu, column %zu)",
                                   pp_quote_node(k, qb), *it->where ? "in " : "at the top level",
                                   it->where, it->first[i].line + 1, it->first[i].column + 1);
                        continue;
                }
                it->seen[i] = true;
                it->first[i] = k->start_mark;
                *ret_key = k;
                *ret_value = v;
                it->pair++;
                return i;
        }
        return -1;
}

/* ---- typed values ---- */

static const char *fmt_ms(uint64_t ms, char *buf, size_t size) {
        if (ms != 0 && ms % 3600000 == 0)
                snprintf(buf, size, "%lluh", (unsigned long long)(ms / 3600000));
        else if (ms != 0 && ms % 60000 == 0)
                snprintf(buf, size, "%llum", (unsigned long long)(ms / 60000));
        else if (ms % 1000 == 0)
                snprintf(buf, size, "%llus", (unsigned long long)(ms / 1000));
        else
                snprintf(buf, size, "%llums", (unsigned long long)ms);
        return buf;
}

bool pp_get_duration(pp_parser *ps, const yaml_node_t *n, const char *path, uint64_t min,
                     uint64_t max, uint64_t *ret) {
        char msg[PP_MSG_SIZE], qb[PP_QUOTE_SIZE], lo[24], hi[24];
        const char *s = pp_text(ps, n, path);
        uint64_t v;

        if (!s)
                return false;
        if (pol_parse_duration(s, &v, msg, sizeof(msg)) < 0) {
                pp_problem(ps, n->start_mark, "%s: %s", path, msg);
                return false;
        }
        if (v < min || v > max) {
                pp_problem(ps, n->start_mark, "%s: '%s' is out of range (%s to %s)", path,
                           pp_quote_node(n, qb), fmt_ms(min, lo, sizeof(lo)),
                           fmt_ms(max, hi, sizeof(hi)));
                return false;
        }
        *ret = v;
        return true;
}

bool pp_get_share(pp_parser *ps, const yaml_node_t *n, const char *path, double *ret) {
        char msg[PP_MSG_SIZE];
        const char *s = pp_text(ps, n, path);

        if (!s)
                return false;
        if (pol_parse_share(s, ret, msg, sizeof(msg)) < 0) {
                pp_problem(ps, n->start_mark, "%s: %s", path, msg);
                return false;
        }
        return true;
}

bool pp_get_size(pp_parser *ps, const yaml_node_t *n, const char *path, bool allow_max,
                 uint64_t *ret) {
        char msg[PP_MSG_SIZE];
        const char *s = pp_text(ps, n, path);

        if (!s)
                return false;
        if (pol_parse_size(s, allow_max, ret, msg, sizeof(msg)) < 0) {
                pp_problem(ps, n->start_mark, "%s: %s", path, msg);
                return false;
        }
        return true;
}

bool pp_get_int(pp_parser *ps, const yaml_node_t *n, const char *path, bool allow_sign, int min,
                int max, int *ret) {
        char msg[PP_MSG_SIZE];
        const char *s = pp_text(ps, n, path);
        long v;

        if (!s)
                return false;
        if (pol_parse_int(s, allow_sign, min, max, &v, msg, sizeof(msg)) < 0) {
                pp_problem(ps, n->start_mark, "%s: %s", path, msg);
                return false;
        }
        *ret = (int)v;
        return true;
}

bool pp_get_bool(pp_parser *ps, const yaml_node_t *n, const char *path, bool *ret) {
        char msg[PP_MSG_SIZE];
        const char *s = pp_text(ps, n, path);

        if (!s)
                return false;
        if (pol_parse_bool(s, ret, msg, sizeof(msg)) < 0) {
                pp_problem(ps, n->start_mark, "%s: %s", path, msg);
                return false;
        }
        return true;
}

bool pp_get_enum(pp_parser *ps, const yaml_node_t *n, const char *path, const char *const *names,
                 const int *values, int *ret) {
        char allowed[PP_MSG_SIZE], qb[PP_QUOTE_SIZE];
        const char *s = pp_text(ps, n, path);

        if (!s)
                return false;
        for (size_t i = 0; names[i]; i++)
                if (strcmp(s, names[i]) == 0) {
                        *ret = values[i];
                        return true;
                }
        list_names(names, allowed, sizeof(allowed));
        pp_problem(ps, n->start_mark, "%s: unknown value '%s': expected %s", path,
                   pp_quote_node(n, qb), allowed);
        return false;
}
