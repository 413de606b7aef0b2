#include "util/json.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
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

void gd_json_string(FILE *out, const char *s) {
        const unsigned char *p = (const unsigned char *)s;

        fputc('"', out);
        while (*p) {
                if (*p == '"' || *p == '\\') {
                        fputc('\\', out);
                        fputc(*p++, out);
                } else if (*p == '\n') {
                        fputs("\\n", out);
                        p++;
                } else if (*p == '\t') {
                        fputs("\\t", out);
                        p++;
                } else if (*p < 0x20 || *p == 0x7f) {
                        fprintf(out, "\\u%04x", *p++);
                } else if (*p < 0x80) {
                        fputc(*p++, out);
                } else {
                        size_t len = utf8_sequence_length(p);
                        if (len == 0) {
                                fprintf(out, "\\u%04x", *p++);
                        } else {
                                fwrite(p, 1, len, out);
                                p += len;
                        }
                }
        }
        fputc('"', out);
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

int gd_json_escape(char *buf, size_t size, const char *s) {
        const unsigned char *p = (const unsigned char *)s;
        size_t n = 0;

        /* The length must fit the int returned. */
        if (size > (size_t)INT_MAX)
                size = (size_t)INT_MAX;
        /* Room for at least "" and the NUL, or there is no literal at all. */
        if (size < 3) {
                if (size > 0)
                        buf[0] = '\0';
                return -ENOBUFS;
        }
        buf[n++] = '"';
        while (*p) {
                char unit[8];
                size_t consumed, len = json_escape_unit(p, unit, &consumed);

                /* Keep room for the closing quote and the NUL. */
                if (len > size - n - 2) {
                        buf[n++] = '"';
                        buf[n] = '\0';
                        return -ENOBUFS;
                }
                memcpy(buf + n, unit, len);
                n += len;
                p += consumed;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        return (int)n;
}

size_t gd_utf8_length(const char *s) {
        return utf8_sequence_length((const unsigned char *)s);
}
