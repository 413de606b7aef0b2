/* The YAML protection policy: data model, parsing and validation.
 *
 * A policy is read whole (libyaml, document mode) from a buffer with size
 * and depth caps, validated, and only then handed out: a caller never sees
 * half a policy. Every problem is reported with the file, line and column
 * (1-based) it was found at. Nothing here logs; no I/O beyond reading the
 * policy files.
 *
 * Schema (version 1), every key optional unless said otherwise:
 *
 *   version: 1                         # required
 *   settings:
 *     dry_run: false
 *     poll_interval: 1s                # only where PSI triggers are refused
 *     hooks:                           # none by default
 *       pre_kill: [/usr/local/bin/oom-note, --event, pre]   # argv, exec'd directly
 *       post_kill: "/usr/local/bin/page-oncall >/dev/null"  # a line for /bin/sh -c
 *       timeout: 10s                   # 100ms..5m; then the hook's process group is killed
 *   defaults:
 *     triggers:
 *       pressure: { some: 40%, full: 20%, sustain: 5s }
 *       near_limit: 95%                # memory.current / memory.max, growing
 *       limit: 90%                     # unreclaimable share for limit/near/high
 *       high: { sustain: 2s }
 *     action: kill-process             # kill-process | kill-cgroup | notify
 *     cooldown: 15s
 *     grace: 0s                        # SIGTERM, then SIGKILL after this
 *   workloads:                         # first match wins, in order
 *     - name: mysql                    # required, unique, [A-Za-z0-9_.-]{1,63}
 *       match:                         # at least one key; all given must match
 *         cgroup: "system.slice/mysql.service"   # glob or list; ** crosses levels
 *         comm: [mysqld, mariadbd]     # glob or list (process name)
 *         exe: "/usr/sbin/mysqld"      # glob or list
 *         cmdline: "*--datadir*"       # glob or list
 *         container: "3f2a*"           # container id glob (docker, containerd, cri-o, podman)
 *         runtime: docker              # docker | containerd | crio | podman
 *         container_name: "mysql*"     # glob or list: the runtime's container name
 *         image: ["mysql:*", "docker.io/library/mysql:*"]  # glob or list; * crosses /
 *         labels: { com.docker.compose.service: etl }  # key (exact) -> glob or list
 *         kubernetes:
 *           qos: burstable             # guaranteed | burstable | besteffort
 *           pod_uid: "8b7c*"           # glob or list (was `pod`, now refused)
 *           namespace: prod            # glob or list
 *           pod_name: "postgres-*"     # glob or list
 *           container_name: postgres   # glob or list: the container's name in its pod
 *         # container_name, image, labels and kubernetes' namespace, pod_name
 *         # and container_name are identity keys: they read the runtime's
 *         # state (ident.h), never the cgroup path, and an unknown value
 *         # matches no pattern, not even "*".
 *       protect:
 *         mode: never                  # never | avoid
 *         budget: 6G                   # above this memory.current, protection is forfeited
 *         memory_min: 2G               # written to memory.min
 *         memory_low: 3G               # written to memory.low
 *         memory_high: 8G              # written to memory.high
 *         oom_score_adj: -1000         # written to each matching process
 *       score_adj: +500                # added to the kernel's oom_score_adj in ranking
 *       trust_oom_score_adj: true      # false: positive adj set by the workload is clamped to 0
 *       action: kill-cgroup
 *       cooldown: 30s
 *       grace: 5s
 *       triggers: { ... }              # as in defaults, per key
 *       hooks: { pre_kill: [...] }     # as in settings, per key
 *
 * Units: sizes "512", "512K", "2M", "6G", "1T" (powers of 1024; "max" where a
 * kernel knob takes it); durations "250ms", "5s", "2m", "1h"; shares "40%"
 * (0-100). Unknown keys, duplicate keys, wrong types, out-of-range values,
 * anchors/aliases, tags and more than one document are errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POL_VERSION 1
#define POL_NAME_MAX 64
/* Caps on what a policy may hold: a policy is small, and these bound the
 * work and memory an hostile or broken file can cost. */
#define POL_FILE_MAX (1u << 20)
#define POL_DEPTH_MAX 16
#define POL_WORKLOADS_MAX 1024
#define POL_PATTERNS_MAX 64
#define POL_PATTERN_LEN_MAX 1024
/* A label key longer than this could never match: the identity readers
 * keep keys up to GD_IDENT_LABEL_KEY_MAX (ident.h), the same number. */
#define POL_LABEL_KEY_LEN_MAX 256
#define POL_ERRORS_MAX 64
/* A hook is one command line: these bound what the runner must copy. */
#define POL_HOOK_ARGS_MAX 64
#define POL_HOOK_ARG_LEN_MAX 4096

/* Where a value came from, for messages ("mysql.yaml:12:7"). */
typedef struct pol_mark {
        const char *file; /* points into pol_policy.files */
        unsigned line;    /* 1-based */
        unsigned column;  /* 1-based */
} pol_mark;

typedef struct pol_error {
        char file[4096];
        unsigned line;
        unsigned column;
        char message[256];
} pol_error;

/* Errors collected while loading; printed as "FILE:LINE:COL: message". */
typedef struct pol_errors {
        pol_error items[POL_ERRORS_MAX];
        size_t n;
        size_t dropped; /* past POL_ERRORS_MAX */
} pol_errors;

/* What guardian does about a cgroup in trouble, the one action type of
 * every room: a workload's action (policy), the action a decision calls
 * for (decide: NONE, KILL_PROCESS, or KILL_CGROUP for memory.oom.group),
 * and the one taken once the workload's turns it (gd_decide_route), which
 * the metrics count. pol_action_name() spells it for logs and metrics. */
typedef enum pol_action {
        POL_ACTION_NONE = 0,     /* a workload: none of its own, the defaults' applies;
                                  * a decision: nothing to do */
        POL_ACTION_KILL_PROCESS,
        POL_ACTION_KILL_CGROUP,
        POL_ACTION_NOTIFY,       /* log and audit, kill nothing */
        POL_ACTION__N,
} pol_action;

typedef enum pol_protect_mode {
        POL_PROTECT_NONE = 0,
        POL_PROTECT_AVOID,
        POL_PROTECT_NEVER,
} pol_protect_mode;

typedef enum pol_runtime {
        POL_RUNTIME_ANY = 0,
        POL_RUNTIME_DOCKER,
        POL_RUNTIME_CONTAINERD,
        POL_RUNTIME_CRIO,
        POL_RUNTIME_PODMAN,
} pol_runtime;

typedef enum pol_qos {
        POL_QOS_ANY = 0,
        POL_QOS_GUARANTEED,
        POL_QOS_BURSTABLE,
        POL_QOS_BESTEFFORT,
} pol_qos;

/* Trigger thresholds; has_* says whether the file set the key, so a
 * workload inherits the defaults' value for what it leaves out. */
typedef struct pol_triggers {
        bool has_pressure_some, has_pressure_full, has_pressure_sustain;
        bool has_near_limit, has_limit, has_high_sustain;
        double pressure_some;   /* 0..1 */
        double pressure_full;   /* 0..1 */
        uint64_t pressure_sustain_ms;
        double near_limit;      /* 0..1 */
        double limit;           /* 0..1 */
        uint64_t high_sustain_ms;
} pol_triggers;

typedef struct pol_patterns {
        char **items; /* NULL-terminated globs */
        size_t n;
} pol_patterns;

/* labels: { key: glob or list }: the label named key (exact bytes) must be
 * there with a value one of values matches. */
typedef struct pol_label_match {
        char *key;
        pol_patterns values;
} pol_label_match;

typedef struct pol_labels {
        pol_label_match *items; /* n of them, each key once */
        size_t n;
} pol_labels;

typedef struct pol_match {
        pol_patterns cgroup, comm, exe, cmdline, container;
        pol_runtime runtime;
        pol_qos qos;
        pol_patterns pod_uid;   /* kubernetes.pod_uid: the path's UID, else the identity's */
        /* Identity keys (gd_container_ident, from the runtime's state). */
        pol_patterns container_name; /* the runtime's container name */
        pol_patterns image;
        pol_labels labels;
        pol_patterns k8s_namespace;      /* kubernetes.namespace */
        pol_patterns pod_name;           /* kubernetes.pod_name */
        pol_patterns k8s_container_name; /* kubernetes.container_name */
} pol_match;

/* Sizes: POL_UNSET when the key is absent; UINT64_MAX is "max". */
#define POL_UNSET (UINT64_MAX - 1)

typedef struct pol_protect {
        pol_protect_mode mode;
        uint64_t budget;       /* bytes or POL_UNSET */
        uint64_t memory_min;   /* bytes, UINT64_MAX ("max") or POL_UNSET */
        uint64_t memory_low;
        uint64_t memory_high;
        bool has_oom_score_adj;
        int oom_score_adj;     /* -1000..1000 */
} pol_protect;

/* A hook's command: argv exec'd directly (argv[0] an absolute path), or
 * with shell set a single line run as /bin/sh -c argv[0]. */
typedef struct pol_command {
        char **argv;           /* NULL-terminated; NULL: no command */
        size_t argc;
        bool shell;
} pol_command;

/* Commands run when guardian kills: pre_kill as it sends the signal (never
 * waited for), post_kill once the kill is over. */
typedef struct pol_hooks {
        pol_command pre_kill, post_kill;
        bool has_timeout;      /* always true in settings after loading */
        uint64_t timeout_ms;
} pol_hooks;

typedef struct pol_workload {
        char name[POL_NAME_MAX];
        pol_mark mark;         /* where the workload's entry starts */
        pol_match match;
        pol_protect protect;
        bool has_score_adj;
        int score_adj;         /* -1000..1000 */
        bool trust_oom_score_adj; /* default true */
        pol_action action;     /* NONE: the defaults' */
        bool has_cooldown, has_grace;
        uint64_t cooldown_ms;
        uint64_t grace_ms;
        pol_triggers triggers;
        pol_hooks hooks;       /* each key given replaces the settings' one */
} pol_workload;

typedef struct pol_defaults {
        pol_triggers triggers; /* every has_* true after loading */
        pol_action action;
        uint64_t cooldown_ms;
        uint64_t grace_ms;
} pol_defaults;

typedef struct pol_settings {
        bool dry_run;
        uint64_t poll_interval_ms;
        pol_hooks hooks;
} pol_settings;

typedef struct pol_policy {
        int version;
        pol_settings settings;
        pol_defaults defaults;
        pol_workload *workloads;
        size_t n_workloads;
        char **files;          /* every file this policy was read from */
        size_t n_files;
} pol_policy;

/* The embedded default policy's YAML text (what `guardian default-policy`
 * prints), and its values: defaults as in the schema above, no workloads. */
extern const char pol_default_yaml[];

/* Parse one policy document from buf (len bytes, need not be
 * NUL-terminated) named file in messages. On success returns 0 and a new
 * policy in *ret_policy (free with pol_free). On failure returns -EINVAL
 * (the problems are in errs, each with line and column), -EFBIG (over
 * POL_FILE_MAX), or -ENOMEM; *ret_policy is untouched. */
int pol_parse(const char *file, const char *buf, size_t len, pol_policy **ret_policy,
              pol_errors *errs);

/* Read and parse a file. Returns as pol_parse, plus the negative errno of
 * open/read (also recorded in errs with line 0). */
int pol_load_file(const char *path, pol_policy **ret_policy, pol_errors *errs);

/* Read every "*.yaml" file of dir (not hidden ones, not subdirectories) in
 * file-name order and merge them: settings and defaults may appear in at
 * most one file; workloads are concatenated in file order; a workload name
 * defined twice is an error naming both places. An empty directory gives
 * the default policy. Returns as pol_load_file. */
int pol_load_dir(const char *dir, pol_policy **ret_policy, pol_errors *errs);

/* A policy with the embedded defaults and no workloads. Returns 0 or -ENOMEM. */
int pol_default(pol_policy **ret_policy);

void pol_free(pol_policy *policy);

/* Does w need the container's identity from its runtime's state to be
 * matched: true when it has an identity key (container_name, image,
 * labels, kubernetes namespace, pod_name or container_name) or
 * kubernetes.pod_uid (which falls back to the identity when the cgroup
 * path names no pod). A cgroup whose identity is not read yet may then
 * match w later. Pure; false for NULL. */
bool pol_workload_uses_ident(const pol_workload *w);

/* Does any workload of p need it (pol_workload_uses_ident)? Pure; false
 * for NULL. */
bool pol_uses_ident(const pol_policy *p);

/* Effective values for a workload (NULL: none matched): its own, else the
 * defaults'. Pure. */
pol_action pol_effective_action(const pol_policy *p, const pol_workload *w);
uint64_t pol_effective_cooldown_ms(const pol_policy *p, const pol_workload *w);
uint64_t pol_effective_grace_ms(const pol_policy *p, const pol_workload *w);
void pol_effective_triggers(const pol_policy *p, const pol_workload *w, pol_triggers *ret);
/* The hook to run for a kill (post: post_kill, else pre_kill): the
 * workload's own, else the settings'. NULL when there is none. Pure. */
const pol_command *pol_effective_hook(const pol_policy *p, const pol_workload *w, bool post);
uint64_t pol_effective_hook_timeout_ms(const pol_policy *p, const pol_workload *w);

/* Names for messages: "kill-process", "never", "docker", "burstable", ...;
 * pol_action_name() says "none" for NONE, "unknown" out of range. */
const char *pol_action_name(pol_action a);
const char *pol_protect_mode_name(pol_protect_mode m);
/* "docker", "containerd", "crio", "podman" (the policy's spelling); "any"
 * for ANY. */
const char *pol_runtime_name(pol_runtime r);
