/* The kill path end to end (act/kill.c alone on its small environment; through
 * the daemon, daemon/killer.c: gd_daemon_kill, gd_pending_tick,
 * gd_kill_cgroup, gd_notify; daemon/evaluate.c: gd_evaluate from two
 * samples through the workload's action) with a fake clock: a fixture cgroup tree whose
 * cgroup.procs lists real child processes, the real /proc, real pidfds,
 * the embedded default policy and a real audit file. The fixture cgroup
 * is placed where the children really are through the cgroup namespace
 * root ("/t" + their /proc/self/cgroup path), so the victim check after
 * pidfd_open() passes for them and fails for a cgroup they are not in. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/state.h"
#include "tests/lib/children.h"
#include "tests/lib/fixture.h"

enum { N_CHILDREN = 3, BIG_MIB = 32 };

static gd_daemon *d;
static char *dir;
static char rel[4200];     /* the children's cgroup in the fixture tree */
static pid_t children[N_CHILDREN]; /* [0] is the big one */
static gd_watched c;
static const gd_decision pressure = {.action = POL_ACTION_KILL_PROCESS,
                                     .trigger = GD_TRIGGER_PRESSURE, .value = 0.5,
                                     .threshold = 0.2, .sustained_ms = 2000,
                                     .reason = "memory.pressure full avg10 50% over 20%"};
static const uint64_t now = 1000000; /* the fake clock */

/* cgroup.procs of the fixture cgroup at where: the children's pids. */
static void list_children(const char *where) {
        char procs[256] = "", path[4400];
        for (int i = 0; i < N_CHILDREN; i++) {
                size_t len = strlen(procs);
                snprintf(procs + len, sizeof(procs) - len, "%d\n", (int)children[i]);
        }
        fx_mkdir(dir, "cg");
        snprintf(path, sizeof(path), "cg/%s/cgroup.procs", where);
        fx_write(dir, path, procs);
        snprintf(path, sizeof(path), "cg/%s/cgroup.kill", where);
        fx_write(dir, path, "");
}

static void setup(void) {
        char self[4096];

        dir = fx_tmpdir();
        fx_mkdir(dir, "cg");
        /* Where the children are: this process's cgroup ("0::/a/b"). */
        char *cgline = fx_read("/proc/self", "cgroup", NULL);
        char *v2 = strstr(cgline, "0::/");
        cr_assert_not_null(v2, "a cgroup v2 line in /proc/self/cgroup: %s", cgline);
        snprintf(self, sizeof(self), "%s", v2 + 3);
        self[strcspn(self, "\n")] = '\0';
        free(cgline);
        snprintf(rel, sizeof(rel), "t%s", strcmp(self, "/") ? self : "");

        children[0] = fx_child(BIG_MIB, false);
        for (int i = 1; i < N_CHILDREN; i++)
                children[i] = fx_child(0, false);
        list_children(rel);

        d = calloc(1, sizeof(*d));
        cr_assert_not_null(d);
        d->sigfd = d->timerfd = d->host_psi_fd = -1;
        d->epfd = epoll_create1(EPOLL_CLOEXEC);
        char *root = fx_path(dir, "cg");
        d->host.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(root);
        d->host.procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d->host.page_size = (size_t)sysconf(_SC_PAGESIZE);
        cr_assert(d->epfd >= 0 && d->host.rootfd >= 0 && d->host.procfd >= 0);
        snprintf(d->cgns.root, sizeof(d->cgns.root), "/t");
        snprintf(d->self_cgroup, sizeof(d->self_cgroup), "/");
        cr_assert_eq(pol_default(&d->policy), 0);
        char *audit = fx_path(dir, "audit.jsonl");
        cr_assert_eq(gd_audit_open(audit, &d->audit), 0);
        free(audit);

        memset(&c, 0, sizeof(c));
        c.rel = rel;
        c.max = UINT64_MAX;
        c.dirfd = -1;
        c.in_use = true;
        c.generation = 7;
        /* The watch set holds c alone: a kill in flight finds it again. */
        d->watch.slots = &c;
        d->watch.n_slots = 1;
}

static void teardown(void) {
        for (int i = 0; i < N_CHILDREN; i++) {
                if (children[i] <= 0)
                        continue; /* reaped by the test; kill(0) is the whole group */
                kill(children[i], SIGKILL);
                waitpid(children[i], NULL, 0);
        }
        for (size_t i = 0; d && i < GD_MAX_PENDING; i++)
                if (d->kills.slot[i].used && d->kills.slot[i].pidfd >= 0)
                        close(d->kills.slot[i].pidfd);
        if (c.dirfd >= 0)
                close(c.dirfd);
        gd_audit_close(d->audit);
        pol_free(d->policy);
        close(d->host.rootfd);
        close(d->host.procfd);
        close(d->epfd);
        free(d);
        fx_rmtree(dir);
        free(dir);
}

TestSuite(kill_path, .init = setup, .fini = teardown, .timeout = 60);

/* The audit file, malloc'd. */
static char *audit(void) {
        return fx_read(dir, "audit.jsonl", NULL);
}

static bool alive(pid_t pid) {
        return waitpid(pid, NULL, WNOHANG) == 0;
}

static int died_of(pid_t pid) {
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        return WIFSIGNALED(status) ? WTERMSIG(status) : -WEXITSTATUS(status);
}

/* The daemon's kill of c's worst process in rel (as gd_evaluate makes it). */
static gd_kill_result kill_worst(gd_watched *cg, const char *where, const gd_decision *dec,
                                 uint64_t trigger_ms, uint64_t at) {
        return gd_daemon_kill(d, cg, where, NULL, POL_ACTION_KILL_PROCESS, dec, trigger_ms, 0, at);
}

static gd_kill_result kill_cgroup(void) {
        return gd_daemon_kill(d, &c, c.rel, NULL, POL_ACTION_KILL_CGROUP, &pressure, now, 0, now);
}

static gd_inflight *in_flight(void) {
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                if (d->kills.slot[i].used)
                        return &d->kills.slot[i];
        return NULL;
}

static void assert_has(const char *text, const char *what) {
        cr_assert_not_null(strstr(text, what), "%s not in %s", what, text);
}

Test(kill_path, the_worst_process_is_killed_and_closed_out_on_the_next_tick) {
        cr_assert_eq(kill_worst(&c, rel, &pressure, now - 2000, now), GD_KILL_STARTED);
        gd_inflight *p = in_flight();
        cr_assert_not_null(p);
        cr_assert_eq(p->cand.pid, children[0], "the big child is the victim");
        cr_assert(c.kill_pending);
        /* Nothing audited until the kill is over. */
        char *log = audit();
        cr_assert_str_eq(log, "");
        free(log);

        struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
        cr_assert_eq(poll(&pfd, 1, 10000), 1, "the victim exits");
        cr_assert_not(gd_pending_tick(d, now + 300), "no kill left in flight");
        cr_assert_null(in_flight());
        cr_assert_not(c.kill_pending);
        cr_assert_gt(c.state.quiet_until_ms, now, "a kill that worked starts the cooldown");
        log = audit();
        char pid[32];
        snprintf(pid, sizeof(pid), "\"pid\":%d,", (int)children[0]);
        assert_has(log, pid);
        assert_has(log, "\"event\":\"kill\"");
        assert_has(log, "\"result\":\"killed\"");
        assert_has(log, "\"trigger_to_kill_ms\":2000");
        free(log);
        cr_assert_eq(died_of(children[0]), SIGKILL);
        children[0] = 0;
        cr_assert(alive(children[1]) && alive(children[2]), "only the victim dies");
}

Test(kill_path, a_dry_run_names_the_victim_and_kills_nothing) {
        d->dry_run = true;
        cr_assert_eq(kill_worst(&c, rel, &pressure, now, now), GD_KILL_DONE);
        cr_assert_null(in_flight());
        char *log = audit(), pid[32];
        snprintf(pid, sizeof(pid), "\"pid\":%d,", (int)children[0]);
        assert_has(log, pid);
        assert_has(log, "\"event\":\"would-kill\"");
        assert_has(log, "\"result\":\"dry-run\"");
        free(log);
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
}

Test(kill_path, a_victim_not_in_the_cgroup_scanned_is_not_signalled) {
        /* The same pids listed in a cgroup they are not in (a pid that moved,
         * or a tree that lies): the check after pidfd_open() refuses. */
        list_children("t/elsewhere");
        c.rel = "t/elsewhere";
        cr_assert_eq(kill_worst(&c, "t/elsewhere", &pressure, now, now), GD_KILL_FAILED);
        cr_assert_null(in_flight());
        char *log = audit();
        assert_has(log, "\"event\":\"kill-failed\"");
        assert_has(log, "\"result\":\"moved\"");
        free(log);
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
}

Test(kill_path, an_unknown_namespace_root_kills_no_single_process) {
        d->cgns.unknown = true;
        cr_assert_eq(kill_worst(&c, rel, &pressure, now, now), GD_KILL_FAILED);
        char *log = audit();
        assert_has(log, "\"result\":\"cgroupns-unknown\"");
        free(log);
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
}

/* d's policy from yaml. */
static void load_policy(const char *yaml) {
        pol_free(d->policy);
        d->policy = NULL;
        char *path = fx_path(dir, "policy.yaml");
        fx_write(dir, "policy.yaml", yaml);
        pol_errors errs = {0};
        int r = pol_load_file(path, &d->policy, &errs);
        cr_assert_eq(r, 0, "the policy loads: %s", errs.n ? errs.items[0].message : "");
        free(path);
}

Test(kill_path, a_sigterm_grace_ends_in_sigkill_on_the_fake_clock) {
        kill(children[0], SIGKILL);
        waitpid(children[0], NULL, 0);
        children[0] = fx_child(BIG_MIB, true); /* ignores SIGTERM */
        list_children(rel);
        /* A workload with a grace: the policy says 5 s. */
        char *yaml = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&yaml, &len);
        fprintf(f, "version: 1\nworkloads:\n  - name: batch\n    match: { cgroup: \"%s\" }\n"
                   "    grace: 5s\n", rel);
        fclose(f);
        load_policy(yaml);
        free(yaml);

        cr_assert_eq(kill_worst(&c, rel, &pressure, now, now), GD_KILL_STARTED);
        gd_inflight *p = in_flight();
        cr_assert_not_null(p);
        cr_assert(p->term_only);
        cr_assert_eq(p->sigkill_at_ms, now + 5000);
        cr_assert(gd_pending_tick(d, now + 4999), "still in its grace");
        usleep(100 * 1000);
        cr_assert(alive(children[0]), "SIGTERM is ignored, SIGKILL not yet sent");
        cr_assert(gd_pending_tick(d, now + 5000), "SIGKILL sent, exit not seen yet");
        cr_assert_not(p->term_only);
        cr_assert_eq(died_of(children[0]), SIGKILL);
        children[0] = 0;
}

Test(kill_path, a_cgroup_kill_writes_cgroup_kill_and_is_audited) {
        char *where = fx_path(dir, "cg");
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", where, rel);
        free(where);
        c.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(c.dirfd >= 0);
        cr_assert_eq(kill_cgroup(), GD_KILL_DONE);
        snprintf(path, sizeof(path), "cg/%s/cgroup.kill", rel);
        char *written = fx_read(dir, path, NULL);
        cr_assert_str_eq(written, "1");
        free(written);
        char *log = audit();
        assert_has(log, "\"event\":\"kill-cgroup\"");
        assert_has(log, "\"result\":\"killed\"");
        free(log);
        cr_assert_eq(c.state.quiet_until_ms, 0, "decide's state is the caller's to record");
}

Test(kill_path, a_cgroup_kill_that_cannot_be_written_failed) {
        /* A cgroup without cgroup.kill (a kernel before 5.14). */
        char path[4400];
        snprintf(path, sizeof(path), "cg/%s/cgroup.kill", rel);
        char *kill_file = fx_path(dir, path);
        cr_assert_eq(unlink(kill_file), 0);
        free(kill_file);
        c.dirfd = openat(d->host.rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(c.dirfd >= 0);
        cr_assert_eq(kill_cgroup(), GD_KILL_FAILED);
        char *log = audit();
        assert_has(log, "\"event\":\"kill-cgroup\"");
        assert_has(log, "\"result\":\"ENOENT\"");
        free(log);
}

Test(kill_path, a_dry_run_cgroup_kill_writes_nothing) {
        d->dry_run = true;
        c.dirfd = openat(d->host.rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(c.dirfd >= 0);
        cr_assert_eq(kill_cgroup(), GD_KILL_DONE);
        char path[4400];
        snprintf(path, sizeof(path), "cg/%s/cgroup.kill", rel);
        char *written = fx_read(dir, path, NULL);
        cr_assert_str_eq(written, "");
        free(written);
        char *log = audit();
        assert_has(log, "\"event\":\"would-kill-cgroup\"");
        free(log);
}

/* The daemon's kill path with container identity: a whole kill of a
 * cgroup holding a container whose identity is still being read is
 * sheltered, its worst process is not taken either, and both are said. */
Test(kill_path, a_pending_container_is_said_and_nothing_killed) {
        static gd_ident_cursor cursor;
        char sub[4400], path[4400];
        snprintf(sub, sizeof(sub), "%s/docker-%064x.scope", rel, 0xdb);
        snprintf(path, sizeof(path), "cg/%s/cgroup.procs", rel);
        fx_write(dir, path, "");
        list_children(sub);
        load_policy("version: 1\nworkloads:\n  - name: db\n"
                    "    match: { container_name: \"mysql*\" }\n    protect: { mode: never }\n");
        char *host = fx_path(dir, "host");
        fx_mkdir(dir, "host");
        int hostfd = open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(host);
        gd_ident_src src = {.hostfd = hostfd, .cgrootfd = d->host.rootfd, .procfd = -1,
                            .owner = getuid()};
        gd_idcache *ids;
        cr_assert_eq(gd_idcache_new(&src, &ids), 0);
        gd_idcache_appear(ids, sub); /* not read yet: PENDING */
        gd_ident_cursor_init(&cursor, ids, NULL);
        d->kill_ids = &cursor;
        c.dirfd = openat(d->host.rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert(c.dirfd >= 0);

        char logpath[] = "/tmp/gd-kill-log-XXXXXX";
        int logfd = mkstemp(logpath);
        cr_assert_geq(logfd, 0);
        unlink(logpath);
        int saved = dup(STDERR_FILENO);
        dup2(logfd, STDERR_FILENO);
        gd_kill_result r = kill_cgroup();
        dup2(saved, STDERR_FILENO);
        close(saved);
        char said[4096] = "";
        ssize_t n = pread(logfd, said, sizeof(said) - 1, 0);
        close(logfd);
        said[n > 0 ? n : 0] = '\0';

        cr_assert_eq(r, GD_KILL_FAILED);
        assert_has(said, "identity");
        assert_has(said, "whole");
        assert_has(said, "is in a container whose identity is still being read");
        snprintf(path, sizeof(path), "cg/%s/cgroup.kill", rel);
        char *written = fx_read(dir, path, NULL);
        cr_assert_str_eq(written, "", "cgroup.kill not written");
        free(written);
        cr_assert_null(in_flight());
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
        d->kill_ids = NULL;
        gd_idcache_free(ids);
        close(hostfd);
}

Test(kill_path, notify_audits_and_kills_nothing) {
        cr_assert_eq(gd_notify(d, &c, NULL, &pressure, 0, now), GD_KILL_DONE);
        char *log = audit();
        assert_has(log, "\"event\":\"notify\"");
        assert_has(log, "\"result\":\"notified\"");
        free(log);
        cr_assert_eq(c.state.quiet_until_ms, 0, "decide's state is the caller's to record");
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
}

/* ---- gd_evaluate: from two samples to a kill, routed by the workload ---- */

/* The fixture cgroup's memory files: current bytes of a 104 MiB limit, all
 * of it anonymous (unreclaimable). */
static void memory_files(uint64_t current) {
        char path[4400], val[32];
        const struct {
                const char *name, *content;
        } files[] = {
                {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"},
                {"memory.max", "109051904\n"},
                {"memory.high", "max\n"},
                {"memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                                    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},
                {"memory.oom.group", "0\n"},
        };
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(path, sizeof(path), "cg/%s/%s", rel, files[i].name);
                fx_write(dir, path, files[i].content);
        }
        snprintf(val, sizeof(val), "%llu\n", (unsigned long long)current);
        snprintf(path, sizeof(path), "cg/%s/memory.current", rel);
        fx_write(dir, path, val);
        char stat[96];
        snprintf(stat, sizeof(stat), "anon %llu\nfile 0\nshmem 0\n", (unsigned long long)current);
        snprintf(path, sizeof(path), "cg/%s/memory.stat", rel);
        fx_write(dir, path, stat);
}

static gd_watched *watched;

static void eval_setup(void) {
        setup();
        memory_files(100u << 20);
        memset(&d->watch, 0, sizeof(d->watch));
        d->host.root.has_memory = true;
        cr_assert_eq(gd_watch_init(&d->watch, d->epfd, d->host.rootfd, true), 0);
        cr_assert_gt(gd_watch_add_tree(&d->watch, rel), 0);
        watched = NULL;
        for (size_t i = 0; i < d->watch.n_slots; i++)
                if (d->watch.slots[i].in_use && !strcmp(d->watch.slots[i].rel, rel))
                        watched = &d->watch.slots[i];
        cr_assert_not_null(watched);
}

static void eval_teardown(void) {
        gd_watch_free(&d->watch);
        memset(&d->watch, 0, sizeof(d->watch));
        teardown();
}

/* Two samples: 100 MiB, then 103 MiB of a 104 MiB limit (99%, growing). */
static void near_the_limit_and_growing(void) {
        gd_evaluate(d, watched, now);
        memory_files(103u << 20);
        gd_evaluate(d, watched, now + 100);
}

TestSuite(evaluate, .init = eval_setup, .fini = eval_teardown, .timeout = 60);

/* A policy whose one workload (the fixture cgroup) has action. */
static void workload_action(const char *action) {
        char *yaml = NULL, *path = fx_path(dir, "policy.yaml");
        size_t len = 0;
        FILE *f = open_memstream(&yaml, &len);
        fprintf(f, "version: 1\nworkloads:\n  - name: batch\n    match: { cgroup: \"%s\" }\n"
                   "    action: %s\n", rel, action);
        fclose(f);
        fx_write(dir, "policy.yaml", yaml);
        free(yaml);
        pol_errors errs = {0};
        pol_free(d->policy);
        d->policy = NULL;
        cr_assert_eq(pol_load_file(path, &d->policy, &errs), 0, "%s",
                     errs.n ? errs.items[0].message : "");
        free(path);
        d->watch.policy_gen++;
}

Test(evaluate, near_the_limit_and_growing_the_worst_process_is_killed) {
        gd_evaluate(d, watched, now);
        cr_assert_null(in_flight(), "one sample: no growth to go on");
        memory_files(103u << 20);
        gd_evaluate(d, watched, now + 100);
        gd_inflight *p = in_flight();
        cr_assert_not_null(p, "99%% of memory.max and growing");
        cr_assert_eq(p->cand.pid, children[0]);
        cr_assert_eq(p->decision.trigger, GD_TRIGGER_NEAR_LIMIT);
        cr_assert(watched->kill_pending);
        cr_assert_eq(d->stats.decisions[POL_ACTION_KILL_PROCESS], 1);
}

Test(evaluate, a_notify_workload_is_told_not_killed) {
        workload_action("notify");
        near_the_limit_and_growing();
        cr_assert_null(in_flight());
        char *log = audit();
        assert_has(log, "\"event\":\"notify\"");
        assert_has(log, "\"workload\":\"batch\"");
        free(log);
        cr_assert_eq(d->stats.decisions[POL_ACTION_NOTIFY], 1);
        cr_assert_gt(watched->state.quiet_until_ms, now, "notified: the cooldown starts");
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
}

Test(evaluate, a_kill_cgroup_workload_is_killed_whole) {
        workload_action("kill-cgroup");
        near_the_limit_and_growing();
        cr_assert_null(in_flight(), "no single process");
        char path[4400];
        snprintf(path, sizeof(path), "cg/%s/cgroup.kill", rel);
        char *written = fx_read(dir, path, NULL);
        cr_assert_str_eq(written, "1");
        free(written);
        cr_assert_eq(d->stats.decisions[POL_ACTION_KILL_CGROUP], 1);
        cr_assert_gt(watched->state.quiet_until_ms, now, "killed whole: the cooldown starts");
}

Test(evaluate, a_dry_run_would_kill_and_starts_the_cooldown) {
        d->dry_run = true;
        near_the_limit_and_growing();
        cr_assert_null(in_flight());
        char *log = audit();
        assert_has(log, "\"event\":\"would-kill\"");
        free(log);
        cr_assert_gt(watched->state.quiet_until_ms, now + 100);
        cr_assert_eq(watched->state.failed_actions, 0);
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
}

Test(evaluate, a_kill_that_could_not_be_made_backs_off) {
        d->cgns.unknown = true; /* single processes cannot be placed */
        near_the_limit_and_growing();
        cr_assert_null(in_flight());
        cr_assert_eq(watched->state.failed_actions, 1);
        cr_assert_gt(watched->state.quiet_until_ms, now + 100);
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
}

/* The kernel's victim leaves cgroup.procs while its memory is still being
 * freed: the snapshot cannot see it, and memory.current still holds. The
 * kill it counted in memory.events (oom_kill) since the decision's sample
 * says to wait, not to take the next worst, a bystander. */
Test(evaluate, a_kernel_oom_kill_since_the_decision_means_waiting) {
        gd_evaluate(d, watched, now); /* the decision's sample: oom_kill 0 */
        cr_assert(watched->state.have_prev && watched->state.prev.events_ok);
        const gd_decision limit = {.action = POL_ACTION_KILL_PROCESS,
                                   .trigger = GD_TRIGGER_LIMIT, .value = 1.0, .threshold = 0.9};
        char path[4400];
        snprintf(path, sizeof(path), "cg/%s/memory.events", rel);
        fx_write(dir, path, "low 0\nhigh 0\nmax 35\noom 1\noom_kill 1\n");
        cr_assert_eq(kill_worst(watched, rel, &limit, now, now + 10), GD_KILL_WAITING);
        cr_assert_null(in_flight());
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
        /* Without a kill of the kernel's, the same decision kills. */
        fx_write(dir, path, "low 0\nhigh 0\nmax 35\noom 1\noom_kill 0\n");
        cr_assert_eq(kill_worst(watched, rel, &limit, now, now + 20), GD_KILL_STARTED);
        cr_assert_eq(in_flight()->cand.pid, children[0]);
}

/* ---- act alone: the kill path on its small environment, no daemon ---- */

static gd_kills kills;
static gd_kill_env env;

static void act_setup(void) {
        setup();
        memset(&kills, 0, sizeof(kills));
        /* Only what the kill path is given: no audit, no log, no hooks. */
        env = (gd_kill_env){
                .rootfd = d->host.rootfd,
                .procfd = d->host.procfd,
                .epfd = d->epfd,
                .page_size = d->host.page_size,
                .ns_root = "/t",
                .self_cgroup = "/",
                .policy = d->policy,
        };
}

static void act_teardown(void) {
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                if (kills.slot[i].used)
                        gd_kills_release(&env, &kills.slot[i]);
        teardown();
}

TestSuite(act_kill, .init = act_setup, .fini = act_teardown, .timeout = 60);

static gd_kill_result act_worst(uint64_t at, gd_kill_outcome *o) {
        gd_kill_request req = {.c = &c, .rel = rel, .dec = &pressure, .trigger_ms = at - 500,
                               .memory_before = 42, .owner = 0xabc};
        return gd_kill_worst(&kills, &env, &req, at, o);
}

Test(act_kill, the_outcome_names_the_victim_and_its_epoll_wake_up_finds_it) {
        gd_kill_outcome o;
        cr_assert_eq(act_worst(now, &o), GD_KILL_STARTED);
        cr_assert_eq(o.target, GD_TARGET_PROCESS);
        cr_assert_eq(o.why, GD_WHY_NONE);
        cr_assert_eq(o.victim.cand.pid, children[0]);
        cr_assert_eq(o.victim.owner, 0xabc);
        cr_assert_eq(o.victim.memory_before, 42);
        cr_assert_eq(o.victim.kill_ms - o.victim.trigger_ms, 500);
        cr_assert_not_null(o.in_flight);
        cr_assert(o.in_flight->used && o.in_flight->pidfd >= 0);
        cr_assert_eq(o.in_flight->deadline_ms, now + GD_KILL_DEADLINE_MS);
        cr_assert_not(c.kill_pending, "act writes no watch or decide state");
        /* The victim's exit wakes the epoll set with the kill's own tag. */
        struct epoll_event ev;
        cr_assert_eq(epoll_wait(env.epfd, &ev, 1, 10000), 1);
        cr_assert_eq(gd_kills_for_tag(&kills, ev.data.u64), o.in_flight);
        cr_assert(gd_kills_tick(&kills, &env, now + 10), "ended, kept until released");
        cr_assert_eq(o.in_flight->end, GD_END_EXITED);
        cr_assert_eq(o.in_flight->end_ms, now + 10);
        cr_assert_not(gd_kills_any(&kills));
        gd_kills_release(&env, o.in_flight);
        cr_assert_not(o.in_flight->used);
        cr_assert_null(gd_kills_for_tag(&kills, ev.data.u64), "a stale wake-up finds nothing");
        char *log = audit();
        cr_assert_str_eq(log, "", "act audits nothing");
        free(log);
        cr_assert_eq(died_of(children[0]), SIGKILL);
        children[0] = 0;
}

Test(act_kill, a_full_table_kills_nothing_and_says_so) {
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                kills.slot[i] = (gd_inflight){.used = true, .pidfd = -1};
        gd_kill_outcome o;
        cr_assert_eq(act_worst(now, &o), GD_KILL_FAILED);
        cr_assert_eq(o.why, GD_WHY_TABLE_FULL);
        cr_assert_eq(o.target, GD_TARGET_NONE);
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                kills.slot[i].used = false;
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
}

Test(act_kill, a_dry_run_names_the_victim_and_signals_nothing) {
        env.dry_run = true;
        gd_kill_outcome o;
        cr_assert_eq(act_worst(now, &o), GD_KILL_DONE);
        cr_assert(o.dry_run);
        cr_assert_eq(o.victim.cand.pid, children[0]);
        cr_assert_null(o.in_flight);
        cr_assert_not(gd_kills_any(&kills));
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
}

Test(act_kill, a_victim_that_moved_is_a_typed_failure) {
        list_children("t/elsewhere");
        gd_kill_request req = {.c = &c, .rel = "t/elsewhere", .dec = &pressure,
                               .trigger_ms = now, .owner = 1};
        gd_kill_outcome o;
        cr_assert_eq(gd_kill_worst(&kills, &env, &req, now, &o), GD_KILL_FAILED);
        cr_assert_eq(o.why, GD_WHY_SIGNAL);
        cr_assert_eq(o.err, -EXDEV);
        cr_assert_eq(o.target, GD_TARGET_PROCESS, "the victim it meant is named");
        cr_assert_not(gd_kills_any(&kills));
}

Test(act_kill, a_cgroup_that_cannot_be_read_is_a_typed_failure) {
        gd_kill_request req = {.c = &c, .rel = "t/none", .dec = &pressure, .owner = 1};
        gd_kill_outcome o;
        cr_assert_eq(gd_kill_worst(&kills, &env, &req, now, &o), GD_KILL_FAILED);
        cr_assert_eq(o.why, GD_WHY_SNAPSHOT);
        cr_assert(o.err < 0);
}

/* A victim that does not die (here: never signalled, so a live process)
 * is reported slow at 5 s and its kill ends as a timeout at 30 s, on the
 * fake clock. */
Test(act_kill, a_victim_still_there_after_the_deadline_is_a_timeout) {
        gd_inflight *p = &kills.slot[5];
        *p = (gd_inflight){.used = true, .kill_ms = now, .deadline_ms = now + GD_KILL_DEADLINE_MS};
        p->pidfd = (int)syscall(SYS_pidfd_open, children[1], 0);
        cr_assert_geq(p->pidfd, 0);
        cr_assert(gd_kills_tick(&kills, &env, now + GD_KILL_SLOW_MS - 1));
        cr_assert_not(p->news.slow);
        cr_assert(gd_kills_tick(&kills, &env, now + GD_KILL_SLOW_MS));
        cr_assert(p->news.slow, "slow, said once");
        p->news.slow = false;
        cr_assert(gd_kills_tick(&kills, &env, now + GD_KILL_DEADLINE_MS - 1));
        cr_assert_not(p->news.slow);
        cr_assert_eq(p->end, GD_END_NONE);
        cr_assert(gd_kills_any(&kills));
        cr_assert(gd_kills_tick(&kills, &env, now + GD_KILL_DEADLINE_MS));
        cr_assert_eq(p->end, GD_END_TIMEOUT);
        cr_assert_not(gd_kills_any(&kills));
        cr_assert(alive(children[1]), "a timeout signals nothing more");
}

/* The daemon closes a timed-out kill out: audited "timeout", and decide
 * backs off (the kill counts as failed). */
Test(kill_path, a_kill_that_times_out_is_audited_and_backs_off) {
        gd_inflight *p = &d->kills.slot[2];
        *p = (gd_inflight){.used = true, .kill_ms = now, .trigger_ms = now,
                           .deadline_ms = now + GD_KILL_DEADLINE_MS,
                           .owner = gd_tag(GD_TAG_EVENTS, 0, c.generation)};
        p->cand.pid = children[1];
        snprintf(p->cgroup, sizeof(p->cgroup), "%.4000s", rel);
        p->pidfd = (int)syscall(SYS_pidfd_open, children[1], 0);
        cr_assert_geq(p->pidfd, 0);
        c.kill_pending = true;
        cr_assert(gd_pending_tick(d, now + GD_KILL_DEADLINE_MS - 1));
        cr_assert(c.kill_pending);
        cr_assert_not(gd_pending_tick(d, now + GD_KILL_DEADLINE_MS));
        cr_assert_not(p->used);
        cr_assert_not(c.kill_pending);
        cr_assert_eq(c.state.failed_actions, 1, "a timeout is a failure: back off");
        char *log = audit();
        assert_has(log, "\"result\":\"timeout\"");
        assert_has(log, "\"trigger_to_death_ms\":null");
        free(log);
}

/* ---- gd_evaluate_host: the host squeezed, a cgroup blamed, its worst killed ---- */

/* The fixture /proc: meminfo as written, and each child's real /proc/PID
 * through a symlink (the snapshot and the victim check read them). */
static void host_meminfo(uint64_t total_kb, uint64_t available_kb) {
        char buf[256];
        snprintf(buf, sizeof(buf), "MemTotal: %llu kB\nMemFree: %llu kB\nMemAvailable: %llu kB\n"
                                   "SwapTotal: 0 kB\nSwapFree: 0 kB\n",
                 (unsigned long long)total_kb, (unsigned long long)available_kb,
                 (unsigned long long)available_kb);
        fx_write(dir, "proc/meminfo", buf);
}

static void host_setup(void) {
        eval_setup();
        fx_mkdir(dir, "proc");
        for (int i = 0; i < N_CHILDREN; i++) {
                char link[64], target[64];
                snprintf(link, sizeof(link), "proc/%d", (int)children[i]);
                snprintf(target, sizeof(target), "/proc/%d", (int)children[i]);
                char *path = fx_path(dir, link);
                cr_assert_eq(symlink(target, path), 0);
                free(path);
        }
        host_meminfo(1000000, 500000);
        char *proc = fx_path(dir, "proc");
        close(d->host.procfd);
        d->host.procfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        free(proc);
        cr_assert_geq(d->host.procfd, 0);
        /* The watched cgroup's usage, as the light check reads it. */
        gd_evaluate(d, watched, now);
        cr_assert_gt(watched->last_current, 0);
}

TestSuite(evaluate_host, .init = host_setup, .fini = eval_teardown, .timeout = 60);

Test(evaluate_host, a_squeezed_host_blames_the_cgroup_and_kills_its_worst) {
        gd_evaluate_host(d, now);
        cr_assert_not(d->host_hot, "half the memory used");
        cr_assert_null(in_flight());
        host_meminfo(1000000, 30000); /* 97% used, and growing */
        gd_evaluate_host(d, now + 100);
        cr_assert(d->host_hot);
        gd_inflight *p = in_flight();
        cr_assert_not_null(p, "the host near its limit and growing: a kill");
        cr_assert_eq(p->cand.pid, children[0], "the blamed cgroup's worst process");
        cr_assert_str_eq(p->cgroup, rel);
        cr_assert_eq(p->decision.trigger, GD_TRIGGER_HOST_PRESSURE);
        cr_assert_eq(strncmp(p->decision.reason, "host: ", 6), 0, "%s", p->decision.reason);
        cr_assert_eq(p->owner, GD_KILL_OWNER_HOST, "the host's episode learns its end");
        cr_assert_eq(d->stats.decisions[POL_ACTION_KILL_PROCESS], 1);
        /* While it is in flight, no second kill. */
        gd_evaluate_host(d, now + 200);
        size_t n = 0;
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                n += d->kills.slot[i].used;
        cr_assert_eq(n, 1);
        struct pollfd pfd = {.fd = p->pidfd, .events = POLLIN};
        cr_assert_eq(poll(&pfd, 1, 10000), 1, "the victim exits");
        cr_assert_not(gd_pending_tick(d, now + 300));
        cr_assert_gt(d->host_state.quiet_until_ms, now + 300, "the host's cooldown starts");
        char *log = audit();
        assert_has(log, "\"trigger\":\"host-pressure\"");
        assert_has(log, "\"result\":\"killed\"");
        free(log);
        cr_assert_eq(died_of(children[0]), SIGKILL);
        children[0] = 0;
        cr_assert(alive(children[1]) && alive(children[2]));
}

Test(evaluate_host, a_host_with_only_protected_cgroups_is_left_to_the_kernel) {
        /* guardian's own cgroup is the only one with memory in use. */
        snprintf(d->self_cgroup, sizeof(d->self_cgroup), "/%.4000s", rel);
        gd_evaluate_host(d, now);
        host_meminfo(1000000, 30000);
        gd_evaluate_host(d, now + 100);
        cr_assert_null(in_flight());
        cr_assert_eq(d->host_state.failed_actions, 1, "nothing to blame: back off");
        for (int i = 0; i < N_CHILDREN; i++)
                cr_assert(alive(children[i]));
}
