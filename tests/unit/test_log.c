/* Log lines: messages with typed fields in text, logfmt and JSON, quoting
 * of hostile values, cutting long lines, level and format names, the UTC
 * clock text. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/format.h"
#include "util/log.h"

/* 2026-11-26T03:23:26.123Z */
#define T0 1795663406123LL
#define N(a) (sizeof(a) / sizeof((a)[0]))

static char line_buf[GD_LOG_LINE_MAX];

/* The line for msg and fields in format, into line_buf. */
static const char *fmt_line(gd_log_format format, gd_log_level level, const char *msg,
                            const gd_log_field *fields, size_t n) {
        int r = gd_log_format_line(format, level, T0, msg, fields, n, line_buf, sizeof(line_buf));
        cr_assert_eq(r, (int)strlen(line_buf), "%d for '%s'", r, line_buf);
        return line_buf;
}

/* A quoted literal at p (JSON's escapes): returns the byte after it, or
 * NULL when it does not close. */
static const char *skip_literal(const char *p) {
        if (*p++ != '"')
                return NULL;
        for (; *p && *p != '"'; p++)
                if (*p == '\\' && !*++p)
                        return NULL;
        return *p == '"' ? p + 1 : NULL;
}

/* The keys of a logfmt line, as a reader splits it, comma-joined into
 * keys; -1 when it does not parse. */
static int logfmt_keys(const char *line, char *keys, size_t size) {
        int n = 0;
        keys[0] = '\0';
        for (const char *p = line; *p && *p != '\n';) {
                size_t k = strcspn(p, "= \n\"");
                if (k == 0 || p[k] != '=')
                        return -1;
                snprintf(keys + strlen(keys), size - strlen(keys), "%s%.*s", n ? "," : "", (int)k, p);
                n++;
                p += k + 1;
                if (*p == '"') {
                        p = skip_literal(p);
                        if (!p)
                                return -1;
                } else {
                        p += strcspn(p, " \n\"=");
                        if (*p == '"' || *p == '=')
                                return -1;
                }
                if (*p == ' ')
                        p++;
        }
        return n;
}

/* The same for a flat JSON object of strings (and a true, and nulls). */
static int json_keys(const char *line, char *keys, size_t size) {
        int n = 0;
        const char *p = line;
        keys[0] = '\0';
        if (*p++ != '{')
                return -1;
        while (*p == '"') {
                const char *k = p + 1, *end = skip_literal(p);
                if (!end || *end != ':')
                        return -1;
                snprintf(keys + strlen(keys), size - strlen(keys), "%s%.*s", n ? "," : "",
                         (int)(end - 1 - k), k);
                n++;
                p = end + 1;
                if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
                        p += 4;
                else if (!(p = skip_literal(p)))
                        return -1;
                if (*p == ',')
                        p++;
        }
        return strcmp(p, "}\n") == 0 ? n : -1;
}

/* One line: one newline, at the end, and no other control byte. */
static void assert_one_line(const char *line) {
        size_t len = strlen(line);
        cr_assert_gt(len, 0);
        cr_assert_eq(line[len - 1], '\n', "%s", line);
        for (size_t i = 0; i + 1 < len; i++)
                cr_assert(!((unsigned char)line[i] < ' ' || line[i] == 0x7f),
                          "control byte 0x%02x at %zu: %s", (unsigned char)line[i], i, line);
}

/* A kill line: the message is the event, the fields follow it. */
static const gd_log_field kill_fields[] = {
        GD_STR("cgroup", "a/b"), GD_INT("pid", 7), GD_STR("reason", "memory \"high\" 90%"),
        GD_DBL("value", 0.9), GD_UINT("pages", 18446744073709551615ULL), GD_INT("adj", -1000),
};

Test(log, text_is_the_message_then_its_fields) {
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_WARNING, "killed", kill_fields,
                                  N(kill_fields)),
                         "guardian: warning: killed cgroup=a/b pid=7 reason=\"memory \\\"high\\\" "
                         "90%\" value=0.900 pages=18446744073709551615 adj=-1000\n");
}

/* Messages without fields: the level's prefix in text, msg in logfmt. */
Test(log, plain_messages) {
        static const struct {
                gd_log_format format;
                gd_log_level level;
                const char *msg, *line;
        } cases[] = {
                {GD_LOG_FORMAT_TEXT, GD_LOG_INFO, "i", "guardian: i\n"},
                {GD_LOG_FORMAT_TEXT, GD_LOG_ERR, "e", "guardian: error: e\n"},
                {GD_LOG_FORMAT_TEXT, GD_LOG_NOTICE, "n", "guardian: note: n\n"},
                {GD_LOG_FORMAT_TEXT, GD_LOG_DEBUG, "d", "guardian: debug: d\n"},
                {GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO, "word",
                 "time=2026-11-26T03:23:26.123Z level=info msg=word\n"},
                {GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO, "",
                 "time=2026-11-26T03:23:26.123Z level=info msg=\"\"\n"},
        };
        for (size_t i = 0; i < N(cases); i++)
                cr_assert_str_eq(fmt_line(cases[i].format, cases[i].level, cases[i].msg, NULL, 0),
                                 cases[i].line);
}

Test(log, logfmt_and_json_make_every_field_a_string) {
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_LOGFMT, GD_LOG_WARNING, "would kill", kill_fields,
                                  N(kill_fields)),
                         "time=2026-11-26T03:23:26.123Z level=warning msg=\"would kill\" cgroup=a/b "
                         "pid=7 reason=\"memory \\\"high\\\" 90%\" value=0.900 "
                         "pages=18446744073709551615 adj=-1000\n");
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_WARNING, "killed", kill_fields,
                                  N(kill_fields)),
                         "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"warning\",\"msg\":"
                         "\"killed\",\"cgroup\":\"a/b\",\"pid\":\"7\",\"reason\":\"memory "
                         "\\\"high\\\" 90%\",\"value\":\"0.900\",\"pages\":"
                         "\"18446744073709551615\",\"adj\":\"-1000\"}\n");
}

/* A {key} puts the value in the sentence; text then does not repeat it,
 * logfmt and JSON keep it as a field too. */
Test(log, placeholders_put_values_in_the_sentence) {
        const gd_log_field f[] = {GD_STR("dir", "/run/g"), GD_ERRNO(EACCES), GD_INT("n", 3)};
        const char *msg = "cannot create {dir} for the control socket: {error}";

        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_ERR, msg, f, N(f)),
                         "guardian: error: cannot create /run/g for the control socket: "
                         "Permission denied n=3\n");
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_ERR, msg, f, N(f)),
                         "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"error\",\"msg\":"
                         "\"cannot create /run/g for the control socket: Permission denied\","
                         "\"dir\":\"/run/g\",\"error\":\"Permission denied\",\"n\":\"3\"}\n");
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_LOGFMT, GD_LOG_ERR, msg, f, N(f)),
                         "time=2026-11-26T03:23:26.123Z level=error msg=\"cannot create /run/g for "
                         "the control socket: Permission denied\" dir=/run/g error=\"Permission "
                         "denied\" n=3\n");
        /* After "key=" the value reads as a pair and is quoted as one. */
        const gd_log_field g[] = {GD_STR("cgroup", "a b"), GD_INT("pid", 7)};
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO,
                                  "cgroup={cgroup}: pid={pid} in {cgroup}", g, N(g)),
                         "guardian: cgroup=\"a b\": pid=7 in a b\n");
        /* Not a field: left as written. */
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, "{nope} {pid {} {", g, N(g)),
                         "guardian: {nope} {pid {} { cgroup=\"a b\" pid=7\n");
        /* The message's own control bytes do not break the line. */
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, "a\nb\x1b", NULL, 0),
                         "guardian: a?b?\n");
}

/* Keys come from the code; one that would clash with the line's own or an
 * earlier one, or that a reader could not split, is left out. */
Test(log, bad_and_repeated_keys_are_left_out) {
        const gd_log_field f[] = {GD_STR("msg", "x"),  GD_STR("time", "x"), GD_STR("level", "x"),
                                  GD_STR("truncated", "x"), GD_STR("a b", "x"), GD_STR("1a", "x"),
                                  GD_STR("k", "1"),    GD_STR("k", "2"),    GD_STR("", "x"),
                                  GD_STR("ok.x-y_z", NULL)};
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, "m", f, N(f)),
                         "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"info\",\"msg\":"
                         "\"m\",\"k\":\"1\",\"ok.x-y_z\":\"\"}\n");
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, "m", f, N(f)),
                         "guardian: m k=1 ok.x-y_z=\"\"\n");
}

/* Values from outside (cgroup names, comm, command lines) in each format,
 * as a field and in the sentence: each stays one value of one line. */
static const char *const hostile[] = {
        "a\"b",                     /* a quote */
        "back\\slash",             /* a backslash */
        "a\nguardian: error: x",    /* a newline and a forged line */
        "\x1b[31mred\x1b[0m",      /* ESC */
        "caf\xc3\xa9 \xff\xc3 x", /* valid and invalid UTF-8 */
        "x pid=1",                  /* '=' and a space: a forged pair */
        "\" pid=\"1",              /* a closing quote, then a pair */
        "\",\"pid\":\"1",        /* a JSON field */
        "}\n{\"a\":\"b",          /* a JSON line */
        "a b",                      /* spaces */
        "",                         /* empty */
        "\x7f\x01\t\r",          /* DEL and other control bytes */
};

Test(log, hostile_values_cannot_forge_keys_or_lines) {
        char keys[512];
        for (size_t i = 0; i < N(hostile); i++) {
                const gd_log_field f[] = {GD_STR("cgroup", hostile[i]), GD_INT("pid", 7),
                                          GD_STR("comm", hostile[i])};
                const char *msg = "killed {cgroup} cgroup={cgroup} for pid {pid}";

                const char *l = fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, msg, f, N(f));
                assert_one_line(l);
                cr_assert_eq(json_keys(l, keys, sizeof(keys)), 6, "%s", l);
                cr_assert_str_eq(keys, "time,level,msg,cgroup,pid,comm", "%s", l);

                l = fmt_line(GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO, msg, f, N(f));
                assert_one_line(l);
                cr_assert_eq(logfmt_keys(l, keys, sizeof(keys)), 6, "%s", l);
                cr_assert_str_eq(keys, "time,level,msg,cgroup,pid,comm", "%s", l);

                /* Text: after the message, " comm=" and the value, which
                 * logfmt's reader takes as exactly one pair. */
                l = fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, msg, f, N(f));
                assert_one_line(l);
                const char *tail = strstr(l, " comm=");
                cr_assert(tail, "%s", l);
                cr_assert_eq(logfmt_keys(tail + 1, keys, sizeof(keys)), 1, "%s", l);
        }
}

Test(log, hostile_values_are_escaped_the_same_way_everywhere) {
        const gd_log_field f[] = {GD_STR("v", "q\"\\\n\x1b\xff=x y")};

        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, "m {v}", f, N(f)),
                         "guardian: m \"q\\\"\\\\\\n\\u001b\\u00ff=x y\"\n");
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, "m", f, N(f)),
                         "guardian: m v=\"q\\\"\\\\\\n\\u001b\\u00ff=x y\"\n");
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO, "m", f, N(f)),
                         "time=2026-11-26T03:23:26.123Z level=info msg=m "
                         "v=\"q\\\"\\\\\\n\\u001b\\u00ff=x y\"\n");
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, "m", f, N(f)),
                         "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"info\",\"msg\":"
                         "\"m\",\"v\":\"q\\\"\\\\\\n\\u001b\\u00ff=x y\"}\n");
        /* In logfmt's msg the sentence's quoted value is quoted once more. */
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO, "m {v}", f, N(f)),
                         "time=2026-11-26T03:23:26.123Z level=info msg=\"m \\\"q\\\\\\\"\\\\\\\\\\\\n\\\\u001b\\\\u00ff=x y\\\"\""
                         " v=\"q\\\"\\\\\\n\\u001b\\u00ff=x y\"\n");
        /* Plain UTF-8 stays bare in a sentence, quoted as a logfmt value. */
        const gd_log_field u[] = {GD_STR("v", "caf\xc3\xa9")};
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, "m {v}", u, N(u)),
                         "guardian: m caf\xc3\xa9\n");
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, "m", u, N(u)),
                         "guardian: m v=\"caf\xc3\xa9\"\n");
}

/* Every cut keeps the line whole: newline-terminated, within the size,
 * marked, and (for JSON) closed after the last complete escape. */
Test(log, cut_json_between_escapes) {
        char v[600], buf[160];
        memset(v, '"', sizeof(v) - 1); /* each becomes \" */
        v[sizeof(v) - 1] = '\0';
        const gd_log_field f[] = {GD_STR("v", v)};
        int r = gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, "x", f, 1, buf,
                                   sizeof(buf));
        cr_assert_gt(r, 0);
        cr_assert_lt((size_t)r, sizeof(buf));
        cr_assert_eq((size_t)r, strlen(buf));
        const char *tail = ",\"truncated\":true}\n";
        cr_assert_str_eq(buf + r - strlen(tail), tail, "%s", buf);
        /* The value: an even run of \" pairs, then the closing quote. */
        const char *s = strstr(buf, "\"v\":\"") + 5;
        size_t n = strspn(s, "\\\"");
        cr_assert_eq(s[n], ',', "%s", buf);
        cr_assert_eq((n - 1) % 2, 0, "a cut inside an escape: %s", buf);
        char keys[256];
        cr_assert_eq(json_keys(buf, keys, sizeof(keys)), 5, "%s", buf);
}

Test(log, cut_json_drops_a_field_that_does_not_fit) {
        char v[400], buf[140];
        memset(v, 'z', sizeof(v) - 1);
        v[sizeof(v) - 1] = '\0';
        const gd_log_field f[] = {GD_STR("a", "1"), GD_STR("b", "2"), GD_STR("c", v)};
        int r = gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, "x", f, N(f), buf,
                                   sizeof(buf));
        cr_assert_eq(r, (int)strlen(buf));
        const char *head = "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"info\","
                           "\"msg\":\"x\",\"a\":\"1\",\"b\":\"2\",\"c\":\"zzz";
        cr_assert_eq(strncmp(buf, head, strlen(head)), 0, "%s", buf);
        cr_assert_str_eq(buf + r - 22, "zz\",\"truncated\":true}\n", "%s", buf);
}

Test(log, cut_logfmt_and_text) {
        char v[1000], buf[200];
        memset(v, 'a', sizeof(v) - 1);
        v[sizeof(v) - 1] = '\0';
        const gd_log_field f[] = {GD_STR("v", v)};
        int r = gd_log_format_line(GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO, T0, "m", f, 1, buf,
                                   sizeof(buf));
        cr_assert_eq(r, (int)strlen(buf));
        cr_assert_lt((size_t)r, sizeof(buf));
        cr_assert(strstr(buf, "msg=m v=aaaa"));
        cr_assert_str_eq(buf + r - 16, " truncated=true\n", "%s", buf);

        r = gd_log_format_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, T0, "{v}", f, 1, buf, sizeof(buf));
        cr_assert_eq(r, (int)strlen(buf));
        cr_assert_lt((size_t)r, sizeof(buf));
        cr_assert_eq(strncmp(buf, "guardian: aaaa", 14), 0);
        cr_assert_str_eq(buf + r - 13, " [truncated]\n", "%s", buf);
}

/* The sentence is cut at GD_LOG_MSG_MAX, and the line says so. */
Test(log, a_long_sentence_is_cut_and_marked) {
        static char v[GD_LOG_MSG_MAX * 2];
        memset(v, 'm', sizeof(v) - 1);
        const gd_log_field f[] = {GD_STR("v", v)};
        const char *l = fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, "{v}", f, 1);
        cr_assert_lt(strlen(l), (size_t)GD_LOG_MSG_MAX + 32);
        cr_assert_str_eq(l + strlen(l) - 13, " [truncated]\n");
        l = fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, "{v}", f, 1);
        cr_assert_lt(strlen(l), (size_t)GD_LOG_LINE_MAX);
        cr_assert_str_eq(l + strlen(l) - 19, ",\"truncated\":true}\n");
}

Test(log, too_small_a_buffer) {
        char buf[64] = "junk";
        cr_assert_eq(gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, "x", NULL, 0, buf,
                                        sizeof(buf)),
                     -ENOBUFS);
        cr_assert_str_eq(buf, "");
}

Test(log, the_longest_plain_message_fits_the_line) {
        static char msg[GD_LOG_MSG_MAX];
        memset(msg, 'm', sizeof(msg) - 1);
        const char *l = fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, msg, NULL, 0);
        cr_assert_null(strstr(l, "truncated"));
        cr_assert_eq(l[strlen(l) - 2], '}');
}

/* Many fields: the line stays within GD_LOG_LINE_MAX, valid and marked. */
Test(log, many_long_fields_stay_one_line) {
        static char v[GD_LOG_MSG_MAX];
        memset(v, '\n', sizeof(v) - 1); /* each becomes \n */
        gd_log_field f[40];
        static char names[40][8];
        for (size_t i = 0; i < N(f); i++) {
                snprintf(names[i], sizeof(names[i]), "k%zu", i);
                f[i] = GD_STR("", v);
                f[i].key = (const gd_log_key *)names[i];
        }
        for (int format = GD_LOG_FORMAT_TEXT; format <= GD_LOG_FORMAT_JSON; format++) {
                const char *l = fmt_line((gd_log_format)format, GD_LOG_INFO, "m {k0}", f, N(f));
                assert_one_line(l);
                cr_assert_lt(strlen(l), (size_t)GD_LOG_LINE_MAX);
                cr_assert(strstr(l, "truncated"), "%s", l);
        }
        char keys[512];
        cr_assert_gt(json_keys(fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, "m", f, N(f)), keys,
                               sizeof(keys)),
                     3);
}

Test(log, level_and_format_names) {
        gd_log_level l = GD_LOG_INFO;
        gd_log_format f = GD_LOG_FORMAT_TEXT;

        cr_assert_eq(gd_log_level_from_name("err", &l), 0);
        cr_assert_eq(l, GD_LOG_ERR);
        cr_assert_eq(gd_log_level_from_name("warning", &l), 0);
        cr_assert_eq(l, GD_LOG_WARNING);
        cr_assert_eq(gd_log_level_from_name("warn", &l), 0);
        cr_assert_eq(gd_log_level_from_name("notice", &l), 0);
        cr_assert_eq(l, GD_LOG_NOTICE);
        cr_assert_eq(gd_log_level_from_name("debug", &l), 0);
        cr_assert_eq(l, GD_LOG_DEBUG);
        cr_assert_eq(gd_log_level_from_name("loud", &l), -EINVAL);
        cr_assert_eq(gd_log_level_from_name("INFO", &l), -EINVAL);
        cr_assert_eq(l, GD_LOG_DEBUG, "untouched on failure");
        cr_assert_eq(gd_log_format_from_name("json", &f), 0);
        cr_assert_eq(f, GD_LOG_FORMAT_JSON);
        cr_assert_eq(gd_log_format_from_name("logfmt", &f), 0);
        cr_assert_eq(f, GD_LOG_FORMAT_LOGFMT);
        cr_assert_eq(gd_log_format_from_name("text", &f), 0);
        cr_assert_eq(f, GD_LOG_FORMAT_TEXT);
        cr_assert_eq(gd_log_format_from_name("xml", &f), -EINVAL);
        cr_assert_str_eq(gd_log_level_name(GD_LOG_ERR), "error");
        cr_assert_str_eq(gd_log_level_name(GD_LOG_DEBUG), "debug");
}

/* gd_log itself: the level filter and the format, on a captured stderr,
 * one write(2) a line. */
Test(log, levels_filter_and_format) {
        char path[] = "/tmp/gd-log-test-XXXXXX";
        int fd = mkstemp(path);
        cr_assert_geq(fd, 0);
        unlink(path);
        int saved = dup(STDERR_FILENO);
        dup2(fd, STDERR_FILENO);

        gd_log_set_format(GD_LOG_FORMAT_LOGFMT);
        gd_log_set_level(GD_LOG_WARNING);
        errno = EAGAIN;
        gd_log(GD_LOG_INFO, "dropped");
        gd_log(GD_LOG_WARNING, "kept", GD_INT("n", 1));
        gd_log(GD_LOG_ERR, "kept {what}", GD_STR("what", "too"));
        int errno_after = errno;
        gd_log_set_level(GD_LOG_INFO);
        gd_log_set_format(GD_LOG_FORMAT_TEXT);
        gd_log(GD_LOG_INFO, "text {cgroup}", GD_STR("cgroup", "a\nb"), GD_UINT("n", 2));

        dup2(saved, STDERR_FILENO);
        close(saved);
        char out[1024] = "";
        ssize_t n = pread(fd, out, sizeof(out) - 1, 0);
        close(fd);
        cr_assert_gt(n, 0);
        out[n] = '\0';
        cr_assert_eq(errno_after, EAGAIN, "gd_log keeps errno");
        cr_assert_null(strstr(out, "dropped"));
        cr_assert(strstr(out, " level=warning msg=kept n=1\n"), "%s", out);
        cr_assert(strstr(out, " level=error msg=\"kept too\" what=too\n"), "%s", out);
        cr_assert(strstr(out, "\nguardian: text \"a\\nb\" n=2\n"), "%s", out);
        cr_assert_eq(strncmp(out, "time=", 5), 0, "%s", out);
}

struct time_case {
        long long ms;
        char text[32]; /* "" for -ERANGE */
};

ParameterizedTestParameters(log, time_utc) {
        static struct time_case cases[] = {
                {0, "1970-01-01T00:00:00.000Z"},
                {T0, "2026-11-26T03:23:26.123Z"},
                {-1, "1969-12-31T23:59:59.999Z"},
                {951782400000LL, "2000-02-29T00:00:00.000Z"},  /* leap day of a century */
                {4107542400000LL, "2100-03-01T00:00:00.000Z"}, /* 2100 is not leap */
                {253402300799999LL, "9999-12-31T23:59:59.999Z"},
                {-62167219200000LL, "0000-01-01T00:00:00.000Z"},
                {253402300800000LL, ""},
                {-62167219200001LL, ""},
        };
        return cr_make_param_array(struct time_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct time_case *c, log, time_utc) {
        char buf[GD_TIME_UTC_MAX] = "untouched";
        int r = gd_format_time_utc(c->ms, buf);
        if (!c->text[0]) {
                cr_assert_eq(r, -ERANGE);
                cr_assert_str_eq(buf, "untouched");
        } else {
                cr_assert_eq(r, 0);
                cr_assert_str_eq(buf, c->text);
        }
}

/* ---- the JSON line, through the JSON writer (util/json.h) ---- */

/* Every value type: numbers as strings as before, a NULL string as "",
 * an errno as its text; a double JSON has no form for (NaN, an infinity)
 * is null, while text and logfmt keep printf's word and the sentence its
 * text. */
Test(log, json_every_value_type) {
        const gd_log_field f[] = {
                GD_STR("s", "x"),
                GD_STR("none", NULL),
                GD_INT("i", -7),
                GD_INT("imin", LLONG_MIN),
                GD_UINT("u", ULLONG_MAX),
                GD_DBL("d", -1.5),
                GD_DBL("nan", NAN),
                GD_DBL("inf", INFINITY),
                GD_DBL("ninf", -INFINITY),
                GD_ERRNO(ENOENT),
        };
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_NOTICE, "m {nan} {i}", f, N(f)),
                         "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"notice\",\"msg\":"
                         "\"m nan -7\",\"s\":\"x\",\"none\":\"\",\"i\":\"-7\",\"imin\":"
                         "\"-9223372036854775808\",\"u\":\"18446744073709551615\",\"d\":"
                         "\"-1.500\",\"nan\":null,\"inf\":null,\"ninf\":null,\"error\":"
                         "\"No such file or directory\"}\n");
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_LOGFMT, GD_LOG_NOTICE, "m", f + 5, 4),
                         "time=2026-11-26T03:23:26.123Z level=notice msg=m d=-1.500 nan=nan "
                         "inf=inf ninf=-inf\n");
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_TEXT, GD_LOG_NOTICE, "m {inf}", f + 5, 4),
                         "guardian: note: m inf d=-1.500 nan=nan ninf=-inf\n");
}

/* Hostile values as a JSON field and in msg: the escapes of the JSON
 * writer (the audit line's), one value each. */
Test(log, json_hostile_values_escaped_as_the_writer_does) {
        const gd_log_field f[] = {
                GD_STR("quote", "a\"b"),        GD_STR("back", "c\\d"),
                GD_STR("ctl", "\x01\x1f\x7f\r"), GD_STR("nl", "x\ny\tz"),
                GD_STR("utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                GD_STR("bad", "\xff\xc3(\xe2\x82 \xed\xa0\x80 \xc0\xaf"),
        };
        cr_assert_str_eq(fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, "m {quote}", f, N(f)),
                         "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"info\",\"msg\":"
                         "\"m \\\"a\\\\\\\"b\\\"\",\"quote\":\"a\\\"b\",\"back\":\"c\\\\d\","
                         "\"ctl\":\"\\u0001\\u001f\\u007f\\u000d\",\"nl\":\"x\\ny\\tz\","
                         "\"utf8\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"bad\":"
                         "\"\\u00ff\\u00c3(\\u00e2\\u0082 \\u00ed\\u00a0\\u0080 \\u00c0\\u00af\"}\n");
        char keys[512];
        for (size_t i = 0; i < N(hostile); i++) {
                const gd_log_field g[] = {GD_STR("v", hostile[i]), GD_DBL("x", NAN)};
                const char *l = fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, "{v}", g, N(g));
                assert_one_line(l);
                cr_assert_eq(json_keys(l, keys, sizeof(keys)), 5, "%s", l);
                cr_assert_str_eq(keys, "time,level,msg,v,x", "%s", l);
        }
}

/* A value made of one unit over and over, cut at every line size from the
 * smallest: the value is whole units (never half an escape or half a UTF-8
 * sequence), the line is within size, valid, and ends "truncated":true. */
Test(log, json_cut_at_every_size_between_units) {
        static const struct {
                const char *in, *unit;
        } units[] = {
                {"\"", "\\\""},         {"\\", "\\\\"},          {"\n", "\\n"},
                {"\x01", "\\u0001"},   {"\xff", "\\u00ff"},     {"\xc3\xa9", "\xc3\xa9"},
                {"\xe2\x82\xac", "\xe2\x82\xac"}, {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
        };
        static char v[GD_LOG_LINE_MAX + 1];
        static char buf[GD_LOG_LINE_MAX];
        const char *tail = ",\"truncated\":true}\n";

        for (size_t u = 0; u < N(units); u++) {
                size_t in_len = strlen(units[u].in), unit_len = strlen(units[u].unit);
                size_t reps = (sizeof(v) - 1) / in_len;
                for (size_t i = 0; i < reps; i++)
                        memcpy(v + i * in_len, units[u].in, in_len);
                v[reps * in_len] = '\0';
                const gd_log_field f[] = {GD_STR("v", v), GD_STR("after", "never")};
                for (size_t size = 128; size <= sizeof(buf); size += size < 400 ? 1 : 97) {
                        memset(buf, 'X', sizeof(buf));
                        int r = gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, "x", f,
                                                   N(f), buf, size);
                        cr_assert_gt(r, 0, "size %zu", size);
                        cr_assert_lt((size_t)r, size);
                        cr_assert_eq((size_t)r, strlen(buf));
                        if (size < sizeof(buf))
                                cr_assert_eq(buf[size], 'X', "written past size %zu", size);
                        assert_one_line(buf);
                        cr_assert_str_eq(buf + r - strlen(tail), tail, "%s", buf);
                        const char *s = strstr(buf, ",\"v\":\"");
                        cr_assert(s, "size %zu: %s", size, buf);
                        s += 6;
                        size_t n = (size_t)(buf + r - strlen(tail) - 1 - s);
                        cr_assert_eq(s[n], '"', "size %zu: %s", size, buf);
                        cr_assert_eq(n % unit_len, 0, "size %zu: a cut inside a unit: %s", size,
                                     buf);
                        for (size_t i = 0; i < n; i += unit_len)
                                cr_assert_eq(memcmp(s + i, units[u].unit, unit_len), 0,
                                             "size %zu: %s", size, buf);
                        char keys[256];
                        cr_assert_eq(json_keys(buf, keys, sizeof(keys)), 5, "%s", buf);
                        cr_assert_str_eq(keys, "time,level,msg,v,truncated");
                }
        }
}

/* At the real limit (GD_LOG_LINE_MAX, what gd_log writes): a value far
 * longer than a line is cut to a line that ends the object. */
Test(log, json_very_long_value_cut_at_the_line_limit) {
        static char v[3 * GD_LOG_LINE_MAX];
        memset(v, '\\', sizeof(v) - 1); /* each becomes \\ */
        const gd_log_field f[] = {GD_STR("a", "1"), GD_STR("v", v), GD_DBL("nan", NAN)};
        const char *l = fmt_line(GD_LOG_FORMAT_JSON, GD_LOG_WARNING, "m", f, N(f));
        size_t len = strlen(l);
        cr_assert_lt(len, (size_t)GD_LOG_LINE_MAX);
        cr_assert_gt(len, (size_t)GD_LOG_LINE_MAX - 32, "the cut uses the line: %zu", len);
        const char *tail = "\\\\\",\"truncated\":true}\n";
        cr_assert_str_eq(l + len - strlen(tail), tail, "%s", l);
        const char *s = strstr(l, ",\"v\":\"") + 6;
        size_t n = strspn(s, "\\");
        cr_assert_eq(n % 2, 0, "a cut inside an escape");
        cr_assert_eq(s[n], '"');
        char keys[256];
        cr_assert_eq(json_keys(l, keys, sizeof(keys)), 6, "%s", l);
        cr_assert_str_eq(keys, "time,level,msg,a,v,truncated");
}

/* A null that does not fit is left out like any field, and the line says
 * it was cut. */
Test(log, json_null_left_out_when_cut) {
        char v[200], buf[160];
        memset(v, 'z', sizeof(v) - 1);
        v[sizeof(v) - 1] = '\0';
        const gd_log_field f[] = {GD_STR("v", v), GD_DBL("nan", NAN)};
        int r = gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, "x", f, N(f), buf,
                                   sizeof(buf));
        cr_assert_eq(r, (int)strlen(buf));
        cr_assert_null(strstr(buf, "null"), "%s", buf);
        cr_assert_str_eq(buf + r - 22, "zz\",\"truncated\":true}\n", "%s", buf);
}
