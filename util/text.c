/* The text helpers (text.h). */
#include "util/text.h"

#include <errno.h>
#include <string.h>

bool gd_text_line(const char *buf, size_t len, size_t *pos, gd_span *ret, bool *ret_complete) {
        if (*pos >= len)
                return false;

        const char *start = buf + *pos;
        const char *nl = memchr(start, '\n', len - *pos);
        size_t n = nl ? (size_t)(nl - start) : len - *pos;

        *ret = (gd_span){start, n};
        if (ret_complete)
                *ret_complete = nl != NULL;
        *pos += n + (nl ? 1 : 0);
        return true;
}

gd_span gd_text_split(gd_span *s, char sep) {
        const char *at = memchr(s->p, sep, s->n);
        gd_span head = {s->p, at ? (size_t)(at - s->p) : s->n};

        s->p += head.n + (at ? 1 : 0);
        s->n -= head.n + (at ? 1 : 0);
        return head;
}

bool gd_text_eq(gd_span s, const char *lit) {
        size_t n = strlen(lit);
        return s.n == n && memcmp(s.p, lit, n) == 0;
}

bool gd_text_starts(gd_span s, const char *prefix) {
        size_t n = strlen(prefix);
        return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

int gd_text_u64_prefix(const char **p, const char *end, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (s >= end || *s < '0' || *s > '9')
                return -EBADMSG;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
                unsigned d = (unsigned)(*s - '0');
                /* v * 10 + d > UINT64_MAX, without a division per digit. */
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
                        return -EBADMSG;
        }
        *p = s;
        *ret = v;
        return 0;
}

int gd_text_u64(gd_span s, uint64_t *ret) {
        const char *p = s.p, *end = s.p + s.n;
        uint64_t v;

        if (gd_text_u64_prefix(&p, end, &v) < 0 || p != end)
                return -EBADMSG;
        *ret = v;
        return 0;
}
