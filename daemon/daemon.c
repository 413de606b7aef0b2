#include "daemon/daemon.h"
#include "daemon/state.h"
#include "act/enforce.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "proc/proc.h"
#include "act/act.h"
#include "record/audit.h"
#include "decide/decide.h"
#include "cgroup/host.h"
#include "util/log.h"
#include "util/oomadj.h"
#include "daemon/sandbox.h"
#include "proc/snapshot.h"
#include "watch/watch.h"
#include "hookrunner/hookrunner.h"
#include "daemon/loop.h"
#include "daemon/notices.h"

/* Enough fds for thousands of cgroups with four open files each. */
#define NOFILE_WANTED 65536
#define DEFAULT_AUDIT_DIR "/var/lib/guardian"
/* Pre-faulted heap for the kill path: a snapshot costs ~650 bytes a
 * process, so this covers a cgroup (or a host) of ~6,000 processes; a
 * bigger one still works, with fresh pages from the kernel. */
#define HEAP_RESERVE_BYTES (4u << 20)

/* The identity cache and its cursors, told of every cgroup the watch set
 * adds. Identity is a convenience of naming, not a condition of
 * guarding: without memory for it guardian runs on, saying so. */
static void setup_idents(gd_daemon *d) {
        d->ident_src = (gd_ident_src){
                .hostfd = d->host.hostfd,
                .cgrootfd = d->host.rootfd,
                /* Rule (c) reads /proc/PID/cgroup, which cannot be placed
                 * in the tree when guardian's namespace root is unknown:
                 * then only rules (a) and (b) hold. */
                .procfd = d->cgns.unknown ? -1 : d->host.procfd,
                .owner = 0,
                .ns_root = d->cgns.root,
        };
        d->watch_ids = malloc(sizeof(*d->watch_ids));
        d->kill_ids = malloc(sizeof(*d->kill_ids));
        if (!d->watch_ids || !d->kill_ids || gd_idcache_new(&d->ident_src, &d->ids) < 0) {
                free(d->watch_ids);
                free(d->kill_ids);
                d->watch_ids = d->kill_ids = NULL;
                d->ids = NULL;
                gd_log(GD_LOG_WARNING, "no memory for containers' identities: policies' "
                                       "container_name, image, labels and kubernetes names "
                                       "match nothing");
                return;
        }
        gd_ident_cursor_init(d->watch_ids, d->ids, NULL);
        gd_ident_cursor_init(d->kill_ids, d->ids, NULL);
        d->watch.ident_cursor = d->watch_ids;
        gd_watch_set_ids(&d->watch, d->ids);
}

static int setup_host_psi(gd_daemon *d) {
        int fd = openat(d->host.procfd, "pressure/memory", O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                fd = openat(d->host.procfd, "pressure/memory", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                gd_log(GD_LOG_NOTICE, "no {proc}/pressure/memory (kernel without PSI, or "
                                      "psi=0): host-wide pressure is not watched",
                       GD_STR("proc", d->host.proc_path));
                return -1;
        }
        if (write(fd, "some 150000 1000000", 20) >= 0) {
                struct epoll_event ev = {.events = EPOLLPRI, .data.u64 = gd_tag(GD_TAG_HOST_PSI, 0, 0)};
                if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
                        d->host_psi_trigger = true;
                        return fd;
                }
        }
        /* Refused: polled on the tick like the cgroups. Keep a plain fd. */
        gd_log(GD_LOG_NOTICE, "the kernel refused a PSI trigger on {proc}/pressure/memory "
                              "({error}): polling host pressure on a timer instead",
               GD_STR("proc", d->host.proc_path), GD_ERRNO(errno));
        close(fd);
        return openat(d->host.procfd, "pressure/memory", O_RDONLY | O_CLOEXEC);
}

/* Guardian must outlive what it guards: the kernel never picks it, and its
 * pages stay in RAM so that it can still run when the host is out of it. */
static void protect_self(void) {
        int r = gd_oomadj_write_self(GD_OOMADJ_MIN);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "cannot set own oom_score_adj to -1000: {error}, ignoring",
                       GD_ERRNO(-r));
#if defined(__SANITIZE_ADDRESS__)
        /* MCL_ONFAULT: ASan reserves terabytes of shadow; lock only what
         * is used. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0)
                gd_log(GD_LOG_WARNING, "mlockall: {error}, ignoring", GD_ERRNO(errno));
#else
        /* The kill path (snapshot, ranking) allocates; under a host OOM a
         * request for new pages could stall in reclaim. So all allocations
         * come from one heap (no mmap, no per-thread arena), the heap is
         * never given back, and a reserve is faulted in (and locked) now:
         * later allocations reuse it without asking the kernel for memory. */
        mallopt(M_ARENA_MAX, 1);
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, INT_MAX);
        char *reserve = malloc(HEAP_RESERVE_BYTES);
        if (reserve) {
                explicit_bzero(reserve, HEAP_RESERVE_BYTES); /* not optimised away */
                free(reserve);
        }
        /* No MCL_ONFAULT: every page of text and data is read in and locked
         * now, not on first use. Otherwise the kill path's code, never run
         * before the first kill, is read back from disk exactly when the
         * host is out of memory and the page cache is thrashing. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                gd_log(GD_LOG_WARNING, "mlockall: {error}, ignoring", GD_ERRNO(errno));
#endif
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < NOFILE_WANTED) {
                /* Raising the hard limit needs CAP_SYS_RESOURCE; without it,
                 * take what the hard limit allows. */
                struct rlimit want = {NOFILE_WANTED, rl.rlim_max > NOFILE_WANTED ? rl.rlim_max
                                                                                 : NOFILE_WANTED};
                if (setrlimit(RLIMIT_NOFILE, &want) < 0) {
                        rl.rlim_cur = rl.rlim_max < NOFILE_WANTED ? rl.rlim_max : NOFILE_WANTED;
                        setrlimit(RLIMIT_NOFILE, &rl);
                        gd_log(GD_LOG_WARNING, "open files limited to {nofile}: about {cgroups} "
                                               "cgroups can be watched",
                               GD_UINT("nofile", rl.rlim_cur),
                               GD_UINT("cgroups", gd_watch_budget_for(rl.rlim_cur)));
                }
        }
}

/* What the start-up line says of PSI triggers: the host's as armed; the
 * cgroups' are armed on warm cgroups as they come (watch.h), unless the
 * kernel refused one. */
static const char *psi_state(const gd_daemon *d) {
        bool cgroups = d->watch.psi_triggers;
        if (cgroups && d->host_psi_trigger)
                return "armed on host and on warm cgroups";
        if (cgroups)
                return "armed on warm cgroups, host polled";
        if (d->host_psi_trigger)
                return d->watch.n_watched > 1 ? "armed on host, cgroups polled" : "armed on host";
        return d->host_psi_fd >= 0 ? "refused, polling" : "unavailable";
}

static void run_usage(FILE *out) {
        fputs("usage: guardian run [--dry-run] [--policy FILE | --policy-dir DIR]\n"
              "                    [--audit-log FILE] [--host-root DIR] [--cgroup-root DIR] [--proc-root DIR]\n"
              "                    [--control-socket PATH|none] [--metrics-address ADDR:PORT]\n"
              "                    [--verbose] [--log-level err|warning|notice|info|debug]\n"
              "                    [--log-format text|logfmt|json] [--no-sandbox]\n"
              "\n"
              "Watch every cgroup and kill the worst process of a cgroup about to hit its\n"
              "limit or stalled by memory pressure, before the kernel's OOM killer does.\n"
              "Runs in the foreground and logs to stderr. SIGTERM/SIGINT stop it; SIGHUP\n"
              "re-reads the policy (a policy that does not validate leaves the old one in\n"
              "force). Without --policy or --policy-dir, " POL_DEFAULT_DIR " is read when\n"
              "it exists, else the embedded default policy (guardian default-policy).\n"
              "The control socket (guardian status, /metrics) is root-only, by default\n"
              "$RUNTIME_DIRECTORY/" GD_CONTROL_SOCKET_NAME " or " GD_CONTROL_DEFAULT_DIR "/" GD_CONTROL_SOCKET_NAME "; --metrics-address\n"
              "also serves /metrics on a loopback TCP address (127.0.0.1:PORT, [::1]:PORT);\n"
              "a port taken at start is retried every second, and guardian runs meanwhile.\n"
              "Before the loop it drops all capabilities but a few and installs a seccomp\n"
              "allow-list (see guardian(8), SANDBOX); --no-sandbox is for debugging only.\n",
              out);
}

static const char *default_audit_path(char *buf, size_t size) {
        const char *state = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */
        if (state && *state) {
                const char *colon = strchr(state, ':');
                int len = colon ? (int)(colon - state) : (int)strlen(state);
                snprintf(buf, size, "%.*s/audit.jsonl", len, state);
        } else {
                snprintf(buf, size, "%s/audit.jsonl", DEFAULT_AUDIT_DIR);
        }
        return buf;
}

/* The hook runner's child side: its own copy of the policy, and the
 * daemon's source to re-read it from. */
__attribute__((noreturn)) static void hook_runner(int sock, void *ctx) {
        gd_daemon *d = ctx;

        gd_hooks_runner_main(sock, &d->policy_src.where, d->policy);
}

int gd_cmd_run(int argc, char **argv) {
        static const struct option options[] = {
                {"dry-run", no_argument, NULL, 'n'},
                {"policy", required_argument, NULL, 'P'},
                {"policy-dir", required_argument, NULL, 'D'},
                {"audit-log", required_argument, NULL, 'a'},
                {"host-root", required_argument, NULL, 'H'},
                {"cgroup-root", required_argument, NULL, 'c'},
                {"proc-root", required_argument, NULL, 'p'},
                {"verbose", no_argument, NULL, 'v'},
                {"control-socket", required_argument, NULL, 'S'},
                {"metrics-address", required_argument, NULL, 'M'},
                {"log-format", required_argument, NULL, 'F'},
                {"log-level", required_argument, NULL, 'L'},
                {"no-sandbox", no_argument, NULL, 'N'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *host_root = NULL, *cgroup_root = NULL, *proc_root = NULL, *audit_path = NULL;
        const char *control_socket = NULL, *metrics_address = NULL;
        char audit_buf[PATH_MAX];
        gd_daemon *d;
        int opt, r, status = 1;
        bool sandbox = true;

        d = calloc(1, sizeof(*d));
        if (!d)
                return 1;
        optind = 1;
        while ((opt = getopt_long(argc, argv, "+nvh", options, NULL)) != -1) {
                switch (opt) {
                case 'n': d->cli_dry_run = true; break;
                case 'P': d->policy_src.where.file = optarg; break;
                case 'D': d->policy_src.where.dir = optarg; break;
                case 'a': audit_path = optarg; break;
                case 'H': host_root = optarg; break;
                case 'c': cgroup_root = optarg; break;
                case 'p': proc_root = optarg; break;
                case 'v': gd_log_set_level(GD_LOG_DEBUG); break;
                case 'S': control_socket = optarg; break;
                case 'M': metrics_address = optarg; break;
                case 'F':
                case 'L':
                        if (gd_log_apply_option(opt == 'F', optarg) < 0) {
                                free(d);
                                return 2;
                        }
                        break;
                case 'N': sandbox = false; break;
                case 'h': run_usage(stdout); free(d); return 0;
                default: run_usage(stderr); free(d); return 2;
                }
        }
        if (optind != argc) {
                run_usage(stderr);
                free(d);
                return 2;
        }
        d->epfd = d->sigfd = d->timerfd = d->host_psi_fd = -1;
        d->policy_src.inotify_fd = -1;
        if (d->policy_src.where.file && d->policy_src.where.dir) {
                gd_log(GD_LOG_ERR, "--policy and --policy-dir exclude each other");
                free(d);
                return 2;
        }
        pol_source_default(&d->policy_src.where);
        if (gd_policy_load(&d->policy_src.where, &d->policy) < 0) {
                gd_log(GD_LOG_ERR, "not starting without a valid policy (guardian check shows "
                                   "the same problems)");
                free(d);
                return 1;
        }
        /* Connected now, before the sandbox: later only send() on it. */
        r = gd_sdnotify_open(&d->sdnotify);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "NOTIFY_SOCKET: {error}, not notifying the service manager",
                       GD_ERRNO(-r));
        gd_apply_settings(d);
        if (!audit_path)
                audit_path = default_audit_path(audit_buf, sizeof(audit_buf));

        /* Forked first: before threads, the sandbox, and the locked heap. */
        r = gd_hooks_start(hook_runner, d, &d->hooks);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "cannot start the hook runner: {error}: hooks are off",
                       GD_ERRNO(-r));
        /* After the fork (the runner closes what it inherits): a stalled
         * journal or log reader must not stall the loop. */
        r = gd_log_open_nonblocking();
        if (r < 0)
                gd_log(GD_LOG_WARNING, "stderr stays blocking ({error}): a stalled log reader can "
                                       "delay guardian",
                       GD_ERRNO(-r));
        char why[PATH_MAX + 128];
        if (gd_host_open(&(gd_host_paths){host_root, cgroup_root, proc_root}, why, sizeof(why), &d->host) < 0) {
                gd_log(GD_LOG_ERR, "{problem}", GD_STR("problem", why));
                goto out_free;
        }
        protect_self();
        gd_cgns_detect(d->host.rootfd, d->host.procfd, d->host.root.path, &d->cgns,
                       d->self_cgroup, sizeof(d->self_cgroup));

        r = gd_audit_open(audit_path, &d->audit);
        if (r < 0) {
                gd_log(GD_LOG_ERR, "cannot open the audit log {path}: {error}",
                       GD_STR("path", audit_path), GD_ERRNO(-r));
                goto out;
        }

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        d->epfd = epoll_create1(EPOLL_CLOEXEC);
        d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (d->epfd < 0 || d->sigfd < 0 || d->timerfd < 0) {
                gd_log(GD_LOG_ERR, "cannot set up the event loop: {error}", GD_ERRNO(errno));
                goto out;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = gd_tag(GD_TAG_SIGNAL, 0, 0)};
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev);
        ev.data.u64 = gd_tag(GD_TAG_TIMER, 0, 0);
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ev);

        r = gd_watch_init(&d->watch, d->epfd, d->host.rootfd, d->host.root.has_memory);
        if (r < 0) {
                gd_log(GD_LOG_ERR, "inotify: {error}", GD_ERRNO(-r));
                goto out;
        }
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
                gd_watch_set_fd_budget(&d->watch, nofile.rlim_cur);
        setup_idents(d);
        r = gd_watch_add_tree(&d->watch, "");
        gd_notice_watch(&d->watch);
        if (r < 0) {
                gd_log(GD_LOG_ERR, "cannot watch {root}: {error}", GD_STR("root", d->host.root.path),
                       GD_ERRNO(-r));
                goto out;
        }
        d->host_psi_fd = setup_host_psi(d);
        d->knobs = d->host.root.mode == CG_MODE_UNIFIED && d->host.root.has_memory &&
                   cg_knobs_init() == 0;
        r = gd_policy_watch(&d->policy_src, d->epfd, gd_tag(GD_TAG_POLICY, 0, 0));
        if (r < 0)
                gd_log(GD_LOG_WARNING, "cannot watch {source} for changes ({error}): reload with "
                                       "SIGHUP",
                       GD_STR("source", pol_source_name(&d->policy_src.where)), GD_ERRNO(-r));
        if (!d->host.root.has_memory)
                gd_log(GD_LOG_NOTICE,
                       d->host.root.mode == CG_MODE_HYBRID
                               ? "no memory controller in the cgroup v2 hierarchy at {root} "
                                 "(hybrid cgroup host): memory.events, memory.current and "
                                 "memory.max are not available, so guardian acts on memory "
                                 "pressure only (per-cgroup and host PSI) and scores processes "
                                 "against host RAM + swap"
                               : "no memory controller in the cgroup v2 hierarchy at {root}: "
                                 "memory.events, memory.current and memory.max are not "
                                 "available, so guardian acts on memory pressure only "
                                 "(per-cgroup and host PSI) and scores processes against host "
                                 "RAM + swap",
                       GD_STR("root", d->host.root.path));
        d->start_ms = gd_now_ms();
        d->start_unix_ms = (int64_t)time(NULL) * 1000;
        r = gd_control_open(&d->control, d->epfd, control_socket, metrics_address,
                            gd_daemon_render, gd_daemon_generation, d);
        if (r < 0 && (control_socket || metrics_address))
                goto out; /* asked for explicitly: not without it */
        if (r < 0)
                gd_log(GD_LOG_WARNING, "no control socket: guardian status and the metrics "
                                       "are not available, continuing");
        else if (*d->control.path && !metrics_address)
                gd_log(GD_LOG_INFO, "control socket {path}", GD_STR("path", d->control.path));
        else if (*d->control.path)
                gd_log(GD_LOG_INFO,
                       d->control.metrics.listening
                               ? "control socket {path}; metrics on {metrics}"
                               : "control socket {path}; metrics on {metrics} (not listening yet)",
                       GD_STR("path", d->control.path), GD_STR("metrics", metrics_address));
        /* Everything is set up: the loop runs sandboxed. Threads start
         * after it, with the reduced capabilities (they are per thread). */
        gd_sandbox_listen retry = {
                .fd = d->control.metrics.listening ? -1 : d->control.tcp_fd,
                .privileged_port = d->control.metrics.privileged_port,
        };
        if (gd_sandbox_start(sandbox, &retry) < 0)
                goto out;
        d->sandboxed = sandbox;
        r = gd_reaper_start(&d->reaper);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "no reaper thread ({error}): killed processes free their "
                                       "memory at their own pace",
                       GD_ERRNO(-r));
        gd_log(GD_LOG_INFO,
               d->dry_run ? "watching {cgroups} cgroups under {root} ({memory}, PSI triggers: "
                            "{psi}); DRY RUN; audit log {audit}; policy: {source} ({workloads} "
                            "workloads)"
                          : "watching {cgroups} cgroups under {root} ({memory}, PSI triggers: "
                            "{psi}); audit log {audit}; policy: {source} ({workloads} workloads)",
               GD_UINT("cgroups", d->watch.n_watched), GD_STR("root", d->host.root.path),
               GD_STR("memory", d->host.root.has_memory ? "memory controller"
                                                        : "no memory controller"),
               GD_STR("psi", psi_state(d)), GD_STR("audit", audit_path),
               GD_STR("source", pol_source_name(&d->policy_src.where)),
               GD_UINT("workloads", d->policy->n_workloads));
        d->fast = true; /* differs from what is asked: arms the timer */
        gd_set_tick(d, false);
        gd_daemon_ready(d);
        gd_sdnotify_watchdog(&d->sdnotify, gd_now_ms() * 1000);
        gd_loop loop;
        gd_loop_register(d, &loop);
        r = gd_loop_run(&loop);
        if (r < 0)
                gd_log(GD_LOG_ERR, "epoll_wait: {error}", GD_ERRNO(-r));
        status = r < 0;
        gd_sdnotify_stopping(&d->sdnotify);

        /* Before the reaper and the hook runner stop: the last SIGKILLs
         * still get their early release, and their post-kill hooks go out. */
        gd_pending_shutdown(d, GD_SHUTDOWN_WAIT_MS);
out:
        gd_control_close(&d->control);
        gd_policy_unwatch(&d->policy_src);
        pol_free(d->policy);
        gd_watch_free(&d->watch);
        gd_idcache_free(d->ids); /* after the watch set, which tells it */
        free(d->watch_ids);
        free(d->kill_ids);
        gd_reaper_stop(d->reaper);
        gd_audit_close(d->audit);
        if (d->host_psi_fd >= 0)
                close(d->host_psi_fd);
        if (d->timerfd >= 0)
                close(d->timerfd);
        if (d->sigfd >= 0)
                close(d->sigfd);
        if (d->epfd >= 0)
                close(d->epfd);
        gd_host_close(&d->host);
out_free:
        gd_sdnotify_close(&d->sdnotify);
        gd_hooks_stop(d->hooks);
        free(d);
        return status;
}
