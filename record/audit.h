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

#include "policy/ident.h"
#include "watch/ident.h"
#include "util/json.h"

#define GD_AUDIT_RECORD_MAX 8192

/* What a record is about. Typed inside guardian; gd_audit_event_name()
 * gives the "event" string the audit file, the log, `guardian status` and
 * README speak. */
typedef enum gd_audit_event {
        GD_EVENT_KILL,              /* "kill": a process signalled */
        GD_EVENT_WOULD_KILL,        /* "would-kill": the same in dry-run */
        GD_EVENT_KILL_CGROUP,       /* "kill-cgroup": cgroup.kill written, or failed to be */
        GD_EVENT_WOULD_KILL_CGROUP, /* "would-kill-cgroup": the same in dry-run */
        GD_EVENT_KILL_FAILED,       /* "kill-failed": the victim could not be signalled */
        GD_EVENT_NOTIFY,            /* "notify": the workload's action; nothing killed */
        GD_EVENT__N,
} gd_audit_event;

/* How it ended; gd_audit_result_name() gives the "result" string. */
typedef enum gd_audit_result {
        GD_RESULT_KILLED,           /* "killed": the exit was seen, or cgroup.kill worked */
        GD_RESULT_DRY_RUN,          /* "dry-run" */
        GD_RESULT_NOTIFIED,         /* "notified" */
        GD_RESULT_TIMEOUT,          /* "timeout": still there 30 s after SIGKILL */
        GD_RESULT_UNFINISHED,       /* "unfinished": guardian stopped before the exit was seen */
        GD_RESULT_GONE,             /* "gone": the victim exited before the signal */
        GD_RESULT_PID_REUSED,       /* "pid-reused": the pid is another process now */
        GD_RESULT_MOVED,            /* "moved": the victim left the cgroup */
        GD_RESULT_CGROUPNS_UNKNOWN, /* "cgroupns-unknown": its cgroup cannot be checked */
        GD_RESULT_ERRNO,            /* any other failure: the errno's name ("EPERM") */
        GD_RESULT__N,
} gd_audit_result;

typedef struct gd_audit_record {
        int64_t time_unix_ms;     /* wall clock, for humans and log correlation */
        gd_audit_event event;
        const char *cgroup;       /* relative to the cgroup root */
        const gd_container_names *container; /* NULL, or runtime ANY: not a container's */
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
        gd_audit_result result;
        int error;                /* GD_RESULT_ERRNO: the negative errno it names */
} gd_audit_record;

typedef struct gd_audit gd_audit;

/* The one way a container is written in JSON (the audit record, `guardian
 * status`): null when c is NULL or no container's, else an object of
 * runtime, id, name, image, namespace, pod, container, each null when
 * unknown and cut to 320 bytes of literal. Returns true when one was cut. */
bool gd_audit_json_container(gd_json_writer *w, const gd_container_names *c);

/* How a container's identity stands, as guardian's words say it:
 * "none", "pending", "known", "unavailable", "untrusted". */
const char *gd_audit_ident_state_name(gd_ident_state st);

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

/* The strings of the audit file's "event" and "result" (README, "Audit
 * log"): "kill", ...; "killed", ..., and for GD_RESULT_ERRNO the name of
 * -error ("EPERM"), "error" for an errno without one. NULL for a value out
 * of range, which a record writes as null. Pure. */
const char *gd_audit_event_name(gd_audit_event event);
const char *gd_audit_result_name(gd_audit_result result, int error);

/* Close; NULL is fine. */
void gd_audit_close(gd_audit *audit);
