/* The audit trail: one JSON object per line per kill (or would-be kill in
 * dry-run), appended to a file that operators and tools tail. Each record
 * is written with one write() on an O_APPEND fd as soon as it is known, so
 * a SIGTERM, a crash or a reboot loses nothing already decided. Formatting
 * uses a fixed buffer: nothing is allocated on the kill path. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GD_AUDIT_RECORD_MAX 8192

typedef struct gd_audit_record {
        int64_t time_unix_ms;     /* wall clock, for humans and log correlation */
        const char *event;        /* "kill", "would-kill", "kill-cgroup", "would-kill-cgroup",
                                     "kill-failed", "notify" */
        const char *cgroup;       /* relative to the cgroup root */
        const char *workload;     /* matched workload name, or NULL */
        const char *trigger;      /* gd_trigger_name() */
        double trigger_value;
        double trigger_threshold;
        uint64_t sustained_ms;
        const char *reason;
        /* The process; pid 0 for a whole-cgroup kill. */
        pid_t pid;
        const char *comm;
        const char *cmdline;
        uid_t uid;
        uint64_t start_time;
        int64_t score;
        uint64_t rss_pages, pte_pages, swap_pages;
        int oom_score_adj;
        uint64_t totalpages;
        uint64_t page_size;
        /* Outcome. */
        uint64_t memory_before;   /* memory.current of the cgroup, bytes */
        uint64_t memory_after;    /* after the victim died, bytes (0 if unknown) */
        int64_t trigger_to_kill_ms;   /* from the first sign of trouble to the signal */
        int64_t trigger_to_death_ms;  /* to the pidfd reporting exit; -1 if unknown */
        const char *result;       /* "killed", "dry-run", "gone", "pid-reused", "moved",
                                     "cgroupns-unknown", "timeout", "unfinished"
                                     (guardian stopped before the exit was seen),
                                     or an errno name */
} gd_audit_record;

typedef struct gd_audit gd_audit;

/* Open (create, 0600) the audit file for appending. The file is opened with
 * O_NOFOLLOW and must be a regular file owned by us; its directory is
 * created 0700 if missing. Returns 0, or a negative errno (-ELOOP for a
 * symlink, -EINVAL for a non-regular file). */
int gd_audit_open(const char *path, gd_audit **ret_audit);

/* Format a record as one JSON line into buf. Returns the length, or
 * -ENOBUFS if it does not fit (strings are cut first so this is rare). Pure. */
int gd_audit_format(const gd_audit_record *rec, char *buf, size_t size);

/* Format and append one record with a single write(). Returns 0 or a
 * negative errno (the caller logs it; the kill itself stands). */
int gd_audit_write(gd_audit *audit, const gd_audit_record *rec);

/* Close; NULL is fine. */
void gd_audit_close(gd_audit *audit);
