/* Typed scalars of the policy: sizes, durations, shares, integers and
 * booleans. Every YAML scalar reaches us as a string (libyaml resolves no
 * types), so these are the only places a number is read, and none of them
 * depends on the locale (no strtod: "40.5%" must mean the same under any
 * LC_NUMERIC). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy-internal.h"

#define QUOTE_SIZE 48

const char *pol_quote(const char *s, size_t len, char *buf, size_t size) {
        size_t keep = size > 4 ? size - 4 : 0; /* room for "..." and NUL */
        size_t i = 0;

        if (size == 0)
                return buf;
        for (; i < len && i < keep; i++)
                buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
        if (i < len && size >= 4) {
                /* Do not leave half a UTF-8 sequence before the "...". */
                while (i > 0 && ((unsigned char)buf[i] & 0xc0) == 0x80 &&
                       ((unsigned char)s[i] & 0xc0) == 0x80)
                        i--;
                memcpy(buf + i, "...", 3);
                i += 3;
        }
        buf[i] = '\0';
        return buf;
}

static const char *q(const char *s, char buf[QUOTE_SIZE]) {
        return pol_quote(s, strlen(s), buf, QUOTE_SIZE);
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Leading decimal digits of s into *ret; returns how many were read, or
 * -ERANGE past limit. */
static int digits(const char *s, uint64_t limit, uint64_t *ret) {
        uint64_t v = 0;
        int n = 0;

        for (; is_digit(s[n]); n++) {
                unsigned d = (unsigned)(s[n] - '0');
                if (v > (limit - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return n;
}

int pol_parse_size(const char *s, bool allow_max, uint64_t *ret, char *msg, size_t msg_size) {
        static const char units[] = "KMGT";
        const char *hint = allow_max ? "a number of bytes with an optional K, M, G or T "
                                       "(powers of 1024), e.g. 512M, or max"
                                     : "a number of bytes with an optional K, M, G or T "
                                       "(powers of 1024), e.g. 512M";
        char qb[QUOTE_SIZE];
        unsigned shift = 0;
        uint64_t v;

        if (allow_max && strcmp(s, "max") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        int n = digits(s, UINT64_MAX, &v);
        if (n == 0) {
                snprintf(msg, msg_size, "'%s' is not a size: use %s", q(s, qb), hint);
                return -EINVAL;
        }
        if (n < 0)
                goto too_large;
        const char *unit = s + n;
        if (*unit) {
                const char *u = unit[1] == '\0' ? strchr(units, unit[0]) : NULL;
                if (!u || *u == '\0') {
                        char ub[QUOTE_SIZE];
                        snprintf(
                                msg, msg_size,
                                "bad unit '%s' in '%s': use K, M, G or T (powers of 1024), e.g. 512M",
                                q(unit, ub), q(s, qb));
                        return -EINVAL;
                }
                shift = 10 * (unsigned)(u - units + 1);
        }
        if (v > (POL_SIZE_LIMIT >> shift))
                goto too_large;
        *ret = v << shift;
        return 0;
too_large:
        snprintf(msg, msg_size, "'%s' is too large (at most 1048576T)", q(s, qb));
        return -ERANGE;
}

int pol_parse_duration(const char *s, uint64_t *ret_ms, char *msg, size_t msg_size) {
        static const struct {
                const char *name;
                uint64_t ms;
        } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}};
        /* Far above any range a key allows, far below overflow. */
        const uint64_t limit = UINT64_C(1) << 50;
        char qb[QUOTE_SIZE];
        uint64_t v;

        int n = digits(s, UINT64_MAX, &v);
        if (n == 0) {
                snprintf(msg, msg_size,
                         "'%s' is not a duration: use a whole number with ms, s, m or h, e.g. 5s",
                         q(s, qb));
                return -EINVAL;
        }
        if (n < 0)
                goto too_large;
        const char *unit = s + n;
        if (*unit == '\0') {
                snprintf(msg, msg_size, "'%s' needs a unit, e.g. 5s (ms, s, m or h)", q(s, qb));
                return -EINVAL;
        }
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (strcmp(unit, units[i].name) != 0)
                        continue;
                if (v > limit / units[i].ms)
                        goto too_large;
                *ret_ms = v * units[i].ms;
                return 0;
        }
        if (*unit == '.')
                snprintf(msg, msg_size, "'%s' is not a whole number: write 1500ms, not 1.5s",
                         q(s, qb));
        else {
                char ub[QUOTE_SIZE];
                snprintf(msg, msg_size, "bad unit '%s' in '%s': use ms, s, m or h, e.g. 5s",
                         q(unit, ub), q(s, qb));
        }
        return -EINVAL;
too_large:
        snprintf(msg, msg_size, "'%s' is too long a duration", q(s, qb));
        return -ERANGE;
}

/* Exact for what we accept: at most 3 integer and 6 fractional digits make
 * an integer mantissa below 2^53, and one correctly rounded division by a
 * power of ten gives the double nearest to the decimal ("40%" == 0.40). */
int pol_parse_share(const char *s, double *ret, char *msg, size_t msg_size) {
        char qb[QUOTE_SIZE];
        uint64_t whole, frac = 0, scale = 100;
        const char *p = s;

        /* Past 1000 it is out of range anyway; the cap keeps the scaling
         * below from overflowing. */
        int n = digits(p, 1000, &whole);
        if (n <= 0 && !(n == 0 && p[0] == '.' && is_digit(p[1]))) {
                if (n < 0)
                        goto out_of_range;
                snprintf(msg, msg_size, "'%s' is not a share: use a percentage, e.g. 40%%",
                         q(s, qb));
                return -EINVAL;
        }
        p += n;
        if (*p == '.') {
                p++;
                int f = 0;
                for (; is_digit(p[f]); f++) {
                        if (f == 6) {
                                snprintf(msg, msg_size, "'%s' has too many decimals (at most 6)",
                                         q(s, qb));
                                return -EINVAL;
                        }
                        frac = frac * 10 + (uint64_t)(p[f] - '0');
                        scale *= 10;
                        whole *= 10;
                }
                if (f == 0) {
                        snprintf(msg, msg_size, "'%s' is not a share: use a percentage, e.g. 40%%",
                                 q(s, qb));
                        return -EINVAL;
                }
                p += f;
        }
        if (*p == '\0') {
                snprintf(msg, msg_size, "'%s' needs a %%, e.g. 40%%", q(s, qb));
                return -EINVAL;
        }
        if (strcmp(p, "%") != 0) {
                snprintf(msg, msg_size, "'%s' is not a share: use a percentage, e.g. 40%%",
                         q(s, qb));
                return -EINVAL;
        }
        /* whole was scaled along with the fraction: compare against 100%
         * at the same scale. */
        if (whole + frac > scale)
                goto out_of_range;
        *ret = (double)(whole + frac) / (double)scale;
        return 0;
out_of_range:
        snprintf(msg, msg_size, "'%s' is out of range (0%% to 100%%)", q(s, qb));
        return -ERANGE;
}

int pol_parse_int(const char *s, bool allow_sign, long min, long max, long *ret, char *msg,
                  size_t msg_size) {
        char qb[QUOTE_SIZE];
        bool negative = false;
        const char *p = s;
        uint64_t v;

        if (allow_sign && (*p == '+' || *p == '-'))
                negative = *p++ == '-';
        int n = digits(p, UINT64_C(1) << 62, &v);
        if (n == 0 || (n > 0 && p[n] != '\0')) {
                snprintf(msg, msg_size, "'%s' is not a whole number", q(s, qb));
                return -EINVAL;
        }
        if (n < 0)
                goto out_of_range;
        /* v <= 2^62 fits a long either way round. */
        long val = negative ? -(long)v : (long)v;
        if (val < min || val > max)
                goto out_of_range;
        *ret = val;
        return 0;
out_of_range:
        snprintf(msg, msg_size, "%s is out of range (%ld to %ld)", q(s, qb), min, max);
        return -ERANGE;
}

/* YAML 1.1's yes/no/on/off and their capitalised forms are refused on
 * purpose: "mode: no" meaning false surprises people (the Norway problem). */
int pol_parse_bool(const char *s, bool *ret, char *msg, size_t msg_size) {
        char qb[QUOTE_SIZE];

        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
                *ret = s[0] == 't';
                return 0;
        }
        snprintf(msg, msg_size, "'%s' is not a boolean: use true or false", q(s, qb));
        return -EINVAL;
}
