/* Minimal JSON output helpers: strings escaped so that any bytes a process
 * puts in its name or command line come out as valid JSON. */
#pragma once

#include <stdio.h>

/* Write s as a JSON string literal (with quotes). Control characters, '"'
 * and '\\' are escaped; bytes >= 0x80 that are not valid UTF-8 are written
 * as \u00XX so the output is always valid UTF-8. */
void gd_json_string(FILE *out, const char *s);
