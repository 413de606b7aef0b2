/* Policy files and policy directories: read whole with a size cap, parse,
 * and for a directory merge the files into one policy, or fail as a
 * whole: a caller never gets half of a set of files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy-internal.h"

static const char *errstr(int e, char *buf, size_t size) {
        /* GNU strerror_r: thread-safe, returns the message. */
        return strerror_r(e, buf, size);
}

/* The whole of fd, at most POL_FILE_MAX bytes. A file may grow after
 * fstat, or report size 0 (procfs-like): read until EOF either way. */
static int read_all(int fd, char **ret_buf, size_t *ret_len) {
        size_t cap = 4096, n = 0;
        char *buf = malloc(cap);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (n == cap) {
                        if (cap > POL_FILE_MAX) {
                                free(buf);
                                return -EFBIG;
                        }
                        /* One byte past the cap tells "too big" from "full". */
                        size_t next = cap * 2 > POL_FILE_MAX + 1 ? POL_FILE_MAX + 1 : cap * 2;
                        char *grown = realloc(buf, next);
                        if (!grown) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = grown;
                        cap = next;
                }
                ssize_t r = read(fd, buf + n, cap - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        int e = -errno;
                        free(buf);
                        return e;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
        }
        *ret_buf = buf;
        *ret_len = n;
        return 0;
}

/* Refuse what is not a regular file before opening it: opening a device
 * or a FIFO can block or have side effects. fstat after the open closes
 * the race with a rename. */
static int check_type(const struct stat *st, const char *display, pol_errors *errs) {
        if (S_ISDIR(st->st_mode)) {
                pol_errors_add(errs, display, 0, 0, "is a directory, not a policy file");
                return -EISDIR;
        }
        if (!S_ISREG(st->st_mode)) {
                pol_errors_add(errs, display, 0, 0, "not a regular file");
                return -EINVAL;
        }
        if (st->st_size > (off_t)POL_FILE_MAX) {
                pol_errors_add(errs, display, 0, 0,
                               "too big: %lld bytes, a policy file holds at most %u",
                               (long long)st->st_size, POL_FILE_MAX);
                return -EFBIG;
        }
        return 0;
}

/* name relative to dirfd, called display in messages. Symlinks are
 * followed: Kubernetes mounts ConfigMap keys as symlinks. */
static int load_one(int dirfd, const char *name, const char *display, pol_policy **ret_policy,
                    pol_errors *errs, pol_file_info *info) {
        char eb[128];
        struct stat st;
        char *buf = NULL;
        size_t len = 0;
        int r;

        if (fstatat(dirfd, name, &st, 0) < 0) {
                r = -errno;
                pol_errors_add(errs, display, 0, 0, "cannot open: %s", errstr(-r, eb, sizeof(eb)));
                return r;
        }
        r = check_type(&st, display, errs);
        if (r < 0)
                return r;
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                pol_errors_add(errs, display, 0, 0, "cannot open: %s", errstr(-r, eb, sizeof(eb)));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                pol_errors_add(errs, display, 0, 0, "cannot stat: %s", errstr(-r, eb, sizeof(eb)));
        } else {
                r = check_type(&st, display, errs);
        }
        if (r == 0) {
                r = read_all(fd, &buf, &len);
                if (r == -EFBIG)
                        pol_errors_add(
                                errs, display, 0, 0,
                                "too big: more than %u bytes, a policy file holds at most %u",
                                POL_FILE_MAX, POL_FILE_MAX);
                else if (r < 0)
                        pol_errors_add(errs, display, 0, 0, "cannot read: %s",
                                       errstr(-r, eb, sizeof(eb)));
        }
        close(fd);
        if (r < 0)
                return r;
        r = pol_parse_append(display, buf, len, ret_policy, errs, info);
        free(buf);
        return r;
}

int pol_load_file(const char *path, pol_policy **ret_policy, pol_errors *errs) {
        pol_errors_reset(errs);
        return load_one(AT_FDCWD, path, path, ret_policy, errs, NULL);
}

/* ---- directories ---- */

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_policy_name(const char *name) {
        size_t len = strlen(name);

        /* Hidden files are editors' swap files and, in a ConfigMap mount,
         * the "..data" and "..2024_..." entries behind the symlinks. */
        return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".yaml") == 0;
}

static char *join_path(const char *dir, const char *name) {
        size_t len = strlen(dir);
        char *path;

        if (asprintf(&path, "%s%s%s", dir, len > 0 && dir[len - 1] == '/' ? "" : "/", name) < 0)
                return NULL;
        return path;
}

/* The policy files of a directory, sorted by name (bytewise, whatever the
 * locale, so every host loads them in the same order). */
static int list_dir(int dfd, const char *dir, char ***ret_names, size_t *ret_n, pol_errors *errs) {
        char eb[128], **names = NULL;
        size_t n = 0, cap = 0;
        int r = 0;

        int fd = dup(dfd);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                pol_errors_add(errs, dir, 0, 0, "cannot read directory: %s",
                               errstr(-r, eb, sizeof(eb)));
                return r;
        }
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno) {
                                r = -errno;
                                pol_errors_add(errs, dir, 0, 0, "cannot read directory: %s",
                                               errstr(-r, eb, sizeof(eb)));
                        }
                        break;
                }
                if (!is_policy_name(de->d_name))
                        continue;
                struct stat st;
                if (fstatat(dfd, de->d_name, &st, 0) < 0) {
                        /* A dangling symlink is not there: a ConfigMap
                         * update removes a key's link just after the swap. */
                        if (errno == ENOENT)
                                continue;
                        int e = errno;
                        char *path = join_path(dir, de->d_name);
                        pol_errors_add(errs, path ? path : dir, 0, 0, "cannot open: %s",
                                       errstr(e, eb, sizeof(eb)));
                        free(path);
                        r = -e;
                        continue;
                }
                if (!S_ISREG(st.st_mode))
                        continue;
                if (n == POL_WORKLOADS_MAX) {
                        pol_errors_add(errs, dir, 0, 0, "more than %d policy files",
                                       POL_WORKLOADS_MAX);
                        r = -EINVAL;
                        break;
                }
                if (n == cap) {
                        cap = cap ? cap * 2 : 16;
                        char **grown = realloc(names, cap * sizeof(*names));
                        if (!grown) {
                                r = -ENOMEM;
                                break;
                        }
                        names = grown;
                }
                if (!(names[n] = strdup(de->d_name))) {
                        r = -ENOMEM;
                        break;
                }
                n++;
        }
        closedir(d);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                return r;
        }
        if (n > 0)
                qsort(names, n, sizeof(*names), cmp_names);
        *ret_names = names;
        *ret_n = n;
        return 0;
}

/* One policy out of parsed files: files in order, at most one settings
 * and one defaults section, workloads concatenated, names unique. The
 * parts' workloads move into the result (their patterns with them). */
static int merge(pol_policy **parts, const pol_file_info *infos, size_t n, pol_policy **ret_policy,
                 pol_errors *errs) {
        size_t total = 0, problems = 0, settings_from = n, defaults_from = n;
        /* For each merged workload: which file, and where its name is. */
        size_t *from = NULL, *index = NULL;

        for (size_t i = 0; i < n; i++)
                total += parts[i]->n_workloads;
        if (total > POL_WORKLOADS_MAX)
                total = POL_WORKLOADS_MAX + 1; /* room to find the first one past the cap */
        pol_policy *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->files = calloc(n, sizeof(*m->files));
        m->workloads = calloc(total ? total : 1, sizeof(*m->workloads));
        from = calloc(total ? total : 1, sizeof(*from));
        index = calloc(total ? total : 1, sizeof(*index));
        if (!m->files || !m->workloads || !from || !index) {
                pol_free(m);
                free(from);
                free(index);
                return -ENOMEM;
        }
        m->version = POL_VERSION;
        pol_settings_builtin(&m->settings);
        pol_defaults_builtin(&m->defaults);

        for (size_t i = 0; i < n; i++) {
                /* The file names move: marks point into m->files now. */
                m->files[m->n_files++] = parts[i]->files[0];
                parts[i]->files[0] = NULL;
        }
        for (size_t i = 0; i < n; i++) {
                const pol_file_info *f = &infos[i];
                if (f->has_settings && settings_from < n) {
                        const pol_file_info *g = &infos[settings_from];
                        pol_errors_add(errs, m->files[i], f->settings_line, f->settings_column,
                                       "settings are already given at %s:%u:%u: one file of a "
                                       "policy directory may hold them",
                                       m->files[settings_from], g->settings_line,
                                       g->settings_column);
                        problems++;
                } else if (f->has_settings) {
                        settings_from = i;
                        m->settings = parts[i]->settings;
                        /* The hooks' commands are owned by m now. */
                        parts[i]->settings.hooks.pre_kill = (pol_command){0};
                        parts[i]->settings.hooks.post_kill = (pol_command){0};
                }
                if (f->has_defaults && defaults_from < n) {
                        const pol_file_info *g = &infos[defaults_from];
                        pol_errors_add(errs, m->files[i], f->defaults_line, f->defaults_column,
                                       "defaults are already given at %s:%u:%u: one file of a "
                                       "policy directory may hold them",
                                       m->files[defaults_from], g->defaults_line,
                                       g->defaults_column);
                        problems++;
                } else if (f->has_defaults) {
                        defaults_from = i;
                        m->defaults = parts[i]->defaults;
                }
        }
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < parts[i]->n_workloads; j++) {
                        pol_workload *w = &parts[i]->workloads[j];
                        const unsigned *mark = infos[i].name_marks[j];
                        if (m->n_workloads == POL_WORKLOADS_MAX) {
                                pol_errors_add(errs, m->files[i], w->mark.line, w->mark.column,
                                               "more than %d workloads in the policy directory",
                                               POL_WORKLOADS_MAX);
                                problems++;
                                goto done;
                        }
                        for (size_t k = 0; k < m->n_workloads; k++) {
                                if (strcmp(m->workloads[k].name, w->name) != 0)
                                        continue;
                                const unsigned *first = infos[from[k]].name_marks[index[k]];
                                pol_errors_add(errs, m->files[i], mark[0], mark[1],
                                               "workload '%s' is already defined at %s:%u:%u",
                                               w->name, m->files[from[k]], first[0], first[1]);
                                problems++;
                                break;
                        }
                        from[m->n_workloads] = i;
                        index[m->n_workloads] = j;
                        m->workloads[m->n_workloads] = *w;
                        m->workloads[m->n_workloads].mark.file = m->files[i];
                        m->n_workloads++;
                        /* Owned by m now. */
                        w->match = (pol_match){0};
                        w->hooks = (pol_hooks){0};
                }
        }
done:
        free(from);
        free(index);
        if (problems > 0) {
                pol_free(m);
                return -EINVAL;
        }
        *ret_policy = m;
        return 0;
}

int pol_load_dir(const char *dir, pol_policy **ret_policy, pol_errors *errs) {
        pol_policy **parts = NULL;
        pol_file_info *infos = NULL;
        char eb[128], **names = NULL;
        size_t n = 0;
        int r;

        pol_errors_reset(errs);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                r = -errno;
                pol_errors_add(errs, dir, 0, 0, "cannot open directory: %s",
                               errstr(-r, eb, sizeof(eb)));
                return r;
        }
        r = list_dir(dfd, dir, &names, &n, errs);
        if (r < 0)
                goto out;
        if (n == 0) {
                r = pol_default(ret_policy);
                goto out;
        }
        parts = calloc(n, sizeof(*parts));
        infos = calloc(n, sizeof(*infos));
        if (!parts || !infos) {
                r = -ENOMEM;
                goto out;
        }
        /* Every file is read even after a bad one, so that one `guardian
         * check DIR` reports the problems of all of them. */
        for (size_t i = 0; i < n; i++) {
                char *path = join_path(dir, names[i]);
                int q = path ? load_one(dfd, names[i], path, &parts[i], errs, &infos[i]) : -ENOMEM;
                free(path);
                if (q < 0 && r == 0)
                        r = q;
        }
        if (r == 0)
                r = merge(parts, infos, n, ret_policy, errs);
out:
        for (size_t i = 0; i < n; i++) {
                if (parts)
                        pol_free(parts[i]);
                if (infos)
                        free(infos[i].name_marks);
                free(names[i]);
        }
        free(parts);
        free(infos);
        free(names);
        close(dfd);
        return r;
}
