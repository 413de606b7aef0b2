/* The bounded JSON reader (jsonread.h). One pass over the text fills a
 * flat token array; the nesting is a stack of GD_JREAD_DEPTH_MAX entries,
 * so a hostile depth costs a counter, never the C stack. Lookups walk an
 * object's members with each token's `next`, so skipping a member is one
 * step whatever it holds. */
#include "util/jsonread.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* What the parser expects next. */
enum {
        WANT_VALUE,       /* a value (the root, after ':' or after ',' in an array) */
        WANT_VALUE_OR_END, /* after '[' */
        WANT_KEY,         /* after ',' in an object */
        WANT_KEY_OR_END,  /* after '{' */
        WANT_COLON,
        WANT_COMMA_OR_END,
};

typedef struct parser {
        const char *s;
        size_t len, pos;
        gd_jtok *toks;
        size_t ntoks, cap;
        uint32_t stack[GD_JREAD_DEPTH_MAX]; /* open containers, innermost last */
        size_t depth;
} parser;

static bool is_ws(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Append a token; its `next` is set when it ends. Returns its index or a
 * negative errno. */
static int push_token(parser *p, gd_jtype type, size_t start, size_t len) {
        if (p->ntoks == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 64;
                gd_jtok *t;

                if (p->cap >= GD_JREAD_TOKENS_MAX)
                        return -E2BIG;
                if (cap > GD_JREAD_TOKENS_MAX)
                        cap = GD_JREAD_TOKENS_MAX;
                t = realloc(p->toks, cap * sizeof(*t));
                if (!t)
                        return -ENOMEM;
                p->toks = t;
                p->cap = cap;
        }
        p->toks[p->ntoks] = (gd_jtok){.start = (uint32_t)start, .len = (uint32_t)len,
                                      .next = (uint32_t)(p->ntoks + 1), .type = (uint8_t)type};
        return (int)p->ntoks++;
}

/* A string literal at p->pos (the opening quote): checked, not decoded. */
static int scan_string(parser *p, size_t *ret_start, size_t *ret_len) {
        size_t i = p->pos + 1;

        while (i < p->len) {
                unsigned char c = (unsigned char)p->s[i];

                if (c == '"') {
                        *ret_start = p->pos + 1;
                        *ret_len = i - p->pos - 1;
                        p->pos = i + 1;
                        return 0;
                }
                if (c < 0x20)
                        return -EBADMSG; /* raw control bytes, NUL included */
                if (c != '\\') {
                        i++;
                        continue;
                }
                if (++i >= p->len)
                        return -EBADMSG;
                switch (p->s[i]) {
                case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                        i++;
                        break;
                case 'u':
                        if (p->len - i < 5)
                                return -EBADMSG;
                        for (size_t k = 1; k <= 4; k++)
                                if (hex_value(p->s[i + k]) < 0)
                                        return -EBADMSG;
                        i += 5;
                        break;
                default:
                        return -EBADMSG;
                }
        }
        return -EBADMSG; /* cut short */
}

/* A number at p->pos, by RFC 8259's grammar. */
static int scan_number(parser *p, size_t *ret_len) {
        size_t i = p->pos;

        if (i < p->len && p->s[i] == '-')
                i++;
        if (i >= p->len || !is_digit(p->s[i]))
                return -EBADMSG;
        if (p->s[i] == '0')
                i++;
        else
                while (i < p->len && is_digit(p->s[i]))
                        i++;
        if (i < p->len && p->s[i] == '.') {
                if (++i >= p->len || !is_digit(p->s[i]))
                        return -EBADMSG;
                while (i < p->len && is_digit(p->s[i]))
                        i++;
        }
        if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
                i++;
                if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
                        i++;
                if (i >= p->len || !is_digit(p->s[i]))
                        return -EBADMSG;
                while (i < p->len && is_digit(p->s[i]))
                        i++;
        }
        *ret_len = i - p->pos;
        p->pos = i;
        return 0;
}

static bool scan_word(parser *p, const char *word) {
        size_t n = strlen(word);

        if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
                return false;
        p->pos += n;
        return true;
}

/* One scalar or the opening of a container at p->pos. Returns the token's
 * index or a negative errno; *ret_open says a container was opened. */
static int parse_value(parser *p, bool *ret_open) {
        char c = p->s[p->pos];
        size_t start = p->pos, n;
        gd_jtype type;
        int r;

        *ret_open = false;
        if (c == '{' || c == '[') {
                if (p->depth == GD_JREAD_DEPTH_MAX)
                        return -E2BIG;
                r = push_token(p, c == '{' ? GD_JOBJECT : GD_JARRAY, start, 1);
                if (r < 0)
                        return r;
                p->stack[p->depth++] = (uint32_t)r;
                p->pos++;
                *ret_open = true;
                return r;
        }
        if (c == '"') {
                r = scan_string(p, &start, &n);
                if (r < 0)
                        return r;
                return push_token(p, GD_JSTRING, start, n);
        }
        if (c == '-' || is_digit(c)) {
                r = scan_number(p, &n);
                if (r < 0)
                        return r;
                return push_token(p, GD_JNUMBER, start, n);
        }
        if (scan_word(p, "true"))
                type = GD_JTRUE;
        else if (scan_word(p, "false"))
                type = GD_JFALSE;
        else if (scan_word(p, "null"))
                type = GD_JNULL;
        else
                return -EBADMSG;
        return push_token(p, type, start, p->pos - start);
}

/* Close the innermost container at p->pos (its closing bracket). */
static void close_container(parser *p) {
        gd_jtok *t = &p->toks[p->stack[--p->depth]];

        p->pos++;
        t->len = (uint32_t)(p->pos - t->start);
        t->next = (uint32_t)p->ntoks;
}

static int run(parser *p) {
        int want = WANT_VALUE;
        bool open, done = false;
        int r;

        while (!done) {
                char c;

                while (p->pos < p->len && is_ws(p->s[p->pos]))
                        p->pos++;
                if (p->pos >= p->len)
                        return -EBADMSG; /* cut short */
                c = p->s[p->pos];
                gd_jtok *top = p->depth ? &p->toks[p->stack[p->depth - 1]] : NULL;

                switch (want) {
                case WANT_VALUE_OR_END:
                        if (c == ']') {
                                close_container(p);
                                want = WANT_COMMA_OR_END;
                                break;
                        }
                        /* fall through */
                case WANT_VALUE:
                        if (top && top->type == GD_JARRAY)
                                top->count++;
                        r = parse_value(p, &open);
                        if (r < 0)
                                return r;
                        if (open)
                                want = c == '{' ? WANT_KEY_OR_END : WANT_VALUE_OR_END;
                        else
                                want = WANT_COMMA_OR_END;
                        break;
                case WANT_KEY_OR_END:
                        if (c == '}') {
                                close_container(p);
                                want = WANT_COMMA_OR_END;
                                break;
                        }
                        /* fall through */
                case WANT_KEY:
                        if (c != '"')
                                return -EBADMSG;
                        top->count++;
                        r = parse_value(p, &open);
                        if (r < 0)
                                return r;
                        want = WANT_COLON;
                        break;
                case WANT_COLON:
                        if (c != ':')
                                return -EBADMSG;
                        p->pos++;
                        want = WANT_VALUE;
                        break;
                case WANT_COMMA_OR_END:
                        if (c == ',') {
                                p->pos++;
                                want = top->type == GD_JOBJECT ? WANT_KEY : WANT_VALUE;
                        } else if (c == (top->type == GD_JOBJECT ? '}' : ']'))
                                close_container(p);
                        else
                                return -EBADMSG;
                        break;
                }
                /* The root value is whole once nothing is open after it. */
                if (p->depth == 0 && want == WANT_COMMA_OR_END)
                        done = true;
        }
        while (p->pos < p->len && is_ws(p->s[p->pos]))
                p->pos++;
        return p->pos == p->len ? 0 : -EBADMSG;
}

int gd_jread_parse(const char *text, size_t len, gd_jdoc *ret) {
        parser p = {.s = text, .len = len};
        int r;

        if (len > GD_JREAD_SIZE_MAX)
                return -E2BIG;
        r = run(&p);
        if (r < 0) {
                free(p.toks);
                return r;
        }
        *ret = (gd_jdoc){.text = text, .len = len, .toks = p.toks, .ntoks = p.ntoks};
        return 0;
}

void gd_jread_free(gd_jdoc *doc) {
        free(doc->toks);
        *doc = (gd_jdoc){0};
}

gd_jtype gd_jread_type(const gd_jdoc *doc, size_t i) {
        return i < doc->ntoks ? (gd_jtype)doc->toks[i].type : GD_JNULL;
}

/* ---- decoding ---- */

/* An output that counts everything and stores what fits. */
typedef struct sink {
        char *buf;
        size_t size, n;
} sink;

static void put(sink *o, const char *b, size_t n) {
        for (size_t k = 0; k < n; k++, o->n++)
                if (o->n < o->size)
                        o->buf[o->n] = b[k];
}

static void put_codepoint(sink *o, uint32_t cp) {
        char b[4];

        if (cp < 0x80) {
                b[0] = (char)cp;
                put(o, b, 1);
        } else if (cp < 0x800) {
                b[0] = (char)(0xc0 | (cp >> 6));
                b[1] = (char)(0x80 | (cp & 0x3f));
                put(o, b, 2);
        } else if (cp < 0x10000) {
                b[0] = (char)(0xe0 | (cp >> 12));
                b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                b[2] = (char)(0x80 | (cp & 0x3f));
                put(o, b, 3);
        } else {
                b[0] = (char)(0xf0 | (cp >> 18));
                b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                b[3] = (char)(0x80 | (cp & 0x3f));
                put(o, b, 4);
        }
}

#define REPLACEMENT 0xfffd

/* Four hex digits at s (checked by the tokenizer). */
static uint32_t hex4(const char *s) {
        uint32_t v = 0;

        for (size_t k = 0; k < 4; k++)
                v = (v << 4) | (uint32_t)hex_value(s[k]);
        return v;
}

/* Decode the checked literal s[0..n) into o. The byte after s[n-1] is the
 * closing quote, so a UTF-8 check that stops at a non-continuation byte
 * never reads past the literal. */
static void decode(const char *s, size_t n, sink *o) {
        size_t i = 0;

        while (i < n) {
                unsigned char c = (unsigned char)s[i];

                if (c >= 0x80) {
                        size_t l = gd_utf8_length(s + i);

                        if (l == 0 || l > n - i) {
                                put_codepoint(o, REPLACEMENT);
                                i++;
                        } else {
                                put(o, s + i, l);
                                i += l;
                        }
                        continue;
                }
                if (c != '\\') {
                        put(o, s + i, 1);
                        i++;
                        continue;
                }
                char e = s[i + 1];
                i += 2;
                switch (e) {
                case 'b': put(o, "\b", 1); continue;
                case 'f': put(o, "\f", 1); continue;
                case 'n': put(o, "\n", 1); continue;
                case 'r': put(o, "\r", 1); continue;
                case 't': put(o, "\t", 1); continue;
                case 'u': break;
                default: put(o, &e, 1); continue; /* '"', '\\', '/' */
                }
                uint32_t cp = hex4(s + i);
                i += 4;
                if (cp >= 0xd800 && cp < 0xdc00 && n - i >= 6 && s[i] == '\\' && s[i + 1] == 'u') {
                        uint32_t lo = hex4(s + i + 2);

                        if (lo >= 0xdc00 && lo < 0xe000) {
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                i += 6;
                        }
                }
                if (cp == 0 || (cp >= 0xd800 && cp < 0xe000))
                        cp = REPLACEMENT; /* NUL, a lone surrogate */
                put_codepoint(o, cp);
        }
}

int gd_jread_string(const gd_jdoc *doc, size_t i, char *buf, size_t size, size_t *ret_len) {
        const gd_jtok *t;
        char tmp[1];
        sink o = {.buf = tmp, .size = 0};

        if (gd_jread_type(doc, i) != GD_JSTRING)
                return -EINVAL;
        t = &doc->toks[i];
        decode(doc->text + t->start, t->len, &o); /* measure first: buf untouched on -ENOBUFS */
        if (o.n >= size)
                return -ENOBUFS;
        o = (sink){.buf = buf, .size = size};
        decode(doc->text + t->start, t->len, &o);
        buf[o.n] = '\0';
        if (ret_len)
                *ret_len = o.n;
        return 0;
}

bool gd_jread_string_eq(const gd_jdoc *doc, size_t i, const char *s, size_t n) {
        char buf[256];
        size_t len;

        if (n >= sizeof(buf)) /* names guardian looks up are short */
                return false;
        if (gd_jread_string(doc, i, buf, sizeof(buf), &len) < 0)
                return false;
        return len == n && memcmp(buf, s, n) == 0;
}

/* ---- lookups ---- */

int gd_jread_member(const gd_jdoc *doc, size_t obj, const char *key, size_t klen) {
        int found = -ENOENT;

        if (gd_jread_type(doc, obj) != GD_JOBJECT)
                return -EINVAL;
        size_t k = obj + 1;
        for (uint32_t m = 0; m < doc->toks[obj].count; m++) {
                size_t v = k + 1; /* a key is a string: one token */

                if (gd_jread_string_eq(doc, k, key, klen))
                        found = (int)v; /* the last one wins */
                k = doc->toks[v].next;
        }
        return found;
}

int gd_jread_path(const gd_jdoc *doc, size_t obj, const char *path) {
        int at = (int)obj;

        for (;;) {
                const char *dot = strchr(path, '.');
                size_t n = dot ? (size_t)(dot - path) : strlen(path);

                at = gd_jread_member(doc, (size_t)at, path, n);
                if (at < 0 || !dot)
                        return at;
                path = dot + 1;
        }
}
