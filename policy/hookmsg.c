#include "policy/hookmsg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Message header: magic, event byte, policy generation (u32). */
#define MSG_MAGIC "GDH1"
#define MSG_MAGIC_LEN 4
#define MSG_HEADER_LEN (MSG_MAGIC_LEN + 1 + 4)
/* A value is one line of at most this many bytes: a cgroup path fits. */
#define VALUE_MAX 4095

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
        env_add(&o, "GUARDIAN_ACTION",
                pol_action_name(info->pid > 0 ? POL_ACTION_KILL_PROCESS : POL_ACTION_KILL_CGROUP));
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
        /* Always set (empty when unknown), so a hook can test them plainly. */
        const gd_container_names *c = info->container;
        bool is_c = c && c->runtime != POL_RUNTIME_ANY;
        env_add(&o, "GUARDIAN_CONTAINER_RUNTIME", is_c ? pol_runtime_name(c->runtime) : NULL);
        env_add(&o, "GUARDIAN_CONTAINER_ID", is_c ? c->id : NULL);
        env_add(&o, "GUARDIAN_CONTAINER_NAME", is_c ? c->name : NULL);
        env_add(&o, "GUARDIAN_CONTAINER_IMAGE", is_c ? c->image : NULL);
        env_add(&o, "GUARDIAN_K8S_NAMESPACE", is_c ? c->k8s_namespace : NULL);
        env_add(&o, "GUARDIAN_K8S_POD", is_c ? c->pod_name : NULL);
        env_add(&o, "GUARDIAN_K8S_CONTAINER", is_c ? c->container_name : NULL);
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
