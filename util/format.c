#include "util/format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

/* Days since 1970-01-01 to a civil date (proleptic Gregorian): Howard
 * Hinnant's days_from_civil inverse, exact for every int64 day count
 * that reaches here. */
static void civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d) {
        z += 719468; /* from 1970-01-01 to 0000-03-01 */
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
        unsigned mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;

        *ret_y = (int64_t)yoe + era * 400 + (m <= 2);
        *ret_m = m;
        *ret_d = d;
}

/* v as exactly n decimal digits, zero-padded. */
static void put_digits(char *p, unsigned v, int n) {
        while (n-- > 0) {
                p[n] = (char)('0' + v % 10);
                v /= 10;
        }
}

int gd_format_time_utc(int64_t unix_ms, char buf[GD_TIME_UTC_MAX]) {
        /* 0000-01-01 and 10000-01-01 in ms: outside, no four-digit year. */
        static const int64_t min_ms = -62167219200000LL, end_ms = 253402300800000LL;
        int64_t days, year;
        unsigned month, day;

        if (unix_ms < min_ms || unix_ms >= end_ms)
                return -ERANGE;
        /* Floor division, so 1969 reads as 1969. */
        int64_t ms = unix_ms % 86400000, secs;
        days = unix_ms / 86400000;
        if (ms < 0) {
                ms += 86400000;
                days--;
        }
        civil_from_days(days, &year, &month, &day);
        secs = ms / 1000;
        memcpy(buf, "0000-00-00T00:00:00.000Z", GD_TIME_UTC_MAX);
        put_digits(buf, (unsigned)year, 4);
        put_digits(buf + 5, month, 2);
        put_digits(buf + 8, day, 2);
        put_digits(buf + 11, (unsigned)(secs / 3600), 2);
        put_digits(buf + 14, (unsigned)(secs / 60 % 60), 2);
        put_digits(buf + 17, (unsigned)(secs % 60), 2);
        put_digits(buf + 20, (unsigned)(ms % 1000), 3);
        return 0;
}

size_t gd_format_fput_printable(FILE *out, const char *s) {
        size_t n = 0;

        for (; *s; s++, n++)
                fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, out);
        return n;
}
