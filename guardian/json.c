#include "guardian/json.h"

#include <stddef.h>
#include <stdint.h>

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
