#!/usr/bin/python3
"""A tenant's thousands of cgroups must not disarm guardian (issue "never
disarmed", finding 9): each watched cgroup costs guardian 4 fds, and before
the fd budget it watched until EMFILE, with nothing kept for the kill path.

guardian runs with 1024 open files and without CAP_SYS_RESOURCE, so it
cannot raise that (an operator's LimitNOFILE=1024): its budget is
(1024 - 256 kept for the kill path) / 4 = 192 cgroups. A delegated subtree
then creates 2,000 empty cgroups (the ratio of ~20,000 at the default 65,536
fds, at a size a TCG VM creates in seconds).

  before  a cgroup watched before the flood needs a kill after it: the kill
          path still has its fds (snapshot, pidfd), the hog dies, by guardian.
  after   a container created after the flood, empty at first (as runtimes
          mkdir first and write limits next): it is left out, then takes the
          place of an empty tenant cgroup on a rescan (10 s) once it has a
          limit, and its hog dies by guardian, before the kernel.
  said    the log, `guardian status --json` and /metrics say how many are
          left out; guardian never holds more fds than its limit allows."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import Guardian, events, make_cgroup, wait_exit  # noqa: E402

TENANT_CGROUPS = int(os.environ.get("TENANT_CGROUPS", "2000"))
NOFILE = 1024


def status_json():
    out = subprocess.run([gdvm.GUARDIAN, "status", "--json"], capture_output=True, text=True)
    try:
        return json.loads(out.stdout)
    except ValueError:
        return {"error": out.stdout + out.stderr}


def flood(t):
    before = make_cgroup("fd-before", {"memory.max": "256M", "memory.high": "128M",
                                       "memory.swap.max": "0"})
    tenant = make_cgroup("fd-tenant")
    procs, g, after = [], None, None
    try:
        g = Guardian("fds", binary=gdvm.RELEASE,
                     prefix=["setpriv", "--bounding-set=-sys_resource",
                             "prlimit", f"--nofile={NOFILE}:{NOFILE}", "--"])
        t0 = time.monotonic()
        for i in range(TENANT_CGROUPS):
            os.mkdir(f"{tenant}/c{i}")
        print(f"info fds: {TENANT_CGROUPS} cgroups created in {time.monotonic() - t0:.1f}s",
              flush=True)
        g.wait_log("fd budget reached", 60)
        time.sleep(2)  # let inotify's queue drain
        fds = len(os.listdir(f"/proc/{g.proc.pid}/fd"))
        t.check("fds: guardian stays within its budget", fds <= NOFILE - 200,
                f"{fds} fds open of {NOFILE}")
        st = status_json().get("daemon", {})
        t.check("fds: status says how many are not watched",
                st.get("unwatched_cgroups", 0) >= TENANT_CGROUPS - 200
                and st.get("max_watched_cgroups") == (NOFILE - 256) // 4, f"{st}")

        hog = gdvm.start_eater(before, grow_ms=2)
        procs.append(hog)
        rc = wait_exit(hog, 60)
        recs = g.wait_records(lambda r: r["event"] == "kill" and r["pid"] == hog.pid)
        t.check("before: the hog is SIGKILLed", rc == -signal.SIGKILL, f"exit {rc}")
        t.check("before: by guardian, its kill path had its fds",
                any(r["event"] == "kill" and r["pid"] == hog.pid and r["result"] == "killed"
                    for r in recs), f"{recs}\n{g.text()[-2000:]}")
        t.check("before: before the kernel's OOM killer", events(before)["oom_kill"] == 0,
                f"{events(before)}")

        after = make_cgroup("fd-after")
        time.sleep(1)
        for k, v in {"memory.max": "256M", "memory.high": "128M", "memory.swap.max": "0"}.items():
            gdvm.write(f"{after}/{k}", v)
        hog2 = gdvm.start_eater(after, grow_ms=20)
        procs.append(hog2)
        rc = wait_exit(hog2, 90)
        recs = g.wait_records(lambda r: r["event"] == "kill" and r["pid"] == hog2.pid)
        t.check("after: the new container's hog is SIGKILLed", rc == -signal.SIGKILL,
                f"exit {rc}")
        t.check("after: by guardian, once the container took an empty cgroup's place",
                any(r["event"] == "kill" and r["pid"] == hog2.pid and r["cgroup"] == "fd-after"
                    for r in recs), f"{recs}\n{g.text()[-2000:]}")
        t.check("after: before the kernel's OOM killer", events(after)["oom_kill"] == 0,
                f"{events(after)}")
        metrics = subprocess.run([gdvm.GUARDIAN, "status", "--metrics"], capture_output=True,
                                 text=True).stdout
        line = [x for x in metrics.splitlines() if x.startswith("guardian_unwatched_cgroups ")]
        t.check("said: /metrics has guardian_unwatched_cgroups",
                line and int(line[0].split()[1]) >= TENANT_CGROUPS - 200, f"{line}")
        t.check("said: guardian is still running", g.proc.poll() is None, g.text()[-2000:])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        if g:
            t.check("fds: guardian exits 0 on SIGTERM", g.stop() == 0, g.text()[-2000:])
        for cg in (before, after, tenant):
            if cg:
                gdvm.remove_cgroup(cg)


if __name__ == "__main__":
    sys.exit(gdvm.run_scenarios("fds", [flood]))
