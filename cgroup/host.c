#include "cgroup/host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int gd_host_open(const gd_host_paths *paths, char *why, size_t why_size, gd_host *ret_host) {
        const char *host_root = paths->host_root, *cgroup_root = paths->cgroup_root;
        const char *proc_root = paths->proc_root;
        char cg_default[4096], proc_default[4096];
        gd_host host;
        char mountinfo[4200];
        int r;

        memset(&host, 0, sizeof(host));
        host.rootfd = host.procfd = host.hostfd = -1;
        if (host_root) {
                /* "/host/" and "/" give "/host/proc" and "/proc", not "//proc". */
                int n = (int)strlen(host_root);
                while (n > 0 && host_root[n - 1] == '/')
                        n--;
                if (snprintf(cg_default, sizeof(cg_default), "%.*s/sys/fs/cgroup", n, host_root) >=
                            (int)sizeof(cg_default) ||
                    snprintf(proc_default, sizeof(proc_default), "%.*s/proc", n, host_root) >=
                            (int)sizeof(proc_default)) {
                        snprintf(why, why_size, "host root %s: %s", host_root, strerror(ENAMETOOLONG));
                        return -ENAMETOOLONG;
                }
                if (!cgroup_root)
                        cgroup_root = cg_default;
                if (!proc_root)
                        proc_root = proc_default;
        }
        if (!proc_root)
                proc_root = "/proc";
        if (snprintf(host.proc_path, sizeof(host.proc_path), "%s", proc_root) >=
            (int)sizeof(host.proc_path)) {
                snprintf(why, why_size, "proc root %s: %s", proc_root, strerror(ENAMETOOLONG));
                return -ENAMETOOLONG;
        }

        host.hostfd = open(host_root ? host_root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (host.hostfd < 0) {
                r = -errno;
                snprintf(why, why_size, "cannot open host root %s: %s", host_root ? host_root : "/",
                         strerror(-r));
                return r;
        }
        host.procfd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (host.procfd < 0) {
                r = -errno;
                snprintf(why, why_size, "cannot open proc root %s: %s", proc_root, strerror(-r));
                close(host.hostfd);
                return r;
        }

        snprintf(mountinfo, sizeof(mountinfo), "%s/self/mountinfo", proc_root);
        r = cg_root_find(cgroup_root, mountinfo, &host.root);
        if (r < 0) {
                if (cgroup_root)
                        snprintf(why, why_size, "%s is not a cgroup v2 hierarchy: %s",
                                 cgroup_root,
                                 r == -ENOTDIR ? "no cgroup.controllers in it" : strerror(-r));
                else
                        snprintf(why, why_size,
                                 "no cgroup v2 hierarchy found (tried /sys/fs/cgroup, "
                                 "/sys/fs/cgroup/unified and %s); use --cgroup-root",
                                 mountinfo);
                close(host.procfd);
                close(host.hostfd);
                return r;
        }
        host.rootfd = open(host.root.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (host.rootfd < 0) {
                r = -errno;
                snprintf(why, why_size, "cannot open cgroup root %s: %s", host.root.path,
                         strerror(-r));
                close(host.procfd);
                close(host.hostfd);
                return r;
        }
        long ps = sysconf(_SC_PAGESIZE);
        host.page_size = ps > 0 ? (uint64_t)ps : 4096;
        *ret_host = host;
        return 0;
}

void gd_host_close(gd_host *host) {
        if (host->rootfd >= 0)
                close(host->rootfd);
        if (host->procfd >= 0)
                close(host->procfd);
        if (host->hostfd >= 0)
                close(host->hostfd);
        host->rootfd = host->procfd = host->hostfd = -1;
}
