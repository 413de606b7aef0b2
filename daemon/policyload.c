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

#include "util/log.h"

static void log_error_line(void *ctx, const char *line) {
        gd_log(GD_LOG_ERR, "{problem}", GD_STR("problem", line));
}

int gd_policy_load(const pol_source *src, pol_policy **ret_policy) {
        pol_errors *errs = calloc(1, sizeof(*errs)); /* ~280 KiB: not on the stack */
        pol_policy *p = NULL;
        int r;

        if (!errs)
                return -ENOMEM;
        r = pol_source_load(src, &p, errs);
        if (r < 0) {
                /* Through the log (its format, its non-blocking stderr),
                 * in guardian check's FILE:LINE:COL form. */
                pol_errors_each(errs, log_error_line, NULL);
                if (errs->n == 0)
                        gd_log(GD_LOG_ERR, "cannot load the policy from {source}: {error}",
                               GD_STR("source", pol_source_name(src)), GD_ERRNO(-r));
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
        if (!src->where.file && !src->where.dir)
                return 0;
        if (src->where.file) {
                snprintf(buf, sizeof(buf), "%s", src->where.file);
                dir = dirname(buf);
        } else {
                dir = src->where.dir;
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
        if (src->where.file) {
                char copy[PATH_MAX];
                snprintf(copy, sizeof(copy), "%s", src->where.file);
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
                        } else if (src->where.file) {
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
