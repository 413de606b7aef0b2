#include "util/json.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of a valid UTF-8 sequence at s, or 0. */
static size_t utf8_sequence_length(const unsigned char *s) {
        size_t len;
        uint32_t cp;

        if (s[0] < 0xc2)
                return 0; /* continuation byte or overlong lead */
        if (s[0] < 0xe0) {
                len = 2;
                cp = s[0] & 0x1f;
        } else if (s[0] < 0xf0) {
                len = 3;
                cp = s[0] & 0x0f;
        } else if (s[0] < 0xf5) {
                len = 4;
                cp = s[0] & 0x07;
        } else
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

/* One unit of the literal for the bytes at p, as gd_json_string writes it:
 * an escape, one ASCII byte, or one whole UTF-8 sequence. Fills out (no
 * NUL), returns its length and how many input bytes it stands for. */
static size_t json_escape_unit(const unsigned char *p, char out[8], size_t *ret_consumed) {
        static const char hex[] = "0123456789abcdef";
        size_t len;

        *ret_consumed = 1;
        if (*p == '"' || *p == '\\') {
                out[0] = '\\';
                out[1] = (char)*p;
                return 2;
        }
        if (*p == '\n' || *p == '\t') {
                out[0] = '\\';
                out[1] = *p == '\n' ? 'n' : 't';
                return 2;
        }
        if (*p >= 0x20 && *p < 0x7f) {
                out[0] = (char)*p;
                return 1;
        }
        len = *p >= 0x80 ? utf8_sequence_length(p) : 0;
        if (len > 0) {
                memcpy(out, p, len);
                *ret_consumed = len;
                return len;
        }
        /* Other control bytes, DEL and bytes of invalid UTF-8. */
        memcpy(out, "\\u00", 4);
        out[4] = hex[*p >> 4];
        out[5] = hex[*p & 0xf];
        return 6;
}

/* Appends the units of s to b, one by one: on -ENOBUFS b holds those
 * that fit, so a cut is always between units. */
static int escape_units(gd_buf *b, const char *s) {
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                char unit[8];
                size_t consumed, len = json_escape_unit(p, unit, &consumed);

                if (gd_buf_append(b, unit, len) < 0)
                        return -ENOBUFS;
                p += consumed;
        }
        return 0;
}

/* s as a literal into b, whole or nothing (b overflowed). */
static int escape_whole(gd_buf *b, const char *s) {
        size_t start = b->len;

        if (gd_buf_putc(b, '"') < 0 || escape_units(b, s) < 0 || gd_buf_putc(b, '"') < 0) {
                gd_buf_truncate(b, start);
                b->overflow = true;
                return -ENOBUFS;
        }
        return 0;
}

void gd_json_string(FILE *out, const char *s) {
        char data[256];
        gd_buf b;

        /* A sink buffer never overflows: it flushes into out. */
        gd_buf_init_sink(&b, data, sizeof(data), out);
        (void)escape_whole(&b, s);
        (void)gd_buf_flush(&b);
}

int gd_json_escape(char *buf, size_t size, const char *s) {
        gd_buf b;
        int r;

        /* The length must fit the int returned. */
        if (size > (size_t)INT_MAX)
                size = (size_t)INT_MAX;
        /* Room for at least "" and the NUL, or there is no literal at all. */
        if (size < 3) {
                if (size > 0)
                        buf[0] = '\0';
                return -ENOBUFS;
        }
        /* One byte short of buf: the closing quote always fits. */
        gd_buf_init(&b, buf, size - 1);
        (void)gd_buf_putc(&b, '"');
        r = escape_units(&b, s);
        buf[b.len++] = '"';
        buf[b.len] = '\0';
        return r < 0 ? -ENOBUFS : (int)b.len;
}

int gd_json_escape_some(gd_buf *b, const char *s) {
        int r;

        if (b->overflow)
                return -ENOBUFS;
        /* gd_buf_room + 1: the NUL of gd_json_escape is b's own. */
        r = gd_json_escape(b->data + b->len, gd_buf_room(b) + 1, s);
        if (r >= 0) {
                b->len += (size_t)r;
                return 0;
        }
        b->len += strlen(b->data + b->len);
        b->overflow = true;
        return -ENOBUFS;
}

size_t gd_utf8_length(const char *s) {
        return utf8_sequence_length((const unsigned char *)s);
}

/* ---- the writer ---- */

void gd_json_writer_init(gd_json_writer *w, gd_buf *buf) {
        *w = (gd_json_writer){.buf = buf};
}

void gd_json_writer_init_spaced(gd_json_writer *w, gd_buf *buf) {
        *w = (gd_json_writer){.buf = buf, .spaced = true};
}

void gd_json_file_open(gd_json_file *f, FILE *out, bool spaced) {
        gd_buf_init_sink(&f->buf, f->data, sizeof(f->data), out);
        if (spaced)
                gd_json_writer_init_spaced(&f->w, &f->buf);
        else
                gd_json_writer_init(&f->w, &f->buf);
}

int gd_json_file_close(gd_json_file *f) {
        (void)gd_buf_putc(&f->buf, '\n');
        return gd_buf_flush(&f->buf);
}

bool gd_json_failed(const gd_json_writer *w) {
        return w->failed || w->buf->overflow;
}

static int fail(gd_json_writer *w) {
        w->failed = true;
        return -ENOBUFS;
}

/* Before an item: a comma unless it is the first of its level or the
 * value of a key just written. */
static int separate(gd_json_writer *w) {
        bool comma = w->has_item[w->depth];

        if (w->failed)
                return -ENOBUFS;
        if (w->after_key) {
                w->after_key = false;
                return 0;
        }
        w->has_item[w->depth] = true;
        if (w->lines[w->depth])
                return gd_buf_puts(w->buf, comma ? ",\n  " : "\n  ");
        if (!comma)
                return 0;
        return gd_buf_puts(w->buf, w->spaced ? ", " : ",");
}

static int begin(gd_json_writer *w, char open, bool lines) {
        if (separate(w) < 0)
                return -ENOBUFS;
        if (w->depth >= GD_JSON_DEPTH_MAX)
                return fail(w);
        w->depth++;
        w->has_item[w->depth] = false;
        w->lines[w->depth] = lines;
        return gd_buf_putc(w->buf, open);
}

static int end(gd_json_writer *w, char close) {
        bool own_line;

        if (w->failed)
                return -ENOBUFS;
        if (w->depth == 0 || w->after_key)
                return fail(w);
        own_line = w->lines[w->depth] && w->has_item[w->depth];
        w->depth--;
        if (own_line && gd_buf_putc(w->buf, '\n') < 0)
                return -ENOBUFS;
        return gd_buf_putc(w->buf, close);
}

int gd_json_begin_object(gd_json_writer *w) { return begin(w, '{', false); }
int gd_json_end_object(gd_json_writer *w) { return end(w, '}'); }
int gd_json_begin_array(gd_json_writer *w) { return begin(w, '[', false); }
int gd_json_begin_array_lines(gd_json_writer *w) { return begin(w, '[', true); }
int gd_json_end_array(gd_json_writer *w) { return end(w, ']'); }

int gd_json_key(gd_json_writer *w, const char *key) {
        if (separate(w) < 0 || escape_whole(w->buf, key) < 0 ||
            gd_buf_puts(w->buf, w->spaced ? ": " : ":") < 0)
                return -ENOBUFS;
        w->after_key = true;
        return 0;
}

int gd_json_null(gd_json_writer *w) {
        return separate(w) < 0 ? -ENOBUFS : gd_buf_puts(w->buf, "null");
}

int gd_json_str(gd_json_writer *w, const char *s) {
        if (!s)
                return gd_json_null(w);
        return separate(w) < 0 ? -ENOBUFS : escape_whole(w->buf, s);
}

int gd_json_str_cut(gd_json_writer *w, const char *s, size_t max, const char *mark,
                    size_t *ret_len, bool *ret_cut) {
        gd_buf *b = w->buf, view;
        size_t mark_len = strlen(mark), room, start;

        if (!s) {
                if (gd_json_null(w) < 0)
                        return -ENOBUFS;
                if (ret_len)
                        *ret_len = 4;
                return 0;
        }
        if (separate(w) < 0 || b->overflow)
                return -ENOBUFS;
        room = gd_buf_room(b);
        start = b->len;
        /* Whole, in a view of b as long as the smaller of max and room. */
        gd_buf_init(&view, b->data + start, (max < room ? max : room) + 1);
        if (escape_whole(&view, s) == 0) {
                b->len += view.len;
                if (ret_len)
                        *ret_len = view.len;
                return 0;
        }
        b->data[start] = '\0';
        if (max == SIZE_MAX || max < mark_len + 2 || max > room) {
                b->overflow = true;
                return -ENOBUFS;
        }
        /* Cut: the opening quote and the units that leave room for the
         * mark and the closing quote, which then fit by construction. */
        gd_buf_init(&view, b->data + start, max - mark_len);
        (void)gd_buf_putc(&view, '"');
        (void)escape_units(&view, s);
        b->len += view.len;
        (void)gd_buf_puts(b, mark);
        (void)gd_buf_putc(b, '"');
        if (ret_len)
                *ret_len = b->len - start;
        if (ret_cut)
                *ret_cut = true;
        return 0;
}

int gd_json_int(gd_json_writer *w, int64_t v) {
        return separate(w) < 0 ? -ENOBUFS : gd_buf_printf(w->buf, "%" PRId64, v);
}

int gd_json_uint(gd_json_writer *w, uint64_t v) {
        return separate(w) < 0 ? -ENOBUFS : gd_buf_printf(w->buf, "%" PRIu64, v);
}

int gd_json_bool(gd_json_writer *w, bool v) {
        return separate(w) < 0 ? -ENOBUFS : gd_buf_puts(w->buf, v ? "true" : "false");
}

int gd_json_double(gd_json_writer *w, const char *fmt, double v) {
        char tmp[64], num[64];
        size_t n = 0;
        bool in_point = false;

        if (!isfinite(v))
                return gd_json_null(w);
        if (separate(w) < 0)
                return -ENOBUFS;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(tmp, sizeof(tmp), fmt, v);
#pragma GCC diagnostic pop
        /* printf writes the locale's decimal point: whatever it is (a ',' or
         * several bytes), it becomes '.', so a setlocale() anywhere cannot
         * break a document. */
        for (const char *p = tmp; *p && n < sizeof(num) - 1; p++) {
                bool plain = (*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == 'e';
                if (plain)
                        num[n++] = *p;
                else if (!in_point)
                        num[n++] = '.';
                in_point = !plain;
        }
        num[n] = '\0';
        return gd_buf_puts(w->buf, num);
}
