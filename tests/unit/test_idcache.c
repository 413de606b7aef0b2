/* Container identity read from a fixture host (watch/idread.c) and kept
 * in the cache (watch/idcache.c): each runtime's files at their paths,
 * retries on a fake clock, the trust rules against a tenant's lookalike
 * cgroups, symlinks and hostile names, and the watch set's hooks. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/fixture.h"
#include "watch/ident.h"
#include "watch/watch.h"

#define DOCKER_ID "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"
#define OTHER_ID  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CTRD_ID   "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define CRIO_ID   "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc"
#define PODMAN_ID "a9b8c7d6e5f40123456789abcdef0123456789abcdef0123456789abcdef0123"

#define DOCKER_FILE "var/lib/docker/containers/" DOCKER_ID "/config.v2.json"
#define DOCKER_CG   "system.slice/docker-" DOCKER_ID ".scope"
#define TASKS       "run/containerd/io.containerd.runtime.v2.task/"
#define POD_SLICE   "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234abcd.slice"
#define STORAGE_VAR "var/lib/containers/storage/overlay-containers/"
#define STORAGE_RUN "run/containers/storage/overlay-containers/"

static char *host, *cg, *proc;
static int hostfd = -1, cgfd = -1, procfd = -1;
static gd_ident_src src;
static gd_idcache *ids;
static gd_container_ident out;

static int open_dir(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(fd >= 0, "open %s", path);
        return fd;
}

static void setup(void) {
        host = fx_tmpdir();
        cg = fx_tmpdir();
        proc = fx_tmpdir();
        hostfd = open_dir(host);
        cgfd = open_dir(cg);
        procfd = open_dir(proc);
        /* The fixture trees are ours: their owner is who the test runs as. */
        src = (gd_ident_src){.hostfd = hostfd, .cgrootfd = cgfd, .procfd = -1, .owner = getuid()};
        cr_assert_eq(gd_idcache_new(&src, &ids), 0);
        memset(&out, 0, sizeof(out));
}

static void teardown(void) {
        gd_idcache_free(ids);
        close(hostfd), close(cgfd), close(procfd);
        fx_rmtree(host), fx_rmtree(cg), fx_rmtree(proc);
        free(host), free(cg), free(proc);
}

TestSuite(idcache, .init = setup, .fini = teardown);

/* The checked-in fixture name at relpath in the host tree. */
static void put(const char *relpath, const char *fixture) {
        size_t len;
        char *doc = fx_read_fixture(fixture, &len);
        fx_write_bytes(host, relpath, doc, len);
        free(doc);
}

/* The state of rel after one read, and its errno when none could be read. */
static int read_one(const char *rel, gd_ident_state *st) {
        *st = GD_IDENT_PENDING;
        return gd_ident_read(&src, rel, &out, st);
}

/* appear, one tick at now, the state of rel. */
static gd_ident_state resolve(const char *rel, uint64_t now) {
        gd_idcache_appear(ids, rel);
        gd_idcache_tick(ids, now, 16);
        return gd_idcache_get(ids, rel, &out);
}

Test(idcache, docker_resolves_and_its_sub_cgroups_share_it) {
        put(DOCKER_FILE, "ident/docker-config.v2.json");
        fx_mkdir(cg, DOCKER_CG "/init");
        gd_idcache_appear(ids, DOCKER_CG);
        gd_idcache_appear(ids, DOCKER_CG "/init");
        cr_assert_eq(gd_idcache_size(ids), 1, "one entry per container");
        cr_assert_eq(gd_idcache_next_ms(ids), 0, "due at once");
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG, NULL), GD_IDENT_PENDING);
        cr_assert_eq(gd_idcache_tick(ids, 5000, 8), 1);
        cr_assert_eq(gd_idcache_next_ms(ids), UINT64_MAX);
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG "/init", &out), GD_IDENT_KNOWN);
        cr_assert_eq(out.runtime, POL_RUNTIME_DOCKER);
        cr_assert_str_eq(out.id, DOCKER_ID);
        cr_assert_str_eq(out.name, "shop-db-1");
        cr_assert_str_eq(out.image, "mysql:8.0");
        cr_assert_eq(out.n_labels, 6, "the packed copy keeps every label");
        cr_assert_str_eq(gd_ident_label_get(&out, "com.docker.compose.service"), "db");
        cr_assert_eq(gd_idcache_get(ids, "system.slice", &out), GD_IDENT_NONE);
        cr_assert_eq(gd_idcache_get(ids, "system.slice/docker-" OTHER_ID ".scope", NULL),
                     GD_IDENT_UNAVAILABLE, "a container's, never seen");
}

Test(idcache, containerd_is_found_in_any_namespace) {
        put(TASKS "moby/" OTHER_ID "/config.json", "ident/containerd-cri-sandbox.json");
        put(TASKS "k8s.io/" CTRD_ID "/config.json", "ident/containerd-cri-config.json");
        fx_mkdir(host, TASKS "default");
        const char *rel = POD_SLICE "/cri-containerd-" CTRD_ID ".scope";
        fx_mkdir(cg, rel);
        cr_assert_eq(resolve(rel, 1), GD_IDENT_KNOWN);
        cr_assert_eq(out.runtime, POL_RUNTIME_CONTAINERD);
        cr_assert_str_eq(out.id, CTRD_ID, "the id is the path's");
        cr_assert_str_eq(out.pod_name, "postgres-0");
        cr_assert_str_eq(out.container_name, "postgres");
        /* A namespace of its own is listed. */
        const char *rel2 = "nerdctl-" OTHER_ID ".scope";
        put(TASKS "team-a/" OTHER_ID "/config.json", "ident/containerd-cri-config.json");
        char *moby = fx_path(host, TASKS "moby");
        fx_rmtree(moby); /* its sandbox was another id's: now only team-a has it */
        free(moby);
        fx_mkdir(cg, rel2);
        cr_assert_eq(resolve(rel2, 1), GD_IDENT_KNOWN);
        cr_assert_str_eq(out.id, OTHER_ID);
}

Test(idcache, a_bare_id_below_a_cgroupfs_pod_tries_the_kubelet_runtimes) {
        put(TASKS "k8s.io/" CTRD_ID "/config.json", "ident/containerd-cri-config.json");
        const char *rel = "kubepods/burstable/pod6f1c2b9e-8d7a-4e3f-9a1b-2c3d4e5f6a7b/" CTRD_ID;
        fx_mkdir(cg, rel);
        cr_assert_eq(resolve(rel, 1), GD_IDENT_KNOWN);
        cr_assert_str_eq(out.container_name, "postgres");
}

Test(idcache, crio_from_the_run_root_else_the_graph_root) {
        const char *rel = POD_SLICE "/crio-" CRIO_ID ".scope";
        fx_mkdir(cg, rel);
        put(STORAGE_VAR CRIO_ID "/userdata/config.json", "ident/crio-config.json");
        cr_assert_eq(resolve(rel, 1), GD_IDENT_KNOWN);
        cr_assert_eq(out.runtime, POL_RUNTIME_CRIO);
        cr_assert_str_eq(out.container_name, "etl");
        cr_assert_str_eq(out.image, "quay.io/acme/etl:2.3");
        /* The conmon scope is the same container's. */
        const char *conmon = POD_SLICE "/crio-conmon-" CRIO_ID ".scope";
        fx_mkdir(cg, conmon);
        cr_assert_eq(resolve(conmon, 2), GD_IDENT_KNOWN);
        cr_assert_str_eq(out.id, CRIO_ID);
}

Test(idcache, podman_merges_the_storage_list) {
        const char *rel = "machine.slice/libpod-" PODMAN_ID ".scope";
        fx_mkdir(cg, rel);
        put(STORAGE_VAR PODMAN_ID "/userdata/config.json", "ident/podman-config.json");
        gd_ident_state st;
        cr_assert_eq(read_one(rel, &st), -ENOENT, "no list yet: no name");
        put(STORAGE_RUN "volatile-containers.json", "ident/podman-containers.json");
        cr_assert_eq(read_one(rel, &st), 0);
        cr_assert_eq(st, GD_IDENT_KNOWN);
        cr_assert_eq(out.runtime, POL_RUNTIME_PODMAN);
        cr_assert_str_eq(out.name, "cache");
        cr_assert_str_eq(out.image, "docker.io/library/redis:7");
}

Test(idcache, a_late_state_file_is_pending_then_known) {
        fx_mkdir(cg, DOCKER_CG);
        gd_idcache_appear(ids, DOCKER_CG);
        cr_assert_eq(gd_idcache_tick(ids, 1000, 8), 0);
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG, NULL), GD_IDENT_PENDING);
        cr_assert_eq(gd_idcache_next_ms(ids), 1100);
        cr_assert_eq(gd_idcache_tick(ids, 1099, 8), 0, "not due yet");
        put(DOCKER_FILE, "ident/docker-config.v2.json");
        cr_assert_eq(gd_idcache_tick(ids, 1100, 8), 1);
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG, &out), GD_IDENT_KNOWN);
        cr_assert_str_eq(out.name, "shop-db-1");
}

Test(idcache, retries_back_off_to_2s_and_give_up_after_60s) {
        fx_mkdir(cg, DOCKER_CG);
        gd_idcache_appear(ids, DOCKER_CG);
        uint64_t now = 10000;
        const uint64_t delays[] = {100, 200, 400, 800, 1600, 2000, 2000};
        for (size_t i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
                cr_assert_eq(gd_idcache_tick(ids, now, 8), 0);
                cr_assert_eq(gd_idcache_next_ms(ids), now + delays[i], "retry %zu", i);
                now = gd_idcache_next_ms(ids);
        }
        while (gd_idcache_get(ids, DOCKER_CG, NULL) == GD_IDENT_PENDING) {
                now = gd_idcache_next_ms(ids);
                cr_assert_leq(now, 10000 + GD_IDCACHE_GIVE_UP_MS);
                gd_idcache_tick(ids, now, 8);
        }
        cr_assert_eq(now, 10000 + GD_IDCACHE_GIVE_UP_MS, "given up on time");
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG, NULL), GD_IDENT_UNAVAILABLE);
        cr_assert_eq(gd_idcache_error(ids, DOCKER_CG "/x"), -ENOENT, "no state file: why");
        cr_assert_eq(gd_idcache_next_ms(ids), UINT64_MAX);
        put(DOCKER_FILE, "ident/docker-config.v2.json");
        cr_assert_eq(gd_idcache_tick(ids, now + 100000, 8), 0, "given up stays given up");
}

Test(idcache, the_entry_goes_with_the_last_cgroup_of_its_container) {
        put(DOCKER_FILE, "ident/docker-config.v2.json");
        fx_mkdir(cg, DOCKER_CG "/init");
        gd_idcache_appear(ids, DOCKER_CG);
        gd_idcache_appear(ids, DOCKER_CG "/init");
        gd_idcache_appear(ids, "system.slice");
        gd_idcache_tick(ids, 1, 8);
        gd_idcache_gone(ids, DOCKER_CG);
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG "/init", NULL), GD_IDENT_KNOWN);
        gd_idcache_gone(ids, DOCKER_CG "/init");
        cr_assert_eq(gd_idcache_size(ids), 0);
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG, NULL), GD_IDENT_UNAVAILABLE);
        gd_idcache_gone(ids, "system.slice");
        gd_idcache_gone(ids, DOCKER_CG); /* unpaired: nothing to drop */
        /* Back again (a restart): read again. */
        gd_idcache_appear(ids, DOCKER_CG);
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG, NULL), GD_IDENT_PENDING);
}

Test(idcache, a_container_named_inside_another_is_the_outer_one) {
        put(DOCKER_FILE, "ident/docker-config.v2.json");
        const char *inner = DOCKER_CG "/docker-" OTHER_ID ".scope/x";
        fx_mkdir(cg, inner);
        char key[4096];
        pol_container pc;
        cr_assert_eq(gd_ident_container_of(inner, key, sizeof(key), &pc), 1);
        cr_assert_str_eq(key, DOCKER_CG);
        cr_assert_str_eq(pc.id, DOCKER_ID);
        cr_assert_eq(resolve(inner, 1), GD_IDENT_KNOWN);
        cr_assert_str_eq(out.id, DOCKER_ID);
        /* The cgroupfs driver's spelling too. */
        cr_assert_eq(gd_ident_container_of("docker/" DOCKER_ID "/docker/" OTHER_ID, key,
                                           sizeof(key), &pc), 1);
        cr_assert_str_eq(key, "docker/" DOCKER_ID);
        cr_assert_eq(gd_ident_container_of("system.slice/cron.service", key, sizeof(key), &pc), 0);
}

/* The shortest prefix in which policy/container.c finds an id, read the
 * slow way: what gd_ident_container_of must agree with. */
static bool outermost_slow(const char *rel, char *key) {
        size_t len = strlen(rel);
        for (size_t end = 1; end <= len; end++) {
                pol_container pc;
                if (end < len && rel[end] != '/')
                        continue;
                snprintf(key, 4096, "%.*s", (int)end, rel);
                if (pol_container_from_cgroup(key, &pc) && pc.id[0])
                        return true;
        }
        return false;
}

Test(idcache, the_outermost_container_agrees_with_the_path_reader) {
        const char *paths[] = {
                DOCKER_CG, DOCKER_CG "/init", "docker/" DOCKER_ID "/x",
                POD_SLICE "/cri-containerd-" CTRD_ID ".scope/sub",
                "kubepods/burstable/pod6f1c2b9e-8d7a-4e3f-9a1b-2c3d4e5f6a7b/" CTRD_ID,
                "kubepods/pod6f1c2b9e-8d7a-4e3f-9a1b-2c3d4e5f6a7b/" CTRD_ID "/x",
                "machine.slice/libpod-conmon-" PODMAN_ID ".scope",
                "kind.slice/docker-" DOCKER_ID ".scope/kubelet.slice/kubelet-kubepods.slice/"
                "crio-" CRIO_ID ".scope",
                "system.slice/docker-abc.scope", "a/b/c", "", /* a bare id: its own test */
                "user.slice/nerdctl-" OTHER_ID ".scope", "x/crio-" CRIO_ID,
        };
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                char key[4096], slow[4096];
                pol_container pc;
                bool want = outermost_slow(paths[i], slow);
                int r = gd_ident_container_of(paths[i], key, sizeof(key), &pc);
                cr_assert_eq(r, want ? 1 : 0, "%s", paths[i]);
                if (want)
                        cr_assert_str_eq(key, slow, "%s", paths[i]);
        }
        char key[8];
        pol_container pc;
        cr_assert_eq(gd_ident_container_of(DOCKER_CG, key, sizeof(key), &pc), -ENAMETOOLONG);
}

Test(idcache, a_tenant_owned_directory_makes_it_untrusted) {
        const char *user = "user.slice/user-1000.slice/user@1000.service";
#define TENANT_CG "user.slice/user-1000.slice/user@1000.service/app.slice/docker-" DOCKER_ID ".scope"
        char rel[4096];
        snprintf(rel, sizeof(rel), "%s", TENANT_CG);
        put(DOCKER_FILE, "ident/docker-config.v2.json");
        fx_mkdir(cg, TENANT_CG "/sub");
        gd_ident_state st;
        cr_assert_eq(read_one(rel, &st), 0);
        cr_assert_eq(st, GD_IDENT_KNOWN, "the control: every level is the owner's");
        int slash = -1;
        if (geteuid() == 0) {
                /* What systemd does for a delegated user@1000.service. */
                char *p = fx_path(cg, user);
                cr_assert_eq(chown(p, src.owner + 1000, (gid_t)-1), 0);
                free(p);
        } else {
                /* Without root no directory can be made another's: look at
                 * the tree from "/" (root's) with root as the owner, so
                 * that the fixture's directories (ours) are the tenant's. */
                slash = open_dir("/");
                src.cgrootfd = slash;
                src.owner = 0;
                snprintf(rel, sizeof(rel), "%s/%s", cg + 1, TENANT_CG);
        }
        memset(&out, 0, sizeof(out));
        cr_assert_eq(read_one(rel, &st), 0);
        cr_assert_eq(st, GD_IDENT_UNTRUSTED);
        cr_assert_str_eq(out.name, "", "no identity given");
        gd_idcache *c2;
        cr_assert_eq(gd_idcache_new(&src, &c2), 0);
        char sub[4200];
        snprintf(sub, sizeof(sub), "%s/sub", rel);
        gd_idcache_appear(c2, sub);
        cr_assert_eq(gd_idcache_tick(c2, 1, 8), 1);
        cr_assert_eq(gd_idcache_get(c2, rel, &out), GD_IDENT_UNTRUSTED, "kept as untrusted");
        gd_idcache_free(c2);
        /* The root of the tree counts as a level. */
        src.cgrootfd = cgfd;
        src.owner = getuid() + 1;
        cr_assert_eq(read_one(DOCKER_CG, &st), 0);
        cr_assert_eq(st, GD_IDENT_UNTRUSTED);
        if (slash >= 0)
                close(slash);
}

Test(idcache, docker_pid_must_be_in_the_cgroup) {
        put(DOCKER_FILE, "ident/docker-config.v2.json"); /* State.Pid 4242, running */
        fx_mkdir(cg, DOCKER_CG);
        src.procfd = procfd;
        gd_ident_state st;
        cr_assert_eq(read_one(DOCKER_CG, &st), -ESRCH, "no such process yet");
        fx_write(proc, "4242/cgroup", "0::/" DOCKER_CG "/init\n");
        cr_assert_eq(read_one(DOCKER_CG, &st), 0);
        cr_assert_eq(st, GD_IDENT_KNOWN, "below the container's cgroup is in it");
        fx_write(proc, "4242/cgroup", "0::/system.slice/docker-" DOCKER_ID ".scopeX\n");
        cr_assert_eq(read_one(DOCKER_CG, &st), 0);
        cr_assert_eq(st, GD_IDENT_UNTRUSTED, "a lookalike's process is elsewhere");
        /* Not running: the pid is not told yet. */
        char *doc = fx_read(host, DOCKER_FILE, NULL);
        char *at = strstr(doc, "\"Running\":true");
        cr_assert_not_null(at);
        memcpy(at, "\"Running\":null", strlen("\"Running\":null"));
        fx_write(host, DOCKER_FILE, doc);
        free(doc);
        cr_assert_eq(read_one(DOCKER_CG, &st), -ESRCH);
}

Test(idcache, containerd_init_pid_must_be_in_the_cgroup) {
        const char *rel = POD_SLICE "/cri-containerd-" CTRD_ID ".scope";
        put(TASKS "k8s.io/" CTRD_ID "/config.json", "ident/containerd-cri-config.json");
        fx_mkdir(cg, rel);
        src.procfd = procfd;
        gd_ident_state st;
        cr_assert_eq(read_one(rel, &st), -ESRCH, "no init.pid yet");
        fx_write(host, TASKS "k8s.io/" CTRD_ID "/init.pid", "5151");
        cr_assert_eq(read_one(rel, &st), -ESRCH, "no such process");
        fx_write(proc, "5151/cgroup", "0::/" POD_SLICE "/cri-containerd-" CTRD_ID ".scope\n");
        cr_assert_eq(read_one(rel, &st), 0);
        cr_assert_eq(st, GD_IDENT_KNOWN);
        fx_write(proc, "5151/cgroup", "0::/" POD_SLICE "\n");
        cr_assert_eq(read_one(rel, &st), 0);
        cr_assert_eq(st, GD_IDENT_UNTRUSTED, "the pod's, not the container's");
        fx_write(host, TASKS "k8s.io/" CTRD_ID "/init.pid", "51x");
        cr_assert_eq(read_one(rel, &st), -EBADMSG);
}

Test(idcache, symlinks_are_not_followed) {
        gd_ident_state st;
        fx_mkdir(cg, DOCKER_CG);
        put("elsewhere/config.v2.json", "ident/docker-config.v2.json");
        fx_mkdir(host, "var/lib/docker/containers");
        char *target = fx_path(host, "elsewhere");
        char *link = fx_path(host, "var/lib/docker/containers/" DOCKER_ID);
        cr_assert_eq(symlink(target, link), 0);
        cr_assert_eq(read_one(DOCKER_CG, &st), -ENOTDIR, "the state directory is a symlink");
        cr_assert_eq(unlink(link), 0);
        fx_mkdir(host, "var/lib/docker/containers/" DOCKER_ID);
        char *file = fx_path(host, DOCKER_FILE);
        char *tfile = fx_path(host, "elsewhere/config.v2.json");
        cr_assert_eq(symlink(tfile, file), 0);
        cr_assert_eq(read_one(DOCKER_CG, &st), -ELOOP, "the state file is a symlink");
        /* A symlink higher up, too. */
        fx_rmtree(link);
        char *lib = fx_path(host, "var/lib");
        char *moved = fx_path(host, "var/lib2");
        cr_assert_eq(rename(lib, moved), 0);
        cr_assert_eq(symlink(moved, lib), 0);
        put("var/lib2/docker/containers/" DOCKER_ID "/config.v2.json", "ident/docker-config.v2.json");
        cr_assert_eq(read_one(DOCKER_CG, &st), -ENOTDIR);
        cr_assert_eq(st, GD_IDENT_PENDING, "untouched");
        free(target), free(link), free(file), free(tfile), free(lib), free(moved);
}

Test(idcache, hostile_and_short_ids_open_nothing) {
        gd_ident_state st;
        /* A tripwire: a state file where a short id would lead. */
        put("var/lib/docker/containers/3f2a9c1b7d4e/config.v2.json", "ident/docker-config.v2.json");
        put("var/lib/docker/containers/../config.v2.json", "ident/docker-config.v2.json");
        const char *lookalikes[] = {
                "system.slice/docker-3f2a9c1b7d4e.scope",
                "system.slice/docker-" DOCKER_ID "0.scope",
                "docker/3f2a9c1b7d4e",
        };
        for (size_t i = 0; i < sizeof(lookalikes) / sizeof(lookalikes[0]); i++) {
                fx_mkdir(cg, lookalikes[i]);
                cr_assert_eq(read_one(lookalikes[i], &st), 0, "%s", lookalikes[i]);
                cr_assert_neq(st, GD_IDENT_KNOWN, "%s", lookalikes[i]);
        }
        const char *not_containers[] = {
                "system.slice/docker-../../etc.scope",
                "system.slice/docker-" "3F2A9C1B7D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8"
                ".scope",
                "system.slice/docker-.scope",
                "docker/..",
        };
        for (size_t i = 0; i < sizeof(not_containers) / sizeof(not_containers[0]); i++) {
                cr_assert_eq(read_one(not_containers[i], &st), 0, "%s", not_containers[i]);
                cr_assert_eq(st, GD_IDENT_NONE, "%s", not_containers[i]);
        }
}

Test(idcache, files_over_1mib_are_not_read) {
        gd_ident_state st;
        fx_mkdir(cg, DOCKER_CG);
        size_t n = 1024 * 1024 + 1;
        char *big = malloc(n);
        memset(big, ' ', n);
        big[0] = '{';
        big[n - 1] = '}';
        fx_write_bytes(host, DOCKER_FILE, big, n);
        free(big);
        cr_assert_eq(read_one(DOCKER_CG, &st), -EFBIG);
        gd_idcache_appear(ids, DOCKER_CG);
        gd_idcache_tick(ids, 0, 8);
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG, NULL), GD_IDENT_PENDING);
        gd_idcache_tick(ids, GD_IDCACHE_GIVE_UP_MS, 8);
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG, NULL), GD_IDENT_UNAVAILABLE);
}

Test(idcache, a_cut_file_is_retried) {
        size_t len;
        char *doc = fx_read_fixture("ident/docker-config.v2.json", &len);
        fx_mkdir(cg, DOCKER_CG);
        fx_write_bytes(host, DOCKER_FILE, doc, len / 2);
        gd_ident_state st;
        cr_assert_eq(read_one(DOCKER_CG, &st), -EBADMSG);
        gd_idcache_appear(ids, DOCKER_CG);
        cr_assert_eq(gd_idcache_tick(ids, 0, 8), 0);
        cr_assert_eq(gd_idcache_error(ids, DOCKER_CG), -EBADMSG);
        fx_write_bytes(host, DOCKER_FILE, doc, len);
        cr_assert_eq(gd_idcache_tick(ids, gd_idcache_next_ms(ids), 8), 1);
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG, NULL), GD_IDENT_KNOWN);
        free(doc);
}

Test(idcache, a_fifo_or_a_directory_is_not_read) {
        gd_ident_state st;
        fx_mkdir(cg, DOCKER_CG);
        fx_mkdir(host, "var/lib/docker/containers/" DOCKER_ID);
        char *p = fx_path(host, DOCKER_FILE);
        cr_assert_eq(mkfifo(p, 0600), 0);
        cr_assert_eq(read_one(DOCKER_CG, &st), -EINVAL, "O_NONBLOCK: no hang, and not regular");
        cr_assert_eq(unlink(p), 0);
        cr_assert_eq(mkdir(p, 0700), 0);
        cr_assert_eq(read_one(DOCKER_CG, &st), -EINVAL);
        free(p);
}

Test(idcache, a_budget_spreads_the_work_round_robin) {
        put(DOCKER_FILE, "ident/docker-config.v2.json");
        put(STORAGE_RUN CRIO_ID "/userdata/config.json", "ident/crio-config.json");
        fx_mkdir(cg, DOCKER_CG);
        fx_mkdir(cg, "crio-" CRIO_ID);
        gd_idcache_appear(ids, DOCKER_CG);
        gd_idcache_appear(ids, "crio-" CRIO_ID);
        cr_assert_eq(gd_idcache_tick(ids, 0, 0), 0, "no budget, no work");
        cr_assert_eq(gd_idcache_tick(ids, 0, 1), 1);
        cr_assert_eq(gd_idcache_next_ms(ids), 0, "the other is still due");
        cr_assert_eq(gd_idcache_tick(ids, 0, 1), 1);
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG, NULL), GD_IDENT_KNOWN);
        cr_assert_eq(gd_idcache_get(ids, "crio-" CRIO_ID, NULL), GD_IDENT_KNOWN);
}

Test(idcache, past_the_cap_a_container_is_unavailable) {
        char rel[128];
        for (unsigned i = 0; i <= GD_IDCACHE_ENTRIES_MAX; i++) {
                snprintf(rel, sizeof(rel), "docker-%064x.scope", i);
                gd_idcache_appear(ids, rel);
        }
        cr_assert_eq(gd_idcache_size(ids), GD_IDCACHE_ENTRIES_MAX);
        cr_assert_eq(gd_idcache_get(ids, rel, NULL), GD_IDENT_UNAVAILABLE);
        cr_assert_eq(gd_idcache_error(ids, rel), -ENOSPC);
        cr_assert_eq(gd_idcache_error(ids, "system.slice"), 0);
        cr_assert_eq(gd_idcache_get(ids, "docker-" "0000000000000000000000000000000000000000000000000000000000000001" ".scope", NULL),
                     GD_IDENT_PENDING);
}

/* The watch set tells the cache of the cgroups it adds and removes. */
Test(idcache, the_watch_set_appears_and_removes) {
        gd_watch w;
        int epfd = epoll_create1(EPOLL_CLOEXEC);
        put(DOCKER_FILE, "ident/docker-config.v2.json");
        fx_mkdir(cg, DOCKER_CG "/init");
        cr_assert_eq(gd_watch_init(&w, epfd, cgfd, false), 0);
        cr_assert_eq(gd_watch_add_tree(&w, ""), 4);
        gd_watch_set_ids(&w, ids);
        cr_assert_eq(gd_idcache_size(ids), 1, "the ones watched already");
        fx_mkdir(cg, "crio-" CRIO_ID);
        cr_assert_eq(gd_watch_handle_inotify(&w), 0);
        cr_assert_eq(gd_idcache_size(ids), 2, "one added later");
        cr_assert_eq(gd_idcache_tick(ids, 0, 8), 1, "docker's is known, crio's has no file");
        cr_assert_eq(gd_idcache_get(ids, DOCKER_CG "/init", NULL), GD_IDENT_KNOWN);
        char *p = fx_path(cg, "crio-" CRIO_ID);
        cr_assert_eq(rmdir(p), 0);
        free(p);
        cr_assert_eq(gd_watch_handle_inotify(&w), 0);
        cr_assert_eq(gd_idcache_size(ids), 1, "gone with its cgroup");
        gd_watch_set_ids(&w, NULL);
        cr_assert_eq(gd_idcache_size(ids), 0);
        gd_watch_set_ids(&w, ids);
        gd_watch_free(&w);
        cr_assert_eq(gd_idcache_size(ids), 0, "every appear had its gone");
        close(epfd);
}

/* Each decided container is handed out once, for the daemon to say; a
 * pending one is not, until it is decided. */
Test(idcache, news_hands_out_each_decided_container_once) {
        const char *key;
        gd_ident_state st;
        int err;
        size_t it = 0;

        put(DOCKER_FILE, "ident/docker-config.v2.json");
        fx_mkdir(cg, DOCKER_CG);
        fx_mkdir(cg, "system.slice/docker-" OTHER_ID ".scope");
        gd_idcache_appear(ids, DOCKER_CG);
        gd_idcache_appear(ids, "system.slice/docker-" OTHER_ID ".scope");
        cr_assert_eq(gd_idcache_news(ids, &it, &key, &st, &err), false, "nothing decided yet");
        cr_assert_eq(gd_idcache_tick(ids, 1000, 8), 1);
        it = 0;
        cr_assert(gd_idcache_news(ids, &it, &key, &st, &err));
        cr_assert_str_eq(key, DOCKER_CG);
        cr_assert_eq(st, GD_IDENT_KNOWN);
        cr_assert_eq(err, 0);
        cr_assert_eq(gd_idcache_news(ids, &it, &key, &st, &err), false, "the other is pending");
        it = 0;
        cr_assert_eq(gd_idcache_news(ids, &it, &key, &st, &err), false, "told once");
        /* The other gives up: its news says why. */
        gd_idcache_tick(ids, 1000 + GD_IDCACHE_GIVE_UP_MS, 8);
        it = 0;
        cr_assert(gd_idcache_news(ids, &it, &key, &st, &err));
        cr_assert_str_eq(key, "system.slice/docker-" OTHER_ID ".scope");
        cr_assert_eq(st, GD_IDENT_UNAVAILABLE);
        cr_assert_eq(err, -ENOENT);
}

/* Docker's cgroupfs driver under --cgroup-parent names the cgroup by the
 * bare id: the state files say which runtime it is. A bare id whose
 * files are nowhere stays without identity. */
Test(idcache, a_bare_id_under_any_parent_is_read) {
        put(DOCKER_FILE, "ident/docker-config.v2.json");
        fx_mkdir(cg, "batch/" DOCKER_ID "/sub");
        cr_assert_eq(resolve("batch/" DOCKER_ID "/sub", 1000), GD_IDENT_KNOWN);
        cr_assert_eq(out.runtime, POL_RUNTIME_DOCKER);
        cr_assert_str_eq(out.name, "shop-db-1");
        char key[PATH_MAX];
        pol_container pc;
        cr_assert_eq(gd_ident_container_of("batch/" DOCKER_ID "/sub", key, sizeof(key), &pc), 1);
        cr_assert_str_eq(key, "batch/" DOCKER_ID);
        cr_assert_eq(gd_ident_container_of("batch/" DOCKER_ID "0", key, sizeof(key), &pc), 0,
                     "65 hex digits name nothing");
        cr_assert_eq(gd_ident_container_of("batch/abc", key, sizeof(key), &pc), 0);
}
