/* Human-readable numbers for logs, tables and reasons (pure), and the one
 * way a name is written to a terminal. */
#pragma once

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* "243.1M" style (powers of 1024, one decimal); exact bytes below 1 KiB;
 * "max" for UINT64_MAX (the kernel's "no limit"). Returns buf. */
const char *gd_format_bytes(uint64_t bytes, char *buf, size_t size);

/* Room for gd_format_time_utc's text and its NUL. */
#define GD_TIME_UTC_MAX 25

/* RFC 3339 UTC with milliseconds, "2026-11-26T01:02:03.456Z", from
 * milliseconds since the epoch (negative: before 1970). Computed by hand:
 * gmtime_r reads /etc/localtime on its first call, which the sandboxed
 * event loop must not do. Returns 0, or -ERANGE for a year outside
 * 0000-9999 (no RFC 3339 form), buf then untouched. */
int gd_format_time_utc(int64_t unix_ms, char buf[GD_TIME_UTC_MAX]);

/* Writes s for a terminal, one line: control bytes (and DEL) as '?', so a
 * process's or container's name cannot rewrite the screen. Returns the
 * bytes written. */
size_t gd_format_fput_printable(FILE *out, const char *s);
