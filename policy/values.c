/* The policy's values apart from parsing: built-in defaults, effective
 * values for a workload, names, freeing, and the error list. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"

/* The numbers pol_default_yaml spells out; the tests hold the two equal. */
void pol_settings_builtin(pol_settings *ret) {
        *ret = (pol_settings){
                .dry_run = false,
                .poll_interval_ms = 1000,
                .hooks = {.has_timeout = true, .timeout_ms = POL_HOOK_TIMEOUT_DEFAULT_MS},
        };
}

void pol_defaults_builtin(pol_defaults *ret) {
        *ret = (pol_defaults){
                .triggers = {
                        .has_pressure_some = true,
                        .has_pressure_full = true,
                        .has_pressure_sustain = true,
                        .has_near_limit = true,
                        .has_limit = true,
                        .has_high_sustain = true,
                        .pressure_some = 0.40,
                        .pressure_full = 0.20,
                        .pressure_sustain_ms = 5000,
                        .near_limit = 0.95,
                        .limit = 0.90,
                        .high_sustain_ms = 2000,
                },
                .action = POL_ACTION_KILL_PROCESS,
                .cooldown_ms = 15000,
                .grace_ms = 0,
        };
}

int pol_default(pol_policy **ret_policy) {
        pol_policy *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p->version = POL_VERSION;
        pol_settings_builtin(&p->settings);
        pol_defaults_builtin(&p->defaults);
        *ret_policy = p;
        return 0;
}

static void patterns_clear(pol_patterns *pt) {
        for (size_t i = 0; i < pt->n; i++)
                free(pt->items[i]);
        free(pt->items);
        *pt = (pol_patterns){0};
}

void pol_command_clear(pol_command *c) {
        for (size_t i = 0; i < c->argc; i++)
                free(c->argv[i]);
        free(c->argv);
        *c = (pol_command){0};
}

void pol_hooks_clear(pol_hooks *h) {
        pol_command_clear(&h->pre_kill);
        pol_command_clear(&h->post_kill);
}

void pol_workload_clear(pol_workload *w) {
        pol_hooks_clear(&w->hooks);
        patterns_clear(&w->match.cgroup);
        patterns_clear(&w->match.comm);
        patterns_clear(&w->match.exe);
        patterns_clear(&w->match.cmdline);
        patterns_clear(&w->match.container);
        patterns_clear(&w->match.pod_uid);
        patterns_clear(&w->match.container_name);
        patterns_clear(&w->match.image);
        patterns_clear(&w->match.k8s_namespace);
        patterns_clear(&w->match.pod_name);
        patterns_clear(&w->match.k8s_container_name);
        for (size_t i = 0; i < w->match.labels.n; i++) {
                free(w->match.labels.items[i].key);
                patterns_clear(&w->match.labels.items[i].values);
        }
        free(w->match.labels.items);
        w->match.labels = (pol_labels){0};
}

bool pol_workload_uses_ident(const pol_workload *w) {
        if (!w)
                return false;
        const pol_match *m = &w->match;
        return m->container_name.n || m->image.n || m->labels.n || m->k8s_namespace.n ||
               m->pod_name.n || m->k8s_container_name.n || m->pod_uid.n;
}

bool pol_uses_ident(const pol_policy *p) {
        if (!p || !p->workloads)
                return false;
        for (size_t i = 0; i < p->n_workloads; i++)
                if (pol_workload_uses_ident(&p->workloads[i]))
                        return true;
        return false;
}

void pol_free(pol_policy *policy) {
        if (!policy)
                return;
        pol_hooks_clear(&policy->settings.hooks);
        for (size_t i = 0; i < policy->n_workloads; i++)
                pol_workload_clear(&policy->workloads[i]);
        free(policy->workloads);
        for (size_t i = 0; i < policy->n_files; i++)
                free(policy->files[i]);
        free(policy->files);
        free(policy);
}

pol_action pol_effective_action(const pol_policy *p, const pol_workload *w) {
        return w && w->action != POL_ACTION_NONE ? w->action : p->defaults.action;
}

uint64_t pol_effective_cooldown_ms(const pol_policy *p, const pol_workload *w) {
        return w && w->has_cooldown ? w->cooldown_ms : p->defaults.cooldown_ms;
}

uint64_t pol_effective_grace_ms(const pol_policy *p, const pol_workload *w) {
        return w && w->has_grace ? w->grace_ms : p->defaults.grace_ms;
}

/* Key by key: a workload that sets only pressure.some keeps the defaults'
 * full and sustain. */
void pol_effective_triggers(const pol_policy *p, const pol_workload *w, pol_triggers *ret) {
        pol_triggers t = p->defaults.triggers;

        if (w) {
                const pol_triggers *o = &w->triggers;
                if (o->has_pressure_some)
                        t.pressure_some = o->pressure_some;
                if (o->has_pressure_full)
                        t.pressure_full = o->pressure_full;
                if (o->has_pressure_sustain)
                        t.pressure_sustain_ms = o->pressure_sustain_ms;
                if (o->has_near_limit)
                        t.near_limit = o->near_limit;
                if (o->has_limit)
                        t.limit = o->limit;
                if (o->has_high_sustain)
                        t.high_sustain_ms = o->high_sustain_ms;
        }
        t.has_pressure_some = t.has_pressure_full = t.has_pressure_sustain = true;
        t.has_near_limit = t.has_limit = t.has_high_sustain = true;
        *ret = t;
}

const pol_command *pol_effective_hook(const pol_policy *p, const pol_workload *w, bool post) {
        const pol_command *own = w ? (post ? &w->hooks.post_kill : &w->hooks.pre_kill) : NULL;
        const pol_command *set = post ? &p->settings.hooks.post_kill : &p->settings.hooks.pre_kill;

        if (own && own->argv)
                return own;
        return set->argv ? set : NULL;
}

uint64_t pol_effective_hook_timeout_ms(const pol_policy *p, const pol_workload *w) {
        if (w && w->hooks.has_timeout)
                return w->hooks.timeout_ms;
        return p->settings.hooks.has_timeout ? p->settings.hooks.timeout_ms
                                             : POL_HOOK_TIMEOUT_DEFAULT_MS;
}

const char *pol_action_name(pol_action a) {
        /* As the policy file spells them (schema.c), and logs, metrics and
         * hooks repeat them. */
        static const char *const names[POL_ACTION__N] = {
                [POL_ACTION_NONE] = "none",
                [POL_ACTION_KILL_PROCESS] = "kill-process",
                [POL_ACTION_KILL_CGROUP] = "kill-cgroup",
                [POL_ACTION_NOTIFY] = "notify",
        };
        return (unsigned)a < POL_ACTION__N ? names[a] : "unknown";
}

const char *pol_protect_mode_name(pol_protect_mode m) {
        switch (m) {
        case POL_PROTECT_NONE:
                return "none";
        case POL_PROTECT_AVOID:
                return "avoid";
        case POL_PROTECT_NEVER:
                return "never";
        }
        return "unknown";
}

const char *pol_runtime_name(pol_runtime r) {
        switch (r) {
        case POL_RUNTIME_ANY:
                return "any";
        case POL_RUNTIME_DOCKER:
                return "docker";
        case POL_RUNTIME_CONTAINERD:
                return "containerd";
        case POL_RUNTIME_CRIO:
                return "crio";
        case POL_RUNTIME_PODMAN:
                return "podman";
        }
        return "unknown";
}

/* ---- errors ---- */

void pol_errors_reset(pol_errors *errs) {
        if (errs) {
                errs->n = 0;
                errs->dropped = 0;
        }
}

void pol_errors_vadd(pol_errors *errs, const char *file, unsigned line, unsigned column,
                     const char *fmt, va_list ap) {
        if (!errs)
                return;
        if (errs->n >= POL_ERRORS_MAX) {
                errs->dropped++;
                return;
        }
        pol_error *e = &errs->items[errs->n++];
        snprintf(e->file, sizeof(e->file), "%s", file ? file : "");
        e->line = line;
        e->column = column;
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
}

void pol_errors_add(pol_errors *errs, const char *file, unsigned line, unsigned column,
                    const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        pol_errors_vadd(errs, file, line, column, fmt, ap);
        va_end(ap);
}

static bool before(const pol_error *a, const pol_error *b) {
        return a->line < b->line || (a->line == b->line && a->column < b->column);
}

/* Insertion sort: at most POL_ERRORS_MAX items, and it is stable, so two
 * problems at one place keep the order they were found in. Items are
 * large (4 KiB of file name): each moves once per step. */
void pol_errors_sort(pol_errors *errs, size_t from) {
        pol_error tmp;

        if (!errs)
                return;
        for (size_t i = from + 1; i < errs->n; i++) {
                if (!before(&errs->items[i], &errs->items[i - 1]))
                        continue;
                size_t j = i;
                tmp = errs->items[i];
                while (j > from && before(&tmp, &errs->items[j - 1])) {
                        errs->items[j] = errs->items[j - 1];
                        j--;
                }
                errs->items[j] = tmp;
        }
}
