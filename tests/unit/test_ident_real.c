/* Container identity (policy/ident.c) on the files real runtimes wrote in
 * the systemd VM (tests/vm/systemd/test_30_runtimes.py, Debian 12's
 * docker.io 20.10.24, containerd 1.6.20, Podman 4.3.1; copied as they
 * were into tests/unit/fixtures/ident/real, see its README): the made-up
 * fixtures of test_ident.c hold against what the runtimes really write. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ident.h"
#include "tests/lib/fixture.h"

static gd_container_ident out;

typedef int (*parse_fn)(const char *, size_t, gd_container_ident *);

static int parse_fixture(parse_fn fn, const char *relpath) {
        size_t len;
        char *doc = fx_read_fixture(relpath, &len);
        int r = fn(doc, len, &out);

        free(doc);
        return r;
}

/* Docker: the same file whatever the cgroup driver. */
static void docker_etl(const char *relpath, const char *id) {
        memset(&out, 0, sizeof(out));
        cr_assert_eq(parse_fixture(gd_ident_from_docker, relpath), 0);
        cr_assert_eq(out.runtime, POL_RUNTIME_DOCKER);
        cr_assert_str_eq(out.id, id);
        cr_assert_str_eq(out.name, "etl-1");
        cr_assert_str_eq(out.image, "etl:latest", "Config.Image, as `docker run` named it");
        cr_assert_eq(out.n_labels, 1);
        cr_assert_str_eq(gd_ident_label_get(&out, "com.docker.compose.service"), "etl");
        cr_assert_eq(out.labels_dropped + out.fields_dropped, 0);
}

Test(ident_real, docker_systemd_driver_config_v2) {
        docker_etl("ident/real/docker-systemd/etl-1.config.v2.json",
                   "9d13bd2314a6e14a7e1587ce3c26d431f917b1ee74a2065867758b458be3bab4");
        memset(&out, 0, sizeof(out));
        cr_assert_eq(parse_fixture(gd_ident_from_docker,
                                   "ident/real/docker-systemd/mysql-1.config.v2.json"), 0);
        cr_assert_str_eq(out.name, "mysql-1");
        cr_assert_str_eq(out.image, "mysql:8-local");
        cr_assert_eq(out.n_labels, 0);
}

Test(ident_real, docker_cgroupfs_driver_config_v2) {
        docker_etl("ident/real/docker-cgroupfs/etl-1.config.v2.json",
                   "9ee62d924e886b95a7166e94766ba8d3c8d337b7c04cef3b49acf0c9edb27fc4");
}

Test(ident_real, containerd_k8s_io_bundle_config) {
        memset(&out, 0, sizeof(out));
        cr_assert_eq(parse_fixture(gd_ident_from_containerd, "ident/real/containerd-k8s.io/config.json"), 0);
        cr_assert_eq(out.runtime, POL_RUNTIME_CONTAINERD);
        cr_assert_str_eq(out.k8s_namespace, "prod");
        cr_assert_str_eq(out.pod_name, "postgres-0");
        cr_assert_str_eq(out.pod_uid, "6f1c1d52-7b3e-4c1a-9d7e-2f4b8a0c5e11");
        cr_assert_str_eq(out.container_name, "postgres");
        cr_assert_str_eq(out.image, "docker.io/library/postgres:15-local");
        cr_assert_not(out.sandbox);
}

/* Podman 4.3 keeps a container's labels in neither file: they are only in
 * libpod's state database (podman-systemd/bolt_state.db). */
static void podman_etl(const char *dir, const char *id) {
        char cfg[256], list_path[256];
        size_t len;

        snprintf(cfg, sizeof(cfg), "ident/real/%s/etl-1.userdata.config.json", dir);
        snprintf(list_path, sizeof(list_path), "ident/real/%s/containers.json", dir);
        memset(&out, 0, sizeof(out));
        cr_assert_eq(parse_fixture(gd_ident_from_podman, cfg), 0);
        cr_assert_eq(out.runtime, POL_RUNTIME_PODMAN);
        char *list = fx_read_fixture(list_path, &len);
        cr_assert_eq(gd_ident_merge_podman_storage(list, len, id, &out), 0);
        free(list);
        cr_assert_str_eq(out.id, id);
        cr_assert_str_eq(out.name, "etl-1");
        cr_assert_str_eq(out.image, "localhost/etl:latest", "podman import names it localhost/");
        cr_assert_eq(out.n_labels, 0, "the labels are not in these files");
}

Test(ident_real, podman_systemd_config_and_containers_json) {
        podman_etl("podman-systemd", "f58f71961b2d75ea0da681ad42766299540a311c6c7681a7578e30a9a48831b7");
}

Test(ident_real, podman_cgroupfs_config_and_containers_json) {
        podman_etl("podman-cgroupfs", "db1b69603dab43f98bf02ee5543aa0a33ead59232ee6d8846ba9351c615f617f");
}
