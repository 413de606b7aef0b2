/* cpu_bench: guardian's steady-state paths on fixed fixture trees, one
 * function per phase, for tests/bench/cpu.sh to count under callgrind
 * (--zero-before / --dump-after each bench_* function: one dump per phase,
 * all in one run). Each phase has a floor beside it: a plain loop that
 * makes the same reads (pread, or open/read/close) and parses nothing,
 * so the ratio says how far guardian is from the cost of the I/O alone.
 *
 *   cpu_bench [--cgroups N] [--procs P] [--policy FILE] [--only PHASE] [--reps K]
 *
 * The trees: N cgroups under a tmp dir, each with the files guardian
 * keeps open, and P processes under a fixture proc root, copies of this
 * process's own stat, status, cmdline and oom_score_adj (the pid changed)
 * and an exe symlink. Also, unless --only, one pass over the host's real
 * /proc (its process count varies: per process only).
 *
 * The /metrics render of the control socket over the same N cgroups, twice:
 * render_uncached renders on every request (a request per period),
 * render_cached serves requests within one period from the cache.
 *
 * watch_add builds a second watch set over the same N cgroups and finds
 * each of them by path and by wd; its floor makes the same opens, reads
 * and directory watches in a plain loop.
 *
 * Prints one line per phase: "phase NAME items N" (what the counts are
 * divided by), and for the render phases "wall NAME ns_per_item N" (only
 * meaningful natively, not under callgrind: cpu.sh runs --only render for
 * it). Not a test: exits 1 only when it cannot set up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proc/proc.h"
#include "daemon/control.h"
#include "daemon/state.h"
#include "act/enforce.h"
#include "cgroup/host.h"
#include "watch/watch.h"
#include "policy/match.h"
#include "policy/policy.h"

/* Static, but kept out of line: callgrind finds each phase by its symbol. */
#define NOINLINE static __attribute__((noipa))
/* Fixture pids start here: far from this process's own and from pid 1/2,
 * which the scorer treats specially. */
#define PID_BASE 100000

static char tmpdir[] = "/tmp/guardian-cpu-bench.XXXXXX";

static void die(const char *what) {
        perror(what);
        exit(1);
}

static void write_file(int dirfd, const char *name, const char *buf, size_t len) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
                die(name);
        close(fd);
}

static void write_str(int dirfd, const char *name, const char *s) {
        write_file(dirfd, name, s, strlen(s));
}

/* /proc/self/NAME whole, malloc'd. */
static char *slurp_self(const char *name, size_t *ret_len) {
        char path[64], *buf = malloc(65536);
        snprintf(path, sizeof(path), "/proc/self/%s", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 || !buf ? -1 : read(fd, buf, 65536);
        if (n < 0)
                die(path);
        close(fd);
        *ret_len = (size_t)n;
        return buf;
}

/* The cgroup tree: cg/idle-NNNN with what a cgroup with the memory
 * controller shows; the first P cgroups hold one fixture process each. */
static void make_cgroups(int n, int nprocs) {
        static const char events[] = "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n";
        static const char pressure[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=1234\n"
                                       "full avg10=0.00 avg60=0.00 avg300=0.00 total=567\n";
        static const char stat[] = "anon 1048576\nfile 2097152\nshmem 0\n";
        int root;

        if (mkdirat(AT_FDCWD, "cg", 0755) < 0 || (root = open("cg", O_RDONLY | O_DIRECTORY)) < 0)
                die("cg");
        write_str(root, "cgroup.controllers", "cpu io memory pids\n");
        write_str(root, "cgroup.procs", "");
        for (int i = 0; i < n; i++) {
                char name[32], procs[32];
                snprintf(name, sizeof(name), "idle-%04d", i);
                if (mkdirat(root, name, 0755) < 0)
                        die(name);
                int fd = openat(root, name, O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        die(name);
                write_str(fd, "memory.current", "3145728\n");
                write_str(fd, "memory.max", "max\n");
                write_str(fd, "memory.high", "max\n");
                write_str(fd, "memory.min", "0\n");
                write_str(fd, "memory.low", "0\n");
                write_str(fd, "memory.events", events);
                write_str(fd, "memory.pressure", pressure);
                write_str(fd, "memory.stat", stat);
                write_str(fd, "memory.oom.group", "0\n");
                snprintf(procs, sizeof(procs), "%d\n", PID_BASE + i);
                write_str(fd, "cgroup.procs", i < nprocs ? procs : "");
                close(fd);
        }
        close(root);
}

/* The proc tree: proc/PID/{stat,status,cmdline,oom_score_adj,exe}. */
static void make_procs(int nprocs) {
        size_t stat_len, status_len, cmd_len;
        char *stat = slurp_self("stat", &stat_len);
        char *status = slurp_self("status", &status_len);
        char *cmdline = slurp_self("cmdline", &cmd_len);
        const char *after_pid = memchr(stat, ' ', stat_len);
        int root;

        if (!after_pid || mkdirat(AT_FDCWD, "proc", 0755) < 0 ||
            (root = open("proc", O_RDONLY | O_DIRECTORY)) < 0)
                die("proc");
        for (int i = 0; i < nprocs; i++) {
                char name[32], buf[4096];
                snprintf(name, sizeof(name), "%d", PID_BASE + i);
                if (mkdirat(root, name, 0755) < 0)
                        die(name);
                int fd = openat(root, name, O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        die(name);
                int n = snprintf(buf, sizeof(buf), "%d%.*s", PID_BASE + i,
                                 (int)(stat_len - (size_t)(after_pid - stat)), after_pid);
                write_file(fd, "stat", buf, (size_t)n);
                write_file(fd, "status", status, status_len);
                write_file(fd, "cmdline", cmdline, cmd_len);
                write_str(fd, "oom_score_adj", "0\n");
                if (symlinkat("/usr/sbin/guardian", fd, "exe") < 0)
                        die("exe");
                close(fd);
        }
        close(root);
        free(stat);
        free(status);
        free(cmdline);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* ---- the phases: each one pass, counted alone by callgrind ---- */

NOINLINE void bench_floor_light(gd_watch *w) {
        char buf[64];
        for (size_t i = 0; i < w->n_slots; i++)
                if (w->slots[i].in_use && w->slots[i].current_fd >= 0)
                        (void)!pread(w->slots[i].current_fd, buf, sizeof(buf), 0);
}

NOINLINE void bench_light_check(gd_watch *w, uint64_t now) {
        for (size_t i = 0; i < w->n_slots; i++)
                if (w->slots[i].in_use && *w->slots[i].rel)
                        gd_watch_light_check(w, &w->slots[i], now);
}

/* The workload of every cgroup by its path: policy globs each time. */
NOINLINE void bench_workload_find(gd_watch *w, const pol_policy *p) {
        for (size_t i = 0; i < w->n_slots; i++) {
                pol_subject s = {.cgroup = w->slots[i].rel};
                if (w->slots[i].in_use)
                        (void)pol_find_workload(p, &s, NULL, 0);
        }
}

/* The same through the watch's cache, filled by an earlier pass. */
NOINLINE void bench_workload_cached(gd_watch *w, const pol_policy *p) {
        for (size_t i = 0; i < w->n_slots; i++)
                if (w->slots[i].in_use)
                        (void)gd_watch_workload(w, &w->slots[i], p);
}

/* What proc_read_info reads, read and thrown away. */
static void read_whole(int dirfd, const char *name) {
        char buf[4096];
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        (void)!read(fd, buf, sizeof(buf));
        close(fd);
}

/* Inlined into each phase: a tail call would end the phase for callgrind. */
static inline __attribute__((always_inline)) void read_floor(int procfd, const pid_t *pids,
                                                            size_t n) {
        for (size_t i = 0; i < n; i++) {
                char name[16], exe[PROC_EXE_MAX];
                snprintf(name, sizeof(name), "%d", (int)pids[i]);
                int fd = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                read_whole(fd, "stat");
                read_whole(fd, "status");
                read_whole(fd, "oom_score_adj");
                read_whole(fd, "cmdline");
                (void)!readlinkat(fd, "exe", exe, sizeof(exe));
                close(fd);
        }
}

static inline __attribute__((always_inline)) void read_infos(int procfd, const pid_t *pids, size_t n,
                                                            uint64_t page_size) {
        for (size_t i = 0; i < n; i++) {
                proc_info info;
                (void)proc_read_info(procfd, pids[i], page_size, &info);
        }
}

/* The phases over the fixture processes and over the host's own. */
NOINLINE void bench_floor_fx(int procfd, const pid_t *pids, size_t n) {
        read_floor(procfd, pids, n);
}

NOINLINE void bench_score_fx(int procfd, const pid_t *pids, size_t n, uint64_t page_size) {
        read_infos(procfd, pids, n, page_size);
}

NOINLINE void bench_floor_host(int procfd, const pid_t *pids, size_t n) {
        read_floor(procfd, pids, n);
}

NOINLINE void bench_score_host(int procfd, const pid_t *pids, size_t n, uint64_t page_size) {
        read_infos(procfd, pids, n, page_size);
}

NOINLINE void bench_enforce(const gd_host *host, const pol_policy *p, gd_watch *w) {
        (void)gd_enforce_pass(host, p, w, false, true, NULL, NULL);
}

/* watch_add's floor: per cgroup the calls add_one makes (open the
 * directory, watch it, open memory.events and memory.current, read
 * events and memory.max, try memory.pressure) in a plain loop over names
 * known in advance; the fds kept, 4 a cgroup, closed after the phase. */
NOINLINE void bench_floor_watch_add(int rootfd, int ifd, int n, int *fds) {
        for (int i = 0; i < n; i++) {
                char name[32], path[64], buf[512];
                snprintf(name, sizeof(name), "idle-%04d", i);
                int d = fds[4 * i] = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                snprintf(path, sizeof(path), "/proc/self/fd/%d", d);
                (void)inotify_add_watch(ifd, path, IN_CREATE | IN_DELETE | IN_ONLYDIR);
                fds[4 * i + 1] = openat(d, "memory.events", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                fds[4 * i + 2] = openat(d, "memory.current", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                (void)!pread(fds[4 * i + 1], buf, sizeof(buf), 0);
                read_whole(d, "memory.max");
                fds[4 * i + 3] = openat(d, "memory.pressure", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        }
}

/* The watch set built from nothing over the N cgroups (the walk, the
 * opens, the directory watches: start-up, or a queue-overflow rescan with
 * everything new), then each cgroup found by its path and by its wd, as
 * an inotify event finds its parent. */
NOINLINE void bench_watch_add(gd_watch *nw, int epfd, int rootfd) {
        if (gd_watch_init(nw, epfd, rootfd, true) < 0 || gd_watch_add_tree(nw, "") < 0)
                die("watch_add");
        for (size_t i = 0; i < nw->n_slots; i++) {
                const gd_watched *c = &nw->slots[i];
                if (c->in_use && (gd_watch_find(nw, c->rel) != c ||
                                  (c->wd >= 0 && gd_watch_find_wd(nw, c->wd) != c)))
                        die("watch_find");
        }
}

/* Requests per render phase: a few, so one odd one does not decide. */
#define RENDER_REQUESTS 5

static uint64_t wall_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Each request a period after the last: every one renders. */
NOINLINE void bench_render_uncached(gd_control *c, uint64_t now) {
        for (int i = 0; i < RENDER_REQUESTS; i++) {
                gd_control_blob *b = NULL;
                gd_control_wakeup(c);
                if (gd_control_document(c, GD_DOC_METRICS, now + (uint64_t)i * GD_CONTROL_CACHE_MS,
                                        &b) < 0)
                        die("render");
                gd_control_blob_unref(b);
        }
}

/* Requests within one period, after a render: every one is a cache hit. */
NOINLINE void bench_render_cached(gd_control *c, uint64_t now) {
        for (int i = 0; i < RENDER_REQUESTS; i++) {
                gd_control_blob *b = NULL;
                gd_control_wakeup(c);
                if (gd_control_document(c, GD_DOC_METRICS, now + (uint64_t)i, &b) < 0)
                        die("cached");
                gd_control_blob_unref(b);
        }
}

/* ---- set-up ---- */

static size_t list_pids(int procfd, pid_t **ret) {
        DIR *dir = fdopendir(dup(procfd));
        size_t n = 0, cap = 0;
        pid_t *pids = NULL;
        struct dirent *de;

        if (!dir)
                die("opendir");
        while ((de = readdir(dir))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                if (*end || pid <= 0)
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 256;
                        pids = realloc(pids, cap * sizeof(*pids));
                        if (!pids)
                                die("realloc");
                }
                pids[n++] = (pid_t)pid;
        }
        closedir(dir);
        *ret = pids;
        return n;
}

static bool want(const char *only, const char *phase) {
        return !only || strcmp(only, phase) == 0 ||
               (strcmp(only, "render") == 0 && strncmp(phase, "render_", 7) == 0);
}

static gd_daemon dctx; /* big: not on the stack */

int main(int argc, char **argv) {
        int ncg = 2000, nprocs = 200, reps = 1;
        const char *policy_path = "examples/mysql-host.yaml", *only = NULL;
        char cwd[4096];

        for (int i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--cgroups") == 0)
                        ncg = atoi(argv[i + 1]);
                else if (strcmp(argv[i], "--procs") == 0)
                        nprocs = atoi(argv[i + 1]);
                else if (strcmp(argv[i], "--policy") == 0)
                        policy_path = argv[i + 1];
                else if (strcmp(argv[i], "--only") == 0)
                        only = argv[i + 1];
                else if (strcmp(argv[i], "--reps") == 0)
                        reps = atoi(argv[i + 1]);
        }
        if (nprocs > ncg)
                nprocs = ncg;
        pol_policy *policy = NULL;
        if (!getcwd(cwd, sizeof(cwd)) || pol_load_file(policy_path, &policy, NULL) < 0)
                die(policy_path);

        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (!mkdtemp(tmpdir) || chdir(tmpdir) < 0)
                die("mkdtemp");
        make_cgroups(ncg, nprocs);
        make_procs(nprocs);

        gd_host host = {.page_size = (uint64_t)sysconf(_SC_PAGESIZE)};
        host.rootfd = open("cg", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        host.procfd = open("proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        host.hostfd = -1;
        int realproc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int epfd = epoll_create1(EPOLL_CLOEXEC);
        gd_watch w;
        if (host.rootfd < 0 || host.procfd < 0 || realproc < 0 || epfd < 0 ||
            gd_watch_init(&w, epfd, host.rootfd, true) < 0 || gd_watch_add_tree(&w, "") < 0)
                die("watch");
        /* As on cgroupfs, where PSI triggers are armed: the light check
         * reads memory.current only. */
        for (size_t i = 0; i < w.n_slots; i++)
                w.slots[i].psi_trigger = true;
        bench_light_check(&w, 1000); /* the first check starts the growth window */
        for (size_t i = 0; i < w.n_slots; i++)
                (void)gd_watch_workload(&w, &w.slots[i], policy);

        pid_t *fixture = malloc((size_t)(nprocs > 0 ? nprocs : 1) * sizeof(*fixture));
        if (!fixture)
                die("malloc");
        for (int i = 0; i < nprocs; i++)
                fixture[i] = PID_BASE + i;
        pid_t *real = NULL;
        size_t nreal = list_pids(realproc, &real);

        /* The daemon as the render sees it: the watch, the policy, no kills. */
        dctx.watch = w;
        dctx.policy = policy;
        dctx.policy_src.where.file = policy_path;
        gd_control_init(&dctx.control, -1, gd_daemon_render, gd_daemon_generation, &dctx);
        uint64_t render_ns[2] = {0, 0}, t0;
        size_t watch_add_items = 0;

        for (int rep = 0; rep < reps; rep++) {
                if (want(only, "floor_light"))
                        bench_floor_light(&w);
                if (want(only, "light_check"))
                        bench_light_check(&w, 2000);
                if (want(only, "workload_find"))
                        bench_workload_find(&w, policy);
                if (want(only, "workload_cached"))
                        bench_workload_cached(&w, policy);
                if (want(only, "floor_fx"))
                        bench_floor_fx(host.procfd, fixture, (size_t)nprocs);
                if (want(only, "score_fx"))
                        bench_score_fx(host.procfd, fixture, (size_t)nprocs, host.page_size);
                if (!only) {
                        bench_floor_host(realproc, real, nreal);
                        bench_score_host(realproc, real, nreal, host.page_size);
                }
                if (want(only, "enforce"))
                        bench_enforce(&host, policy, &w);
                if (want(only, "floor_watch_add")) {
                        int *fds = malloc((size_t)ncg * 4 * sizeof(*fds));
                        int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
                        if (!fds || ifd < 0)
                                die("floor_watch_add");
                        bench_floor_watch_add(host.rootfd, ifd, ncg, fds);
                        for (int i = 0; i < 4 * ncg; i++)
                                if (fds[i] >= 0)
                                        close(fds[i]);
                        close(ifd);
                        free(fds);
                }
                if (want(only, "watch_add")) {
                        gd_watch nw;
                        bench_watch_add(&nw, epfd, host.rootfd);
                        watch_add_items = nw.n_watched;
                        gd_watch_free(&nw);
                }
                /* Periods of their own per rep: 1,000 s apart. */
                uint64_t base = 1000000 * (uint64_t)(rep + 1);
                if (want(only, "render_uncached")) {
                        t0 = wall_ns();
                        bench_render_uncached(&dctx.control, base);
                        render_ns[0] += wall_ns() - t0;
                }
                if (want(only, "render_cached")) {
                        /* Within the period of the uncached phase's last
                         * render (made here when that phase did not run:
                         * callgrind counts it in neither). */
                        uint64_t last = base + (RENDER_REQUESTS - 1) * GD_CONTROL_CACHE_MS;
                        if (!want(only, "render_uncached")) {
                                gd_control_blob *b = NULL;
                                gd_control_wakeup(&dctx.control);
                                if (gd_control_document(&dctx.control, GD_DOC_METRICS, last, &b) < 0)
                                        die("render");
                                gd_control_blob_unref(b);
                        }
                        t0 = wall_ns();
                        bench_render_cached(&dctx.control, last + 1);
                        render_ns[1] += wall_ns() - t0;
                }
        }
        printf("phase floor_light items %zu\n", w.n_watched - 1);
        printf("phase light_check items %zu\n", w.n_watched - 1);
        printf("phase workload_find items %zu\n", w.n_watched);
        printf("phase workload_cached items %zu\n", w.n_watched);
        printf("phase floor_fx items %d\n", nprocs);
        printf("phase score_fx items %d\n", nprocs);
        printf("phase floor_host items %zu\n", nreal);
        printf("phase score_host items %zu\n", nreal);
        printf("phase enforce items %zu\n", w.n_watched);
        printf("phase floor_watch_add items %d\n", ncg);
        printf("phase watch_add items %zu\n", watch_add_items);
        printf("phase render_uncached items %d\n", RENDER_REQUESTS);
        printf("phase render_cached items %d\n", RENDER_REQUESTS);
        printf("wall render_uncached ns_per_item %" PRIu64 "\n",
               render_ns[0] / (uint64_t)(RENDER_REQUESTS * reps));
        printf("wall render_cached ns_per_item %" PRIu64 "\n",
               render_ns[1] / (uint64_t)(RENDER_REQUESTS * reps));

        gd_control_close(&dctx.control);

        gd_watch_free(&w);
        pol_free(policy);
        free(fixture);
        free(real);
        close(epfd);
        close(realproc);
        close(host.rootfd);
        close(host.procfd);
        if (chdir(cwd) < 0 || nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                die(tmpdir);
        return 0;
}
