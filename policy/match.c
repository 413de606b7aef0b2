/* Workload matching (match.h): the first workload of a policy whose keys
 * all match a cgroup, or one of its processes. Pure: no I/O, no
 * allocation, no logging.
 *
 * Where match.h is silent: a subject is a process when comm is set; exe ""
 * is unreadable, cmdline "" (kernel thread) is a value; pod_uid patterns
 * see the dashed UID. An ident's sandbox flag is not looked at: a pod's
 * sandbox carries its pod's namespace and name, and matches those keys.
 * why is left untouched when there is no match. */
#include "policy/match.h"

#include <stdint.h>
#include <string.h>

#include "util/buf.h"

/* The container reading of a subject's cgroup, made at most once however
 * many workloads ask. */
typedef struct subject_ctx {
        const pol_subject *s;
        bool parsed;
        pol_container c;
} subject_ctx;

static const pol_container *ctx_container(subject_ctx *x) {
        if (!x->parsed) {
                pol_container_from_cgroup(x->s->cgroup, &x->c);
                x->parsed = true;
        }
        return &x->c;
}

/* The first pattern of list that matches value, or NULL. */
static const char *first_match(const pol_patterns *list, const char *value, bool path) {
        if (!value || !list->items)
                return NULL;
        for (size_t i = 0; i < list->n && list->items[i]; i++)
                if (pol_glob_match(list->items[i], value, path))
                        return list->items[i];
        return NULL;
}

/* The policy's spelling; only called for values that matched a set key. */
static const char *const qos_names[] = {
        [POL_QOS_ANY] = "any", [POL_QOS_GUARANTEED] = "guaranteed",
        [POL_QOS_BURSTABLE] = "burstable", [POL_QOS_BESTEFFORT] = "besteffort",
};

/* Drops a UTF-8 sequence that a cut left incomplete at the end of w (a
 * lead byte without all of its continuation bytes); w stays overflowed. */
static void why_trim_cut(gd_buf *w) {
        size_t i = w->len;

        while (i > 0 && ((unsigned char) w->data[i - 1] & 0xc0) == 0x80)
                i--;
        if (i > 0 && (unsigned char) w->data[i - 1] >= 0xc0) {
                unsigned char lead = (unsigned char) w->data[i - 1];
                size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
                if (w->len - (i - 1) < need)
                        gd_buf_truncate(w, i - 1);
        }
        w->overflow = true; /* nothing more after a cut */
}

/* str appended to w, as much as fits; control bytes (a comm may hold
 * '\n') become '?': the line stays one line. A cut ends at a whole UTF-8
 * sequence. */
static void why_put(gd_buf *w, const char *str) {
        while (*str) {
                size_t n = 0;
                int r;

                while (str[n] && !((unsigned char) str[n] < 0x20 || str[n] == 0x7f))
                        n++;
                if (n > 0)
                        r = gd_buf_append_some(w, str, n);
                else
                        r = gd_buf_putc(w, '?');
                if (r < 0) {
                        why_trim_cut(w);
                        return;
                }
                str += n > 0 ? n : 1;
        }
}

static void why_key(gd_buf *w, const char *key, const char *value, const char *pattern) {
        if (w->len > 0)
                why_put(w, "; ");
        why_put(w, key);
        why_put(w, " '");
        why_put(w, value);
        why_put(w, "' matches '");
        why_put(w, pattern);
        why_put(w, "'");
}

/* A value to match, or NULL when there is none: an empty name, image or
 * label value is one the runtime did not say (or one too long to keep),
 * and must not satisfy a pattern, not even "*". */
static const char *known(const char *v) {
        return v && *v ? v : NULL;
}

/* The pattern of l that the subject's label matches, or NULL. */
static const char *label_match(const pol_label_match *l, const gd_container_ident *id) {
        return first_match(&l->values, known(gd_ident_label_get(id, l->key)), false);
}

/* The identity keys of m against id (non-NULL); ret_* the patterns that
 * matched, for why. */
typedef struct ident_hits {
        const char *name, *image, *ns, *pod_name, *ctr_name;
} ident_hits;

static bool match_ident(const pol_match *m, const gd_container_ident *id, ident_hits *ret) {
        if (m->container_name.n &&
            !(ret->name = first_match(&m->container_name, known(id->name), false)))
                return false;
        if (m->image.n && !(ret->image = first_match(&m->image, known(id->image), false)))
                return false;
        for (size_t i = 0; i < m->labels.n; i++)
                if (!label_match(&m->labels.items[i], id))
                        return false;
        if (m->k8s_namespace.n &&
            !(ret->ns = first_match(&m->k8s_namespace, known(id->k8s_namespace), false)))
                return false;
        if (m->pod_name.n && !(ret->pod_name = first_match(&m->pod_name, known(id->pod_name), false)))
                return false;
        if (m->k8s_container_name.n &&
            !(ret->ctr_name = first_match(&m->k8s_container_name, known(id->container_name), false)))
                return false;
        return true;
}

static void why_ident(gd_buf *w, const pol_match *m, const gd_container_ident *id,
                      const ident_hits *h) {
        if (h->name)
                why_key(w, "container_name", id->name, h->name);
        if (h->image)
                why_key(w, "image", id->image, h->image);
        for (size_t i = 0; i < m->labels.n; i++) {
                const pol_label_match *l = &m->labels.items[i];
                const char *pattern = label_match(l, id);
                if (!pattern)
                        continue; /* cannot be: match_ident checked them all */
                why_put(w, w->len ? "; label " : "label ");
                why_put(w, l->key);
                why_put(w, " '");
                why_put(w, gd_ident_label_get(id, l->key));
                why_put(w, "' matches '");
                why_put(w, pattern);
                why_put(w, "'");
        }
}

static bool match_one(const pol_workload *wl, subject_ctx *x, char *why, size_t why_size) {
        const pol_match *m = &wl->match;
        const pol_subject *s = x->s;
        const gd_container_ident *id = s->ident;
        const pol_container *c = NULL;
        const char *cg = NULL, *comm = NULL, *exe = NULL, *cmd = NULL, *ctr = NULL, *pod = NULL;
        const char *uid = NULL;
        ident_hits ih = {0};
        bool proc_keys = m->comm.n || m->exe.n || m->cmdline.n;
        bool ctr_keys = m->container.n || m->runtime != POL_RUNTIME_ANY || m->qos != POL_QOS_ANY ||
                        m->pod_uid.n;
        bool ident_keys = m->container_name.n || m->image.n || m->labels.n || m->k8s_namespace.n ||
                          m->pod_name.n || m->k8s_container_name.n;

        if (!proc_keys && !ctr_keys && !ident_keys && !m->cgroup.n)
                return false;
        if (proc_keys && !s->comm)
                return false;
        if (ident_keys && !id)
                return false;
        if (m->cgroup.n && !(cg = first_match(&m->cgroup, s->cgroup, true)))
                return false;
        if (m->comm.n && !(comm = first_match(&m->comm, s->comm, false)))
                return false;
        /* "" is how the process reader spells an unreadable exe. */
        if (m->exe.n && !(exe = first_match(&m->exe, s->exe && *s->exe ? s->exe : NULL, false)))
                return false;
        if (m->cmdline.n && !(cmd = first_match(&m->cmdline, s->cmdline, false)))
                return false;
        if (ctr_keys) {
                c = ctx_container(x);
                if (m->container.n && !(ctr = first_match(&m->container, c->id[0] ? c->id : NULL, false)))
                        return false;
                if (m->runtime != POL_RUNTIME_ANY && m->runtime != c->runtime)
                        return false;
                if (m->qos != POL_QOS_ANY && m->qos != c->qos)
                        return false;
                /* The path first: it is what the kubelet named the cgroup
                 * by, and known before any state file is read. */
                uid = c->pod_uid[0] ? c->pod_uid : id ? known(id->pod_uid) : NULL;
                if (m->pod_uid.n && !(pod = first_match(&m->pod_uid, uid, false)))
                        return false;
        }
        if (ident_keys && !match_ident(m, id, &ih))
                return false;

        if (why && why_size > 0) {
                gd_buf w;

                gd_buf_init(&w, why, why_size);
                if (cg)
                        why_key(&w, "cgroup", s->cgroup, cg);
                if (comm)
                        why_key(&w, "comm", s->comm, comm);
                if (exe)
                        why_key(&w, "exe", s->exe, exe);
                if (cmd)
                        why_key(&w, "cmdline", s->cmdline, cmd);
                if (ctr)
                        why_key(&w, "container", c->id, ctr);
                if (ident_keys)
                        why_ident(&w, m, id, &ih);
                if (m->runtime != POL_RUNTIME_ANY) {
                        why_put(&w, w.len ? "; runtime is " : "runtime is ");
                        why_put(&w, pol_runtime_name(c->runtime));
                }
                if (m->qos != POL_QOS_ANY) {
                        why_put(&w, w.len ? "; qos is " : "qos is ");
                        why_put(&w, qos_names[c->qos]);
                }
                if (pod)
                        why_key(&w, "pod_uid", uid, pod);
                if (ih.ns)
                        why_key(&w, "namespace", id->k8s_namespace, ih.ns);
                if (ih.pod_name)
                        why_key(&w, "pod_name", id->pod_name, ih.pod_name);
                if (ih.ctr_name)
                        why_key(&w, "kubernetes.container_name", id->container_name, ih.ctr_name);
        }
        return true;
}

bool pol_match_workload(const pol_workload *w, const pol_subject *s, char *why, size_t why_size) {
        subject_ctx x = {.s = s};

        if (!w || !s)
                return false;
        return match_one(w, &x, why, why_size);
}

const pol_workload *pol_find_workload(const pol_policy *p, const pol_subject *s, char *why,
                                      size_t why_size) {
        subject_ctx x = {.s = s};

        if (!p || !s || !p->workloads)
                return NULL;
        for (size_t i = 0; i < p->n_workloads; i++)
                if (match_one(&p->workloads[i], &x, why, why_size))
                        return &p->workloads[i];
        return NULL;
}
