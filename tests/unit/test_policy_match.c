/* The policy parser's identity match keys (container_name, image, labels,
 * the Kubernetes names) and the renamed kubernetes.pod: exact values, and
 * every error at its line and column. The older keys are in
 * test_policy.c. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "tests/lib/policy_errors.h"

static void assert_patterns(const pol_patterns *pt, size_t n, const char *const *want) {
        cr_assert_eq(pt->n, n);
        for (size_t i = 0; i < n; i++)
                cr_assert_str_eq(pt->items[i], want[i]);
        cr_assert_null(pt->items[n], "not NULL-terminated");
}

#define PATS_EQ(pt, ...)                                                                            \
        do {                                                                                        \
                static const char *const want_[] = {__VA_ARGS__};                                   \
                assert_patterns(&(pt), sizeof(want_) / sizeof(want_[0]), want_);                    \
        } while (0)

/* ---- values ---- */

TestSuite(policy_match_keys, .init = setup, .fini = teardown);

/* The three workloads of issue 11, as an operator writes them. */
Test(policy_match_keys, issue_examples) {
        static const char yaml[] =
                "version: 1\n"
                "workloads:\n"
                "  - name: mysql\n"
                "    match: { container_name: \"mysql*\", image: [\"mysql:*\", \"mariadb:*\"] }\n"
                "    protect: { mode: never, budget: 6G }\n"
                "  - name: batch\n"
                "    match: { labels: { com.docker.compose.service: etl } }\n"
                "    score_adj: +500\n"
                "  - name: prod-db\n"
                "    match: { kubernetes: { namespace: prod, pod_name: \"postgres-*\", "
                "container_name: postgres } }\n"
                "    protect: { mode: never }\n";
        pol_policy *p = NULL;

        int r = parse(yaml, &p);
        dump_errors();
        cr_assert_eq(r, 0);
        cr_assert_eq(p->n_workloads, 3);

        const pol_match *m = &p->workloads[0].match;
        PATS_EQ(m->container_name, "mysql*");
        PATS_EQ(m->image, "mysql:*", "mariadb:*");
        cr_assert_eq(m->labels.n, 0);
        cr_assert_null(m->labels.items);
        cr_assert_eq(m->k8s_namespace.n + m->pod_name.n + m->k8s_container_name.n + m->pod_uid.n, 0);

        m = &p->workloads[1].match;
        cr_assert_eq(m->labels.n, 1);
        cr_assert_str_eq(m->labels.items[0].key, "com.docker.compose.service");
        PATS_EQ(m->labels.items[0].values, "etl");
        cr_assert_eq(m->container_name.n + m->image.n, 0);

        m = &p->workloads[2].match;
        PATS_EQ(m->k8s_namespace, "prod");
        PATS_EQ(m->pod_name, "postgres-*");
        PATS_EQ(m->k8s_container_name, "postgres");
        cr_assert_eq(m->container_name.n, 0, "kubernetes.container_name is not the runtime's name");
        cr_assert_eq(m->qos, POL_QOS_ANY);

        for (size_t i = 0; i < 3; i++)
                cr_assert(pol_workload_uses_ident(&p->workloads[i]), "workload %zu", i);
        cr_assert(pol_uses_ident(p));
        pol_free(p);
}

Test(policy_match_keys, labels_several_keys_and_lists) {
        static const char yaml[] =
                "version: 1\n"
                "workloads:\n"
                "  - name: web\n"
                "    match:\n"
                "      labels:\n"
                "        app: [web, \"web-*\"]\n"
                "        \"tier\": frontend\n"
                "        'io.kubernetes.pod.namespace': \"shop*\"\n"
                "        weird*key: \"[ab]c\"\n"
                "      kubernetes: { qos: burstable, pod_uid: [\"8b7c*\", \"f47a*\"] }\n";
        pol_policy *p = NULL;

        int r = parse(yaml, &p);
        dump_errors();
        cr_assert_eq(r, 0);
        const pol_match *m = &p->workloads[0].match;
        cr_assert_eq(m->labels.n, 4);
        cr_assert_str_eq(m->labels.items[0].key, "app");
        PATS_EQ(m->labels.items[0].values, "web", "web-*");
        cr_assert_str_eq(m->labels.items[1].key, "tier");
        PATS_EQ(m->labels.items[1].values, "frontend");
        cr_assert_str_eq(m->labels.items[2].key, "io.kubernetes.pod.namespace");
        PATS_EQ(m->labels.items[2].values, "shop*");
        /* a key is exact bytes: '*' in it is a '*' */
        cr_assert_str_eq(m->labels.items[3].key, "weird*key");
        PATS_EQ(m->labels.items[3].values, "[ab]c");
        cr_assert_eq(m->qos, POL_QOS_BURSTABLE);
        PATS_EQ(m->pod_uid, "8b7c*", "f47a*");
        pol_free(p);
}

/* pod_uid reads the identity when the path has none: it counts; qos,
 * container ids and runtimes come from the path alone. */
Test(policy_match_keys, uses_ident) {
        static const char yaml[] = "version: 1\n"
                                   "workloads:\n"
                                   "  - name: a\n"
                                   "    match: { cgroup: \"**\", comm: x, container: \"*\", runtime: docker,"
                                   " kubernetes: { qos: guaranteed } }\n"
                                   "  - name: b\n"
                                   "    match: { kubernetes: { pod_uid: \"8b7c*\" } }\n";
        pol_policy *p = NULL;

        cr_assert_eq(parse(yaml, &p), 0);
        cr_assert_not(pol_workload_uses_ident(&p->workloads[0]));
        cr_assert(pol_workload_uses_ident(&p->workloads[1]));
        cr_assert(pol_uses_ident(p));
        p->n_workloads = 1; /* a alone; restored below for pol_free */
        cr_assert_not(pol_uses_ident(p));
        p->n_workloads = 2;
        pol_free(p);

        cr_assert_not(pol_workload_uses_ident(NULL));
        cr_assert_not(pol_uses_ident(NULL));
        cr_assert_eq(pol_default(&p), 0);
        cr_assert_not(pol_uses_ident(p));
        pol_free(p);
}

/* ---- errors, at their line and column ---- */

struct error_case {
        char yaml[200];
        unsigned line, column;
        char needle[120];
        size_t count;
};

#define W "version: 1\nworkloads:\n  - name: a\n"

ParameterizedTestParameters(policy_match_errors, at_line_and_column) {
        static struct error_case cases[] = {
                /* the first schema's key: refused, naming the new ones */
                {W "    match: {kubernetes: {pod: \"8b7c*\"}}\n", 4, 26,
                 "workload 'a' match.kubernetes.pod: renamed: use pod_uid for the pod's UID, or "
                 "pod_name for its name", 1},
                {W "    match:\n      kubernetes:\n        qos: burstable\n        pod: x\n", 7, 9,
                 "match.kubernetes.pod: renamed: use pod_uid", 1},
                /* the rest of kubernetes */
                {W "    match: {kubernetes: {podname: x}}\n", 4, 26,
                 "match.kubernetes (did you mean 'pod_name'?): expected pod_uid, namespace, pod_name, "
                 "container_name or qos", 1},
                {W "    match: {kubernetes: {namespace: []}}\n", 4, 37,
                 "match.kubernetes.namespace: empty list: give at least one pattern", 1},
                {W "    match: {kubernetes: {pod_name: \"a\\tb\"}}\n", 4, 36,
                 "match.kubernetes.pod_name: 'a?b' holds a control character", 1},
                {W "    match: {kubernetes: {container_name: {x: 1}}}\n", 4, 42,
                 "match.kubernetes.container_name: expected a pattern or a list of patterns, got a "
                 "mapping", 1},
                {W "    match: {kubernetes: {pod_uid: \"\"}}\n", 4, 35, "match.kubernetes.pod_uid: empty pattern",
                 1},
                /* container_name, image */
                {W "    match: {container_name: \"[ab\"}\n", 4, 29,
                 "match.container_name: '[' without a closing ']'", 1},
                {W "    match: {image: [\"mysql:*\", \"\"]}\n", 4, 32, "match.image: empty pattern", 1},
                {W "    match: {image: {mysql: 8}}\n", 4, 20,
                 "match.image: expected a pattern or a list of patterns, got a mapping", 1},
                {W "    match: {images: \"mysql:*\"}\n", 4, 13,
                 "unknown key 'images' in workload 'a' match (did you mean 'image'?)", 1},
                {W "    match: {label: {app: web}}\n", 4, 13, "(did you mean 'labels'?)", 1},
                /* labels */
                {W "    match: {labels: {}}\n", 4, 21,
                 "workload 'a' match.labels: is empty: give a label and its value", 1},
                {W "    match: {labels: [app]}\n", 4, 21, "match.labels: expected a mapping, got a list", 1},
                {W "    match: {labels: app}\n", 4, 21, "match.labels: expected a mapping, got 'app'", 1},
                {W "    match: {labels: {\"\": x}}\n", 4, 22, "match.labels: empty label key", 1},
                {W "    match: {labels: {\"a\\nb\": x}}\n", 4, 22,
                 "match.labels: label key holds a control character", 1},
                {W "    match: {labels: {[a]: x}}\n", 4, 22, "match.labels: keys must be names, not lists", 1},
                {W "    match: {labels: {app: web, 'app': db}}\n", 4, 32,
                 "duplicate label 'app' in workload 'a' match.labels (first at line 4, column 22)", 1},
                {W "    match: {labels: {app: \"\"}}\n", 4, 27, "match.labels.app: empty pattern", 1},
                {W "    match: {labels: {app: []}}\n", 4, 27, "match.labels.app: empty list", 1},
                {W "    match: {labels: {app: {a: b}}}\n", 4, 27,
                 "match.labels.app: expected a pattern or a list of patterns, got a mapping", 1},
                {W "    match: {labels: {app: \"a\\x01\"}}\n", 4, 27,
                 "match.labels.app: 'a?' holds a control character", 1},
                /* a bad key does not hide a bad value of another */
                {W "    match: {labels: {\"\": x, b: \"[\"}}\n", 4, 32, "match.labels.b: '[' without", 2},
        };
        return cr_make_param_array(struct error_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct error_case *c, policy_match_errors, at_line_and_column, .init = setup,
                  .fini = teardown) {
        refused_at(c->yaml, c->line, c->column, c->needle, c->count);
}

TestSuite(policy_match_limits, .init = setup, .fini = teardown);

/* A label key guardian's readers would drop can never match: refused. */
Test(policy_match_limits, label_key_length) {
        char yaml[1024];
        pol_policy *p = NULL;

        snprintf(yaml, sizeof(yaml), W "    match: {labels: {%0*d: x}}\n", POL_LABEL_KEY_LEN_MAX, 0);
        cr_assert_eq(parse(yaml, &p), 0, "a key of the longest length is fine");
        cr_assert_eq(strlen(p->workloads[0].match.labels.items[0].key), POL_LABEL_KEY_LEN_MAX);
        pol_free(p);
        p = NULL;

        snprintf(yaml, sizeof(yaml), W "    match: {labels: {%0*d: x}}\n", POL_LABEL_KEY_LEN_MAX + 1, 0);
        cr_assert_eq(parse(yaml, &p), -EINVAL);
        dump_errors();
        cr_assert(has_error(4, 22, "match.labels: label key longer than 256 bytes"));
        cr_assert_eq(errs->n, 1);
}

/* At most POL_PATTERNS_MAX label keys; the first extra one is named. */
Test(policy_match_limits, label_count) {
        char *yaml = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&yaml, &size);
        pol_policy *p = NULL;

        cr_assert_not_null(f);
        fputs(W "    match:\n      labels:\n", f);
        for (int i = 0; i < POL_PATTERNS_MAX; i++)
                fprintf(f, "        k%d: v\n", i);
        fclose(f);
        cr_assert_eq(parse(yaml, &p), 0);
        cr_assert_eq(p->workloads[0].match.labels.n, POL_PATTERNS_MAX);
        pol_free(p);
        p = NULL;
        free(yaml);

        f = open_memstream(&yaml, &size);
        cr_assert_not_null(f);
        fputs(W "    match:\n      labels:\n", f);
        for (int i = 0; i < POL_PATTERNS_MAX + 3; i++)
                fprintf(f, "        k%d: v\n", i);
        fclose(f);
        cr_assert_eq(parse(yaml, &p), -EINVAL);
        dump_errors();
        /* line 6 holds k0: the extra k64 is line 6 + 64 */
        cr_assert(has_error(6 + POL_PATTERNS_MAX, 9, "match.labels: more than 64 labels"));
        cr_assert_eq(errs->n, 1);
        free(yaml);
}
