/* guardian: a cgroup v2 memory guardian for container hosts. */
#include <stdio.h>
#include <string.h>

#include "cli/check.h"
#include "daemon/daemon.h"
#include "cli/explain.h"
#include "cli/rank.h"
#include "cli/status.h"
#include "util/version.h"

static void usage(FILE *out) {
        fputs("usage: guardian COMMAND [OPTIONS]\n"
              "\n"
              "commands:\n"
              "  run            the daemon: watch every cgroup, kill before the kernel's OOM killer\n"
              "  rank CGROUP    rank a cgroup's processes as the kernel's memcg OOM killer would\n"
              "  status         what the running daemon watches, and its recent kills\n"
              "  explain CGROUP which workload a cgroup and its processes match, and their scores\n"
              "  check PATH...  validate policy files or policy directories\n"
              "  default-policy print the embedded default policy (YAML)\n"
              "  version        print the version\n"
              "\n"
              "Run 'guardian COMMAND --help' for a command's options.\n",
              out);
}

int main(int argc, char **argv) {
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        const char *cmd = argv[1];
        if (strcmp(cmd, "run") == 0)
                return gd_cmd_run(argc - 1, argv + 1);
        if (strcmp(cmd, "rank") == 0)
                return gd_cmd_rank(argc - 1, argv + 1);
        if (strcmp(cmd, "status") == 0)
                return gd_cmd_status(argc - 1, argv + 1);
        if (strcmp(cmd, "explain") == 0)
                return gd_cmd_explain(argc - 1, argv + 1);
        if (strcmp(cmd, "check") == 0)
                return gd_cmd_check(argc - 1, argv + 1);
        if (strcmp(cmd, "default-policy") == 0)
                return gd_cmd_default_policy(argc - 1, argv + 1);
        if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
                printf("guardian %s\n", GUARDIAN_VERSION);
                return 0;
        }
        if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
                usage(stdout);
                return 0;
        }
        fprintf(stderr, "guardian: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
}
