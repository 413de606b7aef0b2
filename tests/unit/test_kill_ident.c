/* The kill path (act/kill.c) with container identity: a fixture cgroup
 * tree with two Docker containers under system.slice, real child
 * processes in each, a gd_idcache reading a fixture host's config.v2.json
 * files, and a policy naming the containers by their identity. The
 * victim check after pidfd_open() reads each child's real cgroup: the
 * namespace root is placed at the etl container's cgroup, so its
 * children pass it (the mysql one would not: it is never to be killed).
 * Rule (c) of watch/ident.h is off (procfd -1); rule (b)'s owner is us. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "act/kill.h"
#include "tests/lib/children.h"
#include "tests/lib/fixture.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define CG_A "system.slice/docker-" ID_A ".scope"
#define CG_B "system.slice/docker-" ID_B ".scope"
#define STATE_DIR "var/lib/docker/containers/"

enum { MYSQL, ETL_BIG, ETL_SMALL, N_CHILDREN };

static char *dir;
static char self[4096];        /* the children's real cgroup, "" for the root */
static char rel_a[4200], rel_b[4200]; /* where they are listed in the fixture tree */
static pid_t children[N_CHILDREN];
static int hostfd = -1;
static gd_ident_src src;
static gd_idcache *ids;
static gd_ident_cursor cursor;
static pol_policy *policy;
static gd_kills kills;
static gd_kill_env env;
static gd_watched c;
static const gd_decision pressure = {.action = POL_ACTION_KILL_PROCESS,
                                     .trigger = GD_TRIGGER_PRESSURE, .value = 0.5,
                                     .threshold = 0.2, .reason = "memory.pressure over 20%"};
static const uint64_t now = 1000000; /* the fake clock */

/* The fixture cgroup where (cg/where) listing pids, with a cgroup.kill. */
static void cgroup_of(const char *where, const char *pids) {
        char path[4400];
        snprintf(path, sizeof(path), "cg/%s/cgroup.procs", where);
        fx_write(dir, path, pids);
        snprintf(path, sizeof(path), "cg/%s/cgroup.kill", where);
        fx_write(dir, path, "");
}

/* Docker's state file for container id, named name, with label. */
static void docker_state(const char *id, const char *name, const char *image,
                         const char *label) {
        char path[256], doc[1024];
        snprintf(path, sizeof(path), "host/" STATE_DIR "%s/config.v2.json", id);
        snprintf(doc, sizeof(doc),
                 "{\"State\":{\"Running\":true,\"Pid\":4242},\"ID\":\"%s\",\"Name\":\"/%s\","
                 "\"Config\":{\"Image\":\"%s\",\"Labels\":{%s}},\"Image\":\"sha256:00\"}",
                 id, name, image, label);
        fx_write(dir, path, doc);
}

static void drop_state(const char *id) {
        char path[256];
        snprintf(path, sizeof(path), "host/" STATE_DIR "%s/config.v2.json", id);
        char *p = fx_path(dir, path);
        cr_assert_eq(unlink(p), 0);
        free(p);
}

static void load_policy(const char *yaml) {
        pol_free(policy);
        policy = NULL;
        fx_write(dir, "policy.yaml", yaml);
        char *path = fx_path(dir, "policy.yaml");
        pol_errors errs = {0};
        int r = pol_load_file(path, &policy, &errs);
        cr_assert_eq(r, 0, "the policy loads: %s", errs.n ? errs.items[0].message : "");
        free(path);
        env.policy = policy;
}

/* mysql protected by its container's name, the etl pushed up by its label. */
static const char ident_policy[] =
        "version: 1\nworkloads:\n"
        "  - name: db\n    match: { container_name: \"mysql*\" }\n"
        "    protect: { mode: never }\n"
        "  - name: etl\n    match: { labels: { com.docker.compose.service: etl } }\n"
        "    score_adj: +500\n";

static void setup(void) {
        char pids[64];

        dir = fx_tmpdir();
        char *cgline = fx_read("/proc/self", "cgroup", NULL);
        char *v2 = strstr(cgline, "0::/");
        cr_assert_not_null(v2, "a cgroup v2 line in /proc/self/cgroup: %s", cgline);
        snprintf(self, sizeof(self), "%s", strcmp(v2 + 3, "/\n") ? v2 + 3 : "");
        self[strcspn(self, "\n")] = '\0';
        free(cgline);
        snprintf(rel_a, sizeof(rel_a), CG_A "%s", self);
        snprintf(rel_b, sizeof(rel_b), CG_B "%s", self);

        children[MYSQL] = fx_child(24, false);
        children[ETL_BIG] = fx_child(8, false);
        children[ETL_SMALL] = fx_child(0, false);
        fx_mkdir(dir, "cg/system.slice");
        snprintf(pids, sizeof(pids), "%d\n", (int)children[MYSQL]);
        cgroup_of(rel_a, pids);
        snprintf(pids, sizeof(pids), "%d\n%d\n", (int)children[ETL_BIG],
                 (int)children[ETL_SMALL]);
        cgroup_of(rel_b, pids);
        cgroup_of("system.slice", "");
        docker_state(ID_A, "mysql-1", "mysql:8", "\"com.docker.compose.service\":\"db\"");
        docker_state(ID_B, "etl-1", "registry.example/etl:2",
                     "\"com.docker.compose.service\":\"etl\"");

        char *host = fx_path(dir, "host");
        hostfd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(host);
        char *root = fx_path(dir, "cg");
        int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(root);
        int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int epfd = epoll_create1(EPOLL_CLOEXEC);
        cr_assert(hostfd >= 0 && rootfd >= 0 && procfd >= 0 && epfd >= 0);

        src = (gd_ident_src){.hostfd = hostfd, .cgrootfd = rootfd, .procfd = -1,
                             .owner = getuid()};
        cr_assert_eq(gd_idcache_new(&src, &ids), 0);
        gd_ident_cursor_init(&cursor, ids, NULL);
        memset(&kills, 0, sizeof(kills));
        env = (gd_kill_env){
                .rootfd = rootfd,
                .procfd = procfd,
                .epfd = epfd,
                .page_size = (uint64_t)sysconf(_SC_PAGESIZE),
                .ns_root = "/" CG_B,
                .self_cgroup = "/",
                .ids = &cursor,
        };
        load_policy(ident_policy);

        memset(&c, 0, sizeof(c));
        c.rel = "system.slice";
        c.max = UINT64_MAX;
        c.dirfd = openat(rootfd, "system.slice", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(c.dirfd, 0);
        c.in_use = true;
}

static void teardown(void) {
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                if (kills.slot[i].used)
                        gd_kills_release(&env, &kills.slot[i]);
        for (int i = 0; i < N_CHILDREN; i++) {
                if (children[i] <= 0)
                        continue;
                kill(children[i], SIGKILL);
                waitpid(children[i], NULL, 0);
        }
        gd_idcache_free(ids);
        pol_free(policy);
        policy = NULL;
        close(c.dirfd);
        close(env.rootfd), close(env.procfd), close(env.epfd), close(hostfd);
        fx_rmtree(dir);
        free(dir);
}

TestSuite(kill_ident, .init = setup, .fini = teardown, .timeout = 60);

/* Both containers' cgroups appear to the cache, one tick reads them. */
static void appear_and_tick(void) {
        gd_idcache_appear(ids, rel_a);
        gd_idcache_appear(ids, rel_b);
        gd_idcache_tick(ids, now, 16);
}

static gd_kill_result kill_worst(gd_kill_outcome *o) {
        gd_kill_request req = {.c = &c, .rel = c.rel, .dec = &pressure, .trigger_ms = now,
                               .owner = 1};
        return gd_kill_worst(&kills, &env, &req, now, o);
}

static gd_kill_result kill_cgroup(gd_kill_outcome *o) {
        gd_kill_request req = {.c = &c, .rel = c.rel, .dec = &pressure, .trigger_ms = now,
                               .owner = 1};
        return gd_kill_cgroup(&kills, &env, &req, now, o);
}

static bool alive(pid_t pid) {
        return waitpid(pid, NULL, WNOHANG) == 0;
}

static void assert_all_alive(void) {
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]), "child %d (pid %d) is alive", i, (int)children[i]);
}

static void assert_died(int i) {
        int status;
        cr_assert_eq(waitpid(children[i], &status, 0), children[i]);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        children[i] = 0;
}

Test(kill_ident, the_protected_container_is_spared_and_the_etl_is_named) {
        appear_and_tick();
        cr_assert_eq(gd_idcache_get(ids, rel_a, NULL), GD_IDENT_KNOWN);
        cr_assert_eq(gd_idcache_get(ids, rel_b, NULL), GD_IDENT_KNOWN);
        gd_kill_outcome o;
        cr_assert_eq(kill_worst(&o), GD_KILL_STARTED, "why %d err %d", o.why, o.err);
        cr_assert_eq(o.target, GD_TARGET_PROCESS);
        cr_assert_eq(o.victim.cand.pid, children[ETL_BIG], "not mysqld, the largest");
        cr_assert_str_eq(o.victim.workload, "etl");
        cr_assert_str_eq(o.victim.cgroup, rel_b);
        int64_t adj = 500 * (int64_t)(o.victim.totalpages / 1000);
        cr_assert_geq(o.victim.cand.points, adj, "score_adj +500 from the label");
        cr_assert_eq(o.victim.container.runtime, POL_RUNTIME_DOCKER);
        cr_assert_str_eq(o.victim.container.id, ID_B);
        cr_assert_str_eq(o.victim.container.name, "etl-1");
        cr_assert_str_eq(o.victim.container.image, "registry.example/etl:2");
        cr_assert_not_null(o.in_flight);
        cr_assert_str_eq(o.in_flight->container.name, "etl-1", "the kill in flight keeps it");
        assert_died(ETL_BIG);
        cr_assert(alive(children[MYSQL]) && alive(children[ETL_SMALL]));
}

/* The control for the next: without the policy naming mysql, its process
 * is the worst (and its victim check fails: its cgroup is not where the
 * namespace root says). So the protection above came from its identity. */
Test(kill_ident, without_the_protection_mysqld_is_the_worst) {
        appear_and_tick();
        load_policy("version: 1\nworkloads:\n"
                    "  - name: db\n    match: { container_name: \"postgres*\" }\n"
                    "    protect: { mode: never }\n");
        gd_kill_outcome o;
        cr_assert_eq(kill_worst(&o), GD_KILL_FAILED);
        cr_assert_eq(o.why, GD_WHY_SIGNAL);
        cr_assert_eq(o.err, -EXDEV);
        cr_assert_eq(o.victim.cand.pid, children[MYSQL]);
        cr_assert_str_eq(o.victim.container.name, "mysql-1");
        cr_assert_str_eq(o.victim.container.image, "mysql:8");
        assert_all_alive();
}

/* A container whose state file is not there yet: PENDING. mysql unknown
 * would rank as anyone, so no choice is made on half the facts. */
/* Only the victim's container matters: while the etl (the victim: its
 * +500 is not known yet, and mysql is protected) is pending, no kill; once
 * read, it goes. A pending mysql does not stop the etl's kill: mysql is
 * not the one killed, whatever it turns out to be. */
Test(kill_ident, a_pending_victim_blocks_the_kill) {
        drop_state(ID_B);
        appear_and_tick();
        cr_assert_eq(gd_idcache_get(ids, rel_b, NULL), GD_IDENT_PENDING);
        cr_assert_eq(gd_idcache_error(ids, rel_b), -ENOENT);
        gd_kill_outcome o;
        cr_assert_eq(kill_worst(&o), GD_KILL_FAILED);
        cr_assert_eq(o.why, GD_WHY_IDENT_PENDING);
        cr_assert_eq(o.value, (uint64_t)children[ETL_BIG], "names the victim it would not kill");
        cr_assert_eq(o.target, GD_TARGET_NONE);
        cr_assert_null(o.in_flight);
        cr_assert_not(gd_kills_any(&kills));
        usleep(50 * 1000);
        assert_all_alive();
        /* The file arrives, the retry reads it, the kill goes on. */
        docker_state(ID_B, "etl-1", "registry.example/etl:2",
                     "\"com.docker.compose.service\":\"etl\"");
        gd_idcache_tick(ids, gd_idcache_next_ms(ids), 16);
        cr_assert_eq(gd_idcache_get(ids, rel_b, NULL), GD_IDENT_KNOWN);
        env.dry_run = true;
        cr_assert_eq(kill_worst(&o), GD_KILL_DONE);
        cr_assert_eq(o.victim.cand.pid, children[ETL_BIG]);
        cr_assert_str_eq(o.victim.container.name, "etl-1");
        assert_all_alive();
}

Test(kill_ident, a_pending_bystander_does_not_block) {
        drop_state(ID_A);
        appear_and_tick();
        cr_assert_eq(gd_idcache_get(ids, rel_a, NULL), GD_IDENT_PENDING);
        env.dry_run = true;
        gd_kill_outcome o;
        cr_assert_eq(kill_worst(&o), GD_KILL_DONE, "why %d", o.why);
        cr_assert_eq(o.victim.cand.pid, children[ETL_BIG], "the etl, raised by its label");
        assert_all_alive();
}

/* Cgroups the cache never heard of are UNAVAILABLE, not PENDING: no wait
 * (and mysql, unknown, is not protected: the daemon's watch set makes
 * every cgroup appear). */
Test(kill_ident, an_unavailable_identity_does_not_block) {
        gd_kill_outcome o;
        env.dry_run = true;
        cr_assert_eq(kill_worst(&o), GD_KILL_DONE, "why %d", o.why);
        cr_assert_eq(o.victim.cand.pid, children[MYSQL]);
        cr_assert_eq(o.victim.container.runtime, POL_RUNTIME_DOCKER, "the path says docker");
        cr_assert_str_eq(o.victim.container.id, ID_A);
        cr_assert_str_eq(o.victim.container.name, "", "no identity, no name");
}

/* A policy without identity keys (the path's container id) needs no
 * identity: a PENDING container does not stop its kill. */
Test(kill_ident, without_identity_keys_pending_does_not_block) {
        load_policy("version: 1\nworkloads:\n"
                    "  - name: db\n    match: { runtime: docker, container: \"aaaa*\" }\n"
                    "    protect: { mode: never }\n");
        drop_state(ID_B);
        appear_and_tick();
        cr_assert_eq(gd_idcache_get(ids, rel_b, NULL), GD_IDENT_PENDING);
        gd_kill_outcome o;
        cr_assert_eq(kill_worst(&o), GD_KILL_STARTED, "why %d err %d", o.why, o.err);
        cr_assert_eq(o.victim.cand.pid, children[ETL_BIG]);
        cr_assert_eq(o.victim.container.runtime, POL_RUNTIME_DOCKER);
        cr_assert_str_eq(o.victim.container.id, ID_B, "from the path");
        cr_assert_str_eq(o.victim.container.name, "", "pending: not known yet");
        assert_died(ETL_BIG);
        cr_assert(alive(children[MYSQL]));
}

/* A whole-cgroup kill of a subtree with a PENDING container: sheltered,
 * and its worst process is not taken either. */
/* A whole kill of a subtree with a pending container is not made: that
 * container could be a protected one; the worst process goes instead,
 * under the victim rule (here the etl, known). */
Test(kill_ident, a_pending_container_shelters_a_whole_kill) {
        drop_state(ID_A);
        appear_and_tick();
        env.dry_run = true;
        gd_kill_outcome o;
        cr_assert_eq(kill_cgroup(&o), GD_KILL_DONE, "why %d", o.why);
        cr_assert_eq(o.shelter, GD_SHELTER_IDENT_PENDING);
        cr_assert_eq(o.target, GD_TARGET_PROCESS);
        cr_assert_eq(o.victim.cand.pid, children[ETL_BIG]);
        char *written = fx_read(dir, "cg/system.slice/cgroup.kill", NULL);
        cr_assert_str_eq(written, "", "cgroup.kill not written");
        free(written);
        cr_assert_not(gd_kills_any(&kills));
        assert_all_alive();
}

/* The etl container killed whole names it as the process kill does. */
Test(kill_ident, a_whole_kill_names_the_container) {
        appear_and_tick();
        close(c.dirfd);
        c.rel = CG_B;
        c.dirfd = openat(env.rootfd, CG_B, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(c.dirfd, 0);
        fx_write(dir, "cg/" CG_B "/cgroup.kill", "");
        gd_kill_outcome o;
        cr_assert_eq(kill_cgroup(&o), GD_KILL_DONE, "shelter %d why %d", o.shelter, o.why);
        cr_assert_eq(o.target, GD_TARGET_CGROUP);
        cr_assert_str_eq(o.victim.cgroup, CG_B);
        cr_assert_eq(o.victim.container.runtime, POL_RUNTIME_DOCKER);
        cr_assert_str_eq(o.victim.container.name, "etl-1");
        cr_assert_str_eq(o.victim.container.image, "registry.example/etl:2");
        char *written = fx_read(dir, "cg/" CG_B "/cgroup.kill", NULL);
        cr_assert_str_eq(written, "1");
        free(written);

        /* The parent, with mysql known and protected: not whole. */
        close(c.dirfd);
        c.rel = "system.slice";
        c.dirfd = openat(env.rootfd, "system.slice", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        env.dry_run = true;
        cr_assert_eq(kill_cgroup(&o), GD_KILL_DONE);
        cr_assert_eq(o.shelter, GD_SHELTER_NEVER);
        cr_assert_eq(o.shelter_pid, children[MYSQL]);
        cr_assert_eq(o.target, GD_TARGET_PROCESS, "its worst other process instead");
        cr_assert_eq(o.victim.cand.pid, children[ETL_BIG]);
        cr_assert_str_eq(o.victim.container.name, "etl-1");
        assert_all_alive();
}
