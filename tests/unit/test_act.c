/* act/act.c on this machine's real /proc and real children: the
 * identity and cgroup checks, the kill through the pidfd, the reaper. */
#include "act/act.h"

/* One test needs the reaper's queue with no thread draining it, which
 * nothing in act.h can arrange: for it, act.c is also compiled in here with
 * its public names renamed (the binary links the real act.o too). Every
 * other test calls the real act.o. Note: the Makefile's rule for this
 * object does not list act.c, so after editing act.c rebuild it
 * (touch this file) for that one test to see the change. */
int t_act_open_victim(int procfd, const gd_victim *v, int *ret_pidfd);
int t_act_signal(int pidfd, int sig);
int t_act_exited(int pidfd);
int t_reaper_start(gd_reaper **ret_reaper);
int t_reaper_submit(gd_reaper *reaper, int pidfd);
void t_reaper_counts(gd_reaper *reaper, uint64_t *ret_released, uint64_t *ret_failed);
void t_reaper_stop(gd_reaper *reaper);
#define gd_act_open_victim t_act_open_victim
#define gd_act_signal t_act_signal
#define gd_act_exited t_act_exited
#define gd_reaper_start t_reaper_start
#define gd_reaper_submit t_reaper_submit
#define gd_reaper_counts t_reaper_counts
#define gd_reaper_stop t_reaper_stop
#include "act/act.c"
#undef gd_act_open_victim
#undef gd_act_signal
#undef gd_act_exited
#undef gd_reaper_start
#undef gd_reaper_submit
#undef gd_reaper_counts
#undef gd_reaper_stop

#include "proc/proc.h"
#include "tests/lib/fixture.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- children that never outlive the test ---- */

#define MAX_CHILDREN 16

static pid_t children[MAX_CHILDREN];
static int procfd = -1;
/* A fake proc tree, removed by teardown even when an assertion fails. */
static char *tree;

static void forget_child(pid_t pid) {
        for (int i = 0; i < MAX_CHILDREN; i++)
                if (children[i] == pid)
                        children[i] = 0;
}

/* A child that sleeps until killed, or (exit_now) exits at once. It dies
 * with this test process too (PR_SET_PDEATHSIG): a child left behind
 * would hold the runner's output pipe open and hang it. */
static pid_t spawn(bool exit_now) {
        pid_t parent = getpid(), pid;
        int slot = -1;

        for (int i = 0; i < MAX_CHILDREN && slot < 0; i++)
                if (children[i] == 0)
                        slot = i;
        cr_assert_geq(slot, 0, "too many children");
        pid = fork();
        cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (exit_now || getppid() != parent)
                        _exit(0);
                for (;;)
                        pause();
        }
        children[slot] = pid;
        return pid;
}

/* Reap pid; returns its wait status. */
static int reap(pid_t pid) {
        int status = 0;

        cr_assert_eq(waitpid(pid, &status, 0), pid, "waitpid: %s", strerror(errno));
        forget_child(pid);
        return status;
}

/* Wait until pid has exited, without reaping it: a zombie. */
static void wait_zombie(pid_t pid) {
        siginfo_t si;

        cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
}

static bool alive(pid_t pid) {
        int status;
        return waitpid(pid, &status, WNOHANG) == 0;
}

static void setup(void) {
        procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(procfd, 0);
}

static void teardown(void) {
        for (int i = 0; i < MAX_CHILDREN; i++) {
                if (children[i] > 0) {
                        kill(children[i], SIGKILL);
                        waitpid(children[i], NULL, 0);
                        children[i] = 0;
                }
        }
        if (procfd >= 0)
                close(procfd);
        if (tree)
                fx_rmtree(tree);
        free(tree);
}

TestSuite(act, .init = setup, .fini = teardown);

/* The identity a scan would have recorded for pid. */
static gd_victim identify(pid_t pid) {
        gd_victim v = {.pid = pid};

        cr_assert_eq(proc_read_start_time(procfd, pid, &v.start_time), 0);
        cr_assert_eq(proc_read_cgroup(procfd, pid, v.cgroup, sizeof(v.cgroup)), 0);
        return v;
}

/* ---- open_victim on the real /proc ---- */

Test(act, open_victim_ok) {
        pid_t pid = spawn(false);
        gd_victim v = identify(pid);
        int pidfd = -1;

        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), 0);
        cr_assert_geq(pidfd, 0);
        cr_assert(fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
        cr_assert_eq(gd_act_exited(pidfd), 0);
        cr_assert_eq(gd_act_signal(pidfd, 0), 0);
        cr_assert(alive(pid));
        close(pidfd);
}

Test(act, open_victim_root_cgroup_holds_all) {
        pid_t pid = spawn(false);
        gd_victim v = identify(pid);
        int pidfd = -1;

        strcpy(v.cgroup, "/");
        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), 0);
        close(pidfd);
}

Test(act, open_victim_other_start_time_is_stale) {
        pid_t pid = spawn(false);
        gd_victim v = identify(pid);
        int pidfd = -1;

        v.start_time++;
        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), -ESTALE);
        cr_assert_eq(pidfd, -1, "ret_pidfd touched on failure");
        cr_assert(alive(pid));
}

Test(act, open_victim_other_cgroup_is_exdev) {
        pid_t pid = spawn(false);
        gd_victim v = identify(pid);
        int pidfd = -1;

        strcpy(v.cgroup, "/nonexistent");
        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), -EXDEV);
        cr_assert_eq(pidfd, -1);
        cr_assert(alive(pid));
}

Test(act, open_victim_zombie_is_gone) {
        pid_t pid = spawn(true);
        gd_victim v = {.pid = pid};
        int pidfd = -1;

        /* Its identity while it still runs is what a scan saw; after
         * fork the child has the same cgroup as we do. */
        cr_assert_eq(proc_read_cgroup(procfd, getpid(), v.cgroup, sizeof(v.cgroup)), 0);
        wait_zombie(pid);
        cr_assert_eq(proc_read_start_time(procfd, pid, &v.start_time), 0);
        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), -ESRCH);
        cr_assert_eq(pidfd, -1);
        reap(pid);
}

Test(act, open_victim_reaped_is_gone) {
        pid_t pid = spawn(false);
        gd_victim v = identify(pid);
        int pidfd = -1;

        kill(pid, SIGKILL);
        reap(pid);
        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), -ESRCH);
        cr_assert_eq(pidfd, -1);
}

Test(act, open_victim_bad_arguments) {
        gd_victim v = identify(getpid());
        int pidfd = -1;

        v.pid = 0;
        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), -EINVAL);
        v.pid = -1;
        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), -EINVAL);
        v = identify(getpid());
        v.cgroup[0] = '\0';
        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), -EINVAL);
        cr_assert_eq(gd_act_open_victim(procfd, NULL, &pidfd), -EINVAL);
        cr_assert_eq(pidfd, -1);
}

/* ---- the kill ---- */

Test(act, signal_kills_and_exited_follows) {
        pid_t pid = spawn(false);
        gd_victim v = identify(pid);
        struct pollfd p;
        int pidfd = -1, status;

        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), 0);
        cr_assert_eq(gd_act_exited(pidfd), 0);
        cr_assert_eq(gd_act_signal(pidfd, SIGKILL), 0);
        /* The pidfd turns readable when the child exits, before we reap it. */
        p = (struct pollfd){.fd = pidfd, .events = POLLIN};
        cr_assert_eq(poll(&p, 1, 5000), 1, "no exit within 5 s");
        cr_assert_eq(gd_act_exited(pidfd), 1);
        /* A zombie: it has already exited. */
        cr_assert_eq(gd_act_signal(pidfd, SIGKILL), -ESRCH);
        status = reap(pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
        cr_assert_eq(gd_act_exited(pidfd), 1);
        /* Reaped: the pidfd names no one any more, whoever gets the pid. */
        cr_assert_eq(gd_act_signal(pidfd, SIGKILL), -ESRCH);
        close(pidfd);
}

Test(act, exited_bad_fd) {
        int fd = dup(0);

        cr_assert_geq(fd, 0);
        close(fd);
        cr_assert_eq(gd_act_exited(fd), -EBADF);
        cr_assert_eq(gd_act_signal(fd, 0), -EBADF);
}

/* ---- the cgroup check, on a fake /proc: a real pid (pidfd_open needs
 * one) whose stat and cgroup files say what each case wants ---- */

struct cgroup_case {
        char proc_cgroup[64]; /* /proc/PID/cgroup's v2 path */
        char victim[64];      /* gd_victim.cgroup */
        int want;
        char ns_root[64];     /* gd_victim.ns_root; "": none */
};

ParameterizedTestParameters(act, cgroup_holds) {
        static struct cgroup_case cases[] = {
                {"/kube/pod1", "/kube/pod1", 0, ""},
                {"/kube/pod1", "/kube", 0, ""},
                {"/kube/pod1", "/kube/", 0, ""},
                {"/kube/pod1/ctr", "/kube/pod1", 0, ""},
                {"/kube/pod1", "/", 0, ""},
                {"/", "/", 0, ""},
                {"/kube/pod1", "/kube/pod", -EXDEV, ""},  /* prefix, not a parent */
                {"/kube/pod1", "/kube/pod1/ctr", -EXDEV, ""},
                {"/kube/pod1", "/other", -EXDEV, ""},
                {"/", "/kube", -EXDEV, ""},
                /* Read inside a private cgroup namespace rooted at the
                 * tree's /kube/pod1/gd (guardian's own cgroup). */
                {"/", "/kube/pod1/gd", 0, "/kube/pod1/gd"},
                {"/", "/kube/pod1", 0, "/kube/pod1/gd"},
                {"/", "/", 0, "/kube/pod1/gd"},
                {"/", "/kube/pod2", -EXDEV, "/kube/pod1/gd"},
                {"/../../pod2/ctr", "/kube/pod2", 0, "/kube/pod1/gd"},
                {"/../../pod2/ctr", "/kube/pod2/ctr", 0, "/kube/pod1/gd"},
                {"/../../pod2/ctr", "/kube", 0, "/kube/pod1/gd"},
                {"/../../pod2/ctr", "/pod2/ctr", -EXDEV, "/kube/pod1/gd"},
                {"/../../pod2/ctr", "/kube/pod1/gd", -EXDEV, "/kube/pod1/gd"},
                {"/../../..", "/", 0, "/kube/pod1/gd"},
                /* Above the tree's root: outside it, never a match. */
                {"/../../../..", "/", -EXDEV, "/kube/pod1/gd"},
                {"/../../../../kube", "/kube", -EXDEV, "/kube/pod1/gd"},
        };
        return cr_make_param_array(struct cgroup_case, cases, sizeof(cases) / sizeof(cases[0]));
}

static void fake_tree(pid_t pid, uint64_t start_time, const char *cgroup_path) {
        char rel[64], buf[512];

        tree = fx_tmpdir();

        snprintf(rel, sizeof(rel), "%d/stat", (int)pid);
        snprintf(buf, sizeof(buf),
                 "%d (sleeper) S 77 77 6160 0 -1 4194304 116 0 0 0 0 0 0 0 20 0 1 0 "
                 "%llu 3133440 365 18446744073709551615 94667445878784 0 0\n",
                 (int)pid, (unsigned long long)start_time);
        fx_write(tree, rel, buf);
        if (cgroup_path) {
                snprintf(rel, sizeof(rel), "%d/cgroup", (int)pid);
                snprintf(buf, sizeof(buf), "1:name=systemd:/x\n0::%s\n", cgroup_path);
                fx_write(tree, rel, buf);
        }
}

ParameterizedTest(struct cgroup_case *c, act, cgroup_holds) {
        pid_t pid = spawn(false);
        gd_victim v = {.pid = pid, .start_time = 4242};
        int fakefd, pidfd = -1;

        fake_tree(pid, 4242, c->proc_cgroup);
        fakefd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fakefd, 0);
        strcpy(v.cgroup, c->victim);
        v.ns_root = c->ns_root;
        cr_assert_eq(gd_act_open_victim(fakefd, &v, &pidfd), c->want, "%s (ns %s) in %s",
                     c->proc_cgroup, c->ns_root, c->victim);
        cr_assert_eq(pidfd >= 0, c->want == 0);
        if (pidfd >= 0)
                close(pidfd);
        close(fakefd);
}

/* The process vanished from (this) /proc between the pidfd and the read. */
Test(act, fake_proc_without_the_pid_is_gone) {
        pid_t pid = spawn(false);
        int fakefd, pidfd = -1;
        gd_victim v = {.pid = pid, .start_time = 1, .cgroup = "/"};

        tree = fx_tmpdir();
        fakefd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cr_assert_geq(fakefd, 0);
        cr_assert_eq(gd_act_open_victim(fakefd, &v, &pidfd), -ESRCH);
        close(fakefd);
}

/* ---- the reaper ---- */

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until the reaper has handled n releases (5 s at most). */
static void wait_handled(gd_reaper *r, uint64_t n, uint64_t *ret_released, uint64_t *ret_failed) {
        uint64_t deadline = now_ms() + 5000;

        for (;;) {
                gd_reaper_counts(r, ret_released, ret_failed);
                if (*ret_released + *ret_failed >= n || now_ms() > deadline)
                        return;
                usleep(1000);
        }
}

static int open_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = 0;

        cr_assert_not_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

Test(act, reaper_releases_killed_children) {
        gd_reaper *r = NULL;
        uint64_t released, failed;
        pid_t pids[3];
        int pidfds[3];

        cr_assert_eq(gd_reaper_start(&r), 0);
        for (int i = 0; i < 3; i++) {
                gd_victim v;
                pids[i] = spawn(false);
                v = identify(pids[i]);
                cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfds[i]), 0);
                cr_assert_eq(gd_act_signal(pidfds[i], SIGKILL), 0);
                cr_assert_eq(gd_reaper_submit(r, pidfds[i]), 0);
                /* The reaper has its own copy: ours may go at once. */
                close(pidfds[i]);
        }
        wait_handled(r, 3, &released, &failed);
        /* Released, or already gone by itself (tiny children exit fast):
         * each submission counted exactly once. */
        cr_assert_eq(released + failed, 3, "released %llu failed %llu",
                     (unsigned long long)released, (unsigned long long)failed);
        gd_reaper_stop(r);
        for (int i = 0; i < 3; i++) {
                int status = reap(pids[i]);
                cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        }
}

/* process_mrelease refuses a process nobody killed (EINVAL): counted as a
 * failure, and the process lives on. */
Test(act, reaper_leaves_live_process_alone) {
        gd_reaper *r = NULL;
        uint64_t released, failed;
        pid_t pid = spawn(false);
        gd_victim v = identify(pid);
        int pidfd;

        cr_assert_eq(gd_reaper_start(&r), 0);
        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), 0);
        cr_assert_eq(gd_reaper_submit(r, pidfd), 0);
        wait_handled(r, 1, &released, &failed);
        cr_assert_eq(released, 0);
        cr_assert_eq(failed, 1);
        cr_assert(alive(pid));
        cr_assert_eq(gd_act_exited(pidfd), 0);
        close(pidfd);
        gd_reaper_stop(r);
}

Test(act, reaper_bad_arguments) {
        gd_reaper *r = NULL;
        int fd = dup(0);

        close(fd);
        cr_assert_eq(gd_reaper_start(&r), 0);
        cr_assert_eq(gd_reaper_submit(r, fd), -EBADF);
        cr_assert_eq(gd_reaper_submit(NULL, 0), -EINVAL);
        cr_assert_eq(gd_reaper_start(NULL), -EINVAL);
        gd_reaper_stop(r);
        gd_reaper_stop(NULL);
        uint64_t a = 7, b = 7;
        gd_reaper_counts(NULL, &a, &b);
        cr_assert(a == 0 && b == 0);
}

/* Stop finishes the queue: every dup'ed pidfd is released and closed. */
Test(act, reaper_stop_drains_queue) {
        gd_reaper *r = NULL;
        pid_t pid = spawn(false);
        gd_victim v = identify(pid);
        int pidfd, before;

        cr_assert_eq(gd_act_open_victim(procfd, &v, &pidfd), 0);
        before = open_fds();
        cr_assert_eq(gd_reaper_start(&r), 0);
        for (int i = 0; i < 20; i++) {
                int s = gd_reaper_submit(r, pidfd);
                cr_assert(s == 0 || s == -EAGAIN);
        }
        gd_reaper_stop(r);
        cr_assert_eq(open_fds(), before, "pidfd copies left open");
        cr_assert(alive(pid));
        close(pidfd);
}

/* A full queue refuses at once and keeps nothing. No thread runs here,
 * so the queue fills deterministically. */
Test(act, reaper_full_queue_is_eagain) {
        gd_reaper r;
        int pidfd = pidfd_open(getpid(), 0), before;

        cr_assert_geq(pidfd, 0);
        cr_assert_eq(reaper_init(&r), 0);
        for (int i = 0; i < REAPER_QUEUE; i++)
                cr_assert_eq(t_reaper_submit(&r, pidfd), 0, "submit %d", i);
        before = open_fds();
        cr_assert_eq(t_reaper_submit(&r, pidfd), -EAGAIN);
        cr_assert_eq(open_fds(), before, "the refused copy must be closed");
        uint64_t released, failed;
        t_reaper_counts(&r, &released, &failed);
        cr_assert(released == 0 && failed == 0);
        reaper_destroy(&r); /* closes the 64 queued copies */
        cr_assert_eq(open_fds(), before - REAPER_QUEUE);
        close(pidfd);
}

/* The tids of this process's threads, up to max; returns how many. */
static int list_tasks(pid_t *tids, int max) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        int n = 0;

        cr_assert_not_null(d);
        while ((e = readdir(d)) && n < max)
                if (e->d_name[0] != '.')
                        tids[n++] = atoi(e->d_name);
        closedir(d);
        return n;
}

static unsigned long long task_sigblk(pid_t tid) {
        char path[64], line[256];
        unsigned long long blocked = 0;
        bool found = false;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
        f = fopen(path, "re");
        cr_assert_not_null(f);
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "SigBlk: %llx", &blocked) == 1)
                        found = true;
        fclose(f);
        cr_assert(found);
        return blocked;
}

/* The caller's signal mask is as it was; the reaper thread blocks every
 * signal, so the process's signals reach the main loop (its signalfd). */
Test(act, reaper_thread_blocks_signals) {
        static const int want[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2, SIGQUIT, SIGPIPE};
        pid_t old_tids[64], tids[64], reaper_tid = 0;
        int n_old, n, pidfd = pidfd_open(getpid(), 0);
        uint64_t released, failed;
        sigset_t before, after;
        gd_reaper *r = NULL;

        cr_assert_geq(pidfd, 0);
        sigemptyset(&before);
        sigaddset(&before, SIGUSR2);
        cr_assert_eq(pthread_sigmask(SIG_SETMASK, &before, NULL), 0);
        n_old = list_tasks(old_tids, 64);
        cr_assert_eq(gd_reaper_start(&r), 0);
        cr_assert_eq(pthread_sigmask(SIG_SETMASK, NULL, &after), 0);
        for (int s = 1; s < NSIG; s++)
                cr_assert_eq(sigismember(&after, s) == 1, s == SIGUSR2, "signal %d", s);

        /* Once it has handled a release the thread surely runs its own
         * mask (pthread_create starts it with all blocked, then sets the
         * inherited one). A live process: EINVAL, harmless. */
        cr_assert_eq(gd_reaper_submit(r, pidfd), 0);
        wait_handled(r, 1, &released, &failed);
        cr_assert_eq(released + failed, 1);
        n = list_tasks(tids, 64);
        for (int i = 0; i < n; i++) {
                bool old = false;
                for (int j = 0; j < n_old; j++)
                        old |= tids[i] == old_tids[j];
                if (!old) {
                        cr_assert_eq(reaper_tid, 0, "more than one new thread");
                        reaper_tid = tids[i];
                }
        }
        cr_assert_neq(reaper_tid, 0, "no reaper thread found");
        unsigned long long blocked = task_sigblk(reaper_tid);
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                cr_assert(blocked & (1ULL << (want[i] - 1)), "signal %d not blocked: SigBlk %llx",
                          want[i], blocked);
        gd_reaper_stop(r);
        close(pidfd);
}
