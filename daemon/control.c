#include "daemon/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/log.h"
#include "util/evtag.h"

/* Connections accepted per wake-up: a flood cannot starve the loop. */
#define ACCEPT_BATCH 32
/* A method longer than this is not one of ours (or anyone's). */
#define METHOD_MAX 16

/* ---- the request, a pure function ---- */

static bool is_ctl(unsigned char c) { return c < 0x20 || c == 0x7f; }

/* End of the headers: the first empty line after the request line. */
static bool headers_complete(const char *buf, size_t len) {
        for (size_t i = 0; i + 1 < len; i++) {
                if (buf[i] != '\n')
                        continue;
                if (buf[i + 1] == '\n' || (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n'))
                        return true;
        }
        return false;
}

int gd_control_parse_request(const char *buf, size_t len, bool metrics_only,
                             gd_control_doc *ret_doc) {
        const char *nl = memchr(buf, '\n', len);
        size_t line_len = nl ? (size_t)(nl - buf) : len;

        /* Judge the request line as soon as its bytes come, so junk is
         * answered at once instead of waiting to fill the buffer. */
        for (size_t i = 0; i < line_len; i++)
                if (is_ctl((unsigned char)buf[i]) && !(buf[i] == '\r' && i + 1 == line_len))
                        return 400;
        if (!nl)
                return len >= GD_CONTROL_REQUEST_MAX ? 431 : 0;
        if (line_len > 0 && buf[line_len - 1] == '\r')
                line_len--;

        const char *sp1 = memchr(buf, ' ', line_len);
        if (!sp1 || sp1 == buf || sp1 - buf > METHOD_MAX)
                return 400;
        for (const char *p = buf; p < sp1; p++)
                if (*p < 'A' || *p > 'Z')
                        return 400;
        const char *target = sp1 + 1;
        const char *sp2 = memchr(target, ' ', line_len - (size_t)(target - buf));
        if (!sp2 || *target != '/')
                return 400;
        size_t version_len = line_len - (size_t)(sp2 + 1 - buf);
        if (version_len != 8 ||
            (memcmp(sp2 + 1, "HTTP/1.0", 8) != 0 && memcmp(sp2 + 1, "HTTP/1.1", 8) != 0))
                return 400;
        /* The answer is known, but the client is still sending headers:
         * reading them first lets it read the answer in peace. */
        if (!headers_complete(buf, len))
                return len >= GD_CONTROL_REQUEST_MAX ? 431 : 0;
        if (sp1 - buf != 3 || memcmp(buf, "GET", 3) != 0)
                return 405;

        size_t path_len = (size_t)(sp2 - target);
        const char *q = memchr(target, '?', path_len);
        if (q)
                path_len = (size_t)(q - target); /* Prometheus may add parameters */
        static const struct {
                const char *path;
                gd_control_doc doc;
        } routes[] = {
                {"/status", GD_DOC_STATUS},
                {"/status.json", GD_DOC_STATUS_JSON},
                {"/metrics", GD_DOC_METRICS},
        };
        for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
                if (strlen(routes[i].path) != path_len ||
                    memcmp(routes[i].path, target, path_len) != 0)
                        continue;
                if (metrics_only && routes[i].doc != GD_DOC_METRICS)
                        return 404; /* the network sees metrics, nothing else */
                *ret_doc = routes[i].doc;
                return 200;
        }
        return 404;
}

int gd_control_parse_address(const char *s, struct sockaddr_storage *ret_addr,
                             socklen_t *ret_len) {
        char host[64];
        const char *port_s;
        struct sockaddr_storage ss;
        socklen_t sl;

        memset(&ss, 0, sizeof(ss));
        if (*s == '[') {
                const char *end = strchr(s, ']');
                if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
                        return -EINVAL;
                snprintf(host, sizeof(host), "%.*s", (int)(end - s - 1), s + 1);
                port_s = end + 2;
        } else {
                const char *colon = strrchr(s, ':');
                if (!colon || (size_t)(colon - s) >= sizeof(host))
                        return -EINVAL;
                snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
                port_s = colon + 1;
        }
        unsigned long port = 0;
        if (!*port_s || strlen(port_s) > 5)
                return -EINVAL;
        for (const char *p = port_s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                port = port * 10 + (unsigned long)(*p - '0');
        }
        if (port == 0 || port > 65535)
                return -EINVAL;

        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (*s != '[' && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
                if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
                        return -EADDRNOTAVAIL;
                in4->sin_family = AF_INET;
                in4->sin_port = htons((uint16_t)port);
                sl = sizeof(*in4);
        } else if (*s == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
                        return -EADDRNOTAVAIL;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t)port);
                sl = sizeof(*in6);
        } else {
                return -EINVAL; /* a name: resolving it is not our business */
        }
        *ret_addr = ss;
        *ret_len = sl;
        return 0;
}


/* ---- connections, in the loop ---- */

static void conn_close(gd_control *c, gd_control_conn *k) {
        if (k->fd >= 0)
                close(k->fd); /* also leaves epoll: the fd is never dup'ed */
        gd_control_blob_unref(k->body);
        k->body = NULL;
        k->fd = -1;
        k->state = GD_CONN_READING;
        k->pollout = false;
}

static const char *status_text(int status) {
        switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 431: return "Request Header Fields Too Large";
        default: return "Internal Server Error";
        }
}

static const char *content_type(gd_control_doc doc) {
        switch (doc) {
        case GD_DOC_STATUS_JSON: return "application/json";
        case GD_DOC_METRICS: return "text/plain; version=0.0.4; charset=utf-8";
        default: return "text/plain; charset=utf-8";
        }
}

/* An error's body: a line, never cached. NULL when out of memory. */
static gd_control_blob *error_blob(const gd_control_conn *k, int status) {
        gd_control_blob *b = calloc(1, sizeof(*b));
        char msg[160];

        snprintf(msg, sizeof(msg), "guardian: %d %s%s\n", status, status_text(status),
                 status == 404 ? (k->metrics_only ? ": only /metrics is served here"
                                                  : ": try /status, /status.json or /metrics")
                               : "");
        if (b && !(b->data = strdup(msg))) {
                free(b);
                b = NULL;
        }
        if (b) {
                b->refs = 1;
                b->len = strlen(msg);
        }
        return b;
}

/* The answer into k: its headers, and a reference to the body (cached
 * bytes for a document). Returns 0, -EAGAIN when the document needs a
 * render this wake-up has no room for, -ENOMEM. */
static int conn_prepare(gd_control *c, gd_control_conn *k, int status, gd_control_doc doc,
                        uint64_t now_ms) {
        gd_control_blob *body = NULL;

        if (status == 200) {
                int r = gd_control_document(c, doc, now_ms, &body);
                if (r == -EAGAIN)
                        return r;
                if (r < 0)
                        status = 500;
        }
        if (status != 200 && !(body = error_blob(k, status)))
                return -ENOMEM;
        int n = snprintf(k->head, sizeof(k->head),
                         "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                         "%sConnection: close\r\n\r\n",
                         status, status_text(status),
                         content_type(status == 200 ? doc : GD_DOC_STATUS), body->len,
                         status == 405 ? "Allow: GET\r\n" : "");
        if (n < 0 || (size_t)n >= sizeof(k->head)) {
                gd_control_blob_unref(body);
                return -ENOMEM; /* cannot happen: the longest is ~180 bytes */
        }
        k->head_len = (size_t)n;
        k->body = body;
        k->out_off = 0;
        k->state = GD_CONN_WRITING;
        return 0;
}

/* Wait for the socket to take more (EPOLLOUT, level-triggered: at once
 * when it has room). Returns false when the client had to be closed. */
static bool conn_pollout(gd_control *c, gd_control_conn *k, uint64_t tag) {
        struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = tag};

        if (k->pollout)
                return true;
        if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, k->fd, &ev) < 0) {
                conn_close(c, k);
                return false;
        }
        k->pollout = true;
        return true;
}

/* Write what the socket takes, at most GD_CONTROL_WRITE_BUDGET bytes this
 * wake-up; the rest waits for EPOLLOUT. */
static void conn_flush(gd_control *c, gd_control_conn *k, uint64_t tag, uint64_t now_ms) {
        size_t total = k->head_len + k->body->len, budget = GD_CONTROL_WRITE_BUDGET;

        while (k->out_off < total) {
                if (budget == 0) {
                        conn_pollout(c, k, tag);
                        return;
                }
                struct iovec iov[2];
                struct msghdr mh = {.msg_iov = iov};
                size_t left = budget;
                if (k->out_off < k->head_len) {
                        size_t l = k->head_len - k->out_off;
                        l = l < left ? l : left;
                        iov[mh.msg_iovlen++] = (struct iovec){k->head + k->out_off, l};
                        left -= l;
                }
                size_t boff = k->out_off > k->head_len ? k->out_off - k->head_len : 0;
                size_t bl = k->body->len - boff < left ? k->body->len - boff : left;
                if (bl)
                        iov[mh.msg_iovlen++] = (struct iovec){k->body->data + boff, bl};
                /* MSG_NOSIGNAL: a client gone is EPIPE, not SIGPIPE. */
                ssize_t n = sendmsg(k->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        conn_pollout(c, k, tag);
                        return;
                }
                if (n <= 0) {
                        conn_close(c, k);
                        return;
                }
                k->out_off += (size_t)n;
                budget -= (size_t)n < budget ? (size_t)n : budget;
                k->deadline_ms = now_ms + GD_CONTROL_IDLE_MS;
        }
        shutdown(k->fd, SHUT_WR);
        conn_close(c, k);
}

/* Answer a parsed request, or park it until a render is allowed. */
static void conn_answer(gd_control *c, gd_control_conn *k, int status, gd_control_doc doc,
                        uint64_t tag, uint64_t now_ms) {
        int r = conn_prepare(c, k, status, doc, now_ms);

        if (r == -EAGAIN) {
                k->state = GD_CONN_WAITING;
                k->doc = doc;
                conn_pollout(c, k, tag);
                return;
        }
        if (r < 0) {
                conn_close(c, k);
                return;
        }
        conn_flush(c, k, tag, now_ms);
}

static void conn_read(gd_control *c, gd_control_conn *k, uint64_t tag, uint64_t now_ms) {
        gd_control_doc doc = GD_DOC_STATUS;
        int status = 0;

        while (status == 0 && k->req_len < sizeof(k->req)) {
                ssize_t n = read(k->fd, k->req + k->req_len, sizeof(k->req) - k->req_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        conn_close(c, k);
                        return;
                }
                k->req_len += (size_t)n;
                status = gd_control_parse_request(k->req, k->req_len, k->metrics_only, &doc);
                if (n == 0 && status == 0)
                        status = k->req_len ? 400 : -1; /* cut short, or gone */
        }
        if (status == 0)
                status = 431; /* cannot happen: the parser says so at a full buffer */
        if (status < 0) {
                conn_close(c, k);
                return;
        }
        conn_answer(c, k, status, doc, tag, now_ms);
}

static void accept_clients(gd_control *c, int lfd, bool metrics_only, uint64_t now_ms) {
        for (int i = 0; i < ACCEPT_BATCH; i++) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
                        continue;
                if (fd < 0 && errno != EAGAIN) {
                        /* Out of fds (or memory): the listener stays readable,
                         * and a level-triggered loop would spin on it. Mute it
                         * until the next tick. */
                        struct epoll_event ev = {.events = 0, .data.u64 = gd_tag(
                                GD_TAG_CONTROL_LISTEN, lfd == c->unix_fd ? 0 : 1, 0)};
                        if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, lfd, &ev) == 0)
                                c->muted = true;
                }
                if (fd < 0)
                        return;
                gd_control_conn *k = NULL;
                size_t slot = 0, tcp = 0;
                for (size_t j = 0; j < GD_CONTROL_MAX_CLIENTS; j++)
                        tcp += c->conns[j].fd >= 0 && c->conns[j].metrics_only;
                for (; slot < GD_CONTROL_MAX_CLIENTS && !k; slot++)
                        if (c->conns[slot].fd < 0)
                                k = &c->conns[slot];
                /* Any local user can reach the TCP listener: it never takes
                 * the slots root's clients of the Unix socket need. */
                if (k && metrics_only && tcp >= GD_CONTROL_MAX_TCP_CLIENTS)
                        k = NULL;
                if (!k) {
                        close(fd);
                        continue;
                }
                slot--;
                k->fd = fd;
                k->generation = c->next_generation++;
                k->metrics_only = metrics_only;
                k->state = GD_CONN_READING;
                k->pollout = false;
                k->body = NULL;
                k->req_len = 0;
                k->deadline_ms = now_ms + GD_CONTROL_IDLE_MS;
                struct epoll_event ev = {
                        .events = EPOLLIN | EPOLLRDHUP,
                        .data.u64 = gd_tag(GD_TAG_CONTROL_CONN, (uint32_t)slot, k->generation),
                };
                if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
                        conn_close(c, k);
        }
}

void gd_control_handle(gd_control *c, uint64_t tag, uint32_t events, uint64_t now_ms) {
        uint32_t slot = gd_tag_slot(tag);

        if (gd_tag_kind_of(tag) == GD_TAG_CONTROL_LISTEN) {
                int lfd = slot == 0 ? c->unix_fd : c->metrics.listening ? c->tcp_fd : -1;
                if (lfd >= 0)
                        accept_clients(c, lfd, slot == 1, now_ms);
                return;
        }
        if (slot >= GD_CONTROL_MAX_CLIENTS)
                return;
        gd_control_conn *k = &c->conns[slot];
        if (k->fd < 0 || k->generation != gd_tag_generation(tag))
                return; /* closed earlier in this batch of events */
        if (k->state != GD_CONN_READING && (events & (EPOLLERR | EPOLLHUP))) {
                conn_close(c, k);
                return;
        }
        if (k->state == GD_CONN_WAITING)
                conn_answer(c, k, 200, k->doc, tag, now_ms);
        else if (k->state == GD_CONN_WRITING)
                conn_flush(c, k, tag, now_ms);
        else /* Read even on RDHUP/HUP: the request may be in the buffer. */
                conn_read(c, k, tag, now_ms);
}

void gd_control_tick(gd_control *c, uint64_t now_ms) {
        if (c->muted) {
                struct epoll_event ev = {.events = EPOLLIN};
                c->muted = false;
                ev.data.u64 = gd_tag(GD_TAG_CONTROL_LISTEN, 0, 0);
                if (c->unix_fd >= 0)
                        epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->unix_fd, &ev);
                ev.data.u64 = gd_tag(GD_TAG_CONTROL_LISTEN, 1, 0);
                if (c->metrics.listening)
                        epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->tcp_fd, &ev);
        }
        for (size_t i = 0; i < GD_CONTROL_MAX_CLIENTS; i++)
                if (c->conns[i].fd >= 0 && now_ms >= c->conns[i].deadline_ms)
                        conn_close(c, &c->conns[i]);
        gd_control_metrics_retry(c, now_ms);
}

void gd_control_close(gd_control *c) {
        if (!c->render)
                return; /* never opened */
        for (size_t i = 0; i < GD_CONTROL_MAX_CLIENTS; i++)
                conn_close(c, &c->conns[i]);
        for (size_t i = 0; i < GD_CONTROL__N_DOCS; i++) {
                gd_control_blob_unref(c->cache[i].blob);
                c->cache[i].blob = NULL;
        }
        if (c->unix_fd >= 0)
                close(c->unix_fd);
        if (c->tcp_fd >= 0)
                close(c->tcp_fd);
        c->unix_fd = c->tcp_fd = -1;
        c->metrics.listening = false;
}
