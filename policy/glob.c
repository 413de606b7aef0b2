/* The glob engine (glob.h): an NFA over the pattern's offsets, one bitset
 * of states, no allocation. Pure.
 *
 * Where glob.h is silent:
 * - Globs compare bytes, case-sensitively ('?' is one byte of a UTF-8 "é").
 *   No backslash escapes: '\' is a byte like any other, and "[*]", "[?]",
 *   "[[]" spell the metacharacters. "[^a]" is "[!a]"; a ']' first in a
 *   class and a '-' first or last are members; "[z-a]" is empty; a '[' with
 *   no closing ']' is a literal '['.
 * - Path mode: three or more '*' are a "**". A "**" that is a whole level
 *   also matches zero levels, so a leading one matches at the top too and
 *   one between two names matches them adjacent; a trailing one matches
 *   every descendant (and "a/"), never "a" itself. A leading '/' is a
 *   literal: cgroup paths are relative.
 * - Patterns over POL_PATTERN_LEN_MAX bytes, subjects over 4096, never match. */
#include "policy/glob.h"

#include <stdint.h>
#include <string.h>

/* Longest subject a glob is tried against: a cgroup path fits (PATH_MAX),
 * and a cap bounds the work a hostile pattern can cost. */
#define GLOB_SUBJECT_MAX 4096
/* One NFA state per pattern offset, plus the accepting one at the end. */
#define GLOB_WORDS ((POL_PATTERN_LEN_MAX + 1 + 63) / 64)

typedef enum tok_kind {
        TOK_END,
        TOK_LIT,
        TOK_ANY,   /* '?' */
        TOK_CLASS, /* "[...]" */
        TOK_STAR,  /* '*': any run; in path mode without '/' */
        TOK_DSTAR, /* '**' in path mode, not yet into its run */
        TOK_DSTAR_IN, /* '**' in path mode, one or more bytes into its run */
} tok_kind;

typedef struct token {
        tok_kind kind;
        size_t next;      /* offset of the token after this one */
        size_t skip;      /* TOK_DSTAR as "**" "/": offset past the '/', 0 if not */
        size_t cls_first; /* TOK_CLASS: the members are [cls_first, cls_end) */
        size_t cls_end;
        bool negate;
} token;

/* The token starting at offset i of p (plen bytes). Tokens are re-read
 * instead of compiled so matching needs no memory beyond a bitset. */
static token token_at(const char *p, size_t plen, size_t i, bool path) {
        token t = {.kind = TOK_LIT, .next = i + 1};
        size_t j;

        if (i >= plen)
                return (token){.kind = TOK_END, .next = i};
        switch (p[i]) {
        case '*':
                for (j = i; j < plen && p[j] == '*'; j++)
                        ;
                t.next = j;
                /* A run is only entered at its first '*': an offset after a
                 * '*' is the state of a "**" that has consumed something. */
                if (path && i > 0 && p[i - 1] == '*') {
                        t.kind = TOK_DSTAR_IN;
                        return t;
                }
                if (!path || j - i == 1) {
                        t.kind = TOK_STAR;
                        return t;
                }
                t.kind = TOK_DSTAR;
                /* A "**" that is a whole component also stands for no
                 * component at all, its '/' included: "a", "**", "b" joined
                 * by '/' matches "a/b", and "**", "x" matches "x". Only
                 * before it consumed anything: hence the two states. */
                if ((i == 0 || p[i - 1] == '/') && j < plen && p[j] == '/')
                        t.skip = j + 1;
                return t;
        case '?':
                t.kind = TOK_ANY;
                return t;
        case '[':
                j = i + 1;
                t.negate = j < plen && (p[j] == '!' || p[j] == '^');
                j += t.negate;
                t.cls_first = j;
                if (j < plen && p[j] == ']') /* first in the class: a member */
                        j++;
                while (j < plen && p[j] != ']')
                        j++;
                if (j >= plen) /* unterminated: a literal '[' */
                        return t;
                t.kind = TOK_CLASS;
                t.cls_end = j;
                t.next = j + 1;
                return t;
        default:
                return t;
        }
}

static bool class_has(const char *p, const token *t, unsigned char c) {
        bool in = false;

        for (size_t k = t->cls_first; k < t->cls_end && !in;) {
                unsigned char lo = (unsigned char) p[k];
                /* A '-' first or last is a member, not a range. */
                if (k + 2 < t->cls_end && p[k + 1] == '-') {
                        unsigned char hi = (unsigned char) p[k + 2];
                        in = c >= lo && c <= hi;
                        k += 3;
                } else {
                        in = c == lo;
                        k++;
                }
        }
        return in != t->negate;
}

/* Next set bit at or after from, or n if none. */
static size_t bit_next(const uint64_t *set, size_t from, size_t n) {
        while (from < n) {
                uint64_t w = set[from / 64] >> (from % 64);
                if (w)
                        return from + (size_t) __builtin_ctzll(w);
                from = (from / 64 + 1) * 64;
        }
        return n;
}

static void bit_set(uint64_t *set, size_t i) {
        set[i / 64] |= UINT64_C(1) << (i % 64);
}

/* Follow the empty moves of stars. They only go forward, so one ascending
 * sweep reaches the states it adds itself. */
static void closure(const char *p, size_t plen, uint64_t *set, bool path) {
        size_t n = plen + 1;

        for (size_t i = bit_next(set, 0, n); i < n; i = bit_next(set, i + 1, n)) {
                token t = token_at(p, plen, i, path);
                if (t.kind != TOK_STAR && t.kind != TOK_DSTAR && t.kind != TOK_DSTAR_IN)
                        continue;
                bit_set(set, t.next);
                if (t.skip)
                        bit_set(set, t.skip);
        }
}

/* A Thompson NFA run over pattern offsets: every live state advances on
 * each character at once, so no pattern can cost more than
 * O(len(s) * len(pattern)), where backtracking over '*' and '**' can go
 * polynomial of high degree or exponential. No allocation: two bitsets. */
bool pol_glob_match(const char *pattern, const char *s, bool path) {
        uint64_t cur[GLOB_WORDS] = {0}, nxt[GLOB_WORDS];
        size_t plen, slen, n, words;

        if (!pattern || !s)
                return false;
        plen = strnlen(pattern, POL_PATTERN_LEN_MAX + 1);
        slen = strnlen(s, GLOB_SUBJECT_MAX + 1);
        if (plen > POL_PATTERN_LEN_MAX || slen > GLOB_SUBJECT_MAX)
                return false;
        n = plen + 1;
        words = (n + 63) / 64;

        bit_set(cur, 0);
        closure(pattern, plen, cur, path);
        for (size_t si = 0; si < slen; si++) {
                unsigned char c = (unsigned char) s[si];

                memset(nxt, 0, words * sizeof(nxt[0]));
                for (size_t i = bit_next(cur, 0, n); i < n; i = bit_next(cur, i + 1, n)) {
                        token t = token_at(pattern, plen, i, path);
                        /* Only a literal '/' or a '**' consumes a '/' in path mode. */
                        bool slash_ok = !path || c != '/';

                        switch (t.kind) {
                        case TOK_END:
                                break;
                        case TOK_LIT:
                                if ((unsigned char) pattern[i] == c)
                                        bit_set(nxt, t.next);
                                break;
                        case TOK_ANY:
                                if (slash_ok)
                                        bit_set(nxt, t.next);
                                break;
                        case TOK_CLASS:
                                if (slash_ok && class_has(pattern, &t, c))
                                        bit_set(nxt, t.next);
                                break;
                        case TOK_STAR:
                                if (slash_ok)
                                        bit_set(nxt, i);
                                break;
                        case TOK_DSTAR:
                                bit_set(nxt, i + 1);
                                break;
                        case TOK_DSTAR_IN:
                                bit_set(nxt, i);
                                break;
                        }
                }
                if (bit_next(nxt, 0, n) == n) /* every path died: stop early */
                        return false;
                closure(pattern, plen, nxt, path);
                memcpy(cur, nxt, words * sizeof(cur[0]));
        }
        return (cur[plen / 64] >> (plen % 64)) & 1;
}
