/* cgroup namespaces: /proc/PID/cgroup shows paths relative to the reader's
 * cgroup namespace root. A container with a private cgroup namespace that
 * watches the host's tree (a hostPath mount of /sys/fs/cgroup) reads
 * "/../../kubepods.slice/x" for a neighbour and "/" for itself; these pure
 * functions place such paths in the tree. Paths in and out are "/a/b"
 * ("/" for the root of the tree), as /proc shows them on the host. */
#pragma once

#include <stddef.h>

/* The tree path of ns_path, a path as /proc/PID/cgroup shows it inside a
 * cgroup namespace whose root is the tree's ns_root ("/a/b"; "" or "/" for
 * the tree's root): normalize(ns_root + "/" + ns_path), ".." and "."
 * resolved ("/a/b" + "/../c" -> "/a/c"). Returns 0, -EINVAL when ns_path
 * is not absolute, when ns_root holds ".." or when ".." climbs above the
 * tree's root (the cgroup is not in the tree: never a match),
 * -ENAMETOOLONG. */
int cg_path_from_ns(const char *ns_root, const char *ns_path, char *ret_path, size_t size);

/* The tree path of a cgroup namespace's root, from one cgroup both ways:
 * self_tree as found in the tree ("/a/b/c"), self_ns as /proc shows it
 * inside the namespace ("/c", or "/" at the namespace root): self_tree
 * with self_ns's components taken off its end ("/a/b"). Returns 0,
 * -EINVAL when self_ns is not absolute, holds ".." (the cgroup is above
 * the namespace root, which then cannot be told) or is not the end of
 * self_tree, -ENAMETOOLONG. */
int cg_ns_root_from(const char *self_tree, const char *self_ns, char *ret_root, size_t size);
