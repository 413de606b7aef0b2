/* The schema of policy.h, walked over a loaded document. Every section
 * reports what is wrong with it and carries on, so one run of `guardian
 * check` lists every problem of a file. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/parse-internal.h"

static const char *const action_names[] = {"kill-process", "kill-cgroup", "notify", NULL};
static const int action_values[] = {POL_ACTION_KILL_PROCESS, POL_ACTION_KILL_CGROUP,
                                    POL_ACTION_NOTIFY};
static const char *const mode_names[] = {"never", "avoid", NULL};
static const int mode_values[] = {POL_PROTECT_NEVER, POL_PROTECT_AVOID};

static bool get_action(pp_parser *ps, const yaml_node_t *n, const char *path, pol_action *ret) {
        int v;

        if (!pp_get_enum(ps, n, path, action_names, action_values, &v))
                return false;
        *ret = (pol_action)v;
        return true;
}

/* ---- sections ---- */

static void walk_triggers(pp_parser *ps, yaml_node_t *n, const char *where, pol_triggers *t) {
        static const char *const keys[] = {"pressure", "near_limit", "limit", "high", NULL};
        static const char *const pressure_keys[] = {"some", "full", "sustain", NULL};
        static const char *const high_keys[] = {"sustain", NULL};
        char path[PP_PATH_SIZE], sub[PP_PATH_SIZE];
        yaml_node_t *k, *v;
        pp_map it, inner;
        int key, pk;

        if (!pp_map_begin(&it, ps, n, where, keys))
                return;
        while ((key = pp_map_next(&it, &k, &v)) >= 0) {
                pp_join(path, where, '.', keys[key]);
                switch (key) {
                case 0:
                        if (!pp_map_begin(&inner, ps, v, path, pressure_keys))
                                break;
                        while ((pk = pp_map_next(&inner, &k, &v)) >= 0) {
                                pp_join(sub, path, '.', pressure_keys[pk]);
                                if (pk == 0)
                                        t->has_pressure_some |=
                                                pp_get_share(ps, v, sub, &t->pressure_some);
                                else if (pk == 1)
                                        t->has_pressure_full |=
                                                pp_get_share(ps, v, sub, &t->pressure_full);
                                else
                                        t->has_pressure_sustain |=
                                                pp_get_duration(ps, v, sub, 0, POL_SUSTAIN_MAX_MS,
                                                                &t->pressure_sustain_ms);
                        }
                        break;
                case 1:
                        t->has_near_limit |= pp_get_share(ps, v, path, &t->near_limit);
                        break;
                case 2:
                        t->has_limit |= pp_get_share(ps, v, path, &t->limit);
                        break;
                case 3:
                        if (!pp_map_begin(&inner, ps, v, path, high_keys))
                                break;
                        while (pp_map_next(&inner, &k, &v) >= 0)
                                t->has_high_sustain |=
                                        pp_get_duration(ps, v, pp_join(sub, path, '.', "sustain"),
                                                        0, POL_SUSTAIN_MAX_MS, &t->high_sustain_ms);
                        break;
                }
        }
}

/* ---- hooks ---- */

/* Argument i of a hook's command into c (argv already allocated). */
static void add_arg(pp_parser *ps, const yaml_node_t *n, const char *path, size_t i,
                    pol_command *c) {
        char qb[PP_QUOTE_SIZE];
        const char *s = pp_text(ps, n, path);

        if (!s)
                return;
        if (i == 0 && s[0] == '\0') {
                pp_problem(ps, n->start_mark, "%s: empty command", path);
                return;
        }
        if (strlen(s) >= POL_HOOK_ARG_LEN_MAX) {
                pp_problem(ps, n->start_mark, "%s: longer than %d characters", path,
                           POL_HOOK_ARG_LEN_MAX - 1);
                return;
        }
        /* No PATH search: what runs as root must be named exactly. */
        if (i == 0 && !c->shell && s[0] != '/') {
                pp_problem(ps, n->start_mark,
                           "%s: '%s' is not an absolute path: a command list is run without a "
                           "shell or a PATH search; write its full path, or give a string to "
                           "run it with /bin/sh -c",
                           path, pp_quote_node(n, qb));
                return;
        }
        char *copy = pp_strdup(ps, s);
        if (copy)
                c->argv[c->argc++] = copy;
}

/* A list is argv, exec'd directly; a string is a line for /bin/sh -c. A
 * command with a bad part is dropped whole: half an argv is not run. */
static void get_command(pp_parser *ps, const yaml_node_t *n, const char *path, pol_command *c) {
        static const pp_list_words words = {
                .expected = "a command: a list [/absolute/path, arg, ...] or a string for "
                            "/bin/sh -c",
                .empty = "give the command's absolute path and its arguments",
                .items = "arguments",
        };
        size_t problems = ps->problems;
        bool over;
        size_t count = pp_list_count(ps, n, path, POL_HOOK_ARGS_MAX, &words, &over);

        if (count == 0 || over)
                return;
        pol_command cmd = {.shell = n->type == YAML_SCALAR_NODE};
        cmd.argv = calloc(count + 1, sizeof(*cmd.argv));
        if (!cmd.argv) {
                ps->oom = true;
                return;
        }
        for (size_t i = 0; i < count; i++) {
                const yaml_node_t *item = pp_list_item(ps, n, i);
                if (item)
                        add_arg(ps, item, path, i, &cmd);
        }
        if (ps->problems != problems || ps->oom || cmd.argc != count) {
                pol_command_clear(&cmd);
                return;
        }
        pol_command_clear(c);
        *c = cmd;
}

static void walk_hooks(pp_parser *ps, yaml_node_t *n, const char *where, pol_hooks *h) {
        static const char *const keys[] = {"pre_kill", "post_kill", "timeout", NULL};
        char path[PP_PATH_SIZE];
        yaml_node_t *k, *v;
        pp_map it;
        int key;

        if (!pp_map_begin(&it, ps, n, where, keys))
                return;
        while ((key = pp_map_next(&it, &k, &v)) >= 0) {
                pp_join(path, where, '.', keys[key]);
                if (key == 0)
                        get_command(ps, v, path, &h->pre_kill);
                else if (key == 1)
                        get_command(ps, v, path, &h->post_kill);
                else
                        h->has_timeout |= pp_get_duration(ps, v, path, POL_HOOK_TIMEOUT_MIN_MS,
                                                          POL_HOOK_TIMEOUT_MAX_MS,
                                                          &h->timeout_ms);
        }
}

static void walk_settings(pp_parser *ps, yaml_node_t *n) {
        static const char *const keys[] = {"dry_run", "poll_interval", "hooks", NULL};
        pol_settings *s = &ps->policy->settings;
        yaml_node_t *k, *v;
        pp_map it;
        int key;

        if (!pp_map_begin(&it, ps, n, "settings", keys))
                return;
        while ((key = pp_map_next(&it, &k, &v)) >= 0) {
                if (key == 0)
                        pp_get_bool(ps, v, "settings.dry_run", &s->dry_run);
                else if (key == 1)
                        pp_get_duration(ps, v, "settings.poll_interval", POL_POLL_MIN_MS,
                                        POL_POLL_MAX_MS, &s->poll_interval_ms);
                else
                        walk_hooks(ps, v, "settings.hooks", &s->hooks);
        }
}

/* ps->policy->defaults starts as the built-in defaults: what the file
 * leaves out keeps them, and every has_* stays true. */
static void walk_defaults(pp_parser *ps, yaml_node_t *n) {
        static const char *const keys[] = {"triggers", "action", "cooldown", "grace", NULL};
        pol_defaults *d = &ps->policy->defaults;
        yaml_node_t *k, *v;
        pp_map it;
        int key;

        if (!pp_map_begin(&it, ps, n, "defaults", keys))
                return;
        while ((key = pp_map_next(&it, &k, &v)) >= 0) {
                switch (key) {
                case 0:
                        walk_triggers(ps, v, "defaults.triggers", &d->triggers);
                        break;
                case 1:
                        get_action(ps, v, "defaults.action", &d->action);
                        break;
                case 2:
                        pp_get_duration(ps, v, "defaults.cooldown", 0, POL_COOLDOWN_MAX_MS,
                                        &d->cooldown_ms);
                        break;
                case 3:
                        pp_get_duration(ps, v, "defaults.grace", 0, POL_GRACE_MAX_MS, &d->grace_ms);
                        break;
                }
        }
}

static void walk_protect(pp_parser *ps, yaml_node_t *n, const char *where, pol_protect *pr) {
        static const char *const keys[] = {
                "mode", "budget", "memory_min", "memory_low", "memory_high", "oom_score_adj", NULL};
        char path[PP_PATH_SIZE];
        yaml_node_t *k, *v, *budget = NULL;
        bool has_mode = false;
        pp_map it;
        int key, mode;

        if (!pp_map_begin(&it, ps, n, where, keys))
                return;
        while ((key = pp_map_next(&it, &k, &v)) >= 0) {
                pp_join(path, where, '.', keys[key]);
                switch (key) {
                case 0:
                        has_mode = true;
                        if (pp_get_enum(ps, v, path, mode_names, mode_values, &mode))
                                pr->mode = (pol_protect_mode)mode;
                        break;
                case 1:
                        if (pp_get_size(ps, v, path, false, &pr->budget))
                                budget = k;
                        break;
                case 2:
                        pp_get_size(ps, v, path, true, &pr->memory_min);
                        break;
                case 3:
                        pp_get_size(ps, v, path, true, &pr->memory_low);
                        break;
                case 4:
                        pp_get_size(ps, v, path, true, &pr->memory_high);
                        break;
                case 5:
                        pr->has_oom_score_adj =
                                pp_get_int(ps, v, path, true, -1000, 1000, &pr->oom_score_adj);
                        break;
                }
        }
        /* A budget is the limit of a protection: alone it does nothing. (A
         * mode given but misspelt was reported already.) */
        if (budget && !has_mode)
                pp_problem(ps, budget->start_mark,
                           "%s: a budget limits a protection: give mode: never or avoid", where);
}

static bool valid_name(const char *s) {
        size_t len = strlen(s);

        if (len == 0 || len >= POL_NAME_MAX)
                return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                      (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
                        return false;
        return true;
}

static void walk_name(pp_parser *ps, yaml_node_t *v, const char *path, size_t index) {
        pol_workload *w = &ps->policy->workloads[index];
        char qb[PP_QUOTE_SIZE];
        const char *s = pp_text(ps, v, path);

        if (!s)
                return;
        if (!valid_name(s)) {
                pp_problem(ps, v->start_mark,
                           "%s: '%s' is not a valid name: use 1 to %d of A-Z a-z 0-9 _ . -", path,
                           pp_quote_node(v, qb), POL_NAME_MAX - 1);
                return;
        }
        for (size_t j = 0; j < index; j++)
                if (strcmp(ps->policy->workloads[j].name, s) == 0) {
                        pp_problem(ps, v->start_mark,
                                   "%s: '%s' is already used at line %u, column %u", path, s,
                                   ps->name_marks[j][0], ps->name_marks[j][1]);
                        return;
                }
        memcpy(w->name, s, strlen(s) + 1);
        ps->name_marks[index][0] = (unsigned)v->start_mark.line + 1;
        ps->name_marks[index][1] = (unsigned)v->start_mark.column + 1;
}

static void walk_workload(pp_parser *ps, yaml_node_t *n, size_t index) {
        static const char *const keys[] = {
                "name",   "match",    "protect", "score_adj", "trust_oom_score_adj",
                "action", "cooldown", "grace",   "triggers",  "hooks", NULL};
        pol_workload *w = &ps->policy->workloads[index];
        char label[PP_PATH_SIZE], path[PP_PATH_SIZE];
        bool has_name = false, has_match = false;
        yaml_node_t *k, *v;
        pp_map it;
        int key;

        w->mark = (pol_mark){.file = ps->file,
                             .line = (unsigned)n->start_mark.line + 1,
                             .column = (unsigned)n->start_mark.column + 1};
        w->trust_oom_score_adj = true;
        w->protect.budget = w->protect.memory_min = POL_UNSET;
        w->protect.memory_low = w->protect.memory_high = POL_UNSET;

        /* Messages name the workload even when "name" is not its first key. */
        snprintf(label, sizeof(label), "workload #%zu", index + 1);
        for (yaml_node_pair_t *pair = n->type == YAML_MAPPING_NODE ? n->data.mapping.pairs.start
                                                                   : NULL;
             pair && pair < n->data.mapping.pairs.top; pair++) {
                yaml_node_t *pk = pp_node(ps, pair->key), *pv = pp_node(ps, pair->value);
                if (pk && pv && pk->type == YAML_SCALAR_NODE && pv->type == YAML_SCALAR_NODE &&
                    strcmp((const char *)pk->data.scalar.value, "name") == 0 &&
                    valid_name((const char *)pv->data.scalar.value)) {
                        snprintf(label, sizeof(label), "workload '%s'",
                                 (const char *)pv->data.scalar.value);
                        break;
                }
        }

        if (!pp_map_begin(&it, ps, n, label, keys))
                return;
        while ((key = pp_map_next(&it, &k, &v)) >= 0) {
                pp_join(path, label, ' ', keys[key]);
                switch (key) {
                case 0:
                        has_name = true;
                        walk_name(ps, v, path, index);
                        break;
                case 1:
                        has_match = true;
                        pp_walk_match(ps, v, path, &w->match);
                        break;
                case 2:
                        walk_protect(ps, v, path, &w->protect);
                        break;
                case 3:
                        w->has_score_adj =
                                pp_get_int(ps, v, path, true, -1000, 1000, &w->score_adj);
                        break;
                case 4:
                        pp_get_bool(ps, v, path, &w->trust_oom_score_adj);
                        break;
                case 5:
                        get_action(ps, v, path, &w->action);
                        break;
                case 6:
                        w->has_cooldown = pp_get_duration(ps, v, path, 0, POL_COOLDOWN_MAX_MS,
                                                          &w->cooldown_ms);
                        break;
                case 7:
                        w->has_grace =
                                pp_get_duration(ps, v, path, 0, POL_GRACE_MAX_MS, &w->grace_ms);
                        break;
                case 8:
                        walk_triggers(ps, v, path, &w->triggers);
                        break;
                case 9:
                        walk_hooks(ps, v, path, &w->hooks);
                        break;
                }
        }
        if (!has_name)
                pp_problem(ps, n->start_mark, "%s: missing name", label);
        if (!has_match)
                pp_problem(ps, n->start_mark,
                           "%s: missing match: give at least one of " PP_MATCH_KEYS_TEXT, label);
}

static void walk_workloads(pp_parser *ps, yaml_node_t *n) {
        pol_policy *p = ps->policy;

        if (!pp_expect(ps, n, YAML_SEQUENCE_NODE, "workloads"))
                return;
        size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
        if (count > POL_WORKLOADS_MAX) {
                yaml_node_t *extra = pp_node(ps, n->data.sequence.items.start[POL_WORKLOADS_MAX]);
                pp_problem(ps, extra ? extra->start_mark : n->start_mark,
                           "workloads: more than %d workloads", POL_WORKLOADS_MAX);
                count = POL_WORKLOADS_MAX;
        }
        if (count == 0)
                return;
        p->workloads = calloc(count, sizeof(*p->workloads));
        ps->name_marks = calloc(count, sizeof(*ps->name_marks));
        if (!p->workloads || !ps->name_marks) {
                ps->oom = true;
                return;
        }
        for (size_t i = 0; i < count && !ps->oom; i++) {
                yaml_node_t *item = pp_node(ps, n->data.sequence.items.start[i]);
                /* Counted before the walk: pol_free must see every workload
                 * that may own patterns. */
                p->n_workloads = i + 1;
                if (item)
                        walk_workload(ps, item, i);
        }
}

void pp_walk_root(pp_parser *ps, yaml_node_t *root) {
        static const char *const keys[] = {"version", "settings", "defaults", "workloads", NULL};
        yaml_node_t *k, *v;
        bool has_version = false;
        pp_map it;
        int key, version;

        /* No document at all (only comments), or a bare "---". */
        if (!root || pp_is_empty(root)) {
                pp_problem(ps, (yaml_mark_t){0}, "the policy is empty: 'version: %d' is required",
                           POL_VERSION);
                return;
        }
        if (!pp_map_begin(&it, ps, root, "", keys))
                return;
        while ((key = pp_map_next(&it, &k, &v)) >= 0) {
                switch (key) {
                case 0:
                        has_version = true;
                        if (!pp_get_int(ps, v, "version", false, 0, INT_MAX, &version))
                                break;
                        if (version != POL_VERSION)
                                pp_problem(
                                        ps, v->start_mark,
                                        "version: %d is not supported: this guardian reads version %d",
                                        version, POL_VERSION);
                        else
                                ps->policy->version = version;
                        break;
                case 1:
                        ps->has_settings = true;
                        ps->settings_mark = k->start_mark;
                        walk_settings(ps, v);
                        break;
                case 2:
                        ps->has_defaults = true;
                        ps->defaults_mark = k->start_mark;
                        walk_defaults(ps, v);
                        break;
                case 3:
                        walk_workloads(ps, v);
                        break;
                }
        }
        if (!has_version)
                pp_problem(ps, root->start_mark, "missing 'version: %d' at the top level",
                           POL_VERSION);
}
