/* The text helpers every parser of kernel files uses: spans of (pointer,
 * length), never NUL-terminated strings, because kernel buffers are not
 * terminated and a hostile one may hold a NUL anywhere. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gd_span {
        const char *p;
        size_t n;
} gd_span;

/* The next line of buf[0..len) from *pos, without its '\n', into *ret;
 * *ret_complete (may be NULL) says whether the '\n' was there (the last
 * line may lack it: a buffer cut short, a hand-written file). Returns
 * false at the end. */
bool gd_text_line(const char *buf, size_t len, size_t *pos, gd_span *ret, bool *ret_complete);

/* Split s at the first sep: the head before it is returned, s keeps the
 * rest. Without a separator the whole span is the head and s becomes
 * empty. */
gd_span gd_text_split(gd_span *s, char sep);

/* Does s hold exactly lit? Does s start with prefix? */
bool gd_text_eq(gd_span s, const char *lit);
bool gd_text_starts(gd_span s, const char *prefix);

/* Decimal digits at *p (at least one; no sign, spaces or base prefix),
 * advancing *p past them. Returns 0, or -EBADMSG for no digit or a value
 * past UINT64_MAX (*p and *ret untouched). */
int gd_text_u64_prefix(const char **p, const char *end, uint64_t *ret);

/* The whole of s as decimal digits (as gd_text_u64_prefix, nothing else
 * in s). Returns 0 or -EBADMSG. */
int gd_text_u64(gd_span s, uint64_t *ret);
