/* record/audit.c: the exact JSON line, hostile strings, cutting to fit,
 * and the file: where it may be opened and how records land in it. */
#include "record/audit.h"
#include "tests/lib/fixture.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a strict checker for the flat JSON objects audit writes ---- */

/* Length of a valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end) {
        size_t len;
        unsigned cp;

        if (s[0] >= 0xc2 && s[0] < 0xe0)
                len = 2, cp = s[0] & 0x1fu;
        else if (s[0] >= 0xe0 && s[0] < 0xf0)
                len = 3, cp = s[0] & 0x0fu;
        else if (s[0] >= 0xf0 && s[0] < 0xf5)
                len = 4, cp = s[0] & 0x07u;
        else
                return 0;
        if ((size_t)(end - s) < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

/* A JSON string at *p; advances past it. */
static bool j_string(const unsigned char **p, const unsigned char *end) {
        const unsigned char *s = *p;

        if (s >= end || *s++ != '"')
                return false;
        while (s < end && *s != '"') {
                if (*s < 0x20)
                        return false;
                if (*s == '\\') {
                        s++;
                        if (s >= end)
                                return false;
                        if (*s == 'u') {
                                for (int i = 1; i <= 4; i++)
                                        if (s + i >= end || !strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
                                                return false;
                                s += 5;
                        } else if (strchr("\"\\/bfnrt", *s) && *s) {
                                s++;
                        } else {
                                return false;
                        }
                } else if (*s >= 0x80) {
                        size_t l = utf8_len(s, end);
                        if (l == 0)
                                return false;
                        s += l;
                } else {
                        s++;
                }
        }
        if (s >= end)
                return false;
        *p = s + 1;
        return true;
}

static bool j_digits(const unsigned char **p, const unsigned char *end) {
        const unsigned char *s = *p;
        while (s < end && *s >= '0' && *s <= '9')
                s++;
        if (s == *p)
                return false;
        *p = s;
        return true;
}

/* A JSON number (RFC 8259 grammar) at *p. */
static bool j_number(const unsigned char **p, const unsigned char *end) {
        const unsigned char *s = *p;

        if (s < end && *s == '-')
                s++;
        if (s < end && *s == '0')
                s++;
        else if (!j_digits(&s, end))
                return false;
        if (s < end && *s == '.') {
                s++;
                if (!j_digits(&s, end))
                        return false;
        }
        if (s < end && (*s == 'e' || *s == 'E')) {
                s++;
                if (s < end && (*s == '+' || *s == '-'))
                        s++;
                if (!j_digits(&s, end))
                        return false;
        }
        *p = s;
        return true;
}

/* Validate line as exactly one flat JSON object followed by "\n" and
 * nothing else. If key is given, *ret_val and *ret_len get its raw value. */
/* A flat object value ({"k": string|null|number, ...}, the container's
 * names): skips it. */
static bool j_flat_object(const unsigned char **p, const unsigned char *end) {
        const unsigned char *s = *p;

        if (s >= end || *s++ != '{')
                return false;
        if (s < end && *s == '}') {
                *p = s + 1;
                return true;
        }
        for (;;) {
                if (!j_string(&s, end) || s >= end || *s++ != ':')
                        return false;
                if (s < end && *s == '"') {
                        if (!j_string(&s, end))
                                return false;
                } else if ((size_t)(end - s) >= 4 && memcmp(s, "null", 4) == 0) {
                        s += 4;
                } else if (!j_number(&s, end)) {
                        return false;
                }
                if (s < end && *s == ',') {
                        s++;
                        continue;
                }
                break;
        }
        if (s >= end || *s++ != '}')
                return false;
        *p = s;
        return true;
}

static bool json_line(const char *line, const char *key, const char **ret_val, size_t *ret_len) {
        const unsigned char *s = (const unsigned char *)line, *end = s + strlen(line);
        bool found = false;

        if (end - s < 3 || end[-1] != '\n' || memchr(line, '\n', strlen(line) - 1))
                return false;
        end--;
        if (*s++ != '{')
                return false;
        for (bool first = true;; first = false) {
                if (s < end && *s == '}' && first)
                        break;
                const unsigned char *k = s;
                if (!j_string(&s, end))
                        return false;
                size_t klen = (size_t)(s - k);
                if (s >= end || *s++ != ':')
                        return false;
                const unsigned char *v = s;
                if (s < end && *s == '"') {
                        if (!j_string(&s, end))
                                return false;
                } else if ((size_t)(end - s) >= 4 && memcmp(s, "null", 4) == 0) {
                        s += 4;
                } else if (s < end && *s == '{') {
                        if (!j_flat_object(&s, end))
                                return false;
                } else if (!j_number(&s, end)) {
                        return false;
                }
                if (key && klen == strlen(key) + 2 && memcmp(k + 1, key, klen - 2) == 0) {
                        if (found)
                                return false; /* duplicate key */
                        found = true;
                        *ret_val = (const char *)v;
                        *ret_len = (size_t)(s - v);
                }
                if (s < end && *s == ',') {
                        s++;
                        continue;
                }
                break;
        }
        if (s >= end || *s++ != '}' || s != end)
                return false;
        return !key || found;
}

/* The raw value of key in a valid line, malloc'd; fails the test if the
 * line is not valid or the key is missing. */
static char *json_value(const char *line, const char *key) {
        const char *v;
        size_t len;

        cr_assert(json_line(line, key, &v, &len), "invalid JSON line or no key %s: %s", key, line);
        char *r = strndup(v, len);
        cr_assert_not_null(r);
        return r;
}

static void assert_value(const char *line, const char *key, const char *want) {
        char *v = json_value(line, key);
        cr_assert_str_eq(v, want, "key %s", key);
        free(v);
}

/* ---- records ---- */

static gd_audit_record full_record(void) {
        return (gd_audit_record){
                .time_unix_ms = 1795654923456, /* 2026-11-26T01:02:03.456Z */
                .event = GD_EVENT_KILL,
                .cgroup = "/kubepods/pod1",
                .workload = "batch",
                .trigger = "near-limit",
                .trigger_value = 0.9731,
                .trigger_threshold = 0.95,
                .sustained_ms = 1500,
                .reason = "memory.current 97% of memory.max and growing",
                .pid = 4242,
                .comm = "java",
                .cmdline = "java -Xmx4g -jar app.jar",
                .uid = 1000,
                .start_time = 123456,
                .score = 262400,
                .rss_pages = 262144,
                .pte_pages = 512,
                .swap_pages = 0,
                .oom_score_adj = 300,
                .totalpages = 1048576,
                .page_size = 4096,
                .memory_before = 4294967296,
                .memory_after = 3221225472,
                .trigger_to_kill_ms = 1520,
                .trigger_to_death_ms = 37,
                .result = GD_RESULT_KILLED,
        };
}

static const char full_line[] =
        "{\"time\":\"2026-11-26T01:02:03.456Z\",\"event\":\"kill\",\"cgroup\":\"/kubepods/pod1\","
        "\"container\":null,\"workload\":\"batch\",\"trigger\":\"near-limit\",\"trigger_value\":0.9731,"
        "\"trigger_threshold\":0.95,\"sustained_ms\":1500,"
        "\"reason\":\"memory.current 97% of memory.max and growing\",\"pid\":4242,"
        "\"comm\":\"java\",\"cmdline\":\"java -Xmx4g -jar app.jar\",\"uid\":1000,"
        "\"start_time\":123456,\"score\":262400,\"rss_bytes\":1073741824,"
        "\"pte_bytes\":2097152,\"swap_bytes\":0,\"rss_pages\":262144,\"pte_pages\":512,"
        "\"swap_pages\":0,\"oom_score_adj\":300,\"totalpages\":1048576,"
        "\"memory_before\":4294967296,\"memory_after\":3221225472,\"trigger_to_kill_ms\":1520,"
        "\"trigger_to_death_ms\":37,\"result\":\"killed\",\"truncated\":null}\n";

Test(audit, format_full_record) {
        gd_audit_record rec = full_record();
        char buf[GD_AUDIT_RECORD_MAX];
        int r = gd_audit_format(&rec, buf, sizeof(buf));

        cr_assert_eq(r, (int)strlen(full_line), "r=%d: %s", r, buf);
        cr_assert_str_eq(buf, full_line);
        cr_assert(json_line(buf, NULL, NULL, NULL));
}

Test(audit, format_cgroup_kill) {
        gd_audit_record rec = {
                .time_unix_ms = 0,
                .event = GD_EVENT_KILL_CGROUP,
                .cgroup = "/system.slice/batch.service",
                .workload = NULL,
                .trigger = "limit",
                .trigger_value = 1,
                .trigger_threshold = 0.98,
                .sustained_ms = 0,
                .reason = "memory.events max +3",
                .pid = 0,
                /* Ignored for a whole-cgroup kill. */
                .comm = "stale",
                .cmdline = "stale cmdline",
                .rss_pages = 7,
                .page_size = 4096,
                .totalpages = 262144,
                .memory_before = 1073741824,
                .memory_after = 0,
                .trigger_to_kill_ms = 12,
                .trigger_to_death_ms = -1,
                .result = GD_RESULT_KILLED,
        };
        static const char want[] =
                "{\"time\":\"1970-01-01T00:00:00.000Z\",\"event\":\"kill-cgroup\","
                "\"cgroup\":\"/system.slice/batch.service\",\"container\":null,\"workload\":null,\"trigger\":\"limit\","
                "\"trigger_value\":1,\"trigger_threshold\":0.98,\"sustained_ms\":0,"
                "\"reason\":\"memory.events max +3\",\"pid\":null,\"comm\":null,\"cmdline\":null,"
                "\"uid\":null,\"start_time\":null,\"score\":null,\"rss_bytes\":null,"
                "\"pte_bytes\":null,\"swap_bytes\":null,\"rss_pages\":null,\"pte_pages\":null,"
                "\"swap_pages\":null,\"oom_score_adj\":null,\"totalpages\":262144,"
                "\"memory_before\":1073741824,\"memory_after\":0,\"trigger_to_kill_ms\":12,"
                "\"trigger_to_death_ms\":null,\"result\":\"killed\",\"truncated\":null}\n";
        char buf[GD_AUDIT_RECORD_MAX];

        cr_assert_eq(gd_audit_format(&rec, buf, sizeof(buf)), (int)strlen(want), "%s", buf);
        cr_assert_str_eq(buf, want);
}

Test(audit, format_nulls_and_non_finite) {
        gd_audit_record rec = full_record();
        char buf[GD_AUDIT_RECORD_MAX];

        rec.event = GD_EVENT__N; /* out of range: no name */
        rec.cgroup = NULL;
        rec.trigger = NULL;
        rec.reason = NULL;
        rec.comm = NULL;
        rec.cmdline = NULL;
        rec.result = (gd_audit_result)-1;
        rec.trigger_value = NAN;
        rec.trigger_threshold = INFINITY;
        rec.oom_score_adj = -1000;
        rec.score = -5;
        cr_assert_gt(gd_audit_format(&rec, buf, sizeof(buf)), 0);
        const char *nulls[] = {"event", "cgroup", "trigger", "reason", "comm", "cmdline",
                               "result", "trigger_value", "trigger_threshold"};
        for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
                assert_value(buf, nulls[i], "null");
        assert_value(buf, "oom_score_adj", "-1000");
        assert_value(buf, "score", "-5");
        assert_value(buf, "pid", "4242");
}

/* Each event and result is written as README ("Audit log") spells it; an
 * errno by its name; a value out of range has no name. */
Test(audit, names) {
        static const char *const events[GD_EVENT__N] = {
                "kill", "would-kill", "kill-cgroup", "would-kill-cgroup", "kill-failed", "notify",
        };
        static const char *const results[GD_RESULT__N] = {
                "killed", "dry-run", "notified", "timeout", "unfinished", "gone", "pid-reused",
                "moved", "cgroupns-unknown", "error",
        };
        for (int e = 0; e < GD_EVENT__N; e++) {
                cr_assert_not_null(events[e], "event %d untested", e);
                cr_assert_str_eq(gd_audit_event_name((gd_audit_event)e), events[e]);
        }
        for (int r = 0; r < GD_RESULT__N; r++) {
                cr_assert_not_null(results[r], "result %d untested", r);
                cr_assert_str_eq(gd_audit_result_name((gd_audit_result)r, 0), results[r]);
        }
        cr_assert_null(gd_audit_event_name(GD_EVENT__N));
        cr_assert_null(gd_audit_event_name((gd_audit_event)-1));
        cr_assert_null(gd_audit_result_name(GD_RESULT__N, 0));
        cr_assert_null(gd_audit_result_name((gd_audit_result)-1, -EPERM));
        cr_assert_str_eq(gd_audit_result_name(GD_RESULT_ERRNO, -EPERM), "EPERM");
        cr_assert_str_eq(gd_audit_result_name(GD_RESULT_ERRNO, -ESRCH), "ESRCH");
        cr_assert_str_eq(gd_audit_result_name(GD_RESULT_ERRNO, -4000), "error", "no name");
        cr_assert_str_eq(gd_audit_result_name(GD_RESULT_ERRNO, 0), "error");
        /* The errno names only an errno result. */
        cr_assert_str_eq(gd_audit_result_name(GD_RESULT_GONE, -ESRCH), "gone");
}

/* Every event and result reaches the line as its name. */
Test(audit, format_each_event_and_result) {
        gd_audit_record rec = full_record();
        char buf[GD_AUDIT_RECORD_MAX], want[64];

        for (int e = 0; e < GD_EVENT__N; e++) {
                rec.event = (gd_audit_event)e;
                cr_assert_gt(gd_audit_format(&rec, buf, sizeof(buf)), 0);
                snprintf(want, sizeof(want), "\"%s\"", gd_audit_event_name(rec.event));
                assert_value(buf, "event", want);
        }
        for (int r = 0; r < GD_RESULT__N; r++) {
                rec.result = (gd_audit_result)r;
                rec.error = -EXDEV;
                cr_assert_gt(gd_audit_format(&rec, buf, sizeof(buf)), 0);
                snprintf(want, sizeof(want), "\"%s\"", r == GD_RESULT_ERRNO
                                 ? "EXDEV" : gd_audit_result_name(rec.result, 0));
                assert_value(buf, "result", want);
        }
}

Test(audit, format_numbers) {
        gd_audit_record rec = full_record();
        char buf[GD_AUDIT_RECORD_MAX];

        rec.trigger_value = 123456789.0;
        rec.trigger_threshold = -0.000012346;
        rec.time_unix_ms = -1;
        rec.sustained_ms = UINT64_MAX;
        rec.trigger_to_kill_ms = INT64_MIN;
        rec.rss_pages = UINT64_MAX; /* bytes would overflow */
        cr_assert_gt(gd_audit_format(&rec, buf, sizeof(buf)), 0);
        assert_value(buf, "trigger_value", "1.235e+08");
        assert_value(buf, "trigger_threshold", "-1.235e-05");
        assert_value(buf, "time", "\"1969-12-31T23:59:59.999Z\"");
        assert_value(buf, "sustained_ms", "18446744073709551615");
        assert_value(buf, "trigger_to_kill_ms", "-9223372036854775808");
        assert_value(buf, "rss_bytes", "null");
        assert_value(buf, "rss_pages", "18446744073709551615");

        /* Beyond year 9999 RFC 3339 has no form. */
        rec.time_unix_ms = 253402300800000; /* 10000-01-01 */
        cr_assert_gt(gd_audit_format(&rec, buf, sizeof(buf)), 0);
        assert_value(buf, "time", "null");
        rec.time_unix_ms = 253402300799999;
        cr_assert_gt(gd_audit_format(&rec, buf, sizeof(buf)), 0);
        assert_value(buf, "time", "\"9999-12-31T23:59:59.999Z\"");
}

Test(audit, format_hostile_strings) {
        gd_audit_record rec = full_record();
        char buf[GD_AUDIT_RECORD_MAX];

        /* What a process may call itself: quotes that try to close the
         * string, a newline that tries to start a new record, control
         * bytes, invalid UTF-8, a forged key. */
        rec.comm = "a\"}\n{\"x";
        rec.cmdline = "sh -c \"echo \\\"hi\\\"\"\n{\"event\":\"fake\"}\r\x01\x1b[31m\xff\xfe\xc3(";
        rec.cgroup = "/we\xe2\x80\xa8ird\ttab";
        rec.workload = "caf\xc3\xa9";
        int r = gd_audit_format(&rec, buf, sizeof(buf));
        cr_assert_gt(r, 0);
        cr_assert_eq((size_t)r, strlen(buf));
        cr_assert(json_line(buf, NULL, NULL, NULL), "not one valid JSON line: %s", buf);
        assert_value(buf, "comm", "\"a\\\"}\\n{\\\"x\"");
        assert_value(buf, "cmdline",
                     "\"sh -c \\\"echo \\\\\\\"hi\\\\\\\"\\\"\\n{\\\"event\\\":\\\"fake\\\"}"
                     "\\u000d\\u0001\\u001b[31m\\u00ff\\u00fe\\u00c3(\"");
        assert_value(buf, "cgroup", "\"/we\xe2\x80\xa8ird\\ttab\"");
        assert_value(buf, "workload", "\"caf\xc3\xa9\"");
        assert_value(buf, "event", "\"kill\"");
}

/* ---- cutting to fit ---- */

/* "€€€..." (3 bytes each, kept raw) of n bytes, malloc'd. */
static char *euros(size_t n) {
        char *s = malloc(n + 1);
        cr_assert_not_null(s);
        for (size_t i = 0; i < n; i++)
                s[i] = "\xe2\x82\xac"[i % 3];
        s[n - n % 3] = '\0';
        return s;
}

/* A cut value: a quoted prefix of the whole literal ending in "..." */
static void assert_cut_of(const char *value, const char *whole) {
        size_t vl = strlen(value);
        cr_assert_geq(vl, 5);
        cr_assert_str_eq(value + vl - 4, "...\"", "not marked as cut: %.40s", value + vl - 10);
        cr_assert(strncmp(value, whole, vl - 4) == 0, "not a prefix of the whole");
}

Test(audit, cut_cmdline_first) {
        gd_audit_record rec = full_record();
        char buf[GD_AUDIT_RECORD_MAX];
        char *cmd = euros(7000), *reason = euros(1500);

        rec.cmdline = cmd;
        rec.reason = reason;
        int r = gd_audit_format(&rec, buf, sizeof(buf));
        cr_assert_gt(r, 0);
        cr_assert_lt((size_t)r, sizeof(buf));
        /* Used to the last byte a whole euro allows. */
        cr_assert_geq((size_t)r, sizeof(buf) - 1 - 3);
        cr_assert(json_line(buf, NULL, NULL, NULL));
        char *v = json_value(buf, "cmdline");
        char whole[8192];
        snprintf(whole, sizeof(whole), "\"%s\"", cmd);
        assert_cut_of(v, whole);
        free(v);
        /* The reason stays whole. */
        v = json_value(buf, "reason");
        cr_assert_eq(strlen(v), strlen(reason) + 2);
        free(v);
        assert_value(buf, "result", "\"killed\"");
        free(cmd);
        free(reason);
}

Test(audit, cut_reason_second) {
        gd_audit_record rec = full_record();
        char buf[GD_AUDIT_RECORD_MAX];
        char *cmd = euros(3000), *reason = euros(9000);

        rec.cmdline = cmd;
        rec.reason = reason;
        int r = gd_audit_format(&rec, buf, sizeof(buf));
        cr_assert_gt(r, 0);
        cr_assert_geq((size_t)r, sizeof(buf) - 1 - 3);
        assert_value(buf, "cmdline", "\"...\"");
        char *v = json_value(buf, "reason");
        char *whole = malloc(strlen(reason) + 3);
        sprintf(whole, "\"%s\"", reason);
        assert_cut_of(v, whole);
        free(whole);
        free(v);
        free(cmd);
        free(reason);
}

/* Every buffer size from nothing to enough: the result is a valid line
 * that fits, or -ENOBUFS only below the shortest possible record. The
 * buffer is exactly size bytes on the heap so ASan sees any overrun. */
Test(audit, cut_every_size) {
        gd_audit_record rec = full_record();
        char big[GD_AUDIT_RECORD_MAX];

        rec.cmdline = "\xf0\x9f\x98\x80 \"q\" \xe2\x82\xac\n\x01 tail";
        rec.reason = "r\xc3\xa9\"son\\ of \xe2\x82\xac the kill";
        int full = gd_audit_format(&rec, big, sizeof(big));
        cr_assert_gt(full, 0);
        int shortest = -1;
        char first[GD_AUDIT_RECORD_MAX] = "";
        for (size_t size = 0; size <= (size_t)full + 1; size++) {
                char *buf = malloc(size ? size : 1);
                cr_assert_not_null(buf);
                int r = gd_audit_format(&rec, buf, size);
                if (r >= 0) {
                        if (shortest < 0) {
                                shortest = r;
                                snprintf(first, sizeof(first), "%s", buf);
                        }
                        cr_assert_lt((size_t)r, size);
                        cr_assert_eq((size_t)r, strlen(buf));
                        cr_assert(json_line(buf, NULL, NULL, NULL), "size %zu: %s", size, buf);
                } else {
                        cr_assert_eq(r, -ENOBUFS);
                        cr_assert_lt(shortest, 0, "size %zu failed after a smaller one fit", size);
                }
                if (size == (size_t)full + 1) {
                        cr_assert_eq(r, full);
                        cr_assert_str_eq(buf, big);
                }
                free(buf);
        }
        /* Fails only below the record with all three strings cut to "...". */
        assert_value(first, "cmdline", "\"...\"");
        assert_value(first, "reason", "\"...\"");
        assert_value(first, "cgroup", "\"...\"");
        assert_value(first, "truncated", "\"cmdline,reason,cgroup\"");
        assert_value(big, "truncated", "null");
}

/* Every kill gets its record: a cgroup path too long for the line (4 KiB
 * of names, control bytes escaped six-fold) is cut and marked, and a short
 * command line and reason are not sacrificed for it. */
Test(audit, a_long_cgroup_is_cut_and_marked) {
        gd_audit_record rec = full_record();
        char buf[GD_AUDIT_RECORD_MAX];
        char cg[4096];

        for (size_t i = 0; i < sizeof(cg) - 1; i++)
                cg[i] = i % 250 == 0 ? '/' : (char)(1 + i % 31); /* control bytes: \u00XX */
        cg[sizeof(cg) - 1] = '\0';
        rec.cgroup = cg;
        int r = gd_audit_format(&rec, buf, sizeof(buf));
        cr_assert_gt(r, 0);
        cr_assert(json_line(buf, NULL, NULL, NULL), "%s", buf);
        assert_value(buf, "truncated", "\"cgroup\"");
        assert_value(buf, "cmdline", "\"java -Xmx4g -jar app.jar\"");
        char *v = json_value(buf, "cgroup");
        cr_assert_gt(strlen(v), 4000, "the cgroup gets the room that is left");
        cr_assert_str_eq(v + strlen(v) - 4, "...\"");
        free(v);

        /* Even a comm and a workload name are no reason to lose the record. */
        rec.cmdline = cg;
        rec.reason = cg;
        r = gd_audit_format(&rec, buf, sizeof(buf));
        cr_assert_gt(r, 0);
        assert_value(buf, "truncated", "\"cmdline,reason,cgroup\"");
}

/* ---- the file ---- */

static char *dir;

static void dir_setup(void) {
        dir = fx_tmpdir();
}

static void dir_teardown(void) {
        if (dir)
                fx_rmtree(dir);
        free(dir);
}

TestSuite(audit_file, .init = dir_setup, .fini = dir_teardown);

Test(audit_file, creates_dir_and_file_and_appends) {
        char *path = fx_path(dir, "guardian/audit.log");
        char *sub = fx_path(dir, "guardian");
        gd_audit *a = NULL;
        gd_audit_record rec = full_record();
        struct stat st;

        cr_assert_eq(gd_audit_open(path, &a), 0);
        cr_assert_not_null(a);
        cr_assert_eq(stat(sub, &st), 0);
        cr_assert(S_ISDIR(st.st_mode));
        cr_assert_eq(st.st_mode & 07777, 0700, "dir mode %o", st.st_mode & 07777);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert(S_ISREG(st.st_mode));
        cr_assert_eq(st.st_mode & 07777, 0600, "file mode %o", st.st_mode & 07777);

        cr_assert_eq(gd_audit_write(a, &rec), 0);
        rec.pid = 4343;
        rec.result = GD_RESULT_TIMEOUT;
        cr_assert_eq(gd_audit_write(a, &rec), 0);
        gd_audit_close(a);

        /* Reopened: appends, never truncates. */
        cr_assert_eq(gd_audit_open(path, &a), 0);
        rec.pid = 0;
        cr_assert_eq(gd_audit_write(a, &rec), 0);
        gd_audit_close(a);

        size_t len;
        char *got = fx_read(dir, "guardian/audit.log", &len);
        char *l2 = strchr(got, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
        cr_assert(strncmp(got, full_line, strlen(full_line)) == 0);
        cr_assert(strstr(l2, "\"pid\":4343,") && strstr(l2, "\"result\":\"timeout\""));
        cr_assert(strstr(l3, "\"pid\":null,"));
        cr_assert_eq(strchr(l3, '\n') + 1, got + len, "exactly three lines");
        free(got);
        free(sub);
        free(path);
}

Test(audit_file, existing_dir_is_kept) {
        char *path = fx_path(dir, "audit.log");
        gd_audit *a = NULL;
        struct stat st;

        cr_assert_eq(chmod(dir, 0755), 0);
        cr_assert_eq(gd_audit_open(path, &a), 0);
        gd_audit_close(a);
        cr_assert_eq(stat(dir, &st), 0);
        cr_assert_eq(st.st_mode & 07777, 0755);
        free(path);
}

Test(audit_file, refuses_symlink) {
        char *path = fx_path(dir, "audit.log");
        char *target = fx_path(dir, "target");
        gd_audit *a = (gd_audit *)0x1;

        fx_write(dir, "target", "precious\n");
        cr_assert_eq(chmod(target, 0600), 0);
        cr_assert_eq(symlink(target, path), 0);
        cr_assert_eq(gd_audit_open(path, &a), -ELOOP);
        cr_assert_eq(a, (gd_audit *)0x1, "ret_audit touched on failure");
        char *got = fx_read(dir, "target", NULL);
        cr_assert_str_eq(got, "precious\n");
        free(got);
        /* A dangling one must not create its target either. */
        cr_assert_eq(unlink(path), 0);
        char *nowhere = fx_path(dir, "nowhere");
        cr_assert_eq(symlink(nowhere, path), 0);
        cr_assert_eq(gd_audit_open(path, &a), -ELOOP);
        cr_assert_eq(access(nowhere, F_OK), -1);
        free(nowhere);
        free(target);
        free(path);
}

Test(audit_file, refuses_directory) {
        char *path = fx_path(dir, "audit.log");
        gd_audit *a = NULL;

        fx_mkdir(dir, "audit.log");
        cr_assert_eq(gd_audit_open(path, &a), -EINVAL);
        free(path);
}

Test(audit_file, refuses_fifo_without_blocking) {
        char *path = fx_path(dir, "audit.log");
        gd_audit *a = NULL;

        cr_assert_eq(mkfifo(path, 0600), 0);
        cr_assert_eq(gd_audit_open(path, &a), -EINVAL);
        free(path);
}

Test(audit_file, refuses_group_or_world_writable) {
        char *path = fx_path(dir, "audit.log");
        gd_audit *a = NULL;

        fx_write(dir, "audit.log", "");
        cr_assert_eq(chmod(path, 0620), 0);
        cr_assert_eq(gd_audit_open(path, &a), -EPERM);
        cr_assert_eq(chmod(path, 0602), 0);
        cr_assert_eq(gd_audit_open(path, &a), -EPERM);
        /* Readable by the group is the operator's choice. */
        cr_assert_eq(chmod(path, 0640), 0);
        cr_assert_eq(gd_audit_open(path, &a), 0);
        gd_audit_close(a);
        free(path);
}

Test(audit_file, refuses_someone_elses_file) {
        char *path = fx_path(dir, "audit.log");
        gd_audit *a = NULL;

        if (geteuid() != 0)
                cr_skip_test("needs root to chown");
        fx_write(dir, "audit.log", "");
        cr_assert_eq(chmod(path, 0600), 0);
        cr_assert_eq(chown(path, 65534, 65534), 0);
        cr_assert_eq(gd_audit_open(path, &a), -EPERM);
        free(path);
}

Test(audit_file, bad_arguments) {
        gd_audit *a = NULL;
        gd_audit_record rec = full_record();

        cr_assert_eq(gd_audit_open("", &a), -EINVAL);
        cr_assert_eq(gd_audit_open(NULL, &a), -EINVAL);
        cr_assert_eq(gd_audit_write(NULL, &rec), -EINVAL);
        gd_audit_close(NULL);
}

/* The file size limit makes the kernel write only part of a record: the
 * record is not continued (its rest would land apart from it), the part
 * written is cut off again, and the caller hears of it. */
Test(audit_file, short_write_is_reported_and_undone) {
        char *path = fx_path(dir, "audit.log");
        gd_audit *a = NULL;
        gd_audit_record rec = full_record();
        struct rlimit rl = {.rlim_cur = 100, .rlim_max = RLIM_INFINITY};

        cr_assert_eq(gd_audit_open(path, &a), 0);
        cr_assert_neq(signal(SIGXFSZ, SIG_IGN), SIG_ERR);
        cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
        rl.rlim_cur = 100;
        cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
        cr_assert_eq(gd_audit_write(a, &rec), -ENOSPC);
        struct stat st;
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_size, 0, "no broken line left behind");
        gd_audit_close(a);
        free(path);
}

/* A full disk (here: a file size limit, which makes write() short the same
 * way): the broken line is cut off again and the next record starts a
 * line of its own; every line in the file is one whole record. */
Test(audit_file, a_short_write_leaves_no_broken_line) {
        char *path = fx_path(dir, "audit.log");
        gd_audit *a = NULL;
        gd_audit_record rec = full_record();
        char line[GD_AUDIT_RECORD_MAX];
        int len = gd_audit_format(&rec, line, sizeof(line));

        cr_assert_gt(len, 0);
        signal(SIGXFSZ, SIG_IGN);
        cr_assert_eq(gd_audit_open(path, &a), 0);
        /* Room for one record and half of the next. */
        struct rlimit rl = {.rlim_cur = (rlim_t)len + (rlim_t)len / 2, .rlim_max = RLIM_INFINITY};
        cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
        cr_assert_eq(gd_audit_write(a, &rec), 0);
        cr_assert_lt(gd_audit_write(a, &rec), 0, "the second record does not fit");
        struct stat st;
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(st.st_size, len, "the half-written line is gone");
        /* Room again (the disk was cleaned up): the next record is whole. */
        rl.rlim_cur = RLIM_INFINITY;
        cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
        rec.pid = 4343;
        cr_assert_eq(gd_audit_write(a, &rec), 0);
        gd_audit_close(a);

        size_t n;
        char *all = fx_read(dir, "audit.log", &n);
        cr_assert_not_null(all);
        size_t lines = 0;
        for (char *p = all, *nl; (nl = memchr(p, '\n', n - (size_t)(p - all))); p = nl + 1) {
                char one[GD_AUDIT_RECORD_MAX];
                size_t l = (size_t)(nl + 1 - p);
                cr_assert_lt(l, sizeof(one));
                memcpy(one, p, l);
                one[l] = '\0';
                cr_assert(json_line(one, NULL, NULL, NULL), "line %zu: %s", lines, one);
                lines++;
        }
        cr_assert_eq(lines, 2);
        free(all);
        free(path);
}

/* The container the cgroup is: every name, null where unknown; a name
 * longer than its share is cut and "truncated" says "container". */
Test(audit, format_container) {
        gd_audit_record rec = full_record();
        gd_container_names c = {.runtime = POL_RUNTIME_DOCKER};
        char buf[GD_AUDIT_RECORD_MAX];

        strcpy(c.id, "3f2a9c1b7d4e");
        strcpy(c.name, "etl-1\n\"x");
        strcpy(c.image, "etl:latest");
        rec.container = &c;
        cr_assert_gt(gd_audit_format(&rec, buf, sizeof(buf)), 0);
        cr_expect(strstr(buf, "\"container\":{\"runtime\":\"docker\",\"id\":\"3f2a9c1b7d4e\","
                              "\"name\":\"etl-1\\n\\\"x\",\"image\":\"etl:latest\",\"namespace\":null,"
                              "\"pod\":null,\"container\":null},\"workload\":") != NULL, "%s", buf);
        cr_expect(strstr(buf, "\"truncated\":null") != NULL, "%s", buf);
        cr_assert(json_line(buf, NULL, NULL, NULL));

        /* Not a container's cgroup: null, as when none is given. */
        c.runtime = POL_RUNTIME_ANY;
        cr_assert_gt(gd_audit_format(&rec, buf, sizeof(buf)), 0);
        cr_expect(strstr(buf, "\"container\":null,") != NULL, "%s", buf);

        /* A long hostile image: cut to its share, the record still whole. */
        c.runtime = POL_RUNTIME_PODMAN;
        memset(c.image, '\x01', sizeof(c.image) - 1);
        c.image[sizeof(c.image) - 1] = '\0';
        memset(c.k8s_namespace, 'n', sizeof(c.k8s_namespace) - 1);
        int r = gd_audit_format(&rec, buf, sizeof(buf));
        cr_assert_gt(r, 0);
        cr_assert(json_line(buf, NULL, NULL, NULL));
        cr_expect(strstr(buf, "\"truncated\":\"container\"") != NULL, "%s", buf);
        cr_expect(strstr(buf, "\"cmdline\":\"java -Xmx4g -jar app.jar\"") != NULL,
                  "the process survives the container's names");
}
