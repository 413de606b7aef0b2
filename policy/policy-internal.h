/* Shared between the policy/ sources (parse.c, units.c, load.c, default.c);
 * not part of the contract in policy.h, and not for callers outside
 * policy/ (tests excepted). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

/* Ranges the parser enforces, in one place so that messages, the default
 * policy and the tests agree. */
#define POL_SIZE_LIMIT (UINT64_C(1) << 60)     /* 1048576T: far above any RAM */
#define POL_SUSTAIN_MAX_MS (3600u * 1000u)      /* 1h */
#define POL_COOLDOWN_MAX_MS (86400u * 1000u)    /* 24h */
#define POL_GRACE_MAX_MS (300u * 1000u)         /* 5m: memory is short when it runs */
#define POL_POLL_MIN_MS 10u
#define POL_POLL_MAX_MS (60u * 1000u)           /* 1m */
#define POL_HOOK_TIMEOUT_MIN_MS 100u
#define POL_HOOK_TIMEOUT_MAX_MS (300u * 1000u)  /* 5m: a hook is a notification, not a job */
#define POL_HOOK_TIMEOUT_DEFAULT_MS 10000u
#define POL_COMM_LEN_MAX 15                     /* TASK_COMM_LEN - 1 */

/* What a parsed file said beyond its values, for merging a directory:
 * where its settings and defaults sections are, and where each workload's
 * name value is (for "already used at FILE:LINE:COL"). */
typedef struct pol_file_info {
        bool has_settings, has_defaults;
        unsigned settings_line, settings_column;
        unsigned defaults_line, defaults_column;
        unsigned (*name_marks)[2]; /* [n_workloads] {line, column}; free() it */
} pol_file_info;

/* pol_parse without resetting errs (errors are appended, so a directory's
 * files share one list) and, when info != NULL, filling it on success. */
int pol_parse_append(const char *file, const char *buf, size_t len, pol_policy **ret_policy,
                     pol_errors *errs, pol_file_info *info);

/* Append one problem to errs (NULL: ignored); past POL_ERRORS_MAX only
 * errs->dropped counts it. line 0 means "the whole file". */
void pol_errors_add(pol_errors *errs, const char *file, unsigned line, unsigned column,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void pol_errors_vadd(pol_errors *errs, const char *file, unsigned line, unsigned column,
                     const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* Order errs->items[from..n) by line and column (stable), so a file's
 * problems read top to bottom whatever order the walk found them in. */
void pol_errors_sort(pol_errors *errs, size_t from);
void pol_errors_reset(pol_errors *errs);

/* The embedded defaults' values (the numbers pol_default_yaml spells out). */
void pol_settings_builtin(pol_settings *ret);
void pol_defaults_builtin(pol_defaults *ret);

/* Frees what a workload owns (its patterns, its hooks), not the workload itself. */
void pol_workload_clear(pol_workload *w);
/* Free what a command or hooks own, and zero them. */
void pol_command_clear(pol_command *c);
void pol_hooks_clear(pol_hooks *h);

/* Typed scalars. Each takes a NUL-terminated string and returns 0 with
 * *ret set, or -EINVAL (malformed) / -ERANGE (out of range) with the
 * problem, quoting s, written to msg; *ret is untouched then. */
int pol_parse_size(const char *s, bool allow_max, uint64_t *ret, char *msg, size_t msg_size);
int pol_parse_duration(const char *s, uint64_t *ret_ms, char *msg, size_t msg_size);
int pol_parse_share(const char *s, double *ret, char *msg, size_t msg_size);
int pol_parse_int(const char *s, bool allow_sign, long min, long max, long *ret, char *msg,
                  size_t msg_size);
int pol_parse_bool(const char *s, bool *ret, char *msg, size_t msg_size);

/* s (len bytes, may hold anything) made fit to quote in a message: control
 * bytes as '?', cut to about 40 characters with "...". Returns buf. */
const char *pol_quote(const char *s, size_t len, char *buf, size_t size);
