#include "record/stats.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const uint64_t gd_stats_loop_bounds_ns[GD_STATS_LOOP_BUCKETS] = {
        100000, 500000, 1000000, 5000000, 10000000, 50000000,
        100000000, 500000000, 1000000000, 5000000000,
};

static void count_kill(gd_stats *s, const char *workload, const char *reason) {
        const char *w = workload ? workload : "";
        const char *why = reason ? reason : "";
        gd_kill_count *k = NULL;

        for (size_t i = 0; i < s->n_kill_keys && !k; i++)
                if (strcmp(s->kills[i].workload, w) == 0 && strcmp(s->kills[i].reason, why) == 0)
                        k = &s->kills[i];
        if (!k && s->n_kill_keys < GD_STATS_KILL_KEYS - 1) {
                k = &s->kills[s->n_kill_keys++];
        } else if (!k) {
                /* Full: the last key is the catch-all. */
                k = &s->kills[GD_STATS_KILL_KEYS - 1];
                s->n_kill_keys = GD_STATS_KILL_KEYS;
                w = why = "other";
        }
        if (k->count == 0) {
                snprintf(k->workload, sizeof(k->workload), "%s", w);
                snprintf(k->reason, sizeof(k->reason), "%s", why);
        }
        k->count++;
}

/* A kill in a container, by runtime, namespace and image; the last key
 * is the catch-all once the others are taken. */
static void count_container_kill(gd_stats *s, const gd_container_names *c) {
        gd_container_kill_count *k = NULL;

        if (!c || c->runtime == POL_RUNTIME_ANY)
                return;
        for (size_t i = 0; i < s->n_container_keys && !k; i++)
                if (s->container_kills[i].runtime == c->runtime &&
                    strcmp(s->container_kills[i].k8s_namespace, c->k8s_namespace) == 0 &&
                    strcmp(s->container_kills[i].image, c->image) == 0)
                        k = &s->container_kills[i];
        if (!k && s->n_container_keys < GD_STATS_CONTAINER_KEYS - 1) {
                k = &s->container_kills[s->n_container_keys++];
                k->runtime = c->runtime;
                snprintf(k->k8s_namespace, sizeof(k->k8s_namespace), "%s", c->k8s_namespace);
                snprintf(k->image, sizeof(k->image), "%s", c->image);
        } else if (!k) {
                k = &s->container_kills[GD_STATS_CONTAINER_KEYS - 1];
                s->n_container_keys = GD_STATS_CONTAINER_KEYS;
                k->runtime = POL_RUNTIME_ANY;
                snprintf(k->k8s_namespace, sizeof(k->k8s_namespace), "other");
                snprintf(k->image, sizeof(k->image), "other");
        }
        k->count++;
}

void gd_stats_record(gd_stats *s, const gd_audit_record *rec) {
        s->generation++;
        switch (rec->event) {
        case GD_EVENT_KILL:
                /* Signalled, so a kill; one that outlived the deadline
                 * failed as well. */
                count_kill(s, rec->workload, rec->trigger);
                count_container_kill(s, rec->container);
                if (rec->result == GD_RESULT_TIMEOUT)
                        s->kill_failures++;
                break;
        case GD_EVENT_KILL_CGROUP:
                if (rec->result == GD_RESULT_KILLED) {
                        count_kill(s, rec->workload, rec->trigger);
                        count_container_kill(s, rec->container);
                } else
                        s->kill_failures++;
                break;
        case GD_EVENT_KILL_FAILED:
                s->kill_failures++;
                break;
        case GD_EVENT_WOULD_KILL:
        case GD_EVENT_WOULD_KILL_CGROUP:
        case GD_EVENT_NOTIFY:
        case GD_EVENT__N:
                break;
        }

        gd_recent_kill *r = &s->recent[s->recent_next];
        memset(r, 0, sizeof(*r));
        r->time_unix_ms = rec->time_unix_ms;
        r->pid = rec->pid;
        r->event = rec->event;
        r->result = rec->result;
        r->error = rec->error;
        snprintf(r->cgroup, sizeof(r->cgroup), "%s", rec->cgroup ? rec->cgroup : "");
        snprintf(r->comm, sizeof(r->comm), "%s", rec->comm ? rec->comm : "");
        snprintf(r->workload, sizeof(r->workload), "%s", rec->workload ? rec->workload : "");
        snprintf(r->reason, sizeof(r->reason), "%s", rec->trigger ? rec->trigger : "");
        if (rec->container)
                r->container = *rec->container;
        s->recent_next = (s->recent_next + 1) % GD_STATS_RECENT;
        if (s->n_recent < GD_STATS_RECENT)
                s->n_recent++;
}

void gd_stats_decision(gd_stats *s, pol_action taken) {
        s->generation++;
        if (taken != POL_ACTION_NONE && (unsigned)taken < POL_ACTION__N)
                s->decisions[taken]++;
}

void gd_stats_loop(gd_stats *s, uint64_t ns) {
        size_t b = 0;

        while (b < GD_STATS_LOOP_BUCKETS && ns > gd_stats_loop_bounds_ns[b])
                b++;
        s->loop_buckets[b]++;
        s->loop_count++;
        s->loop_sum_ns += ns;
}

const gd_recent_kill *gd_stats_recent(const gd_stats *s, size_t i) {
        if (i >= s->n_recent)
                return NULL;
        return &s->recent[(s->recent_next + GD_STATS_RECENT - 1 - i) % GD_STATS_RECENT];
}

const char *gd_trigger_source_name(gd_trigger_source src) {
        switch (src) {
        case GD_SOURCE_MEMORY_EVENTS: return "memory.events";
        case GD_SOURCE_PSI: return "psi";
        case GD_SOURCE_HOST_PSI: return "host-psi";
        default: return "unknown";
        }
}

