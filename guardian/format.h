/* Human-readable numbers for logs, tables and reasons. Pure. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* "243.1M" style (powers of 1024, one decimal); exact bytes below 1 KiB;
 * "max" for UINT64_MAX (the kernel's "no limit"). Returns buf. */
const char *gd_format_bytes(uint64_t bytes, char *buf, size_t size);
