/* Matching workloads of a policy to cgroups and processes, with globs
 * (glob.h) and container identity (container.h). Pure: strings in,
 * answers out. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy/container.h"
#include "policy/glob.h"
#include "policy/policy.h"

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
