/* The identity cursor (ident.h): one lookup per container of a pass. */
#include <string.h>

#include "watch/ident.h"

void gd_ident_cursor_init(gd_ident_cursor *k, const gd_idcache *cache, const gd_ident_src *src) {
        k->cache = cache;
        k->src = src;
        gd_ident_cursor_reset(k);
}

void gd_ident_cursor_reset(gd_ident_cursor *k) {
        k->have = false;
        k->prefix[0] = '\0';
        k->state = GD_IDENT_NONE;
        k->pending = 0;
}

/* Looks the container of prefix up, into k. */
static void lookup(gd_ident_cursor *k, const char *prefix) {
        gd_ident_state st = GD_IDENT_NONE;

        if (k->cache) {
                st = gd_idcache_get(k->cache, prefix, &k->ident);
        } else if (k->src) {
                if (gd_ident_read(k->src, prefix, &k->ident, &st) < 0)
                        st = GD_IDENT_PENDING;
        }
        k->state = st;
}

const gd_container_ident *gd_ident_cursor_of(gd_ident_cursor *k, const char *rel,
                                             gd_ident_state *ret_state) {
        char prefix[PATH_MAX];
        pol_container pc;

        int r = gd_ident_container_of(rel, prefix, sizeof(prefix), &pc);
        if (r <= 0) {
                /* No container (or a path too long to name one): nothing to
                 * read, and nothing kept from the last lookup is disturbed. */
                if (ret_state)
                        *ret_state = r < 0 ? GD_IDENT_UNAVAILABLE : GD_IDENT_NONE;
                return NULL;
        }
        if (!k->have || strcmp(k->prefix, prefix) != 0) {
                memcpy(k->prefix, prefix, strlen(prefix) + 1);
                lookup(k, prefix);
                k->have = true;
        }
        if (k->state == GD_IDENT_PENDING)
                k->pending++;
        if (ret_state)
                *ret_state = k->state;
        return k->state == GD_IDENT_KNOWN ? &k->ident : NULL;
}

const gd_container_ident *gd_ident_cursor_lookup(void *ctx, const char *rel) {
        return gd_ident_cursor_of(ctx, rel, NULL);
}

void gd_ident_cursor_names(gd_ident_cursor *k, const char *rel, gd_container_names *ret) {
        char prefix[PATH_MAX];
        pol_container pc;

        /* The outermost container's (rule (a)), as the identity is. */
        if (gd_ident_container_of(rel, prefix, sizeof(prefix), &pc) <= 0) {
                pc.runtime = POL_RUNTIME_ANY;
                pc.id[0] = '\0';
        }
        gd_ident_names(k ? gd_ident_cursor_of(k, rel, NULL) : NULL, pc.runtime, pc.id, ret);
}
