/* Where a policy comes from: a file (--policy), a directory of *.yaml
 * files (--policy-dir, default /etc/guardian/policy.d when it exists), or
 * neither (the embedded default); and its problems as the lines
 * `guardian check` prints. Shared by the daemon, the hook runner (which
 * re-reads the daemon's source itself) and the CLI. Nothing here logs. */
#pragma once

#include "policy/policy.h"

#define POL_DEFAULT_DIR "/etc/guardian/policy.d"

typedef struct pol_source {
        const char *file; /* at most one of file and dir; neither: the embedded default */
        const char *dir;
} pol_source;

/* With neither a file nor a directory given, use POL_DEFAULT_DIR when it
 * exists (else the embedded default stays). */
void pol_source_default(pol_source *src);

/* The source for logs: "/etc/guardian/policy.d", "embedded default". */
const char *pol_source_name(const pol_source *src);

/* Load the policy src names. Returns 0 and *ret_policy, or a negative
 * errno with the problems in errs (errs->n may be 0: the errno says it
 * all); *ret_policy is untouched on failure. */
int pol_source_load(const pol_source *src, pol_policy **ret_policy, pol_errors *errs);

/* Each problem as one line, "FILE:LINE:COL: message" ("FILE: message" for
 * problems of the whole file), handed to emit, and a last line for those
 * past POL_ERRORS_MAX. */
void pol_errors_each(const pol_errors *errs, void (*emit)(void *ctx, const char *line), void *ctx);
