/* The sandbox: capabilities, no_new_privs, the seccomp allow-list. See
 * sandbox.h for the contracts. */
#include "daemon/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"

/* The capabilities the loop needs, checked against Linux 6.1 (and every
 * other is dropped, CAP_SYS_ADMIN included). What needs none:
 * pidfd_open(); process_mrelease() (mm/oom_kill.c checks no capability:
 * the pidfd is the permission); reading /proc/PID/{stat,status,cmdline,
 * cgroup,oom_score_adj} (mode 0444/0644) and the cgroup files (0644);
 * inotify on cgroup directories (0755). */
static const gd_sandbox_cap keep_caps[] = {
        {CAP_KILL, "cap_kill",
         "signal processes of other users: pidfd_send_signal() goes through "
         "kill_ok_by_cred(), which asks for a matching uid or CAP_KILL"},
        {CAP_SYS_PTRACE, "cap_sys_ptrace",
         "readlink /proc/PID/exe (policies match on exe: policy/match.c, "
         "proc/proc.c): proc_exe_link() asks ptrace_may_access(READ), which "
         "wants a matching uid, a dumpable process and (commoncap) the target's "
         "permitted caps a subset of ours, so with caps dropped even other root "
         "daemons need CAP_SYS_PTRACE; the filter does not allow ptrace(2)"},
        {CAP_DAC_OVERRIDE, "cap_dac_override",
         "write files owned by other uids: /proc/PID/oom_score_adj (0644, owned "
         "by the process's euid) and cgroup.kill, memory.{min,low,high} and "
         "memory.pressure (PSI triggers) in cgroups delegated to a user; "
         "CAP_FOWNER does not grant writes, and reads need nothing"},
        {CAP_SYS_RESOURCE, "cap_sys_resource",
         "lower a process's oom_score_adj below its oom_score_adj_min "
         "(__set_oom_adj(), the policy's negative oom_score_adj), and arm PSI "
         "triggers on cgroups that appear later (6.0-6.6 refuse to open "
         "memory.pressure for writing without it; later kernels refuse windows "
         "that are not whole 2 s multiples)"},
};

/* Not in the table: kept only when RLIMIT_MEMLOCK cannot be lifted (a
 * container without CAP_SYS_RESOURCE). mlockall(MCL_FUTURE) in
 * protect_self() makes every later mapping locked; without CAP_IPC_LOCK a
 * mapping past RLIMIT_MEMLOCK fails (mm/mlock.c), so malloc would. */
static const gd_sandbox_cap ipc_lock_cap = {
        CAP_IPC_LOCK, "cap_ipc_lock",
        "RLIMIT_MEMLOCK could not be lifted and mlockall(MCL_FUTURE) locks every new mapping",
};

/* Not in the table either: kept only while a metrics listener on a port
 * below 1024 waits for its port (inet_bind() asks for it there). */
static const gd_sandbox_cap bind_service_cap = {
        CAP_NET_BIND_SERVICE, "cap_net_bind_service",
        "the metrics listener's port (below 1024) was taken at start: bind() is retried",
};

/* The allow-list, grouped by what needs it. Only fd-based calls: no
 * socket(), connect(), bind(), fork, exec, ptrace, mount, setuid, bpf,
 * kexec or module calls (bind() and listen() on one fd, the metrics
 * socket whose port was taken, have a rule of their own). Order does not
 * matter to libseccomp. */
static const char *const allowed[] = {
        /* Files: /proc, the cgroup tree, a reloaded policy (its directory
         * listed), the audit log (fsync: records survive a crash; ftruncate: a short write on a full disk is cut off), libcgroup's
         * knob writes (stdio: fstat, lseek; its error paths call access() and
         * realpath(), which glibc makes the access and readlink calls). */
        "read", "pread64", "readv", "write", "pwrite64", "writev", "openat", "close",
        "newfstatat", "fstat", "statx", "statfs", "fstatfs", "lseek", "getdents64",
        "readlinkat", "readlink", "access", "faccessat", "faccessat2", "fcntl", "dup",
        "fsync", "fdatasync", "ftruncate",
        /* The event loop: epoll, the tick timer, cgroups coming and going
         * (inotify), pidfd readiness (poll in gd_act_exited()). */
        "epoll_wait", "epoll_pwait", "epoll_ctl", "poll", "ppoll", "timerfd_settime",
        "timerfd_gettime", "inotify_add_watch", "inotify_rm_watch",
        /* Killing: race-free signals and the early release of the memory. */
        "pidfd_open", "pidfd_send_signal", "process_mrelease",
        /* Time (the vDSO serves most reads; these are its fallbacks). */
        "clock_gettime", "clock_getres", "gettimeofday", "clock_nanosleep", "nanosleep",
        /* Memory: malloc and free, thread stacks; glibc's qsort() sizes its
         * buffer against the RAM (sysinfo, once) when ranking many processes. */
        "mmap", "munmap", "mremap", "brk", "madvise", "mprotect", "sysinfo",
        /* Threads (the reaper; clone has a rule of its own) and signals:
         * futex for locks, signalfd reads need no more; abort() raises with
         * tgkill after resetting the handler. */
        "futex", "set_robust_list", "rseq", "sched_yield", "rt_sigprocmask",
        "rt_sigaction", "rt_sigreturn", "sigaltstack", "getpid", "gettid", "tgkill",
        "getrandom",
        /* Exit: of the reaper thread, then of the process. */
        "exit", "exit_group",
        /* Sockets made before the sandbox: the control and metrics server
         * (accept4 on its listening sockets, SO_PEERCRED), sd_notify on its
         * datagram socket, the hook helper's socketpair (SCM_RIGHTS). */
        "accept4", "recvfrom", "recvmsg", "sendto", "sendmsg", "shutdown", "getsockopt",
        "setsockopt", "getsockname", "getpeername",
};

#if defined(__SANITIZE_ADDRESS__)
/* The ASan/UBSan test build only (the VM tests run it), never
 * build/guardian: the runtime reads its own maps and binary for reports
 * (open; readlink is in the list above), and at exit LeakSanitizer stops
 * the world: a tracer task (clone without CLONE_THREAD: a rule below)
 * lists the threads (getdents), attaches to each with ptrace and waits
 * for it (wait4). */
static const char *const allowed_san[] = {
        "open", "getdents", "sched_getaffinity", "prctl", "getppid", "ptrace",
        "wait4", "kill", "getuid", "geteuid",
};
#define N_ALLOWED_SAN (sizeof(allowed_san) / sizeof(allowed_san[0]))
#else
static const char *const *const allowed_san = NULL;
#define N_ALLOWED_SAN 0
#endif

#define N_ALLOWED (sizeof(allowed) / sizeof(allowed[0]))

/* LeakSanitizer's StopTheWorld tracer: CLONE_VM | CLONE_FS | CLONE_FILES |
 * CLONE_UNTRACED exactly (sanitizer_stoptheworld_linux_libcdep.cpp). */
#define SAN_TRACER_CLONE (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED)

const char *const *gd_sandbox_sanitizer_syscalls(size_t *ret_n) {
        *ret_n = N_ALLOWED_SAN;
        return allowed_san;
}

const gd_sandbox_cap *gd_sandbox_caps(size_t *ret_n) {
        *ret_n = sizeof(keep_caps) / sizeof(keep_caps[0]);
        return keep_caps;
}

const char *const *gd_sandbox_syscalls(size_t *ret_n) {
        *ret_n = N_ALLOWED;
        return allowed;
}

uint64_t gd_sandbox_keep_mask(uint64_t held, bool need_ipc_lock, bool need_bind_service) {
        uint64_t want = 0;

        for (size_t i = 0; i < sizeof(keep_caps) / sizeof(keep_caps[0]); i++)
                want |= UINT64_C(1) << keep_caps[i].cap;
        if (need_ipc_lock)
                want |= UINT64_C(1) << ipc_lock_cap.cap;
        if (need_bind_service)
                want |= UINT64_C(1) << bind_service_cap.cap;
        return want & held;
}

static const char *cap_name(int cap) {
        for (size_t i = 0; i < sizeof(keep_caps) / sizeof(keep_caps[0]); i++)
                if (keep_caps[i].cap == cap)
                        return keep_caps[i].name;
        return cap == ipc_lock_cap.cap           ? ipc_lock_cap.name
               : cap == bind_service_cap.cap ? bind_service_cap.name
                                             : NULL;
}

const char *gd_sandbox_cap_names(uint64_t mask, char *buf, size_t size) {
        gd_buf b;

        if (size == 0)
                return buf;
        gd_buf_init(&b, buf, size);
        if (!mask) {
                (void)gd_buf_puts(&b, "none");
                return buf;
        }
        for (int cap = 0; cap < 64; cap++) {
                if (!(mask & (UINT64_C(1) << cap)))
                        continue;
                size_t before = b.len;
                const char *name = cap_name(cap);
                if (before)
                        (void)gd_buf_putc(&b, ',');
                int r = name ? gd_buf_puts(&b, name) : gd_buf_printf(&b, "cap_%d", cap);
                if (r < 0) {
                        gd_buf_truncate(&b, before); /* whole names only */
                        break;
                }
        }
        return buf;
}

/* ---- applying it ---- */

static int threads_now(void) {
        DIR *dir = opendir("/proc/self/task");
        int n = 0;

        if (!dir)
                return -errno;
        for (struct dirent *e; (e = readdir(dir));)
                if (e->d_name[0] != '.')
                        n++;
        closedir(dir);
        return n;
}

/* Lift RLIMIT_MEMLOCK so that CAP_IPC_LOCK can go. Returns true when
 * CAP_IPC_LOCK is still needed. */
static bool need_ipc_lock(void) {
        struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY}, rl;

        if (setrlimit(RLIMIT_MEMLOCK, &inf) == 0)
                return false;
        return getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur != RLIM_INFINITY;
}

static int caps_get(uint64_t *ret_permitted) {
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

        memset(data, 0, sizeof(data));
        if (syscall(SYS_capget, &hdr, data) < 0)
                return -errno;
        *ret_permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
        return 0;
}

/* The bounding set first (PR_CAPBSET_DROP needs CAP_SETPCAP, which the
 * capset below gives up), the ambient set, then effective, permitted and
 * inheritable. */
static int caps_drop(uint64_t keep, uint64_t held, const char **ret_step) {
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

        for (int cap = 0; cap < 64; cap++) {
                int r = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
                if (r < 0)
                        break; /* EINVAL: past the kernel's last capability */
                if (r == 0 || (keep & (UINT64_C(1) << cap)))
                        continue;
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
                        /* Without CAP_SETPCAP (not root) there is nothing
                         * exec could gain, and exec is not allowed anyway. */
                        if (errno == EPERM && !(held & (UINT64_C(1) << CAP_SETPCAP)))
                                break;
                        *ret_step = "PR_CAPBSET_DROP";
                        return -errno;
                }
        }
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
                *ret_step = "PR_CAP_AMBIENT_CLEAR_ALL";
                return -errno;
        }
        memset(data, 0, sizeof(data));
        data[0].effective = data[0].permitted = (uint32_t)keep;
        data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
        if (syscall(SYS_capset, &hdr, data) < 0) {
                *ret_step = "capset";
                return -errno;
        }
        return 0;
}

static scmp_filter_ctx filter_build(uint32_t default_action, const gd_sandbox_listen *retry,
                                    const char **ret_step) {
        scmp_filter_ctx ctx = seccomp_init(default_action);
        int r = 0;

        if (!ctx) {
                *ret_step = "seccomp_init";
                errno = ENOMEM;
                return NULL;
        }
        for (size_t i = 0; i < N_ALLOWED + N_ALLOWED_SAN && r == 0; i++) {
                const char *name = i < N_ALLOWED ? allowed[i] : allowed_san[i - N_ALLOWED];
                int nr = seccomp_syscall_resolve_name(name);
                r = nr == __NR_SCMP_ERROR ? -EINVAL : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0)
                        *ret_step = name;
        }
        /* Threads, never processes: a fork needs clone without CLONE_THREAD. */
        if (r == 0 && (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                            SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
                                                    CLONE_THREAD))) < 0)
                *ret_step = "clone";
#if defined(__SANITIZE_ADDRESS__)
        if (r == 0 && (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                            SCMP_A0(SCMP_CMP_EQ, SAN_TRACER_CLONE))) < 0)
                *ret_step = "clone (LeakSanitizer)";
#endif
        /* The metrics listener still to bind: bind() and listen() on its fd
         * alone. Without socket() no other fd can be a fresh socket. */
        if (r == 0 && retry && retry->fd >= 0 &&
            (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bind), 1,
                                  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)retry->fd))) < 0)
                *ret_step = "bind (metrics listener)";
        if (r == 0 && retry && retry->fd >= 0 &&
            (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(listen), 1,
                                  SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)retry->fd))) < 0)
                *ret_step = "listen (metrics listener)";
        /* isatty() in a library (stdio deciding how to buffer) asks with an
         * ioctl: "not a terminal" is the right answer, not death. Every
         * other ioctl gets it too; none is needed. */
        if (r == 0 && (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0)) < 0)
                *ret_step = "ioctl";
        /* clone3 passes its flags in memory, which a filter cannot read:
         * ENOSYS makes glibc's pthread_create fall back to clone. */
        if (r == 0 && (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0)
                *ret_step = "clone3";
        /* Threads that exist now get the filter too (TSYNC). */
        if (r == 0 && (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
                *ret_step = "SCMP_FLTATR_CTL_TSYNC";
        if (r < 0) {
                seccomp_release(ctx);
                errno = -r;
                return NULL;
        }
        return ctx;
}

#ifdef GD_TEST_HOOKS
/* Test builds only (build/san/guardian-bin, never build/guardian):
 * GUARDIAN_TEST_SECCOMP_LOG=1 logs instead of killing (to find what a
 * code path calls: dmesg shows type=1326 records);
 * GUARDIAN_TEST_FORBIDDEN_SYSCALL=NAME calls NAME (arguments 0) right
 * after the filter is in, so a test can watch the kernel kill guardian. */
static uint32_t test_default_action(void) {
        const char *v = getenv("GUARDIAN_TEST_SECCOMP_LOG");
        return v && strcmp(v, "1") == 0 ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
}

static void test_forbidden_syscall(void) {
        const char *name = getenv("GUARDIAN_TEST_FORBIDDEN_SYSCALL");
        if (!name || !*name)
                return;
        int nr = seccomp_syscall_resolve_name(name);
        if (nr < 0) {
                gd_log(GD_LOG_ERR, "test hook: unknown syscall {syscall}", GD_STR("syscall", name));
                return;
        }
        gd_log(GD_LOG_NOTICE, "test hook: calling {syscall} ({nr}) under the sandbox",
               GD_STR("syscall", name), GD_INT("nr", nr));
        long r = syscall(nr, 0, 0, 0, 0, 0, 0);
        gd_log(GD_LOG_ERR, "test hook: {syscall} returned {returned} ({error}): the filter let it "
                           "through",
               GD_STR("syscall", name), GD_INT("returned", r),
               GD_STR("error", r < 0 ? strerror(errno) : "ok"));
}
#else
static uint32_t test_default_action(void) {
        return SCMP_ACT_KILL_PROCESS;
}

static void test_forbidden_syscall(void) {
}
#endif

int gd_sandbox_apply(const gd_sandbox_listen *retry, const char **ret_step) {
        const char *step = NULL;
        uint64_t held = 0, keep;
        char names[256];
        size_t n;
        int r;

        if (!ret_step)
                ret_step = &step;
        /* Built first: a table error costs nothing yet. */
        scmp_filter_ctx ctx = filter_build(test_default_action(), retry, ret_step);
        if (!ctx)
                return -errno;
        r = threads_now();
        if (r > 1) {
                *ret_step = "a single thread (start threads after the sandbox)";
                r = -EBUSY;
                goto out;
        }
        r = caps_get(&held);
        if (r < 0) {
                *ret_step = "capget";
                goto out;
        }
        keep = gd_sandbox_keep_mask(held, need_ipc_lock(),
                                    retry && retry->fd >= 0 && retry->privileged_port);
        r = caps_drop(keep, held, ret_step);
        if (r < 0)
                goto out;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                *ret_step = "PR_SET_NO_NEW_PRIVS";
                r = -errno;
                goto out;
        }
        r = seccomp_load(ctx);
        if (r < 0) {
                *ret_step = "seccomp_load";
                goto out;
        }
        n = N_ALLOWED + N_ALLOWED_SAN;
        gd_log(GD_LOG_NOTICE,
               retry && retry->fd >= 0
                       ? "sandbox: capabilities kept: {caps}; no_new_privs; seccomp: {syscalls} "
                         "syscalls allowed (clone for threads only; bind and listen on the "
                         "metrics socket only), others kill guardian"
                       : "sandbox: capabilities kept: {caps}; no_new_privs; seccomp: {syscalls} "
                         "syscalls allowed (clone for threads only), others kill guardian",
               GD_STR("caps", gd_sandbox_cap_names(keep, names, sizeof(names))),
               GD_UINT("syscalls", n + 1 + (retry && retry->fd >= 0 ? 2 : 0)));
        test_forbidden_syscall();
out:
        seccomp_release(ctx);
        return r;
}

int gd_sandbox_start(bool enabled, const gd_sandbox_listen *retry) {
        const char *step = "?";

        if (!enabled) {
                gd_log(GD_LOG_WARNING, "--no-sandbox: all capabilities kept and no seccomp filter "
                                       "(for debugging only)");
                return 0;
        }
        int r = gd_sandbox_apply(retry, &step);
        if (r < 0)
                gd_log(GD_LOG_ERR, "cannot set up the sandbox ({step}: {error}): not starting "
                                   "without it (--no-sandbox runs without, for debugging only)",
                       GD_STR("step", step), GD_ERRNO(-r));
        return r;
}
