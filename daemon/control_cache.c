/* The control socket's documents, rendered at most once a period and
 * shared: see control.h for the contracts. */
#include "daemon/control.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void gd_control_init(gd_control *c, int epfd, gd_control_render_fn render,
                     gd_control_generation_fn state_generation, void *userdata) {
        memset(c, 0, sizeof(*c));
        c->epfd = epfd;
        c->unix_fd = c->tcp_fd = -1;
        c->render = render;
        c->state_generation = state_generation;
        c->userdata = userdata;
        c->next_generation = 1;
        c->renders_left = GD_CONTROL_RENDERS_PER_WAKEUP;
        for (size_t i = 0; i < GD_CONTROL_MAX_CLIENTS; i++)
                c->conns[i].fd = -1;
}

void gd_control_wakeup(gd_control *c) {
        c->renders_left = GD_CONTROL_RENDERS_PER_WAKEUP;
}

void gd_control_blob_unref(gd_control_blob *b) {
        if (!b || --b->refs > 0)
                return;
        free(b->data);
        free(b);
}

/* Both only grow: their sum moves whenever either does. */
static uint64_t generation_now(const gd_control *c) {
        return (c->state_generation ? c->state_generation(c->userdata) : 0) + c->own_generation;
}

static bool still_fresh(const gd_control_cached *e, uint64_t generation, uint64_t now_ms) {
        if (!e->blob)
                return false;
        uint64_t age = now_ms >= e->rendered_ms ? now_ms - e->rendered_ms : 0;
        return age < GD_CONTROL_CACHE_MIN_MS ||
               (age < GD_CONTROL_CACHE_MS && e->generation == generation);
}

int gd_control_document(gd_control *c, gd_control_doc doc, uint64_t now_ms,
                        gd_control_blob **ret_blob) {
        if ((unsigned)doc >= GD_CONTROL__N_DOCS)
                return -EINVAL;
        gd_control_cached *e = &c->cache[doc];
        uint64_t generation = generation_now(c);

        if (!still_fresh(e, generation, now_ms)) {
                char *body = NULL;
                size_t len = 0;
                if (c->renders_left == 0)
                        return -EAGAIN;
                c->renders_left--;
                c->renders++;
                int r = c->render(c->userdata, doc, &body, &len);
                if (r < 0)
                        return r;
                gd_control_blob *b = malloc(sizeof(*b));
                if (!b) {
                        free(body);
                        return -ENOMEM;
                }
                *b = (gd_control_blob){.refs = 1, .len = len, .data = body};
                /* Clients still writing the old bytes keep them alive. */
                gd_control_blob_unref(e->blob);
                *e = (gd_control_cached){.blob = b, .rendered_ms = now_ms,
                                         .generation = generation};
        }
        e->blob->refs++;
        *ret_blob = e->blob;
        return 0;
}
