/* libFuzzer target for the policy parser: any bytes in, either a policy
 * that keeps the invariants below or a failure with its reasons, and
 * never a crash, a leak or undefined behaviour (built with ASan and
 * UBSan). `make fuzz` builds and runs it; seeds are the examples/ files and
 * tests/unit/fixtures/policy/. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok) {
        if (!ok)
                abort();
}

static void check_text(const char *s, size_t size) {
        size_t len = strnlen(s, size);
        check(len < size);
        /* Messages quote the file's bytes: never a control byte in them. */
        for (size_t i = 0; i < len; i++)
                check((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void check_patterns(const pol_patterns *pt) {
        check(pt->n <= POL_PATTERNS_MAX);
        if (pt->n == 0)
                return;
        check(pt->items && !pt->items[pt->n]);
        for (size_t i = 0; i < pt->n; i++)
                check(pt->items[i][0] && strlen(pt->items[i]) < POL_PATTERN_LEN_MAX);
}

/* Label keys: given, bounded, no control byte, each once; every key
 * with at least one value pattern. */
static void check_labels(const pol_labels *l) {
        check(l->n <= POL_PATTERNS_MAX);
        check(l->n == 0 || l->items);
        for (size_t i = 0; i < l->n; i++) {
                const char *k = l->items[i].key;
                size_t len = strlen(k);
                check(len > 0 && len <= POL_LABEL_KEY_LEN_MAX);
                check_text(k, len + 1);
                check_patterns(&l->items[i].values);
                check(l->items[i].values.n > 0);
                for (size_t j = 0; j < i; j++)
                        check(strcmp(l->items[j].key, k) != 0);
        }
}

static void check_triggers(const pol_triggers *t) {
        check(t->pressure_some >= 0 && t->pressure_some <= 1);
        check(t->pressure_full >= 0 && t->pressure_full <= 1);
        check(t->near_limit >= 0 && t->near_limit <= 1);
        check(t->limit >= 0 && t->limit <= 1);
}

static void check_policy(const pol_policy *p) {
        pol_triggers t;

        check(p->version == POL_VERSION);
        check(p->n_files == 1 && strcmp(p->files[0], "fuzz.yaml") == 0);
        check(p->n_workloads <= POL_WORKLOADS_MAX);
        check(p->defaults.action != POL_ACTION_NONE);
        check_triggers(&p->defaults.triggers);
        check(p->settings.poll_interval_ms > 0);
        for (size_t i = 0; i < p->n_workloads; i++) {
                const pol_workload *w = &p->workloads[i];
                const pol_match *m = &w->match;
                check(w->name[0] && strlen(w->name) < POL_NAME_MAX);
                for (size_t j = 0; j < i; j++)
                        check(strcmp(p->workloads[j].name, w->name) != 0);
                check(w->mark.file == p->files[0] && w->mark.line >= 1 && w->mark.column >= 1);
                check_patterns(&m->cgroup);
                check_patterns(&m->comm);
                check_patterns(&m->exe);
                check_patterns(&m->cmdline);
                check_patterns(&m->container);
                check_patterns(&m->pod_uid);
                check_patterns(&m->container_name);
                check_patterns(&m->image);
                check_patterns(&m->k8s_namespace);
                check_patterns(&m->pod_name);
                check_patterns(&m->k8s_container_name);
                check_labels(&m->labels);
                check(m->cgroup.n || m->comm.n || m->exe.n || m->cmdline.n || m->container.n ||
                      m->runtime != POL_RUNTIME_ANY || m->qos != POL_QOS_ANY ||
                      pol_workload_uses_ident(w));
                check(w->score_adj >= -1000 && w->score_adj <= 1000);
                check(w->protect.oom_score_adj >= -1000 && w->protect.oom_score_adj <= 1000);
                check(w->protect.budget == POL_UNSET || w->protect.mode != POL_PROTECT_NONE);
                pol_effective_triggers(p, w, &t);
                check_triggers(&t);
                check(pol_effective_action(p, w) != POL_ACTION_NONE);
                check(strcmp(pol_action_name(pol_effective_action(p, w)), "unknown") != 0);
                check(strcmp(pol_protect_mode_name(w->protect.mode), "unknown") != 0);
                (void)pol_effective_cooldown_ms(p, w);
                (void)pol_effective_grace_ms(p, w);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Static: ~280 KiB, and reset by every pol_parse. */
        static pol_errors errs;
        pol_policy *p = NULL;

        int r = pol_parse("fuzz.yaml", (const char *)data, size, &p, &errs);
        if (r == 0) {
                check(p != NULL && errs.n == 0);
                check_policy(p);
                pol_free(p);
                return 0;
        }
        check(p == NULL);
        check(r == -EINVAL || r == -EFBIG || r == -ENOMEM);
        if (r == -ENOMEM)
                return 0;
        check(errs.n > 0 && errs.n <= POL_ERRORS_MAX);
        for (size_t i = 0; i < errs.n; i++) {
                const pol_error *e = &errs.items[i];
                check(strcmp(e->file, "fuzz.yaml") == 0);
                check(r == -EFBIG ? e->line == 0 : e->line >= 1 && e->column >= 1);
                check_text(e->message, sizeof(e->message));
                /* Sorted by position within the file. */
                if (i > 0)
                        check(errs.items[i - 1].line < e->line ||
                              (errs.items[i - 1].line == e->line &&
                               errs.items[i - 1].column <= e->column));
        }
        return 0;
}
