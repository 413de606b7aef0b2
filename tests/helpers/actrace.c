/* actrace: act/act.c against the races it exists for, on a real
 * kernel (inside the VM, as root; tests/vm/test_20_act.sh runs it).
 *
 *  1. pid reuse: the scored process died and its pid went to another one
 *     (forced with /proc/sys/kernel/ns_last_pid): open_victim says -ESTALE
 *     and the newcomer lives; a pidfd opened before the reuse cannot reach
 *     the newcomer either (-ESRCH).
 *  2. exited before the kill: -ESRCH, as a zombie and once reaped.
 *  3. moved to another cgroup after scoring: -EXDEV, and it lives.
 *  4. the real kill: 200 MiB in a cgroup, SIGKILL through the pidfd,
 *     process_mrelease on the reaper thread: memory.current drops and the
 *     reaper counts one release.
 *
 * One "ok   act: ..." or "FAIL act: ..." line per check, then
 * "act: N passed, M failed"; exits non-zero on any failure.
 *
 * The Makefile builds each helper from its one .c file, so the code under
 * test is included here rather than linked. */
#include "act/act.c"
#include "cgroup/cgns.c"
#include "cgroup/parse.c"
#include "proc/parse.c"
#include "proc/proc.c"
#include "util/oomadj.c"
#include "util/text.c"

#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define CGROOT "/sys/fs/cgroup"
#define MIB (1024UL * 1024UL)

static int passed, failed;
static int procfd = -1;

__attribute__((format(printf, 2, 3)))
static bool check(bool ok, const char *fmt, ...) {
        va_list ap;

        printf(ok ? "ok   act: " : "FAIL act: ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        if (ok)
                passed++;
        else
                failed++;
        return ok;
}

__attribute__((format(printf, 1, 2)))
static void info(const char *fmt, ...) {
        va_list ap;

        printf("     act: ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
}

static uint64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int write_file(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) < 0)
                r = -errno;
        close(fd);
        return r;
}

static int read_u64(const char *path, uint64_t *ret) {
        char buf[64];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = '\0';
        *ret = strtoull(buf, NULL, 10);
        return 0;
}

/* ---- children ---- */

#define MAX_CHILDREN 32
static pid_t children[MAX_CHILDREN];

static void track(pid_t pid) {
        for (int i = 0; i < MAX_CHILDREN; i++)
                if (children[i] == 0) {
                        children[i] = pid;
                        return;
                }
}

static int reap(pid_t pid) {
        int status = 0;

        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        for (int i = 0; i < MAX_CHILDREN; i++)
                if (children[i] == pid)
                        children[i] = 0;
        return status;
}

static void kill_all(void) {
        for (int i = 0; i < MAX_CHILDREN; i++)
                if (children[i] > 0) {
                        kill(children[i], SIGKILL);
                        reap(children[i]);
                }
}

/* Not exited (a zombie counts as exited). Does not reap. */
static bool alive(pid_t pid) {
        siginfo_t si = {0};

        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
                return false;
        return si.si_pid == 0;
}

/* Run on this CPU only (-1: anywhere). */
static int pin(int cpu) {
        cpu_set_t set;

        if (cpu < 0)
                return 0;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

/* A child that joins cgdir (if any), runs on cpu (if >= 0), touches mib
 * MiB and sleeps until killed; returns once it is ready, or -1. */
static pid_t spawn_on(const char *cgdir, size_t mib, int cpu) {
        pid_t parent = getpid(), pid;
        int p[2];
        char c;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return -1;
        }
        if (pid == 0) {
                char path[PATH_MAX];

                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent || pin(cpu) < 0)
                        _exit(1);
                if (cgdir) {
                        snprintf(path, sizeof(path), "%s/cgroup.procs", cgdir);
                        if (write_file(path, "0") < 0)
                                _exit(2);
                }
                if (mib > 0) {
                        char *m = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        if (m == MAP_FAILED)
                                _exit(3);
                        for (size_t off = 0; off < mib * MIB; off += 4096)
                                m[off] = 1;
                }
                if (write(p[1], "r", 1) != 1)
                        _exit(4);
                for (;;)
                        pause();
        }
        close(p[1]);
        track(pid);
        struct pollfd pf = {.fd = p[0], .events = POLLIN};
        if (poll(&pf, 1, 60000) != 1 || read(p[0], &c, 1) != 1) {
                close(p[0]);
                kill(pid, SIGKILL);
                reap(pid);
                return -1;
        }
        close(p[0]);
        return pid;
}

static pid_t spawn(const char *cgdir, size_t mib) {
        return spawn_on(cgdir, mib, -1);
}

/* Undo pin(): any CPU again. */
static void pin_all(void) {
        cpu_set_t set;

        CPU_ZERO(&set);
        for (int i = 0; i < CPU_SETSIZE; i++)
                CPU_SET(i, &set);
        sched_setaffinity(0, sizeof(set), &set);
}

/* A SCHED_FIFO busy loop on cpu: nothing of normal priority runs there
 * while it spins. It gives up by itself after 3 s, whatever happens here. */
static pid_t spawn_hog(int cpu) {
        struct sched_param sp = {.sched_priority = 1};
        pid_t parent = getpid(), pid;
        int p[2];
        char c;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent || pin(cpu) < 0 ||
                    sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
                        _exit(1);
                uint64_t end = now_ms() + 3000;
                if (write(p[1], "r", 1) != 1)
                        _exit(4);
                while (now_ms() < end)
                        ;
                _exit(0);
        }
        close(p[1]);
        if (pid < 0) {
                close(p[0]);
                return -1;
        }
        track(pid);
        if (read(p[0], &c, 1) != 1) {
                close(p[0]);
                kill(pid, SIGKILL);
                reap(pid);
                return -1;
        }
        close(p[0]);
        return pid;
}

/* A child that gets exactly pid `want` (free now): ns_last_pid names the
 * last pid handed out, so the next fork gets the one after it, unless
 * someone else forks first: a few tries. */
static pid_t spawn_with_pid(pid_t want) {
        char buf[32];

        for (int i = 0; i < 10; i++) {
                snprintf(buf, sizeof(buf), "%d", (int)want - 1);
                if (write_file("/proc/sys/kernel/ns_last_pid", buf) < 0)
                        return -1;
                pid_t pid = spawn(NULL, 0);
                if (pid == want || pid < 0)
                        return pid;
                kill(pid, SIGKILL);
                reap(pid);
        }
        return -1;
}

static int identify(pid_t pid, gd_victim *v) {
        int r;

        memset(v, 0, sizeof(*v));
        v->pid = pid;
        r = proc_read_start_time(procfd, pid, &v->start_time);
        if (r == 0)
                r = proc_read_cgroup(procfd, pid, v->cgroup, sizeof(v->cgroup));
        return r;
}

/* What the daemon does: only a 0 from open_victim leads to a signal. */
static int daemon_kill(const gd_victim *v) {
        int pidfd = -1, r = gd_act_open_victim(procfd, v, &pidfd);

        if (r == 0) {
                gd_act_signal(pidfd, SIGKILL);
                close(pidfd);
        }
        return r;
}

static void remove_cgroup(const char *dir) {
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/cgroup.kill", dir);
        write_file(path, "1");
        for (int i = 0; i < 100 && rmdir(dir) < 0 && errno != ENOENT; i++)
                sleep_ms(50);
}

/* ---- the cases ---- */

static void test_pid_reuse(void) {
        gd_victim va;
        pid_t a = spawn(NULL, 0), b;
        int pidfd = -1, r;

        if (!check(a > 0 && identify(a, &va) == 0, "pid reuse: scored child A started"))
                return;
        /* The start time counts clock ticks (10 ms): let A live a few, so
         * B, born later, cannot share A's. */
        sleep_ms(50);
        kill(a, SIGKILL);
        reap(a);
        b = spawn_with_pid(a);
        if (!check(b == a, "pid reuse: new child B got A's pid %d (got %d)", (int)a, (int)b))
                return;
        uint64_t st_b = 0;
        proc_read_start_time(procfd, b, &st_b);
        info("A start time %llu, B start time %llu", (unsigned long long)va.start_time,
             (unsigned long long)st_b);
        r = daemon_kill(&va);
        check(r == -ESTALE, "pid reuse: open_victim with A's identity gives -ESTALE (%d)", r);
        sleep_ms(100);
        check(alive(b), "pid reuse: B was not signalled");
        kill(b, SIGKILL);
        reap(b);

        /* The pidfd taken while A lived pins A, not the number. */
        a = spawn(NULL, 0);
        if (!check(a > 0 && identify(a, &va) == 0, "pidfd pin: child A started"))
                return;
        r = gd_act_open_victim(procfd, &va, &pidfd);
        if (!check(r == 0, "pidfd pin: open_victim on live A (%d)", r))
                return;
        kill(a, SIGKILL);
        reap(a);
        b = spawn_with_pid(a);
        if (check(b == a, "pidfd pin: B got A's pid %d (got %d)", (int)a, (int)b)) {
                r = gd_act_signal(pidfd, SIGKILL);
                check(r == -ESRCH, "pidfd pin: signal through A's pidfd gives -ESRCH (%d)", r);
                check(gd_act_exited(pidfd) == 1, "pidfd pin: A's pidfd reports exited");
                sleep_ms(100);
                check(alive(b), "pidfd pin: B was not signalled");
                kill(b, SIGKILL);
                reap(b);
        }
        close(pidfd);
}

static void test_exited(void) {
        gd_victim v;
        siginfo_t si;
        pid_t c = spawn(NULL, 0);
        int r;

        if (!check(c > 0 && identify(c, &v) == 0, "exited: child started"))
                return;
        /* It exits on its own between scoring and the kill. */
        kill(c, SIGTERM);
        waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT);
        r = daemon_kill(&v);
        check(r == -ESRCH, "exited: zombie gives -ESRCH (%d)", r);
        int status = reap(c);
        check(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
              "exited: it died of its own SIGTERM, nothing else (status %#x)", status);
        r = daemon_kill(&v);
        check(r == -ESRCH, "exited: reaped gives -ESRCH (%d)", r);
}

static void test_moved(void) {
        const char *a = CGROOT "/actrace-a", *b = CGROOT "/actrace-b";
        char path[PATH_MAX], pidbuf[32];
        gd_victim v;
        pid_t c;
        int r, pidfd = -1;

        remove_cgroup(a);
        remove_cgroup(b);
        if (!check(mkdir(a, 0755) == 0 && mkdir(b, 0755) == 0, "moved: created cgroups a and b"))
                goto out;
        c = spawn(a, 0);
        if (!check(c > 0 && identify(c, &v) == 0 && strcmp(v.cgroup, "/actrace-a") == 0,
                   "moved: child scored in /actrace-a (%s)", c > 0 ? v.cgroup : "-"))
                goto out;
        snprintf(path, sizeof(path), "%s/cgroup.procs", b);
        snprintf(pidbuf, sizeof(pidbuf), "%d", (int)c);
        if (!check(write_file(path, pidbuf) == 0, "moved: child moved to /actrace-b"))
                goto out;
        r = daemon_kill(&v);
        check(r == -EXDEV, "moved: open_victim for /actrace-a gives -EXDEV (%d)", r);
        sleep_ms(100);
        check(alive(c), "moved: child was not signalled");
        strcpy(v.cgroup, "/actrace-b");
        r = gd_act_open_victim(procfd, &v, &pidfd);
        check(r == 0, "moved: open_victim for /actrace-b gives 0 (%d)", r);
        if (pidfd >= 0)
                close(pidfd);
out:
        kill_all();
        remove_cgroup(a);
        remove_cgroup(b);
}

#define RT_RUNTIME "/proc/sys/kernel/sched_rt_runtime_us"

/* The real kill: 200 MiB in a cgroup, SIGKILL through the pidfd, the
 * pidfd to the reaper.
 *
 * process_mrelease() finds nothing to do once the victim has run its own
 * exit as far as exit_mm(), which detaches the mm before tearing it down
 * (-ESRCH). On an idle CPU a killed sleeper gets there in microseconds, so
 * the early release only matters for a victim that cannot run: one
 * starved of CPU (or stuck in the kernel) while memory is short, the case
 * guardian kills in. starve: the victim's CPU is taken by a SCHED_FIFO
 * hog (RT throttling off) until the release is seen, so the reaper must
 * give the memory back while the victim still exists. Otherwise the victim
 * exits freely and either way the reaper must count it once. */
static void test_real_kill(bool starve) {
        const char *k = CGROOT "/actrace-k", *what = starve ? "kill (starved)" : "kill (idle)";
        char path[PATH_MAX], rt_old[32] = "";
        uint64_t before = 0, cur = 0, released = 0, rel_failed = 0, t0, t_mem = 0, t_exit = 0;
        gd_reaper *reaper = NULL;
        gd_victim v;
        pid_t c, hog = -1;
        int r, pidfd = -1, exited_at_release = -1;

        remove_cgroup(k);
        if (!check(mkdir(k, 0755) == 0, "%s: created cgroup", what))
                return;
        snprintf(path, sizeof(path), "%s/memory.current", k);
        /* Us and the reaper thread (it inherits this) on CPU 0, the victim
         * on CPU 1. */
        if (starve && !check(sysconf(_SC_NPROCESSORS_ONLN) >= 2 && pin(0) == 0,
                             "%s: two CPUs to work with", what))
                goto out;
        c = spawn_on(k, 200, starve ? 1 : -1);
        if (!check(c > 0 && identify(c, &v) == 0, "%s: child with 200 MiB started", what))
                goto out;
        read_u64(path, &before);
        if (!check(before >= 200 * MIB, "%s: memory.current %llu MiB >= 200 MiB", what,
                   (unsigned long long)(before / MIB)))
                goto out;
        r = gd_reaper_start(&reaper);
        if (!check(r == 0, "%s: reaper started (%d)", what, r))
                goto out;
        r = gd_act_open_victim(procfd, &v, &pidfd);
        if (!check(r == 0, "%s: open_victim gives 0 (%d)", what, r))
                goto out;
        if (starve) {
                int fd = open(RT_RUNTIME, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, rt_old, sizeof(rt_old) - 1) : -1;
                if (fd >= 0)
                        close(fd);
                rt_old[n > 0 ? n : 0] = '\0';
                if (!check(n > 0 && write_file(RT_RUNTIME, "-1") == 0, "%s: RT throttling off", what))
                        goto out;
                hog = spawn_hog(1);
                if (!check(hog > 0, "%s: SCHED_FIFO hog on the victim's CPU", what))
                        goto out;
        }
        t0 = now_ms();
        r = gd_act_signal(pidfd, SIGKILL);
        check(r == 0, "%s: SIGKILL through the pidfd (%d)", what, r);
        r = gd_reaper_submit(reaper, pidfd);
        check(r == 0, "%s: submitted to the reaper (%d)", what, r);

        /* Both times from the same start: under TCG ratios mean something,
         * absolute times do not. */
        while (now_ms() - t0 < 2000) {
                if (!t_mem && read_u64(path, &cur) == 0 && cur < before / 4)
                        t_mem = now_ms();
                gd_reaper_counts(reaper, &released, &rel_failed);
                if (exited_at_release < 0 && released + rel_failed >= 1)
                        exited_at_release = gd_act_exited(pidfd);
                if (!t_exit && gd_act_exited(pidfd) == 1)
                        t_exit = now_ms();
                if (exited_at_release >= 0 && t_mem && (starve || t_exit))
                        break;
                sleep_ms(1);
        }
        if (starve) {
                check(t_mem != 0 && !t_exit,
                      "%s: memory.current fell to %llu MiB before the victim exited", what,
                      (unsigned long long)(cur / MIB));
                check(exited_at_release == 0, "%s: the victim had not exited when released (%d)",
                      what, exited_at_release);
                kill(hog, SIGKILL);
                reap(hog);
                hog = -1;
                write_file(RT_RUNTIME, rt_old);
                for (uint64_t t1 = now_ms(); !t_exit && now_ms() - t1 < 5000; sleep_ms(1))
                        if (gd_act_exited(pidfd) == 1)
                                t_exit = now_ms();
        } else {
                check(t_mem != 0, "%s: memory.current fell to %llu MiB within 2 s", what,
                      (unsigned long long)(cur / MIB));
        }
        check(t_exit != 0, "%s: the pidfd reported the exit", what);
        info("%s: memory back after %llu ms, exit seen after %llu ms", what,
             (unsigned long long)(t_mem ? t_mem - t0 : 0),
             (unsigned long long)(t_exit ? t_exit - t0 : 0));
        gd_reaper_counts(reaper, &released, &rel_failed);
        if (starve)
                check(released == 1 && rel_failed == 0,
                      "%s: the reaper released it (released %llu, failed %llu)", what,
                      (unsigned long long)released, (unsigned long long)rel_failed);
        else
                check(released + rel_failed == 1,
                      "%s: the reaper counted it once (released %llu, failed %llu: %s)", what,
                      (unsigned long long)released, (unsigned long long)rel_failed,
                      released ? "released" : "it had freed its memory first");
        int status = reap(c);
        check(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "%s: child died of SIGKILL (status %#x)", what, status);
out:
        if (hog > 0) {
                kill(hog, SIGKILL);
                reap(hog);
        }
        if (rt_old[0])
                write_file(RT_RUNTIME, rt_old);
        if (pidfd >= 0)
                close(pidfd);
        gd_reaper_stop(reaper);
        kill_all();
        remove_cgroup(k);
        pin_all();
}

int main(void) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!check(procfd >= 0, "open /proc"))
                goto out;
        if (!check(access("/proc/sys/kernel/ns_last_pid", W_OK) == 0,
                   "/proc/sys/kernel/ns_last_pid is writable (root, CONFIG_CHECKPOINT_RESTORE)"))
                goto out;
        test_pid_reuse();
        test_exited();
        test_moved();
        test_real_kill(false);
        test_real_kill(true);
out:
        kill_all();
        printf("act: %d passed, %d failed\n", passed, failed);
        return failed == 0 && passed > 0 ? 0 : 1;
}
