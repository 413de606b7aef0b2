/* The sandbox's tables: every allowed name is a real x86_64 syscall, the
 * shipped list holds nothing that would let a compromised loop out, and
 * the kept capabilities are exactly the documented ones. Applying it is
 * the kernel's business: tests/vm/test_60_sandbox.py. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>

#include "daemon/sandbox.h"

#define BIT(cap) (UINT64_C(1) << (cap))

/* What guardian(8) and the VM test promise: CapEff 0000000001080022. */
#define DOCUMENTED (BIT(CAP_DAC_OVERRIDE) | BIT(CAP_KILL) | BIT(CAP_SYS_PTRACE) | \
                    BIT(CAP_SYS_RESOURCE))

static void check_resolves(const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, names[i]);
                cr_expect(nr >= 0, "%s does not resolve on x86_64 (%d)", names[i], nr);
        }
}

Test(sandbox, every_allowed_name_resolves_on_x86_64) {
        size_t n, n_san;
        const char *const *names = gd_sandbox_syscalls(&n);
        const char *const *san = gd_sandbox_sanitizer_syscalls(&n_san);

        cr_assert_gt(n, 40);
        check_resolves(names, n);
        check_resolves(san, n_san);
}

Test(sandbox, no_syscall_twice) {
        size_t n, n_san;
        const char *const *names = gd_sandbox_syscalls(&n);
        const char *const *san = gd_sandbox_sanitizer_syscalls(&n_san);

        for (size_t i = 0; i < n + n_san; i++)
                for (size_t k = i + 1; k < n + n_san; k++) {
                        const char *a = i < n ? names[i] : san[i - n];
                        const char *b = k < n ? names[k] : san[k - n];
                        cr_expect(seccomp_syscall_resolve_name(a) != seccomp_syscall_resolve_name(b),
                                  "%s and %s are the same syscall", a, b);
                }
}

/* The loop must never get these: new processes or programs, new sockets
 * or connections, other processes' memory, privileges, the kernel. */
ParameterizedTestParameters(sandbox, shipped_list_never_allows) {
        static char names[][24] = {
                "execve", "execveat", "fork", "vfork", "clone3", "socket", "socketpair",
                "connect", "bind", "listen", "accept", "ptrace", "process_vm_readv",
                "process_vm_writev", "wait4", "kill", "mount", "umount2", "pivot_root", "chroot",
                "setuid", "setgid", "setresuid", "capset", "prctl", "seccomp", "bpf",
                "perf_event_open", "init_module", "finit_module", "kexec_load", "reboot",
                "unshare", "setns", "ioctl", "keyctl", "add_key", "userfaultfd", "io_uring_setup",
                "mknodat", "unlinkat", "renameat2", "chmod", "fchownat", "symlinkat",
        };
        return cr_make_param_array(char[24], names, sizeof(names) / sizeof(names[0]));
}

ParameterizedTest(char (*forbidden)[24], sandbox, shipped_list_never_allows) {
        size_t n;
        const char *const *names = gd_sandbox_syscalls(&n);

        for (size_t i = 0; i < n; i++)
                cr_expect_str_neq(names[i], *forbidden);
}

Test(sandbox, sanitizer_additions_only_in_a_sanitizer_build) {
        size_t n_san;
        gd_sandbox_sanitizer_syscalls(&n_san);
#if defined(__SANITIZE_ADDRESS__)
        cr_expect_gt(n_san, 0);
#else
        cr_expect_eq(n_san, 0);
#endif
}

Test(sandbox, keeps_the_documented_caps_of_a_full_root) {
        cr_expect_eq(gd_sandbox_keep_mask(~UINT64_C(0), false, false), DOCUMENTED);
        cr_expect_eq(gd_sandbox_keep_mask(~UINT64_C(0), false, false) & BIT(CAP_SYS_ADMIN), 0);
        cr_expect_eq(gd_sandbox_keep_mask(~UINT64_C(0), true, false), DOCUMENTED | BIT(CAP_IPC_LOCK));
}

Test(sandbox, keeps_net_bind_service_only_for_a_low_metrics_port_to_retry) {
        cr_expect_eq(gd_sandbox_keep_mask(~UINT64_C(0), false, true),
                     DOCUMENTED | BIT(CAP_NET_BIND_SERVICE));
        cr_expect_eq(gd_sandbox_keep_mask(BIT(CAP_KILL), false, true), BIT(CAP_KILL));
}

Test(sandbox, keeps_only_what_is_held) {
        /* A container without CAP_SYS_RESOURCE (the dev machines). */
        uint64_t held = 0x1fffeffffffULL;
        cr_expect_eq(gd_sandbox_keep_mask(held, true, false),
                     BIT(CAP_DAC_OVERRIDE) | BIT(CAP_KILL) | BIT(CAP_SYS_PTRACE) | BIT(CAP_IPC_LOCK));
        cr_expect_eq(gd_sandbox_keep_mask(0, true, true), 0);
        cr_expect_eq(gd_sandbox_keep_mask(BIT(CAP_KILL) | BIT(CAP_NET_ADMIN), false, false), BIT(CAP_KILL));
}

Test(sandbox, the_table_explains_each_cap) {
        size_t n;
        const gd_sandbox_cap *caps = gd_sandbox_caps(&n);
        uint64_t mask = 0;

        cr_assert_eq(n, 4);
        for (size_t i = 0; i < n; i++) {
                cr_expect(strncmp(caps[i].name, "cap_", 4) == 0, "%s", caps[i].name);
                cr_expect_gt(strlen(caps[i].why), 40, "%s has no reason", caps[i].name);
                mask |= BIT(caps[i].cap);
        }
        cr_expect_eq(mask, DOCUMENTED);
}

Test(sandbox, cap_names) {
        char buf[256];

        cr_expect_str_eq(gd_sandbox_cap_names(DOCUMENTED, buf, sizeof(buf)),
                         "cap_dac_override,cap_kill,cap_sys_ptrace,cap_sys_resource");
        cr_expect_str_eq(gd_sandbox_cap_names(BIT(CAP_IPC_LOCK) | BIT(40), buf, sizeof(buf)),
                         "cap_ipc_lock,cap_40");
        cr_expect_str_eq(gd_sandbox_cap_names(0, buf, sizeof(buf)), "none");
}

Test(sandbox, cap_names_truncate_to_whole_names) {
        char buf[20];

        cr_expect_str_eq(gd_sandbox_cap_names(DOCUMENTED, buf, sizeof(buf)), "cap_dac_override");
        cr_expect_str_eq(gd_sandbox_cap_names(DOCUMENTED, buf, 4), "");
}
