/* libFuzzer target for the JSON reader and the container identity parsers
 * (util/jsonread.c, policy/ident.c): any bytes in, either a failure with a
 * known errno or a result that keeps the invariants below, and never a
 * crash, a leak or undefined behaviour (built with ASan and UBSan).
 * `make fuzz-ident` builds and runs it; seeds are
 * tests/unit/fixtures/ident/. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/ident.h"
#include "util/json.h"
#include "util/jsonread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok) {
        if (!ok)
                abort();
}

/* s[0..n) is valid UTF-8 without a NUL: what the reader promises. */
static void check_utf8(const char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char)s[i];

                check(c != 0);
                if (c < 0x80) {
                        i++;
                        continue;
                }
                size_t l = gd_utf8_length(s + i);
                check(l > 0 && l <= n - i);
                i += l;
        }
}

static void check_field(const char *f, size_t size) {
        size_t n = strnlen(f, size);

        check(n < size);
        check_utf8(f, n);
}

static void check_ident(int r, const gd_container_ident *c) {
        check(r == 0 || r == -EBADMSG || r == -E2BIG || r == -ENOMEM);
        if (r < 0)
                return;
        check_field(c->id, sizeof(c->id));
        check_field(c->name, sizeof(c->name));
        check_field(c->image, sizeof(c->image));
        check_field(c->k8s_namespace, sizeof(c->k8s_namespace));
        check_field(c->pod_name, sizeof(c->pod_name));
        check_field(c->pod_uid, sizeof(c->pod_uid));
        check_field(c->container_name, sizeof(c->container_name));
        check(c->n_labels <= GD_IDENT_LABELS_MAX && c->pool_used <= sizeof(c->pool));
        for (size_t i = 0; i < c->n_labels; i++) {
                const char *k = gd_ident_label_key(c, i), *v = gd_ident_label_value(c, i);

                check(k >= c->pool && v >= c->pool && v < c->pool + c->pool_used);
                check(strlen(k) <= GD_IDENT_LABEL_KEY_MAX && strlen(v) <= GD_IDENT_LABEL_VAL_MAX);
                check_utf8(k, strlen(k));
                check_utf8(v, strlen(v));
        }
}

/* Every token's `next` stays in order and in range; every string decodes
 * to valid UTF-8 of the length it says. */
static void check_doc(const gd_jdoc *d) {
        static char buf[GD_JREAD_SIZE_MAX * 3 + 1]; /* a byte becomes at most 3 (U+FFFD) */

        check(d->ntoks > 0 && d->toks[0].next == d->ntoks);
        for (size_t i = 0; i < d->ntoks; i++) {
                size_t n;

                check(d->toks[i].next > i && d->toks[i].next <= d->ntoks);
                check((size_t)d->toks[i].start + d->toks[i].len <= d->len);
                if (d->toks[i].type != GD_JSTRING)
                        continue;
                check(gd_jread_string(d, i, buf, sizeof(buf), &n) == 0);
                check(buf[n] == '\0');
                check_utf8(buf, n);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *s = (const char *)data;
        static gd_container_ident c;
        gd_jdoc d;
        int r;

        r = gd_jread_parse(s, size, &d);
        check(r == 0 || r == -EBADMSG || r == -E2BIG || r == -ENOMEM);
        if (r == 0) {
                check_doc(&d);
                gd_jread_free(&d);
        }
        check_ident(gd_ident_from_docker(s, size, &c), &c);
        check_ident(gd_ident_from_containerd(s, size, &c), &c);
        check_ident(gd_ident_from_crio(s, size, &c), &c);
        check_ident(gd_ident_from_podman(s, size, &c), &c);
        /* The id of the entry in the seed podman-containers.json. */
        r = gd_ident_merge_podman_storage(
                s, size, "a9b8c7d6e5f40123456789abcdef0123456789abcdef0123456789abcdef0123", &c);
        check_ident(r == -ENOENT ? 0 : r, &c); /* -ENOENT: c as it was, still whole */
        return 0;
}
