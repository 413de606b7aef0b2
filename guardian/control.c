#include "guardian/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "guardian/log.h"
#include "guardian/watch.h"

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

/* ---- listeners, made at start-up ---- */

int gd_control_default_path(char *buf, size_t size) {
        const char *rt = getenv("RUNTIME_DIRECTORY"); /* systemd's RuntimeDirectory= */
        int n;

        if (rt && *rt) {
                const char *colon = strchr(rt, ':');
                int len = colon ? (int)(colon - rt) : (int)strlen(rt);
                n = snprintf(buf, size, "%.*s/%s", len, rt, GD_CONTROL_SOCKET_NAME);
        } else {
                n = snprintf(buf, size, "%s/%s", GD_CONTROL_DEFAULT_DIR, GD_CONTROL_SOCKET_NAME);
        }
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The socket's directory must be ours and closed to others: anyone who
 * can write there could swap the socket for their own. */
static int check_dir(const char *path, bool create) {
        char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
        struct stat st;
        const char *slash = strrchr(path, '/');

        if (!slash)
                snprintf(dir, sizeof(dir), ".");
        else
                snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
        if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
                gd_log(GD_LOG_ERR, "cannot create %s for the control socket: %s", dir,
                       strerror(errno));
                return -errno;
        }
        if (lstat(dir, &st) < 0) {
                gd_log(GD_LOG_ERR, "control socket directory %s: %s", dir, strerror(errno));
                return -errno;
        }
        /* The default directory, ours but open to others: a Kubernetes
         * emptyDir is created 0777. Not a sticky /tmp-like directory. */
        if (create && S_ISDIR(st.st_mode) && (st.st_uid == 0 || st.st_uid == geteuid()) &&
            !(st.st_mode & S_ISVTX) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
                if (chmod(dir, 0700) == 0 && lstat(dir, &st) == 0)
                        gd_log(GD_LOG_NOTICE, "control socket directory %s was writable by "
                                              "others: now mode 0700", dir);
        }
        if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
            (st.st_mode & (S_IWGRP | S_IWOTH))) {
                gd_log(GD_LOG_ERR, "refusing to put the control socket in %s: it must be a "
                                   "directory (not a symlink) owned by root or by guardian's "
                                   "user and writable by nobody else",
                       dir);
                return -EPERM;
        }
        return 0;
}

/* A socket file left by a guardian that is gone is replaced; a live one,
 * or anything that is not a socket, is not. */
static int clear_stale(const char *path, const struct sockaddr_un *sa) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode)) {
                gd_log(GD_LOG_ERR, "refusing to replace %s with the control socket: it exists "
                                   "and is not a socket",
                       path);
                return -EEXIST;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
        int err = errno;
        close(fd);
        if (r == 0 || err == EAGAIN) {
                gd_log(GD_LOG_ERR, "another guardian is running with the control socket %s "
                                   "(give this one --control-socket PATH or none)",
                       path);
                return -EADDRINUSE;
        }
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int listen_unix(gd_control *c, const char *path, bool is_default) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int r;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                gd_log(GD_LOG_ERR, "control socket path %s is too long (at most %zu bytes)", path,
                       sizeof(sa.sun_path) - 1);
                return -ENAMETOOLONG;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        r = check_dir(path, is_default);
        if (r < 0)
                return r;
        r = clear_stale(path, &sa);
        if (r < 0)
                return r;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* Born 0600: no moment when others could connect. */
        mode_t old = umask(0177);
        r = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
        int err = errno;
        umask(old);
        if (r < 0 || listen(fd, GD_CONTROL_MAX_CLIENTS) < 0) {
                err = r < 0 ? err : errno;
                gd_log(GD_LOG_ERR, "cannot listen on the control socket %s: %s", path,
                       strerror(err));
                close(fd);
                return -err;
        }
        c->unix_fd = fd;
        snprintf(c->path, sizeof(c->path), "%s", path);
        return 0;
}

static int listen_tcp(gd_control *c, const char *address) {
        struct sockaddr_storage ss;
        socklen_t sl;
        int r = gd_control_parse_address(address, &ss, &sl);

        if (r == -EADDRNOTAVAIL) {
                gd_log(GD_LOG_ERR, "refusing --metrics-address %s: not a loopback address; "
                                   "guardian serves metrics on 127.0.0.1 or [::1] only (expose "
                                   "them further with a proxy, or scrape the control socket)",
                       address);
                return r;
        }
        if (r < 0) {
                gd_log(GD_LOG_ERR, "bad --metrics-address %s: want 127.0.0.1:PORT or [::1]:PORT",
                       address);
                return r;
        }
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, GD_CONTROL_MAX_CLIENTS) < 0) {
                r = -errno;
                gd_log(GD_LOG_ERR, "cannot listen on %s for metrics: %s", address, strerror(-r));
                close(fd);
                return r;
        }
        c->tcp_fd = fd;
        return 0;
}

int gd_control_open(gd_control *c, int epfd, const char *socket_path,
                    const char *metrics_address, gd_control_render_fn render, void *userdata) {
        char def[sizeof(c->path)];
        int r = 0;

        memset(c, 0, sizeof(*c));
        c->epfd = epfd;
        c->unix_fd = c->tcp_fd = -1;
        c->render = render;
        c->userdata = userdata;
        c->next_generation = 1;
        for (size_t i = 0; i < GD_CONTROL_MAX_CLIENTS; i++)
                c->conns[i].fd = -1;
        /* glibc reads the time zone file on the first gmtime_r: now, not
         * from the sandboxed loop when a status shows a kill's time. */
        time_t epoch = 0;
        struct tm tm;
        (void)gmtime_r(&epoch, &tm);

        if (metrics_address) {
                r = listen_tcp(c, metrics_address);
                if (r < 0)
                        return r;
        }
        if (!socket_path || strcmp(socket_path, "none") != 0) {
                bool is_default = !socket_path;
                if (is_default && gd_control_default_path(def, sizeof(def)) == 0)
                        socket_path = def;
                r = socket_path ? listen_unix(c, socket_path, is_default) : -ENAMETOOLONG;
        }
        struct epoll_event ev = {.events = EPOLLIN};
        if (c->unix_fd >= 0) {
                ev.data.u64 = gd_tag(GD_TAG_CONTROL_LISTEN, 0, 0);
                epoll_ctl(epfd, EPOLL_CTL_ADD, c->unix_fd, &ev);
        }
        if (c->tcp_fd >= 0) {
                ev.data.u64 = gd_tag(GD_TAG_CONTROL_LISTEN, 1, 0);
                epoll_ctl(epfd, EPOLL_CTL_ADD, c->tcp_fd, &ev);
        }
        return r;
}

/* ---- connections, in the loop ---- */

static void conn_close(gd_control *c, gd_control_conn *k) {
        if (k->fd >= 0)
                close(k->fd); /* also leaves epoll: the fd is never dup'ed */
        free(k->out);
        k->out = NULL;
        k->fd = -1;
        k->responding = false;
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

/* The whole response into k->out: headers, then the body. */
static void conn_prepare(gd_control *c, gd_control_conn *k, int status, gd_control_doc doc) {
        char *body = NULL, *out = NULL;
        size_t body_len = 0, out_len = 0;
        char msg[160];

        if (status == 200 && c->render(c->userdata, doc, &body, &body_len) < 0)
                status = 500;
        if (status != 200) {
                snprintf(msg, sizeof(msg), "guardian: %d %s%s\n", status, status_text(status),
                         status == 404 ? (k->metrics_only ? ": only /metrics is served here"
                                                          : ": try /status, /status.json or "
                                                            "/metrics")
                                       : "");
                free(body);
                body = NULL;
                body_len = strlen(msg);
        }
        FILE *f = open_memstream(&out, &out_len);
        if (f) {
                fprintf(f, "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                           "%sConnection: close\r\n\r\n",
                        status, status_text(status), content_type(status == 200 ? doc : GD_DOC_STATUS),
                        body_len, status == 405 ? "Allow: GET\r\n" : "");
                fwrite(body ? body : msg, 1, body_len, f);
                if (fclose(f) != 0) {
                        free(out);
                        out = NULL;
                }
        }
        free(body);
        k->out = out;
        k->out_len = out ? out_len : 0;
        k->out_off = 0;
        k->responding = true;
}

/* Write what the socket takes; the rest waits for EPOLLOUT. */
static void conn_flush(gd_control *c, gd_control_conn *k, uint64_t tag, uint64_t now_ms) {
        while (k->out_off < k->out_len) {
                ssize_t n = write(k->fd, k->out + k->out_off, k->out_len - k->out_off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = tag};
                        if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, k->fd, &ev) < 0)
                                conn_close(c, k);
                        return;
                }
                if (n <= 0) {
                        conn_close(c, k);
                        return;
                }
                k->out_off += (size_t)n;
                k->deadline_ms = now_ms + GD_CONTROL_IDLE_MS;
        }
        shutdown(k->fd, SHUT_WR);
        conn_close(c, k);
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
        conn_prepare(c, k, status, doc);
        conn_flush(c, k, tag, now_ms);
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
                k->responding = false;
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
                int lfd = slot == 0 ? c->unix_fd : c->tcp_fd;
                if (lfd >= 0)
                        accept_clients(c, lfd, slot == 1, now_ms);
                return;
        }
        if (slot >= GD_CONTROL_MAX_CLIENTS)
                return;
        gd_control_conn *k = &c->conns[slot];
        if (k->fd < 0 || k->generation != gd_tag_generation(tag))
                return; /* closed earlier in this batch of events */
        if (k->responding) {
                if (events & (EPOLLERR | EPOLLHUP))
                        conn_close(c, k);
                else
                        conn_flush(c, k, tag, now_ms);
                return;
        }
        /* Read even on RDHUP/HUP: the request may be in the buffer. */
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
                if (c->tcp_fd >= 0)
                        epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->tcp_fd, &ev);
        }
        for (size_t i = 0; i < GD_CONTROL_MAX_CLIENTS; i++)
                if (c->conns[i].fd >= 0 && now_ms >= c->conns[i].deadline_ms)
                        conn_close(c, &c->conns[i]);
}

void gd_control_close(gd_control *c) {
        if (!c->render)
                return; /* never opened */
        for (size_t i = 0; i < GD_CONTROL_MAX_CLIENTS; i++)
                conn_close(c, &c->conns[i]);
        if (c->unix_fd >= 0)
                close(c->unix_fd);
        if (c->tcp_fd >= 0)
                close(c->tcp_fd);
        c->unix_fd = c->tcp_fd = -1;
}
