/* Minimal JSON output helpers: strings escaped so that any bytes a process
 * puts in its name or command line come out as valid JSON. */
#pragma once

#include <stddef.h>
#include <stdio.h>

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

/* Length of the valid UTF-8 sequence (2 to 4 bytes) that starts at s, or 0
 * when s does not start one (ASCII, a stray byte, overlong, surrogate). */
size_t gd_utf8_length(const char *s);
