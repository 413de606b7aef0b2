/* Container identity from runtime state files (policy/ident.c), on
 * fixtures shaped as the runtimes write them (tests/unit/fixtures/ident,
 * see its README) and on hostile ones: labels with control bytes, quotes,
 * invalid UTF-8, too long or too many, wrong types, missing members,
 * duplicate members, documents cut short; *ret untouched on failure. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ident.h"
#include "tests/lib/fixture.h"
#include "tests/lib/strrepeat.h"

#define CL(s) s, sizeof(s) - 1
#define FFFD "\xef\xbf\xbd"

static gd_container_ident out;

/* out, filled with a mark every failing parser must leave. */
static void mark(void) {
        memset(&out, 0, sizeof(out));
        strcpy(out.name, "untouched");
        out.runtime = POL_RUNTIME_PODMAN;
}

static void assert_marked(void) {
        cr_assert_str_eq(out.name, "untouched");
        cr_assert_eq(out.runtime, POL_RUNTIME_PODMAN);
        cr_assert_eq(out.n_labels, 0);
}

typedef int (*parse_fn)(const char *, size_t, gd_container_ident *);

static int parse_fixture(parse_fn fn, const char *relpath) {
        size_t len;
        char *doc = fx_read_fixture(relpath, &len);
        int r = fn(doc, len, &out);

        free(doc);
        return r;
}

static int parse_str(parse_fn fn, const char *doc) {
        return fn(doc, strlen(doc), &out);
}

/* ---- Docker ---- */

Test(ident_docker, config_v2_gives_name_image_and_compose_labels) {
        cr_assert_eq(parse_fixture(gd_ident_from_docker, "ident/docker-config.v2.json"), 0);
        cr_assert_eq(out.runtime, POL_RUNTIME_DOCKER);
        cr_assert_str_eq(out.id, "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8");
        cr_assert_str_eq(out.name, "shop-db-1", "the leading '/' is stripped");
        cr_assert_str_eq(out.image, "mysql:8.0", "Config.Image, not the top-level sha256 Image");
        cr_assert_eq(out.n_labels, 6);
        cr_assert_str_eq(gd_ident_label_get(&out, "com.docker.compose.service"), "db");
        cr_assert_str_eq(gd_ident_label_get(&out, "com.docker.compose.project"), "shop");
        cr_assert_null(gd_ident_label_get(&out, "com.docker.compose"), "whole keys only");
        cr_assert_str_eq(out.k8s_namespace, "");
        cr_assert_not(out.sandbox);
        cr_assert_eq(out.labels_dropped + out.fields_dropped, 0);
}

Test(ident_docker, a_name_without_its_slash_is_kept_and_only_one_slash_goes) {
        cr_assert_eq(parse_str(gd_ident_from_docker, "{\"Name\":\"db\"}"), 0);
        cr_assert_str_eq(out.name, "db");
        cr_assert_eq(parse_str(gd_ident_from_docker, "{\"Name\":\"//db\"}"), 0);
        cr_assert_str_eq(out.name, "/db");
        cr_assert_eq(parse_str(gd_ident_from_docker, "{\"Name\":\"/\"}"), 0);
        cr_assert_str_eq(out.name, "");
}

Test(ident_docker, missing_members_leave_fields_empty) {
        mark();
        cr_assert_eq(parse_str(gd_ident_from_docker, "{}"), 0);
        cr_assert(out.id[0] == 0 && out.name[0] == 0 && out.image[0] == 0 && out.n_labels == 0);
        cr_assert_eq(out.runtime, POL_RUNTIME_DOCKER);
        cr_assert_eq(out.fields_dropped, 0);
        cr_assert_eq(parse_str(gd_ident_from_docker, "{\"Config\":null,\"Name\":null}"), 0);
        cr_assert_eq(out.fields_dropped, 0, "null is Go's nil: absent, not wrong");
        cr_assert_eq(parse_str(gd_ident_from_docker, "{\"Config\":{\"Labels\":null,\"Image\":\"x\"}}"), 0);
        cr_assert_str_eq(out.image, "x");
}

Test(ident_docker, wrong_types_are_counted_not_trusted) {
        cr_assert_eq(parse_str(gd_ident_from_docker,
                               "{\"Name\":42,\"Config\":{\"Image\":[\"a\"],\"Labels\":[\"a=b\"]}}"),
                     0);
        cr_assert_str_eq(out.name, "");
        cr_assert_str_eq(out.image, "");
        cr_assert_eq(out.n_labels, 0, "Labels as an array is not read as labels");
        cr_assert_eq(out.fields_dropped, 3);
        cr_assert_eq(parse_str(gd_ident_from_docker, "{\"Config\":\"mysql\"}"), 0);
        cr_assert_eq(out.fields_dropped, 1);
        cr_assert_eq(parse_str(gd_ident_from_docker,
                               "{\"Config\":{\"Labels\":{\"n\":1,\"o\":{},\"ok\":\"v\",\"nil\":null}}}"),
                     0);
        cr_assert_eq(out.n_labels, 1);
        cr_assert_str_eq(gd_ident_label_key(&out, 0), "ok");
        cr_assert_eq(out.labels_dropped, 3, "a label's value must be a string");
}

Test(ident_docker, hostile_label_bytes_survive_as_bytes) {
        const char doc[] = "{\"Config\":{\"Labels\":{"
                           "\"ctl\":\"a\\u0001b\\nc\\u001b[31m\","
                           "\"quote\":\"say \\\"hi\\\" \\\\o/\","
                           "\"utf8\":\"bad\xff\xfe byte\","
                           "\"nul\":\"mysql\\u0000evil\","
                           "\"k\\u00e9y\":\"\\ud83d\\ude00\"}}}";

        cr_assert_eq(gd_ident_from_docker(CL(doc), &out), 0);
        cr_assert_eq(out.n_labels, 5);
        cr_assert_str_eq(gd_ident_label_get(&out, "ctl"), "a\001b\nc\033[31m");
        cr_assert_str_eq(gd_ident_label_get(&out, "quote"), "say \"hi\" \\o/");
        cr_assert_str_eq(gd_ident_label_get(&out, "utf8"), "bad" FFFD FFFD " byte");
        cr_assert_str_eq(gd_ident_label_get(&out, "nul"), "mysql" FFFD "evil",
                         "a NUL cannot cut the value down to \"mysql\"");
        cr_assert_str_eq(gd_ident_label_get(&out, "k\xc3\xa9y"), "\xf0\x9f\x98\x80");
}

Test(ident_docker, long_labels_are_dropped_whole_and_counted) {
        char *longval = repeat("v", GD_IDENT_LABEL_VAL_MAX + 1, "");
        char *longkey = repeat("k", GD_IDENT_LABEL_KEY_MAX + 1, "");
        char *fitval = repeat("w", GD_IDENT_LABEL_VAL_MAX, "");
        char doc[8192];

        snprintf(doc, sizeof(doc),
                 "{\"Config\":{\"Labels\":{\"a\":\"%s\",\"%s\":\"x\",\"b\":\"%s\",\"c\":\"d\"}}}", longval,
                 longkey, fitval);
        cr_assert_eq(parse_str(gd_ident_from_docker, doc), 0);
        cr_assert_eq(out.n_labels, 2);
        cr_assert_eq(out.labels_dropped, 2);
        cr_assert_null(gd_ident_label_get(&out, "a"), "never cut to fit");
        cr_assert_eq(strlen(gd_ident_label_get(&out, "b")), GD_IDENT_LABEL_VAL_MAX, "the longest that fits");
        cr_assert_str_eq(gd_ident_label_get(&out, "c"), "d");
        free(longval), free(longkey), free(fitval);
}

Test(ident_docker, too_many_labels_keep_the_first_and_count_the_rest) {
        char doc[16384];
        size_t n = (size_t)snprintf(doc, sizeof(doc), "{\"Config\":{\"Labels\":{");

        for (int i = 0; i < GD_IDENT_LABELS_MAX + 6; i++)
                n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s\"l%d\":\"%d\"", i ? "," : "", i, i);
        snprintf(doc + n, sizeof(doc) - n, "}}}");
        cr_assert_eq(parse_str(gd_ident_from_docker, doc), 0);
        cr_assert_eq(out.n_labels, GD_IDENT_LABELS_MAX);
        cr_assert_eq(out.labels_dropped, 6);
        cr_assert_str_eq(gd_ident_label_get(&out, "l63"), "63");
        cr_assert_null(gd_ident_label_get(&out, "l64"));
}

Test(ident_docker, the_label_pool_is_bounded) {
        /* 64 labels of 1000-byte values need more than the pool: what does
         * not fit is dropped and counted, what fits stays whole. */
        char *val = repeat("p", 1000, "");
        size_t cap = 64 * 1100 + 64;
        char *doc = malloc(cap);
        size_t n = (size_t)snprintf(doc, cap, "{\"Config\":{\"Labels\":{");

        for (int i = 0; i < 64; i++)
                n += (size_t)snprintf(doc + n, cap - n, "%s\"k%02d\":\"%s\"", i ? "," : "", i, val);
        snprintf(doc + n, cap - n, "}}}");
        cr_assert_eq(parse_str(gd_ident_from_docker, doc), 0);
        cr_assert_eq(out.n_labels, GD_IDENT_LABEL_POOL / 1005, "each takes 3 + 1000 bytes and 2 NULs of the pool");
        cr_assert_eq(out.n_labels + out.labels_dropped, 64);
        cr_assert_leq(out.pool_used, sizeof(out.pool));
        cr_assert_eq(strlen(gd_ident_label_value(&out, out.n_labels - 1)), 1000);
        free(val), free(doc);
}

Test(ident_docker, duplicate_members_the_last_wins) {
        cr_assert_eq(parse_str(gd_ident_from_docker,
                               "{\"Name\":\"/a\",\"Name\":\"/b\",\"Config\":{\"Labels\":{\"x\":\"1\",\"x\":\"2\"}}}"),
                     0);
        cr_assert_str_eq(out.name, "b");
        cr_assert_str_eq(gd_ident_label_get(&out, "x"), "2", "both kept; a lookup takes the last");
}

Test(ident_docker, an_overlong_name_is_left_out_not_cut) {
        char *name = repeat("n", sizeof(out.name), "");
        char doc[1024];

        snprintf(doc, sizeof(doc), "{\"Name\":\"/%s\",\"Config\":{\"Image\":\"i\"}}", name);
        cr_assert_eq(parse_str(gd_ident_from_docker, doc), 0);
        cr_assert_str_eq(out.name, "");
        cr_assert_eq(out.fields_dropped, 1);
        cr_assert_str_eq(out.image, "i", "the rest is still read");
        free(name);
}

Test(ident_docker, cri_dockerd_labels_give_the_kubernetes_fields) {
        cr_assert_eq(parse_str(gd_ident_from_docker,
                               "{\"Name\":\"/k8s_app_web-1_shop_1234_0\",\"Config\":{\"Labels\":{"
                               "\"io.kubernetes.pod.namespace\":\"shop\",\"io.kubernetes.pod.name\":\"web-1\","
                               "\"io.kubernetes.pod.uid\":\"1234\",\"io.kubernetes.container.name\":\"app\"}}}"),
                     0);
        cr_assert_str_eq(out.k8s_namespace, "shop");
        cr_assert_str_eq(out.pod_name, "web-1");
        cr_assert_str_eq(out.pod_uid, "1234");
        cr_assert_str_eq(out.container_name, "app");
}

Test(ident_docker, malformed_or_cut_files_fail_and_leave_ret_alone) {
        size_t len;
        char *doc = fx_read_fixture("ident/docker-config.v2.json", &len);

        mark();
        cr_assert_eq(gd_ident_from_docker(doc, len / 2, &out), -EBADMSG, "cut in half");
        assert_marked();
        cr_assert_eq(parse_str(gd_ident_from_docker, "[{\"Name\":\"/x\"}]"), -EBADMSG, "not an object");
        assert_marked();
        cr_assert_eq(parse_str(gd_ident_from_docker, "\"/x\""), -EBADMSG);
        assert_marked();
        char *deep = repeat("{\"a\":", 40, "1");
        cr_assert_eq(parse_str(gd_ident_from_docker, deep), -E2BIG);
        assert_marked();
        free(doc), free(deep);
}

/* ---- containerd (CRI) ---- */

Test(ident_containerd, cri_annotations_give_the_pod_and_container) {
        cr_assert_eq(parse_fixture(gd_ident_from_containerd, "ident/containerd-cri-config.json"), 0);
        cr_assert_eq(out.runtime, POL_RUNTIME_CONTAINERD);
        cr_assert_str_eq(out.k8s_namespace, "prod");
        cr_assert_str_eq(out.pod_name, "postgres-0");
        cr_assert_str_eq(out.pod_uid, "6f1c2b9e-8d7a-4e3f-9a1b-2c3d4e5f6a7b");
        cr_assert_str_eq(out.container_name, "postgres");
        cr_assert_str_eq(out.image, "docker.io/library/postgres:16.4");
        cr_assert_not(out.sandbox);
        cr_assert_str_eq(out.id, "", "the bundle does not name its own id");
        cr_assert_eq(out.n_labels, 0, "labels are not in the bundle");
}

Test(ident_containerd, the_pause_container_is_a_sandbox) {
        cr_assert_eq(parse_fixture(gd_ident_from_containerd, "ident/containerd-cri-sandbox.json"), 0);
        cr_assert(out.sandbox);
        cr_assert_str_eq(out.pod_name, "postgres-0");
        cr_assert_str_eq(out.container_name, "");
        cr_assert_str_eq(out.image, "", "the sandbox image is not the workload's");
}

Test(ident_containerd, without_annotations_nothing_is_made_up) {
        cr_assert_eq(parse_str(gd_ident_from_containerd, "{\"ociVersion\":\"1.1.0\"}"), 0);
        cr_assert(out.k8s_namespace[0] == 0 && out.pod_name[0] == 0 && !out.sandbox);
        cr_assert_eq(out.fields_dropped, 0);
        cr_assert_eq(parse_str(gd_ident_from_containerd, "{\"annotations\":[\"x\"]}"), 0);
        cr_assert_eq(out.fields_dropped, 1);
        cr_assert_eq(parse_str(gd_ident_from_containerd,
                               "{\"annotations\":{\"io.kubernetes.cri.sandbox-namespace\":7,"
                               "\"io.kubernetes.cri.container-type\":\"Sandbox\"}}"),
                     0);
        cr_assert_str_eq(out.k8s_namespace, "");
        cr_assert_eq(out.fields_dropped, 1);
        cr_assert_not(out.sandbox, "the type is compared exactly");
}

Test(ident_containerd, malformed_leaves_ret_alone) {
        mark();
        cr_assert_eq(parse_str(gd_ident_from_containerd, "{\"annotations\":{\"a\":\"b\"}"), -EBADMSG);
        assert_marked();
}

/* ---- CRI-O ---- */

Test(ident_crio, kubelet_labels_in_annotations_and_the_labels_object) {
        cr_assert_eq(parse_fixture(gd_ident_from_crio, "ident/crio-config.json"), 0);
        cr_assert_eq(out.runtime, POL_RUNTIME_CRIO);
        cr_assert_str_eq(out.id, "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc");
        cr_assert_str_eq(out.k8s_namespace, "batch");
        cr_assert_str_eq(out.pod_name, "etl-7d9f8c6b5-x2k4q");
        cr_assert_str_eq(out.pod_uid, "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d");
        cr_assert_str_eq(out.container_name, "etl");
        cr_assert_str_eq(out.image, "quay.io/acme/etl:2.3");
        cr_assert_not(out.sandbox);
        cr_assert_eq(out.n_labels, 4, "io.kubernetes.cri-o.Labels, a JSON object in a string");
        cr_assert_str_eq(gd_ident_label_get(&out, "io.kubernetes.pod.namespace"), "batch");
        cr_assert_eq(out.fields_dropped, 0);
}

Test(ident_crio, the_requested_image_when_no_name_is_known) {
        cr_assert_eq(parse_str(gd_ident_from_crio,
                               "{\"annotations\":{\"io.kubernetes.cri-o.ImageName\":\"\","
                               "\"io.kubernetes.cri-o.Image\":\"etl@sha256:0a\","
                               "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\"}}"),
                     0);
        cr_assert_str_eq(out.image, "etl@sha256:0a");
        cr_assert(out.sandbox);
}

Test(ident_crio, a_labels_string_that_is_not_json_is_counted) {
        cr_assert_eq(parse_str(gd_ident_from_crio,
                               "{\"annotations\":{\"io.kubernetes.pod.name\":\"p\","
                               "\"io.kubernetes.cri-o.Labels\":\"{\\\"a\\\":\"}}"),
                     0);
        cr_assert_eq(out.n_labels, 0);
        cr_assert_eq(out.fields_dropped, 1);
        cr_assert_str_eq(out.pod_name, "p", "the rest is still read");
        cr_assert_eq(parse_str(gd_ident_from_crio,
                               "{\"annotations\":{\"io.kubernetes.cri-o.Labels\":\"[\\\"a\\\"]\"}}"),
                     0);
        cr_assert_eq(out.n_labels, 0);
        cr_assert_eq(out.fields_dropped, 1, "an array is not labels");
}

/* ---- Podman ---- */

Test(ident_podman, config_json_has_no_name_and_containers_json_adds_it) {
        size_t len;
        char *list = fx_read_fixture("ident/podman-containers.json", &len);
        const char *id = "a9b8c7d6e5f40123456789abcdef0123456789abcdef0123456789abcdef0123";

        cr_assert_eq(parse_fixture(gd_ident_from_podman, "ident/podman-config.json"), 0);
        cr_assert_eq(out.runtime, POL_RUNTIME_PODMAN);
        cr_assert(out.name[0] == 0 && out.image[0] == 0 && out.n_labels == 0);
        cr_assert_eq(gd_ident_merge_podman_storage(list, len, id, &out), 0);
        cr_assert_str_eq(out.id, id);
        cr_assert_str_eq(out.name, "cache", "names[0], not the other entry's");
        cr_assert_str_eq(out.image, "docker.io/library/redis:7", "metadata's image-name");
        free(list);
}

Test(ident_podman, an_unknown_id_or_a_bad_list_leaves_the_ident_alone) {
        size_t len;
        char *list = fx_read_fixture("ident/podman-containers.json", &len);

        mark();
        cr_assert_eq(gd_ident_merge_podman_storage(list, len, "ffff", &out), -ENOENT);
        assert_marked();
        cr_assert_eq(gd_ident_merge_podman_storage(list, len - 3, "ffff", &out), -EBADMSG);
        assert_marked();
        cr_assert_eq(gd_ident_merge_podman_storage(CL("{\"id\":\"ffff\"}"), "ffff", &out), -EBADMSG,
                     "the list is an array");
        assert_marked();
        free(list);
}

Test(ident_podman, metadata_fills_the_name_when_names_is_empty) {
        const char list[] = "[7,{\"id\":\"ab\",\"names\":[],\"metadata\":"
                            "\"{\\\"name\\\":\\\"web\\\",\\\"image-name\\\":\\\"nginx\\\"}\"},"
                            "{\"id\":\"cd\",\"names\":[\"x\"],\"metadata\":\"not json\"}]";

        mark();
        cr_assert_eq(gd_ident_merge_podman_storage(CL(list), "ab", &out), 0, "a non-object entry is skipped");
        cr_assert_str_eq(out.name, "web");
        cr_assert_str_eq(out.image, "nginx");
        cr_assert_eq(out.fields_dropped, 0);
        mark();
        cr_assert_eq(gd_ident_merge_podman_storage(CL(list), "cd", &out), 0);
        cr_assert_str_eq(out.name, "x");
        cr_assert_eq(out.fields_dropped, 1, "metadata that does not parse");
}

Test(ident_podman, kube_play_annotations_are_read) {
        cr_assert_eq(parse_str(gd_ident_from_podman,
                               "{\"annotations\":{\"io.container.manager\":\"libpod\","
                               "\"io.kubernetes.pod.namespace\":\"default\","
                               "\"io.kubernetes.cri-o.ContainerType\":\"sandbox\"}}"),
                     0);
        cr_assert_str_eq(out.k8s_namespace, "default");
        cr_assert(out.sandbox);
}
