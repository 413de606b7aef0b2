/* The one bounded buffer every writer appends to: a caller's array, always
 * NUL-terminated, never written past its end. An append that does not fit
 * adds nothing and marks the buffer overflowed; from then on every append
 * fails, so a writer checks once at the end instead of after each piece.
 * A buffer with a sink (a FILE) never overflows: when an append does not
 * fit, what is held is written to the sink first. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct gd_buf {
        char *data;
        size_t size; /* of data, the NUL included */
        size_t len;
        bool overflow;
        FILE *sink; /* NULL: a fixed buffer */
} gd_buf;

/* A fixed buffer on data[size] (size >= 1), empty. */
void gd_buf_init(gd_buf *b, char *data, size_t size);

/* A buffer on data[size] (size >= 2) that flushes into sink when full. */
void gd_buf_init_sink(gd_buf *b, char *data, size_t size, FILE *sink);

/* Appends n bytes of s, all or nothing. Returns 0, or -ENOBUFS when they
 * do not fit or the buffer overflowed before (b is then overflowed). */
int gd_buf_append(gd_buf *b, const char *s, size_t n);

/* As much of s[n] as fits: 0 when all of it did, -ENOBUFS when it was
 * cut (b is then overflowed). A sink buffer takes all. */
int gd_buf_append_some(gd_buf *b, const char *s, size_t n);

/* gd_buf_append of the NUL-terminated s. */
int gd_buf_puts(gd_buf *b, const char *s);

/* gd_buf_append of one byte. */
int gd_buf_putc(gd_buf *b, char c);

/* gd_buf_append of the formatted text (at most 255 bytes: numbers and
 * short words, never outside strings). -ENOBUFS as gd_buf_append. */
__attribute__((format(printf, 2, 3))) int gd_buf_printf(gd_buf *b, const char *fmt, ...);

/* Bytes an append can still add without overflowing (a sink: until the
 * next flush). */
size_t gd_buf_room(const gd_buf *b);

/* Drops everything after len (len <= b->len) and clears the overflow, for
 * a writer that backs off a piece that did not fit and tries a shorter
 * one. */
void gd_buf_truncate(gd_buf *b, size_t len);

/* Writes what a sink buffer holds to its sink and empties it. Returns 0,
 * or -EIO when the sink reports an error; a no-op for a fixed buffer. */
int gd_buf_flush(gd_buf *b);
