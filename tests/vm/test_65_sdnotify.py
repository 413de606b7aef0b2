#!/usr/bin/python3
"""guardian run under a service manager that speaks sd_notify, played by a
datagram socket this test owns (no systemd in the VM): READY=1 once it
watches, WATCHDOG=1 often enough for WatchdogSec, RELOADING=1 then READY=1
around a reload by SIGHUP and by a policy file change, STOPPING=1 on
SIGTERM; a watchdog meant for another process (WATCHDOG_PID) is not fed."""
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import Guardian  # noqa: E402

WATCHDOG_USEC = 2_000_000
# systemd wants a ping within the interval and advises half of it; the test
# asks for one at least every second, which half of 2 s is.
MAX_GAP_S = 1.0
TMP = "/tmp/gd-sdnotify-test"


class Manager:
    """The service manager's end: a bound datagram socket, messages kept
    with the monotonic time they arrived."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.msgs = []  # (time, {key: value})

    def pump(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                data = self.sock.recv(4096).decode()
                fields = dict(line.split("=", 1) for line in data.splitlines() if "=" in line)
                self.msgs.append((time.monotonic(), fields))

    def wait_for(self, key, timeout, since=0.0):
        """The first message after `since` that has key, or None."""
        deadline = time.monotonic() + timeout
        while True:
            for at, m in self.msgs:
                if at >= since and key in m:
                    return at, m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.pump(min(left, 0.2))

    def times(self, key, since=0.0):
        return [at for at, m in self.msgs if at >= since and key in m]

    def close(self):
        self.sock.close()
        os.unlink(self.path)


def start(name, env, *args):
    """Guardian with the given notify environment; ours is left as it was."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return Guardian(name, *args)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def lifecycle(t):
    shutil.rmtree(TMP, ignore_errors=True)
    policy_dir = f"{TMP}/policy.d"
    os.makedirs(policy_dir)
    policy = subprocess.run([gdvm.GUARDIAN, "default-policy"], check=True, capture_output=True,
                            text=True).stdout
    with open(f"{policy_dir}/guardian.yaml", "w") as f:
        f.write(policy)
    m = Manager(f"{TMP}/notify")
    t0 = time.monotonic()
    g = start("sdnotify", {"NOTIFY_SOCKET": m.path, "WATCHDOG_USEC": str(WATCHDOG_USEC)},
              "--dry-run", "--policy-dir", policy_dir)
    try:
        ready = m.wait_for("READY", 30, t0)
        t.check("READY=1 after start", ready and ready[1]["READY"] == "1", f"got {m.msgs}")
        if ready:
            t.check("READY carries a STATUS saying what it watches",
                    ready[1].get("STATUS", "").startswith("watching "), f"{ready[1]}")
        env = open(f"/proc/{g.proc.pid}/environ", "rb").read()
        t.check("the daemon started with NOTIFY_SOCKET (the test's own check)",
                b"NOTIFY_SOCKET=" in env, "not in its environment")

        # The watchdog over a few seconds of an idle daemon.
        since = ready[0] if ready else t0
        m.pump(4.5)
        pings = m.times("WATCHDOG", since)
        gaps = [b - a for a, b in zip([since] + pings, pings)]
        print(f"info sdnotify: {len(pings)} WATCHDOG=1 in {time.monotonic() - since:.1f} s, "
              f"largest gap {max(gaps, default=0):.3f} s", flush=True)
        t.check("WATCHDOG=1 keeps coming", len(pings) >= 4, f"{len(pings)} pings")
        t.check(f"WATCHDOG=1 at least every {MAX_GAP_S} s", gaps and max(gaps) <= MAX_GAP_S,
                f"gaps {[round(x, 3) for x in gaps]}")
        t.check("only WATCHDOG=1 between (no stray READY)",
                all(m.get("WATCHDOG") == "1" for at, m in m.msgs if at > since), f"{m.msgs}")

        # SIGHUP: RELOADING=1 (with MONOTONIC_USEC, systemd 253+), then READY=1.
        hup = time.monotonic()
        g.proc.send_signal(signal.SIGHUP)
        rel = m.wait_for("RELOADING", 10, hup)
        t.check("SIGHUP: RELOADING=1", rel is not None, f"{m.msgs[-5:]}")
        if rel:
            usec = int(rel[1].get("MONOTONIC_USEC", "0"))
            now = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
            t.check("RELOADING=1 carries MONOTONIC_USEC of now", 0 < usec <= now and now - usec < 10e6,
                    f"{usec} vs {now:.0f}")
            again = m.wait_for("READY", 10, rel[0])
            t.check("SIGHUP: READY=1 after the reload", again is not None, f"{m.msgs[-5:]}")

        # A policy file change (the inotify path, as a ConfigMap update).
        change = time.monotonic()
        with open(f"{policy_dir}/guardian.yaml", "a") as f:
            f.write("# touched by the test\n")
        rel = m.wait_for("RELOADING", 10, change)
        t.check("policy change: RELOADING=1", rel is not None, f"{m.msgs[-5:]}")
        if rel:
            t.check("policy change: READY=1 after it",
                    m.wait_for("READY", 10, rel[0]) is not None, f"{m.msgs[-5:]}")
        t.check("the watchdog went on through the reloads",
                len(m.times("WATCHDOG", change)) >= 1, f"{m.msgs[-5:]}")
    finally:
        term = time.monotonic()
        rc = g.stop()
        m.pump(0.3)
        t.check("SIGTERM: exit 0", rc == 0, g.text()[-2000:])
        t.check("SIGTERM: STOPPING=1", m.times("STOPPING", term), f"{m.msgs[-5:]}")
        m.close()
        shutil.rmtree(TMP, ignore_errors=True)


def watchdog_of_another(t):
    """WATCHDOG_PID of another process: notify, but feed no watchdog."""
    os.makedirs(TMP, exist_ok=True)
    m = Manager(f"{TMP}/notify2")
    t0 = time.monotonic()
    g = start("sdnotify-pid", {"NOTIFY_SOCKET": m.path, "WATCHDOG_USEC": str(WATCHDOG_USEC),
                               "WATCHDOG_PID": "1"}, "--dry-run")
    try:
        t.check("WATCHDOG_PID=1: READY=1 still", m.wait_for("READY", 30, t0) is not None,
                f"{m.msgs}")
        m.pump(2.5)
        t.check("WATCHDOG_PID=1: no WATCHDOG=1", not m.times("WATCHDOG"), f"{m.msgs}")
    finally:
        g.stop()
        m.close()
        shutil.rmtree(TMP, ignore_errors=True)


def no_manager(t):
    """Without NOTIFY_SOCKET guardian runs as always (and a bad one is only a warning)."""
    g = start("sdnotify-bad", {"NOTIFY_SOCKET": "/nonexistent/notify"}, "--dry-run")
    try:
        t.check("an unusable NOTIFY_SOCKET is a warning, not a failure",
                "NOTIFY_SOCKET" in g.text() and g.proc.poll() is None, g.text()[-1000:])
    finally:
        t.check("exits 0 on SIGTERM", g.stop() == 0, g.text()[-1000:])


def main():
    return gdvm.run_scenarios("sdnotify", (lifecycle, watchdog_of_another, no_manager))


if __name__ == "__main__":
    sys.exit(main())
