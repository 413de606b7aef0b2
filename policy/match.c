/* Globs, container identity from cgroup paths, and workload matching. See
 * match.h for the contracts. Pure: no I/O, no allocation, no logging.
 *
 * Where match.h is silent:
 * - Globs compare bytes, case-sensitively ('?' is one byte of a UTF-8 "é").
 *   No backslash escapes: '\' is a byte like any other, and "[*]", "[?]",
 *   "[[]" spell the metacharacters. "[^a]" is "[!a]"; a ']' first in a
 *   class and a '-' first or last are members; "[z-a]" is empty; a '[' with
 *   no closing ']' is a literal '['.
 * - Path mode: three or more '*' are a "**". A "**" that is a whole level
 *   also matches zero levels, so a leading one matches at the top too and
 *   one between two names matches them adjacent; a trailing one matches
 *   every descendant (and "a/"), never "a" itself. A leading '/' is a
 *   literal: cgroup paths are relative.
 * - Patterns over POL_PATTERN_LEN_MAX bytes, subjects over 4096, never match.
 * - Containers: an id is 12 to 64 lowercase hex digits; anything else after
 *   a runtime's prefix is a lookalike. A bare id counts under "docker",
 *   "containerd" and a cgroupfs pod (runtime ANY: the path does not say).
 *   The innermost container and the innermost pod are read each on its
 *   own: a pod slice inside a kind node reports the node's container. A
 *   conmon scope reports its container. A QoS slice alone names no pod.
 *   *ret is always written, zeroed when nothing is found.
 * - Workloads: a subject is a process when comm is set; exe "" is
 *   unreadable, cmdline "" (kernel thread) is a value; pod patterns see the
 *   dashed UID. why is left untouched when there is no match. */
#include "policy/match.h"

#include <stdint.h>
#include <string.h>

/* Longest subject a glob is tried against: a cgroup path fits (PATH_MAX),
 * and a cap bounds the work a hostile pattern can cost. */
#define GLOB_SUBJECT_MAX 4096
/* One NFA state per pattern offset, plus the accepting one at the end. */
#define GLOB_WORDS ((POL_PATTERN_LEN_MAX + 1 + 63) / 64)

/* Container ids are 256-bit hashes (64 hex digits) in every runtime; 12 is
 * the short form. Anything shorter is a lookalike ("docker-abc.scope"). */
#define ID_MIN 12
#define ID_MAX 64
/* Pod UIDs are UUIDs (36) or, for static pods, an md5 (32). */
#define POD_UID_MIN 8

typedef enum tok_kind {
        TOK_END,
        TOK_LIT,
        TOK_ANY,   /* '?' */
        TOK_CLASS, /* "[...]" */
        TOK_STAR,  /* '*': any run; in path mode without '/' */
        TOK_DSTAR, /* '**' in path mode, not yet into its run */
        TOK_DSTAR_IN, /* '**' in path mode, one or more bytes into its run */
} tok_kind;

typedef struct token {
        tok_kind kind;
        size_t next;      /* offset of the token after this one */
        size_t skip;      /* TOK_DSTAR as "**" "/": offset past the '/', 0 if not */
        size_t cls_first; /* TOK_CLASS: the members are [cls_first, cls_end) */
        size_t cls_end;
        bool negate;
} token;

/* The token starting at offset i of p (plen bytes). Tokens are re-read
 * instead of compiled so matching needs no memory beyond a bitset. */
static token token_at(const char *p, size_t plen, size_t i, bool path) {
        token t = {.kind = TOK_LIT, .next = i + 1};
        size_t j;

        if (i >= plen)
                return (token){.kind = TOK_END, .next = i};
        switch (p[i]) {
        case '*':
                for (j = i; j < plen && p[j] == '*'; j++)
                        ;
                t.next = j;
                /* A run is only entered at its first '*': an offset after a
                 * '*' is the state of a "**" that has consumed something. */
                if (path && i > 0 && p[i - 1] == '*') {
                        t.kind = TOK_DSTAR_IN;
                        return t;
                }
                if (!path || j - i == 1) {
                        t.kind = TOK_STAR;
                        return t;
                }
                t.kind = TOK_DSTAR;
                /* A "**" that is a whole component also stands for no
                 * component at all, its '/' included: "a", "**", "b" joined
                 * by '/' matches "a/b", and "**", "x" matches "x". Only
                 * before it consumed anything: hence the two states. */
                if ((i == 0 || p[i - 1] == '/') && j < plen && p[j] == '/')
                        t.skip = j + 1;
                return t;
        case '?':
                t.kind = TOK_ANY;
                return t;
        case '[':
                j = i + 1;
                t.negate = j < plen && (p[j] == '!' || p[j] == '^');
                j += t.negate;
                t.cls_first = j;
                if (j < plen && p[j] == ']') /* first in the class: a member */
                        j++;
                while (j < plen && p[j] != ']')
                        j++;
                if (j >= plen) /* unterminated: a literal '[' */
                        return t;
                t.kind = TOK_CLASS;
                t.cls_end = j;
                t.next = j + 1;
                return t;
        default:
                return t;
        }
}

static bool class_has(const char *p, const token *t, unsigned char c) {
        bool in = false;

        for (size_t k = t->cls_first; k < t->cls_end && !in;) {
                unsigned char lo = (unsigned char) p[k];
                /* A '-' first or last is a member, not a range. */
                if (k + 2 < t->cls_end && p[k + 1] == '-') {
                        unsigned char hi = (unsigned char) p[k + 2];
                        in = c >= lo && c <= hi;
                        k += 3;
                } else {
                        in = c == lo;
                        k++;
                }
        }
        return in != t->negate;
}

/* Next set bit at or after from, or n if none. */
static size_t bit_next(const uint64_t *set, size_t from, size_t n) {
        while (from < n) {
                uint64_t w = set[from / 64] >> (from % 64);
                if (w)
                        return from + (size_t) __builtin_ctzll(w);
                from = (from / 64 + 1) * 64;
        }
        return n;
}

static void bit_set(uint64_t *set, size_t i) {
        set[i / 64] |= UINT64_C(1) << (i % 64);
}

/* Follow the empty moves of stars. They only go forward, so one ascending
 * sweep reaches the states it adds itself. */
static void closure(const char *p, size_t plen, uint64_t *set, bool path) {
        size_t n = plen + 1;

        for (size_t i = bit_next(set, 0, n); i < n; i = bit_next(set, i + 1, n)) {
                token t = token_at(p, plen, i, path);
                if (t.kind != TOK_STAR && t.kind != TOK_DSTAR && t.kind != TOK_DSTAR_IN)
                        continue;
                bit_set(set, t.next);
                if (t.skip)
                        bit_set(set, t.skip);
        }
}

/* A Thompson NFA run over pattern offsets: every live state advances on
 * each character at once, so no pattern can cost more than
 * O(len(s) * len(pattern)), where backtracking over '*' and '**' can go
 * polynomial of high degree or exponential. No allocation: two bitsets. */
bool pol_glob_match(const char *pattern, const char *s, bool path) {
        uint64_t cur[GLOB_WORDS] = {0}, nxt[GLOB_WORDS];
        size_t plen, slen, n, words;

        if (!pattern || !s)
                return false;
        plen = strnlen(pattern, POL_PATTERN_LEN_MAX + 1);
        slen = strnlen(s, GLOB_SUBJECT_MAX + 1);
        if (plen > POL_PATTERN_LEN_MAX || slen > GLOB_SUBJECT_MAX)
                return false;
        n = plen + 1;
        words = (n + 63) / 64;

        bit_set(cur, 0);
        closure(pattern, plen, cur, path);
        for (size_t si = 0; si < slen; si++) {
                unsigned char c = (unsigned char) s[si];

                memset(nxt, 0, words * sizeof(nxt[0]));
                for (size_t i = bit_next(cur, 0, n); i < n; i = bit_next(cur, i + 1, n)) {
                        token t = token_at(pattern, plen, i, path);
                        /* Only a literal '/' or a '**' consumes a '/' in path mode. */
                        bool slash_ok = !path || c != '/';

                        switch (t.kind) {
                        case TOK_END:
                                break;
                        case TOK_LIT:
                                if ((unsigned char) pattern[i] == c)
                                        bit_set(nxt, t.next);
                                break;
                        case TOK_ANY:
                                if (slash_ok)
                                        bit_set(nxt, t.next);
                                break;
                        case TOK_CLASS:
                                if (slash_ok && class_has(pattern, &t, c))
                                        bit_set(nxt, t.next);
                                break;
                        case TOK_STAR:
                                if (slash_ok)
                                        bit_set(nxt, i);
                                break;
                        case TOK_DSTAR:
                                bit_set(nxt, i + 1);
                                break;
                        case TOK_DSTAR_IN:
                                bit_set(nxt, i);
                                break;
                        }
                }
                if (bit_next(nxt, 0, n) == n) /* every path died: stop early */
                        return false;
                closure(pattern, plen, nxt, path);
                memcpy(cur, nxt, words * sizeof(cur[0]));
        }
        return (cur[plen / 64] >> (plen % 64)) & 1;
}

/* ---- container identity ---- */

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
        if (!cgroup || !ret || strnlen(cgroup, GLOB_SUBJECT_MAX + 1) > GLOB_SUBJECT_MAX)
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

/* ---- workloads ---- */

/* The container reading of a subject's cgroup, made at most once however
 * many workloads ask. */
typedef struct subject_ctx {
        const pol_subject *s;
        bool parsed;
        pol_container c;
} subject_ctx;

static const pol_container *ctx_container(subject_ctx *x) {
        if (!x->parsed) {
                pol_container_from_cgroup(x->s->cgroup, &x->c);
                x->parsed = true;
        }
        return &x->c;
}

/* The first pattern of list that matches value, or NULL. */
static const char *first_match(const pol_patterns *list, const char *value, bool path) {
        if (!value || !list->items)
                return NULL;
        for (size_t i = 0; i < list->n && list->items[i]; i++)
                if (pol_glob_match(list->items[i], value, path))
                        return list->items[i];
        return NULL;
}

/* The policy's spelling; only called for values that matched a set key. */
static const char *const runtime_names[] = {
        [POL_RUNTIME_ANY] = "any", [POL_RUNTIME_DOCKER] = "docker",
        [POL_RUNTIME_CONTAINERD] = "containerd", [POL_RUNTIME_CRIO] = "crio",
        [POL_RUNTIME_PODMAN] = "podman",
};
static const char *const qos_names[] = {
        [POL_QOS_ANY] = "any", [POL_QOS_GUARANTEED] = "guaranteed",
        [POL_QOS_BURSTABLE] = "burstable", [POL_QOS_BESTEFFORT] = "besteffort",
};

/* A bounded writer: appends what fits, always NUL-terminated. */
typedef struct why_buf {
        char *buf;
        size_t size, len;
} why_buf;

/* Control bytes (a comm may hold '\n') become '?': the line stays one line. */
static void why_put(why_buf *w, const char *str) {
        for (; *str && w->len + 1 < w->size; str++) {
                unsigned char ch = (unsigned char) *str;
                w->buf[w->len++] = ch < 0x20 || ch == 0x7f ? '?' : (char) ch;
        }
        if (*str && w->len > 0) {
                /* Cut: drop a UTF-8 sequence left incomplete at the end. */
                size_t i = w->len;
                while (i > 0 && ((unsigned char) w->buf[i - 1] & 0xc0) == 0x80)
                        i--;
                if (i > 0 && (unsigned char) w->buf[i - 1] >= 0xc0) {
                        unsigned char lead = (unsigned char) w->buf[i - 1];
                        size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
                        if (w->len - (i - 1) < need)
                                w->len = i - 1;
                }
                w->size = w->len + 1; /* nothing more after a cut */
        }
        w->buf[w->len] = '\0';
}

static void why_key(why_buf *w, const char *key, const char *value, const char *pattern) {
        if (w->len > 0)
                why_put(w, "; ");
        why_put(w, key);
        why_put(w, " '");
        why_put(w, value);
        why_put(w, "' matches '");
        why_put(w, pattern);
        why_put(w, "'");
}

static bool match_one(const pol_workload *wl, subject_ctx *x, char *why, size_t why_size) {
        const pol_match *m = &wl->match;
        const pol_subject *s = x->s;
        const pol_container *c = NULL;
        const char *cg = NULL, *comm = NULL, *exe = NULL, *cmd = NULL, *ctr = NULL, *pod = NULL;
        bool proc_keys = m->comm.n || m->exe.n || m->cmdline.n;
        bool ctr_keys = m->container.n || m->runtime != POL_RUNTIME_ANY || m->qos != POL_QOS_ANY ||
                        m->pod.n;

        if (!proc_keys && !ctr_keys && !m->cgroup.n)
                return false;
        if (proc_keys && !s->comm)
                return false;
        if (m->cgroup.n && !(cg = first_match(&m->cgroup, s->cgroup, true)))
                return false;
        if (m->comm.n && !(comm = first_match(&m->comm, s->comm, false)))
                return false;
        /* "" is how the process reader spells an unreadable exe. */
        if (m->exe.n && !(exe = first_match(&m->exe, s->exe && *s->exe ? s->exe : NULL, false)))
                return false;
        if (m->cmdline.n && !(cmd = first_match(&m->cmdline, s->cmdline, false)))
                return false;
        if (ctr_keys) {
                c = ctx_container(x);
                if (m->container.n && !(ctr = first_match(&m->container, c->id[0] ? c->id : NULL, false)))
                        return false;
                if (m->runtime != POL_RUNTIME_ANY && m->runtime != c->runtime)
                        return false;
                if (m->qos != POL_QOS_ANY && m->qos != c->qos)
                        return false;
                if (m->pod.n && !(pod = first_match(&m->pod, c->pod_uid[0] ? c->pod_uid : NULL, false)))
                        return false;
        }

        if (why && why_size > 0) {
                why_buf w = {.buf = why, .size = why_size};

                why[0] = '\0';
                if (cg)
                        why_key(&w, "cgroup", s->cgroup, cg);
                if (comm)
                        why_key(&w, "comm", s->comm, comm);
                if (exe)
                        why_key(&w, "exe", s->exe, exe);
                if (cmd)
                        why_key(&w, "cmdline", s->cmdline, cmd);
                if (ctr)
                        why_key(&w, "container", c->id, ctr);
                if (m->runtime != POL_RUNTIME_ANY) {
                        why_put(&w, w.len ? "; runtime is " : "runtime is ");
                        why_put(&w, runtime_names[c->runtime]);
                }
                if (m->qos != POL_QOS_ANY) {
                        why_put(&w, w.len ? "; qos is " : "qos is ");
                        why_put(&w, qos_names[c->qos]);
                }
                if (pod)
                        why_key(&w, "pod", c->pod_uid, pod);
        }
        return true;
}

bool pol_match_workload(const pol_workload *w, const pol_subject *s, char *why, size_t why_size) {
        subject_ctx x = {.s = s};

        if (!w || !s)
                return false;
        return match_one(w, &x, why, why_size);
}

const pol_workload *pol_find_workload(const pol_policy *p, const pol_subject *s, char *why,
                                      size_t why_size) {
        subject_ctx x = {.s = s};

        if (!p || !s || !p->workloads)
                return NULL;
        for (size_t i = 0; i < p->n_workloads; i++)
                if (match_one(&p->workloads[i], &x, why, why_size))
                        return &p->workloads[i];
        return NULL;
}
