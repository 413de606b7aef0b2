/* policy/match.c with container identity (gd_container_ident, as the
 * runtimes' state files give it, built here by hand): the identity keys,
 * empty fields against "*", labels, the pod UID's two sources, hostile
 * bytes in the why text. Workload matching without identity is in
 * test_match_workload.c. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/match.h"
#include "tests/lib/why_cut.h"

#define ID_A "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
#define POD "8b7c1f2a-5d3e-4c1b-9a2f-0e6d7c8b9a10"
#define POD_US "8b7c1f2a_5d3e_4c1b_9a2f_0e6d7c8b9a10"
#define POD2 "f47ac10b-58cc-4372-a567-0e02b2c3d479"

#define DOCKER_CG "system.slice/docker-" ID_A ".scope"
/* containerd under the kubelet's systemd driver: the path has the pod UID */
#define POD_CG                                                                                      \
        "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_US                     \
        ".slice/cri-containerd-" ID_A ".scope"
/* podman kube play: a container, but no pod in the path */
#define PODMAN_CG "machine.slice/libpod-" ID_A ".scope"

/* A pol_patterns of string literals, as the parser would hand out. */
#define PATS(...)                                                                                   \
        ((pol_patterns){.items = (char *[]){__VA_ARGS__, NULL},                                     \
                        .n = sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)})
/* labels: { key: [globs] } */
#define LBL(k, ...) ((pol_label_match){.key = k, .values = PATS(__VA_ARGS__)})
#define LABELS(...)                                                                                 \
        ((pol_labels){.items = (pol_label_match[]){__VA_ARGS__},                                    \
                      .n = sizeof((pol_label_match[]){__VA_ARGS__}) / sizeof(pol_label_match)})

#define SET(c, field, value) snprintf((c)->field, sizeof((c)->field), "%s", value)

static pol_workload workload(const char *name) {
        pol_workload w = {.trust_oom_score_adj = true};

        strcpy(w.name, name);
        return w;
}

/* ~18 KiB each: on the heap, freed by the suite's fini. */
static gd_container_ident *mysql, *etl, *pg, *blank;

/* Appends label key=value to c's pool, as the readers do. */
static void add_label(gd_container_ident *c, const char *key, const char *value) {
        size_t kl = strlen(key) + 1, vl = strlen(value) + 1;

        cr_assert_lt(c->n_labels, GD_IDENT_LABELS_MAX);
        cr_assert_leq(c->pool_used + kl + vl, sizeof(c->pool));
        c->labels[c->n_labels].key = (uint16_t)c->pool_used;
        memcpy(c->pool + c->pool_used, key, kl);
        c->pool_used += kl;
        c->labels[c->n_labels].value = (uint16_t)c->pool_used;
        memcpy(c->pool + c->pool_used, value, vl);
        c->pool_used += vl;
        c->n_labels++;
}

static gd_container_ident *ident_new(pol_runtime rt) {
        gd_container_ident *c = calloc(1, sizeof(*c));

        cr_assert_not_null(c);
        c->runtime = rt;
        SET(c, id, ID_A);
        return c;
}

static void setup(void) {
        mysql = ident_new(POL_RUNTIME_DOCKER);
        SET(mysql, name, "mysql-1");
        SET(mysql, image, "mysql:8");
        add_label(mysql, "com.docker.compose.project", "shop");
        add_label(mysql, "com.docker.compose.service", "db");

        etl = ident_new(POL_RUNTIME_DOCKER);
        SET(etl, name, "shop-etl-1");
        SET(etl, image, "registry.example.com/team/etl:2024.1");
        add_label(etl, "com.docker.compose.project", "shop");
        add_label(etl, "com.docker.compose.service", "etl");
        add_label(etl, "tier", "batch");

        /* a CRI container: the image as the kubelet normalized it */
        pg = ident_new(POL_RUNTIME_CONTAINERD);
        SET(pg, image, "docker.io/library/postgres:16");
        SET(pg, k8s_namespace, "prod");
        SET(pg, pod_name, "postgres-0");
        SET(pg, pod_uid, POD);
        SET(pg, container_name, "postgres");

        /* the readers found a file and nothing in it */
        blank = ident_new(POL_RUNTIME_DOCKER);
        add_label(blank, "empty", "");
}

static void teardown(void) {
        free(mysql);
        free(etl);
        free(pg);
        free(blank);
}

TestSuite(match_ident, .init = setup, .fini = teardown);

static bool matches(const pol_workload *w, const char *cgroup, const gd_container_ident *c) {
        pol_subject s = {.cgroup = cgroup, .ident = c};
        return pol_match_workload(w, &s, NULL, 0);
}

/* An identity key needs an identity: none known is no match, whatever the
 * pattern, so a protection never applies to a container not yet read. */
Test(match_ident, needs_an_ident) {
        pol_workload w = workload("any");

        w.match.container_name = PATS("*");
        cr_assert(matches(&w, DOCKER_CG, mysql));
        cr_assert_not(matches(&w, DOCKER_CG, NULL));
        w = workload("any");
        w.match.image = PATS("*");
        cr_assert_not(matches(&w, DOCKER_CG, NULL));
        w = workload("any");
        w.match.labels = LABELS(LBL("com.docker.compose.service", "*"));
        cr_assert_not(matches(&w, DOCKER_CG, NULL));
        w = workload("any");
        w.match.k8s_namespace = PATS("*");
        cr_assert_not(matches(&w, POD_CG, NULL));
        w = workload("any");
        w.match.pod_name = PATS("*");
        cr_assert_not(matches(&w, POD_CG, NULL));
        w = workload("any");
        w.match.k8s_container_name = PATS("*");
        cr_assert_not(matches(&w, POD_CG, NULL));
}

/* "" is a field the runtime did not give (or one too long to keep): no
 * pattern matches it, "*" included. */
Test(match_ident, empty_fields_match_no_pattern) {
        pol_workload w;

        w = workload("e"), w.match.container_name = PATS("*");
        cr_assert_not(matches(&w, DOCKER_CG, blank));
        w = workload("e"), w.match.image = PATS("*");
        cr_assert_not(matches(&w, DOCKER_CG, blank));
        w = workload("e"), w.match.k8s_namespace = PATS("*");
        cr_assert_not(matches(&w, DOCKER_CG, blank));
        w = workload("e"), w.match.pod_name = PATS("*");
        cr_assert_not(matches(&w, DOCKER_CG, blank));
        w = workload("e"), w.match.k8s_container_name = PATS("*");
        cr_assert_not(matches(&w, DOCKER_CG, blank));
        cr_assert_not(matches(&w, DOCKER_CG, mysql), "docker gives no pod container name");
        /* a label there with an empty value, and one not there at all */
        w = workload("e"), w.match.labels = LABELS(LBL("empty", "*"));
        cr_assert_not(matches(&w, DOCKER_CG, blank));
        w = workload("e"), w.match.labels = LABELS(LBL("absent", "*"));
        cr_assert_not(matches(&w, DOCKER_CG, blank));
        /* the same keys match once there is a value */
        w = workload("e"), w.match.container_name = PATS("*");
        cr_assert(matches(&w, DOCKER_CG, mysql));
        w = workload("e"), w.match.k8s_namespace = PATS("*");
        cr_assert(matches(&w, POD_CG, pg));
}

Test(match_ident, container_name_and_image) {
        pol_workload w = workload("mysql");

        w.match.container_name = PATS("mysql*");
        w.match.image = PATS("mysql:*", "mariadb:*");
        cr_assert(matches(&w, DOCKER_CG, mysql));
        cr_assert_not(matches(&w, DOCKER_CG, etl));
        /* both must match: the name alone is not enough */
        SET(etl, name, "mysql-2");
        cr_assert_not(matches(&w, DOCKER_CG, etl));
        /* anchored: a prefix or a suffix is not a match */
        w = workload("n");
        w.match.container_name = PATS("mysql");
        cr_assert_not(matches(&w, DOCKER_CG, mysql));
        w.match.container_name = PATS("mysql-1");
        cr_assert(matches(&w, DOCKER_CG, mysql));
        /* the runtime's name, not the pod's container name */
        w.match.container_name = PATS("postgres");
        cr_assert_not(matches(&w, POD_CG, pg));
}

/* Images: '*' crosses '/' (any registry and path), and the image is as
 * the runtime keeps it: Docker the name as typed, CRI the normalized one. */
Test(match_ident, image_globs_cross_slashes) {
        pol_workload w = workload("img");

        w.match.image = PATS("postgres:*");
        cr_assert_not(matches(&w, POD_CG, pg), "CRI keeps docker.io/library/");
        w.match.image = PATS("*/postgres:*");
        cr_assert(matches(&w, POD_CG, pg));
        w.match.image = PATS("docker.io/library/postgres:*");
        cr_assert(matches(&w, POD_CG, pg));
        w.match.image = PATS("docker.io/*:16");
        cr_assert(matches(&w, POD_CG, pg));
        w.match.image = PATS("*/mysql:*");
        cr_assert_not(matches(&w, DOCKER_CG, mysql), "'mysql:8' has no '/'");
        w.match.image = PATS("*/mysql:*", "mysql:*");
        cr_assert(matches(&w, DOCKER_CG, mysql));
        w.match.image = PATS("registry.example.com/*");
        cr_assert(matches(&w, DOCKER_CG, etl));
        w.match.image = PATS("registry.example.com/*/etl:*");
        cr_assert(matches(&w, DOCKER_CG, etl));
        w.match.image = PATS("registry.example.com/?/etl:*");
        cr_assert_not(matches(&w, DOCKER_CG, etl));
}

Test(match_ident, labels_every_key) {
        pol_workload w = workload("batch");

        w.match.labels = LABELS(LBL("com.docker.compose.service", "etl"));
        cr_assert(matches(&w, DOCKER_CG, etl));
        cr_assert_not(matches(&w, DOCKER_CG, mysql));
        /* every key given must be there and match */
        w.match.labels = LABELS(LBL("com.docker.compose.project", "shop"),
                                LBL("com.docker.compose.service", "etl", "db"));
        cr_assert(matches(&w, DOCKER_CG, etl));
        cr_assert(matches(&w, DOCKER_CG, mysql));
        w.match.labels = LABELS(LBL("com.docker.compose.project", "shop"), LBL("tier", "batch"));
        cr_assert(matches(&w, DOCKER_CG, etl));
        cr_assert_not(matches(&w, DOCKER_CG, mysql), "mysql has no tier label");
        w.match.labels = LABELS(LBL("com.docker.compose.project", "other"), LBL("tier", "batch"));
        cr_assert_not(matches(&w, DOCKER_CG, etl));
        /* values are globs, keys exact */
        w.match.labels = LABELS(LBL("com.docker.compose.service", "e*"));
        cr_assert(matches(&w, DOCKER_CG, etl));
        w.match.labels = LABELS(LBL("com.docker.compose.*", "etl"));
        cr_assert_not(matches(&w, DOCKER_CG, etl));
        w.match.labels = LABELS(LBL("TIER", "batch"));
        cr_assert_not(matches(&w, DOCKER_CG, etl), "keys are case-sensitive");
        /* labels with the other identity keys */
        w.match.labels = LABELS(LBL("tier", "batch"));
        w.match.image = PATS("*/etl:*");
        cr_assert(matches(&w, DOCKER_CG, etl));
        w.match.image = PATS("mysql:*");
        cr_assert_not(matches(&w, DOCKER_CG, etl));
}

/* A label repeated in the file: the last one, as gd_ident_label_get reads. */
Test(match_ident, labels_repeated_key_last_wins) {
        pol_workload w = workload("r");

        add_label(etl, "tier", "web");
        w.match.labels = LABELS(LBL("tier", "web"));
        cr_assert(matches(&w, DOCKER_CG, etl));
        w.match.labels = LABELS(LBL("tier", "batch"));
        cr_assert_not(matches(&w, DOCKER_CG, etl));
}

Test(match_ident, kubernetes_names) {
        pol_workload w = workload("prod-db");

        w.match.k8s_namespace = PATS("prod");
        w.match.pod_name = PATS("postgres-*");
        w.match.k8s_container_name = PATS("postgres");
        cr_assert(matches(&w, POD_CG, pg));
        cr_assert_not(matches(&w, DOCKER_CG, mysql));
        SET(pg, k8s_namespace, "staging");
        cr_assert_not(matches(&w, POD_CG, pg));
        SET(pg, k8s_namespace, "prod");
        SET(pg, container_name, "exporter");
        cr_assert_not(matches(&w, POD_CG, pg));
        SET(pg, container_name, "postgres");
        /* with the path's keys */
        w.match.qos = POL_QOS_BURSTABLE;
        w.match.runtime = POL_RUNTIME_CONTAINERD;
        cr_assert(matches(&w, POD_CG, pg));
        w.match.qos = POL_QOS_GUARANTEED;
        cr_assert_not(matches(&w, POD_CG, pg));
}

/* A pod's sandbox (pause) carries its pod's namespace and name: it
 * matches those, and no container name (it has none). */
Test(match_ident, sandbox_matches_pod_keys) {
        pol_workload w = workload("prod");

        pg->sandbox = true;
        SET(pg, container_name, "");
        w.match.k8s_namespace = PATS("prod");
        cr_assert(matches(&w, POD_CG, pg));
        w.match.k8s_container_name = PATS("*");
        cr_assert_not(matches(&w, POD_CG, pg));
}

/* pod_uid: the cgroup path's UID first, the identity's when the path has
 * none; an identity is not needed when the path has one. */
Test(match_ident, pod_uid_sources) {
        pol_workload w = workload("uid");

        w.match.pod_uid = PATS("8b7c*");
        cr_assert(matches(&w, POD_CG, NULL), "from the path");
        cr_assert(matches(&w, POD_CG, pg));
        cr_assert_not(matches(&w, PODMAN_CG, NULL), "no path UID, no identity");
        cr_assert(matches(&w, PODMAN_CG, pg), "from the identity");
        cr_assert_not(matches(&w, PODMAN_CG, mysql), "an identity without a pod");
        /* the path wins over a differing identity */
        SET(pg, pod_uid, POD2);
        cr_assert(matches(&w, POD_CG, pg));
        cr_assert_not(matches(&w, PODMAN_CG, pg));
        w.match.pod_uid = PATS("f47a*");
        cr_assert_not(matches(&w, POD_CG, pg));
        cr_assert(matches(&w, PODMAN_CG, pg));
        /* "*" does not match an empty UID */
        w.match.pod_uid = PATS("*");
        cr_assert_not(matches(&w, PODMAN_CG, blank));
}

/* An identity workload first in the policy is passed over while the
 * identity is unknown, and the next one that fits wins. */
Test(match_ident, find_passes_over_without_ident) {
        pol_workload w[2] = {workload("mysql"), workload("containers")};
        char why[256] = "";

        w[0].match.container_name = PATS("mysql*");
        w[1].match.container = PATS("*");
        pol_policy p = {.version = 1, .workloads = w, .n_workloads = 2};
        pol_subject s = {.cgroup = DOCKER_CG, .ident = mysql};

        cr_assert_eq(pol_find_workload(&p, &s, why, sizeof(why)), &w[0]);
        cr_assert_str_eq(why, "container_name 'mysql-1' matches 'mysql*'");
        s.ident = NULL;
        cr_assert_eq(pol_find_workload(&p, &s, why, sizeof(why)), &w[1]);
        cr_assert_str_eq(why, "container '" ID_A "' matches '*'");
}

/* ---- why ---- */

Test(match_ident, why_names_each_identity_key) {
        pol_workload w = workload("mysql");
        char why[512] = "";

        w.match.container_name = PATS("mysql*");
        w.match.image = PATS("mariadb:*", "mysql:*");
        w.match.labels = LABELS(LBL("com.docker.compose.service", "etl", "db"),
                                LBL("com.docker.compose.project", "shop"));
        cr_assert(matches(&w, DOCKER_CG, mysql));
        pol_subject s = {.cgroup = DOCKER_CG, .ident = mysql};
        cr_assert(pol_match_workload(&w, &s, why, sizeof(why)));
        cr_assert_str_eq(why, "container_name 'mysql-1' matches 'mysql*'; image 'mysql:8' matches "
                              "'mysql:*'; label com.docker.compose.service 'db' matches 'db'; "
                              "label com.docker.compose.project 'shop' matches 'shop'");

        w = workload("prod-db");
        w.match.cgroup = PATS("kubepods.slice/**");
        w.match.qos = POL_QOS_BURSTABLE;
        w.match.pod_uid = PATS("8b7c*");
        w.match.k8s_namespace = PATS("prod");
        w.match.pod_name = PATS("postgres-*");
        w.match.k8s_container_name = PATS("postgres");
        s = (pol_subject){.cgroup = POD_CG, .ident = pg};
        cr_assert(pol_match_workload(&w, &s, why, sizeof(why)));
        cr_assert_str_eq(why, "cgroup '" POD_CG "' matches 'kubepods.slice/**'; qos is burstable; "
                              "pod_uid '" POD "' matches '8b7c*'; namespace 'prod' matches 'prod'; "
                              "pod_name 'postgres-0' matches 'postgres-*'; "
                              "kubernetes.container_name 'postgres' matches 'postgres'");

        /* the identity's UID, when it is the one that matched */
        w = workload("uid");
        w.match.pod_uid = PATS("*");
        s = (pol_subject){.cgroup = PODMAN_CG, .ident = pg};
        cr_assert(pol_match_workload(&w, &s, why, sizeof(why)));
        cr_assert_str_eq(why, "pod_uid '" POD "' matches '*'");
}

/* Runtimes' files hold what users wrote: control bytes become '?' (one
 * line), other bytes pass as they are, as for comm. */
Test(match_ident, why_hostile_values) {
        pol_workload w = workload("odd");
        char why[512];

        SET(blank, name, "a\nb\x1b[31m\x7f");
        SET(blank, image, "x\xff\xfe:\t1");
        add_label(blank, "k", "v\r\n");
        w.match.container_name = PATS("a*");
        w.match.image = PATS("x*");
        w.match.labels = LABELS(LBL("k", "v*"));
        pol_subject s = {.cgroup = DOCKER_CG, .ident = blank};
        cr_assert(pol_match_workload(&w, &s, why, sizeof(why)));
        cr_assert_str_eq(why, "container_name 'a?b?[31m?' matches 'a*'; image 'x\xff\xfe:?1' "
                              "matches 'x*'; label k 'v?" "?' matches 'v*'");
}

/* Cut at every size into an exact-size heap buffer (ASan sees one byte
 * too many): NUL-terminated, a prefix of the whole text, never ending
 * inside a UTF-8 sequence, the labels included. */
Test(match_ident, why_cut_at_every_size) {
        pol_workload w = workload("cut");
        char full[512];

        SET(etl, name, "\xe2\x82\xac-etl\xf0\x9f\x98\x80");
        add_label(etl, "caf\xc3\xa9", "cr\xc3\xa8me\n");
        w.match.container_name = PATS("*");
        w.match.labels = LABELS(LBL("tier", "*"), LBL("caf\xc3\xa9", "cr*"));
        pol_subject s = {.cgroup = DOCKER_CG, .ident = etl};
        cr_assert(pol_match_workload(&w, &s, full, sizeof(full)));
        cr_assert_str_eq(full, "container_name '\xe2\x82\xac-etl\xf0\x9f\x98\x80' matches '*'; "
                               "label tier 'batch' matches '*'; "
                               "label caf\xc3\xa9 'cr\xc3\xa8me?' matches 'cr*'");
        size_t len = strlen(full);

        for (size_t size = 1; size <= len + 1; size++) {
                char *why = malloc(size);
                cr_assert_not_null(why);
                memset(why, 'X', size);
                cr_assert(pol_match_workload(&w, &s, why, size));
                assert_cut_prefix(why, size, full);
                free(why);
        }
}
