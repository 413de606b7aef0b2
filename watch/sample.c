/* What the watch reads of a watched cgroup through the fds it keeps open:
 * the one reader of its files (gd_watch_read), the full sample decide
 * needs (gd_watch_sample) and the slow tick's light check
 * (gd_watch_light_check). The rest of the watch set is watch.c;
 * both are behind watch.h. */
#include "watch/watch.h"

#include <string.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "decide/look.h"

/* After any sign of trouble, keep sampling fast for this long. */
#define HOT_MS 10000
/* A cgroup above this share of its memory.max is sampled fast. */
#define HOT_RATIO 0.80
/* Polled PSI (no trigger): a stall share above this makes the cgroup hot. */
#define POLL_HOT_SHARE 0.10

static int read_u64_fd(int fd, uint64_t *ret) {
        char buf[64];
        ssize_t n = cg_pread_file(fd, buf, sizeof(buf));
        if (n < 0)
                return (int)n;
        return cg_parse_u64_or_max(buf, (size_t)n, ret);
}

int gd_watch_read(const gd_watched *c, unsigned what, uint64_t now_ms, gd_sample *ret_sample) {
        gd_sample s;
        char buf[CG_FILE_MAX];
        ssize_t n;
        int r;

        memset(&s, 0, sizeof(s));
        s.at_ms = now_ms;
        s.max = s.high = CG_UNLIMITED;

        if ((what & GD_READ_EVENTS) && c->events_fd >= 0) {
                n = cg_pread_file(c->events_fd, buf, sizeof(buf));
                if (n < 0 && cg_is_gone((int)n))
                        return (int)n;
                s.events_ok = n >= 0 && cg_parse_memory_events(buf, (size_t)n, &s.events) == 0;
        }
        /* current_fd: the memory controller is there. */
        if ((what & GD_READ_MEMORY) && c->current_fd >= 0) {
                r = read_u64_fd(c->current_fd, &s.current);
                if (cg_is_gone(r))
                        return r;
                s.current_ok = r == 0;
                r = cg_read_u64_or_max(c->dirfd, "memory.max", &s.max);
                if (cg_is_gone(r))
                        return r;
                s.max_ok = r == 0;
                if (!s.max_ok)
                        s.max = CG_UNLIMITED;
                s.memory_ok = s.current_ok && s.max_ok;
                s.high_ok = cg_read_u64_or_max(c->dirfd, "memory.high", &s.high) == 0;
                if (!s.high_ok)
                        s.high = CG_UNLIMITED;
        }
        if ((what & GD_READ_STAT) && c->current_fd >= 0) {
                cg_memory_stat st;
                if (cg_read_memory_stat(c->dirfd, &st) == 0) {
                        s.stat_ok = true;
                        s.file = st.file;
                        s.shmem = st.shmem;
                }
                uint64_t group = 0;
                s.oom_group = cg_read_u64_or_max(c->dirfd, "memory.oom.group", &group) == 0 &&
                              group == 1;
        }
        if ((what & GD_READ_PSI) && c->pressure_fd >= 0) {
                n = cg_pread_file(c->pressure_fd, buf, sizeof(buf));
                if (n < 0 && cg_is_gone((int)n))
                        return (int)n;
                s.psi_ok = n >= 0 && cg_parse_psi(buf, (size_t)n, &s.psi) == 0;
        }
        *ret_sample = s;
        return 0;
}

int gd_watch_sample(gd_watch *w, gd_watched *c, uint64_t now_ms, gd_sample *ret_sample) {
        gd_sample s;
        int r = gd_watch_read(c, GD_READ_ALL, now_ms, &s);

        if (r < 0)
                return r;
        if (s.memory_ok) {
                c->max = s.max;
                c->last_current = s.current;
        }
        if (s.high_ok)
                c->high = s.high;
        if (s.psi_ok) {
                c->last_psi_total_us = s.psi.some.total_us;
                c->last_psi_ms = now_ms;
        }
        *ret_sample = s;
        return 0;
}

bool gd_watch_light_check(gd_watch *w, gd_watched *c, uint64_t now_ms) {
        bool hot = false;

        uint64_t delay = w->look_min_ms ? w->look_min_ms : GD_LOOK_MIN_MS;
        bool warm = false; /* its own limit could stall it: PSI wanted */
        if (c->current_fd >= 0) {
                uint64_t cur, v;
                /* No limit known: one may have been set since (docker
                 * update, systemctl set-property). */
                if (c->max == CG_UNLIMITED && c->high == CG_UNLIMITED) {
                        if (cg_read_u64_or_max(c->dirfd, "memory.max", &v) == 0)
                                c->max = v;
                        if (cg_read_u64_or_max(c->dirfd, "memory.high", &v) == 0)
                                c->high = v;
                }
                if (read_u64_fd(c->current_fd, &cur) == 0) {
                        uint64_t rate = 0;
                        if (c->last_look_ms && now_ms > c->last_look_ms && cur > c->last_current)
                                rate = (cur - c->last_current) * 1000 / (now_ms - c->last_look_ms);
                        /* Growth is measured from the lowest usage of the last
                         * one to two windows: a hog that grew and then stalled
                         * (thrashing, throttled) is still the one that grew. */
                        if (c->window_ms == 0) {
                                c->window_ms = now_ms;
                                c->window_min = c->prev_window_min = cur;
                        } else if (now_ms - c->window_ms >= GD_GROWTH_WINDOW_MS) {
                                c->prev_window_min = c->window_min;
                                c->window_min = cur;
                                c->window_ms = now_ms;
                        }
                        if (cur < c->window_min)
                                c->window_min = cur;
                        uint64_t floor = c->window_min < c->prev_window_min ? c->window_min
                                                                              : c->prev_window_min;
                        c->growth = cur > floor ? cur - floor : 0;
                        c->last_current = cur;
                        if (c->max != CG_UNLIMITED && (double)cur >= HOT_RATIO * (double)c->max)
                                hot = true;
                        uint64_t limit = c->high < c->max ? c->high : c->max;
                        delay = gd_look_delay_ms(cur, limit, HOT_RATIO, rate, w->look_min_ms);
                        if (limit != CG_UNLIMITED &&
                            (double)cur >= GD_WATCH_WARM_RATIO * (double)limit)
                                warm = true;
                        else if (c->psi_trigger &&
                                 (limit == CG_UNLIMITED ||
                                  (double)cur < GD_WATCH_COOL_RATIO * (double)limit))
                                gd_watch_set_trigger(w, c, false);
                        else
                                warm = c->psi_trigger;
                } else {
                        hot = true; /* gone or odd: a full sample sorts it out */
                }
        } else {
                warm = true; /* no memory controller: PSI is all there is */
        }
        if (warm)
                gd_watch_set_trigger(w, c, true);
        if (warm && !c->psi_trigger && c->pressure_fd >= 0) {
                char buf[512];
                cg_psi psi;
                ssize_t n = cg_pread_file(c->pressure_fd, buf, sizeof(buf));
                if (n >= 0 && cg_parse_psi(buf, (size_t)n, &psi) == 0) {
                        if (c->last_psi_ms && now_ms > c->last_psi_ms) {
                                double share = gd_psi_share(c->last_psi_total_us,
                                                            psi.some.total_us,
                                                            now_ms - c->last_psi_ms);
                                if (share >= POLL_HOT_SHARE)
                                        hot = true;
                        }
                        c->last_psi_total_us = psi.some.total_us;
                        c->last_psi_ms = now_ms;
                }
        }
        if (hot)
                c->hot_until_ms = now_ms + HOT_MS;
        c->last_look_ms = now_ms;
        c->next_look_ms = now_ms + delay;
        return hot;
}
