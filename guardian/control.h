/* The control socket: a tiny HTTP/1.0 server in the daemon's event loop.
 * On a Unix socket (mode 0600, in a root-only directory) it serves
 *   GET /status        `guardian status`, text
 *   GET /status.json   `guardian status --json`
 *   GET /metrics       Prometheus text format 0.0.4
 * and, only when configured, /metrics alone on a loopback TCP address.
 * Every socket is created by gd_control_open, before the loop (the
 * sandbox forbids socket() and bind() after); in the loop only accept4,
 * read, write, shutdown, close and epoll_ctl are used. Nothing blocks:
 * requests are bounded (GD_CONTROL_REQUEST_MAX), so are clients
 * (GD_CONTROL_MAX_CLIENTS), and a client that goes quiet is dropped after
 * GD_CONTROL_IDLE_MS. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A request line and a few headers; curl and Prometheus send ~200 bytes. */
#define GD_CONTROL_REQUEST_MAX 4096
/* Clients at once; more are accepted and closed at once. */
#define GD_CONTROL_MAX_CLIENTS 16
/* Of those, the TCP listener's (anyone on the host can connect there). */
#define GD_CONTROL_MAX_TCP_CLIENTS 8
/* A client that sends nothing, or reads nothing, for this long is dropped. */
#define GD_CONTROL_IDLE_MS 2000
/* Without --control-socket: $RUNTIME_DIRECTORY/guardian.sock under
 * systemd (RuntimeDirectory=guardian), else this, its directory made 0700. */
#define GD_CONTROL_DEFAULT_DIR "/run/guardian"
#define GD_CONTROL_SOCKET_NAME "guardian.sock"

typedef enum gd_control_doc {
        GD_DOC_STATUS,
        GD_DOC_STATUS_JSON,
        GD_DOC_METRICS,
} gd_control_doc;

/* Render a document into a malloc'd buffer (*ret_body, *ret_len).
 * Returns 0 or a negative errno. */
typedef int (*gd_control_render_fn)(void *userdata, gd_control_doc doc, char **ret_body,
                                    size_t *ret_len);

typedef struct gd_control_conn {
        int fd;                  /* -1: free */
        uint32_t generation;
        bool metrics_only;       /* came in on the TCP listener */
        bool responding;
        uint64_t deadline_ms;
        size_t req_len;
        char req[GD_CONTROL_REQUEST_MAX];
        char *out;
        size_t out_len, out_off;
} gd_control_conn;

typedef struct gd_control {
        int epfd;
        int unix_fd, tcp_fd;     /* -1 when not listening */
        uint32_t next_generation;
        gd_control_render_fn render;
        void *userdata;
        bool muted;              /* listeners out of epoll until the next tick (EMFILE) */
        char path[108];          /* the socket's path, "" when none */
        gd_control_conn conns[GD_CONTROL_MAX_CLIENTS];
} gd_control;

/* The default socket path into buf. Returns 0 or -ENAMETOOLONG. */
int gd_control_default_path(char *buf, size_t size);

/* Parse a request (the bytes received so far) as a client of the Unix
 * socket (metrics_only false) or of the TCP listener (true) may send it.
 * Returns 0 when more bytes are needed, 200 with *ret_doc set, or the HTTP
 * status of the error: 400 (malformed), 404 (unknown path), 405 (not GET),
 * 431 (GD_CONTROL_REQUEST_MAX bytes and no end of headers). Pure. */
int gd_control_parse_request(const char *buf, size_t len, bool metrics_only,
                             gd_control_doc *ret_doc);

/* Parse "127.0.0.1:PORT" or "[::1]:PORT" (any 127.0.0.0/8 address).
 * Returns 0, -EINVAL when malformed, -EADDRNOTAVAIL when not loopback.
 * Pure. */
int gd_control_parse_address(const char *s, struct sockaddr_storage *ret_addr,
                             socklen_t *ret_len);

/* Create the listeners and register them in epfd: the Unix socket at
 * socket_path (NULL: the default; "none": no socket) and, when
 * metrics_address is not NULL, the TCP listener. A failure is logged and
 * returned as a negative errno; for the default socket path the caller may
 * go on without it (c->unix_fd stays -1). */
int gd_control_open(gd_control *c, int epfd, const char *socket_path,
                    const char *metrics_address, gd_control_render_fn render, void *userdata);

/* Handle an epoll event whose tag is GD_TAG_CONTROL_*. */
void gd_control_handle(gd_control *c, uint64_t tag, uint32_t events, uint64_t now_ms);

/* Drop clients past their deadline. Call on every tick. */
void gd_control_tick(gd_control *c, uint64_t now_ms);

/* Close every connection and listener (the socket file stays: a running
 * sandbox may not unlink, and the next start replaces a stale one). */
void gd_control_close(gd_control *c);
