/* The hook runner: a process of its own, forked at start-up before the
 * daemon's sandbox (record/hooks.h says how the two talk). It includes
 * only the policy (its hooks, the message protocol) and utilities. */
#pragma once

#include "policy/policy.h"
#include "policy/source.h"

/* The runner's main: reads messages on sock and runs the hooks of policy
 * (its own copy), re-read from src when the daemon's policy generation
 * changes. Never returns. */
__attribute__((noreturn)) void gd_hooks_runner_main(int sock, const pol_source *src,
                                                    pol_policy *policy);
