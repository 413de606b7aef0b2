/* The control socket's listeners, made at start-up (the sandbox forbids
 * socket() after), and the metrics listener's retries from the loop. See
 * control.h for the contracts. */
#include "daemon/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/evtag.h"
#include "util/clock.h"

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
                gd_log(GD_LOG_ERR, "cannot create {dir} for the control socket: {error}",
                       GD_STR("dir", dir), GD_ERRNO(errno));
                return -errno;
        }
        if (lstat(dir, &st) < 0) {
                gd_log(GD_LOG_ERR, "control socket directory {dir}: {error}", GD_STR("dir", dir),
                       GD_ERRNO(errno));
                return -errno;
        }
        /* The default directory, ours but open to others: a Kubernetes
         * emptyDir is created 0777. Not a sticky /tmp-like directory. */
        if (create && S_ISDIR(st.st_mode) && (st.st_uid == 0 || st.st_uid == geteuid()) &&
            !(st.st_mode & S_ISVTX) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
                if (chmod(dir, 0700) == 0 && lstat(dir, &st) == 0)
                        gd_log(GD_LOG_NOTICE, "control socket directory {dir} was writable by "
                                              "others: now mode 0700",
                               GD_STR("dir", dir));
        }
        if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
            (st.st_mode & (S_IWGRP | S_IWOTH))) {
                gd_log(GD_LOG_ERR, "refusing to put the control socket in {dir}: it must be a "
                                   "directory (not a symlink) owned by root or by guardian's "
                                   "user and writable by nobody else",
                       GD_STR("dir", dir));
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
                gd_log(GD_LOG_ERR, "refusing to replace {path} with the control socket: it exists "
                                   "and is not a socket",
                       GD_STR("path", path));
                return -EEXIST;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
        int err = errno;
        close(fd);
        if (r == 0 || err == EAGAIN) {
                gd_log(GD_LOG_ERR, "another guardian is running with the control socket {path} "
                                   "(give this one --control-socket PATH or none)",
                       GD_STR("path", path));
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
                gd_log(GD_LOG_ERR, "control socket path {path} is too long (at most {max} bytes)",
                       GD_STR("path", path), GD_UINT("max", sizeof(sa.sun_path) - 1));
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
                gd_log(GD_LOG_ERR, "cannot listen on the control socket {path}: {error}",
                       GD_STR("path", path), GD_ERRNO(err));
                close(fd);
                return -err;
        }
        c->unix_fd = fd;
        snprintf(c->path, sizeof(c->path), "%s", path);
        return 0;
}

/* The port of a parsed address. */
static unsigned port_of(const struct sockaddr_storage *ss) {
        return ss->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
                                         : ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* bind() (unless done) and listen() on the metrics socket. Returns 0 or a
 * negative errno; a socket that failed to bind stays unbound and may try
 * again, one that bound but could not listen (a socket with SO_REUSEADDR
 * bound there too) keeps its address and retries listen() alone. */
static int metrics_attempt(gd_control *c) {
        gd_control_metrics *m = &c->metrics;

        if (!m->bound) {
                if (bind(c->tcp_fd, (struct sockaddr *)&m->sa, m->sa_len) < 0)
                        return -errno;
                m->bound = true;
        }
        if (listen(c->tcp_fd, GD_CONTROL_MAX_CLIENTS) < 0)
                return -errno;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = gd_tag(GD_TAG_CONTROL_LISTEN, 1, 0)};
        if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->tcp_fd, &ev) < 0)
                return -errno;
        m->listening = true;
        m->error = 0;
        c->own_generation++;
        return 0;
}

static const char *errno_name(int err) {
        const char *s = strerrorname_np(err);
        return s ? s : "?";
}

/* The socket is made now, whatever happens to the port: the sandbox
 * forbids socket() later, and allows bind() and listen() on this fd. */
static int listen_tcp(gd_control *c, const char *address, uint64_t now_ms) {
        gd_control_metrics *m = &c->metrics;
        int r = gd_control_parse_address(address, &m->sa, &m->sa_len);

        if (r == -EADDRNOTAVAIL) {
                gd_log(GD_LOG_ERR, "refusing --metrics-address {address}: not a loopback address; "
                                   "guardian serves metrics on 127.0.0.1 or [::1] only (expose "
                                   "them further with a proxy, or scrape the control socket)",
                       GD_STR("address", address));
                return r;
        }
        if (r < 0 || strlen(address) >= sizeof(m->address)) {
                gd_log(GD_LOG_ERR, "bad --metrics-address {address}: want 127.0.0.1:PORT or [::1]:PORT",
                       GD_STR("address", address));
                return -EINVAL;
        }
        /* Checked by the parser: digits, dots, colons and brackets only. */
        snprintf(m->address, sizeof(m->address), "%s", address);
        m->privileged_port = port_of(&m->sa) < 1024;
        int fd = socket(m->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = -errno;
                gd_log(GD_LOG_ERR, "cannot make a socket for metrics on {address}: {error}",
                       GD_STR("address", address), GD_ERRNO(-r));
                return r;
        }
        int one = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        c->tcp_fd = fd;
        r = metrics_attempt(c);
        if (r == 0)
                return 0;
        /* Taken (any local user can bind a loopback port while guardian
         * restarts), or not there yet: no reason not to guard. */
        m->error = -r;
        m->failed_attempts = 1;
        m->down_since_ms = now_ms;
        m->retry_at_ms = now_ms + GD_CONTROL_METRICS_RETRY_MS;
        gd_log(GD_LOG_WARNING, "cannot listen on {address} for metrics: {error} ({errno}): "
                               "running without the metrics listener, retrying every "
                               "{retry_ms} ms (guardian status shows it; the control socket "
                               "serves /metrics meanwhile)",
               GD_STR("address", address), GD_ERRNO(-r), GD_STR("errno", errno_name(-r)),
               GD_INT("retry_ms", GD_CONTROL_METRICS_RETRY_MS));
        return 0;
}

int gd_control_metrics_retry(gd_control *c, uint64_t now_ms) {
        gd_control_metrics *m = &c->metrics;

        if (c->tcp_fd < 0 || m->listening)
                return 0;
        if (now_ms < m->retry_at_ms)
                return 0;
        m->retry_at_ms = now_ms + GD_CONTROL_METRICS_RETRY_MS;
        int r = metrics_attempt(c);
        if (r == 0) {
                gd_log(GD_LOG_NOTICE, "metrics listener up on {address} after {attempts} failed "
                                      "attempts ({down_ms} ms without it)",
                       GD_STR("address", m->address), GD_UINT("attempts", m->failed_attempts),
                       GD_UINT("down_ms", now_ms - m->down_since_ms));
                return 1;
        }
        m->failed_attempts++;
        if (-r != m->error) {
                gd_log(GD_LOG_WARNING, "still cannot listen on {address} for metrics: {error} "
                                       "({errno}), retrying",
                       GD_STR("address", m->address), GD_ERRNO(-r),
                       GD_STR("errno", errno_name(-r)));
                m->error = -r;
                c->own_generation++;
        }
        return 0;
}

int gd_control_open(gd_control *c, int epfd, const char *socket_path,
                    const char *metrics_address, gd_control_render_fn render,
                    gd_control_generation_fn state_generation, void *userdata) {
        char def[sizeof(c->path)];
        int r = 0;

        gd_control_init(c, epfd, render, state_generation, userdata);
        /* glibc reads the time zone file on the first gmtime_r: now, not
         * from the sandboxed loop when a status shows a kill's time. */
        time_t epoch = 0;
        struct tm tm;
        (void)gmtime_r(&epoch, &tm);

        if (metrics_address) {
                r = listen_tcp(c, metrics_address, gd_now_ms());
                if (r < 0)
                        return r;
        }
        if (!socket_path || strcmp(socket_path, "none") != 0) {
                bool is_default = !socket_path;
                if (is_default && gd_control_default_path(def, sizeof(def)) == 0)
                        socket_path = def;
                r = socket_path ? listen_unix(c, socket_path, is_default) : -ENAMETOOLONG;
        }
        if (c->unix_fd >= 0) {
                struct epoll_event ev = {.events = EPOLLIN,
                                         .data.u64 = gd_tag(GD_TAG_CONTROL_LISTEN, 0, 0)};
                epoll_ctl(epfd, EPOLL_CTL_ADD, c->unix_fd, &ev);
        }
        return r;
}
