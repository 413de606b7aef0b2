/* The tree walk (walk.h). */
#include "cgroup/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "cgroup/cgroup.h"

static void trouble(const cg_walk_visitor *v, cg_walk_trouble what, const char *rel,
                    const char *name, int err) {
        if (v->trouble)
                v->trouble(v->userdata, what, rel, name, err);
}

int cg_walk(int cgfd, const char *rel, unsigned depth, const cg_walk_visitor *v) {
        char **names = NULL;
        size_t n = 0, n_walk;
        int r = v->visit(v->userdata, cgfd, rel, depth);

        if (r != CG_WALK_DESCEND)
                return r == CG_WALK_SKIP ? 0 : r;
        r = cg_list_children(cgfd, &names, &n);
        if (r < 0) {
                trouble(v, CG_WALK_UNLISTED, rel, NULL, r);
                return 0;
        }
        n_walk = n;
        if (depth >= v->max_depth && n > 0) {
                trouble(v, CG_WALK_TOO_DEEP, rel, NULL, 0);
                n_walk = 0;
        }
        r = 0;
        for (size_t i = 0; i < n_walk && r == 0; i++) {
                char child[PATH_MAX];
                if (cg_rel_child(rel, names[i], child, sizeof(child)) < 0) {
                        trouble(v, CG_WALK_NAME_TOO_LONG, rel, names[i], -ENAMETOOLONG);
                        continue;
                }
                int fd = openat(cgfd, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        trouble(v, CG_WALK_UNOPENED, rel, names[i], -errno);
                        continue;
                }
                r = cg_walk(fd, child, depth + 1, v);
                close(fd);
        }
        cg_free_names(names, n);
        return r;
}
