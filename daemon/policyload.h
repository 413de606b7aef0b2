/* The daemon's policy source (policy/source.h): loaded with its problems
 * logged, and watched with inotify so that guardian notices it changed. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"
#include "policy/source.h"

typedef struct gd_policy_source {
        pol_source where;
        int inotify_fd;    /* -1 when not watching */
} gd_policy_source;

/* Load the policy src names. On failure every problem is logged as
 * "FILE:LINE:COL: message" and a negative errno returned; *ret_policy is
 * untouched. */
int gd_policy_load(const pol_source *src, pol_policy **ret_policy);

/* Watch the policy's directory (the file's directory for a file) for
 * changes; the inotify fd is added to epfd with tag. Returns 0 or a
 * negative errno (the policy then reloads on SIGHUP only). */
int gd_policy_watch(gd_policy_source *src, int epfd, uint64_t tag);

/* Drain the inotify fd; true if a change concerns the policy. */
bool gd_policy_changed(gd_policy_source *src);

void gd_policy_unwatch(gd_policy_source *src);
