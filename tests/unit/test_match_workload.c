/* policy/match.c containers and workloads: the cgroup paths each container
 * runtime and kubelet driver really create, their lookalikes, and workload
 * matching with hand-built workloads (no parser involved). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/match.h"
#include "tests/lib/strrepeat.h"
#include "tests/lib/why_cut.h"

/* Realistic 64-hex container ids (sha256 of "a", "b", "c") and pod UIDs. */
#define ID_A "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
#define ID_B "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
#define ID_KIND "2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6"
#define POD "8b7c1f2a-5d3e-4c1b-9a2f-0e6d7c8b9a10"
#define POD_US "8b7c1f2a_5d3e_4c1b_9a2f_0e6d7c8b9a10"
#define POD2 "f47ac10b-58cc-4372-a567-0e02b2c3d479"
#define POD2_US "f47ac10b_58cc_4372_a567_0e02b2c3d479"
#define POD_STATIC "5a3c9e0b1d2f4a6b8c7d9e0f1a2b3c4d" /* static pods: an md5, no dashes */

/* ================================================================
 * match_container
 * ================================================================ */

TestSuite(match_container);

struct container_case {
        char cgroup[512];
        bool found;
        pol_runtime runtime;
        char id[128];
        pol_qos qos;
        char pod[64];
};

#define KP "kubepods.slice/"
#define KPB KP "kubepods-burstable.slice/kubepods-burstable-pod" POD_US ".slice/"
#define KPE KP "kubepods-besteffort.slice/kubepods-besteffort-pod" POD2_US ".slice/"
#define KIND "system.slice/docker-" ID_KIND ".scope/"
#define KIND_KP "kubelet.slice/kubelet-kubepods.slice/"
#define D POL_RUNTIME_DOCKER
#define C POL_RUNTIME_CONTAINERD
#define O POL_RUNTIME_CRIO
#define M POL_RUNTIME_PODMAN
#define ANY POL_RUNTIME_ANY
#define G POL_QOS_GUARANTEED
#define B POL_QOS_BURSTABLE
#define E POL_QOS_BESTEFFORT
#define NOQ POL_QOS_ANY

ParameterizedTestParameters(match_container, paths) {
        static struct container_case cases[] = {
                /* Docker, systemd and cgroupfs drivers, rootless */
                {"system.slice/docker-" ID_A ".scope", true, D, ID_A, NOQ, ""},
                {"docker/" ID_A, true, D, ID_A, NOQ, ""},
                {"user.slice/user-1000.slice/user@1000.service/docker-" ID_A ".scope", true, D, ID_A, NOQ, ""},
                /* a process in a cgroup nested inside the container belongs to it */
                {"system.slice/docker-" ID_A ".scope/system.slice/nginx.service", true, D, ID_A, NOQ, ""},
                /* containerd/CRI, systemd driver, the three QoS classes */
                {KPB "cri-containerd-" ID_A ".scope", true, C, ID_A, B, POD},
                {KPE "cri-containerd-" ID_B ".scope", true, C, ID_B, E, POD2},
                {KP "kubepods-pod" POD_US ".slice/cri-containerd-" ID_A ".scope", true, C, ID_A, G, POD},
                {KP "kubepods-pod" POD_STATIC ".slice/cri-containerd-" ID_A ".scope", true, C, ID_A, G,
                 POD_STATIC},
                /* nerdctl and plain containerd */
                {"system.slice/nerdctl-" ID_B ".scope", true, C, ID_B, NOQ, ""},
                {"containerd/" ID_B, true, C, ID_B, NOQ, ""},
                /* CRI-O and its conmon, systemd and cgroupfs drivers */
                {KPE "crio-" ID_A ".scope", true, O, ID_A, E, POD2},
                {KPE "crio-conmon-" ID_A ".scope", true, O, ID_A, E, POD2},
                {"kubepods/besteffort/pod" POD2 "/crio-" ID_B, true, O, ID_B, E, POD2},
                {"kubepods/besteffort/pod" POD2 "/crio-conmon-" ID_B, true, O, ID_B, E, POD2},
                /* Podman: rootful, rootless, conmon, cgroupfs, in a podman pod */
                {"machine.slice/libpod-" ID_A ".scope", true, M, ID_A, NOQ, ""},
                {"user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_B ".scope", true, M,
                 ID_B, NOQ, ""},
                {"machine.slice/libpod-conmon-" ID_A ".scope", true, M, ID_A, NOQ, ""},
                {"libpod_parent/libpod-" ID_A, true, M, ID_A, NOQ, ""},
                {"machine.slice/machine-libpod_pod_" ID_B ".slice/libpod-" ID_A ".scope", true, M, ID_A,
                 NOQ, ""},
                {"machine.slice/libpod-" ID_A ".scope/container", true, M, ID_A, NOQ, ""},
                /* kubelet, cgroupfs driver: the runtime is not in the path */
                {"kubepods/burstable/pod" POD "/" ID_A, true, ANY, ID_A, B, POD},
                {"kubepods/pod" POD "/" ID_B, true, ANY, ID_B, G, POD},
                {"kubepods/besteffort/pod" POD2 "/" ID_A, true, ANY, ID_A, E, POD2},
                /* pod cgroups themselves: qos and pod, no container */
                {KP "kubepods-burstable.slice/kubepods-burstable-pod" POD_US ".slice", true, ANY, "", B, POD},
                {KP "kubepods-pod" POD_US ".slice", true, ANY, "", G, POD},
                {"kubepods/burstable/pod" POD, true, ANY, "", B, POD},
                {"kubepods/pod" POD, true, ANY, "", G, POD},
                /* kind: kubelet (systemd driver, under kubelet.slice) in a docker container */
                {KIND KIND_KP "kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod" POD_US
                              ".slice/cri-containerd-" ID_A ".scope",
                 true, C, ID_A, B, POD},
                {KIND KIND_KP "kubelet-kubepods-pod" POD_US ".slice/cri-containerd-" ID_B ".scope", true, C,
                 ID_B, G, POD},
                /* ... its pod slice: the innermost container is the kind node */
                {KIND KIND_KP "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" POD2_US
                              ".slice",
                 true, D, ID_KIND, E, POD2},
                {KIND "kubelet.slice", true, D, ID_KIND, NOQ, ""},
                /* cgroupfs kubelet in a cgroupfs docker container */
                {"docker/" ID_KIND "/kubepods/burstable/pod" POD "/" ID_A, true, ANY, ID_A, B, POD},
                /* a tolerated leading '/' */
                {"/system.slice/docker-" ID_A ".scope", true, D, ID_A, NOQ, ""},
                /* not containers */
                {"", false, ANY, "", NOQ, ""},
                {"init.scope", false, ANY, "", NOQ, ""},
                {"user.slice", false, ANY, "", NOQ, ""},
                {"system.slice/mysql.service", false, ANY, "", NOQ, ""},
                {"user.slice/user-1000.slice/session-3.scope", false, ANY, "", NOQ, ""},
                {"machine.slice/machine-qemu\\x2d1\\x2dvm.scope", false, ANY, "", NOQ, ""},
                /* lookalikes */
                {"system.slice/docker.service", false, ANY, "", NOQ, ""},
                {"system.slice/docker.socket", false, ANY, "", NOQ, ""},
                {"system.slice/docker-compose@x.service", false, ANY, "", NOQ, ""},
                {"system.slice/docker-compose@" ID_A ".service", false, ANY, "", NOQ, ""},
                {"system.slice/docker-" ID_A ".service", false, ANY, "", NOQ, ""},
                {"system.slice/docker-abc123.scope", false, ANY, "", NOQ, ""}, /* too short */
                {"system.slice/docker-" ID_A "0.scope", false, ANY, "", NOQ, ""}, /* 65 digits */
                {"system.slice/docker-CA978112CA1BBDCAFAC231B3.scope", false, ANY, "", NOQ, ""},
                {"system.slice/docker-ca978112ca1bbdcafac231g3.scope", false, ANY, "", NOQ, ""},
                {"system.slice/containerd.service", false, ANY, "", NOQ, ""},
                {"system.slice/crio.service", false, ANY, "", NOQ, ""},
                {"system.slice/crio-wipe.service", false, ANY, "", NOQ, ""},
                {"user.slice/user-1000.slice/user@1000.service/podman-4242.scope", false, ANY, "", NOQ, ""},
                {"machine.slice/libpod-conmon-xyz.scope", false, ANY, "", NOQ, ""},
                {"system.slice/" ID_A, false, ANY, "", NOQ, ""}, /* a bare id needs a known parent */
                {"k8s.io/" ID_A, false, ANY, "", NOQ, ""},
                {"docker/notanid", false, ANY, "", NOQ, ""},
                {"kubepods.slice", false, ANY, "", NOQ, ""},
                {KP "kubepods-burstable.slice", false, ANY, "", NOQ, ""}, /* a QoS level names no pod */
                {"kubepods", false, ANY, "", NOQ, ""},
                {"kubepods/burstable", false, ANY, "", NOQ, ""},
                {KP "kubepods-podman.slice", false, ANY, "", NOQ, ""},
                {KP "kubepods-guaranteed-pod" POD_US ".slice", false, ANY, "", NOQ, ""},
                {KP "kubepods-burstable-pod" POD ".slice", false, ANY, "", NOQ, ""}, /* '-' nests */
                {KP "kubepods-burstable-pod" POD_US "-x.slice", false, ANY, "", NOQ, ""},
                {KP "kubepods-burstable-pod" POD_US ".scope", false, ANY, "", NOQ, ""},
                {"system.slice/kubepods-pod" POD_US ".service", false, ANY, "", NOQ, ""},
                {"kubepods/pod" POD_US, false, ANY, "", NOQ, ""}, /* cgroupfs keeps the dashes */
                {"kubepods/podabc", false, ANY, "", NOQ, ""},
                {"system.slice/pod" POD, false, ANY, "", NOQ, ""}, /* "pod..." outside kubepods */
                {"kubepods/x/pod" POD, false, ANY, "", NOQ, ""},
        };
        return cr_make_param_array(struct container_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct container_case *c, match_container, paths) {
        pol_container got;

        memset(&got, 0x5a, sizeof(got)); /* garbage the call must overwrite */
        cr_assert_eq(pol_container_from_cgroup(c->cgroup, &got), c->found, "%s", c->cgroup);
        cr_assert_eq(got.runtime, c->runtime, "%s: runtime %d, want %d", c->cgroup, got.runtime, c->runtime);
        cr_assert_str_eq(got.id, c->id, "%s", c->cgroup);
        cr_assert_eq(got.qos, c->qos, "%s: qos %d, want %d", c->cgroup, got.qos, c->qos);
        cr_assert_str_eq(got.pod_uid, c->pod, "%s", c->cgroup);
}

Test(match_container, null_and_overlong_paths) {
        pol_container got;
        char *deep = repeat("a/", 2100, "docker-" ID_A ".scope");

        cr_assert_not(pol_container_from_cgroup(NULL, &got));
        cr_assert_eq(got.runtime, POL_RUNTIME_ANY);
        cr_assert_str_eq(got.id, "");
        cr_assert_not(pol_container_from_cgroup("docker/" ID_A, NULL));
        cr_assert_not(pol_container_from_cgroup(deep, &got));
        free(deep);
}

/* ================================================================
 * match_workload
 * ================================================================ */

TestSuite(match_workload);

/* A pol_patterns of string literals, as the parser would hand out. */
#define PATS(...)                                                                      \
        ((pol_patterns){.items = (char *[]){__VA_ARGS__, NULL},                        \
                        .n = sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)})

static pol_workload workload(const char *name) {
        pol_workload w = {.trust_oom_score_adj = true};

        strcpy(w.name, name);
        return w;
}

#define MYSQL_CG "system.slice/mysql.service"
#define DOCKER_CG "system.slice/docker-" ID_A ".scope"
#define POD_CG KPB "cri-containerd-" ID_B ".scope"

static const pol_subject mysqld = {MYSQL_CG, "mysqld", "/usr/sbin/mysqld",
                                   "/usr/sbin/mysqld --datadir=/var/lib/mysql", NULL};
static const pol_subject mysql_cgroup = {MYSQL_CG, NULL, NULL, NULL, NULL};
static const pol_subject in_docker = {DOCKER_CG, "nginx", "/usr/sbin/nginx", "nginx: master process", NULL};
static const pol_subject docker_cgroup = {DOCKER_CG, NULL, NULL, NULL, NULL};
static const pol_subject in_pod = {POD_CG, "java", "/opt/java/bin/java", "java -jar app.jar", NULL};
static const pol_subject pod_cgroup = {POD_CG, NULL, NULL, NULL, NULL};

Test(match_workload, no_keys_matches_nothing) {
        pol_workload w = workload("empty");

        cr_assert_not(pol_match_workload(&w, &mysqld, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &docker_cgroup, NULL, 0));
        w.match.cgroup = PATS("**");
        cr_assert(pol_match_workload(&w, &docker_cgroup, NULL, 0));
        cr_assert_not(pol_match_workload(NULL, &mysqld, NULL, 0));
        cr_assert_not(pol_match_workload(&w, NULL, NULL, 0));
}

Test(match_workload, cgroup_key) {
        pol_workload w = workload("mysql");

        w.match.cgroup = PATS("system.slice/mysql*");
        cr_assert(pol_match_workload(&w, &mysqld, NULL, 0));
        cr_assert(pol_match_workload(&w, &mysql_cgroup, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &in_docker, NULL, 0));
        /* path mode: '*' does not reach into a child cgroup */
        pol_subject child = {MYSQL_CG "/worker", NULL, NULL, NULL, NULL};
        cr_assert_not(pol_match_workload(&w, &child, NULL, 0));
        w.match.cgroup = PATS("system.slice/mysql*/**");
        cr_assert(pol_match_workload(&w, &child, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &mysql_cgroup, NULL, 0));
        /* the root cgroup is "" */
        pol_subject root = {"", NULL, NULL, NULL, NULL};
        w.match.cgroup = PATS("");
        cr_assert(pol_match_workload(&w, &root, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &mysql_cgroup, NULL, 0));
}

Test(match_workload, process_keys_need_a_process) {
        pol_workload comm = workload("c"), exe = workload("e"), cmd = workload("l");

        comm.match.comm = PATS("*");
        exe.match.exe = PATS("*");
        cmd.match.cmdline = PATS("*");
        cr_assert(pol_match_workload(&comm, &mysqld, NULL, 0));
        cr_assert(pol_match_workload(&exe, &mysqld, NULL, 0));
        cr_assert(pol_match_workload(&cmd, &mysqld, NULL, 0));
        cr_assert_not(pol_match_workload(&comm, &mysql_cgroup, NULL, 0));
        cr_assert_not(pol_match_workload(&exe, &mysql_cgroup, NULL, 0));
        cr_assert_not(pol_match_workload(&cmd, &mysql_cgroup, NULL, 0));
        /* comm is what makes a subject a process, even with exe and cmdline */
        pol_subject no_comm = {MYSQL_CG, NULL, "/usr/sbin/mysqld", "mysqld", NULL};
        cr_assert_not(pol_match_workload(&exe, &no_comm, NULL, 0));
        cr_assert_not(pol_match_workload(&cmd, &no_comm, NULL, 0));
        /* a cgroup key with a process key: still needs the process */
        comm.match.cgroup = PATS(MYSQL_CG);
        cr_assert_not(pol_match_workload(&comm, &mysql_cgroup, NULL, 0));
        cr_assert(pol_match_workload(&comm, &mysqld, NULL, 0));
}

Test(match_workload, comm_exe_cmdline_keys) {
        pol_workload w = workload("mysql");

        w.match.comm = PATS("mysqld");
        cr_assert(pol_match_workload(&w, &mysqld, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &in_docker, NULL, 0));
        w.match.comm = PATS("mysql");
        cr_assert_not(pol_match_workload(&w, &mysqld, NULL, 0), "anchored at both ends");

        w = workload("mysql");
        /* '/' is not special for exe: '*' crosses it */
        w.match.exe = PATS("/usr/*mysqld");
        cr_assert(pol_match_workload(&w, &mysqld, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &in_pod, NULL, 0));

        w = workload("mysql");
        w.match.cmdline = PATS("*--datadir=/var/lib/*");
        cr_assert(pol_match_workload(&w, &mysqld, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &in_pod, NULL, 0));
}

Test(match_workload, unreadable_exe_and_cmdline) {
        pol_workload exe = workload("e"), cmd = workload("l");
        pol_subject no_exe = {MYSQL_CG, "mysqld", NULL, NULL, NULL};
        pol_subject empty_exe = {MYSQL_CG, "mysqld", "", "", NULL};

        exe.match.exe = PATS("*");
        cmd.match.cmdline = PATS("*");
        cr_assert_not(pol_match_workload(&exe, &no_exe, NULL, 0));
        cr_assert_not(pol_match_workload(&cmd, &no_exe, NULL, 0));
        /* "" is an unreadable exe; an empty cmdline (kernel thread) is a value */
        cr_assert_not(pol_match_workload(&exe, &empty_exe, NULL, 0));
        cr_assert(pol_match_workload(&cmd, &empty_exe, NULL, 0));
}

Test(match_workload, container_key) {
        pol_workload w = workload("web");

        w.match.container = PATS("ca978112*");
        cr_assert(pol_match_workload(&w, &in_docker, NULL, 0));
        cr_assert(pol_match_workload(&w, &docker_cgroup, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &in_pod, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &mysqld, NULL, 0), "no container, no match");
        /* "*" means "any container", not "anything" */
        w.match.container = PATS("*");
        cr_assert(pol_match_workload(&w, &in_pod, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &mysqld, NULL, 0));
        /* the full id; the short form needs a '*' */
        w.match.container = PATS(ID_A);
        cr_assert(pol_match_workload(&w, &in_docker, NULL, 0));
        w.match.container = PATS("ca978112ca1b");
        cr_assert_not(pol_match_workload(&w, &in_docker, NULL, 0));
}

Test(match_workload, runtime_key) {
        pol_workload w = workload("rt");
        pol_subject podman = {"machine.slice/libpod-" ID_B ".scope", NULL, NULL, NULL, NULL};
        pol_subject cgroupfs_pod = {"kubepods/burstable/pod" POD "/" ID_A, NULL, NULL, NULL, NULL};

        w.match.runtime = POL_RUNTIME_DOCKER;
        cr_assert(pol_match_workload(&w, &in_docker, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &podman, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &mysqld, NULL, 0));
        w.match.runtime = POL_RUNTIME_PODMAN;
        cr_assert(pol_match_workload(&w, &podman, NULL, 0));
        w.match.runtime = POL_RUNTIME_CONTAINERD;
        cr_assert(pol_match_workload(&w, &in_pod, NULL, 0));
        /* the cgroupfs driver does not say which runtime: no runtime matches,
         * the id still does */
        cr_assert_not(pol_match_workload(&w, &cgroupfs_pod, NULL, 0));
        w = workload("id");
        w.match.container = PATS(ID_A);
        cr_assert(pol_match_workload(&w, &cgroupfs_pod, NULL, 0));
}

Test(match_workload, kubernetes_keys) {
        pol_workload w = workload("k8s");
        pol_subject guaranteed = {KP "kubepods-pod" POD2_US ".slice/cri-containerd-" ID_A ".scope", NULL,
                                  NULL, NULL, NULL};

        w.match.qos = POL_QOS_BURSTABLE;
        cr_assert(pol_match_workload(&w, &in_pod, NULL, 0));
        cr_assert(pol_match_workload(&w, &pod_cgroup, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &guaranteed, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &in_docker, NULL, 0));
        w.match.qos = POL_QOS_GUARANTEED;
        cr_assert(pol_match_workload(&w, &guaranteed, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &mysqld, NULL, 0));

        /* pod patterns see the UID with dashes, as the API shows it */
        w = workload("pod");
        w.match.pod_uid = PATS("8b7c1f2a-*");
        cr_assert(pol_match_workload(&w, &in_pod, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &guaranteed, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &in_docker, NULL, 0));
        w.match.pod_uid = PATS("8b7c1f2a_*");
        cr_assert_not(pol_match_workload(&w, &in_pod, NULL, 0));
        w.match.pod_uid = PATS(POD);
        cr_assert(pol_match_workload(&w, &in_pod, NULL, 0));
        w.match.pod_uid = PATS("*");
        cr_assert_not(pol_match_workload(&w, &in_docker, NULL, 0), "no pod, no match");
}

Test(match_workload, every_given_key_must_match) {
        pol_workload w = workload("all");

        w.match.cgroup = PATS("kubepods.slice/**");
        w.match.comm = PATS("java");
        w.match.exe = PATS("/opt/java/*");
        w.match.cmdline = PATS("*app.jar*");
        w.match.container = PATS("3e23e816*");
        w.match.runtime = POL_RUNTIME_CONTAINERD;
        w.match.qos = POL_QOS_BURSTABLE;
        w.match.pod_uid = PATS("8b7c*");
        cr_assert(pol_match_workload(&w, &in_pod, NULL, 0));

        /* break one key at a time */
        pol_workload v;
        v = w, v.match.cgroup = PATS("system.slice/**");
        cr_assert_not(pol_match_workload(&v, &in_pod, NULL, 0));
        v = w, v.match.comm = PATS("python*");
        cr_assert_not(pol_match_workload(&v, &in_pod, NULL, 0));
        v = w, v.match.exe = PATS("/usr/*");
        cr_assert_not(pol_match_workload(&v, &in_pod, NULL, 0));
        v = w, v.match.cmdline = PATS("*other.jar*");
        cr_assert_not(pol_match_workload(&v, &in_pod, NULL, 0));
        v = w, v.match.container = PATS("ca97*");
        cr_assert_not(pol_match_workload(&v, &in_pod, NULL, 0));
        v = w, v.match.runtime = POL_RUNTIME_CRIO;
        cr_assert_not(pol_match_workload(&v, &in_pod, NULL, 0));
        v = w, v.match.qos = POL_QOS_BESTEFFORT;
        cr_assert_not(pol_match_workload(&v, &in_pod, NULL, 0));
        v = w, v.match.pod_uid = PATS("f47a*");
        cr_assert_not(pol_match_workload(&v, &in_pod, NULL, 0));
}

Test(match_workload, any_pattern_of_a_list) {
        pol_workload w = workload("db");
        pol_subject mariadb = {"system.slice/mariadb.service", "mariadbd", "/usr/sbin/mariadbd", "", NULL};
        pol_subject pg = {"system.slice/postgresql.service", "postgres", "/usr/lib/postgresql/15/bin/postgres",
                          "", NULL};

        w.match.comm = PATS("mysqld", "mariadbd");
        cr_assert(pol_match_workload(&w, &mysqld, NULL, 0));
        cr_assert(pol_match_workload(&w, &mariadb, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &pg, NULL, 0));
        w.match.cgroup = PATS("system.slice/mysql.service", "system.slice/postgresql.service");
        cr_assert(pol_match_workload(&w, &mysqld, NULL, 0));
        cr_assert_not(pol_match_workload(&w, &mariadb, NULL, 0), "the cgroup list has no mariadb");
        cr_assert_not(pol_match_workload(&w, &pg, NULL, 0), "the comm list has no postgres");
}

Test(match_workload, list_is_n_long) {
        pol_workload w = workload("n");
        char *items[] = {"nginx", "mysqld", NULL};

        /* n says one: "mysqld" is not part of the list */
        w.match.comm = (pol_patterns){.items = items, .n = 1};
        cr_assert_not(pol_match_workload(&w, &mysqld, NULL, 0));
        cr_assert(pol_match_workload(&w, &in_docker, NULL, 0));
}

static pol_policy policy_of(pol_workload *w, size_t n) {
        return (pol_policy){.version = 1, .workloads = w, .n_workloads = n};
}

Test(match_workload, first_match_wins) {
        pol_workload w[3] = {workload("mysql"), workload("containers"), workload("everything")};
        char why[256] = "untouched";

        w[0].match.comm = PATS("mysqld");
        w[1].match.container = PATS("*");
        w[2].match.cgroup = PATS("**");
        pol_policy p = policy_of(w, 3);

        cr_assert_eq(pol_find_workload(&p, &mysqld, why, sizeof(why)), &w[0]);
        cr_assert_str_eq(why, "comm 'mysqld' matches 'mysqld'");
        cr_assert_eq(pol_find_workload(&p, &mysql_cgroup, why, sizeof(why)), &w[2]);
        cr_assert_str_eq(why, "cgroup 'system.slice/mysql.service' matches '**'");
        cr_assert_eq(pol_find_workload(&p, &in_docker, why, sizeof(why)), &w[1]);
        cr_assert_str_eq(why, "container '" ID_A "' matches '*'");

        /* in another order, the catch-all shadows the rest */
        pol_workload r[3] = {w[2], w[0], w[1]};
        p = policy_of(r, 3);
        cr_assert_eq(pol_find_workload(&p, &mysqld, NULL, 0), &r[0]);
        cr_assert_eq(pol_find_workload(&p, &in_docker, NULL, 0), &r[0]);
}

Test(match_workload, find_without_a_match) {
        pol_workload w[1] = {workload("mysql")};
        char why[64] = "untouched";

        w[0].match.comm = PATS("mysqld");
        pol_policy p = policy_of(w, 1);
        cr_assert_null(pol_find_workload(&p, &in_docker, why, sizeof(why)));
        cr_assert_str_eq(why, "untouched");
        p = policy_of(NULL, 0);
        cr_assert_null(pol_find_workload(&p, &mysqld, why, sizeof(why)));
        cr_assert_null(pol_find_workload(NULL, &mysqld, why, sizeof(why)));
        cr_assert_null(pol_find_workload(&p, NULL, why, sizeof(why)));
}

/* ---- why ---- */

Test(match_workload, why_names_each_key) {
        pol_workload w = workload("mysql");
        char why[512] = "";

        w.match.cgroup = PATS("system.slice/mysql*");
        w.match.comm = PATS("mariadbd", "mysqld");
        cr_assert(pol_match_workload(&w, &mysqld, why, sizeof(why)));
        cr_assert_str_eq(why, "cgroup 'system.slice/mysql.service' matches 'system.slice/mysql*'; "
                              "comm 'mysqld' matches 'mysqld'");

        w = workload("all");
        w.match.exe = PATS("/opt/*");
        w.match.cmdline = PATS("*.jar");
        w.match.runtime = POL_RUNTIME_CONTAINERD;
        w.match.qos = POL_QOS_BURSTABLE;
        w.match.pod_uid = PATS("8b7c*");
        cr_assert(pol_match_workload(&w, &in_pod, why, sizeof(why)));
        cr_assert_str_eq(why, "exe '/opt/java/bin/java' matches '/opt/*'; cmdline 'java -jar app.jar' "
                              "matches '*.jar'; runtime is containerd; qos is burstable; pod_uid '" POD
                              "' matches '8b7c*'");

        w = workload("rt");
        w.match.runtime = POL_RUNTIME_DOCKER;
        cr_assert(pol_match_workload(&w, &docker_cgroup, why, sizeof(why)));
        cr_assert_str_eq(why, "runtime is docker");
}

Test(match_workload, why_untouched_without_a_match) {
        pol_workload w = workload("mysql");
        char why[64] = "untouched";

        w.match.cgroup = PATS("system.slice/mysql*");
        w.match.comm = PATS("postgres"); /* the cgroup matches, the comm does not */
        cr_assert_not(pol_match_workload(&w, &mysqld, why, sizeof(why)));
        cr_assert_str_eq(why, "untouched");
}

Test(match_workload, why_is_one_line) {
        pol_workload w = workload("odd");
        pol_subject odd = {MYSQL_CG, "a\nb\tc\x7f", NULL, NULL, NULL};
        char why[128];

        w.match.comm = PATS("a*");
        cr_assert(pol_match_workload(&w, &odd, why, sizeof(why)));
        cr_assert_str_eq(why, "comm 'a?b?c?' matches 'a*'");
}

/* Every size from 0 up: an exact-size heap buffer, so ASan sees one byte
 * too many; the text is always a NUL-terminated prefix of the full one. */
Test(match_workload, why_cut_to_fit_any_size) {
        pol_workload w = workload("mysql");
        char full[512];

        w.match.cgroup = PATS("system.slice/mysql*");
        w.match.comm = PATS("mysqld");
        w.match.cmdline = PATS("*--datadir*");
        cr_assert(pol_match_workload(&w, &mysqld, full, sizeof(full)));
        size_t len = strlen(full);
        cr_assert_gt(len, 100);

        for (size_t size = 0; size <= len + 2; size++) {
                char *why = malloc(size ? size : 1);
                cr_assert_not_null(why);
                if (size)
                        memset(why, 'X', size);
                else
                        why[0] = 'X';
                cr_assert(pol_match_workload(&w, &mysqld, why, size));
                if (size == 0) {
                        cr_assert_eq(why[0], 'X', "size 0: nothing written");
                } else {
                        size_t got = strnlen(why, size);
                        cr_assert_lt(got, size, "size %zu: not NUL-terminated", size);
                        cr_assert_eq(got, size > len ? len : size - 1, "size %zu", size);
                        cr_assert(strncmp(why, full, got) == 0, "size %zu: '%s'", size, why);
                }
                free(why);
        }
}

Test(match_workload, why_cut_keeps_utf8_whole) {
        pol_workload w = workload("utf8");
        pol_subject s = {"system.slice/caf\xc3\xa9.service", NULL, NULL, NULL, NULL};
        char why[32];

        w.match.cgroup = PATS("system.slice/*");
        /* "cgroup 'system.slice/caf" is 24 bytes: size 26 leaves room for
         * half of the two-byte "é", which must go too */
        cr_assert(pol_match_workload(&w, &s, why, 26));
        cr_assert_str_eq(why, "cgroup 'system.slice/caf");
        cr_assert(pol_match_workload(&w, &s, why, 27));
        cr_assert_str_eq(why, "cgroup 'system.slice/caf\xc3\xa9");
}

/* A hostile comm (control bytes, two-, three- and four-byte UTF-8, a lone
 * lead byte) cut at every size into an exact-size heap buffer: never
 * written past (ASan), NUL-terminated, a prefix of the whole text that
 * ends on a whole UTF-8 sequence, and the keys after the cut left out. */
Test(match_workload, why_cut_hostile_at_every_size) {
        pol_workload w = workload("odd");
        pol_subject odd = {"system.slice/x\xc3\xa9.service", "\x01\xe2\x82\xac\n\xf0\x9f\x98\x80\xc3",
                           NULL, "c\x7fmd", NULL};
        char full[512];

        w.match.cgroup = PATS("system.slice/*");
        w.match.comm = PATS("*");
        w.match.cmdline = PATS("c*");
        cr_assert(pol_match_workload(&w, &odd, full, sizeof(full)));
        cr_assert_str_eq(full, "cgroup 'system.slice/x\xc3\xa9.service' matches 'system.slice/*'; "
                               "comm '?\xe2\x82\xac?\xf0\x9f\x98\x80\xc3' matches '*'; "
                               "cmdline 'c?md' matches 'c*'");
        size_t len = strlen(full);

        for (size_t size = 1; size <= len + 1; size++) {
                char *why = malloc(size);
                cr_assert_not_null(why);
                memset(why, 'X', size);
                cr_assert(pol_match_workload(&w, &odd, why, size));
                assert_cut_prefix(why, size, full);
                free(why);
        }
        /* Cut inside the euro sign: it goes whole, nothing follows. */
        char why[128];
        size_t at = strlen("cgroup 'system.slice/x\xc3\xa9.service' matches 'system.slice/*'; "
                           "comm '?\xe2\x82");
        cr_assert(pol_match_workload(&w, &odd, why, at + 1));
        cr_assert_str_eq(why, "cgroup 'system.slice/x\xc3\xa9.service' matches 'system.slice/*'; "
                              "comm '?");
}
