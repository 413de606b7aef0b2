"""Helpers the systemd boot's tests share (tests/vm/systemd/): waiting,
the audit trail, and the hog both deployments must kill."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import gdvm  # noqa: E402

AUDIT = "/var/lib/guardian/audit.jsonl"


def wait_for(pred, timeout, step=0.2):
    """pred()'s first true value within timeout s, else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def audit_records(path=AUDIT):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f]
    except FileNotFoundError:
        return []


def hog_killed(t, unit):
    """A hog in a host scope UNIT with limits, grown at 1 MiB per 10 ms:
    checks it dies of SIGKILL, is audited once as guardian's kill in that
    scope, and that the kernel's OOM killer had no part; returns its pid."""
    hog = subprocess.Popen(["systemd-run", "--scope", f"--unit={unit}", "-p", "MemoryHigh=64M",
                            "-p", "MemoryMax=128M", gdvm.MEMEATER, "--mb", "8", "--grow-ms", "10"],
                           stdout=subprocess.PIPE, text=True)
    hogpid = int(gdvm.wait_line(hog, "ready", 30).split()[1])
    rc = gdvm.wait_exit(hog, 60)
    if rc is None:
        hog.kill()
    t.check(f"the hog in {unit}.scope (MemoryHigh=64M, MemoryMax=128M) dies of SIGKILL",
            rc == -signal.SIGKILL, f"exit {rc}")
    recs = wait_for(lambda: [r for r in audit_records() if r.get("pid") == hogpid], 10) or []
    t.check(f"audited in {AUDIT}: a kill of the hog, result killed",
            len(recs) == 1 and recs[0]["event"] == "kill" and recs[0]["result"] == "killed"
            and recs[0]["cgroup"] == f"system.slice/{unit}.scope", f"{recs} (all: {audit_records()})")
    dmesg = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
    t.check("the kernel's OOM killer did not kill it",
            f"Killed process {hogpid} " not in dmesg and "invoked oom-killer" not in dmesg,
            "\n".join(line for line in dmesg.splitlines() if "oom" in line.lower())[-1500:])
    return hogpid


def sh(*args, timeout=300):
    """(exit status, stdout + stderr) of a command run in the repository."""
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=gdvm.REPO)
    return p.returncode, p.stdout + p.stderr


def show(unit, *props):
    """systemctl show UNIT -pPROP...: {PROP: value}."""
    out = subprocess.run(["systemctl", "show", unit, *[f"-p{p}" for p in props]],
                         capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
