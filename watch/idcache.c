/* The identity cache (ident.h): one entry per container cgroup, in a slot
 * array with a free list, found by path through util/index.h; resolved on
 * the ticks, with retries, never on the watch's add path.
 *
 * Where ident.h is silent: an entry counts the cgroups at or below its
 * container's cgroup that appeared and have not gone (the watch's slots),
 * so it goes with the last of them even when the container's own cgroup
 * was never watched (the fd budget can leave it out and watch a child).
 * A KNOWN identity is kept packed (its strings and labels one after the
 * other) and unpacked into the caller's struct on each get. */
#include "watch/ident.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "policy/container.h"
#include "util/index.h"

/* A gd_container_ident without its empty room: the fixed fields' strings
 * and then the labels' keys and values, each NUL-terminated. */
typedef struct packed_ident {
        pol_runtime runtime;
        bool sandbox;
        uint16_t n_labels;
        unsigned labels_dropped, fields_dropped;
        size_t len;
        char data[];
} packed_ident;

typedef struct entry {
        bool in_use;
        bool tried;           /* first_ms is set */
        bool told;            /* its decided state was handed out by gd_idcache_news */
        gd_ident_state state;
        uint32_t refs;        /* cgroups at or below it that appeared, not gone */
        uint32_t next_free;   /* while free: the next free slot + 1, 0: none */
        uint32_t backoff_ms;  /* the next retry's delay */
        int err;              /* the last try's negative errno, 0: none failed */
        uint64_t first_ms;    /* the first try */
        uint64_t due_ms;      /* the next try (PENDING only) */
        char *key;            /* the container cgroup's path: the index's key */
        packed_ident *ident;  /* KNOWN only */
} entry;

struct gd_idcache {
        gd_ident_src src;
        entry *e;
        size_t n;             /* slots in use or free */
        size_t cap;
        size_t held;          /* slots in use */
        uint32_t free_top;    /* the last slot freed + 1, 0: none */
        size_t cursor;        /* where the next tick starts */
        size_t bytes;         /* of packed identities */
        uint64_t next_due;
        gd_index by_key;
        gd_container_ident scratch; /* what a tick reads into */
};

/* The fixed fields, in the packed order. */
static const struct {
        size_t off, size;
} fields[] = {
#define F(m) {offsetof(gd_container_ident, m), sizeof(((gd_container_ident *)0)->m)}
        F(id), F(name), F(image), F(k8s_namespace), F(pod_name), F(pod_uid), F(container_name),
#undef F
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static packed_ident *pack(const gd_container_ident *c) {
        size_t len = 0;

        for (size_t f = 0; f < N_FIELDS; f++)
                len += strnlen((const char *)c + fields[f].off, fields[f].size - 1) + 1;
        for (size_t i = 0; i < c->n_labels; i++)
                len += strlen(gd_ident_label_key(c, i)) + strlen(gd_ident_label_value(c, i)) + 2;
        packed_ident *p = malloc(sizeof(*p) + len);
        if (!p)
                return NULL;
        p->runtime = c->runtime;
        p->sandbox = c->sandbox;
        p->n_labels = (uint16_t)c->n_labels;
        p->labels_dropped = c->labels_dropped;
        p->fields_dropped = c->fields_dropped;
        p->len = len;
        char *at = p->data;
        for (size_t f = 0; f < N_FIELDS; f++) {
                const char *s = (const char *)c + fields[f].off;
                size_t n = strnlen(s, fields[f].size - 1);
                memcpy(at, s, n);
                at[n] = '\0';
                at += n + 1;
        }
        for (size_t i = 0; i < c->n_labels; i++) {
                for (int kv = 0; kv < 2; kv++) {
                        const char *s = kv ? gd_ident_label_value(c, i) : gd_ident_label_key(c, i);
                        size_t n = strlen(s) + 1;
                        memcpy(at, s, n);
                        at += n;
                }
        }
        return p;
}

/* Every string fits: pack read them from a struct of the same sizes. */
static void unpack(const packed_ident *p, gd_container_ident *ret) {
        const char *at = p->data;

        memset(ret, 0, sizeof(*ret));
        ret->runtime = p->runtime;
        ret->sandbox = p->sandbox;
        ret->labels_dropped = p->labels_dropped;
        ret->fields_dropped = p->fields_dropped;
        for (size_t f = 0; f < N_FIELDS; f++) {
                size_t n = strlen(at);
                memcpy((char *)ret + fields[f].off, at, n + 1);
                at += n + 1;
        }
        for (size_t i = 0; i < p->n_labels; i++) {
                for (int kv = 0; kv < 2; kv++) {
                        size_t n = strlen(at) + 1;
                        if (kv)
                                ret->labels[i].value = (uint16_t)ret->pool_used;
                        else
                                ret->labels[i].key = (uint16_t)ret->pool_used;
                        memcpy(ret->pool + ret->pool_used, at, n);
                        ret->pool_used += n;
                        at += n;
                }
        }
        ret->n_labels = p->n_labels;
}

int gd_idcache_new(const gd_ident_src *src, gd_idcache **ret) {
        gd_idcache *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->src = *src;
        c->next_due = UINT64_MAX;
        *ret = c;
        return 0;
}

static void drop(gd_idcache *c, size_t i) {
        entry *e = &c->e[i];

        gd_index_del_str(&c->by_key, e->key);
        if (e->ident)
                c->bytes -= sizeof(*e->ident) + e->ident->len;
        free(e->ident);
        free(e->key);
        memset(e, 0, sizeof(*e));
        e->next_free = c->free_top;
        c->free_top = (uint32_t)i + 1;
        c->held--;
}

void gd_idcache_free(gd_idcache *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++)
                if (c->e[i].in_use)
                        drop(c, i);
        gd_index_free(&c->by_key);
        free(c->e);
        free(c);
}

/* A free slot (the last freed, else a new one), or -ENOMEM. */
static long free_slot(gd_idcache *c) {
        if (c->free_top) {
                uint32_t s = c->free_top - 1;
                c->free_top = c->e[s].next_free;
                return (long)s;
        }
        if (c->n == c->cap) {
                size_t ncap = c->cap ? c->cap * 2 : 64;
                entry *n = realloc(c->e, ncap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                c->e = n;
                c->cap = ncap;
        }
        memset(&c->e[c->n], 0, sizeof(c->e[0]));
        return (long)c->n++;
}

/* The container cgroup rel is at or below, into key (PATH_MAX bytes), and
 * its entry's slot: GD_INDEX_NONE when none is held. Returns false when
 * rel is no container's. */
static bool find(const gd_idcache *c, const char *rel, char *key, uint32_t *ret_slot) {
        pol_container pc;

        if (gd_ident_container_of(rel, key, PATH_MAX, &pc) <= 0)
                return false;
        *ret_slot = gd_index_get_str(&c->by_key, key);
        return true;
}

void gd_idcache_appear(gd_idcache *c, const char *rel) {
        char key[PATH_MAX];
        uint32_t s;

        if (!find(c, rel, key, &s))
                return;
        if (s != GD_INDEX_NONE) {
                c->e[s].refs++;
                return;
        }
        /* Full, or out of memory: not kept, which gd_idcache_get says as
         * UNAVAILABLE. */
        if (c->held >= GD_IDCACHE_ENTRIES_MAX || gd_index_reserve(&c->by_key, c->held + 1) < 0)
                return;
        char *copy = strdup(key);
        long i = copy ? free_slot(c) : -ENOMEM;
        if (i < 0) {
                free(copy);
                return;
        }
        entry *e = &c->e[i];
        memset(e, 0, sizeof(*e));
        e->in_use = true;
        e->key = copy;
        e->refs = 1;
        e->state = GD_IDENT_PENDING;
        e->backoff_ms = GD_IDCACHE_RETRY_MIN_MS;
        e->due_ms = 0;
        (void)gd_index_put_str(&c->by_key, e->key, (uint32_t)i); /* reserved above */
        c->held++;
        c->next_due = 0;
}

void gd_idcache_gone(gd_idcache *c, const char *rel) {
        char key[PATH_MAX];
        uint32_t s;

        if (find(c, rel, key, &s) && s != GD_INDEX_NONE && --c->e[s].refs == 0)
                drop(c, s);
}

/* One try of a due PENDING entry. Returns true when its state changed. */
static bool resolve(gd_idcache *c, entry *e, uint64_t now_ms) {
        gd_ident_state st;

        if (!e->tried) {
                e->tried = true;
                e->first_ms = now_ms;
        }
        int r = gd_ident_read(&c->src, e->key, &c->scratch, &st);
        e->err = r;
        if (r < 0) {
                uint64_t give_up = e->first_ms + GD_IDCACHE_GIVE_UP_MS;
                if (now_ms >= give_up) {
                        e->state = GD_IDENT_UNAVAILABLE;
                        return true;
                }
                e->due_ms = now_ms + e->backoff_ms;
                if (e->due_ms > give_up)
                        e->due_ms = give_up; /* give up on time, not a backoff later */
                e->backoff_ms *= 2;
                if (e->backoff_ms > GD_IDCACHE_RETRY_MAX_MS)
                        e->backoff_ms = GD_IDCACHE_RETRY_MAX_MS;
                return false;
        }
        if (st == GD_IDENT_KNOWN) {
                packed_ident *p = pack(&c->scratch);
                if (!p || c->bytes + sizeof(*p) + p->len > GD_IDCACHE_BYTES_MAX) {
                        e->err = p ? -ENOSPC : -ENOMEM;
                        free(p);
                        st = GD_IDENT_UNAVAILABLE;
                } else {
                        e->ident = p;
                        c->bytes += sizeof(*p) + p->len;
                }
        }
        /* NONE cannot come back for a container's own path; no identity. */
        e->state = st == GD_IDENT_NONE ? GD_IDENT_UNAVAILABLE : st;
        return true;
}

unsigned gd_idcache_tick(gd_idcache *c, uint64_t now_ms, unsigned budget) {
        unsigned changed = 0, tried = 0;
        uint64_t next = UINT64_MAX;
        size_t n = c->n, start = c->cursor < n ? c->cursor : 0;

        for (size_t k = 0; k < n; k++) {
                size_t i = (start + k) % n;
                entry *e = &c->e[i];

                if (!e->in_use || e->state != GD_IDENT_PENDING)
                        continue;
                if (e->due_ms <= now_ms && tried < budget) {
                        tried++;
                        c->cursor = i + 1;
                        if (resolve(c, e, now_ms)) {
                                changed++;
                                continue;
                        }
                }
                if (e->due_ms < next)
                        next = e->due_ms;
        }
        c->next_due = next;
        return changed;
}

bool gd_idcache_news(gd_idcache *c, size_t *iter, const char **ret_key, gd_ident_state *ret_state,
                     int *ret_err) {
        for (; *iter < c->n; (*iter)++) {
                entry *e = &c->e[*iter];
                if (!e->in_use || e->told || e->state == GD_IDENT_PENDING)
                        continue;
                e->told = true;
                *ret_key = e->key;
                *ret_state = e->state;
                *ret_err = e->err;
                (*iter)++;
                return true;
        }
        return false;
}

uint64_t gd_idcache_next_ms(const gd_idcache *c) {
        return c->next_due;
}

gd_ident_state gd_idcache_get(const gd_idcache *c, const char *rel, gd_container_ident *ret) {
        char key[PATH_MAX];
        uint32_t s;

        if (!find(c, rel, key, &s))
                return GD_IDENT_NONE;
        if (s == GD_INDEX_NONE)
                return GD_IDENT_UNAVAILABLE;
        const entry *e = &c->e[s];
        if (e->state == GD_IDENT_KNOWN && ret)
                unpack(e->ident, ret);
        return e->state;
}

int gd_idcache_error(const gd_idcache *c, const char *rel) {
        char key[PATH_MAX];
        uint32_t s;

        if (!find(c, rel, key, &s))
                return 0;
        return s == GD_INDEX_NONE ? -ENOSPC : c->e[s].err; /* the watch tells every cgroup: the cap */
}

size_t gd_idcache_size(const gd_idcache *c) {
        return c->held;
}
