/* Matching workloads of a policy to cgroups and processes, with globs
 * (glob.h), container identity from the cgroup path (container.h) and
 * from the runtime's state (ident.h). Pure: strings in, answers out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy/container.h"
#include "policy/glob.h"
#include "policy/ident.h"
#include "policy/policy.h"

/* A cgroup, and optionally one of its processes. */
typedef struct pol_subject {
        const char *cgroup;  /* relative to the root, no leading slash; "" is the root */
        const char *comm;    /* NULL: matching the cgroup alone */
        const char *exe;     /* may be NULL (unreadable): exe patterns then do not match */
        const char *cmdline; /* may be NULL likewise */
        const gd_container_ident *ident; /* NULL: no identity known */
} pol_subject;

/* Does w match s? Every key w gives must match (patterns in a list: any
 * one). A workload with process keys (comm, exe, cmdline) never matches a
 * cgroup-only subject. A workload with identity keys (container_name,
 * image, labels, kubernetes namespace, pod_name, container_name) matches
 * only a subject with an ident, each key against its field; an empty
 * field matches no pattern, not even "*"; each label given must be there
 * with a value one of its patterns matches. kubernetes.pod_uid reads the
 * cgroup path's UID, else the ident's. A workload with no match keys
 * matches nothing. When it matches and why != NULL, writes a one-line
 * explanation ("cgroup 'system.slice/mysql.service' matches
 * 'system.slice/mysql*'; comm 'mysqld' matches 'mysqld'"; "label
 * com.docker.compose.service 'etl' matches 'etl'"), cut to fit. */
bool pol_match_workload(const pol_workload *w, const pol_subject *s, char *why, size_t why_size);

/* The first workload of p that matches s (policy order), or NULL. */
const pol_workload *pol_find_workload(const pol_policy *p, const pol_subject *s, char *why,
                                      size_t why_size);
