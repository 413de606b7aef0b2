/* YAML text to a pol_policy: libyaml in two passes over the same buffer.
 *
 * 1. The event stream, to find what document mode hides or makes
 *    dangerous: anchors and aliases (the loader resolves an alias into a
 *    shared node, so a walk of a crafted file could visit one node
 *    exponentially often), explicit tags, a second document, nesting past
 *    POL_DEPTH_MAX (stopped before the loader builds it), and syntax
 *    errors.
 * 2. yaml_parser_load of the first document, and a walk of its tree
 *    against the schema (schema.c), collecting every problem it can
 *    instead of stopping at the first.
 *
 * Every scalar is a string to libyaml; units.c gives them types. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parse-internal.h"

/* Reader errors (bad UTF-8, control characters) carry a byte offset, not
 * a mark: count lines and characters up to it ourselves. */
static yaml_mark_t mark_at(const char *buf, size_t len, size_t offset) {
        yaml_mark_t m = {0};

        if (offset > len)
                offset = len;
        for (size_t i = 0; i < offset; i++) {
                if (buf[i] == '\n') {
                        m.line++;
                        m.column = 0;
                } else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
                        m.column++;
                }
        }
        return m;
}

static int syntax_error(pp_parser *ps, const yaml_parser_t *yp, const char *buf, size_t len) {
        const char *what = yp->problem ? yp->problem : "cannot parse";

        if (yp->error == YAML_MEMORY_ERROR)
                return -ENOMEM;
        if (yp->error == YAML_READER_ERROR) {
                yaml_mark_t m = mark_at(buf, len, yp->problem_offset);
                /* A byte for bad UTF-8, a code point for a bad character. */
                if (yp->problem_value >= 0 && yp->problem_value <= 0xff)
                        pp_problem(ps, m, "syntax error: %s (byte 0x%02x)", what,
                                   yp->problem_value);
                else if (yp->problem_value > 0xff)
                        pp_problem(ps, m, "syntax error: %s (U+%04X)", what, yp->problem_value);
                else
                        pp_problem(ps, m, "syntax error: %s", what);
        } else if (yp->context) {
                pp_problem(ps, yp->problem_mark, "syntax error: %s (%s at line %zu, column %zu)",
                           what, yp->context, yp->context_mark.line + 1,
                           yp->context_mark.column + 1);
        } else {
                pp_problem(ps, yp->problem_mark, "syntax error: %s", what);
        }
        return 0;
}

/* Pass 1. *ret_loadable is false when the document must not be loaded
 * (syntax error, aliases, too deep). */
static int scan(pp_parser *ps, const char *buf, size_t len, bool *ret_loadable) {
        yaml_parser_t yp;
        yaml_event_t ev;
        yaml_mark_t second_doc = {0};
        unsigned depth = 0, documents = 0;
        bool loadable = true, done = false;
        int r = 0;

        if (!yaml_parser_initialize(&yp))
                return -ENOMEM;
        yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
        while (!done) {
                if (!yaml_parser_parse(&yp, &ev)) {
                        r = syntax_error(ps, &yp, buf, len);
                        loadable = false;
                        break;
                }
                const char *anchor = NULL, *tag = NULL;
                bool content = false;
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++documents == 2)
                                second_doc = ev.start_mark;
                        break;
                case YAML_ALIAS_EVENT:
                        anchor = (const char *)ev.data.alias.anchor;
                        content = true;
                        break;
                case YAML_SCALAR_EVENT:
                        anchor = (const char *)ev.data.scalar.anchor;
                        tag = (const char *)ev.data.scalar.tag;
                        content = ev.data.scalar.length > 0 || anchor || tag ||
                                  ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
                        break;
                case YAML_SEQUENCE_START_EVENT:
                        anchor = (const char *)ev.data.sequence_start.anchor;
                        tag = (const char *)ev.data.sequence_start.tag;
                        content = true;
                        depth++;
                        break;
                case YAML_MAPPING_START_EVENT:
                        anchor = (const char *)ev.data.mapping_start.anchor;
                        tag = (const char *)ev.data.mapping_start.tag;
                        content = true;
                        depth++;
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        depth--;
                        break;
                default:
                        break;
                }
                char qb[PP_QUOTE_SIZE];
                if (documents >= 2 && content) {
                        /* A trailing "---" alone is tolerated: only a
                         * second document that says something is lost. */
                        pp_problem(
                                ps, second_doc,
                                "more than one document: a policy file holds one (use one file per "
                                "document in a policy directory)");
                        done = true;
                } else if (depth > POL_DEPTH_MAX) {
                        pp_problem(ps, ev.start_mark, "nested more than %d levels deep",
                                   POL_DEPTH_MAX);
                        loadable = false;
                        done = true;
                } else if (ev.type == YAML_ALIAS_EVENT) {
                        pp_problem(ps, ev.start_mark,
                                   "aliases are not allowed ('*%s'): write the value out",
                                   pol_quote(anchor, strlen(anchor), qb, sizeof(qb)));
                        loadable = false;
                } else {
                        if (anchor)
                                pp_problem(ps, ev.start_mark,
                                           "anchors are not allowed ('&%s'): write each value out",
                                           pol_quote(anchor, strlen(anchor), qb, sizeof(qb)));
                        /* libyaml expands "!!str" to its full form: show
                         * what the file says. */
                        static const char core[] = "tag:yaml.org,2002:";
                        if (tag && strncmp(tag, core, sizeof(core) - 1) == 0)
                                pp_problem(ps, ev.start_mark, "tags are not allowed ('!!%s')",
                                           pol_quote(tag + sizeof(core) - 1,
                                                     strlen(tag + sizeof(core) - 1), qb,
                                                     sizeof(qb)));
                        else if (tag)
                                pp_problem(ps, ev.start_mark, "tags are not allowed ('%s')",
                                           pol_quote(tag, strlen(tag), qb, sizeof(qb)));
                }
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&yp);
        *ret_loadable = loadable;
        return r;
}

/* Pass 2. */
static int load(pp_parser *ps, const char *buf, size_t len) {
        yaml_parser_t yp;
        yaml_document_t doc;
        int r = 0;

        if (!yaml_parser_initialize(&yp))
                return -ENOMEM;
        yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
        if (!yaml_parser_load(&yp, &doc)) {
                /* Pass 1 reported syntax errors already; this is memory,
                 * or a problem pass 1 did not reach (it stops early). */
                r = syntax_error(ps, &yp, buf, len);
                yaml_parser_delete(&yp);
                return r;
        }
        ps->doc = &doc;
        pp_walk_root(ps, yaml_document_get_root_node(&doc));
        ps->doc = NULL;
        yaml_document_delete(&doc);
        yaml_parser_delete(&yp);
        return 0;
}

int pol_parse_append(const char *file, const char *buf, size_t len, pol_policy **ret_policy,
                     pol_errors *errs, pol_file_info *info) {
        size_t first_error = errs ? errs->n : 0;
        bool loadable = false;
        int r;

        if (!file)
                file = "(policy)";
        if (len > POL_FILE_MAX) {
                pol_errors_add(errs, file, 0, 0,
                               "too big: %zu bytes, a policy file holds at most %u", len,
                               POL_FILE_MAX);
                return -EFBIG;
        }
        if (!buf)
                buf = "";

        pol_policy *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->files = calloc(1, sizeof(*p->files));
        if (!p->files || !(p->files[0] = strdup(file))) {
                pol_free(p);
                return -ENOMEM;
        }
        p->n_files = 1;
        pol_settings_builtin(&p->settings);
        pol_defaults_builtin(&p->defaults);

        pp_parser ps = {.file = p->files[0], .errs = errs, .policy = p};
        r = scan(&ps, buf, len, &loadable);
        if (r == 0 && loadable)
                r = load(&ps, buf, len);
        if (r == 0 && ps.oom)
                r = -ENOMEM;
        if (r == 0 && ps.problems > 0)
                r = -EINVAL;
        pol_errors_sort(errs, first_error);
        if (r < 0) {
                free(ps.name_marks);
                pol_free(p);
                return r;
        }
        if (info) {
                *info = (pol_file_info){
                        .has_settings = ps.has_settings,
                        .has_defaults = ps.has_defaults,
                        .settings_line = (unsigned)ps.settings_mark.line + 1,
                        .settings_column = (unsigned)ps.settings_mark.column + 1,
                        .defaults_line = (unsigned)ps.defaults_mark.line + 1,
                        .defaults_column = (unsigned)ps.defaults_mark.column + 1,
                        .name_marks = ps.name_marks,
                };
        } else {
                free(ps.name_marks);
        }
        *ret_policy = p;
        return 0;
}

int pol_parse(const char *file, const char *buf, size_t len, pol_policy **ret_policy,
              pol_errors *errs) {
        pol_errors_reset(errs);
        return pol_parse_append(file, buf, len, ret_policy, errs, NULL);
}
