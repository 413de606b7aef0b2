/* Hooks, the daemon's side: the variables of a hook, the messages to the
 * runner (pure, tested with literals), starting the runner and sending to
 * it without ever blocking. The runner itself is in hookrunner/hookrunner.c. */
#include "record/hooks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon_ctx.h"
#include "util/log.h"

/* Message header: magic, event byte, policy generation (u32). */
#define MSG_MAGIC "GDH1"
#define MSG_MAGIC_LEN 4
#define MSG_HEADER_LEN (MSG_MAGIC_LEN + 1 + 4)
/* A value is one line of at most this many bytes: a cgroup path fits. */
#define VALUE_MAX 4095
/* The daemon's send buffer for the runner: room for a burst of kills. */
#define SOCK_BUF_BYTES (64 * 1024)

struct gd_hooks {
        int fd;                /* -1 once the runner is gone */
        pid_t pid;
        uint32_t generation;
        uint64_t sent, dropped;
};

const char *gd_hooks_event_name(gd_hook_event event) {
        return event == GD_HOOK_POST_KILL ? "post-kill" : "pre-kill";
}

/* ---- variables ---- */

typedef struct env_out {
        char *buf;
        size_t size, len;
        int n;
        bool full;
} env_out;

/* "NAME=value\0", value made one printable line. */
static void env_add(env_out *o, const char *name, const char *value) {
        size_t name_len = strlen(name), vlen = value ? strnlen(value, VALUE_MAX) : 0;

        if (o->full || o->len + name_len + 1 + vlen + 1 > o->size) {
                o->full = true;
                return;
        }
        char *p = o->buf + o->len;
        memcpy(p, name, name_len);
        p[name_len] = '=';
        for (size_t i = 0; i < vlen; i++) {
                unsigned char c = (unsigned char)value[i];
                p[name_len + 1 + i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
        p[name_len + 1 + vlen] = '\0';
        o->len += name_len + 1 + vlen + 1;
        o->n++;
}

static void env_add_num(env_out *o, const char *name, bool known, int64_t v) {
        char num[24] = "";

        if (known)
                snprintf(num, sizeof(num), "%" PRId64, v);
        env_add(o, name, num);
}

int gd_hooks_env_build(const gd_hook_info *info, char *buf, size_t size, size_t *ret_len) {
        env_out o = {.buf = buf, .size = size};
        char cgroup[VALUE_MAX + 1];

        /* As /proc/PID/cgroup shows it: "/system.slice/x.service". */
        snprintf(cgroup, sizeof(cgroup), "/%s", info->cgroup ? info->cgroup : "");
        env_add(&o, "GUARDIAN_EVENT", gd_hooks_event_name(info->event));
        env_add(&o, "GUARDIAN_ACTION", info->pid > 0 ? "kill-process" : "kill-cgroup");
        env_add_num(&o, "GUARDIAN_PID", info->pid > 0, info->pid);
        env_add(&o, "GUARDIAN_COMM", info->comm);
        env_add(&o, "GUARDIAN_CGROUP", cgroup);
        env_add(&o, "GUARDIAN_WORKLOAD", info->workload);
        env_add(&o, "GUARDIAN_TRIGGER", info->trigger);
        env_add(&o, "GUARDIAN_REASON", info->reason);
        env_add_num(&o, "GUARDIAN_SCORE", info->has_process, info->score);
        env_add_num(&o, "GUARDIAN_RSS_BYTES", info->has_process,
                    info->rss_bytes > INT64_MAX ? INT64_MAX : (int64_t)info->rss_bytes);
        env_add_num(&o, "GUARDIAN_UID", info->has_process, (int64_t)info->uid);
        env_add(&o, "GUARDIAN_DRY_RUN", info->dry_run ? "1" : "0");
        if (info->event == GD_HOOK_POST_KILL) {
                env_add(&o, "GUARDIAN_OUTCOME", info->outcome);
                env_add_num(&o, "GUARDIAN_KILL_LATENCY_MS", info->kill_latency_ms >= 0,
                            info->kill_latency_ms);
        }
        if (o.full)
                return -ENOBUFS;
        *ret_len = o.len;
        return o.n;
}

/* ---- messages ---- */

ssize_t gd_hooks_encode(const gd_hook_info *info, uint32_t generation, char *out, size_t size) {
        size_t wl = info->workload ? strnlen(info->workload, POL_NAME_MAX) : 0, env_len;

        if (wl >= POL_NAME_MAX || size < MSG_HEADER_LEN + wl + 1)
                return -ENOBUFS;
        memcpy(out, MSG_MAGIC, MSG_MAGIC_LEN);
        out[MSG_MAGIC_LEN] = (char)info->event;
        memcpy(out + MSG_MAGIC_LEN + 1, &generation, 4);
        memcpy(out + MSG_HEADER_LEN, info->workload ? info->workload : "", wl);
        out[MSG_HEADER_LEN + wl] = '\0';
        size_t at = MSG_HEADER_LEN + wl + 1;
        int n = gd_hooks_env_build(info, out + at, size - at, &env_len);
        if (n < 0)
                return n;
        return (ssize_t)(at + env_len);
}

static bool valid_workload(const char *s) {
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
                        return false;
        return true;
}

/* GUARDIAN_[A-Z0-9_]*=value, the value without control bytes. */
static bool valid_var(const char *s) {
        static const char prefix[] = "GUARDIAN_";

        if (strncmp(s, prefix, sizeof(prefix) - 1) != 0)
                return false;
        s += sizeof(prefix) - 1;
        for (; *s != '='; s++)
                if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
                        return false; /* '\0' too: no '=' */
        for (s++; *s; s++)
                if ((unsigned char)*s < 0x20 || *s == 0x7f)
                        return false;
        return true;
}

int gd_hooks_decode(const char *buf, size_t len, gd_hook_msg *ret) {
        gd_hook_msg *m = ret;
        uint32_t generation;

        if (len <= MSG_HEADER_LEN || len > GD_HOOKS_MSG_MAX || buf[len - 1] != '\0' ||
            memcmp(buf, MSG_MAGIC, MSG_MAGIC_LEN) != 0 ||
            (buf[MSG_MAGIC_LEN] != GD_HOOK_PRE_KILL && buf[MSG_MAGIC_LEN] != GD_HOOK_POST_KILL))
                return -EBADMSG;
        const char *wl = buf + MSG_HEADER_LEN;
        size_t wl_len = strlen(wl);
        if (wl_len >= POL_NAME_MAX || !valid_workload(wl))
                return -EBADMSG;
        /* Validate everything before *ret is written. */
        size_t n = 0;
        for (const char *p = wl + wl_len + 1; p < buf + len; p += strlen(p) + 1, n++)
                if (n == GD_HOOKS_ENV_MAX || !valid_var(p))
                        return -EBADMSG;
        memcpy(&generation, buf + MSG_MAGIC_LEN + 1, 4);
        m->event = (gd_hook_event)buf[MSG_MAGIC_LEN];
        m->generation = generation;
        memcpy(m->workload, wl, wl_len + 1);
        memcpy(m->buf, buf, len);
        m->n_env = 0;
        for (char *p = m->buf + MSG_HEADER_LEN + wl_len + 1; p < m->buf + len; p += strlen(p) + 1)
                m->env[m->n_env++] = p;
        m->env[m->n_env] = NULL;
        return 0;
}

/* ---- the daemon's end ---- */

int gd_hooks_start(const gd_policy_source *src, const pol_policy *policy, gd_hooks **ret_hooks) {
        int sv[2];
        gd_hooks *h = calloc(1, sizeof(*h));

        if (!h)
                return -ENOMEM;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                int r = -errno;
                free(h);
                return r;
        }
        int size = SOCK_BUF_BYTES;
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        /* Buffered lines would be written twice, once by each process. */
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(sv[0]);
                close(sv[1]);
                free(h);
                return r;
        }
        if (pid == 0) {
                close(sv[0]);
                gd_hooks_runner_main(sv[1], src, (pol_policy *)policy);
        }
        close(sv[1]);
        h->fd = sv[0];
        h->pid = pid;
        *ret_hooks = h;
        return 0;
}

void gd_hooks_policy_changed(gd_hooks *hooks) {
        if (hooks)
                hooks->generation++;
}

/* The runner is gone (its socket said so): say so, once. Not reaped
 * here: wait4 is not in the sandbox's allow-list, and a zombie until
 * guardian exits costs nothing. */
static void runner_gone(gd_hooks *h, int err) {
        gd_log(GD_LOG_ERR, "the hook runner (pid %d) is gone (%s): hooks are off until "
                           "guardian restarts",
               (int)h->pid, strerror(err));
        close(h->fd);
        h->fd = -1;
}

int gd_hooks_run(gd_hooks *hooks, const pol_policy *policy, const pol_workload *w,
                 const gd_hook_info *info) {
        char msg[GD_HOOKS_MSG_MAX];

        if (!hooks || !policy || !pol_effective_hook(policy, w, info->event == GD_HOOK_POST_KILL))
                return 0;
        const char *event = gd_hooks_event_name(info->event);
        if (hooks->fd < 0) {
                hooks->dropped++;
                return -EPIPE;
        }
        ssize_t len = gd_hooks_encode(info, hooks->generation, msg, sizeof(msg));
        if (len < 0) {
                hooks->dropped++;
                gd_log(GD_LOG_WARNING, "%s hook for pid %d not run: %s, ignoring", event,
                       (int)info->pid, strerror((int)-len));
                return (int)len;
        }
        if (send(hooks->fd, msg, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) == len) {
                hooks->sent++;
                return 1;
        }
        int r = -errno;
        hooks->dropped++;
        if (r == -EAGAIN || r == -EWOULDBLOCK || r == -ENOBUFS)
                gd_log(GD_LOG_WARNING, "%s hook for pid %d dropped: the hook runner is behind "
                                       "(%" PRIu64 " dropped so far)",
                       event, (int)info->pid, hooks->dropped);
        else
                runner_gone(hooks, -r);
        return r;
}

void gd_hooks_counts(const gd_hooks *hooks, uint64_t *ret_sent, uint64_t *ret_dropped) {
        *ret_sent = hooks ? hooks->sent : 0;
        *ret_dropped = hooks ? hooks->dropped : 0;
}

void gd_hooks_stop(gd_hooks *hooks) {
        if (!hooks)
                return;
        if (hooks->fd >= 0)
                close(hooks->fd);
        free(hooks);
}

/* ---- the kill path's two calls (killer.c) ---- */

void gd_kill_hook(daemon_ctx *d, const pending_kill *p, gd_hook_event event, const char *outcome,
                  uint64_t now) {
        const pol_workload *w = NULL;

        if (!d->hooks || !d->policy)
                return;
        for (size_t i = 0; p->workload[0] && i < d->policy->n_workloads; i++)
                if (strcmp(d->policy->workloads[i].name, p->workload) == 0)
                        w = &d->policy->workloads[i];
        gd_hook_info info = {
                .event = event,
                .pid = p->cand.pid,
                .comm = p->comm,
                .cgroup = p->cgroup,
                .workload = p->workload,
                .trigger = gd_trigger_name(p->decision.trigger),
                .reason = p->decision.reason,
                .outcome = outcome,
                .has_process = p->cand.pid > 0,
                .score = p->cand.points,
                .rss_bytes = p->cand.rss_pages * d->host.page_size,
                .uid = p->uid,
                .dry_run = d->dry_run,
                .kill_latency_ms = p->cand.pid > 0 && outcome && strcmp(outcome, "killed") == 0
                                           ? (int64_t)(now - p->kill_ms)
                                           : -1,
        };
        gd_hooks_run(d->hooks, d->policy, w, &info);
}
