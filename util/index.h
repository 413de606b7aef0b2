/* gd_index: a hash map from a key to a uint32_t value (for the watch set:
 * an inotify descriptor or a cgroup path to a slot), in O(1) on average.
 * Open addressing with linear probing; a delete shifts the entries after
 * it back, so churn leaves no tombstones and lookups stay short however
 * many keys came and went. It grows by doubling, never shrinks.
 *
 * Keys are ints (gd_index_*_int) or strings (gd_index_*_str); one index
 * holds one kind only. A string key is borrowed, not copied: it must stay
 * unchanged at its address until its entry is deleted (the watch keys by
 * each slot's own heap copy of its path). A zeroed gd_index is empty and
 * valid; nothing is allocated until the first insert or reserve. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Not a value: marks a free bucket (the watch's slots stop at 24 bits). */
#define GD_INDEX_NONE UINT32_MAX

typedef struct gd_index_entry {
        union {
                int n;
                const char *s;
        } key;
        uint32_t hash;
        uint32_t value; /* GD_INDEX_NONE: the bucket is free */
} gd_index_entry;

typedef struct gd_index {
        gd_index_entry *buckets;
        size_t cap; /* buckets: a power of two, or 0 before the first insert */
        size_t n;   /* entries held */
} gd_index;

/* Make room for n entries in all: until n are held, no insert allocates
 * (so one that follows cannot fail). Returns 0, or -ENOMEM with ix
 * unchanged. */
int gd_index_reserve(gd_index *ix, size_t n);

/* Map key to value (not GD_INDEX_NONE), replacing the value of a key held
 * already. Returns 0, -EINVAL for GD_INDEX_NONE, or -ENOMEM (ix unchanged). */
int gd_index_put_int(gd_index *ix, int key, uint32_t value);
int gd_index_put_str(gd_index *ix, const char *key, uint32_t value);

/* The value of key, or GD_INDEX_NONE when it is not held. */
uint32_t gd_index_get_int(const gd_index *ix, int key);
uint32_t gd_index_get_str(const gd_index *ix, const char *key);

/* Forget key. Returns its value, or GD_INDEX_NONE when it was not held. */
uint32_t gd_index_del_int(gd_index *ix, int key);
uint32_t gd_index_del_str(gd_index *ix, const char *key);

/* The hashes the buckets are chosen by (a key's first bucket is its hash
 * modulo cap), for tests that need keys that collide. */
uint32_t gd_index_hash_int(int key);
uint32_t gd_index_hash_str(const char *key);

/* Free the buckets; ix is empty and usable again. */
void gd_index_free(gd_index *ix);
