/* Log lines: lifting key=value messages into fields, escaping in logfmt and
 * JSON, cutting long lines, level and format names, the UTC clock text. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/format.h"
#include "util/log.h"

/* 2026-11-26T03:23:26.123Z */
#define T0 1795663406123LL

/* Inline arrays, not pointers: Criterion runs each parameter in a fresh
 * process, where pointers into the parent's data are not valid. */
struct lift_case {
        char msg[128];
        int event_len; /* -EBADMSG: kept whole */
};

ParameterizedTestParameters(log, lift) {
        static struct lift_case cases[] = {
                {"decision cgroup=/a action=kill-process value=0.9 reason=\"x y\"", 8},
                {"killed cgroup=a pid=7", 6},
                {"would kill cgroup=a pid=7", 10},           /* several event words */
                {"kill failed cgroup=a result=gone", 11},
                {"sample cgroup=a events.max=3 psi.some.total=9", 6},
                {"notify cgroup=a workload=", 6},           /* empty bare value */
                {"x k=\"a \\\"q\\\" \\\\ b\"", 1},          /* escapes in quotes */
                {"x  a=1   b=2 ", 1},                       /* extra spaces */
                {"watching 5 cgroups under /sys/fs/cgroup", -EBADMSG}, /* no pairs */
                {"SIGHUP: reloading the policy", -EBADMSG},
                {"cgroup=a pid=1", -EBADMSG},               /* no event word */
                {"pid 7: k=v", -EBADMSG},                   /* event words are letters */
                {"decision", -EBADMSG},
                {"x a=1 then words", -EBADMSG},             /* text after the pairs */
                {"x reason=\"unterminated", -EBADMSG},
                {"x reason=\"a\"b", -EBADMSG},              /* a quote not followed by a space */
                {"x a=b=c", -EBADMSG},
                {"x a=b\"c", -EBADMSG},
                {"x 1a=b", -EBADMSG},                       /* keys start with a letter */
                {"x a=1 a=2", -EBADMSG},                    /* duplicate key */
                {"x msg=hi", -EBADMSG},                     /* the line's own keys */
                {"x time=1", -EBADMSG},
                {"x level=1", -EBADMSG},
                {"x truncated=1", -EBADMSG},
                {"x k=\"ends in backslash\\\"", -EBADMSG},
                {"", -EBADMSG},
        };
        return cr_make_param_array(struct lift_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct lift_case *c, log, lift) {
        cr_assert_eq(gd_log_lift(c->msg), c->event_len, "'%s': %d", c->msg, gd_log_lift(c->msg));
}

struct line_case {
        int format;
        int level;
        char msg[128];
        char line[256];
};

ParameterizedTestParameters(log, line) {
        static struct line_case cases[] = {
                /* text: unchanged from before the formats. */
                {GD_LOG_FORMAT_TEXT, GD_LOG_INFO, "killed cgroup=a pid=7",
                 "guardian: killed cgroup=a pid=7\n"},
                {GD_LOG_FORMAT_TEXT, GD_LOG_WARNING, "w", "guardian: warning: w\n"},
                {GD_LOG_FORMAT_TEXT, GD_LOG_ERR, "e", "guardian: error: e\n"},
                {GD_LOG_FORMAT_TEXT, GD_LOG_NOTICE, "n", "guardian: note: n\n"},
                {GD_LOG_FORMAT_TEXT, GD_LOG_DEBUG, "d", "guardian: debug: d\n"},
                /* JSON: lifted pairs become string fields; quotes undone. */
                {GD_LOG_FORMAT_JSON, GD_LOG_WARNING,
                 "killed cgroup=a/b pid=7 reason=\"memory \\\"high\\\" 90%\"",
                 "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"warning\",\"msg\":\"killed\","
                 "\"cgroup\":\"a/b\",\"pid\":\"7\",\"reason\":\"memory \\\"high\\\" 90%\"}\n"},
                {GD_LOG_FORMAT_JSON, GD_LOG_INFO, "would kill cgroup=/ pid=7",
                 "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"info\",\"msg\":\"would kill\","
                 "\"cgroup\":\"/\",\"pid\":\"7\"}\n"},
                /* JSON: not liftable, kept whole and escaped. */
                {GD_LOG_FORMAT_JSON, GD_LOG_ERR, "tab\there \"q\" back\\slash\nnl \x01 \x7f",
                 "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"error\",\"msg\":"
                 "\"tab\\there \\\"q\\\" back\\\\slash\\nnl \\u0001 \\u007f\"}\n"},
                /* JSON: valid UTF-8 kept, invalid bytes escaped. */
                {GD_LOG_FORMAT_JSON, GD_LOG_DEBUG, "caf\xc3\xa9 \xff\xc3",
                 "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"debug\",\"msg\":"
                 "\"caf\xc3\xa9 \\u00ff\\u00c3\"}\n"},
                /* JSON: a lifted value with control bytes (from a cgroup name). */
                {GD_LOG_FORMAT_JSON, GD_LOG_NOTICE, "x cgroup=a\x1b[31m",
                 "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"notice\",\"msg\":\"x\","
                 "\"cgroup\":\"a\\u001b[31m\"}\n"},
                /* logfmt: bare where it can be, quoted where it must. */
                {GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO,
                 "decision cgroup=/a value=0.9 reason=\"a b\" eq=\"k=v\" e=",
                 "time=2026-11-26T03:23:26.123Z level=info msg=decision cgroup=/a value=0.9 "
                 "reason=\"a b\" eq=\"k=v\" e=\"\"\n"},
                {GD_LOG_FORMAT_LOGFMT, GD_LOG_WARNING, "would kill q=\"say \\\"hi\\\" \\\\o/\"",
                 "time=2026-11-26T03:23:26.123Z level=warning msg=\"would kill\" "
                 "q=\"say \\\"hi\\\" \\\\o/\"\n"},
                {GD_LOG_FORMAT_LOGFMT, GD_LOG_ERR, "line\nbreak and \"quotes\"",
                 "time=2026-11-26T03:23:26.123Z level=error msg=\"line\\nbreak and "
                 "\\\"quotes\\\"\"\n"},
                {GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO, "word",
                 "time=2026-11-26T03:23:26.123Z level=info msg=word\n"},
                {GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO, "",
                 "time=2026-11-26T03:23:26.123Z level=info msg=\"\"\n"},
                {GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO, "x v=caf\xc3\xa9",
                 "time=2026-11-26T03:23:26.123Z level=info msg=x v=\"caf\xc3\xa9\"\n"},
        };
        return cr_make_param_array(struct line_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct line_case *c, log, line) {
        char buf[GD_LOG_LINE_MAX];
        int r = gd_log_format_line((gd_log_format)c->format, (gd_log_level)c->level, T0, c->msg,
                                   false, buf, sizeof(buf));
        cr_assert_str_eq(buf, c->line);
        cr_assert_eq(r, (int)strlen(c->line));
}

/* Every cut keeps the line whole: newline-terminated, within the size,
 * marked, and (for JSON) closed after the last complete escape. */
Test(log, cut_json_between_escapes) {
        char msg[600], buf[160];
        memset(msg, '"', sizeof(msg) - 1); /* each becomes \" */
        msg[sizeof(msg) - 1] = '\0';
        int r = gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, msg, false, buf,
                                   sizeof(buf));
        cr_assert_gt(r, 0);
        cr_assert_lt((size_t)r, sizeof(buf));
        cr_assert_eq((size_t)r, strlen(buf));
        const char *tail = ",\"truncated\":true}\n";
        cr_assert_str_eq(buf + r - strlen(tail), tail, "%s", buf);
        /* The msg literal: an even run of \" pairs, then the closing quote. */
        const char *v = strstr(buf, "\"msg\":\"") + 7;
        size_t n = strspn(v, "\\\"");
        cr_assert_eq(v[n], ',', "%s", buf);
        cr_assert_eq((n - 1) % 2, 0, "a cut inside an escape: %s", buf);
}

Test(log, cut_json_drops_a_field_that_does_not_fit) {
        char msg[400], buf[140];
        snprintf(msg, sizeof(msg), "x a=1 %0300d=2", 0); /* a key too long to fit */
        msg[6] = 'k';
        int r = gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, msg, false, buf,
                                   sizeof(buf));
        cr_assert_eq(r, (int)strlen(buf));
        cr_assert_str_eq(buf, "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"info\","
                              "\"msg\":\"x\",\"a\":\"1\",\"truncated\":true}\n");
}

Test(log, cut_logfmt_and_text) {
        char msg[1000], buf[200];
        memset(msg, 'a', sizeof(msg) - 1);
        msg[sizeof(msg) - 1] = '\0';
        int r = gd_log_format_line(GD_LOG_FORMAT_LOGFMT, GD_LOG_INFO, T0, msg, false, buf,
                                   sizeof(buf));
        cr_assert_eq(r, (int)strlen(buf));
        cr_assert_lt((size_t)r, sizeof(buf));
        cr_assert(strstr(buf, "msg=aaaa"));
        cr_assert_str_eq(buf + r - 16, " truncated=true\n", "%s", buf);

        r = gd_log_format_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, T0, msg, false, buf, sizeof(buf));
        cr_assert_eq(r, (int)strlen(buf));
        cr_assert_lt((size_t)r, sizeof(buf));
        cr_assert_eq(strncmp(buf, "guardian: aaaa", 14), 0);
        cr_assert_str_eq(buf + r - 13, " [truncated]\n", "%s", buf);
}

/* A message gd_log had to cut is marked even when the line fits. */
Test(log, msg_cut_is_marked) {
        char buf[256];
        gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, "x a=1", true, buf, sizeof(buf));
        cr_assert_str_eq(buf, "{\"time\":\"2026-11-26T03:23:26.123Z\",\"level\":\"info\","
                              "\"msg\":\"x\",\"a\":\"1\",\"truncated\":true}\n");
        gd_log_format_line(GD_LOG_FORMAT_TEXT, GD_LOG_INFO, T0, "long", true, buf, sizeof(buf));
        cr_assert_str_eq(buf, "guardian: long [truncated]\n");
}

Test(log, too_small_a_buffer) {
        char buf[64] = "junk";
        cr_assert_eq(gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, "x", false, buf,
                                        sizeof(buf)),
                     -ENOBUFS);
        cr_assert_str_eq(buf, "");
}

Test(log, the_longest_message_fits_the_line_when_plain) {
        char msg[GD_LOG_MSG_MAX], buf[GD_LOG_LINE_MAX];
        memset(msg, 'm', sizeof(msg) - 1);
        msg[sizeof(msg) - 1] = '\0';
        gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, msg, false, buf, sizeof(buf));
        cr_assert_null(strstr(buf, "truncated"));
        cr_assert_eq(buf[strlen(buf) - 2], '}');
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

/* gd_log itself: the level filter and the format, on a captured stderr. */
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
        gd_log(GD_LOG_WARNING, "kept n=%d", 1);
        gd_log(GD_LOG_ERR, "kept too");
        int errno_after = errno;
        gd_log_set_level(GD_LOG_INFO);
        gd_log_set_format(GD_LOG_FORMAT_TEXT);

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
        cr_assert(strstr(out, " level=error msg=\"kept too\"\n"), "%s", out);
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

/* A cgroup or process name is chosen by whoever runs the workload: as a
 * value it must stay one value, whatever it holds. */
Test(log, value_plain_words_stay_as_they_are) {
        char buf[64];

        cr_assert_str_eq(gd_log_value("system.slice/db.service", buf, sizeof(buf)),
                         "system.slice/db.service");
        cr_assert_str_eq(gd_log_value("", buf, sizeof(buf)), "\"\"");
}

Test(log, value_hostile_names_cannot_add_fields) {
        static const char *const hostile[] = {
                "app.slice/db.service victim_of=someone-else",
                "x\" pid=1 y=\"",
                "a\\\" b=c",
                "line\nbreak k=v",
                "k=v",
        };
        char val[256], msg[512], line[1024];

        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
                snprintf(msg, sizeof(msg), "killed cgroup=%s pid=7",
                         gd_log_value(hostile[i], val, sizeof(val)));
                cr_assert_eq(gd_log_lift(msg), 6, "'%s' does not lift", msg);
                int r = gd_log_format_line(GD_LOG_FORMAT_JSON, GD_LOG_INFO, T0, msg, false, line,
                                           sizeof(line));
                cr_assert_gt(r, 0);
                /* Exactly the fields of the message: time, level, msg, cgroup, pid. */
                int keys = 0;
                for (const char *p = line; (p = strstr(p, "\":")); p += 2)
                        keys++;
                cr_assert_eq(keys, 5, "%s", line);
                cr_assert(strstr(line, "\"pid\":\"7\""), "%s", line);
                cr_assert_eq(strchr(line, '\n'), line + r - 1, "one line: %s", line);
        }
}

Test(log, value_is_cut_to_fit_and_stays_quoted) {
        char buf[8];

        cr_assert_str_eq(gd_log_value("a b c d e f", buf, sizeof(buf)), "\"a b \"");
        cr_assert_str_eq(gd_log_value("a b", buf, 2), "");
}
