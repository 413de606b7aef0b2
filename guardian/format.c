#include "guardian/format.h"

#include <inttypes.h>
#include <stdio.h>

const char *gd_format_bytes(uint64_t bytes, char *buf, size_t size) {
        static const char units[] = "KMGTPE";
        double v = (double)bytes;
        int u = -1;

        if (bytes == UINT64_MAX) {
                snprintf(buf, size, "max");
                return buf;
        }
        if (bytes < 1024) {
                snprintf(buf, size, "%" PRIu64, bytes);
                return buf;
        }
        while (v >= 1024 && u < 5) {
                v /= 1024;
                u++;
        }
        snprintf(buf, size, "%.1f%c", v, units[u]);
        return buf;
}
