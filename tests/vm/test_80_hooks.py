#!/usr/bin/python3
"""Hooks on a real kernel: the policy's pre_kill and post_kill commands run
when guardian kills, with the victim's details and nothing of guardian's own
environment; a slow hook never delays the kill and is killed at its
timeout; a hook that cannot run is logged and changes nothing else."""
import contextlib
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import Guardian, make_cgroup  # noqa: E402

# In guardian's environment, never in a hook's.
MARKER = "GD_HOOK_TEST_MARKER"

DUMP = """#!/bin/sh
# $1: a label. Everything a test wants to know of the hook's process.
d={dir}
f="$d/$1.${{GUARDIAN_PID:-cgroup}}"
{{ env; echo "ARGS=$*"; echo "ADJ=$(cat /proc/self/oom_score_adj)"; echo "SELF=$$";
  echo "SID=$(cut -d' ' -f6 /proc/$$/stat)"; echo "PGRP=$(cut -d' ' -f5 /proc/$$/stat)"; }} > "$f.tmp"
mv "$f.tmp" "$f.env"
"""

SLOW = """#!/bin/sh
echo $$ > {dir}/slow.pid
sleep 60
echo done > {dir}/slow.done
"""


def hook_dir(name, scripts):
    d = f"/tmp/hooks-{name}"
    os.makedirs(d)
    os.chmod(d, 0o755)
    for fname, text in scripts.items():
        path = f"{d}/{fname}"
        gdvm.write(path, text.format(dir=d))
        os.chmod(path, 0o755)
    return d


def policy(name, hooks, dry_run=False):
    path = f"/tmp/hooks-{name}.yaml"
    gdvm.write(path, f"""version: 1
settings:
  dry_run: {"true" if dry_run else "false"}
  hooks:
{hooks}
workloads:
  - name: batch
    match: {{cgroup: "{name}-batch"}}
""")
    return path


def read_env(path):
    out = {}
    for line in gdvm.read(path).splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


def wait_file(path, timeout):
    """path exists with a whole line in it: the shell creates a redirect's
    file before the command writes to it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if f.read().endswith("\n"):
                    return True
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    return False


def start_guardian(name, policy_path, binary=None):
    os.environ[MARKER] = "secret-of-guardian"
    try:
        return Guardian(name, "--policy", policy_path, binary=binary)
    finally:
        del os.environ[MARKER]


def hog_cgroup(name):
    return make_cgroup(f"{name}-batch", {"memory.max": "256M", "memory.high": "192M",
                                         "memory.swap.max": "0"})


def pgroup_members(pgid):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = gdvm.read(f"/proc/{pid}/stat")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(pid))
    return out


@contextlib.contextmanager
def hooked(t, name, label, scripts, hooks, dry_run=False, binary=None, before_hog=None):
    """A hook directory, guardian with a policy of hooks (started with a
    marker variable in its environment), a cgroup for a hog and the hog.
    Yields (hook dir, guardian, hog); cleans up and checks the exit."""
    d = hook_dir(name, scripts)
    g = start_guardian(name, policy(name, hooks.format(d=d), dry_run), binary)
    cg = hog_cgroup(name)
    hog = None
    try:
        if before_hog:
            before_hog(g)
        hog = gdvm.start_eater(cg, grow_ms=2)
        yield d, g, hog
    finally:
        if hog and hog.poll() is None:
            hog.kill()
            hog.wait()
        gdvm.remove_cgroup(cg)
        t.check(f"{label}: guardian exits 0 on SIGTERM", g.stop() == 0, g.text()[-2000:])
        left = runners()
        for _ in range(30):
            if not left:
                break
            time.sleep(0.1)
            left = runners()
        t.check(f"{label}: the hook runner exits with guardian", not left, f"pids {left}")


def runners():
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if gdvm.read(f"/proc/{pid}/comm").strip() == "guardian-hooks":
                out.append(int(pid))
        except OSError:
            pass
    return out


def both_hooks(t):
    name = "hooks-env"
    with hooked(t, name, "env", {"dump.sh": DUMP}, """    pre_kill: [{d}/dump.sh, pre, "two words"]
    post_kill: "{d}/dump.sh post"
    timeout: 5s""") as (d, g, hog):
        rc = hog.wait(60)
        t.check("env: the hog is SIGKILLed", rc == -signal.SIGKILL, f"exit {rc}")
        pre_f, post_f = f"{d}/pre.{hog.pid}.env", f"{d}/post.{hog.pid}.env"
        t.check("env: the pre-kill hook ran", wait_file(pre_f, 15), g.text()[-2000:])
        t.check("env: the post-kill hook ran", wait_file(post_f, 15), g.text()[-2000:])
        if not (os.path.exists(pre_f) and os.path.exists(post_f)):
            return
        pre, post = read_env(pre_f), read_env(post_f)
        print(f"info env: pre-kill hook environment {sorted(pre.items())}", flush=True)
        for label, e in (("pre", pre), ("post", post)):
            t.check(f"env: {label}: the victim's pid, cgroup, workload, comm",
                    e.get("GUARDIAN_PID") == str(hog.pid)
                    and e.get("GUARDIAN_CGROUP") == f"/{name}-batch"
                    and e.get("GUARDIAN_WORKLOAD") == "batch"
                    and e.get("GUARDIAN_COMM") == "memeater"
                    and e.get("GUARDIAN_ACTION") == "kill-process", f"{e}")
            t.check(f"env: {label}: trigger, reason, score, rss, uid, dry run",
                    e.get("GUARDIAN_TRIGGER") in ("limit", "near-limit", "high", "pressure")
                    and e.get("GUARDIAN_REASON") and int(e.get("GUARDIAN_SCORE", "0")) > 0
                    and int(e.get("GUARDIAN_RSS_BYTES", "0")) > 100 << 20
                    and e.get("GUARDIAN_UID") == "0" and e.get("GUARDIAN_DRY_RUN") == "0", f"{e}")
            t.check(f"env: {label}: nothing of guardian's environment",
                    MARKER not in e and "HOME" not in e
                    and e.get("PATH") == "/usr/sbin:/usr/bin:/sbin:/bin"
                    and all(k.startswith("GUARDIAN_") or k in ("PATH", "PWD", "ARGS", "ADJ",
                                                              "SELF", "SID", "PGRP") for k in e),
                    f"{sorted(e)}")
            t.check(f"env: {label}: oom_score_adj 0 (guardian runs with -1000)",
                    e.get("ADJ") == "0"
                    and gdvm.read(f"/proc/{g.proc.pid}/oom_score_adj").strip() == "-1000",
                    f"hook {e.get('ADJ')}")
            # The list form is the session leader itself; a shell line's
            # /bin/sh is, with the command its child.
            gd_sid = gdvm.read(f"/proc/{g.proc.pid}/stat").rsplit(")", 1)[1].split()[3]
            t.check(f"env: {label}: its own session and process group",
                    e.get("SID") == e.get("PGRP") and e.get("SID") != gd_sid
                    and (label == "post" or e.get("SID") == e.get("SELF")),
                    f"{e}, guardian {gd_sid}")
        t.check("env: pre-kill: argv as the list gave it, event pre-kill",
                pre.get("ARGS") == "pre two words" and pre.get("GUARDIAN_EVENT") == "pre-kill"
                and "GUARDIAN_OUTCOME" not in pre, f"{pre}")
        t.check("env: post-kill: a shell line, event post-kill, outcome killed, latency",
                post.get("ARGS") == "post" and post.get("GUARDIAN_EVENT") == "post-kill"
                and post.get("GUARDIAN_OUTCOME") == "killed"
                and post.get("GUARDIAN_KILL_LATENCY_MS", "").isdigit(), f"{post}")
        t.check("env: the runner logs each hook's exit",
                g.text().count("hook ") >= 2 and "exited 0 after" in g.text(), g.text()[-2000:])


def slow_hook(t):
    name = "hooks-slow"
    with hooked(t, name, "slow", {"slow.sh": SLOW}, """    pre_kill: [{d}/slow.sh]
    timeout: 4s""") as (d, g, hog):
        start = time.monotonic()
        rc = hog.wait(60)
        took = time.monotonic() - start
        hook_alive = False
        if wait_file(f"{d}/slow.pid", 5):
            hook = int(gdvm.read(f"{d}/slow.pid"))
            hook_alive = bool(pgroup_members(hook))
        else:
            hook = None
        t.check("slow: the hog is SIGKILLed", rc == -signal.SIGKILL, f"exit {rc}")
        t.check("slow: the kill did not wait for the 60 s hook (it still runs)",
                took < 30 and hook_alive, f"hog died after {took:.1f}s, hook alive {hook_alive}")
        time.sleep(4 + 3)
        members = pgroup_members(hook) if hook else [-1]
        t.check("slow: the hook's process group is gone after its timeout", members == [],
                f"members {members}")
        t.check("slow: it never finished", not os.path.exists(f"{d}/slow.done"))
        t.check("slow: the runner logs the timeout", "killed after" in g.text()
                and "timed out" in g.text(), g.text()[-2000:])


def missing_command(t):
    name = "hooks-missing"
    with hooked(t, name, "missing", {"dump.sh": DUMP}, """    pre_kill: [/nonexistent/hook, x]
    post_kill: [{d}/dump.sh, post]""") as (d, g, hog):
        rc = hog.wait(60)
        t.check("missing: the hog is still SIGKILLed", rc == -signal.SIGKILL, f"exit {rc}")
        t.check("missing: the post-kill hook still runs",
                wait_file(f"{d}/post.{hog.pid}.env", 15), g.text()[-2000:])
        t.check("missing: the missing command is logged",
                "/nonexistent/hook for pid" in g.text()
                and "No such file or directory" in g.text(), g.text()[-2000:])
        t.check("missing: guardian still runs", g.proc.poll() is None, g.text()[-2000:])


def dry_run(t):
    name = "hooks-dry"
    with hooked(t, name, "dry run", {"dump.sh": DUMP}, """    pre_kill: [{d}/dump.sh, pre]
    post_kill: [{d}/dump.sh, post]""", dry_run=True) as (d, g, hog):
        ran = wait_file(f"{d}/pre.{hog.pid}.env", 60)
        t.check("dry run: the pre-kill hook runs", ran, g.text()[-2000:])
        if ran:
            e = read_env(f"{d}/pre.{hog.pid}.env")
            t.check("dry run: it says GUARDIAN_DRY_RUN=1", e.get("GUARDIAN_DRY_RUN") == "1",
                    f"{e}")
        time.sleep(2)
        t.check("dry run: no post-kill hook (nothing was killed)",
                not [f for f in os.listdir(d) if f.startswith("post.")], f"{os.listdir(d)}")


def kill_runner(g):
    mine = [p for p in runners()
            if int(gdvm.read(f"/proc/{p}/stat").rsplit(")", 1)[1].split()[1]) == g.proc.pid]
    for p in mine:
        os.kill(p, signal.SIGKILL)
    time.sleep(0.5)


def runner_dies(t):
    """The release build (the sanitizer build's seccomp list is wider): the
    runner killed from outside, guardian sends the next hook, finds it gone,
    and goes on killing under its sandbox."""
    name = "hooks-gone"
    with hooked(t, name, "runner gone", {"dump.sh": DUMP}, """    pre_kill: [{d}/dump.sh, pre]""",
                binary=gdvm.RELEASE, before_hog=kill_runner) as (d, g, hog):
        rc = hog.wait(60)
        t.check("runner gone: the hog is still SIGKILLed", rc == -signal.SIGKILL, f"exit {rc}")
        time.sleep(1)
        t.check("runner gone: guardian says hooks are off and runs on",
                g.proc.poll() is None and "hook runner" in g.text() and "is gone" in g.text(),
                f"exit {g.proc.poll()}: {g.text()[-2000:]}")
        m = subprocess.run([gdvm.RELEASE, "status", "--metrics"], capture_output=True, text=True,
                           timeout=30).stdout
        dropped = [line for line in m.splitlines()
                   if line.startswith('guardian_hooks_total{result="dropped"}')]
        t.check("runner gone: the metrics count the dropped hook",
                dropped and float(dropped[0].split()[-1]) >= 1, f"{dropped}")


if __name__ == "__main__":
    sys.exit(gdvm.run_scenarios("hooks", [both_hooks, slow_hook, missing_command, dry_run,
                                                 runner_dies]))
