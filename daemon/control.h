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
 * GD_CONTROL_IDLE_MS.
 *
 * A client never holds up the kill path: each document is rendered at most
 * once per GD_CONTROL_CACHE_MS (sooner when the daemon's state generation
 * moves, never twice within GD_CONTROL_CACHE_MIN_MS) and the rendered bytes
 * are shared by every client asking meanwhile; one wake-up renders at most
 * one document and writes at most GD_CONTROL_WRITE_BUDGET bytes to each
 * client, the rest waits for EPOLLOUT.
 *
 * The metrics listener may find its port taken (any local user can bind a
 * loopback port while guardian restarts): guardian then runs without it and
 * retries bind() and listen() on the same socket from the tick, every
 * GD_CONTROL_METRICS_RETRY_MS; the sandbox allows those two calls on that
 * one fd only. */
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
/* A rendered document is served again for this long: at 2,000 cgroups a
 * render costs ~22 ms of the loop, a cached answer a copy; status and
 * Prometheus scrapes (15 s and up) do not need it fresher. */
#define GD_CONTROL_CACHE_MS 1000
/* ...and re-rendered sooner when the state generation moved (a kill, a
 * decision, a reload), but not more often than this: a burst of kills
 * cannot turn every request into a render. */
#define GD_CONTROL_CACHE_MIN_MS 100
/* Renders per loop wake-up; a client whose document needs another waits
 * for the next wake-up (EPOLLOUT, which comes at once). */
#define GD_CONTROL_RENDERS_PER_WAKEUP 1
/* Bytes written to one client per wake-up: a 1 MiB /metrics goes out in
 * pieces between the loop's other work. */
#define GD_CONTROL_WRITE_BUDGET (64u << 10)
/* A metrics listener whose port was taken is retried this often (on the
 * tick: the slow tick may be longer, up to the policy's poll_interval). */
#define GD_CONTROL_METRICS_RETRY_MS 1000
/* "127.255.255.255:65535", "[::1]:65535" and some slack. */
#define GD_CONTROL_ADDRESS_MAX 64

typedef enum gd_control_doc {
        GD_DOC_STATUS,
        GD_DOC_STATUS_JSON,
        GD_DOC_METRICS,
} gd_control_doc;

#define GD_CONTROL__N_DOCS 3

/* Render a document into a malloc'd buffer (*ret_body, *ret_len).
 * Returns 0 or a negative errno. */
typedef int (*gd_control_render_fn)(void *userdata, gd_control_doc doc, char **ret_body,
                                    size_t *ret_len);

/* The daemon's state generation: a number that only grows and moves when
 * something a document shows changed at once (a kill, a decision, a
 * reload), not when sampled values drift. */
typedef uint64_t (*gd_control_generation_fn)(void *userdata);

/* Rendered bytes, shared by the cache and the clients still writing them. */
typedef struct gd_control_blob {
        unsigned refs;
        size_t len;
        char *data;              /* the render's own buffer: not copied */
} gd_control_blob;

typedef struct gd_control_cached {
        gd_control_blob *blob;   /* NULL: not rendered yet (or the render failed) */
        uint64_t rendered_ms;
        uint64_t generation;
} gd_control_cached;

typedef enum gd_conn_state {
        GD_CONN_READING,         /* the request is coming */
        GD_CONN_WAITING,         /* parsed; its document waits for a render (EPOLLOUT) */
        GD_CONN_WRITING,         /* the answer is going out */
} gd_conn_state;

typedef struct gd_control_conn {
        int fd;                  /* -1: free */
        uint32_t generation;
        bool metrics_only;       /* came in on the TCP listener */
        gd_conn_state state;
        gd_control_doc doc;      /* GD_CONN_WAITING: what was asked for */
        uint64_t deadline_ms;
        size_t req_len;
        char req[GD_CONTROL_REQUEST_MAX];
        char head[256];          /* status line and headers */
        size_t head_len;
        gd_control_blob *body;   /* a reference; NULL: none */
        size_t out_off;          /* bytes of head, then body, written */
        bool pollout;            /* epoll waits for EPOLLOUT, not EPOLLIN */
} gd_control_conn;

/* The metrics listener, as `guardian status` shows it. */
typedef struct gd_control_metrics {
        char address[GD_CONTROL_ADDRESS_MAX]; /* "" when not configured */
        bool listening;          /* tcp_fd listens and is in epoll */
        bool bound;              /* bind() done, listen() still failing */
        bool privileged_port;    /* below 1024: binding needs CAP_NET_BIND_SERVICE */
        int error;               /* errno of the last failed attempt; 0 when listening */
        uint64_t failed_attempts;
        uint64_t down_since_ms;  /* monotonic, the first failure */
        uint64_t retry_at_ms;    /* next attempt; 0: at the first tick */
        struct sockaddr_storage sa;
        socklen_t sa_len;
} gd_control_metrics;

typedef struct gd_control {
        int epfd;
        int unix_fd, tcp_fd;     /* -1 when none; tcp_fd may exist and not listen yet */
        uint32_t next_generation;
        gd_control_render_fn render;
        gd_control_generation_fn state_generation; /* NULL: the cache only ages */
        void *userdata;
        bool muted;              /* listeners out of epoll until the next tick (EMFILE) */
        char path[108];          /* the socket's path, "" when none */
        gd_control_metrics metrics;
        uint64_t own_generation; /* moves with the listener's state */
        unsigned renders_left;   /* in this wake-up */
        uint64_t renders;        /* documents rendered since start (tests count them) */
        gd_control_cached cache[GD_CONTROL__N_DOCS];
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

/* Set c up with no listener yet (unix_fd and tcp_fd -1, no clients): what
 * gd_control_open starts from, and what tests drive directly. */
void gd_control_init(gd_control *c, int epfd, gd_control_render_fn render,
                     gd_control_generation_fn state_generation, void *userdata);

/* gd_control_init, then create the listeners and register them in epfd:
 * the Unix socket at socket_path (NULL: the default; "none": no socket)
 * and, when metrics_address is not NULL, the TCP listener. A failure is
 * logged and returned as a negative errno; for the default socket path the
 * caller may go on without it (c->unix_fd stays -1). A metrics port that
 * cannot be bound now (taken, or not yet available) is no failure: it is
 * logged, c->metrics says so, and gd_control_tick retries it. A malformed
 * or non-loopback metrics_address, or no socket for it, is one. */
int gd_control_open(gd_control *c, int epfd, const char *socket_path,
                    const char *metrics_address, gd_control_render_fn render,
                    gd_control_generation_fn state_generation, void *userdata);

/* One more attempt at binding and listening on the metrics socket, when
 * one is configured, not listening and due at now_ms (every
 * GD_CONTROL_METRICS_RETRY_MS). Logs the first success and a change of
 * errno. Returns 1 when it listens now, 0 when not (or nothing to do). */
int gd_control_metrics_retry(gd_control *c, uint64_t now_ms);

/* A new loop wake-up: GD_CONTROL_RENDERS_PER_WAKEUP renders are allowed
 * again. Call before handing it the wake-up's control events. */
void gd_control_wakeup(gd_control *c);

/* The document doc as of now_ms, as a new reference (drop it with
 * gd_control_blob_unref): the cached bytes while they are younger than
 * GD_CONTROL_CACHE_MS and the state generation is the one they were
 * rendered at (or younger than GD_CONTROL_CACHE_MIN_MS whatever it is),
 * else a fresh render, which then replaces them in the cache. Returns 0,
 * -EAGAIN when a render is due but this wake-up's renders are spent, or
 * the render's negative errno. */
int gd_control_document(gd_control *c, gd_control_doc doc, uint64_t now_ms,
                        gd_control_blob **ret_blob);

/* Drop a reference; the last one frees the bytes. NULL is fine. */
void gd_control_blob_unref(gd_control_blob *b);

/* Handle an epoll event whose tag is GD_TAG_CONTROL_*. */
void gd_control_handle(gd_control *c, uint64_t tag, uint32_t events, uint64_t now_ms);

/* Drop clients past their deadline, un-mute the listeners, retry the
 * metrics listener. Call on every tick. */
void gd_control_tick(gd_control *c, uint64_t now_ms);

/* Close every connection and listener and drop the cache (the socket file
 * stays: a running sandbox may not unlink, and the next start replaces a
 * stale one). */
void gd_control_close(gd_control *c);
