/* Where the policy comes from and how guardian notices it changed: a file
 * (--policy), a directory of *.yaml files (--policy-dir, default
 * /etc/guardian/policy.d when it exists), or the embedded default. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/policy.h"

#define GD_DEFAULT_POLICY_DIR "/etc/guardian/policy.d"

typedef struct gd_policy_source {
        const char *file;  /* exactly one of file, dir, or neither (embedded default) */
        const char *dir;
        int inotify_fd;    /* -1 when not watching */
} gd_policy_source;

/* With neither a file nor a directory given, use GD_DEFAULT_POLICY_DIR
 * when it exists (else the embedded default stays). */
void gd_policy_source_default(gd_policy_source *src);

/* Load the policy the source names. On failure every problem is logged
 * as "FILE:LINE:COL: message" and a negative errno returned; *ret_policy
 * is untouched. */
int gd_policy_load(const gd_policy_source *src, pol_policy **ret_policy);

/* Describe the source for logs: "/etc/guardian/policy.d", "embedded default". */
const char *gd_policy_source_name(const gd_policy_source *src);

/* Watch the policy's directory (the file's directory for a file) for
 * changes; the inotify fd is added to epfd with tag. Returns 0 or a
 * negative errno (the policy then reloads on SIGHUP only). */
int gd_policy_watch(gd_policy_source *src, int epfd, uint64_t tag);

/* Drain the inotify fd; true if a change concerns the policy. */
bool gd_policy_changed(gd_policy_source *src);

void gd_policy_unwatch(gd_policy_source *src);
