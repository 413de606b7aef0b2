/* Hooks: the variables a hook gets, and the messages between the daemon
 * and the hook runner (pure; the runner itself is tested in the VM). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "record/hooks.h"

static const gd_hook_info victim = {
        .event = GD_HOOK_POST_KILL,
        .pid = 4242,
        .comm = "memeater",
        .cgroup = "system.slice/batch.service",
        .workload = "batch",
        .trigger = "near-limit",
        .reason = "memory.current 97% of memory.max",
        .outcome = "killed",
        .has_process = true,
        .score = 51773,
        .rss_bytes = 211599360,
        .uid = 1000,
        .dry_run = false,
        .kill_latency_ms = 123,
};

/* The variables of buf (n of them, len bytes) as one "A;B;C" string. */
static void joined(const char *buf, size_t len, int n, char *out, size_t size) {
        int count = 0;

        out[0] = '\0';
        for (const char *p = buf; p < buf + len; p += strlen(p) + 1, count++) {
                if (count)
                        strncat(out, ";", size - strlen(out) - 1);
                strncat(out, p, size - strlen(out) - 1);
        }
        cr_assert_eq(count, n);
}

/* info's variables are n, as want spells them joined with ';'. */
static void expect_env(const gd_hook_info *info, int n, const char *want) {
        char buf[2048], all[2048];
        size_t len = 0;

        cr_assert_eq(gd_hooks_env_build(info, buf, sizeof(buf), &len), n);
        joined(buf, len, n, all, sizeof(all));
        cr_assert_str_eq(all, want);
}

Test(hooks_env, post_kill_of_a_process) {
        expect_env(&victim, 21, "GUARDIAN_EVENT=post-kill;GUARDIAN_ACTION=kill-process;"
                              "GUARDIAN_PID=4242;GUARDIAN_COMM=memeater;"
                              "GUARDIAN_CGROUP=/system.slice/batch.service;"
                              "GUARDIAN_WORKLOAD=batch;GUARDIAN_TRIGGER=near-limit;"
                              "GUARDIAN_REASON=memory.current 97% of memory.max;"
                              "GUARDIAN_SCORE=51773;GUARDIAN_RSS_BYTES=211599360;"
                              "GUARDIAN_UID=1000;GUARDIAN_DRY_RUN=0;"
                              "GUARDIAN_CONTAINER_RUNTIME=;GUARDIAN_CONTAINER_ID=;GUARDIAN_CONTAINER_NAME=;GUARDIAN_CONTAINER_IMAGE=;GUARDIAN_K8S_NAMESPACE=;GUARDIAN_K8S_POD=;GUARDIAN_K8S_CONTAINER=;"
                              "GUARDIAN_OUTCOME=killed;"
                              "GUARDIAN_KILL_LATENCY_MS=123");
}

/* A cgroup kill in a dry run, before: no process, no outcome. */
Test(hooks_env, pre_kill_of_a_cgroup) {
        gd_hook_info info = {.event = GD_HOOK_PRE_KILL, .cgroup = "", .trigger = "limit",
                             .dry_run = true, .kill_latency_ms = -1};

        expect_env(&info, 19, "GUARDIAN_EVENT=pre-kill;GUARDIAN_ACTION=kill-cgroup;"
                              "GUARDIAN_PID=;GUARDIAN_COMM=;GUARDIAN_CGROUP=/;"
                              "GUARDIAN_WORKLOAD=;GUARDIAN_TRIGGER=limit;GUARDIAN_REASON=;"
                              "GUARDIAN_SCORE=;GUARDIAN_RSS_BYTES=;GUARDIAN_UID=;"
                              "GUARDIAN_DRY_RUN=1;GUARDIAN_CONTAINER_RUNTIME=;GUARDIAN_CONTAINER_ID=;GUARDIAN_CONTAINER_NAME=;GUARDIAN_CONTAINER_IMAGE=;GUARDIAN_K8S_NAMESPACE=;GUARDIAN_K8S_POD=;GUARDIAN_K8S_CONTAINER=");
}

/* A process names itself: a newline or an escape must not make a second
 * variable, a second log line or a terminal sequence. */
Test(hooks_env, hostile_values_are_one_printable_line) {
        gd_hook_info info = victim;
        char buf[2048];
        size_t len = 0;

        info.comm = "x\nGUARDIAN_PID=1\x1b[2J\x7f";
        int n = gd_hooks_env_build(&info, buf, sizeof(buf), &len);
        cr_assert_eq(n, 21);
        const char *comm = buf;
        while (strncmp(comm, "GUARDIAN_COMM=", 14) != 0)
                comm += strlen(comm) + 1;
        cr_assert_str_eq(comm, "GUARDIAN_COMM=x?GUARDIAN_PID=1?[2J?");
}

/* The container the cgroup is, by the names operators use; hostile bytes
 * in a name stay on one line. */
Test(hooks_env, container_names) {
        gd_container_names c = {.runtime = POL_RUNTIME_CONTAINERD};
        gd_hook_info info = {.event = GD_HOOK_PRE_KILL, .cgroup = "k", .kill_latency_ms = -1,
                             .container = &c};

        strcpy(c.id, "abc123");
        strcpy(c.name, "");
        strcpy(c.image, "docker.io/library/postgres:16");
        strcpy(c.k8s_namespace, "prod");
        strcpy(c.pod_name, "postgres-0\nGUARDIAN_PID=1");
        strcpy(c.container_name, "postgres");
        expect_env(&info, 19, "GUARDIAN_EVENT=pre-kill;GUARDIAN_ACTION=kill-cgroup;"
                              "GUARDIAN_PID=;GUARDIAN_COMM=;GUARDIAN_CGROUP=/k;"
                              "GUARDIAN_WORKLOAD=;GUARDIAN_TRIGGER=;GUARDIAN_REASON=;"
                              "GUARDIAN_SCORE=;GUARDIAN_RSS_BYTES=;GUARDIAN_UID=;"
                              "GUARDIAN_DRY_RUN=0;GUARDIAN_CONTAINER_RUNTIME=containerd;"
                              "GUARDIAN_CONTAINER_ID=abc123;GUARDIAN_CONTAINER_NAME=;"
                              "GUARDIAN_CONTAINER_IMAGE=docker.io/library/postgres:16;"
                              "GUARDIAN_K8S_NAMESPACE=prod;GUARDIAN_K8S_POD=postgres-0?GUARDIAN_PID=1;"
                              "GUARDIAN_K8S_CONTAINER=postgres");
}

Test(hooks_env, long_values_are_cut) {
        static char cgroup[6000];
        gd_hook_info info = victim;
        static char buf[GD_HOOKS_MSG_MAX];
        size_t len = 0;

        memset(cgroup, 'a', sizeof(cgroup) - 1);
        info.cgroup = cgroup;
        cr_assert_eq(gd_hooks_env_build(&info, buf, sizeof(buf), &len), 21);
        const char *p = buf;
        while (strncmp(p, "GUARDIAN_CGROUP=", 16) != 0)
                p += strlen(p) + 1;
        cr_assert_eq(strlen(p), strlen("GUARDIAN_CGROUP=") + 4095);
}

Test(hooks_env, too_small_a_buffer) {
        char buf[64];
        size_t len = 77;

        cr_assert_eq(gd_hooks_env_build(&victim, buf, sizeof(buf), &len), -ENOBUFS);
        cr_assert_eq(len, 77, "*ret_len written on failure");
}

Test(hooks_msg, round_trip) {
        char wire[GD_HOOKS_MSG_MAX];
        static gd_hook_msg m;

        ssize_t n = gd_hooks_encode(&victim, 7, wire, sizeof(wire));
        cr_assert_gt(n, 0);
        cr_assert_eq(gd_hooks_decode(wire, (size_t)n, &m), 0);
        cr_assert_eq(m.event, GD_HOOK_POST_KILL);
        cr_assert_eq(m.generation, 7);
        cr_assert_str_eq(m.workload, "batch");
        cr_assert_eq(m.n_env, 21);
        cr_assert_str_eq(m.env[0], "GUARDIAN_EVENT=post-kill");
        cr_assert_str_eq(m.env[20], "GUARDIAN_KILL_LATENCY_MS=123");
        cr_assert_null(m.env[21]);
}

Test(hooks_msg, no_workload) {
        gd_hook_info info = victim;
        char wire[GD_HOOKS_MSG_MAX];
        static gd_hook_msg m;

        info.workload = NULL;
        info.event = GD_HOOK_PRE_KILL;
        ssize_t n = gd_hooks_encode(&info, 0, wire, sizeof(wire));
        cr_assert_eq(gd_hooks_decode(wire, (size_t)n, &m), 0);
        cr_assert_str_eq(m.workload, "");
        cr_assert_eq(m.event, GD_HOOK_PRE_KILL);
        cr_assert_eq(m.n_env, 19);
}

Test(hooks_msg, encode_too_small) {
        char wire[100];

        cr_assert_eq(gd_hooks_encode(&victim, 0, wire, sizeof(wire)), -ENOBUFS);
        cr_assert_eq(gd_hooks_encode(&victim, 0, wire, 5), -ENOBUFS);
}

/* Whatever the daemon sends is checked: the runner runs as root outside
 * the sandbox, and the variables go into a root process's environment. */
struct bad_case {
        char wire[64];
        size_t len;
};

Test(hooks_msg, malformed_messages_are_refused) {
        /* header: "GDH1", event, 4 bytes of generation */
        static const struct bad_case cases[] = {
                {"", 0},
                {"GDH1\0\0\0\0\0", 9},                       /* no workload field */
                {"GDH2\0\0\0\0\0\0", 10},                    /* magic */
                {"GDH1\2\0\0\0\0\0", 10},                    /* event */
                {"GDH1\0\0\0\0\0w", 10},                     /* not NUL-terminated */
                {"GDH1\0\0\0\0\0a b\0", 13},                 /* workload name */
                {"GDH1\0\0\0\0\0\0PATH=/tmp\0", 20},         /* not GUARDIAN_ */
                {"GDH1\0\0\0\0\0\0GUARDIAN_PID\0", 23},      /* no '=' */
                {"GDH1\0\0\0\0\0\0GUARDIAN_pid=1\0", 25},    /* lower case name */
                {"GDH1\0\0\0\0\0\0GUARDIAN_X=a\nb\0", 24},   /* newline in a value */
                {"GDH1\0\0\0\0\0\0LD_PRELOAD=/x.so\0", 26},
        };
        static gd_hook_msg m;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                m.n_env = 99;
                cr_assert_eq(gd_hooks_decode(cases[i].wire, cases[i].len, &m), -EBADMSG,
                             "case %zu accepted", i);
                cr_assert_eq(m.n_env, 99, "case %zu: *ret written on failure", i);
        }
}

Test(hooks_msg, too_many_variables) {
        char wire[1024];
        static gd_hook_msg m;
        size_t at = 10;

        memcpy(wire, "GDH1\0\0\0\0\0\0", 10);
        for (int i = 0; i <= GD_HOOKS_ENV_MAX; i++)
                at += (size_t)snprintf(wire + at, sizeof(wire) - at, "GUARDIAN_V%d=x", i) + 1;
        cr_assert_eq(gd_hooks_decode(wire, at, &m), -EBADMSG);
        cr_assert_eq(gd_hooks_decode(wire, at - strlen("GUARDIAN_V32=x") - 1, &m), 0);
        cr_assert_eq(m.n_env, GD_HOOKS_ENV_MAX);
}
