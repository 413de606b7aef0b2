/* Protection knobs (memory.min, memory.low, memory.high) written through
 * libcgroup, as the project's cgroup layer does for set-up writes. Reads
 * stay on our own fds (libcgroup's read path costs milliseconds). */
#include "cgroup/cgroup.h"

#include <inttypes.h>
#include <libcgroup.h>
#include <stdio.h>
#include <string.h>

static int from_libcgroup(int code) {
        if (code == 0)
                return 0;
        if (code == ECGROUPNOTEXIST)
                return -ENOENT;
        if (code == ECGOTHER) {
                int e = cgroup_get_last_errno();
                return e > 0 ? -e : -EIO;
        }
        if (code == ECGROUPNOTMOUNTED || code == ECGROUPSUBSYSNOTMOUNTED)
                return -ENODEV;
        return -EIO;
}

int cg_knobs_init(void) {
        /* Cheap after the first call; it reads the mount table once. */
        return from_libcgroup(cgroup_init());
}

int cg_knob_write(const char *rel, const char *name, uint64_t value) {
        char text[32];
        int r;

        if (strcmp(name, "memory.min") != 0 && strcmp(name, "memory.low") != 0 &&
            strcmp(name, "memory.high") != 0)
                return -EINVAL;
        if (value == CG_UNLIMITED)
                snprintf(text, sizeof(text), "max");
        else
                snprintf(text, sizeof(text), "%" PRIu64, value);

        struct cgroup *cg = cgroup_new_cgroup(*rel ? rel : "/");
        if (!cg)
                return -ENOMEM;
        struct cgroup_controller *ctrl = cgroup_add_controller(cg, "memory");
        if (!ctrl) {
                cgroup_free(&cg);
                return -ENOMEM;
        }
        r = from_libcgroup(cgroup_set_value_string(ctrl, name, text));
        if (r == 0)
                r = from_libcgroup(cgroup_modify_cgroup(cg));
        cgroup_free(&cg);
        return r;
}
