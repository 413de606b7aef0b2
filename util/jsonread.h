/* The one JSON reader: a bounded document (a container runtime's state
 * file) tokenized once into a flat array, then queried by member name.
 * Pure: a buffer in, tokens out; no I/O. The writer is util/json.h.
 *
 * Where it is strict and where it forgives, and why:
 * - The grammar is RFC 8259's: a malformed or cut-short document is
 *   -EBADMSG, never a partial answer (a runtime writes its files
 *   atomically; a cut one is being replaced, read it again later).
 * - Limits: GD_JREAD_SIZE_MAX bytes, GD_JREAD_DEPTH_MAX nesting,
 *   GD_JREAD_TOKENS_MAX values; past any, -E2BIG. No recursion: the
 *   nesting is a counted stack of GD_JREAD_DEPTH_MAX entries.
 * - Numbers are checked against the grammar and kept as text.
 * - Strings are decoded on request (gd_jread_string): the escapes,
 *   \u with surrogate pairs. What a C string cannot carry, or carries
 *   wrongly, is replaced by U+FFFD: a lone surrogate, a byte that is not
 *   valid UTF-8 (as Go's decoder does, the one every runtime reads its
 *   files with), and \u0000 (a NUL would cut "mysql\u0000x" down to
 *   "mysql"). Other control characters are kept as bytes: every writer
 *   of guardian quotes them (util/json.h, the log). A raw control byte
 *   inside a string literal is malformed JSON: -EBADMSG.
 * - Duplicate member names: the last wins, as in Go's encoding/json. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GD_JREAD_SIZE_MAX   (1024 * 1024)
#define GD_JREAD_DEPTH_MAX  32
#define GD_JREAD_TOKENS_MAX (128 * 1024)

typedef enum gd_jtype {
        GD_JNULL = 0,
        GD_JFALSE,
        GD_JTRUE,
        GD_JNUMBER,
        GD_JSTRING,
        GD_JARRAY,
        GD_JOBJECT,
} gd_jtype;

/* One value of the document, in document order. An object's tokens are
 * its members as pairs (a string key, then its value). */
typedef struct gd_jtok {
        uint32_t start; /* offset of the value's text; a string's is inside the quotes */
        uint32_t len;   /* its length; a string's without the quotes, escapes undecoded */
        uint32_t next;  /* the index after this value and everything inside it */
        uint32_t count; /* an array's elements, an object's members; 0 for the rest */
        uint8_t type;   /* gd_jtype */
} gd_jtok;

typedef struct gd_jdoc {
        const char *text; /* the caller's buffer, not copied: keep it while the doc is used */
        size_t len;
        gd_jtok *toks; /* toks[0] is the root */
        size_t ntoks;
} gd_jdoc;

/* Tokenize text[0..len) (not NUL-terminated; a NUL anywhere outside a
 * string is malformed) into *ret. Returns 0, -EBADMSG when it is not one
 * JSON value with only whitespace around it, -E2BIG past a limit, or
 * -ENOMEM; *ret is untouched on failure. Free with gd_jread_free. */
int gd_jread_parse(const char *text, size_t len, gd_jdoc *ret);

/* Release what gd_jread_parse allocated; doc is zeroed. Safe on a zeroed doc. */
void gd_jread_free(gd_jdoc *doc);

/* Index of the value of member key (klen bytes, compared with the decoded
 * member names) of the object at index obj; the last one when repeated.
 * Returns the index, or -ENOENT when absent, or -EINVAL when obj is not
 * an object. */
int gd_jread_member(const gd_jdoc *doc, size_t obj, const char *key, size_t klen);

/* The value at a path of member names separated by '.' ("Config.Labels"),
 * from the object at index obj. For names that hold a '.' (a label's key)
 * use gd_jread_member. Returns the index, -ENOENT when a member is absent,
 * -EINVAL when a step is not an object. */
int gd_jread_path(const gd_jdoc *doc, size_t obj, const char *path);

/* Decode the string at index i into buf (NUL-terminated; see the top of
 * this file for what is replaced). Returns 0 and the decoded length in
 * *ret_len (may be NULL), -EINVAL when i is not a string, -ENOBUFS when
 * it does not fit in size bytes with its NUL (buf untouched then). */
int gd_jread_string(const gd_jdoc *doc, size_t i, char *buf, size_t size, size_t *ret_len);

/* Does the string at index i decode to exactly s[0..n)? False for a value
 * that is not a string. */
bool gd_jread_string_eq(const gd_jdoc *doc, size_t i, const char *s, size_t n);

/* Type of the value at index i (GD_JNULL when i is out of range). */
gd_jtype gd_jread_type(const gd_jdoc *doc, size_t i);
