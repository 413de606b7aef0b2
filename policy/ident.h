/* Container identity from a runtime's own state files: the names
 * operators use (name, image, labels, Kubernetes namespace, pod and
 * container). Parsers only: a file's contents in, a gd_container_ident
 * out; no I/O, no logging. Not wired into the daemon yet (issue 11).
 *
 * Where each runtime keeps it on the host, read-only, without a socket
 * (read in the runtimes' sources, named per row):
 *
 * Docker (moby/moby daemon/container/container.go: configFileName
 *   "config.v2.json", struct Container; Config is api/types/container
 *   Config): /var/lib/docker/containers/<id>/config.v2.json, a Go
 *   json.Encoder dump of the container:
 *     "ID"            the 64-hex id
 *     "Name"          "/<name>" (a leading '/'; stripped here)
 *     "Config.Image"  the image as the user named it ("mysql:8"); the
 *                     top-level "Image" is the resolved "sha256:..." id
 *     "Config.Labels" {key: value} (compose: com.docker.compose.service,
 *                     .project; cri-dockerd: io.kubernetes.pod.*)
 *   Written atomically (atomicwriter) on every state change; mode 0600.
 *
 * containerd CRI plugin (containerd/containerd
 *   internal/cri/annotations/annotations.go, DefaultCRIAnnotations): the
 *   OCI bundle's config.json, /run/containerd/io.containerd.runtime.v2.task/
 *   <ns>/<id>/config.json (<ns> "k8s.io" under the kubelet), "annotations":
 *     io.kubernetes.cri.container-type     "container" | "sandbox" (pause)
 *     io.kubernetes.cri.sandbox-namespace  Kubernetes namespace
 *     io.kubernetes.cri.sandbox-name       pod name
 *     io.kubernetes.cri.sandbox-uid        pod UID
 *     io.kubernetes.cri.container-name     container name (containers only)
 *     io.kubernetes.cri.image-name         image (containers only; a
 *                                          sandbox has ...podsandbox.image-name)
 *     io.kubernetes.cri.sandbox-id         the sandbox's container id
 *   Written with os.WriteFile (containerd core/runtime/v2/bundle.go,
 *   NewBundle), not atomically: a read while the task is created can see
 *   a cut file (-EBADMSG: read it again later).
 *   Not in the bundle: container and pod labels (containerd keeps them in
 *   its bolt database, meta.db, or behind the socket), a container name
 *   outside CRI (ctr, nerdctl), the pod's labels.
 *
 * CRI-O (cri-o/cri-o internal/factory/container/container.go
 *   SpecAddAnnotations; pkg/annotations/internal.go for the keys; the
 *   spec is saved under both of the container's storage directories):
 *   /run/containers/storage/overlay-containers/<id>/userdata/config.json
 *   (and the same under /var/lib/containers/storage), "annotations":
 *     io.kubernetes.pod.namespace, io.kubernetes.pod.name,
 *     io.kubernetes.pod.uid, io.kubernetes.container.name
 *                           the kubelet's container labels, copied in as
 *                           annotations ("for k, v := range labels";
 *                           the keys: kubernetes pkg/kubelet/types/labels.go)
 *     io.kubernetes.cri-o.ImageName  some name of the image ("" when run
 *                                    by id); io.kubernetes.cri-o.Image is
 *                                    the image the pod spec asked for
 *                                    (the fallback here)
 *     io.kubernetes.cri-o.ContainerType  "container" | "sandbox"
 *     io.kubernetes.cri-o.Labels     the container's CRI labels, a JSON
 *                                    object encoded as a string
 *     io.kubernetes.cri-o.Name       k8s_<ctr>_<pod>_<ns>_<uid>_<attempt>
 *   Not in a container's spec: the pod's own labels (only the sandbox's
 *   spec has them, in its io.kubernetes.cri-o.Labels).
 *
 * Podman (containers/podman libpod/storage.go RuntimeContainerMetadata,
 *   CreateContainerStorage): its OCI config.json
 *   (/var/lib/containers/storage/overlay-containers/<id>/userdata/
 *   config.json) carries no name, image or labels, only
 *   "io.container.manager": "libpod" and the user's --annotation values.
 *   The name and image are in containers/storage's list (containers/
 *   storage containers.go, struct Container, newContainerStore):
 *   /var/lib/containers/storage/overlay-containers/containers.json, and
 *   volatile-containers.json beside it (or under the run root with a
 *   transient store), arrays of {"id", "names": [<name>], "image": <image
 *   id>, "metadata": libpod's JSON object as a string: {"image-name",
 *   "image-id", "name", "created-at"}}, written atomically. One file
 *   holds every container of the store: a host past ~1000 containers can
 *   pass the reader's 1 MiB. Not available from files guardian can parse:
 *   Podman's labels and pod name live in libpod's database (db.sql,
 *   SQLite, or bolt_state.db), behind the API socket. Rootless Podman
 *   keeps the same under ~/.local/share/containers.
 *
 * Values keep their bytes (control characters included: guardian's
 * writers quote them), after util/jsonread.h's replacements (invalid
 * UTF-8, lone surrogates and NUL become U+FFFD). A value too long for
 * its field is left out (empty) and counted in fields_dropped: a cut
 * name could match a glob the whole one does not. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

#define GD_IDENT_LABELS_MAX    64
#define GD_IDENT_LABEL_KEY_MAX 256  /* bytes, without the NUL */
#define GD_IDENT_LABEL_VAL_MAX 1024 /* bytes, without the NUL */
#define GD_IDENT_LABEL_POOL    16384

typedef struct gd_ident_label {
        uint16_t key, value; /* offsets of NUL-terminated strings in the pool */
} gd_ident_label;

/* About 18 KiB, most of it the label pool: one per container, kept in a
 * cache, not many on a stack. */
typedef struct gd_container_ident {
        pol_runtime runtime;
        bool sandbox;          /* a pod's sandbox (pause) container, not a workload */
        char id[65];           /* "" when the file does not say */
        char name[256];        /* the runtime's container name, no leading '/' */
        char image[512];       /* as the user named it where the runtime keeps that */
        char k8s_namespace[254];
        char pod_name[254];
        char pod_uid[64];
        char container_name[254]; /* the container's name in its pod */
        size_t n_labels;
        gd_ident_label labels[GD_IDENT_LABELS_MAX];
        char pool[GD_IDENT_LABEL_POOL];
        size_t pool_used;
        unsigned labels_dropped; /* over the count, a length, the pool, or not a string */
        unsigned fields_dropped; /* a field's value too long, or of the wrong type */
} gd_container_ident;

/* Label i's key and value (i < n_labels). */
const char *gd_ident_label_key(const gd_container_ident *c, size_t i);
const char *gd_ident_label_value(const gd_container_ident *c, size_t i);

/* The value of label key, or NULL. The last one when repeated. */
const char *gd_ident_label_get(const gd_container_ident *c, const char *key);

/* Docker's config.v2.json (buf[0..len), not NUL-terminated). Reads ID,
 * Name (its leading '/' stripped; a name without one is kept as is),
 * Config.Image, Config.Labels, and the Kubernetes fields from the
 * io.kubernetes.pod.* / io.kubernetes.container.name labels that
 * cri-dockerd sets. Missing members leave fields empty; a member of the
 * wrong type (Labels as an array) is counted in fields_dropped. Returns
 * 0, -EBADMSG when the file is malformed or its root not an object,
 * -E2BIG past the reader's limits (util/jsonread.h), -ENOMEM; *ret is
 * untouched on failure. */
int gd_ident_from_docker(const char *buf, size_t len, gd_container_ident *ret);

/* containerd's CRI bundle config.json: the io.kubernetes.cri.*
 * annotations (ident.h's top). runtime CONTAINERD; id is not in the
 * file (the caller has it from the path). Returns as gd_ident_from_docker. */
int gd_ident_from_containerd(const char *buf, size_t len, gd_container_ident *ret);

/* CRI-O's config.json: the kubelet's labels copied into annotations,
 * the image from io.kubernetes.cri-o.ImageName (else .Image), the id
 * from io.kubernetes.cri-o.ContainerID, labels from the JSON object in
 * io.kubernetes.cri-o.Labels (one that does not parse counts in
 * fields_dropped). Returns as gd_ident_from_docker. */
int gd_ident_from_crio(const char *buf, size_t len, gd_container_ident *ret);

/* Podman's config.json: only the Kubernetes annotations that
 * `podman kube play` may set (as CRI-O's); runtime PODMAN. Returns as
 * gd_ident_from_docker. */
int gd_ident_from_podman(const char *buf, size_t len, gd_container_ident *ret);

/* The entry of container id in containers/storage's containers.json
 * (Podman): name from names[0] (else metadata's "name"), image from
 * metadata's "image-name", into *c, which keeps what it had otherwise
 * (a gd_ident_from_podman result). Returns 0, -ENOENT when no entry has
 * that id (c untouched), or as gd_ident_from_docker. */
int gd_ident_merge_podman_storage(const char *buf, size_t len, const char *id, gd_container_ident *c);

/* What guardian shows of a container wherever it shows its cgroup (audit,
 * log, status, explain, rank, hooks, metrics): the identity without its
 * labels, about 1.6 KiB, small enough to copy into a kill in flight. */
typedef struct gd_container_names {
        pol_runtime runtime;   /* POL_RUNTIME_ANY: not a container's cgroup */
        char id[65];           /* from the state file, else the cgroup path; "" if neither */
        char name[256];        /* "" when unknown (identity not read, or not recorded) */
        char image[512];
        char k8s_namespace[254];
        char pod_name[254];
        char container_name[254];
} gd_container_names;

/* The names of c (NULL: none read) for a cgroup whose path says runtime
 * and path_id (from pol_container_from_cgroup; POL_RUNTIME_ANY and "" when
 * it says none): the state file's values where it had them, the path's
 * otherwise. Pure. */
void gd_ident_names(const gd_container_ident *c, pol_runtime runtime, const char *path_id,
                    gd_container_names *ret);

/* How one word shows a container: its name, else its id, else "-" (also
 * for no container: runtime ANY). Pure. */
const char *gd_ident_word(const gd_container_names *c);
