#!/usr/bin/python3
"""guardian at the kernel's limits.

Scenarios:
  watches   fs.inotify.max_user_watches set just above what is in use
            (restored after): cgroups created past it get no directory
            watch. guardian says so once (naming a cgroup and ENOSPC), counts
            it (`guardian status`, /metrics), and still finds a cgroup created
            later below one whose watch was refused (by listing it on the slow
            tick): it shows in `guardian status`, and a memory.high hog there is
            killed."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import CG, GUARDIAN, Guardian, make_cgroup  # noqa: E402

SYSCTL = "/proc/sys/fs/inotify/max_user_watches"
PARENTS = 6


def inotify_watches(pid):
    """Watches guardian's inotify instances hold, from their fdinfo."""
    n = 0
    fddir = f"/proc/{pid}/fd"
    for fd in os.listdir(fddir):
        try:
            if os.readlink(f"{fddir}/{fd}") != "anon_inode:inotify":
                continue
            with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                n += sum(1 for line in f if line.startswith("inotify wd:"))
        except OSError:
            pass
    return n


def status(*args):
    return subprocess.run([GUARDIAN, "status", *args], capture_output=True, text=True,
                          timeout=30)


def watches(t):
    old = gdvm.read(SYSCTL).strip()
    g = Guardian("limits")
    parents = [f"{CG}/lim-{i}" for i in range(PARENTS)]
    hog = None
    try:
        used = inotify_watches(g.proc.pid)
        # Room for half of the new parents: the rest are past the limit.
        gdvm.write(SYSCTL, str(used + PARENTS // 2))
        print(f"info watches: guardian holds {used} watches; limit {used + PARENTS // 2} "
              f"(was {old})", flush=True)
        for p in parents:
            os.mkdir(p)
            gdvm.write(f"{p}/cgroup.subtree_control", "+memory")
        time.sleep(2)
        g.wait_log("cannot watch cgroup=", 10)
        line = next(l for l in g.text().splitlines() if "cannot watch cgroup=" in l)
        print(f"info watches: {line}", flush=True)
        t.check("watches: the refusal is logged, naming a cgroup and ENOSPC",
                "cgroup=lim-" in line and "No space left on device" in line, line)
        t.check("watches: logged once", g.text().count("cannot watch cgroup=") == 1,
                g.text()[-2000:])
        doc = json.loads(status("--json").stdout)
        counters = doc["counters"]
        t.check("watches: status counts the refusals and the cgroups without a watch",
                counters["inotify_watch_failures"] >= PARENTS // 2
                and counters["cgroups_without_dir_watch"] >= PARENTS // 2, f"{counters}")
        text = status().stdout
        t.check("watches: the text status says so", "without a directory watch" in text,
                text[:400])
        metrics = status("--metrics").stdout
        t.check("watches: /metrics has the counter and the gauge",
                any(l.startswith("guardian_inotify_watch_failures_total ")
                    and int(l.split()[1]) >= PARENTS // 2 for l in metrics.splitlines())
                and any(l.startswith("guardian_cgroups_without_dir_watch ")
                        and int(l.split()[1]) >= PARENTS // 2 for l in metrics.splitlines()),
                "\n".join(l for l in metrics.splitlines() if "watch" in l))

        # The last parent was created past the limit: nothing reports its
        # children but the listing on the slow tick.
        job = make_cgroup("lim-5/job", {"memory.high": "64M", "memory.swap.max": "0"})
        # Found, not merely reached through lim-5's hierarchical counters
        # (a kill would come from lim-5's own snapshot as well).
        deadline, seen = time.monotonic() + 10, []
        while time.monotonic() < deadline:
            seen = [c["cgroup"] for c in json.loads(status("--json").stdout)["cgroups"]]
            if any(c.strip("/") == "lim-5/job" for c in seen):
                break
            time.sleep(0.2)
        t.check("watches: a cgroup created below one without a watch is watched",
                any(c.strip("/") == "lim-5/job" for c in seen), f"{seen}")
        hog = gdvm.start_eater(job, grow_ms=1)
        start = time.monotonic()
        try:
            rc = hog.wait(90)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - start
        t.check("watches: the hog below an unwatched cgroup is killed", rc == -signal.SIGKILL,
                f"exit {rc} after {took:.1f}s")
        recs = [r for r in g.wait_records(lambda r: r["event"] == "kill")
                if r["event"] == "kill"]
        t.check("watches: by guardian, in lim-5/job",
                any(r.get("cgroup") in ("lim-5/job", "/lim-5/job") for r in recs), f"{recs}")
        print(f"info watches: killed after {took:.1f}s", flush=True)
    finally:
        gdvm.write(SYSCTL, old)
        if hog and hog.poll() is None:
            hog.kill()
            hog.wait()
        for p in parents:
            gdvm.remove_cgroup(p)
        t.check("watches: guardian exits 0 on SIGTERM", g.stop() == 0, g.text()[-2000:])
        t.check("watches: the sysctl is restored", gdvm.read(SYSCTL).strip() == old)


def main():
    return gdvm.run_scenarios("limits", (watches,))


if __name__ == "__main__":
    sys.exit(main())
