/* Container identity from a cgroup path: what a runtime's cgroup naming
 * tells (runtime, id, Kubernetes QoS and pod UID). Strings in, answers out. */
#pragma once

#include <stdbool.h>

#include "policy/policy.h"

/* What a container runtime's cgroup naming tells about a cgroup. */
typedef struct pol_container {
        pol_runtime runtime;   /* POL_RUNTIME_ANY: none, or not told by the path (id set) */
        char id[128];          /* the container id, "" if none */
        pol_qos qos;           /* Kubernetes QoS class, POL_QOS_ANY if none */
        char pod_uid[64];      /* Kubernetes pod UID (dashes, as the API shows it), "" if none */
} pol_container;

/* Read container identity from a cgroup path (relative to the root, no
 * leading slash), from the innermost component that names one:
 *   docker-<id>.scope, docker/<id>           -> docker
 *   cri-containerd-<id>.scope, containerd/.. -> containerd
 *   crio-<id>.scope, crio-conmon-<id>.scope  -> crio
 *   libpod-<id>.scope, libpod-conmon-..      -> podman
 *   kubepods[-<qos>]-pod<uid>.slice (systemd driver, '_' for '-' in the
 *   uid) and kubepods/<qos>/pod<uid> (cgroupfs driver) -> qos and pod uid;
 *   "kubepods" without a qos level is guaranteed.
 * Returns true when anything was found. Never fails. */
bool pol_container_from_cgroup(const char *cgroup, pol_container *ret);
