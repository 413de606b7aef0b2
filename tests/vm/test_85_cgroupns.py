#!/usr/bin/python3
"""guardian in a private cgroup namespace, watching the host's tree: the
Kubernetes DaemonSet (deploy/kubernetes/guardian.yaml) on containerd with
cgroup v2. The container's cgroup namespace is rooted at its own cgroup
while /sys/fs/cgroup is the node's (a hostPath mount), so /proc/PID/cgroup
reads "/" for guardian and "/../x" for the others. Here: guardian is born
in /sys/fs/cgroup/gd-pod and execs through `unshare --cgroup`; the mount
stays the VM's own, as with a hostPath mount. It must still kill a hog
elsewhere process by process (not fail every kill as "moved"), know gd-pod
as its own cgroup and never kill a process in it; and when it cannot place
its namespace in the tree it must refuse process kills, with a reason."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import Guardian, events, make_cgroup, wait_exit  # noqa: E402

CG = gdvm.CG
POD = f"{CG}/gd-pod"
UNSHARE = ["unshare", "--cgroup"]


def ns_view(guardian_pid, pid):
    """/proc/PID/cgroup's v2 path as guardian's cgroup namespace shows it."""
    out = subprocess.run(["nsenter", "-C", "-t", str(guardian_pid), "cat", f"/proc/{pid}/cgroup"],
                         capture_output=True, text=True, check=True).stdout
    return [line[3:] for line in out.splitlines() if line.startswith("0::")][0]


def clean_up(t, label, g, procs, cgroups):
    """Stop the eaters and guardian (which must exit 0), remove the cgroups."""
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        p.wait()
    rc = g.stop()
    t.check(f"{label}guardian exits 0 on SIGTERM", rc == 0, g.text()[-2000:])
    for cg in cgroups:
        gdvm.remove_cgroup(cg)


def private_namespace(t):
    make_cgroup("gd-pod")
    batch = make_cgroup("cgns-batch", {"memory.max": "256M", "memory.high": "192M",
                                        "memory.swap.max": "0"})
    g = Guardian("cgns", cgroup=POD, prefix=UNSHARE)
    procs = []
    try:
        gpid = g.proc.pid
        t.check("the setup: guardian runs in gd-pod",
                gdvm.read(f"/proc/{gpid}/cgroup").strip().endswith("::/gd-pod"),
                gdvm.read(f"/proc/{gpid}/cgroup"))
        t.check("the setup: guardian's cgroup namespace is its own",
                os.readlink(f"/proc/{gpid}/ns/cgroup") != os.readlink("/proc/self/ns/cgroup"),
                os.readlink(f"/proc/{gpid}/ns/cgroup"))
        t.check("the setup: guardian reads / for itself (the bug's condition)",
                ns_view(gpid, gpid) == "/", ns_view(gpid, gpid))
        t.check("start-up log: a private namespace, guardian's own cgroup is /gd-pod",
                "private cgroup namespace: guardian's own cgroup is /gd-pod " in g.text(),
                g.text()[-2000:])

        # A hog elsewhere: killed by guardian, process by process.
        hog = gdvm.start_eater(batch, grow_ms=2)
        procs.append(hog)
        t.check("the setup: guardian reads the hog's cgroup as /../cgns-batch",
                ns_view(gpid, hog.pid) == "/../cgns-batch", ns_view(gpid, hog.pid))
        rc = wait_exit(hog, 60)
        recs = g.wait_records(lambda r: r["pid"] == hog.pid)
        mine = [r for r in recs if r["pid"] == hog.pid]
        t.check("the hog in cgns-batch was SIGKILLed", rc == -signal.SIGKILL, f"exit {rc}")
        t.check("before the kernel's OOM killer (oom_kill stays 0)",
                events(batch)["oom_kill"] == 0, f"events {events(batch)}")
        t.check("audited as a kill of cgns-batch, result killed (not kill-failed, moved)",
                any(r["event"] == "kill" and r["result"] == "killed" and r["cgroup"] == "cgns-batch"
                    for r in mine) and not [r for r in mine if r["event"] == "kill-failed"],
                f"records {mine}")

        # A hog in guardian's own cgroup: never guardian's victim. gd-pod
        # gets a limit now; the kernel's OOM killer ends the hog (guardian
        # has oom_score_adj -1000).
        current = int(gdvm.read(f"{POD}/memory.current"))
        gdvm.write(f"{POD}/memory.swap.max", "0")
        gdvm.write(f"{POD}/memory.max", str(current + 160 * 1024 * 1024))
        # Not faster: the hog then pushes the cgroup's page cache out a
        # MiB at a time, at the limit (memory.events max), for a second
        # or more before the kernel's kill, and guardian sees it. (No
        # memory.high here: its throttling would stall guardian too, which
        # lives in gd-pod.)
        own = gdvm.start_eater(POD, grow_ms=10)
        procs.append(own)
        rc = wait_exit(own, 60)
        time.sleep(2)  # let guardian's ticks see the aftermath too
        pod_recs = [r for r in g.records() if r["cgroup"] == "gd-pod" or r["pid"] == own.pid]
        t.check("the hog in gd-pod: no kill (nor attempt) by guardian", not pod_recs,
                f"records {pod_recs}")
        # Which of the three guardian says depends on whether its sample comes
        # before the kernel's kill or after it (the hog then is dying, or the
        # kernel counted its kill in memory.events, and guardian waits for
        # its memory): all mean it saw it and held off.
        text = g.text()
        t.check("the hog in gd-pod: guardian saw the trouble and had nothing it may kill",
                ("cgroup=gd-pod is in trouble" in text and "nothing guardian may kill" in text)
                or (f"cgroup=gd-pod: pid={own.pid} comm=memeater is already exiting" in text)
                or ("cgroup=gd-pod: the kernel's OOM killer took a process since the decision"
                    in text),
                text[-2000:])
        t.check("the hog in gd-pod: ended by the kernel (memory.max), not by guardian",
                rc == -signal.SIGKILL and events(POD)["oom_kill"] >= 1,
                f"exit {rc}, events {events(POD)}")
        t.check("guardian is still running", g.proc.poll() is None, g.text()[-2000:])
    finally:
        clean_up(t, "", g, procs, (batch, POD))


def namespace_not_found(t):
    """--cgroup-root a subtree that does not hold guardian: its namespace
    root cannot be placed, so a process kill is refused, with a reason."""
    make_cgroup("gd-pod")
    other = make_cgroup("cgns-other")
    gdvm.write(f"{other}/cgroup.subtree_control", "+memory")
    batch = make_cgroup("cgns-other/batch", {"memory.max": "192M", "memory.high": "128M",
                                              "memory.swap.max": "0"})
    g = Guardian("cgns-lost", "--cgroup-root", other, cgroup=POD, prefix=UNSHARE)
    procs = []
    try:
        t.check("lost: start-up warns that guardian is in no cgroup of the tree",
                f"is in no cgroup under {other}, yet /proc/self/cgroup says /:" in g.text(),
                g.text()[-2000:])
        hog = gdvm.start_eater(batch, grow_ms=2)
        procs.append(hog)
        recs = g.wait_records(lambda r: r["pid"] == hog.pid, timeout=60)
        mine = [r for r in recs if r["pid"] == hog.pid]
        t.check("lost: the process kill is refused as cgroupns-unknown",
                any(r["event"] == "kill-failed" and r["result"] == "cgroupns-unknown"
                    for r in mine) and not [r for r in mine if r["event"] == "kill"],
                f"records {mine}")
        t.check("lost: the log gives the reason", "cgroupns-unknown" in g.text(),
                g.text()[-2000:])
    finally:
        clean_up(t, "lost: ", g, procs, (other, POD))


def main():
    return gdvm.run_scenarios("cgroupns", (private_namespace, namespace_not_found))


if __name__ == "__main__":
    sys.exit(main())
