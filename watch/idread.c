/* Reading a container's identity from the host's files (ident.h): which
 * prefix of a cgroup path is the container, the trust checks, the
 * runtimes' files opened without following a symlink.
 *
 * Where ident.h is silent: every path opened here is made of constant
 * components and a checked id (64 lowercase hex) or a containerd
 * namespace name read from its directory (checked: no '/', not "." or
 * ".."); nothing of a cgroup's name reaches a path otherwise. */
#include "watch/ident.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgns.h"
#include "cgroup/cgroup.h"
#include "policy/container.h"
#include "proc/proc.h"
#include "util/jsonread.h"

/* Namespace directories of containerd's task dir tried, at most: a host
 * has a handful (k8s.io, moby, default); the bound keeps one lookup cheap. */
#define IDREAD_NS_MAX 32
/* containerd's own limit on a namespace name (namespaces/validate.go). */
#define IDREAD_NS_LEN_MAX 76
#define ID_LEN 64

#define CONTAINERD_TASKS "run/containerd/io.containerd.runtime.v2.task"
/* containers/storage keeps a container under <root>/<driver>-containers:
 * the run root first (the live one), then the graph root, for each
 * storage driver Debian's Podman and CRI-O can use (overlay the default;
 * vfs where overlay cannot nest, as in our test VM). */
static const char *const storage_dirs[] = {
        "run/containers/storage/overlay-containers", "run/containers/storage/vfs-containers",
        "run/containers/storage/btrfs-containers",   "run/containers/storage/zfs-containers",
        "var/lib/containers/storage/overlay-containers",
        "var/lib/containers/storage/vfs-containers",
        "var/lib/containers/storage/btrfs-containers",
        "var/lib/containers/storage/zfs-containers",
};
#define N_STORAGE_DIRS (sizeof(storage_dirs) / sizeof(storage_dirs[0]))

/* Can the component s[0..n) name a container? Every name the path's
 * reader (policy/container.c) takes ends in an id of at least 12 hex
 * digits, before an optional ".scope": the others need not be read. */
static bool may_name_container(const char *s, size_t n) {
        if (n >= 6 && memcmp(s + n - 6, ".scope", 6) == 0)
                n -= 6;
        if (n < 12)
                return false;
        for (size_t i = n - 12; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

static bool all_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

int gd_ident_container_of(const char *rel, char *buf, size_t size, pol_container *ret_pc) {
        char prefix[PATH_MAX];
        size_t len = strnlen(rel, sizeof(prefix)), start = 0;

        if (len == sizeof(prefix))
                return -ENAMETOOLONG;
        /* The shortest prefix, ending at a component's end, in which the
         * path's reader finds a container is the outermost container. */
        for (size_t end = 1; end <= len; end++) {
                pol_container pc;

                if (end < len && rel[end] != '/')
                        continue;
                size_t comp = start;
                start = end + 1;
                if (!may_name_container(rel + comp, end - comp))
                        continue;
                memcpy(prefix, rel, end);
                prefix[end] = '\0';
                if (!pol_container_from_cgroup(prefix, &pc) || !pc.id[0]) {
                        /* A bare full id under any parent: Docker's cgroupfs
                         * driver with --cgroup-parent ("batch/<id>"). The
                         * runtime is unnamed; the state files (and the trust
                         * rules) decide. */
                        if (end - comp != ID_LEN || !all_hex(rel + comp, ID_LEN))
                                continue;
                        memset(&pc, 0, sizeof(pc));
                        memcpy(pc.id, rel + comp, ID_LEN);
                }
                if (end >= size)
                        return -ENAMETOOLONG;
                memcpy(buf, prefix, end + 1);
                *ret_pc = pc;
                return 1;
        }
        return 0;
}

/* Runtimes name a container's cgroup by the full id: anything else is a
 * lookalike and never goes into a path. */
static bool is_full_id(const char *id) {
        size_t n = strnlen(id, ID_LEN + 1);

        if (n != ID_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
                        return false;
        return true;
}

/* Open the directory path (components separated by '/', relative to
 * dirfd) one component at a time, following no symlink. Returns the fd
 * or a negative errno (-ELOOP or -ENOTDIR for a symlink). */
static int open_dir(int dirfd, const char *path) {
        char comp[NAME_MAX + 1];
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);

        if (fd < 0)
                return -errno;
        for (const char *s = path; *s;) {
                const char *slash = strchr(s, '/');
                size_t n = slash ? (size_t)(slash - s) : strlen(s);
                int next;

                if (n == 0 || n > NAME_MAX) {
                        close(fd);
                        return -EINVAL;
                }
                memcpy(comp, s, n);
                comp[n] = '\0';
                next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                int err = -errno;
                close(fd);
                if (next < 0)
                        return err;
                fd = next;
                s += n;
                if (*s == '/')
                        s++;
        }
        return fd;
}

/* Read the regular file name in the directory dir (below dirfd) whole
 * into a malloc'd *ret_buf. Returns 0, -EFBIG past GD_JREAD_SIZE_MAX,
 * -EINVAL not a regular file, -EAGAIN it grew while read (rewritten in
 * place: try later), or another negative errno. */
static int read_state(int dirfd, const char *dir, const char *name, char **ret_buf,
                      size_t *ret_len) {
        int d = open_dir(dirfd, dir);
        struct stat st;
        char *buf;
        size_t len = 0;

        if (d < 0)
                return d;
        int fd = openat(d, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        int r = fd < 0 ? -errno : 0;
        close(d);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode))
                r = -EINVAL;
        if (r < 0) {
                close(fd);
                return r;
        }
        if (st.st_size > GD_JREAD_SIZE_MAX) {
                close(fd);
                return -EFBIG;
        }
        /* One byte more than fstat said: a file that grows meanwhile is seen. */
        buf = malloc((size_t)st.st_size + 1);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        for (;;) {
                ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > (size_t)st.st_size) {
                        r = -EAGAIN;
                        break;
                }
        }
        close(fd);
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret_buf = buf;
        *ret_len = len;
        return 0;
}

typedef int (*parse_fn)(const char *buf, size_t len, gd_container_ident *ret);

/* dir/name parsed by parse into *ret. */
static int read_parse(int hostfd, const char *dir, const char *name, parse_fn parse,
                      gd_container_ident *ret) {
        char *buf;
        size_t len;
        int r = read_state(hostfd, dir, name, &buf, &len);

        if (r < 0)
                return r;
        r = parse(buf, len, ret);
        free(buf);
        return r;
}

/* The error to report of two tries: the first that says more than
 * -ENOENT (nothing there); 0 when either read. */
static int worse(int a, int b) {
        if (a == 0 || b == 0)
                return 0;
        return a == -ENOENT ? b : a;
}

/* Rule (c): is process pid (0: none told) in cgroup key or below?
 * Returns 0, 1 when it is elsewhere, -ESRCH no pid or no such process. */
static int pid_in_cgroup(const gd_ident_src *src, long pid, const char *key) {
        char cg[PATH_MAX];

        if (pid <= 0 || pid > INT_MAX)
                return -ESRCH;
        char tree[PATH_MAX];
        int r = proc_read_cgroup(src->procfd, (pid_t)pid, cg, sizeof(cg));
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        /* As /proc shows it from guardian's cgroup namespace; in the tree's
         * terms when that namespace is not the tree's root. A path outside
         * the tree is elsewhere. */
        if (src->ns_root && strcmp(src->ns_root, "/") != 0 && src->ns_root[0]) {
                if (cg_path_from_ns(src->ns_root, cg, tree, sizeof(tree)) < 0)
                        return 1;
                memcpy(cg, tree, strlen(tree) + 1);
        }
        /* "/system.slice/docker-<id>.scope": rel has no leading slash. */
        return cg[0] == '/' && cg_rel_under(cg + 1, key) ? 0 : 1;
}

/* Docker's State: running, with a pid whose cgroup is key or below (rule
 * (c)). Returns 0, 1 when the pid is elsewhere (UNTRUSTED), -ESRCH not
 * running or the process gone, -EBADMSG. */
static int docker_pid_check(const gd_ident_src *src, const char *buf, size_t len,
                            const char *key) {
        gd_jdoc d;
        char num[24];
        int r = gd_jread_parse(buf, len, &d);
        long pid = 0;

        if (r < 0)
                return r;
        int run = gd_jread_path(&d, 0, "State.Running");
        int p = gd_jread_path(&d, 0, "State.Pid");
        if (run >= 0 && p >= 0 && gd_jread_type(&d, (size_t)run) == GD_JTRUE &&
            gd_jread_type(&d, (size_t)p) == GD_JNUMBER && d.toks[p].len < sizeof(num)) {
                char *end;
                memcpy(num, d.text + d.toks[p].start, d.toks[p].len);
                num[d.toks[p].len] = '\0';
                pid = strtol(num, &end, 10);
                if (*end)
                        pid = 0;
        }
        gd_jread_free(&d);
        return pid_in_cgroup(src, pid, key);
}

static int read_docker(const gd_ident_src *src, const char *key, const char *id,
                       gd_container_ident *ret, bool *ret_untrusted) {
        char dir[128], *buf;
        size_t len;
        gd_container_ident c;

        snprintf(dir, sizeof(dir), "var/lib/docker/containers/%s", id);
        int r = read_state(src->hostfd, dir, "config.v2.json", &buf, &len);
        if (r < 0)
                return r;
        r = gd_ident_from_docker(buf, len, &c);
        if (r == 0 && src->procfd >= 0) {
                r = docker_pid_check(src, buf, len, key);
                if (r == 1) {
                        *ret_untrusted = true;
                        r = 0;
                }
        }
        free(buf);
        if (r == 0)
                *ret = c;
        return r;
}

/* A containerd namespace's directory name: what containerd allows, and
 * never a path of its own. */
static bool is_namespace(const char *s) {
        size_t n = strnlen(s, IDREAD_NS_LEN_MAX + 1);

        if (n == 0 || n > IDREAD_NS_LEN_MAX || s[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
                        return false;
        return true;
}

/* containerd's namespaces by their users: the kubelet's, Docker's, ctr's
 * and nerdctl's. Tried first, so that a host with many namespaces still
 * finds these past IDREAD_NS_MAX. */
static const char *const known_namespaces[] = {"k8s.io", "moby", "default"};

static bool is_known_namespace(const char *s) {
        for (size_t i = 0; i < sizeof(known_namespaces) / sizeof(known_namespaces[0]); i++)
                if (strcmp(s, known_namespaces[i]) == 0)
                        return true;
        return false;
}

/* The bundle's init.pid (runc's --pid-file, "%d"), for rule (c). Returns
 * as pid_in_cgroup; -ESRCH while there is none yet (runc writes it after
 * it made the cgroup). */
static int bundle_pid_check(const gd_ident_src *src, int tasks, const char *path,
                            const char *key) {
        char *buf, num[16];
        size_t len;
        int r = read_state(tasks, path, "init.pid", &buf, &len);

        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                len--;
        bool ok = len > 0 && len < sizeof(num);
        if (ok)
                memcpy(num, buf, len);
        free(buf);
        if (!ok)
                return -EBADMSG;
        num[len] = '\0';
        char *end;
        long pid = strtol(num, &end, 10);
        return *end ? -EBADMSG : pid_in_cgroup(src, pid, key);
}

/* <ns>/<id>/config.json below the task directory; with a procfd, its
 * init.pid must be in key (rule (c)): *ret_untrusted when it is not. */
static int read_bundle(const gd_ident_src *src, int tasks, const char *ns, const char *id,
                       const char *key, gd_container_ident *ret, bool *ret_untrusted) {
        char path[NAME_MAX + 1 + ID_LEN + 1];
        gd_container_ident c;

        snprintf(path, sizeof(path), "%.*s/%s", NAME_MAX, ns, id);
        int r = read_parse(tasks, path, "config.json", gd_ident_from_containerd, &c);
        if (r == 0 && src->procfd >= 0) {
                r = bundle_pid_check(src, tasks, path, key);
                if (r == 1) {
                        *ret_untrusted = true;
                        r = 0;
                }
        }
        if (r == 0)
                *ret = c;
        return r;
}

static int read_containerd(const gd_ident_src *src, const char *key, const char *id,
                           gd_container_ident *ret, bool *ret_untrusted) {
        int tasks = open_dir(src->hostfd, CONTAINERD_TASKS);
        int r = -ENOENT;
        unsigned tried = 0;

        if (tasks < 0)
                return tasks;
        for (size_t i = 0; i < sizeof(known_namespaces) / sizeof(known_namespaces[0]); i++) {
                r = worse(r, read_bundle(src, tasks, known_namespaces[i], id, key, ret,
                                         ret_untrusted));
                if (r == 0) {
                        close(tasks);
                        return 0;
                }
        }
        int lfd = fcntl(tasks, F_DUPFD_CLOEXEC, 3);
        DIR *dir = lfd >= 0 ? fdopendir(lfd) : NULL;
        if (!dir) {
                if (lfd >= 0)
                        close(lfd);
                close(tasks);
                return r;
        }
        struct dirent *e;
        while (tried < IDREAD_NS_MAX && (e = readdir(dir))) {
                if (!is_namespace(e->d_name) || is_known_namespace(e->d_name))
                        continue;
                tried++;
                r = worse(r, read_bundle(src, tasks, e->d_name, id, key, ret, ret_untrusted));
                if (r == 0)
                        break;
        }
        closedir(dir);
        close(tasks);
        return r;
}

/* CRI-O's and Podman's config.json: the run root first (the live one),
 * then the graph root. */
static int read_userdata(const gd_ident_src *src, const char *id, parse_fn parse,
                         gd_container_ident *ret) {
        int r = -ENOENT;

        for (size_t i = 0; i < N_STORAGE_DIRS; i++) {
                char dir[160];
                snprintf(dir, sizeof(dir), "%s/%s/userdata", storage_dirs[i], id);
                int q = read_parse(src->hostfd, dir, "config.json", parse, ret);
                if (q == 0)
                        return 0;
                r = worse(r, q);
        }
        return r;
}

static int read_podman(const gd_ident_src *src, const char *id, gd_container_ident *ret) {
        static const char *const lists[] = {"volatile-containers.json", "containers.json"};
        gd_container_ident c;
        int r = read_userdata(src, id, gd_ident_from_podman, &c);

        if (r < 0)
                return r;
        r = -ENOENT;
        for (size_t i = 0; i < 2 * N_STORAGE_DIRS; i++) {
                char *buf;
                size_t len;
                int q = read_state(src->hostfd, storage_dirs[i / 2], lists[i % 2], &buf, &len);
                if (q == 0) {
                        q = gd_ident_merge_podman_storage(buf, len, id, &c);
                        free(buf);
                }
                if (q == 0) {
                        *ret = c;
                        return 0;
                }
                r = worse(r, q);
        }
        return r;
}

/* Rule (b): the root and every level down to key owned by src->owner.
 * Returns 0, 1 when one is not (or key is too deep), -ENOENT gone. */
static int check_owner(const gd_ident_src *src, const char *key) {
        char prefix[PATH_MAX];
        struct stat st;
        unsigned depth = 0;
        size_t len = strlen(key);

        if (fstat(src->cgrootfd, &st) < 0)
                return -errno;
        if (st.st_uid != src->owner)
                return 1;
        for (size_t end = 1; end <= len; end++) {
                if (end < len && key[end] != '/')
                        continue;
                if (++depth > GD_IDENT_DEPTH_MAX)
                        return 1;
                memcpy(prefix, key, end);
                prefix[end] = '\0';
                if (fstatat(src->cgrootfd, prefix, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (!S_ISDIR(st.st_mode) || st.st_uid != src->owner)
                        return 1;
        }
        return 0;
}

int gd_ident_read(const gd_ident_src *src, const char *rel, gd_container_ident *ret,
                  gd_ident_state *ret_state) {
        char key[PATH_MAX];
        pol_container pc;
        gd_container_ident c;
        bool untrusted = false;
        int r = gd_ident_container_of(rel, key, sizeof(key), &pc);

        if (r < 0)
                return r;
        if (r == 0) {
                *ret_state = GD_IDENT_NONE;
                return 0;
        }
        if (!is_full_id(pc.id)) {
                *ret_state = GD_IDENT_UNAVAILABLE;
                return 0;
        }
        r = check_owner(src, key);
        if (r < 0)
                return r;
        if (r == 1) {
                *ret_state = GD_IDENT_UNTRUSTED;
                return 0;
        }
        switch (pc.runtime) {
        case POL_RUNTIME_DOCKER:
                r = read_docker(src, key, pc.id, &c, &untrusted);
                break;
        case POL_RUNTIME_CONTAINERD:
                r = read_containerd(src, key, pc.id, &c, &untrusted);
                break;
        case POL_RUNTIME_CRIO:
                r = read_userdata(src, pc.id, gd_ident_from_crio, &c);
                break;
        case POL_RUNTIME_PODMAN:
                r = read_podman(src, pc.id, &c);
                break;
        default:
                /* A bare id: below a cgroupfs pod (the kubelet's runtimes), or
                 * Docker's cgroupfs driver under a --cgroup-parent. Docker
                 * first: its containers are containerd's too (namespace
                 * moby), whose bundle has none of their names. */
                r = read_docker(src, key, pc.id, &c, &untrusted);
                if (r < 0)
                        r = worse(r, read_containerd(src, key, pc.id, &c, &untrusted));
                if (r < 0)
                        r = worse(r, read_userdata(src, pc.id, gd_ident_from_crio, &c));
                break; /* worse() is 0 as soon as one read: c is that one */
        }
        if (r < 0)
                return r;
        if (untrusted) {
                *ret_state = GD_IDENT_UNTRUSTED;
                return 0;
        }
        /* The files that say an id must say this one: another's is not its. */
        if (c.id[0] && strcmp(c.id, pc.id) != 0)
                return -EBADMSG;
        memcpy(c.id, pc.id, ID_LEN + 1); /* is_full_id: 64 and its NUL */
        *ret = c;
        *ret_state = GD_IDENT_KNOWN;
        return 0;
}
