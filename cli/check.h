/* `guardian check FILE|DIR...` and `guardian default-policy`: validate
 * policies the way `guardian run` would load them, and print the
 * embedded default. */
#pragma once

#include <stdio.h>

#include "policy/policy.h"

/* Print each problem as "FILE:LINE:COL: message" ("FILE: message" for
 * problems of the whole file), one per line, and a last line for those
 * past POL_ERRORS_MAX. */
void gd_check_print_errors(FILE *out, const pol_errors *errs);

/* The same lines (without the newline), each handed to emit. */
void gd_check_each_error(const pol_errors *errs, void (*emit)(void *ctx, const char *line),
                         void *ctx);

/* The commands: parse their own options and return the exit status
 * (check: 0 all valid, 1 a problem, 2 usage). */
int gd_cmd_check(int argc, char **argv);
int gd_cmd_default_policy(int argc, char **argv);
