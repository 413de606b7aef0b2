/* The client side of the control socket: one request, print the body. */
#include "cli/status.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/control.h"
#include "util/clock.h"

/* The daemon answers from memory at once; this is for a wedged one. */
#define STATUS_TIMEOUT_MS 10000
/* Metrics of a host with thousands of cgroups: a few MiB at most. */
#define RESPONSE_MAX (64u << 20)

static void status_usage(FILE *out) {
        fputs("usage: guardian status [--json | --metrics] [--socket PATH]\n"
              "\n"
              "Show what the running daemon watches: each cgroup's memory and pressure, the\n"
              "workload it matches and its state, and the recent kills. --json prints the\n"
              "same as one JSON object, --metrics the Prometheus metrics. The control socket\n"
              "is root-only; by default $RUNTIME_DIRECTORY/" GD_CONTROL_SOCKET_NAME " (under\n"
              "systemd) or " GD_CONTROL_DEFAULT_DIR "/" GD_CONTROL_SOCKET_NAME ".\n"
              "Exit status: 0, 1 on an error, 3 when guardian is not running.\n",
              out);
}

static int connect_socket(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        if (strlen(path) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "guardian status: socket path too long: %s\n", path);
                return -1;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                fprintf(stderr, "guardian status: socket: %s\n", strerror(errno));
                return -1;
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                return fd;
        int err = errno;
        close(fd);
        if (err == ENOENT || err == ECONNREFUSED)
                fprintf(stderr, "guardian status: guardian is not running (%s %s)\n",
                        err == ENOENT ? "no control socket at" : "nobody listens on", path);
        else if (err == EACCES || err == EPERM)
                fprintf(stderr, "guardian status: cannot open %s: %s (the control socket is "
                                "root-only: run as root)\n",
                        path, strerror(err));
        else
                fprintf(stderr, "guardian status: cannot connect to %s: %s\n", path,
                        strerror(err));
        return err == ENOENT || err == ECONNREFUSED ? -3 : -1;
}

static int send_all(int fd, const char *buf, size_t len) {
        while (len) {
                ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Read until EOF, within the deadline. Returns the length or -1. */
static ssize_t read_all(int fd, char **ret_buf) {
        size_t cap = 65536, len = 0;
        char *buf = malloc(cap);
        uint64_t deadline = gd_now_ms() + STATUS_TIMEOUT_MS;

        while (buf) {
                uint64_t now = gd_now_ms();
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0) {
                        fprintf(stderr, "guardian status: no answer from guardian in %d s\n",
                                STATUS_TIMEOUT_MS / 1000);
                        break;
                }
                if (len + 1 >= cap) {
                        char *n = cap < RESPONSE_MAX ? realloc(buf, cap * 2) : NULL;
                        if (!n)
                                break;
                        buf = n;
                        cap *= 2;
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "guardian status: read: %s\n", strerror(errno));
                        break;
                }
                if (n == 0) {
                        buf[len] = '\0';
                        *ret_buf = buf;
                        return (ssize_t)len;
                }
                len += (size_t)n;
        }
        free(buf);
        return -1;
}

int gd_cmd_status(int argc, char **argv) {
        static const struct option options[] = {
                {"json", no_argument, NULL, 'j'},
                {"metrics", no_argument, NULL, 'm'},
                {"socket", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *path = NULL, *target = "/status";
        char def[108], *resp = NULL;
        int opt;

        optind = 1;
        while ((opt = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
                switch (opt) {
                case 'j': target = "/status.json"; break;
                case 'm': target = "/metrics"; break;
                case 's': path = optarg; break;
                case 'h': status_usage(stdout); return 0;
                default: status_usage(stderr); return 2;
                }
        }
        if (optind != argc) {
                status_usage(stderr);
                return 2;
        }
        if (!path) {
                if (gd_control_default_path(def, sizeof(def)) < 0) {
                        fprintf(stderr, "guardian status: $RUNTIME_DIRECTORY is too long\n");
                        return 1;
                }
                path = def;
        }
        int fd = connect_socket(path);
        if (fd < 0)
                return -fd;
        char req[64];
        int len = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", target);
        ssize_t n = send_all(fd, req, (size_t)len) < 0 ? -1 : read_all(fd, &resp);
        close(fd);
        if (n < 0) {
                fprintf(stderr, "guardian status: no complete answer from %s\n", path);
                return 1;
        }
        char *body = strstr(resp, "\r\n\r\n");
        int code = 0;
        if (!body || sscanf(resp, "HTTP/1.%*d %d", &code) != 1) {
                fprintf(stderr, "guardian status: malformed answer from %s\n", path);
                free(resp);
                return 1;
        }
        body += 4;
        if (code != 200) {
                fprintf(stderr, "guardian status: the daemon answered %d: %s", code, body);
                free(resp);
                return 1;
        }
        fwrite(body, 1, (size_t)n - (size_t)(body - resp), stdout);
        free(resp);
        return fflush(stdout) == 0 ? 0 : 1;
}
