#!/usr/bin/python3
"""Grace periods on a real kernel: SIGTERM first, SIGKILL once the grace
runs out (both through the victim's pidfd); and a guardian stopped while a
victim is still in its grace sends the SIGKILL before it exits and records
the kill as it ended."""
import os
import select
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import Guardian, make_cgroup, wait_exit  # noqa: E402

POLICY = """version: 1
workloads:
  - name: stubborn
    match: { cgroup: "grace-*" }
    grace: {grace}
"""
LIMITS = {"memory.max": "160M", "memory.high": "96M", "memory.swap.max": "0"}


def wait_sigterm(hog, timeout):
    """The time the hog said it got SIGTERM (it ignores it), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([hog.stdout], [], [], deadline - time.monotonic())
        if ready:
            line = hog.stdout.readline()
            if not line:
                return None
            if line.startswith("sigterm"):
                return time.monotonic()
    return None


def start(name, grace):
    policy = f"/tmp/policy-{name}.yaml"
    gdvm.write(policy, POLICY.replace("{grace}", grace))
    g = Guardian(name, "--policy", policy)
    cg = make_cgroup(f"grace-{name}", LIMITS)
    hog = gdvm.start_eater(cg, grow_ms=2, ignore_sigterm=True)
    return g, cg, hog


def grace_runs_out(t):
    g, cg, hog = start("runs-out", "3s")
    try:
        term_at = wait_sigterm(hog, 60)
        t.check("grace: SIGTERM first", term_at is not None, g.text()[-2000:])
        rc = wait_exit(hog, 30)
        died_at = time.monotonic()
        t.check("grace: then SIGKILL", rc == -signal.SIGKILL, f"exit {rc}")
        if term_at is not None:
            print(f"info grace: SIGTERM to death {died_at - term_at:.2f}s (grace 3s)", flush=True)
            t.check("grace: the SIGKILL waited for the grace", died_at - term_at >= 2.5,
                    f"{died_at - term_at:.2f}s")
        recs = g.wait_records(lambda r: r["pid"] == hog.pid and r["event"] == "kill")
        kills = [r for r in recs if r["pid"] == hog.pid and r["event"] == "kill"]
        t.check("grace: one kill record, killed", len(kills) == 1 and kills[0]["result"] == "killed"
                and kills[0]["trigger_to_death_ms"] is not None, f"{recs}")
    finally:
        hog.kill()
        hog.wait()
        gdvm.remove_cgroup(cg)
        t.check("grace: guardian exits 0", g.stop() == 0, g.text()[-2000:])


def stopped_during_grace(t):
    g, cg, hog = start("stopped", "5m")
    try:
        term_at = wait_sigterm(hog, 60)
        t.check("stopped: SIGTERM sent, the victim lingers", term_at is not None
                and hog.poll() is None, g.text()[-2000:])
        rc_g = g.stop()
        t.check("stopped: guardian exits 0", rc_g == 0, g.text()[-2000:])
        rc = wait_exit(hog, 10)
        t.check("stopped: guardian sent the SIGKILL before it exited", rc == -signal.SIGKILL,
                f"exit {rc}")
        t.check("stopped: and says so", "still in its SIGTERM grace, SIGKILL now" in g.text(),
                g.text()[-2000:])
        kills = [r for r in g.records() if r["pid"] == hog.pid]
        print(f"info stopped: records {kills}", flush=True)
        # The exit was waited for (up to 2 s): a small victim is gone by then.
        t.check("stopped: one record, killed", len(kills) == 1 and kills[0]["event"] == "kill"
                and kills[0]["result"] == "killed", f"{kills}")
    finally:
        hog.kill()
        hog.wait()
        gdvm.remove_cgroup(cg)
        g.stop()


def main():
    return gdvm.run_scenarios("grace", (grace_runs_out, stopped_during_grace))


if __name__ == "__main__":
    sys.exit(main())
