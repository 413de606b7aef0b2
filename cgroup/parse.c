/* The pure half of cgroup.h: parsers of the memory.* and cgroup.* interface
 * files and of mountinfo, over (buf, len) and never NUL-terminated
 * strings, and the helpers for paths relative to the cgroup root. No I/O;
 * the readers, writes and discovery are cgroup.c. */
#include "cgroup/cgroup.h"
#include "util/text.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Kernel interface files never hold a NUL; one means a hostile or corrupt
 * buffer, and it would cut any later C-string handling short. */
static bool has_nul(const char *buf, size_t len) {
        return len > 0 && memchr(buf, '\0', len) != NULL;
}

/* ---- pure parsers ---- */

int cg_parse_u64_or_max(const char *buf, size_t len, uint64_t *ret_value) {
        gd_span s = { buf, len };
        uint64_t v;

        if (has_nul(buf, len))
                return -EBADMSG;
        /* The kernel ends the value with exactly one newline. */
        if (s.n > 0 && s.p[s.n - 1] == '\n')
                s.n--;
        if (gd_text_eq(s, "max"))
                v = CG_UNLIMITED;
        else if (gd_text_u64(s, &v) < 0)
                return -EBADMSG;
        *ret_value = v;
        return 0;
}

typedef struct kv_field {
        const char *key;
        size_t offset; /* of a uint64_t in the destination struct */
} kv_field;

/* Parse "key value" lines into the uint64_t fields of dst. With strict,
 * every line must be "key <u64>", known key or not; without, lines with an
 * unknown key are skipped unread. Returns the number of known keys found,
 * or -EBADMSG (a known key with a bad value, or one seen twice). */
static int parse_kv(const char *buf, size_t len, bool strict, const kv_field *fields, size_t nfields,
                    void *dst) {
        uint32_t seen = 0;
        size_t pos = 0;
        gd_span line;
        int found = 0;

        if (has_nul(buf, len))
                return -EBADMSG;
        while (gd_text_line(buf, len, &pos, &line, NULL)) {
                gd_span key = gd_text_split(&line, ' ');
                size_t i = 0;
                uint64_t v;

                while (i < nfields && !gd_text_eq(key, fields[i].key))
                        i++;
                if (i == nfields && !strict)
                        continue;
                if (key.n == 0 || gd_text_u64(line, &v) < 0)
                        return -EBADMSG;
                if (i == nfields)
                        continue;
                if (seen & (UINT32_C(1) << i))
                        return -EBADMSG;
                seen |= UINT32_C(1) << i;
                memcpy((char *)dst + fields[i].offset, &v, sizeof v);
                found++;
        }
        return found;
}

#define KV(type, name) { #name, offsetof(type, name) }
#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

int cg_parse_memory_events(const char *buf, size_t len, cg_memory_events *ret_events) {
        static const kv_field fields[] = {
                KV(cg_memory_events, low),      KV(cg_memory_events, high),
                KV(cg_memory_events, max),      KV(cg_memory_events, oom),
                KV(cg_memory_events, oom_kill), KV(cg_memory_events, oom_group_kill),
        };
        cg_memory_events ev = { 0 };
        /* Not strict: the contract is to ignore whatever newer kernels add. */
        int r = parse_kv(buf, len, false, fields, ELEMENTSOF(fields), &ev);

        if (r <= 0)
                return -EBADMSG;
        *ret_events = ev;
        return 0;
}

int cg_parse_memory_stat(const char *buf, size_t len, cg_memory_stat *ret_stat) {
        static const kv_field fields[] = {
                KV(cg_memory_stat, anon), KV(cg_memory_stat, file),
                KV(cg_memory_stat, kernel), KV(cg_memory_stat, shmem),
                KV(cg_memory_stat, sock), KV(cg_memory_stat, file_mapped),
                KV(cg_memory_stat, file_dirty), KV(cg_memory_stat, file_writeback),
                KV(cg_memory_stat, anon_thp), KV(cg_memory_stat, inactive_anon),
                KV(cg_memory_stat, active_anon), KV(cg_memory_stat, inactive_file),
                KV(cg_memory_stat, active_file), KV(cg_memory_stat, unevictable),
                KV(cg_memory_stat, slab_reclaimable), KV(cg_memory_stat, slab_unreclaimable),
                KV(cg_memory_stat, pgfault), KV(cg_memory_stat, pgmajfault),
                KV(cg_memory_stat, workingset_refault_anon), KV(cg_memory_stat, workingset_refault_file),
        };
        _Static_assert(ELEMENTSOF(fields) <= 32, "parse_kv tracks keys in a uint32_t");
        cg_memory_stat st = { 0 };
        int r = parse_kv(buf, len, true, fields, ELEMENTSOF(fields), &st);

        /* Every kernel since 4.5 has "anon" and "file": a memory.stat with
         * none of our keys is not a memory.stat. */
        if (r <= 0)
                return -EBADMSG;
        *ret_stat = st;
        return 0;
}

int cg_parse_cgroup_events(const char *buf, size_t len, cg_cgroup_events *ret_events) {
        struct {
                uint64_t populated;
                uint64_t frozen;
        } v = { UINT64_MAX, 0 }; /* frozen is absent before 5.2 */
        static const kv_field fields[] = {
                { "populated", offsetof(__typeof__(v), populated) },
                { "frozen", offsetof(__typeof__(v), frozen) },
        };

        if (parse_kv(buf, len, true, fields, ELEMENTSOF(fields), &v) < 0)
                return -EBADMSG;
        if (v.populated > 1 || v.frozen > 1)
                return -EBADMSG; /* also catches a missing "populated" */
        *ret_events = (cg_cgroup_events){ .populated = v.populated, .frozen = v.frozen };
        return 0;
}

/* "12.34" as the kernel prints it ("%lu.%02lu"); up to 9 fraction digits
 * so a finer format would still parse. */
static int parse_decimal(gd_span s, double *ret) {
        gd_span frac = s;
        gd_span whole = gd_text_split(&frac, '.');
        uint64_t w, f;
        double scale = 1;

        if (frac.n == 0 || frac.n > 9)
                return -EBADMSG; /* no '.', or nothing after it */
        if (gd_text_u64(whole, &w) < 0 || gd_text_u64(frac, &f) < 0)
                return -EBADMSG;
        for (size_t i = 0; i < frac.n; i++)
                scale *= 10;
        *ret = (double)w + (double)f / scale;
        return 0;
}

/* "avg10=0.00 avg60=0.00 avg300=0.00 total=0", fields in this order,
 * separated by single spaces. */
static int parse_psi_fields(gd_span s, cg_psi_line *ret) {
        static const char *const names[] = { "avg10", "avg60", "avg300" };
        double *avgs[] = { &ret->avg10, &ret->avg60, &ret->avg300 };

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                gd_span val = gd_text_split(&s, ' ');
                gd_span name = gd_text_split(&val, '=');
                if (!gd_text_eq(name, names[i]) || parse_decimal(val, avgs[i]) < 0)
                        return -EBADMSG;
        }
        gd_span name = gd_text_split(&s, '=');
        if (!gd_text_eq(name, "total") || gd_text_u64(s, &ret->total_us) < 0)
                return -EBADMSG;
        return 0;
}

int cg_parse_psi(const char *buf, size_t len, cg_psi *ret_psi) {
        cg_psi psi = { 0 };
        bool has_some = false;
        size_t pos = 0;
        gd_span line;

        if (has_nul(buf, len))
                return -EBADMSG;
        while (gd_text_line(buf, len, &pos, &line, NULL)) {
                gd_span kind = gd_text_split(&line, ' ');
                bool *seen;
                cg_psi_line *dst;

                if (gd_text_eq(kind, "some")) {
                        seen = &has_some;
                        dst = &psi.some;
                } else if (gd_text_eq(kind, "full")) {
                        seen = &psi.has_full;
                        dst = &psi.full;
                } else
                        return -EBADMSG;
                if (*seen || parse_psi_fields(line, dst) < 0)
                        return -EBADMSG;
                *seen = true;
        }
        if (!has_some)
                return -EBADMSG;
        *ret_psi = psi;
        return 0;
}

bool cg_controllers_has(const char *buf, size_t len, const char *controller) {
        size_t want = controller ? strlen(controller) : 0;
        size_t i = 0;

        if (want == 0)
                return false;
        while (i < len) {
                size_t start = i;
                while (i < len && buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\t')
                        i++;
                if (i - start == want && memcmp(buf + start, controller, want) == 0)
                        return true;
                i++;
        }
        return false;
}

int cg_parse_pids(const char *buf, size_t len, pid_t *pids, size_t cap) {
        size_t pos = 0, n = 0;
        gd_span line;

        if (has_nul(buf, len))
                return -EBADMSG;
        while (gd_text_line(buf, len, &pos, &line, NULL)) {
                uint64_t v;

                if (gd_text_u64(line, &v) < 0 || v == 0 || v > INT_MAX)
                        return -EBADMSG;
                if (n == INT_MAX)
                        return -EBADMSG; /* the count must fit the return value */
                if (n < cap)
                        pids[n] = (pid_t)v;
                n++;
        }
        return (int)n;
}

/* Mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo (fs/proc_namespace.c
 * mangle()). Decodes s into out (PATH_MAX bytes). */
static int unescape_mount_point(gd_span s, char *out, size_t size) {
        size_t o = 0;

        for (size_t i = 0; i < s.n; i++) {
                unsigned char c = (unsigned char)s.p[i];

                if (c == '\\') {
                        unsigned v = 0;
                        if (s.n - i < 4)
                                return -EBADMSG;
                        for (size_t k = 1; k <= 3; k++) {
                                unsigned d = (unsigned char)s.p[i + k] - '0';
                                if (d > 7)
                                        return -EBADMSG;
                                v = v * 8 + d;
                        }
                        if (v == 0 || v > 255)
                                return -EBADMSG;
                        c = (unsigned char)v;
                        i += 3;
                }
                if (o + 1 >= size)
                        return -ENAMETOOLONG;
                out[o++] = (char)c;
        }
        out[o] = '\0';
        return 0;
}

int cg_parse_mountinfo_cgroup2(const char *buf, size_t len, char *ret_path, size_t size) {
        size_t pos = 0;
        gd_span line;

        if (has_nul(buf, len))
                return -EBADMSG;
        /* "36 35 98:0 /root /mount/point opts [optional...] - fstype source superopts" */
        while (gd_text_line(buf, len, &pos, &line, NULL)) {
                gd_span mount_point = { 0 }, fstype = { 0 };
                bool sep = false;

                for (size_t field = 1; line.n > 0; field++) {
                        gd_span tok = gd_text_split(&line, ' ');
                        if (tok.n == 0)
                                return -EBADMSG;
                        if (field == 5)
                                mount_point = tok;
                        else if (field >= 7 && !sep && gd_text_eq(tok, "-"))
                                sep = true;
                        else if (sep) {
                                fstype = tok;
                                break;
                        }
                }
                /* After the fstype only the source must follow, and it may be
                 * empty ("mount -t tmpfs '' /x" gives two spaces). */
                if (mount_point.n == 0 || mount_point.p[0] != '/' || fstype.n == 0 || line.n == 0)
                        return -EBADMSG;
                if (!gd_text_eq(fstype, "cgroup2"))
                        continue;

                char path[PATH_MAX];
                int r = unescape_mount_point(mount_point, path, sizeof path);
                if (r < 0)
                        return r;
                if (strlen(path) >= size)
                        return -ENAMETOOLONG;
                memcpy(ret_path, path, strlen(path) + 1);
                return 0;
        }
        return -ENOENT;
}

/* ---- paths relative to the root ---- */

/* The next non-empty '/'-separated component of s from *pos, skipping "."
 * (which names the same directory). */
static bool next_component(const char *s, size_t len, size_t *pos, gd_span *ret) {
        while (*pos < len) {
                gd_span rest = { s + *pos, len - *pos };
                gd_span c = gd_text_split(&rest, '/');

                *pos = (size_t)(rest.p - s);
                if (c.n > 0 && !gd_text_eq(c, ".")) {
                        *ret = c;
                        return true;
                }
        }
        return false;
}

bool cg_rel_under(const char *rel, const char *top) {
        size_t n = strlen(top);

        while (n > 0 && top[n - 1] == '/')
                n--;
        return n == 0 || (strncmp(rel, top, n) == 0 && (rel[n] == '\0' || rel[n] == '/'));
}

int cg_rel_child(const char *rel, const char *name, char *buf, size_t size) {
        int n = snprintf(buf, size, "%s%s%s", rel, *rel ? "/" : "", name);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int cg_path_normalize(const char *root, const char *arg, char *ret_rel, size_t size) {
        size_t alen, pos = 0, start = 0;
        gd_span c;

        if (!arg || !ret_rel)
                return -EINVAL;
        alen = strlen(arg);
        while (next_component(arg, alen, &pos, &c))
                if (gd_text_eq(c, "..") || c.n > NAME_MAX)
                        return -EINVAL;

        /* An absolute arg is taken as under the root when the root's
         * components are a prefix of its own; otherwise it is relative to
         * the root, as cgroup paths in /proc/PID/cgroup are. */
        if (arg[0] == '/' && root && root[0] == '/') {
                size_t rlen = strlen(root), rpos = 0, apos = 0;
                gd_span rc, ac;
                bool under = true;

                while (under && next_component(root, rlen, &rpos, &rc))
                        under = next_component(arg, alen, &apos, &ac) && ac.n == rc.n &&
                                memcmp(ac.p, rc.p, rc.n) == 0;
                if (under)
                        start = apos;
        }

        size_t need = 0;
        pos = start;
        while (next_component(arg, alen, &pos, &c))
                need += c.n + (need > 0);
        if (need >= size)
                return -EINVAL;

        size_t o = 0;
        pos = start;
        while (next_component(arg, alen, &pos, &c)) {
                if (o > 0)
                        ret_rel[o++] = '/';
                memcpy(ret_rel + o, c.p, c.n);
                o += c.n;
        }
        ret_rel[o] = '\0';
        return 0;
}
