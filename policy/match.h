/* Matching workloads of a policy to cgroups and processes. Pure: strings
 * in, answers out.
 *
 * Globs: '*' matches any run of characters except '/', '**' any run
 * including '/', '?' one character except '/', "[abc]" / "[a-z]" / "[!a]"
 * one character of a class. For comm, exe, cmdline and ids, '/' is not
 * special: '*' matches it too. Matching is anchored at both ends. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy/policy.h"

/* What a container runtime's cgroup naming tells about a cgroup. */
typedef struct pol_container {
        pol_runtime runtime;   /* POL_RUNTIME_ANY: none, or not told by the path (id set) */
        char id[128];          /* the container id, "" if none */
        pol_qos qos;           /* Kubernetes QoS class, POL_QOS_ANY if none */
        char pod_uid[64];      /* Kubernetes pod UID (dashes, as the API shows it), "" if none */
} pol_container;

/* Read container identity from a cgroup path (relative to the root, no
 * leading slash), from the innermost component that names one:
 *   docker-<id>.scope, docker/<id>           -> docker
 *   cri-containerd-<id>.scope, containerd/.. -> containerd
 *   crio-<id>.scope, crio-conmon-<id>.scope  -> crio
 *   libpod-<id>.scope, libpod-conmon-..      -> podman
 *   kubepods[-<qos>]-pod<uid>.slice (systemd driver, '_' for '-' in the
 *   uid) and kubepods/<qos>/pod<uid> (cgroupfs driver) -> qos and pod uid;
 *   "kubepods" without a qos level is guaranteed.
 * Returns true when anything was found. Never fails. */
bool pol_container_from_cgroup(const char *cgroup, pol_container *ret);

/* Glob match; path selects the '/'-aware rules above. */
bool pol_glob_match(const char *pattern, const char *s, bool path);

/* A cgroup, and optionally one of its processes. */
typedef struct pol_subject {
        const char *cgroup;  /* relative to the root, no leading slash; "" is the root */
        const char *comm;    /* NULL: matching the cgroup alone */
        const char *exe;     /* may be NULL (unreadable): exe patterns then do not match */
        const char *cmdline; /* may be NULL likewise */
} pol_subject;

/* Does w match s? Every key w gives must match (patterns in a list: any
 * one). A workload with process keys (comm, exe, cmdline) never matches a
 * cgroup-only subject. A workload with no match keys matches nothing.
 * When it matches and why != NULL, writes a one-line explanation
 * ("cgroup 'system.slice/mysql.service' matches 'system.slice/mysql*';
 * comm 'mysqld' matches 'mysqld'"), cut to fit. */
bool pol_match_workload(const pol_workload *w, const pol_subject *s, char *why, size_t why_size);

/* The first workload of p that matches s (policy order), or NULL. */
const pol_workload *pol_find_workload(const pol_policy *p, const pol_subject *s, char *why,
                                      size_t why_size);
