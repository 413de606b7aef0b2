/* `guardian explain CGROUP`: which workload of the policy a cgroup and its
 * processes match, why, and how that changes the kernel's ranking. */
#pragma once

/* The command: parses its own options. Returns the process exit status. */
int gd_cmd_explain(int argc, char **argv);
