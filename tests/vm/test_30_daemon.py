#!/usr/bin/python3
"""guardian run on a real kernel: it must act before the kernel's OOM killer,
kill the right process (or cgroup), keep the protected one alive, write the
audit trail, and leave nothing behind as cgroups come and go."""
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import Guardian, events, make_cgroup, wait_exit  # noqa: E402

CG = "/sys/fs/cgroup"
RELEASE = os.path.join(gdvm.REPO, "build/guardian")


def noisy_neighbour(t, dry_run=False):
    name = "dry-run" if dry_run else "noisy-neighbour"
    g = Guardian(name, *(["--dry-run"] if dry_run else []))
    noisy = make_cgroup(f"{name}-batch", {"memory.max": "256M", "memory.high": "192M", "memory.swap.max": "0"})
    db = make_cgroup(f"{name}-db")
    procs = []
    try:
        database = gdvm.start_eater(db, mb=64)
        procs.append(database)
        hog = gdvm.start_eater(noisy, grow_ms=2)
        procs.append(hog)
        rc = wait_exit(hog, 60)
        recs = g.wait_records(lambda r: r["pid"] == hog.pid)
        if dry_run:
            would = [r for r in recs if r["event"] == "would-kill" and r["pid"] == hog.pid]
            t.check(f"{name}: audit says would kill the hog", would, f"records {recs}")
            t.check(f"{name}: nothing was killed by guardian",
                    not [r for r in recs if r["event"] in ("kill", "kill-cgroup")], f"{recs}")
            t.check(f"{name}: the hog died only if the kernel killed it",
                    rc is None or events(noisy)["oom_kill"] >= 1,
                    f"hog exit {rc}, events {events(noisy)}")
        else:
            t.check(f"{name}: the hog was SIGKILLed", rc == -signal.SIGKILL, f"exit {rc}")
            t.check(f"{name}: before the kernel's OOM killer (oom_kill stays 0)",
                    events(noisy)["oom_kill"] == 0, f"events {events(noisy)}")
            kills = [r for r in recs if r["event"] == "kill" and r["pid"] == hog.pid]
            t.check(f"{name}: the audit log has the kill", kills, f"records {recs}")
            if kills:
                k = kills[0]
                print(f"info {name}: trigger={k['trigger']} trigger_to_kill_ms="
                      f"{k['trigger_to_kill_ms']} trigger_to_death_ms={k['trigger_to_death_ms']} "
                      f"reason={k['reason']!r}", flush=True)
                t.check(f"{name}: the record explains it",
                        k["cgroup"] == f"{name}-batch" and k["trigger"] in
                        ("limit", "near-limit", "high", "pressure") and k["comm"] == "memeater"
                        and k["rss_pages"] > 0 and k["result"] == "killed"
                        and k["trigger_to_death_ms"] is not None, f"record {k}")
        t.check(f"{name}: the database survives", database.poll() is None,
                f"exit {database.poll()}")
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        gdvm.remove_cgroup(noisy)
        gdvm.remove_cgroup(db)
        t.check(f"{name}: guardian exits 0 on SIGTERM", g.stop() == 0, g.text()[-2000:])


def livelock(t):
    g = Guardian("livelock")
    cg = make_cgroup("livelock", {"memory.high": "64M", "memory.swap.max": "0"})
    hog = None
    try:
        hog = gdvm.start_eater(cg, grow_ms=1)
        start = time.monotonic()
        rc = wait_exit(hog, 90)
        took = time.monotonic() - start
        t.check("livelock: the throttled hog is killed", rc == -signal.SIGKILL,
                f"exit {rc} after {took:.1f}s")
        recs = [r for r in g.wait_records(lambda r: r["event"] == "kill") if r["event"] == "kill"]
        for r in recs:
            print(f"info livelock: trigger={r['trigger']} after {took:.1f}s "
                  f"reason={r['reason']!r}", flush=True)
        t.check("livelock: no memory.max, no kernel OOM kill",
                events(cg)["oom_kill"] == 0, f"{events(cg)}")
        t.check("livelock: killed for the stall (high or pressure trigger)",
                recs and recs[0]["trigger"] in ("high", "pressure"), f"{recs}")
    finally:
        if hog:
            hog.kill()
            hog.wait()
        gdvm.remove_cgroup(cg)
        g.stop()


def many_processes(t):
    g = Guardian("many")
    cg = make_cgroup("many", {"memory.max": "480M", "memory.high": "400M", "memory.swap.max": "0"})
    small, big = [], None
    try:
        for _ in range(200):
            small.append(gdvm.start_eater(cg, mb=1))
        big = gdvm.start_eater(cg, grow_ms=2)
        rc = wait_exit(big, 90)
        time.sleep(0.5)
        t.check("many: the large process dies", rc == -signal.SIGKILL, f"exit {rc}")
        alive = sum(1 for p in small if p.poll() is None)
        t.check("many: the 200 small ones live", alive == 200, f"{alive} alive")
        t.check("many: before the kernel's OOM killer", events(cg)["oom_kill"] == 0,
                f"{events(cg)}")
    finally:
        for p in small + ([big] if big else []):
            p.kill()
        for p in small + ([big] if big else []):
            p.wait()
        gdvm.remove_cgroup(cg)
        g.stop()


def oom_group(t):
    g = Guardian("oom-group")
    cg = make_cgroup("group", {"memory.max": "192M", "memory.high": "128M", "memory.swap.max": "0", "memory.oom.group": "1"})
    procs = []
    try:
        for _ in range(3):
            procs.append(gdvm.start_eater(cg, mb=8))
        procs.append(gdvm.start_eater(cg, grow_ms=2))
        codes = [wait_exit(p, 60) for p in procs]
        t.check("oom.group: every process of the cgroup is killed",
                all(c == -signal.SIGKILL for c in codes), f"exits {codes}")
        recs = g.wait_records(lambda r: r["event"] == "kill-cgroup")
        t.check("oom.group: audited as a cgroup kill",
                any(r["event"] == "kill-cgroup" and r["cgroup"] == "group" for r in recs),
                f"{recs}")
        t.check("oom.group: before the kernel's OOM killer", events(cg)["oom_kill"] == 0,
                f"{events(cg)}")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        gdvm.remove_cgroup(cg)
        g.stop()


def oom_group_holding_guardian(t):
    """Kubernetes sets memory.oom.group on every container, guardian's own
    included: a whole-cgroup kill of a cgroup that holds guardian would
    kill guardian. Its worst other process goes instead."""
    pod = make_cgroup("gd-pod", {"memory.max": "320M", "memory.high": "256M",
                                 "memory.swap.max": "0", "memory.oom.group": "1"})
    own = make_cgroup("gd-pod/guardian")
    work = make_cgroup("gd-pod/work")
    g = Guardian("oom-group-self", cgroup=own)
    hog = None
    try:
        hog = gdvm.start_eater(work, grow_ms=2)
        rc = wait_exit(hog, 60)
        t.check("oom.group holding guardian: the hog is SIGKILLed", rc == -signal.SIGKILL,
                f"exit {rc}")
        recs = g.wait_records(lambda r: r["event"] == "kill")
        t.check("oom.group holding guardian: one process killed, not the cgroup",
                any(r["event"] == "kill" and r.get("pid") == hog.pid for r in recs)
                and not any(r["event"] == "kill-cgroup" for r in g.records()), f"{recs}")
        t.check("oom.group holding guardian: guardian survives", g.proc.poll() is None,
                g.text()[-2000:])
        t.check("oom.group holding guardian: it says why",
                "not killing cgroup=gd-pod whole" in g.text(), g.text()[-2000:])
        t.check("oom.group holding guardian: before the kernel's OOM killer",
                events(pod)["oom_kill"] == 0, f"{events(pod)}")
    finally:
        if hog and hog.poll() is None:
            hog.kill()
            hog.wait()
        t.check("oom.group holding guardian: guardian exits 0 on SIGTERM", g.stop() == 0,
                g.text()[-2000:])
        gdvm.remove_cgroup(pod)


def churn(t):
    g = Guardian("churn", binary=RELEASE)
    pid = g.proc.pid

    def fds():
        return len(os.listdir(f"/proc/{pid}/fd"))

    def rss_kb():
        for line in gdvm.read(f"/proc/{pid}/status").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

    try:
        # Warm-up: the first round grows tables to their working size.
        for rnd in range(2):
            if rnd == 1:
                fd0, rss0 = fds(), rss_kb()
            for i in range(250):
                os.mkdir(f"{CG}/churn-{i}")
            time.sleep(1.5)
            if rnd == 1:
                fds_during = fds()
            for i in range(250):
                os.rmdir(f"{CG}/churn-{i}")
            time.sleep(1.5)
        fd1, rss1 = fds(), rss_kb()
        t.check("churn: the new cgroups were watched", fds_during >= fd0 + 250,
                f"{fd0} fds before, {fds_during} with 250 more cgroups")
        t.check("churn: no fd leak after 500 cgroups came and went", fd1 <= fd0,
                f"{fd0} -> {fd1}")
        t.check("churn: no memory growth", rss1 <= rss0 + 512, f"VmRSS {rss0} -> {rss1} kB")
        t.check("churn: guardian still running", g.proc.poll() is None, g.text()[-2000:])
    finally:
        for i in range(250):
            try:
                os.rmdir(f"{CG}/churn-{i}")
            except OSError:
                pass
        g.stop()


def main():
    return gdvm.run_scenarios("daemon", (noisy_neighbour, lambda t: noisy_neighbour(t, dry_run=True), livelock,
                     many_processes, oom_group, oom_group_holding_guardian, churn))


if __name__ == "__main__":
    sys.exit(main())
