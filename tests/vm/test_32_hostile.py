#!/usr/bin/python3
"""A hostile tenant must not steer guardian's kills onto a bystander.

Scenarios (issue "never the wrong victim"):
  maxonly   a cgroup with only memory.max (how Docker's --memory and
            Kubernetes limits set a container up): 200 processes of 1 MiB and
            one that grows at ~50 MiB/s. In every repetition guardian kills the
            big one, before the kernel, and no small one dies. Repeated
            (REPS_MAXONLY, default 6), with the second vCPU kept busy in half
            of them: the wrong pick showed more often on a busy machine.
  fast      the same cgroup, the big one allocating as fast as it can: the
            kernel may win the race (nobody samples faster than that loop),
            but then its victim is on its way out, and guardian must wait for
            its memory instead of taking a 1 MiB bystander. No small process
            dies in any repetition (REPS_FAST, default 4).
  group     action: kill-cgroup on a tenant's cgroup that holds a "never"
            workload's cgroup: the hog alone dies, the protected ones live
            (memory.oom.group with a real database: test_50_policy).
  names     a cgroup path of ~3.9 KiB whose names carry ESC, DEL, ^A and
            tab bytes: its hog is killed, the audit record is one valid JSON
            line (cut fields named in "truncated"), and guardian's log has
            no raw control byte.
  leader    a process whose main thread has exited (pthread_exit) while a
            second thread holds 120 MiB: guardian ranks it first, the kernel's
            own memcg OOM killer picks it too, and the daemon kills it rather
            than a neighbour.
The release build runs the timing-sensitive repetitions (it is what ships);
the sanitizer build runs the others."""
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import Guardian, make_cgroup, events, wait_exit  # noqa: E402

REPS_MAXONLY = int(os.environ.get("REPS_MAXONLY", "6"))
REPS_FAST = int(os.environ.get("REPS_FAST", "4"))
SMALL = int(os.environ.get("SMALL", "200"))


VICTIM_RE = re.compile(r"Memory cgroup out of memory: Killed process (\d+) ")


def kernel_victims():
    """Pids of the kernel's memcg OOM kills, in order, from its log."""
    out = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
    return [int(m.group(1)) for m in VICTIM_RE.finditer(out)]


def busy_cpu():
    """A spinning process in the root cgroup: the other vCPU is busy."""
    return subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"])


def start_small(cg, n):
    procs = []
    for _ in range(n):
        procs.append(gdvm.start_eater(cg, mb=1))
    return procs


def kill_all(procs):
    for p in procs:
        if p and p.poll() is None:
            p.kill()
    for p in procs:
        if p:
            p.wait()


def maxonly(t):
    cg = make_cgroup("hostile-maxonly", {"memory.max": "512M", "memory.swap.max": "0"})
    small = []
    try:
        small = start_small(cg, SMALL)
        for rep in range(REPS_MAXONLY):
            spinner = busy_cpu() if rep % 2 else None
            binary = gdvm.RELEASE if rep % 3 != 2 else None
            g = Guardian(f"maxonly-{rep}", binary=binary)
            before = events(cg)["oom_kill"]
            big = None
            try:
                big = gdvm.start_eater(cg, grow_ms=20)
                rc = wait_exit(big, 60)
                recs = g.wait_records(lambda r: r["event"] == "kill" and r["pid"] == big.pid)
                kills = [r for r in recs if r["event"] in ("kill", "kill-failed", "kill-cgroup")]
                alive = sum(1 for p in small if p.poll() is None)
                label = f"maxonly #{rep}{' (busy)' if spinner else ''}"
                t.check(f"{label}: the big one dies", rc == -signal.SIGKILL, f"exit {rc}")
                t.check(f"{label}: guardian killed it, nobody else",
                        [r["pid"] for r in kills] == [big.pid],
                        f"big {big.pid}, records {kills}")
                t.check(f"{label}: before the kernel's OOM killer",
                        events(cg)["oom_kill"] == before, f"{events(cg)}")
                t.check(f"{label}: all {SMALL} small ones live", alive == SMALL,
                        f"{alive} alive")
                if alive != SMALL or [r["pid"] for r in kills] != [big.pid]:
                    g.dump_log(label)
                small = [p for p in small if p.poll() is None]
                small += start_small(cg, SMALL - len(small))
            finally:
                kill_all([big, spinner])
                g.stop()
    finally:
        kill_all(small)
        gdvm.remove_cgroup(cg)


def fast(t):
    cg = make_cgroup("hostile-fast", {"memory.max": "512M", "memory.swap.max": "0"})
    small = []
    try:
        small = start_small(cg, SMALL)
        for rep in range(REPS_FAST):
            g = Guardian(f"fast-{rep}", binary=gdvm.RELEASE if rep % 2 == 0 else None)
            big = None
            try:
                big = gdvm.start_eater(cg, grow_fast=True)
                rc = wait_exit(big, 60)
                # Give guardian the time it would need to take a second one.
                time.sleep(3)
                kills = [r for r in g.records()
                         if r["event"] in ("kill", "kill-failed", "kill-cgroup")]
                alive = sum(1 for p in small if p.poll() is None)
                label = f"fast #{rep}"
                who = "guardian" if any(r["pid"] == big.pid for r in kills) else "the kernel"
                print(f"info {label}: the big one was killed by {who}", flush=True)
                t.check(f"{label}: the big one dies", rc == -signal.SIGKILL, f"exit {rc}")
                t.check(f"{label}: guardian killed no bystander",
                        all(r["pid"] == big.pid for r in kills), f"big {big.pid}, {kills}")
                t.check(f"{label}: all {SMALL} small ones live", alive == SMALL,
                        f"{alive} alive")
                if alive != SMALL:
                    g.dump_log(label)
                small = [p for p in small if p.poll() is None]
                small += start_small(cg, SMALL - len(small))
            finally:
                kill_all([big])
                g.stop()
    finally:
        kill_all(small)
        gdvm.remove_cgroup(cg)


GROUP_POLICY = """version: 1
workloads:
  - name: db
    match: { cgroup: "hostile-grp/db" }
    protect: { mode: never, budget: 1G }
  - name: tenant
    match: { cgroup: "hostile-grp" }
    action: kill-cgroup
"""


def group(t):
    policy = "/tmp/policy-hostile-grp.yaml"
    gdvm.write(policy, GROUP_POLICY)
    top = make_cgroup("hostile-grp", {"memory.max": "384M", "memory.high": "256M",
                                      "memory.swap.max": "0"})
    gdvm.write(f"{top}/cgroup.subtree_control", "+memory")
    db_cg, job_cg = make_cgroup("hostile-grp/db"), make_cgroup("hostile-grp/batch")
    procs, g = [], None
    try:
        dbs = [gdvm.start_eater(db_cg, mb=40) for _ in range(2)]
        procs += dbs
        g = Guardian("hostile-grp", "--policy", policy)
        hog = gdvm.start_eater(job_cg, grow_ms=2)
        procs.append(hog)
        rc = wait_exit(hog, 60)
        recs = g.wait_records(lambda r: r["event"] in ("kill", "kill-cgroup"))
        t.check("group: the hog is SIGKILLed", rc == -signal.SIGKILL, f"exit {rc}")
        t.check("group: one process killed, not the tenant's cgroup",
                [r["pid"] for r in recs if r["event"] == "kill"] == [hog.pid]
                and not any(r["event"] == "kill-cgroup" for r in g.records()), f"{recs}")
        t.check("group: the never workload's processes live",
                all(p.poll() is None for p in dbs), f"{[p.poll() for p in dbs]}")
        t.check("group: it says why", "not killing cgroup=hostile-grp whole: pid " in g.text()
                and "is protected (never)" in g.text(), g.text()[-2000:])
        t.check("group: before the kernel's OOM killer", events(top)["oom_kill"] == 0,
                f"{events(top)}")
    finally:
        kill_all(procs)
        if g:
            t.check("group: guardian exits 0", g.stop() == 0, g.text()[-2000:])
        gdvm.remove_cgroup(top)


def names(t):
    # The kernel refuses a newline in a cgroup name (/proc/PID/cgroup is
    # line-based); every other byte but '/' is allowed.
    level = "\x1b[31mred\x01\x7fline\tx" + "n" * 230  # 251 bytes, under NAME_MAX
    rel = "hostile-names"
    top = make_cgroup(rel)
    for _ in range(15):
        gdvm.write(f"{gdvm.CG}/{rel}/cgroup.subtree_control", "+memory")
        rel += "/" + level
        os.mkdir(f"{gdvm.CG}/{rel}")
    leaf = f"{gdvm.CG}/{rel}"
    for k, v in {"memory.max": "256M", "memory.high": "128M", "memory.swap.max": "0"}.items():
        gdvm.write(f"{leaf}/{k}", v)
    g, hog = None, None
    try:
        g = Guardian("hostile-names")
        hog = gdvm.start_eater(leaf, grow_ms=2)
        rc = wait_exit(hog, 60)
        recs = g.wait_records(lambda r: r["event"] == "kill" and r["pid"] == hog.pid)
        kill = [r for r in recs if r["event"] == "kill" and r["pid"] == hog.pid]
        t.check(f"names: the hog {len(rel)} bytes deep in names with control bytes dies",
                rc == -signal.SIGKILL and kill, f"exit {rc}, {recs}")
        with open(g.audit, "rb") as f:
            lines = f.read().splitlines()
        t.check("names: every audit record is one JSON line",
                all(json.loads(x) for x in lines) and lines, f"{lines[:2]}")
        cg = kill[0]["cgroup"] if kill else ""
        t.check("names: the record's cgroup is the real path, or cut and marked so",
                cg == rel or (rel.startswith(cg) and "cgroup" in (kill[0]["truncated"] or "")),
                f"{len(cg)} bytes, truncated {kill[0]['truncated'] if kill else None}")
        raw = open(g.log_path, "rb").read()
        t.check("names: guardian's log has no raw ESC or tab, one message per line",
                not any(c in raw for c in (b"\x1b", b"\t", b"\x01", b"\x7f"))
                and all(x.startswith(b"guardian") or not x for x in raw.split(b"\n")),
                repr(raw[-600:]))
    finally:
        if hog and hog.poll() is None:
            hog.kill()
            hog.wait()
        if g:
            t.check("names: guardian exits 0", g.stop() == 0, g.text()[-2000:])
        gdvm.remove_cgroup(top)


def leader(t):
    cg = make_cgroup("hostile-leader", {"memory.max": "256M", "memory.swap.max": "0"})
    procs = []
    try:
        neighbours = [gdvm.start_eater(cg, mb=30) for _ in range(3)]
        procs += neighbours
        lx = gdvm.start_eater(cg, mb=120, leader_exit=True)
        procs.append(lx)
        status = gdvm.read(f"/proc/{lx.pid}/status")
        t.check("leader: the leader's status shows no memory (the case under test)",
                "VmRSS" not in status and "State:\tZ" in status, status[:300])
        out = subprocess.run([gdvm.GUARDIAN, "rank", "--json", "hostile-leader"],
                             capture_output=True, text=True)
        try:
            ranked = json.loads(out.stdout)
        except ValueError:
            ranked = None
        first = ranked[0] if isinstance(ranked, list) and ranked else (
            (ranked or {}).get("processes", [None])[0] if isinstance(ranked, dict) else None)
        t.check("leader: guardian rank puts it first",
                first is not None and first.get("pid") == lx.pid, out.stdout[:800] + out.stderr)

        # The kernel's own choice, without guardian: push the cgroup over.
        # Its first victim is its choice. A second kill follows among the
        # neighbours ~2 ms later, nearly every run: once its last thread
        # exits, the cgroup's process iterator skips the zombie leader, so
        # the kernel does not see a victim still on its way out and takes
        # another. guardian must not copy that (it waits: see below).
        before = events(cg)["oom_kill"]
        seen = len(kernel_victims())
        # The kernel names the thread it found the mm through, not the pid.
        lx_tids = {int(tid) for tid in os.listdir(f"/proc/{lx.pid}/task")}
        trigger = gdvm.start_eater(cg, adj=-1000, until_oom_kill=True)
        procs.append(trigger)
        gdvm.wait_line(trigger, "oom_kill seen", timeout=120)
        rc = wait_exit(lx, 10)
        victims = kernel_victims()[seen:]
        t.check("leader: the kernel's memcg OOM victim is the leader-exited process",
                rc == -signal.SIGKILL and victims[:1] and victims[0] in lx_tids,
                f"exit {rc}, oom_kill {before} -> {events(cg)['oom_kill']}, kernel victims "
                f"{victims}, leader-exited {lx.pid} threads {sorted(lx_tids)}")
        trigger.kill()
        trigger.wait()
        if victims[1:]:
            print(f"info leader: the kernel went on to kill {victims[1:]}", flush=True)
        # Neighbours the kernel took are replaced: what follows is guardian's.
        neighbours = [p if p.poll() is None else gdvm.start_eater(cg, mb=30)
                      for p in neighbours]
        procs += neighbours

        # And guardian, before the kernel, picks the same one.
        g = Guardian("leader")
        try:
            lx2 = gdvm.start_eater(cg, mb=100, grow_ms=20, leader_exit=True)
            procs.append(lx2)
            before = events(cg)["oom_kill"]
            rc = wait_exit(lx2, 60)
            recs = g.wait_records(lambda r: r["event"] == "kill")
            kills = [r for r in recs if r["event"] == "kill"]
            t.check("leader: guardian kills the leader-exited process",
                    rc == -signal.SIGKILL and [r["pid"] for r in kills] == [lx2.pid],
                    f"exit {rc}, records {kills}")
            t.check("leader: before the kernel", events(cg)["oom_kill"] == before,
                    f"{events(cg)}")
            t.check("leader: the neighbours live", all(p.poll() is None for p in neighbours),
                    f"{[p.poll() for p in neighbours]}")
        finally:
            t.check("leader: guardian exits 0", g.stop() == 0, g.text()[-2000:])
    finally:
        kill_all(procs)
        gdvm.remove_cgroup(cg)


if __name__ == "__main__":
    sys.exit(gdvm.run_scenarios("hostile", [names, group, leader, maxonly, fast]))
