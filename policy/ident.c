/* Container identity from runtime state files (ident.h). Pure.
 *
 * Where ident.h is silent: every parser fills a local ident and copies
 * it out only on success, so *ret is untouched on failure. Nothing is
 * static: the parsers are reentrant. Fields come from the file only. */
#include "policy/ident.h"

#include <errno.h>
#include <string.h>

#include "util/jsonread.h"

/* Kubernetes fields as the kubelet's container labels name them
 * (kubernetes pkg/kubelet/types/labels.go); CRI-O copies them into
 * annotations, cri-dockerd sets them as Docker labels. */
#define K8S_LABEL_NAMESPACE "io.kubernetes.pod.namespace"
#define K8S_LABEL_POD_NAME  "io.kubernetes.pod.name"
#define K8S_LABEL_POD_UID   "io.kubernetes.pod.uid"
#define K8S_LABEL_CONTAINER "io.kubernetes.container.name"

const char *gd_ident_label_key(const gd_container_ident *c, size_t i) {
        return c->pool + c->labels[i].key;
}

const char *gd_ident_label_value(const gd_container_ident *c, size_t i) {
        return c->pool + c->labels[i].value;
}

const char *gd_ident_label_get(const gd_container_ident *c, const char *key) {
        const char *found = NULL;

        for (size_t i = 0; i < c->n_labels; i++)
                if (strcmp(gd_ident_label_key(c, i), key) == 0)
                        found = gd_ident_label_value(c, i);
        return found;
}

/* The string at index v into field (size bytes); a value too long or not
 * a string is left out and counted. Absent (v < 0) leaves the field. */
static void set_field(gd_container_ident *c, const gd_jdoc *d, int v, char *field, size_t size) {
        if (v < 0)
                return;
        if (gd_jread_type(d, (size_t)v) == GD_JNULL)
                return; /* Go writes a nil as null: the same as absent */
        if (gd_jread_string(d, (size_t)v, field, size, NULL) < 0) {
                field[0] = '\0';
                c->fields_dropped++;
        }
}

/* Member key of the object at index obj (a NUL-terminated name). */
static int member(const gd_jdoc *d, int obj, const char *key) {
        return gd_jread_member(d, (size_t)obj, key, strlen(key));
}

static void set_member(gd_container_ident *c, const gd_jdoc *d, size_t obj, const char *key,
                       char *field, size_t size) {
        set_field(c, d, member(d, (int)obj, key), field, size);
}

/* One label: key at index k, value at index v. */
static void add_label(gd_container_ident *c, const gd_jdoc *d, size_t k, size_t v) {
        char key[GD_IDENT_LABEL_KEY_MAX + 1], value[GD_IDENT_LABEL_VAL_MAX + 1];
        size_t kn, vn;

        if (c->n_labels == GD_IDENT_LABELS_MAX ||
            gd_jread_string(d, k, key, sizeof(key), &kn) < 0 ||
            gd_jread_string(d, v, value, sizeof(value), &vn) < 0 ||
            sizeof(c->pool) - c->pool_used < kn + vn + 2) {
                c->labels_dropped++;
                return;
        }
        c->labels[c->n_labels].key = (uint16_t)c->pool_used;
        memcpy(c->pool + c->pool_used, key, kn + 1);
        c->pool_used += kn + 1;
        c->labels[c->n_labels].value = (uint16_t)c->pool_used;
        memcpy(c->pool + c->pool_used, value, vn + 1);
        c->pool_used += vn + 1;
        c->n_labels++;
}

/* Every member of the object at index obj as a label; anything else at
 * obj (an array, a number) is a field of the wrong type. */
static void add_labels(gd_container_ident *c, const gd_jdoc *d, int obj) {
        if (obj < 0 || gd_jread_type(d, (size_t)obj) == GD_JNULL)
                return;
        if (gd_jread_type(d, (size_t)obj) != GD_JOBJECT) {
                c->fields_dropped++;
                return;
        }
        size_t k = (size_t)obj + 1;
        for (uint32_t m = 0; m < d->toks[obj].count; m++) {
                add_label(c, d, k, k + 1);
                k = d->toks[k + 1].next;
        }
}

/* Fill an empty field from a label, when the label is there and fits. */
static void field_from_label(gd_container_ident *c, const char *key, char *field, size_t size) {
        const char *v;

        if (field[0] != '\0')
                return;
        v = gd_ident_label_get(c, key);
        if (!v)
                return;
        if (strlen(v) >= size) {
                c->fields_dropped++;
                return;
        }
        strcpy(field, v);
}

static void k8s_from_labels(gd_container_ident *c) {
        field_from_label(c, K8S_LABEL_NAMESPACE, c->k8s_namespace, sizeof(c->k8s_namespace));
        field_from_label(c, K8S_LABEL_POD_NAME, c->pod_name, sizeof(c->pod_name));
        field_from_label(c, K8S_LABEL_POD_UID, c->pod_uid, sizeof(c->pod_uid));
        field_from_label(c, K8S_LABEL_CONTAINER, c->container_name, sizeof(c->container_name));
}

/* What one format reads: from the root object (Docker) or from the
 * annotations object of an OCI config.json (at). */
typedef void (*fill_fn)(gd_container_ident *c, const gd_jdoc *d, size_t at);

/* The annotations object of an OCI config.json, or a negative index. */
static int annotations(const gd_jdoc *d, gd_container_ident *c) {
        int a = member(d, 0, "annotations");

        if (a >= 0 && gd_jread_type(d, (size_t)a) != GD_JOBJECT) {
                if (gd_jread_type(d, (size_t)a) != GD_JNULL)
                        c->fields_dropped++;
                return -EINVAL;
        }
        return a;
}

/* Every parser: buf must be a JSON object; fill reads it (the root, or
 * its annotations when oci) into a fresh ident that is copied to *ret
 * only on success. */
static int parse(const char *buf, size_t len, pol_runtime rt, bool oci, fill_fn fill,
                 gd_container_ident *ret) {
        gd_container_ident c = {.runtime = rt};
        gd_jdoc d;
        int r = gd_jread_parse(buf, len, &d);

        if (r < 0)
                return r;
        if (gd_jread_type(&d, 0) != GD_JOBJECT) {
                gd_jread_free(&d);
                return -EBADMSG;
        }
        int at = oci ? annotations(&d, &c) : 0;
        if (at >= 0)
                fill(&c, &d, (size_t)at);
        gd_jread_free(&d);
        *ret = c;
        return 0;
}

static void fill_docker(gd_container_ident *c, const gd_jdoc *d, size_t root) {
        int config;

        set_member(c, d, root, "ID", c->id, sizeof(c->id));
        set_member(c, d, root, "Name", c->name, sizeof(c->name));
        if (c->name[0] == '/')
                memmove(c->name, c->name + 1, strlen(c->name));
        config = member(d, (int)root, "Config");
        if (config >= 0 && gd_jread_type(d, (size_t)config) == GD_JOBJECT) {
                set_member(c, d, (size_t)config, "Image", c->image, sizeof(c->image));
                add_labels(c, d, member(d, config, "Labels"));
        } else if (config >= 0 && gd_jread_type(d, (size_t)config) != GD_JNULL)
                c->fields_dropped++;
        k8s_from_labels(c);
}

int gd_ident_from_docker(const char *buf, size_t len, gd_container_ident *ret) {
        return parse(buf, len, POL_RUNTIME_DOCKER, false, fill_docker, ret);
}

/* Is annotation key of the object at index a equal to value? */
static bool annotation_is(const gd_jdoc *d, size_t a, const char *key, const char *value) {
        int v = member(d, (int)a, key);

        return v >= 0 && gd_jread_string_eq(d, (size_t)v, value, strlen(value));
}

static void fill_containerd(gd_container_ident *c, const gd_jdoc *d, size_t a) {
        c->sandbox = annotation_is(d, a, "io.kubernetes.cri.container-type", "sandbox");
        set_member(c, d, a, "io.kubernetes.cri.sandbox-namespace", c->k8s_namespace,
                   sizeof(c->k8s_namespace));
        set_member(c, d, a, "io.kubernetes.cri.sandbox-name", c->pod_name, sizeof(c->pod_name));
        set_member(c, d, a, "io.kubernetes.cri.sandbox-uid", c->pod_uid, sizeof(c->pod_uid));
        set_member(c, d, a, "io.kubernetes.cri.container-name", c->container_name,
                   sizeof(c->container_name));
        set_member(c, d, a, "io.kubernetes.cri.image-name", c->image, sizeof(c->image));
}

int gd_ident_from_containerd(const char *buf, size_t len, gd_container_ident *ret) {
        return parse(buf, len, POL_RUNTIME_CONTAINERD, true, fill_containerd, ret);
}

/* The Kubernetes labels as annotations (CRI-O; Podman's kube play). */
static void k8s_from_annotations(gd_container_ident *c, const gd_jdoc *d, size_t a) {
        set_member(c, d, a, K8S_LABEL_NAMESPACE, c->k8s_namespace, sizeof(c->k8s_namespace));
        set_member(c, d, a, K8S_LABEL_POD_NAME, c->pod_name, sizeof(c->pod_name));
        set_member(c, d, a, K8S_LABEL_POD_UID, c->pod_uid, sizeof(c->pod_uid));
        set_member(c, d, a, K8S_LABEL_CONTAINER, c->container_name, sizeof(c->container_name));
}

/* Labels from a string member holding a JSON object (CRI-O's
 * io.kubernetes.cri-o.Labels). The decoded text is parsed on its own. */
static void labels_from_json_string(gd_container_ident *c, const gd_jdoc *d, int v) {
        char text[GD_IDENT_LABEL_POOL * 2];
        size_t n;
        gd_jdoc inner;

        if (v < 0 || gd_jread_type(d, (size_t)v) == GD_JNULL)
                return;
        if (gd_jread_string(d, (size_t)v, text, sizeof(text), &n) < 0 ||
            gd_jread_parse(text, n, &inner) < 0) {
                c->fields_dropped++;
                return;
        }
        add_labels(c, &inner, 0);
        gd_jread_free(&inner);
}

static void fill_crio(gd_container_ident *c, const gd_jdoc *d, size_t a) {
        c->sandbox = annotation_is(d, a, "io.kubernetes.cri-o.ContainerType", "sandbox");
        set_member(c, d, a, "io.kubernetes.cri-o.ContainerID", c->id, sizeof(c->id));
        set_member(c, d, a, "io.kubernetes.cri-o.ImageName", c->image, sizeof(c->image));
        if (c->image[0] == '\0')
                set_member(c, d, a, "io.kubernetes.cri-o.Image", c->image, sizeof(c->image));
        k8s_from_annotations(c, d, a);
        labels_from_json_string(c, d, member(d, (int)a, "io.kubernetes.cri-o.Labels"));
}

int gd_ident_from_crio(const char *buf, size_t len, gd_container_ident *ret) {
        return parse(buf, len, POL_RUNTIME_CRIO, true, fill_crio, ret);
}

static void fill_podman(gd_container_ident *c, const gd_jdoc *d, size_t a) {
        c->sandbox = annotation_is(d, a, "io.kubernetes.cri-o.ContainerType", "sandbox");
        k8s_from_annotations(c, d, a);
}

int gd_ident_from_podman(const char *buf, size_t len, gd_container_ident *ret) {
        return parse(buf, len, POL_RUNTIME_PODMAN, true, fill_podman, ret);
}

/* The metadata string of a containers.json entry: {"image-name", "name"}. */
static void podman_metadata(gd_container_ident *c, const gd_jdoc *d, int v) {
        char text[8192];
        size_t n;
        gd_jdoc inner = {0};

        if (v < 0 || gd_jread_type(d, (size_t)v) == GD_JNULL)
                return;
        if (gd_jread_string(d, (size_t)v, text, sizeof(text), &n) < 0 ||
            gd_jread_parse(text, n, &inner) < 0 || gd_jread_type(&inner, 0) != GD_JOBJECT) {
                if (inner.toks)
                        gd_jread_free(&inner);
                c->fields_dropped++;
                return;
        }
        set_member(c, &inner, 0, "image-name", c->image, sizeof(c->image));
        if (c->name[0] == '\0')
                set_member(c, &inner, 0, "name", c->name, sizeof(c->name));
        gd_jread_free(&inner);
}

int gd_ident_merge_podman_storage(const char *buf, size_t len, const char *id, gd_container_ident *c) {
        gd_container_ident scratch;
        gd_jdoc d;
        int r = gd_jread_parse(buf, len, &d);

        if (r < 0)
                return r;
        if (gd_jread_type(&d, 0) != GD_JARRAY) {
                gd_jread_free(&d);
                return -EBADMSG;
        }
        r = -ENOENT;
        size_t e = 1;
        for (uint32_t k = 0; k < d.toks[0].count; k++, e = d.toks[e].next) {
                int v;

                if (gd_jread_type(&d, e) != GD_JOBJECT)
                        continue;
                v = member(&d, (int)e, "id");
                if (v < 0 || !gd_jread_string_eq(&d, (size_t)v, id, strlen(id)))
                        continue;
                scratch = *c;
                scratch.runtime = POL_RUNTIME_PODMAN;
                set_field(&scratch, &d, v, scratch.id, sizeof(scratch.id));
                scratch.name[0] = '\0';
                v = member(&d, (int)e, "names");
                if (v >= 0 && gd_jread_type(&d, (size_t)v) == GD_JARRAY && d.toks[v].count > 0)
                        set_field(&scratch, &d, v + 1, scratch.name, sizeof(scratch.name));
                podman_metadata(&scratch, &d, member(&d, (int)e, "metadata"));
                *c = scratch;
                r = 0; /* ids are unique; the last entry wins if not */
        }
        gd_jread_free(&d);
        return r;
}

/* A field copied whole, or not at all: a cut name would be another name. */
static void names_copy(char *dst, size_t size, const char *src) {
        size_t n = src ? strlen(src) : 0;

        dst[0] = '\0';
        if (n < size)
                memcpy(dst, src ? src : "", n + 1);
}

void gd_ident_names(const gd_container_ident *c, pol_runtime runtime, const char *path_id,
                    gd_container_names *ret) {
        gd_container_names n;

        memset(&n, 0, sizeof(n));
        n.runtime = c && c->runtime != POL_RUNTIME_ANY ? c->runtime : runtime;
        names_copy(n.id, sizeof(n.id), c && c->id[0] ? c->id : path_id);
        if (c) {
                names_copy(n.name, sizeof(n.name), c->name);
                names_copy(n.image, sizeof(n.image), c->image);
                names_copy(n.k8s_namespace, sizeof(n.k8s_namespace), c->k8s_namespace);
                names_copy(n.pod_name, sizeof(n.pod_name), c->pod_name);
                names_copy(n.container_name, sizeof(n.container_name), c->container_name);
        }
        *ret = n;
}

const char *gd_ident_word(const gd_container_names *c) {
        if (c->runtime == POL_RUNTIME_ANY)
                return "-";
        return c->name[0] ? c->name : c->id[0] ? c->id : "-";
}
