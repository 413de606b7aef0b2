/* The sd_notify protocol without libsystemd: tell the service manager
 * (systemd's Type=notify, or anything that speaks the same datagrams) that
 * guardian is ready, reloading or stopping, and feed its watchdog.
 *
 * All the set-up (reading NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID;
 * socket(); connect()) happens in gd_sdnotify_open, at start-up, before
 * the sandbox. After that, sending is one send() (sendto(2)) on the
 * connected fd, plus clock_gettime for MONOTONIC_USEC. Without
 * NOTIFY_SOCKET every function is a no-op that returns 0. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

typedef struct gd_sdnotify {
        int fd;                 /* connected datagram socket; -1: no manager listens */
        uint64_t watchdog_usec; /* WATCHDOG_USEC meant for us; 0: no watchdog */
        uint64_t last_ping_usec;
} gd_sdnotify;

/* The socket address NOTIFY_SOCKET names: an absolute path, or "@name"
 * for the abstract namespace. Pure. Returns 0 and fills *ret_addr and
 * *ret_len; -EINVAL for an empty or relative value, -EAFNOSUPPORT for
 * forms this does not speak (vsock:...), -ENAMETOOLONG when it does not
 * fit sun_path. */
int gd_sdnotify_addr(const char *value, struct sockaddr_un *ret_addr, socklen_t *ret_len);

/* The watchdog interval that applies to process self, from the values of
 * WATCHDOG_USEC and WATCHDOG_PID (either may be NULL). Pure. Returns the
 * interval in microseconds, or 0 when there is no watchdog for us (unset,
 * zero, not a number, or WATCHDOG_PID names another process). */
uint64_t gd_sdnotify_watchdog_for(const char *usec, const char *pid, pid_t self);

/* Read the environment, unset NOTIFY_SOCKET, WATCHDOG_USEC and
 * WATCHDOG_PID (so that no child inherits them), and connect to the
 * manager's socket. *ret is always initialised: on failure it is the
 * no-op state. Returns 1 when connected, 0 when no manager asked for
 * notifications, negative errno when NOTIFY_SOCKET is set but unusable. */
int gd_sdnotify_open(gd_sdnotify *ret);

/* Send one message ("READY=1\nSTATUS=..."), as is. Returns 0 (also when
 * not connected) or a negative errno; never blocks. */
int gd_sdnotify_send(const gd_sdnotify *n, const char *msg);

/* READY=1, with STATUS=status when status is not NULL. */
int gd_sdnotify_ready(const gd_sdnotify *n, const char *status);

/* RELOADING=1 with MONOTONIC_USEC=now (CLOCK_MONOTONIC), as systemd 253+
 * asks before a reload; READY=1 follows when the reload is done. */
int gd_sdnotify_reloading(const gd_sdnotify *n);

/* STOPPING=1. */
int gd_sdnotify_stopping(const gd_sdnotify *n);

/* How often to ping, in microseconds: a quarter of the interval, so a late
 * tick or two still lands within it (systemd asks for at least half). 0
 * without a watchdog. */
uint64_t gd_sdnotify_ping_every(const gd_sdnotify *n);

/* WATCHDOG=1 if a ping is due at now_usec (monotonic); the caller's loop
 * must call this at least every gd_sdnotify_ping_every(). Returns 1 when
 * it pinged, 0 when not due or no watchdog, negative errno on failure. */
int gd_sdnotify_watchdog(gd_sdnotify *n, uint64_t now_usec);

void gd_sdnotify_close(gd_sdnotify *n);
