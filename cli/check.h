/* `guardian check FILE|DIR...` and `guardian default-policy`: validate
 * policies the way `guardian run` would load them, and print the
 * embedded default. */
#pragma once

#include <stdio.h>

#include "policy/policy.h"

/* Print each problem on a line of its own (pol_errors_each's lines). */
void gd_check_print_errors(FILE *out, const pol_errors *errs);

/* The commands: parse their own options and return the exit status
 * (check: 0 all valid, 1 a problem, 2 usage). */
int gd_cmd_check(int argc, char **argv);
int gd_cmd_default_policy(int argc, char **argv);
