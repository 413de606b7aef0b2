/* The hash map of util/index.h: linear probing, backward-shift deletion. */
#include "util/index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Grow past 3/4 full: linear probing stays at a few probes on average
 * below that, and the buckets (16 bytes each) stay small beside the
 * slots they point to. */
#define LOAD_NUM 3
#define LOAD_DEN 4
/* The first allocation: a handful of cgroups without a regrowth. */
#define MIN_CAP 16

/* A key of either kind, with its hash. s is NULL for an int key. */
typedef struct key {
        int n;
        const char *s;
        uint32_t hash;
} key;

/* murmur3's finaliser: every input bit moves every output bit, so the low
 * bits that pick a bucket depend on the whole key. */
static uint32_t mix(uint32_t h) {
        h ^= h >> 16;
        h *= 0x85ebca6bu;
        h ^= h >> 13;
        h *= 0xc2b2ae35u;
        h ^= h >> 16;
        return h;
}

uint32_t gd_index_hash_int(int k) {
        return mix((uint32_t)k);
}

uint32_t gd_index_hash_str(const char *s) {
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                h = (h ^ *p) * 16777619u;
        return mix(h);
}

static bool same(const gd_index_entry *e, const key *k) {
        if (e->hash != k->hash)
                return false;
        return k->s ? strcmp(e->key.s, k->s) == 0 : e->key.n == k->n;
}

/* The bucket holding k, or the free one where it would go (cap > 0, and
 * never full: the load factor keeps a free bucket). */
static size_t probe(const gd_index *ix, const key *k) {
        size_t mask = ix->cap - 1;
        for (size_t i = k->hash & mask;; i = (i + 1) & mask)
                if (ix->buckets[i].value == GD_INDEX_NONE || same(&ix->buckets[i], k))
                        return i;
}

static bool fits(size_t n, size_t cap) {
        return n * LOAD_DEN <= cap * LOAD_NUM;
}

int gd_index_reserve(gd_index *ix, size_t n) {
        if (ix->cap && fits(n, ix->cap))
                return 0;
        size_t cap = ix->cap ? ix->cap : MIN_CAP;
        while (!fits(n, cap)) {
                if (cap > SIZE_MAX / 2 / sizeof(gd_index_entry))
                        return -ENOMEM;
                cap *= 2;
        }
        gd_index_entry *b = malloc(cap * sizeof(*b));
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < cap; i++)
                b[i].value = GD_INDEX_NONE;
        /* Rehash: the stored hashes place every entry, no key is compared. */
        for (size_t i = 0; i < ix->cap; i++) {
                const gd_index_entry *e = &ix->buckets[i];
                if (e->value == GD_INDEX_NONE)
                        continue;
                size_t j = e->hash & (cap - 1);
                while (b[j].value != GD_INDEX_NONE)
                        j = (j + 1) & (cap - 1);
                b[j] = *e;
        }
        free(ix->buckets);
        ix->buckets = b;
        ix->cap = cap;
        return 0;
}

static int put(gd_index *ix, const key *k, uint32_t value) {
        if (value == GD_INDEX_NONE)
                return -EINVAL;
        if (ix->cap) {
                size_t i = probe(ix, k);
                if (ix->buckets[i].value != GD_INDEX_NONE) {
                        ix->buckets[i].value = value;
                        return 0;
                }
        }
        int r = gd_index_reserve(ix, ix->n + 1);
        if (r < 0)
                return r;
        gd_index_entry *e = &ix->buckets[probe(ix, k)];
        if (k->s)
                e->key.s = k->s;
        else
                e->key.n = k->n;
        e->hash = k->hash;
        e->value = value;
        ix->n++;
        return 0;
}

static uint32_t get(const gd_index *ix, const key *k) {
        return ix->cap ? ix->buckets[probe(ix, k)].value : GD_INDEX_NONE;
}

/* Empty bucket i, then move back each entry after it in the run that the
 * hole would cut off from its first bucket, so every key stays reachable
 * from its own bucket without a tombstone. */
static void erase_at(gd_index *ix, size_t i) {
        size_t mask = ix->cap - 1;
        for (size_t j = (i + 1) & mask; ix->buckets[j].value != GD_INDEX_NONE; j = (j + 1) & mask) {
                size_t home = ix->buckets[j].hash & mask;
                /* j may fill the hole when the hole lies between its first
                 * bucket and j (cyclically), its first bucket included. */
                if (((j - home) & mask) >= ((j - i) & mask)) {
                        ix->buckets[i] = ix->buckets[j];
                        i = j;
                }
        }
        ix->buckets[i].value = GD_INDEX_NONE;
        ix->n--;
}

static uint32_t del(gd_index *ix, const key *k) {
        if (!ix->cap)
                return GD_INDEX_NONE;
        size_t i = probe(ix, k);
        uint32_t value = ix->buckets[i].value;
        if (value != GD_INDEX_NONE)
                erase_at(ix, i);
        return value;
}

int gd_index_put_int(gd_index *ix, int k, uint32_t value) {
        return put(ix, &(key){.n = k, .hash = gd_index_hash_int(k)}, value);
}

int gd_index_put_str(gd_index *ix, const char *k, uint32_t value) {
        return put(ix, &(key){.s = k, .hash = gd_index_hash_str(k)}, value);
}

uint32_t gd_index_get_int(const gd_index *ix, int k) {
        return get(ix, &(key){.n = k, .hash = gd_index_hash_int(k)});
}

uint32_t gd_index_get_str(const gd_index *ix, const char *k) {
        return get(ix, &(key){.s = k, .hash = gd_index_hash_str(k)});
}

uint32_t gd_index_del_int(gd_index *ix, int k) {
        return del(ix, &(key){.n = k, .hash = gd_index_hash_int(k)});
}

uint32_t gd_index_del_str(gd_index *ix, const char *k) {
        return del(ix, &(key){.s = k, .hash = gd_index_hash_str(k)});
}

void gd_index_free(gd_index *ix) {
        free(ix->buckets);
        ix->buckets = NULL;
        ix->cap = ix->n = 0;
}
