#include "util/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

void gd_buf_init(gd_buf *b, char *data, size_t size) {
        *b = (gd_buf){.data = data, .size = size};
        data[0] = '\0';
}

void gd_buf_init_sink(gd_buf *b, char *data, size_t size, FILE *sink) {
        gd_buf_init(b, data, size);
        b->sink = sink;
}

size_t gd_buf_room(const gd_buf *b) {
        /* One byte stays for the NUL. */
        return b->overflow ? 0 : b->size - 1 - b->len;
}

int gd_buf_flush(gd_buf *b) {
        if (!b->sink)
                return 0;
        if (b->len > 0)
                fwrite(b->data, 1, b->len, b->sink);
        b->len = 0;
        b->data[0] = '\0';
        return ferror(b->sink) ? -EIO : 0;
}

int gd_buf_append(gd_buf *b, const char *s, size_t n) {
        if (b->overflow)
                return -ENOBUFS;
        if (n > gd_buf_room(b) && b->sink) {
                (void)gd_buf_flush(b);
                /* Longer than the whole buffer: straight to the sink. */
                if (n > gd_buf_room(b)) {
                        fwrite(s, 1, n, b->sink);
                        return 0;
                }
        }
        if (n > gd_buf_room(b)) {
                b->overflow = true;
                return -ENOBUFS;
        }
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

int gd_buf_append_some(gd_buf *b, const char *s, size_t n) {
        size_t room = gd_buf_room(b);

        if (b->overflow || n <= room || b->sink)
                return gd_buf_append(b, s, n);
        (void)gd_buf_append(b, s, room);
        b->overflow = true;
        return -ENOBUFS;
}

int gd_buf_puts(gd_buf *b, const char *s) {
        return gd_buf_append(b, s, strlen(s));
}

int gd_buf_putc(gd_buf *b, char c) {
        return gd_buf_append(b, &c, 1);
}

int gd_buf_printf(gd_buf *b, const char *fmt, ...) {
        char tmp[256];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(tmp)) {
                /* A caller's mistake, not the input's: fail like an overflow. */
                b->overflow = true;
                return -ENOBUFS;
        }
        return gd_buf_append(b, tmp, (size_t)n);
}

void gd_buf_truncate(gd_buf *b, size_t len) {
        if (len < b->len)
                b->len = len;
        b->data[b->len] = '\0';
        b->overflow = false;
}
