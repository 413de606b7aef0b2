/* The watch set: which cgroups are watched (slots, their open fds, the
 * inotify watch of each directory, the fd budget, the depth cap), and how
 * it follows cgroups as they come and go. What is read through those fds
 * is sample.c; both are behind watch.h. */
#include "watch/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/walk.h"
#include "policy/match.h"

/* A stall of 150 ms within 1 s wakes us: well below the 40% the default
 * policy acts on, so guardian starts sampling before the threshold holds. */
#define PSI_TRIGGER "some 150000 1000000"
/* Levels below the root watched: bounds the recursion. A deeper subtree
 * answers to its ancestor at this level (gd_watched.unwatched_below). */

/* Keep a notice of kind about rel, the first time only. */
static void keep_notice(gd_watch *w, gd_watch_notice_kind kind, const char *rel, int err) {
        unsigned bit = 1u << kind;

        if (w->notices_made & bit)
                return;
        w->notices_made |= bit;
        w->notices_kept |= bit;
        gd_watch_notice *n = &w->notices[kind];
        n->kind = kind;
        snprintf(n->cgroup, sizeof(n->cgroup), "%s", rel);
        n->err = err;
        n->n_watched = w->n_watched;
}

bool gd_watch_take_notice(gd_watch *w, gd_watch_notice *ret) {
        for (int k = 0; k < GD_WATCH_NOTICE_KINDS; k++) {
                if (w->notices_kept & (1u << k)) {
                        w->notices_kept &= ~(1u << k);
                        *ret = w->notices[k];
                        return true;
                }
        }
        return false;
}

static int open_ro(int dirfd, const char *name) {
        return openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
}

static void close_fd(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

int gd_watch_init(gd_watch *w, int epfd, int rootfd, bool has_memory) {
        memset(w, 0, sizeof(*w));
        w->epfd = epfd;
        w->rootfd = rootfd;
        w->has_memory = has_memory;
        /* A trigger is a write: on anything but cgroupfs (a copied tree,
         * a fixture) it would overwrite the file. */
        struct statfs sfs;
        w->psi_triggers = fstatfs(rootfd, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
        w->next_generation = 1;
        w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->inotify_fd < 0)
                return -errno;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = gd_tag(GD_TAG_INOTIFY, 0, 0)};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->inotify_fd, &ev) < 0) {
                int r = -errno;
                close(w->inotify_fd);
                return r;
        }
        return 0;
}

static long find_rel(const gd_watch *w, const char *rel) {
        uint32_t s = gd_index_get_str(&w->by_rel, rel);
        return s == GD_INDEX_NONE ? -1 : (long)s;
}

static long find_wd(const gd_watch *w, int wd) {
        uint32_t s = gd_index_get_int(&w->by_wd, wd);
        return s == GD_INDEX_NONE ? -1 : (long)s;
}

gd_watched *gd_watch_find(const gd_watch *w, const char *rel) {
        long s = find_rel(w, rel);
        return s < 0 ? NULL : &w->slots[s];
}

gd_watched *gd_watch_find_wd(const gd_watch *w, int wd) {
        long s = find_wd(w, wd);
        return s < 0 ? NULL : &w->slots[s];
}

/* A slot not in use, from the stack of freed ones, else a new one at the
 * end. Returns its index, -ENOSPC past the 24 bits a tag has for it, or
 * -ENOMEM. The slot stays free until the caller marks it in use (or gives
 * it back with give_back). */
static long free_slot(gd_watch *w) {
        if (w->free_top) {
                uint32_t s = w->free_top - 1;
                w->free_top = w->slots[s].next_free;
                return (long)s;
        }
        if (w->n_slots == w->cap) {
                size_t ncap = w->cap ? w->cap * 2 : 64;
                if (ncap > 0xffffff)
                        return -ENOSPC; /* the epoll tag has 24 bits for the slot */
                gd_watched *n = realloc(w->slots, ncap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                w->slots = n;
                w->cap = ncap;
        }
        memset(&w->slots[w->n_slots], 0, sizeof(w->slots[0]));
        return (long)w->n_slots++;
}

/* Put a slot not in use on the stack of free ones. */
static void give_back(gd_watch *w, size_t slot) {
        w->slots[slot].next_free = w->free_top;
        w->free_top = (uint32_t)slot + 1;
}

bool gd_watch_set_trigger(gd_watch *w, gd_watched *c, bool on) {
        if (c->psi_trigger == on)
                return on;
        if (!on) {
                close_fd(&c->pressure_fd); /* leaves epoll, the trigger goes with it */
                c->psi_trigger = false;
                w->n_triggers--;
                c->pressure_fd = open_ro(c->dirfd, "memory.pressure");
                return false;
        }
        if (!w->psi_triggers || w->n_triggers >= GD_WATCH_TRIGGERS_MAX)
                return false;
        int fd = openat(c->dirfd, "memory.pressure", O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0 && write(fd, PSI_TRIGGER, strlen(PSI_TRIGGER) + 1) >= 0) {
                struct epoll_event ev = {
                        .events = EPOLLPRI,
                        .data.u64 = gd_tag(GD_TAG_PRESSURE, (uint32_t)(c - w->slots),
                                           c->generation),
                };
                if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
                        close_fd(&c->pressure_fd);
                        c->pressure_fd = fd;
                        c->psi_trigger = true;
                        w->n_triggers++;
                        return true;
                }
        }
        int err = errno;
        if (fd >= 0)
                close(fd);
        /* A refusal is a property of the kernel or of our privileges, not
         * of one cgroup: from now on every cgroup is polled. */
        if (err != ENOENT && err != ENODEV && err != EMFILE && err != ENFILE) {
                w->psi_triggers = false;
                keep_notice(w, GD_WATCH_PSI_REFUSED, c->rel, err);
        }
        return false;
}

/* The directory watch that reports c's children coming and going. A
 * refusal leaves c watched through its own files; its children are found
 * by gd_watch_retry_dir_watches instead. Returns true when c has its watch now. */
static bool add_dir_watch(gd_watch *w, gd_watched *c) {
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", c->dirfd);
        int wd = inotify_add_watch(w->inotify_fd, path, IN_CREATE | IN_DELETE | IN_ONLYDIR);
        if (wd < 0) {
                int err = errno;
                w->watch_failures++;
                keep_notice(w, GD_WATCH_NO_DIR_WATCH, c->rel, err);
                return false;
        }
        /* Cannot fail: add_one reserved a bucket for every slot in use. */
        if (gd_index_put_int(&w->by_wd, wd, (uint32_t)(c - w->slots)) < 0) {
                inotify_rm_watch(w->inotify_fd, wd);
                w->watch_failures++;
                keep_notice(w, GD_WATCH_NO_DIR_WATCH, c->rel, ENOMEM);
                return false;
        }
        c->wd = wd;
        w->n_no_dir_watch--;
        return true;
}

static int add_one(gd_watch *w, int dirfd, const char *rel) {
        long s = find_rel(w, rel);
        if (s >= 0) {
                close(dirfd);
                return 0;
        }
        /* Every allocation first, so that a failure leaves the watch as it
         * was: a bucket in each index for one more slot in use, the slot,
         * its path. */
        if (gd_index_reserve(&w->by_rel, w->n_watched + 1) < 0 ||
            gd_index_reserve(&w->by_wd, w->n_watched + 1) < 0) {
                close(dirfd);
                return -ENOMEM;
        }
        s = free_slot(w);
        if (s < 0) {
                close(dirfd);
                return (int)s;
        }
        gd_watched *c = &w->slots[s];
        char *copy = strdup(rel);
        if (!copy) {
                give_back(w, (size_t)s);
                close(dirfd);
                return -ENOMEM;
        }
        memset(c, 0, sizeof(*c));
        c->rel = copy;
        /* Cannot fail: reserved above. */
        (void)gd_index_put_str(&w->by_rel, c->rel, (uint32_t)s);
        c->dirfd = dirfd;
        c->events_fd = c->current_fd = c->pressure_fd = -1;
        c->generation = w->next_generation++;
        c->max = c->high = CG_UNLIMITED;
        c->in_use = true;
        w->n_watched++;
        if (w->ids)
                gd_idcache_appear(w->ids, c->rel); /* queued: no I/O here */

        c->wd = -1;
        w->n_no_dir_watch++;
        add_dir_watch(w, c);

        if (w->has_memory && *rel) {
                c->events_fd = open_ro(dirfd, "memory.events");
                c->current_fd = open_ro(dirfd, "memory.current");
                if (c->events_fd >= 0) {
                        /* A freshly opened kernfs file reports an event until it
                         * is first read: read it now, or every new cgroup looks
                         * busy and is sampled fast for nothing. */
                        char buf[512];
                        (void)cg_pread_file(c->events_fd, buf, sizeof(buf));
                        struct epoll_event ev = {
                                .events = EPOLLPRI,
                                .data.u64 = gd_tag(GD_TAG_EVENTS, (uint32_t)s, c->generation),
                        };
                        /* Without a wake-up (a filesystem that cannot poll), the
                         * file is still read on every sample. */
                        (void)epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->events_fd, &ev);
                }
                uint64_t v;
                if (cg_read_u64_or_max(dirfd, "memory.max", &v) == 0)
                        c->max = v;
                if (cg_read_u64_or_max(dirfd, "memory.high", &v) == 0)
                        c->high = v;
        }
        /* Never in epoll without a trigger: a plain pressure fd is always
         * ready. The light check arms one when the cgroup is warm. */
        if (*rel)
                c->pressure_fd = open_ro(dirfd, "memory.pressure");
        return 1;
}

/* Something below rel is not watched on its own (depth cap, fd budget, a
 * path too long to name): the nearest watched cgroup at or above rel
 * answers for it. Its memory.current and memory.events count it already;
 * host-pressure blame then counts its processes too. */
static void cover(gd_watch *w, const char *rel) {
        char anc[PATH_MAX];
        snprintf(anc, sizeof(anc), "%s", rel);
        for (;;) {
                long s = find_rel(w, anc);
                if (s >= 0) {
                        w->slots[s].unwatched_below = true;
                        return;
                }
                char *slash = strrchr(anc, '/');
                if (!*anc)
                        return;
                if (slash)
                        *slash = '\0';
                else
                        anc[0] = '\0';
        }
}

/* Is the cgroup at dirfd worth an fd budget slot: processes of its own, or a
 * memory limit? An empty cgroup without limits can give way. */
static bool worth_watching(int dirfd) {
        uint64_t v;
        pid_t *pids = NULL;
        size_t n = 0;
        if (cg_read_u64_or_max(dirfd, "memory.max", &v) == 0 && v != CG_UNLIMITED)
                return true;
        if (cg_read_u64_or_max(dirfd, "memory.high", &v) == 0 && v != CG_UNLIMITED)
                return true;
        if (cg_read_pids(dirfd, &pids, &n) == 0)
                free(pids);
        return n > 0;
}

/* At the fd budget, make room for a cgroup worth watching: stop watching
 * one that is empty and has no limit (the stated order of degradation).
 * Returns true when a slot was freed. */
static bool make_room(gd_watch *w) {
        if (w->no_room)
                return false;
        for (size_t k = 0; k < w->n_slots; k++) {
                size_t i = (w->evict_cursor + k) % w->n_slots;
                gd_watched *c = &w->slots[i];
                if (!c->in_use || !*c->rel || c->kill_pending || c->unwatched_below ||
                    worth_watching(c->dirfd))
                        continue;
                char rel[PATH_MAX];
                snprintf(rel, sizeof(rel), "%s", c->rel);
                gd_watch_remove(w, i);
                w->n_unwatched++;
                cover(w, rel);
                w->evict_cursor = i + 1;
                return true;
        }
        /* Every slot is worth keeping: do not look again in this walk (a
         * tenant's thousands of cgroups with limits would make it n^2). */
        w->no_room = true;
        return false;
}

/* May one more cgroup (at dirfd) be watched under the fd budget? */
static bool within_budget(gd_watch *w, int dirfd, const char *rel) {
        if (!w->max_watched || w->n_watched < w->max_watched || find_rel(w, rel) >= 0)
                return true;
        if (worth_watching(dirfd) && make_room(w))
                return true;
        w->n_unwatched++;
        keep_notice(w, GD_WATCH_BUDGET, rel, 0);
        return false;
}

/* gd_watch_add_tree's walk (cgroup/walk.h). */
typedef struct add_walk {
        gd_watch *w;
        int added;
        int err;               /* the first cgroup's, when it could not be added */
        unsigned first_depth;
} add_walk;

static int add_visit(void *userdata, int dirfd, const char *rel, unsigned depth) {
        add_walk *a = userdata;
        gd_watch *w = a->w;
        int r;

        if (!within_budget(w, dirfd, rel)) {
                cover(w, rel);
                return CG_WALK_DESCEND; /* its children may still fit */
        }
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0) {
                r = -errno;
                if (r == -EMFILE)
                        keep_notice(w, GD_WATCH_OUT_OF_FDS, rel, EMFILE);
        } else {
                r = add_one(w, fd, rel);
        }
        if (r < 0) {
                /* Not below either: the next event or rescan tries again. */
                if (depth == a->first_depth)
                        a->err = r;
                return CG_WALK_SKIP;
        }
        a->added += r;
        return CG_WALK_DESCEND;
}

/* Unlisted or unopened: vanished, or unreadable; its own files still
 * report, or its parent's do. */
static void add_trouble(void *userdata, cg_walk_trouble what, const char *rel, const char *name,
                        int err) {
        add_walk *a = userdata;

        if (what == CG_WALK_TOO_DEEP) {
                cover(a->w, rel);
                keep_notice(a->w, GD_WATCH_TOO_DEEP, rel, 0);
        } else if (what == CG_WALK_NAME_TOO_LONG) {
                cover(a->w, rel); /* too long to name: its parent answers */
        }
}

int gd_watch_add_tree(gd_watch *w, const char *rel) {
        int fd = *rel ? openat(w->rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                      : fcntl(w->rootfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        /* "" is the root at depth 0, "a" is 1, "a/b" 2. */
        unsigned depth = *rel ? 1 : 0;
        const char *cut = NULL;
        for (const char *p = rel; *p; p++)
                if (*p == '/' && ++depth == GD_WATCH_MAX_DEPTH + 1)
                        cut = p;
        if (cut) {
                /* Created below the cap: its ancestor at the cap answers. */
                char anc[PATH_MAX];
                close(fd);
                snprintf(anc, sizeof(anc), "%.*s", (int)(cut - rel), rel);
                cover(w, anc);
                keep_notice(w, GD_WATCH_TOO_DEEP, anc, 0);
                return 0;
        }
        w->no_room = false;
        add_walk a = {.w = w, .first_depth = depth};
        const cg_walk_visitor v = {.visit = add_visit, .trouble = add_trouble, .userdata = &a,
                                   .max_depth = GD_WATCH_MAX_DEPTH};
        int r = cg_walk(fd, rel, depth, &v);
        close(fd);
        return r < 0 ? r : a.err < 0 ? a.err : a.added;
}

void gd_watch_remove(gd_watch *w, size_t slot) {
        gd_watched *c = &w->slots[slot];
        if (!c->in_use)
                return;
        /* Closing an fd drops it from epoll; inotify drops the watch itself
         * when the directory goes (IN_IGNORED), and an explicit rm of a dead
         * wd just fails. */
        if (c->wd >= 0) {
                inotify_rm_watch(w->inotify_fd, c->wd);
                /* Only c's own entry: once c's directory is gone its wd
                 * may be a new directory's already (and one directory
                 * watched twice would share one). */
                if (find_wd(w, c->wd) == (long)slot)
                        gd_index_del_int(&w->by_wd, c->wd);
        } else {
                w->n_no_dir_watch--;
        }
        gd_index_del_str(&w->by_rel, c->rel);
        if (w->ids)
                gd_idcache_gone(w->ids, c->rel);
        close_fd(&c->events_fd);
        close_fd(&c->current_fd);
        close_fd(&c->pressure_fd);
        if (c->psi_trigger)
                w->n_triggers--;
        c->psi_trigger = false;
        close_fd(&c->dirfd);
        free(c->rel);
        c->rel = NULL;
        c->in_use = false;
        w->n_watched--;
        give_back(w, slot);
}

int gd_watch_handle_inotify(gd_watch *w) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        for (;;) {
                ssize_t n = read(w->inotify_fd, buf, sizeof(buf));
                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *)p;
                        p += sizeof(*ev) + ev->len;
                        if (ev->mask & IN_Q_OVERFLOW) {
                                /* Lost events: find what is new again. */
                                gd_watch_add_tree(w, "");
                                continue;
                        }
                        long parent = find_wd(w, ev->wd);
                        if (parent < 0 || !ev->len || !(ev->mask & IN_ISDIR))
                                continue;
                        char child[PATH_MAX];
                        const char *prel = w->slots[parent].rel;
                        if (cg_rel_child(prel, ev->name, child, sizeof(child)) < 0) {
                                /* Too long to name: its parent answers. */
                                if (ev->mask & IN_CREATE)
                                        cover(w, prel);
                                continue;
                        }
                        if (ev->mask & IN_CREATE) {
                                gd_watch_add_tree(w, child);
                        } else if (ev->mask & IN_DELETE) {
                                long s = find_rel(w, child);
                                if (s >= 0)
                                        gd_watch_remove(w, (size_t)s);
                        }
                }
        }
}

int gd_watch_retry_dir_watches(gd_watch *w) {
        int added = 0;

        /* Slots added below may move the array: index, never a pointer. */
        for (size_t i = 0; i < w->n_slots && w->n_no_dir_watch > 0; i++) {
                if (!w->slots[i].in_use || w->slots[i].wd >= 0)
                        continue;
                /* The watch first: a child made after the listing is then
                 * reported by inotify, one made before is in the listing. */
                add_dir_watch(w, &w->slots[i]);
                /* Past the fd budget the whole tree is walked every
                 * GD_WATCH_RESCAN_MS anyway (gd_watch_rescan), and listing
                 * here would count the cgroups it leaves out again each
                 * second. */
                if (w->n_unwatched)
                        continue;
                char **names = NULL;
                size_t n = 0;
                if (cg_list_children(w->slots[i].dirfd, &names, &n) < 0)
                        continue; /* gone: its own files report that */
                for (size_t k = 0; k < n; k++) {
                        char child[PATH_MAX];
                        const char *prel = w->slots[i].rel;
                        if (cg_rel_child(prel, names[k], child, sizeof(child)) < 0 ||
                            find_rel(w, child) >= 0)
                                continue;
                        int r = gd_watch_add_tree(w, child);
                        if (r > 0)
                                added += r;
                }
                cg_free_names(names, n);
        }
        return added;
}

gd_watched *gd_watch_lookup(gd_watch *w, uint64_t tag) {
        uint32_t slot = gd_tag_slot(tag);
        if (slot >= w->n_slots)
                return NULL;
        gd_watched *c = &w->slots[slot];
        return c->in_use && c->generation == gd_tag_generation(tag) ? c : NULL;
}

void gd_watch_policy_changed(gd_watch *w) {
        w->policy_gen++;
}

const pol_workload *gd_watch_workload(gd_watch *w, gd_watched *c, const pol_policy *p) {
        if (!p)
                return NULL;
        if (c->workload_policy != p || c->workload_policy_gen != w->policy_gen) {
                /* A container whose identity is still being read matches
                 * by path alone until gd_watch_policy_changed (the daemon
                 * calls it when an identity is read). */
                pol_subject s = {.cgroup = c->rel,
                                 .ident = w->ident_cursor && pol_uses_ident(p)
                                                  ? gd_ident_cursor_of(w->ident_cursor, c->rel, NULL)
                                                  : NULL};
                c->workload = pol_find_workload(p, &s, NULL, 0);
                c->workload_policy = p;
                c->workload_policy_gen = w->policy_gen;
        }
        return c->workload;
}

void gd_watch_set_ids(gd_watch *w, gd_idcache *ids) {
        if (ids == w->ids)
                return; /* told already: gone and back would forget what it read */
        for (size_t i = 0; i < w->n_slots; i++) {
                if (!w->slots[i].in_use)
                        continue;
                if (w->ids)
                        gd_idcache_gone(w->ids, w->slots[i].rel);
                if (ids)
                        gd_idcache_appear(ids, w->slots[i].rel);
        }
        w->ids = ids;
}

void gd_watch_free(gd_watch *w) {
        for (size_t i = 0; i < w->n_slots; i++)
                gd_watch_remove(w, i);
        free(w->slots);
        w->slots = NULL;
        w->n_slots = w->cap = 0;
        w->free_top = 0;
        gd_index_free(&w->by_rel);
        gd_index_free(&w->by_wd);
        if (w->inotify_fd >= 0)
                close(w->inotify_fd);
        w->inotify_fd = -1;
}

size_t gd_watch_budget_for(uint64_t nofile) {
        uint64_t spare = nofile > GD_WATCH_FD_RESERVE ? nofile - GD_WATCH_FD_RESERVE : 0;
        uint64_t n = spare / GD_WATCH_FDS_PER_CGROUP;
        return n ? (size_t)n : 1; /* the root, at least */
}

void gd_watch_set_fd_budget(gd_watch *w, uint64_t nofile) {
        w->max_watched = gd_watch_budget_for(nofile);
}

int gd_watch_rescan(gd_watch *w, uint64_t now_ms) {
        if (!w->n_unwatched || now_ms - w->last_rescan_ms < GD_WATCH_RESCAN_MS)
                return 0;
        w->last_rescan_ms = now_ms;
        w->n_unwatched = 0;
        return gd_watch_add_tree(w, "");
}
