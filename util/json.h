/* The one JSON writer: strings escaped so that any bytes a process puts in
 * its name or command line come out as valid JSON, and documents written
 * into a gd_buf (util/buf.h) with the commas placed by the writer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/buf.h"

/* Write s as a JSON string literal (with quotes). Control characters, '"'
 * and '\\' are escaped; bytes >= 0x80 that are not valid UTF-8 are written
 * as \u00XX so the output is always valid UTF-8. */
void gd_json_string(FILE *out, const char *s);

/* The same literal as gd_json_string, into buf (quotes included,
 * NUL-terminated). Returns its length without the NUL, or -ENOBUFS when it
 * does not fit: buf then holds the longest literal of a prefix of s that
 * does (closed with '"', NUL-terminated; empty when even "" does not fit),
 * cut between escapes and UTF-8 sequences, never inside one, so a caller
 * can use the cut as is. No allocation. */
int gd_json_escape(char *buf, size_t size, const char *s);

/* The literal of gd_json_escape appended to b, cut to what fits: 0 when
 * whole, -ENOBUFS when cut (closed with '"'; nothing when not even ""
 * fits; b is then overflowed). For a fixed buffer. */
int gd_json_escape_some(gd_buf *b, const char *s);

/* Length of the valid UTF-8 sequence (2 to 4 bytes) that starts at s, or 0
 * when s does not start one (ASCII, a stray byte, overlong, surrogate). */
size_t gd_utf8_length(const char *s);

/* Nesting deeper than this is a caller's bug: the writer fails. */
#define GD_JSON_DEPTH_MAX 16

/* A document being written into buf. Every call returns 0, or -ENOBUFS
 * once buf overflowed (and on misuse: too deep, an end without a begin);
 * a writer checks gd_json_failed (or buf->overflow) once at the end.
 * A writer is a plain value: a copy taken before an item, put back after
 * gd_buf_truncate to buf's length then, undoes the item (a line that
 * leaves out a field that does not fit). */
typedef struct gd_json_writer {
        gd_buf *buf;
        unsigned depth;
        bool after_key; /* the next value follows "key": without a comma */
        bool failed;
        bool spaced; /* ", " and ": " instead of "," and ":" */
        bool has_item[GD_JSON_DEPTH_MAX + 1]; /* per level: a comma before the next item */
        bool lines[GD_JSON_DEPTH_MAX + 1];    /* per level: an array of one item a line */
} gd_json_writer;

/* A writer on buf, at the top level, compact (the daemon's documents). */
void gd_json_writer_init(gd_json_writer *w, gd_buf *buf);

/* The same, with a space after each comma and colon (the CLI's --json,
 * read by eye as well as by programs). */
void gd_json_writer_init_spaced(gd_json_writer *w, gd_buf *buf);

/* A writer into a FILE through a sink buffer of its own: documents as long
 * as their input (every cgroup, every process) in bounded memory, never
 * cut. */
typedef struct gd_json_file {
        char data[4096];
        gd_buf buf;
        gd_json_writer w;
} gd_json_file;

/* f's writer on out (spaced: gd_json_writer_init_spaced); write through
 * &f->w. */
void gd_json_file_open(gd_json_file *f, FILE *out, bool spaced);

/* Ends the document with a newline and flushes it to out. Returns 0, or
 * -EIO when out reports an error. */
int gd_json_file_close(gd_json_file *f);

/* Did anything fail to fit (or nesting go wrong) since init? */
bool gd_json_failed(const gd_json_writer *w);

/* '{' / '}' and '[' / ']'; a begin at depth GD_JSON_DEPTH_MAX and an end
 * at the top level fail. */
int gd_json_begin_object(gd_json_writer *w);
int gd_json_end_object(gd_json_writer *w);
int gd_json_begin_array(gd_json_writer *w);
int gd_json_end_array(gd_json_writer *w);

/* '[' of an array whose items each start a line, indented two spaces;
 * its end is on a line of its own when it has items. Ended by
 * gd_json_end_array. */
int gd_json_begin_array_lines(gd_json_writer *w);

/* "key": inside an object; the next call writes its value. */
int gd_json_key(gd_json_writer *w, const char *key);

/* A string literal, whole or not at all; NULL is null. */
int gd_json_str(gd_json_writer *w, const char *s);

/* A string literal of at most max bytes: s whole when it fits both max
 * and the buffer, else (when max >= strlen(mark) + 2 and max fits the
 * buffer) the longest prefix cut between escapes with mark before the
 * closing quote, ret_cut set. NULL is null. ret_len (optional) gets the
 * literal's length. max SIZE_MAX: never cut, whole or fail. */
int gd_json_str_cut(gd_json_writer *w, const char *s, size_t max, const char *mark,
                    size_t *ret_len, bool *ret_cut);

/* Numbers. gd_json_double formats v with fmt (one double conversion, e.g.
 * "%.2f", "%.4g"); a NaN or an infinity, which JSON has no form for, is
 * null, and the locale's decimal point (whatever bytes) becomes '.'. */
int gd_json_int(gd_json_writer *w, int64_t v);
int gd_json_uint(gd_json_writer *w, uint64_t v);
int gd_json_double(gd_json_writer *w, const char *fmt, double v)
        __attribute__((format(printf, 2, 0)));

int gd_json_bool(gd_json_writer *w, bool v);
int gd_json_null(gd_json_writer *w);
