/* Container identity from cgroup paths (container.h). Pure.
 *
 * Where container.h is silent: an id is 12 to 64 lowercase hex digits;
 * anything else after a runtime's prefix is a lookalike. A bare id counts
 * under "docker", "containerd" and a cgroupfs pod (runtime ANY: the path
 * does not say). The innermost container and the innermost pod are read
 * each on its own: a pod slice inside a kind node reports the node's
 * container. A conmon scope reports its container. A QoS slice alone names
 * no pod. *ret is always written, zeroed when nothing is found. */
#include "policy/container.h"

#include <string.h>

/* Longest cgroup path read: PATH_MAX fits, and a cap bounds the work a
 * hostile name can cost (the same cap as a glob's subject, glob.c). */
#define CGROUP_LEN_MAX 4096
/* Container ids are 256-bit hashes (64 hex digits) in every runtime; 12 is
 * the short form. Anything shorter is a lookalike ("docker-abc.scope"). */
#define ID_MIN 12
#define ID_MAX 64
/* Pod UIDs are UUIDs (36) or, for static pods, an md5 (32). */
#define POD_UID_MIN 8

static bool has_prefix(const char *s, size_t len, const char *prefix, size_t *ret_plen) {
        size_t n = strlen(prefix);

        if (len < n || memcmp(s, prefix, n) != 0)
                return false;
        *ret_plen = n;
        return true;
}

static bool has_suffix(const char *s, size_t len, const char *suffix) {
        size_t n = strlen(suffix);

        return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static bool is_eq(const char *s, size_t len, const char *word) {
        return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* Runtimes and the kubelet write lowercase hex: uppercase is a lookalike. */
static bool is_hex(char ch) {
        return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static bool is_hex_id(const char *s, size_t len) {
        if (len < ID_MIN || len > ID_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_hex(s[i]))
                        return false;
        return true;
}

static void set_id(pol_container *c, pol_runtime rt, const char *id, size_t len) {
        c->runtime = rt;
        memcpy(c->id, id, len); /* len <= ID_MAX < sizeof(c->id) */
        c->id[len] = '\0';
}

/* "<prefix>-<id>" with an optional ".scope": the systemd driver makes a
 * scope, the cgroupfs drivers of CRI-O and podman a plain directory. */
static bool container_component(const char *s, size_t len, pol_container *c) {
        static const struct {
                const char *prefix;
                pol_runtime runtime;
        } kinds[] = {
                {"docker-", POL_RUNTIME_DOCKER},
                {"cri-containerd-", POL_RUNTIME_CONTAINERD},
                {"nerdctl-", POL_RUNTIME_CONTAINERD},
                /* conmon watches the container of the same id: its scope
                 * belongs to that container. */
                {"crio-conmon-", POL_RUNTIME_CRIO},
                {"crio-", POL_RUNTIME_CRIO},
                {"libpod-conmon-", POL_RUNTIME_PODMAN},
                {"libpod-", POL_RUNTIME_PODMAN},
        };
        size_t plen;

        if (has_suffix(s, len, ".scope"))
                len -= strlen(".scope");
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
                if (!has_prefix(s, len, kinds[k].prefix, &plen))
                        continue;
                if (!is_hex_id(s + plen, len - plen))
                        return false;
                set_id(c, kinds[k].runtime, s + plen, len - plen);
                return true;
        }
        return false;
}

/* A pod UID: the systemd driver spells its '-' as '_' (a '-' in a slice
 * name is a level of nesting); ret gets the API's dashed form. */
static bool pod_uid(const char *s, size_t len, bool underscored, char *ret, size_t size) {
        char sep = underscored ? '_' : '-';

        if (len < POD_UID_MIN || len >= size)
                return false;
        for (size_t i = 0; i < len; i++)
                if (s[i] != sep && !is_hex(s[i]))
                        return false;
        /* Checked first: ret is untouched when this is no pod UID. */
        for (size_t i = 0; i < len; i++)
                ret[i] = s[i] == sep ? '-' : s[i];
        ret[len] = '\0';
        return true;
}

static pol_qos qos_word(const char *s, size_t len) {
        if (is_eq(s, len, "burstable"))
                return POL_QOS_BURSTABLE;
        if (is_eq(s, len, "besteffort"))
                return POL_QOS_BESTEFFORT;
        return POL_QOS_ANY;
}

/* "[<parent>-]kubepods[-<qos>]-pod<uid>.slice": the systemd driver names
 * a slice by its whole path, so a kubelet under its own slice (kind:
 * "kubelet-kubepods-...") adds a prefix. The QoS slice alone names no pod. */
static bool pod_slice(const char *s, size_t len, pol_container *c) {
        const char *end, *p;
        pol_qos qos = POL_QOS_GUARANTEED;
        size_t plen;

        if (!has_suffix(s, len, ".slice"))
                return false;
        end = s + len - strlen(".slice");
        for (p = s; p < end; p++) {
                if ((p == s || p[-1] == '-') && has_prefix(p, (size_t) (end - p), "kubepods-", &plen))
                        break;
        }
        if (p >= end)
                return false;
        p += plen;
        for (const char *dash = p; dash < end; dash++) {
                if (*dash != '-')
                        continue;
                qos = qos_word(p, (size_t) (dash - p));
                if (qos == POL_QOS_ANY)
                        return false;
                p = dash + 1;
                break;
        }
        if (!has_prefix(p, (size_t) (end - p), "pod", &plen))
                return false;
        if (!pod_uid(p + plen, (size_t) (end - p) - plen, true, c->pod_uid, sizeof(c->pod_uid)))
                return false;
        c->qos = qos;
        return true;
}

bool pol_container_from_cgroup(const char *cgroup, pol_container *ret) {
        pol_container c = {0};
        /* The cgroupfs drivers spell a path by its levels: "docker/<id>",
         * "kubepods[/<qos>]/pod<uid>/<id>". prev is the level above. */
        const char *prev = NULL;
        size_t prev_len = 0;
        bool prev_pod = false;
        int kube = 0; /* 1: just after "kubepods"; 2: after "kubepods/<qos>" */
        pol_qos kube_qos = POL_QOS_ANY;

        if (ret)
                *ret = c;
        if (!cgroup || !ret || strnlen(cgroup, CGROUP_LEN_MAX + 1) > CGROUP_LEN_MAX)
                return false;
        /* Later (deeper) components overwrite earlier ones: the innermost
         * container and the innermost pod win, each on its own. */
        for (const char *s = cgroup; *s;) {
                const char *slash = strchr(s, '/');
                size_t len = slash ? (size_t) (slash - s) : strlen(s);
                bool is_pod = false;

                if (len == 0) { /* tolerate "/a//b/" */
                        s++;
                        continue;
                }
                if (container_component(s, len, &c)) {
                        /* already recorded */
                } else if (is_hex_id(s, len) && prev && (prev_pod || is_eq(prev, prev_len, "docker") ||
                                                         is_eq(prev, prev_len, "containerd"))) {
                        /* Under a cgroupfs pod the runtime is not named. */
                        pol_runtime rt = prev_pod ? POL_RUNTIME_ANY
                                         : is_eq(prev, prev_len, "docker") ? POL_RUNTIME_DOCKER
                                                                           : POL_RUNTIME_CONTAINERD;
                        set_id(&c, rt, s, len);
                } else if (pod_slice(s, len, &c)) {
                        /* already recorded */
                } else if (kube && len > 3 && memcmp(s, "pod", 3) == 0 &&
                           pod_uid(s + 3, len - 3, false, c.pod_uid, sizeof(c.pod_uid))) {
                        c.qos = kube == 2 ? kube_qos : POL_QOS_GUARANTEED;
                        is_pod = true;
                }
                if (kube == 1 && qos_word(s, len) != POL_QOS_ANY) {
                        kube_qos = qos_word(s, len);
                        kube = 2;
                } else {
                        kube = is_eq(s, len, "kubepods") ? 1 : 0;
                }
                prev = s;
                prev_len = len;
                prev_pod = is_pod;
                s += len;
        }
        *ret = c;
        return c.id[0] || c.pod_uid[0];
}
