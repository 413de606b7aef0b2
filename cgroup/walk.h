/* The one walk of a cgroup tree: pre-order, children in creation order
 * (the order of the kernel's for_each_mem_cgroup_tree()), one directory fd
 * open per level, a depth cap, and every place the walk could not go
 * handed to the caller instead of being dropped silently: the watch set
 * covers it with a parent, a snapshot counts it as unread, a search passes
 * it over. */
#pragma once

#include <stdbool.h>

/* A place the walk could not go; the walk goes on past it. */
typedef enum cg_walk_trouble {
        CG_WALK_UNLISTED,      /* rel's children could not be listed (err) */
        CG_WALK_TOO_DEEP,      /* rel has children but sits at the depth cap */
        CG_WALK_NAME_TOO_LONG, /* rel's child name has a path past PATH_MAX */
        CG_WALK_UNOPENED,      /* rel's child name could not be opened (err;
                                * -ENOENT: removed since the listing) */
} cg_walk_trouble;

/* What a visitor returns: go below, not below, or end the whole walk. A
 * negative errno also ends it and is returned by cg_walk(). */
enum {
        CG_WALK_DESCEND = 0,
        CG_WALK_SKIP = 1,
        CG_WALK_STOP = 2,
};

typedef struct cg_walk_visitor {
        /* The cgroup at cgfd (borrowed: dup it to keep it), rel its path
         * ("" for the tree's root), depth its depth (as passed to cg_walk()
         * for the first, one more per level). */
        int (*visit)(void *userdata, int cgfd, const char *rel, unsigned depth);
        /* Optional; err is a negative errno (0 for TOO_DEEP). */
        void (*trouble)(void *userdata, cg_walk_trouble what, const char *rel, const char *name,
                        int err);
        void *userdata;
        unsigned max_depth; /* the children of a cgroup at this depth are not walked */
} cg_walk_visitor;

/* Walk the subtree at cgfd (borrowed), whose path is rel at depth. Returns
 * 0 when the whole subtree was visited, CG_WALK_STOP when the visitor
 * ended it, or the visitor's negative errno. */
int cg_walk(int cgfd, const char *rel, unsigned depth, const cg_walk_visitor *v);
