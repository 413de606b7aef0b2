/* memeater: a process of a chosen size for the VM tests.
 *
 *   memeater [--cgroup DIR] [--adj N] [--mb N] [--until-oom-kill] [--grow-ms N]
 *            [--grow-fast] [--leader-exit] [--ignore-sigterm]
 *
 * Joins DIR (writes its pid to DIR/cgroup.procs) and sets oom_score_adj
 * before it allocates anything, so it is born where and how the test wants
 * it. Then it touches --mb MiB of anonymous memory, prints "ready PID" and
 * sleeps until killed.
 *
 * --until-oom-kill: afterwards keep allocating 1 MiB at a time until
 * DIR/memory.events reports a new oom_kill, then sleep: one allocator
 * pushes the cgroup into exactly one memcg OOM without changing its limit.
 * --grow-ms N: afterwards allocate 1 MiB every N ms, for ever (a leak).
 * --grow-fast: afterwards allocate as fast as it can, for ever (a memset
 * loop with no pause: faster than anyone can sample).
 * --leader-exit: the memory is touched and held by a second thread, and
 * the main thread calls pthread_exit(): /proc/PID/status then shows no
 * memory, while the kernel still finds it through the other thread.
 * --ignore-sigterm: a SIGTERM only prints "sigterm" (a victim that does
 * not go in its grace period, so SIGKILL must follow). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024UL)

static void die(const char *what) {
        fprintf(stderr, "memeater: %s: %s\n", what, strerror(errno));
        exit(111);
}

static void write_file(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                die(path);
        if (write(fd, value, strlen(value)) < 0)
                die(path);
        close(fd);
}

static void touch_mib(size_t mib) {
        if (mib == 0)
                return;
        char *p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED)
                die("mmap");
        /* Non-zero writes: every page becomes a real, private anonymous page. */
        for (size_t off = 0; off < mib * MIB; off += 4096)
                p[off] = 1;
}

static long read_oom_kill(const char *events_path) {
        char buf[512];
        int fd = open(events_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                die(events_path);
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                die(events_path);
        buf[n] = '\0';
        char *p = strstr(buf, "\noom_kill ");
        return p ? strtol(p + 10, NULL, 10) : -1;
}

static void on_sigterm(int sig) {
        (void)sig;
        if (write(STDOUT_FILENO, "sigterm\n", 8) < 0) {
                /* nobody to tell */
        }
}

static size_t opt_mb;
static long opt_grow_ms;
static int opt_grow_fast;

static void *eat(void *arg) {
        (void)arg;
        touch_mib(opt_mb);
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        while (opt_grow_fast)
                touch_mib(1);
        while (opt_grow_ms > 0) {
                struct timespec ts = {opt_grow_ms / 1000, (opt_grow_ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
                touch_mib(1);
        }
        for (;;)
                pause();
        return NULL;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                {"cgroup", required_argument, NULL, 'c'},
                {"adj", required_argument, NULL, 'a'},
                {"mb", required_argument, NULL, 'm'},
                {"until-oom-kill", no_argument, NULL, 'u'},
                {"grow-ms", required_argument, NULL, 'g'},
                {"grow-fast", no_argument, NULL, 'f'},
                {"leader-exit", no_argument, NULL, 'l'},
                {"ignore-sigterm", no_argument, NULL, 't'},
                {0},
        };
        const char *cgroup = NULL, *adj = NULL;
        size_t mb = 0;
        long grow_ms = 0;
        int until_oom = 0, leader_exit = 0, opt;
        char path[4096], buf[32];

        while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
                switch (opt) {
                case 'c': cgroup = optarg; break;
                case 'a': adj = optarg; break;
                case 'm': mb = strtoul(optarg, NULL, 10); break;
                case 'u': until_oom = 1; break;
                case 'g': grow_ms = strtol(optarg, NULL, 10); break;
                case 'f': opt_grow_fast = 1; break;
                case 'l': leader_exit = 1; break;
                case 't': {
                        struct sigaction sa = {.sa_handler = on_sigterm, .sa_flags = SA_RESTART};
                        sigaction(SIGTERM, &sa, NULL);
                        break;
                }
                default: return 2;
                }
        }
        if (until_oom && !cgroup) {
                fprintf(stderr, "memeater: --until-oom-kill needs --cgroup\n");
                return 2;
        }
        if (cgroup) {
                snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
                snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
                write_file(path, buf);
        }
        if (adj)
                write_file("/proc/self/oom_score_adj", adj);

        if (leader_exit || opt_grow_fast) {
                pthread_t t;
                opt_mb = mb;
                opt_grow_ms = grow_ms;
                if (!leader_exit) {
                        eat(NULL);
                        return 0;
                }
                if (pthread_create(&t, NULL, eat, NULL) != 0)
                        die("pthread_create");
                pthread_exit(NULL);
        }
        touch_mib(mb);
        printf("ready %d\n", (int)getpid());
        fflush(stdout);

        if (until_oom) {
                snprintf(path, sizeof(path), "%s/memory.events", cgroup);
                long before = read_oom_kill(path);
                while (read_oom_kill(path) == before)
                        touch_mib(1);
                printf("oom_kill seen\n");
                fflush(stdout);
        }
        while (grow_ms > 0) {
                struct timespec ts = {grow_ms / 1000, (grow_ms % 1000) * 1000000L};
                nanosleep(&ts, NULL);
                touch_mib(1);
        }
        for (;;)
                pause();
}
