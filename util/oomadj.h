/* The one writer of oom_score_adj, for every room and the hook runner: a
 * process's (through its /proc/PID directory fd) or this process's own.
 * Nothing here logs: the callers say what a failure means to them. */
#pragma once

/* The kernel's range of oom_score_adj (OOM_SCORE_ADJ_MIN/MAX). */
#define GD_OOMADJ_MIN (-1000)
#define GD_OOMADJ_MAX 1000

/* Write adj to dirfd's "oom_score_adj" (dirfd: /proc/PID, or any directory
 * in tests). Returns 0, -EINVAL for adj outside GD_OOMADJ_MIN..MAX (nothing
 * written), -EIO on a short write, or the negative errno of the open or
 * the write (-ENOENT: no such file, -ESRCH: the process is gone, -EACCES:
 * lowering it takes CAP_SYS_RESOURCE). */
int gd_oomadj_write_at(int dirfd, int adj);

/* The same for this process: /proc/self/oom_score_adj. */
int gd_oomadj_write_self(int adj);
