#include "daemon/policyload.h"

#include <errno.h>
#include <fnmatch.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/check.h"
#include "util/log.h"

void gd_policy_source_default(gd_policy_source *src) {
        struct stat st;

        if (!src->file && !src->dir && stat(GD_DEFAULT_POLICY_DIR, &st) == 0 &&
            S_ISDIR(st.st_mode))
                src->dir = GD_DEFAULT_POLICY_DIR;
}

const char *gd_policy_source_name(const gd_policy_source *src) {
        return src->file ? src->file : src->dir ? src->dir : "embedded default";
}

static void log_error_line(void *ctx, const char *line) {
        gd_log(GD_LOG_ERR, "%s", line);
}

int gd_policy_load(const gd_policy_source *src, pol_policy **ret_policy) {
        pol_errors *errs = calloc(1, sizeof(*errs)); /* ~280 KiB: not on the stack */
        pol_policy *p = NULL;
        int r;

        if (!errs)
                return -ENOMEM;
        if (src->file)
                r = pol_load_file(src->file, &p, errs);
        else if (src->dir)
                r = pol_load_dir(src->dir, &p, errs);
        else
                r = pol_default(&p);
        if (r < 0) {
                /* Through the log (its format, its non-blocking stderr),
                 * in guardian check's FILE:LINE:COL form. */
                gd_check_each_error(errs, log_error_line, NULL);
                if (errs->n == 0)
                        gd_log(GD_LOG_ERR, "cannot load the policy from %s: %s",
                               gd_policy_source_name(src), strerror(-r));
                free(errs);
                return r;
        }
        free(errs);
        *ret_policy = p;
        return 0;
}

int gd_policy_watch(gd_policy_source *src, int epfd, uint64_t tag) {
        char buf[PATH_MAX];
        const char *dir;

        src->inotify_fd = -1;
        if (!src->file && !src->dir)
                return 0;
        if (src->file) {
                snprintf(buf, sizeof(buf), "%s", src->file);
                dir = dirname(buf);
        } else {
                dir = src->dir;
        }
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* Editors replace files (IN_MOVED_TO), config management writes them
         * (IN_CLOSE_WRITE), and Kubernetes swaps a ..data symlink (IN_CREATE,
         * IN_MOVED_TO). */
        if (inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                               IN_DELETE | IN_ONLYDIR) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = tag};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        src->inotify_fd = fd;
        return 0;
}

bool gd_policy_changed(gd_policy_source *src) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool changed = false;
        char base[PATH_MAX] = "";

        if (src->inotify_fd < 0)
                return false;
        if (src->file) {
                char copy[PATH_MAX];
                snprintf(copy, sizeof(copy), "%s", src->file);
                snprintf(base, sizeof(base), "%s", basename(copy));
        }
        for (;;) {
                ssize_t n = read(src->inotify_fd, buf, sizeof(buf));
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *)p;
                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                changed = true;
                        } else if (ev->len == 0) {
                                continue;
                        } else if (src->file) {
                                changed = changed || strcmp(ev->name, base) == 0;
                        } else {
                                /* *.yaml files, and the ..data swap of a ConfigMap */
                                changed = changed || fnmatch("*.yaml", ev->name, 0) == 0 ||
                                          strcmp(ev->name, "..data") == 0;
                        }
                }
        }
        return changed;
}

void gd_policy_unwatch(gd_policy_source *src) {
        if (src->inotify_fd >= 0)
                close(src->inotify_fd);
        src->inotify_fd = -1;
}
