/* /proc access for one process, relative to a proc-root directory fd, so
 * tests point it at a fixture tree and a sidecar at the host's /proc.
 *
 * Same contract as cgroup.h: 0 or a negative errno, ret_* untouched on
 * failure; -ENOENT/-ESRCH mean the process is gone (normal, not an error);
 * -EBADMSG means a file did not parse. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* TASK_COMM_LEN is 16: 15 bytes and the NUL. */
#define PROC_COMM_MAX 16
/* Enough of a command line to recognise a process in a log or audit line. */
#define PROC_CMDLINE_MAX 512
/* Executable paths longer than this are cut (and then match no pattern
 * that expects their end). */
#define PROC_EXE_MAX 256
/* PF_KTHREAD from include/linux/sched.h; field 9 of /proc/PID/stat. */
#define PROC_PF_KTHREAD 0x00200000u
/* PF_EXITING: the process is tearing down its memory, holding mmap_lock
 * for writing, so reading its cmdline would block until it is done. */
#define PROC_PF_EXITING 0x00000004u

/* What /proc/PID/stat tells us. */
typedef struct proc_stat {
        pid_t pid;
        char comm[PROC_COMM_MAX]; /* raw bytes: may hold spaces, ')' and '\n' */
        char state;
        pid_t ppid;
        unsigned flags;
        uint64_t start_time; /* clock ticks after boot: with pid, the process's identity */
} proc_stat;

/* Memory counters as oom_badness() sees them, converted to pages. */
typedef struct proc_mem {
        bool has_mm;         /* false for kernel threads and zombies: no Vm* lines */
        uint64_t rss_pages;  /* RssAnon + RssFile + RssShmem == get_mm_rss() */
        uint64_t pte_pages;  /* VmPTE == mm_pgtables_bytes() */
        uint64_t swap_pages; /* VmSwap == MM_SWAPENTS */
        uid_t uid;           /* real uid */
        bool kill_pending;   /* SIGKILL in SigPnd or ShdPnd: on its way out */
} proc_mem;

/* Everything guardian knows about one process, read in one pass. */
typedef struct proc_info {
        proc_stat stat;
        proc_mem mem;
        int oom_score_adj;
        char cmdline[PROC_CMDLINE_MAX]; /* NULs turned into spaces, cut to fit */
        char exe[PROC_EXE_MAX];         /* /proc/PID/exe target, "" if unreadable */
        pid_t mm_tid;                   /* leader exited: the thread mem was read from; else 0 */
        unsigned mm_flags;              /* that thread's PF_* flags */
} proc_info;

/* Pure parsers (parse.c). */

/* Parse /proc/PID/stat. comm is taken between the first '(' and the LAST
 * ')' so hostile names like "a) R 1 (" survive. Returns 0 or -EBADMSG. */
int proc_parse_stat(const char *buf, size_t len, proc_stat *ret_stat);

/* Parse /proc/PID/status for the memory counters and uid; page_size turns
 * kB into pages. A process without Vm* lines gets has_mm = false and zero
 * counters. Returns 0 or -EBADMSG (no Uid line, or a malformed number). */
int proc_parse_status(const char *buf, size_t len, uint64_t page_size, proc_mem *ret_mem);

/* Parse /proc/PID/cgroup and return the v2 path ("0::/a/b" -> "/a/b").
 * Returns 0, -ENOENT if there is no "0::" line, -ENAMETOOLONG. */
int proc_parse_cgroup(const char *buf, size_t len, char *ret_path, size_t size);

/* Turn a NUL-separated cmdline into a printable one-line string. Never
 * fails; an empty cmdline (kernel threads, zombies) gives "". */
void proc_format_cmdline(const char *buf, size_t len, char *ret, size_t size);

/* A small file (oom_score_adj, a sysctl) holding one decimal integer in
 * [min, max] and an optional newline. Returns 0 or -EBADMSG. */
int proc_parse_int(const char *buf, size_t len, int min, int max, int *ret);

/* Which of the status keys proc_parse_status uses the line starts with:
 * its index (>= 0), or -1 for a line the parser skips. The reader keeps
 * only the lines this returns an index for. */
int proc_status_key(const char *line, size_t len);

/* Is this a kernel thread (PF_KTHREAD, the kernel's own test)? */
bool proc_is_kthread(const proc_stat *st);

/* Is the process on its way out and still giving memory back: exiting
 * (PF_EXITING) or with a SIGKILL pending, and an mm, or no zombie yet
 * (its mm detached, being freed)? The kernel's OOM killer waits for such
 * a task rather than pick another (oom_evaluate_task aborts on an OOM
 * victim whose memory is not yet reaped). */
bool proc_is_dying(const proc_info *p);

/* Readers relative to a proc-root fd (proc.c). */

/* Read stat, status, oom_score_adj and cmdline of pid. Returns 0,
 * -ESRCH when the process is gone (or vanished midway), -EBADMSG. */
int proc_read_info(int procfd, pid_t pid, uint64_t page_size, proc_info *ret_info);

/* Read just the identity (start time) for the race check before a kill. */
int proc_read_start_time(int procfd, pid_t pid, uint64_t *ret_start_time);

/* Open /proc/PID as a directory fd and check, through it, that pid still
 * names the process read before with start_time. Files opened relative to
 * the fd belong to that process (ENOENT or ESRCH once it is reaped), never
 * to a later one that got the pid: a write through it cannot hit the wrong
 * process. Returns 0 and *ret_piddir (O_CLOEXEC; the caller closes it),
 * -ESRCH when gone, -ESTALE when the pid names another process now, or
 * -EBADMSG. */
int proc_open_pid(int procfd, pid_t pid, uint64_t start_time, int *ret_piddir);

/* oom_score_adj of the process behind piddir (proc_open_pid). Returns 0,
 * -ESRCH when it is gone, -EBADMSG. */
int proc_read_oom_score_adj_at(int piddir, int *ret_adj);

/* Set oom_score_adj (-1000..1000) of the process behind piddir. Returns 0,
 * -ESRCH when it is gone, -EINVAL out of range, or another negative errno
 * (-EACCES: lowering it takes CAP_SYS_RESOURCE). */
int proc_write_oom_score_adj_at(int piddir, int adj);

/* Read the v2 cgroup path of pid into ret_path. */
int proc_read_cgroup(int procfd, pid_t pid, char *ret_path, size_t size);

/* Host memory: MemTotal and SwapTotal from meminfo, in pages. */
int proc_parse_meminfo(const char *buf, size_t len, uint64_t page_size,
                       uint64_t *ret_ram_pages, uint64_t *ret_swap_pages);
int proc_read_meminfo(int procfd, uint64_t page_size, uint64_t *ret_ram_pages,
                      uint64_t *ret_swap_pages);

/* Host memory in use, as the host-wide near-limit check sees it:
 * (MemTotal - MemAvailable) + (SwapTotal - SwapFree), out of MemTotal +
 * SwapTotal, in pages. Returns 0 or -EBADMSG (a key missing, or available
 * above total). */
int proc_parse_meminfo_usage(const char *buf, size_t len, uint64_t page_size,
                             uint64_t *ret_used_pages, uint64_t *ret_total_pages);
int proc_read_meminfo_usage(int procfd, uint64_t page_size, uint64_t *ret_used_pages,
                            uint64_t *ret_total_pages);

/* vm.swappiness from sys/vm/swappiness. */
int proc_read_swappiness(int procfd, int *ret_swappiness);
