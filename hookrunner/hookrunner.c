/* The hook runner: a process forked at start-up, before the daemon's
 * sandbox, that runs the policy's hooks for it (see record/hooks.h). One loop:
 * poll the daemon's socket and a signalfd (SIGCHLD, SIGTERM), with the
 * nearest hook deadline as the timeout. It logs on guardian's stderr. */
#include "hookrunner/hookrunner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/hookmsg.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/oomadj.h"

typedef struct hook_run {
        pid_t pid;             /* 0: slot free; also the process group */
        gd_hook_event event;
        uint64_t started_ms, deadline_ms;
        const char *killed;    /* why the runner killed it; NULL: it was not */
        char victim[16];       /* the victim's pid, for the log */
        char what[64];         /* the command, for the log */
} hook_run;

typedef struct runner {
        int sock, sigfd;
        const pol_source *src;
        pol_policy *policy;
        uint32_t generation;   /* of policy: the daemon's, when it was read */
        hook_run running[GD_HOOKS_PARALLEL];
        gd_hook_msg *queue[GD_HOOKS_QUEUE];
        size_t queued;
        uint64_t dropped;
} runner;

/* The daemon's policy changed: read it again from where the daemon read
 * it. On failure the old one stays (the daemon has said what is wrong). */
static void reload(runner *rn, uint32_t generation) {
        pol_errors *errs = calloc(1, sizeof(*errs));
        pol_policy *p = NULL;
        int r = -ENOMEM;

        rn->generation = generation;
        if (errs)
                r = pol_source_load(rn->src, &p, errs);
        free(errs);
        if (r < 0) {
                gd_log(GD_LOG_WARNING, "hook runner: cannot re-read the policy from {source} "
                                       "({error}): keeping its hooks as they were",
                       GD_STR("source", pol_source_name(rn->src)), GD_ERRNO(-r));
                return;
        }
        pol_free(rn->policy);
        rn->policy = p;
}

/* What may run as root without a shell or a PATH search: a regular,
 * executable file that only root (or guardian's user) can change. */
static int check_command(const char *path, char *why, size_t size) {
        struct stat st;

        if (stat(path, &st) < 0) {
                snprintf(why, size, "%s", strerror(errno));
                return -1;
        }
        if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR)) {
                snprintf(why, size, "not an executable file");
                return -1;
        }
        if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
                snprintf(why, size, "owned by uid %u with mode %04o: it must be writable by "
                                    "root only",
                         (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                return -1;
        }
        return 0;
}

/* In the child, between fork and execve: a clean process that guardian's
 * own state does not leak into. Never returns. */
__attribute__((noreturn)) static void exec_hook(char *const argv[], char *const envp[]) {
        sigset_t none;

        setsid();
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                signal(sig, SIG_DFL);
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
                dup2(fd, STDIN_FILENO);
        dup2(STDERR_FILENO, STDOUT_FILENO);
        /* guardian runs with -1000: the kernel must be free to kill a hook. */
        int r = gd_oomadj_write_self(0);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "hook: cannot reset oom_score_adj: {error}, ignoring",
                       GD_ERRNO(-r));
        if (chdir("/") < 0) {
                /* the inherited directory is as good */
        }
        execve(argv[0], argv, envp);
        gd_log(GD_LOG_ERR, "hook: cannot execute {command}: {error}", GD_STR("command", argv[0]),
               GD_ERRNO(errno));
        _exit(127);
}

static hook_run *free_slot(runner *rn) {
        for (size_t i = 0; i < GD_HOOKS_PARALLEL; i++)
                if (rn->running[i].pid == 0)
                        return &rn->running[i];
        return NULL;
}

static void start(runner *rn, const gd_hook_msg *m, hook_run *slot) {
        const char *event = gd_hooks_event_name(m->event);
        const char *victim = "";
        const pol_workload *w = NULL;
        char why[128], *argv[POL_HOOK_ARGS_MAX + 1], *envp[GD_HOOKS_ENV_MAX + 2];

        if (m->generation != rn->generation)
                reload(rn, m->generation);
        for (size_t i = 0; m->workload[0] && i < rn->policy->n_workloads; i++)
                if (strcmp(rn->policy->workloads[i].name, m->workload) == 0)
                        w = &rn->policy->workloads[i];
        for (size_t i = 0; i < m->n_env; i++)
                if (strncmp(m->env[i], "GUARDIAN_PID=", 13) == 0)
                        victim = m->env[i] + 13;
        const pol_command *cmd = pol_effective_hook(rn->policy, w, m->event == GD_HOOK_POST_KILL);
        if (!cmd) {
                gd_log(GD_LOG_DEBUG, "hook runner: no {event} hook in the policy, ignoring",
                       GD_STR("event", event));
                return;
        }
        size_t n = 0;
        if (cmd->shell) {
                argv[n++] = (char *)"/bin/sh";
                argv[n++] = (char *)"-c";
        }
        for (size_t i = 0; i < cmd->argc && n < POL_HOOK_ARGS_MAX; i++)
                argv[n++] = cmd->argv[i];
        argv[n] = NULL;
        if (check_command(argv[0], why, sizeof(why)) < 0) {
                gd_log(GD_LOG_ERR, "{event} hook {command} for pid {pid} not run: {why}",
                       GD_STR("event", event), GD_STR("command", argv[0]), GD_STR("pid", victim),
                       GD_STR("why", why));
                return;
        }
        envp[0] = (char *)GD_HOOKS_PATH;
        for (size_t i = 0; i < m->n_env; i++)
                envp[i + 1] = m->env[i];
        envp[m->n_env + 1] = NULL;

        pid_t pid = fork();
        if (pid < 0) {
                gd_log(GD_LOG_ERR, "{event} hook for pid {pid} not run: fork: {error}",
                       GD_STR("event", event), GD_STR("pid", victim), GD_ERRNO(errno));
                return;
        }
        if (pid == 0)
                exec_hook(argv, envp);
        uint64_t now = gd_now_ms();
        *slot = (hook_run){
                .pid = pid,
                .event = m->event,
                .started_ms = now,
                .deadline_ms = now + pol_effective_hook_timeout_ms(rn->policy, w),
        };
        snprintf(slot->victim, sizeof(slot->victim), "%s", victim);
        snprintf(slot->what, sizeof(slot->what), "%s", cmd->shell ? "/bin/sh -c" : argv[0]);
        gd_log(GD_LOG_INFO, "{event} hook started: {command} (pid {hook_pid}) for pid {pid}",
               GD_STR("event", event), GD_STR("command", slot->what), GD_INT("hook_pid", pid),
               GD_STR("pid", victim[0] ? victim : "-"));
}

static void submit(runner *rn, gd_hook_msg *m) {
        hook_run *slot = free_slot(rn);

        if (slot) {
                start(rn, m, slot);
                free(m);
        } else if (rn->queued < GD_HOOKS_QUEUE) {
                rn->queue[rn->queued++] = m;
        } else {
                rn->dropped++;
                gd_log(GD_LOG_WARNING, "{event} hook dropped: {running} running and {waiting} "
                                       "waiting ({dropped} dropped so far)",
                       GD_STR("event", gd_hooks_event_name(m->event)),
                       GD_INT("running", GD_HOOKS_PARALLEL), GD_INT("waiting", GD_HOOKS_QUEUE),
                       GD_UINT("dropped", rn->dropped));
                free(m);
        }
}

static void start_queued(runner *rn) {
        hook_run *slot;

        while (rn->queued > 0 && (slot = free_slot(rn))) {
                gd_hook_msg *m = rn->queue[0];
                memmove(rn->queue, rn->queue + 1, (rn->queued - 1) * sizeof(*rn->queue));
                rn->queued--;
                start(rn, m, slot);
                free(m);
        }
}

/* The hook is gone (or a zombie): its process group is killed first,
 * while the zombie still holds the group's number, then it is reaped. */
static bool reap(hook_run *h, bool wait) {
        siginfo_t si = {0};
        int status;

        if (!wait && (waitid(P_PID, (id_t)h->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
                      si.si_pid == 0))
                return false;
        kill(-h->pid, SIGKILL);
        if (waitpid(h->pid, &status, 0) < 0)
                return false;
        uint64_t took = gd_now_ms() - h->started_ms;
        const char *event = gd_hooks_event_name(h->event);
        const char *victim = h->victim[0] ? h->victim : "-";
        if (h->killed)
                gd_log(GD_LOG_WARNING, "{event} hook {command} (pid {hook_pid}) for pid {pid} "
                                       "killed after {took_ms} ms: {why}",
                       GD_STR("event", event), GD_STR("command", h->what),
                       GD_INT("hook_pid", h->pid), GD_STR("pid", victim),
                       GD_UINT("took_ms", took), GD_STR("why", h->killed));
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                gd_log(GD_LOG_INFO, "{event} hook {command} (pid {hook_pid}) for pid {pid} exited "
                                    "0 after {took_ms} ms",
                       GD_STR("event", event), GD_STR("command", h->what),
                       GD_INT("hook_pid", h->pid), GD_STR("pid", victim),
                       GD_UINT("took_ms", took));
        else if (WIFEXITED(status))
                gd_log(GD_LOG_WARNING, "{event} hook {command} (pid {hook_pid}) for pid {pid} "
                                       "exited {status} after {took_ms} ms",
                       GD_STR("event", event), GD_STR("command", h->what),
                       GD_INT("hook_pid", h->pid), GD_STR("pid", victim),
                       GD_INT("status", WEXITSTATUS(status)), GD_UINT("took_ms", took));
        else
                gd_log(GD_LOG_WARNING, "{event} hook {command} (pid {hook_pid}) for pid {pid} "
                                       "killed by signal {signal} after {took_ms} ms",
                       GD_STR("event", event), GD_STR("command", h->what),
                       GD_INT("hook_pid", h->pid), GD_STR("pid", victim),
                       GD_INT("signal", WTERMSIG(status)), GD_UINT("took_ms", took));
        h->pid = 0;
        return true;
}

static void on_sigchld(runner *rn) {
        for (size_t i = 0; i < GD_HOOKS_PARALLEL; i++)
                if (rn->running[i].pid)
                        reap(&rn->running[i], false);
        start_queued(rn);
}

/* Timeouts due by now; returns the poll timeout to the next one (-1: none). */
static int on_deadlines(runner *rn, uint64_t now) {
        uint64_t next = UINT64_MAX;

        for (size_t i = 0; i < GD_HOOKS_PARALLEL; i++) {
                hook_run *h = &rn->running[i];
                if (!h->pid || h->killed)
                        continue;
                if (now >= h->deadline_ms) {
                        h->killed = "timed out";
                        kill(-h->pid, SIGKILL);
                } else if (h->deadline_ms < next) {
                        next = h->deadline_ms;
                }
        }
        if (next == UINT64_MAX)
                return -1;
        return next - now > INT32_MAX ? INT32_MAX : (int)(next - now);
}

/* One message from the daemon: 1 read, 0 at EOF, -1 nothing (or bad). */
static int on_message(runner *rn) {
        gd_hook_msg *m = malloc(sizeof(*m));
        char buf[GD_HOOKS_MSG_MAX];

        if (!m)
                return -1;
        ssize_t n = recv(rn->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                free(m);
                return 0;
        }
        if (n < 0 || (size_t)n > sizeof(buf) || gd_hooks_decode(buf, (size_t)n, m) < 0) {
                if (n > 0)
                        gd_log(GD_LOG_ERR, "hook runner: malformed message ({bytes} bytes), "
                                           "ignoring",
                               GD_INT("bytes", n));
                free(m);
                return -1;
        }
        submit(rn, m);
        return 1;
}

static void shutdown_hooks(runner *rn) {
        for (size_t i = 0; i < GD_HOOKS_PARALLEL; i++) {
                if (!rn->running[i].pid)
                        continue;
                gd_log(GD_LOG_NOTICE, "hook runner: guardian is exiting, killing the {event} "
                                      "hook (pid {hook_pid})",
                       GD_STR("event", gd_hooks_event_name(rn->running[i].event)),
                       GD_INT("hook_pid", rn->running[i].pid));
                rn->running[i].killed = "guardian exited";
                reap(&rn->running[i], true);
        }
        for (size_t i = 0; i < rn->queued; i++)
                free(rn->queue[i]);
        rn->queued = 0;
}

void gd_hooks_runner_main(int sock, const pol_source *src, pol_policy *policy) {
        runner rn = {.sock = sock, .src = src, .policy = policy};
        pid_t parent = getppid();
        sigset_t mask;

        /* The daemon's death ends the runner (SIGTERM, handled below, so
         * that running hooks are killed rather than orphaned). */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        prctl(PR_SET_NAME, "guardian-hooks");
        /* Not the kernel's victim either (forked before the daemon set its
         * own): hooks are reset to 0 before they run. */
        int r = gd_oomadj_write_self(GD_OOMADJ_MIN);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "hook runner: cannot set oom_score_adj to -1000: {error}, "
                                       "ignoring",
                       GD_ERRNO(-r));
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        /* Nothing of the daemon's but stdio and the socket. */
        if (sock > 3)
                close_range(3, (unsigned)sock - 1, 0);
        close_range((unsigned)sock + 1, ~0U, 0);
        sigdelset(&mask, SIGINT); /* the daemon answers ^C; the runner follows its EOF */
        sigdelset(&mask, SIGHUP);
        rn.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (rn.sigfd < 0 || getppid() != parent) {
                gd_log(GD_LOG_ERR, "hook runner: cannot start: {error}", GD_ERRNO(errno));
                _exit(1);
        }

        for (;;) {
                int timeout = on_deadlines(&rn, gd_now_ms());
                struct pollfd fds[2] = {{.fd = rn.sock, .events = POLLIN},
                                        {.fd = rn.sigfd, .events = POLLIN}};
                if (poll(fds, 2, timeout) < 0 && errno != EINTR)
                        break;
                if (fds[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        bool term = false;
                        while (read(rn.sigfd, &si, sizeof(si)) == sizeof(si))
                                term = term || si.ssi_signo == SIGTERM;
                        if (term)
                                break;
                        on_sigchld(&rn);
                }
                if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && on_message(&rn) == 0)
                        break;
        }
        shutdown_hooks(&rn);
        /* _exit: the daemon's heap, copied at fork, is not ours to free. */
        _exit(0);
}
