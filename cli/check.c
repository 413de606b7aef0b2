#include "cli/check.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy/source.h"

static void print_line(void *out, const char *line) {
        fprintf(out, "%s\n", line);
}

void gd_check_print_errors(FILE *out, const pol_errors *errs) {
        pol_errors_each(errs, print_line, out);
}

static void check_usage(FILE *out) {
        fputs("usage: guardian check [--help] FILE|DIR...\n"
              "\n"
              "Validate policy files as `guardian run` would load them. A directory is\n"
              "read as --policy-dir reads it: its *.yaml files (not hidden ones, not\n"
              "subdirectories) merged in file name order. Prints every problem as\n"
              "FILE:LINE:COL: message and exits 1, or FILE: ok and exits 0.\n",
              out);
}

/* Hooks run commands as root: say that the policy has some. */
static const char *hooks_note(const pol_policy *p) {
        bool any = pol_effective_hook(p, NULL, false) || pol_effective_hook(p, NULL, true);

        for (size_t i = 0; i < p->n_workloads && !any; i++)
                any = pol_effective_hook(p, &p->workloads[i], false) ||
                      pol_effective_hook(p, &p->workloads[i], true);
        return any ? ", with hooks" : "";
}

/* One argument: 0 valid, 1 not. */
static int check_one(const char *path, pol_errors *errs) {
        struct stat st;
        pol_policy *p = NULL;

        /* stat follows symlinks: a link to a ConfigMap directory is a
         * directory. What cannot be stat'ed goes to pol_load_file, which
         * says why in its own words. */
        bool dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        pol_source src = {.file = dir ? NULL : path, .dir = dir ? path : NULL};
        int r = pol_source_load(&src, &p, errs);
        if (r < 0) {
                gd_check_print_errors(stderr, errs);
                if (errs->n == 0)
                        fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return 1;
        }
        if (dir && p->n_files == 0)
                printf("%s: ok (no *.yaml files: the embedded default policy applies)\n", path);
        else
                printf("%s: ok (%zu workload%s%s)\n", path, p->n_workloads,
                       p->n_workloads == 1 ? "" : "s", hooks_note(p));
        pol_free(p);
        return 0;
}

int gd_cmd_check(int argc, char **argv) {
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int opt, status = 0;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
                switch (opt) {
                case 'h':
                        check_usage(stdout);
                        return 0;
                default:
                        check_usage(stderr);
                        return 2;
                }
        }
        if (optind >= argc) {
                check_usage(stderr);
                return 2;
        }
        /* ~280 KiB: too big for a stack a caller might have made small. */
        pol_errors *errs = calloc(1, sizeof(*errs));
        if (!errs) {
                fprintf(stderr, "guardian check: %s\n", strerror(ENOMEM));
                return 1;
        }
        for (int i = optind; i < argc; i++)
                if (check_one(argv[i], errs) != 0)
                        status = 1;
        free(errs);
        if (fflush(stdout) != 0)
                status = 1;
        return status;
}

int gd_cmd_default_policy(int argc, char **argv) {
        if (argc > 1) {
                bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
                fputs("usage: guardian default-policy\n"
                      "\n"
                      "Print the embedded default policy (YAML, with comments): a starting\n"
                      "point for a policy file.\n",
                      help ? stdout : stderr);
                return help ? 0 : 2;
        }
        fputs(pol_default_yaml, stdout);
        /* "> file" on a full disk must not look like success. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "guardian default-policy: write error: %s\n", strerror(errno));
                return 1;
        }
        return 0;
}
