/* The control socket's request parser and address check: pure functions
 * fed literals, hostile ones included. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "daemon/control.h"

struct req_case {
        char in[160];
        bool metrics_only;
        int status;
        int doc;
};

ParameterizedTestParameters(control, parse_request) {
        static struct req_case cases[] = {
                {"GET /status HTTP/1.0\r\n\r\n", false, 200, GD_DOC_STATUS},
                {"GET /status.json HTTP/1.1\r\nHost: x\r\nUser-Agent: curl\r\n\r\n", false, 200,
                 GD_DOC_STATUS_JSON},
                {"GET /metrics HTTP/1.1\r\nAccept: text/plain\r\n\r\n", true, 200, GD_DOC_METRICS},
                {"GET /metrics?name[]=x HTTP/1.1\r\n\r\n", false, 200, GD_DOC_METRICS},
                {"GET /status HTTP/1.0\n\n", false, 200, GD_DOC_STATUS},      /* bare LF */
                /* incomplete: more bytes may come */
                {"", false, 0, 0},
                {"GET /sta", false, 0, 0},
                {"GET /status HTTP/1.0\r\n", false, 0, 0},
                {"GET /status HTTP/1.0\r\nHost: x\r\n", false, 0, 0},
                /* the network sees metrics only */
                {"GET /status HTTP/1.0\r\n\r\n", true, 404, 0},
                {"GET /status.json HTTP/1.0\r\n\r\n", true, 404, 0},
                {"GET / HTTP/1.0\r\n\r\n", false, 404, 0},
                {"GET /statusx HTTP/1.0\r\n\r\n", false, 404, 0},
                {"GET /metrics/ HTTP/1.0\r\n\r\n", false, 404, 0},
                {"POST /status HTTP/1.0\r\n\r\n", false, 405, 0},
                {"HEAD /metrics HTTP/1.1\r\n\r\n", false, 405, 0},
                {"get /status HTTP/1.0\r\n\r\n", false, 400, 0},
                {"GET status HTTP/1.0\r\n\r\n", false, 400, 0},
                {"GET /status\r\n\r\n", false, 400, 0},                       /* HTTP/0.9 */
                {"GET /status HTTP/2.0\r\n\r\n", false, 400, 0},
                {"GET  /status HTTP/1.0\r\n\r\n", false, 400, 0},
                {"GET /status HTTP/1.0 x\r\n\r\n", false, 400, 0},
                {"\r\n\r\n", false, 400, 0},
                {"garbage\r\n", false, 400, 0},
                {"\x16\x03\x01\x02\x00\x01", false, 400, 0},                  /* TLS hello */
                {"GET /sta\x01tus", false, 400, 0},                           /* early */
                {"ABCDEFGHIJKLMNOPQ /status HTTP/1.0\r\n\r\n", false, 400, 0},
        };
        return cr_make_param_array(struct req_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct req_case *c, control, parse_request) {
        gd_control_doc doc = (gd_control_doc)-1;
        int r = gd_control_parse_request(c->in, strlen(c->in), c->metrics_only, &doc);
        cr_assert_eq(r, c->status, "'%s': got %d, want %d", c->in, r, c->status);
        if (r == 200)
                cr_assert_eq((int)doc, c->doc);
        else
                cr_assert_eq((int)doc, -1, "doc set on %d", r);
}

Test(control, nul_byte_is_malformed) {
        static const char req[] = "GET /status\0 HTTP/1.0\r\n\r\n";
        gd_control_doc doc;
        cr_assert_eq(gd_control_parse_request(req, sizeof(req) - 1, false, &doc), 400);
}

Test(control, oversized) {
        static char buf[GD_CONTROL_REQUEST_MAX];
        gd_control_doc doc;

        /* A request line that never ends. */
        memcpy(buf, "GET /", 5);
        memset(buf + 5, 'a', sizeof(buf) - 5);
        cr_assert_eq(gd_control_parse_request(buf, sizeof(buf), false, &doc), 431);
        cr_assert_eq(gd_control_parse_request(buf, sizeof(buf) - 1, false, &doc), 0);
        /* Headers that never end. */
        const char *line = "GET /status HTTP/1.0\r\n";
        memcpy(buf, line, strlen(line));
        for (size_t i = strlen(line); i < sizeof(buf); i++)
                buf[i] = i % 40 == 39 ? '\n' : 'x';
        cr_assert_eq(gd_control_parse_request(buf, sizeof(buf), false, &doc), 431);
}

struct addr_case {
        char in[64];
        int result;
        int family;
        int port;
};

ParameterizedTestParameters(control, parse_address) {
        static struct addr_case cases[] = {
                {"127.0.0.1:9100", 0, AF_INET, 9100},
                {"127.1.2.3:1", 0, AF_INET, 1},
                {"[::1]:65535", 0, AF_INET6, 65535},
                {"0.0.0.0:9100", -EADDRNOTAVAIL, 0, 0},
                {"10.0.0.1:9100", -EADDRNOTAVAIL, 0, 0},
                {"128.0.0.1:9100", -EADDRNOTAVAIL, 0, 0},
                {"[::]:9100", -EADDRNOTAVAIL, 0, 0},
                {"[::ffff:127.0.0.1]:9100", -EADDRNOTAVAIL, 0, 0},
                {"[fe80::1]:9100", -EADDRNOTAVAIL, 0, 0},
                {"localhost:9100", -EINVAL, 0, 0},
                {"127.0.0.1", -EINVAL, 0, 0},
                {"127.0.0.1:", -EINVAL, 0, 0},
                {"127.0.0.1:0", -EINVAL, 0, 0},
                {"127.0.0.1:65536", -EINVAL, 0, 0},
                {"127.0.0.1:9x", -EINVAL, 0, 0},
                {"127.0.0.1:-1", -EINVAL, 0, 0},
                {"::1:9100", -EINVAL, 0, 0},
                {"[::1]9100", -EINVAL, 0, 0},
                {"[::1:9100", -EINVAL, 0, 0},
                {":9100", -EINVAL, 0, 0},
                {"", -EINVAL, 0, 0},
        };
        return cr_make_param_array(struct addr_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct addr_case *c, control, parse_address) {
        struct sockaddr_storage ss;
        socklen_t len = 0;
        memset(&ss, 0, sizeof(ss));
        int r = gd_control_parse_address(c->in, &ss, &len);
        cr_assert_eq(r, c->result, "'%s': got %d, want %d", c->in, r, c->result);
        if (r < 0) {
                cr_assert_eq(len, 0, "output touched on failure");
                return;
        }
        cr_assert_eq(ss.ss_family, c->family);
        if (c->family == AF_INET) {
                cr_assert_eq(len, sizeof(struct sockaddr_in));
                cr_assert_eq(ntohs(((struct sockaddr_in *)&ss)->sin_port), c->port);
        } else {
                cr_assert_eq(len, sizeof(struct sockaddr_in6));
                cr_assert_eq(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), c->port);
        }
}
