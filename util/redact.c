/* Masking secrets in command lines. See redact.h for the rules. */
#include "util/redact.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Words that name a secret wherever they end a word ("pgpassword"). */
static const char *const suffix_words[] = {
        "password", "passwd", "passphrase", "secret", "token", "credential", "key", "pwd", "auth",
        "authorization",
};
/* Words that name a secret only alone: as a suffix they are too common
 * ("bypass", "compass"). */
static const char *const whole_words[] = {"pass"};

/* Programs whose one-letter option takes a password: attached ("-pS3cret")
 * and, when next is set, also as the next argument ("-p S3cret"). mysql's
 * "-p db" prompts and names a database, so it only masks attached. */
static const struct {
        const char *prog; /* the basename starts with this */
        char letter;
        bool next;
} letter_options[] = {
        {"mysql", 'p', false},
        {"mariadb", 'p', false},
        {"sshpass", 'p', true},
        {"redis-cli", 'a', true},
};
#define N_LETTER_OPTIONS (sizeof(letter_options) / sizeof(letter_options[0]))
/* No program from the table is in force. */
#define NO_PROG N_LETTER_OPTIONS

/* Authorization schemes that come before the credential in a header. */
static const char *const auth_schemes[] = {"Bearer", "Basic", "Token", "Digest"};

typedef struct out {
        char *buf;
        size_t size, len;
        bool cut;
} out;

static void put(out *o, const char *s, size_t n) {
        if (o->size == 0 || o->len + n > o->size - 1) {
                size_t room = o->size > o->len + 1 ? o->size - 1 - o->len : 0;
                n = room;
                o->cut = true;
        }
        memcpy(o->buf + o->len, s, n);
        o->len += n;
}

static bool is_name_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
}

/* low: a lowercased word of n bytes. */
static bool lower_word_is_secret(const char *low, size_t n) {
        for (size_t i = 0; i < sizeof(suffix_words) / sizeof(suffix_words[0]); i++) {
                size_t k = strlen(suffix_words[i]);
                if (n >= k && memcmp(low + n - k, suffix_words[i], k) == 0)
                        return true;
        }
        for (size_t i = 0; i < sizeof(whole_words) / sizeof(whole_words[0]); i++)
                if (n == strlen(whole_words[i]) && memcmp(low, whole_words[i], n) == 0)
                        return true;
        return false;
}

static bool word_is_secret(const char *w, size_t n) {
        /* Longer words are not names of options or variables. */
        char low[64];

        if (n == 0 || n >= sizeof(low))
                return false;
        for (size_t i = 0; i < n; i++)
                low[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] - 'A' + 'a' : w[i]);
        /* "secrets", "tokens", "credentials" */
        return lower_word_is_secret(low, n) ||
               (n > 1 && low[n - 1] == 's' && lower_word_is_secret(low, n - 1));
}

/* Is the option or variable name (dashes and all) a secret's? */
static bool name_is_secret(const char *name, size_t n) {
        size_t start = 0;

        for (size_t i = 0; i <= n; i++) {
                if (i == n || name[i] == '-' || name[i] == '_' || name[i] == '.') {
                        if (word_is_secret(name + start, i - start))
                                return true;
                        start = i + 1;
                }
        }
        return false;
}

/* What the next argument is, after the current one. */
typedef enum next_kind {
        NEXT_PLAIN,
        NEXT_VALUE,    /* the value of a secret option: masked */
        NEXT_USERPASS, /* user:password: the password masked */
        NEXT_HEADER,   /* a header's value: an auth scheme word, then the secret */
} next_kind;

/* Copy one argument, masking NAME=value pairs and URL passwords inside it. */
static void put_scanned(out *o, const char *t, size_t n) {
        size_t i = 0;

        while (i < n) {
                if (t[i] == '=') {
                        size_t b = i;
                        while (b > 0 && is_name_char(t[b - 1]))
                                b--;
                        if (b < i && name_is_secret(t + b, i - b)) {
                                /* The argument's own value (the name starts
                                 * it, dashes and all) runs to its end; a pair
                                 * inside one ends at a separator. */
                                bool whole = b == 0;
                                size_t e = i + 1;
                                while (e < n && (whole || (t[e] != '&' && t[e] != ';' && t[e] != ',')))
                                        e++;
                                put(o, "=" GD_REDACTED, 1 + strlen(GD_REDACTED));
                                i = e;
                                continue;
                        }
                }
                if (i + 3 <= n && memcmp(t + i, "://", 3) == 0) {
                        size_t a = i + 3, end = a, at = 0, colon = 0;
                        while (end < n && t[end] != '/' && t[end] != '?' && t[end] != '#')
                                end++;
                        for (size_t k = a; k < end; k++)
                                if (t[k] == '@')
                                        at = k;
                        for (size_t k = a; at && k < at && !colon; k++)
                                if (t[k] == ':')
                                        colon = k;
                        if (colon) {
                                put(o, t + i, colon + 1 - i);
                                put(o, GD_REDACTED, strlen(GD_REDACTED));
                                i = at;
                                continue;
                        }
                }
                put(o, t + i, 1);
                i++;
        }
}

/* The program an argument names, as an index into letter_options. */
static size_t program_of(const char *t, size_t n, size_t current) {
        const char *base = t;

        if (n == 0 || t[0] == '-')
                return current;
        for (size_t i = 0; i < n; i++)
                if (t[i] == '/')
                        base = t + i + 1;
        for (size_t i = 0; i < N_LETTER_OPTIONS; i++) {
                size_t k = strlen(letter_options[i].prog);
                if ((size_t)(t + n - base) >= k && memcmp(base, letter_options[i].prog, k) == 0)
                        return i;
        }
        return current;
}

static bool is_auth_scheme(const char *t, size_t n) {
        for (size_t i = 0; i < sizeof(auth_schemes) / sizeof(auth_schemes[0]); i++)
                if (n == strlen(auth_schemes[i]) && strncasecmp(t, auth_schemes[i], n) == 0)
                        return true;
        return false;
}

/* One argument, given what the one before it asked for. Returns what this
 * one asks of the next. */
static next_kind put_argument(out *o, const char *t, size_t n, next_kind kind, size_t *prog) {
        const char *colon = memchr(t, ':', n);
        bool option = n > 1 && t[0] == '-';
        bool long_option = option && n > 2 && t[1] == '-';

        if (kind != NEXT_PLAIN && !long_option) {
                if (kind == NEXT_HEADER && is_auth_scheme(t, n)) {
                        put(o, t, n);
                        return NEXT_VALUE;
                }
                if (kind == NEXT_USERPASS && colon) {
                        put(o, t, (size_t)(colon - t) + 1);
                        put(o, GD_REDACTED, strlen(GD_REDACTED));
                        return NEXT_PLAIN;
                }
                if (kind != NEXT_USERPASS) {
                        put(o, GD_REDACTED, strlen(GD_REDACTED));
                        return NEXT_PLAIN;
                }
        }
        if (colon && n > 7 && strncmp(t, "--user=", 7) == 0) {
                put(o, t, (size_t)(colon - t) + 1);
                put(o, GD_REDACTED, strlen(GD_REDACTED));
                return NEXT_PLAIN;
        }
        *prog = program_of(t, n, *prog);
        if (option && !long_option && *prog != NO_PROG && t[1] == letter_options[*prog].letter) {
                if (n > 2) {
                        put(o, t, 2);
                        put(o, GD_REDACTED, strlen(GD_REDACTED));
                        return NEXT_PLAIN;
                }
                put(o, t, n);
                return letter_options[*prog].next ? NEXT_VALUE : NEXT_PLAIN;
        }
        put_scanned(o, t, n);
        if (memchr(t, '=', n))
                return NEXT_PLAIN;
        if (option && name_is_secret(t, n))
                return NEXT_VALUE;
        if ((n == 2 && memcmp(t, "-u", 2) == 0) || (n == 6 && memcmp(t, "--user", 6) == 0))
                return NEXT_USERPASS;
        /* "Authorization:" or "X-Api-Key:" as a curl -H argument. */
        if (!option && n > 1 && t[n - 1] == ':' && name_is_secret(t, n - 1))
                return NEXT_HEADER;
        return NEXT_PLAIN;
}

int gd_redact_cmdline(const char *cmdline, char *buf, size_t size) {
        out o = {.buf = buf, .size = size};
        next_kind kind = NEXT_PLAIN;
        size_t prog = NO_PROG;
        const char *p = cmdline;

        if (size == 0)
                return -ENOBUFS;
        /* The length must fit the int returned. */
        if (o.size > (size_t)INT_MAX)
                o.size = (size_t)INT_MAX;
        while (*p) {
                size_t sp = strspn(p, " ");
                put(&o, p, sp);
                p += sp;
                size_t n = strcspn(p, " ");
                if (n > 0)
                        kind = put_argument(&o, p, n, kind, &prog);
                p += n;
        }
        buf[o.len] = '\0';
        return o.cut ? -ENOBUFS : (int)o.len;
}
