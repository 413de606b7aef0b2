/* oom_score_adj written as the shell's `echo N > oom_score_adj` does. See
 * oomadj.h for the contracts. */
#include "util/oomadj.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* adj as "N\n" to path, relative to dirfd (AT_FDCWD for an absolute path). */
static int write_adj(int dirfd, const char *path, int adj) {
        char text[16];
        int len, fd, r = 0;

        if (adj < GD_OOMADJ_MIN || adj > GD_OOMADJ_MAX)
                return -EINVAL;
        len = snprintf(text, sizeof(text), "%d\n", adj);
        /* O_TRUNC: harmless on procfs (the shell's `echo N >` does the
         * same); a fixture's regular file is left holding the value alone. */
        fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, text, (size_t)len);
        if (n < 0)
                r = -errno;
        else if (n != len)
                r = -EIO;
        close(fd);
        return r;
}

int gd_oomadj_write_at(int dirfd, int adj) {
        return write_adj(dirfd, "oom_score_adj", adj);
}

int gd_oomadj_write_self(int adj) {
        return write_adj(AT_FDCWD, "/proc/self/oom_score_adj", adj);
}
