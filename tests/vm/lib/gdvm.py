"""Helpers for the tests that run inside the VM (real kernel, as root)."""
import json
import os
import signal
import select
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The sanitizer build, so the integration tests are ASan/UBSan runs too.
GUARDIAN = os.environ.get("GUARDIAN", os.path.join(REPO, "build/san/guardian-bin"))
MEMEATER = os.path.join(REPO, "build/helpers/memeater")
RELEASE = os.path.join(REPO, "build/guardian")
CG = "/sys/fs/cgroup"


def write(path, value):
    with open(path, "w") as f:
        f.write(value)


def read(path):
    with open(path) as f:
        return f.read()


def start_eater(cgroup, mb=0, adj=None, until_oom_kill=False, grow_ms=0, timeout=60,
                grow_fast=False, leader_exit=False, ignore_sigterm=False):
    """Start a memeater inside cgroup and wait until it has its memory."""
    args = [MEMEATER, "--cgroup", cgroup, "--mb", str(mb)]
    if grow_fast:
        args.append("--grow-fast")
    if leader_exit:
        args.append("--leader-exit")
    if ignore_sigterm:
        args.append("--ignore-sigterm")
    if adj is not None:
        args += ["--adj", str(adj)]
    if until_oom_kill:
        args.append("--until-oom-kill")
    if grow_ms:
        args += ["--grow-ms", str(grow_ms)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    wait_line(proc, "ready", timeout)
    return proc


def wait_exit(proc, timeout):
    """proc's exit status, or None if it is still running after timeout s."""
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


def wait_line(proc, prefix, timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no '{prefix}' from pid {proc.pid} in {timeout}s")
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"pid {proc.pid} exited before '{prefix}' ({proc.wait()})")
            if line.startswith(prefix):
                return line


def remove_cgroup(path):
    """Kill everything below path and remove the cgroups, deepest first."""
    if not os.path.isdir(path):
        return
    try:
        write(os.path.join(path, "cgroup.kill"), "1")
    except OSError:
        pass
    for root, dirs, _ in os.walk(path, topdown=False):
        for d in dirs:
            _rmdir_retry(os.path.join(root, d))
    _rmdir_retry(path)


def _rmdir_retry(path):
    for _ in range(100):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)  # the killed tasks are still exiting
    os.rmdir(path)


class Checker:
    """One line per check; a summary line the runner counts."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {self.name}: {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {self.name}: {what}: {detail}", flush=True)
        return ok

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1


def run_scenarios(name, scenarios):
    """Run each scenario(checker); one that blows up is a failure, not a
    crash of the whole test. Returns the exit status."""
    t = Checker(name)
    for scenario in scenarios:
        try:
            scenario(t)
        except Exception as e:
            t.check(f"scenario {getattr(scenario, '__name__', '?')} ran", False, repr(e))
    return t.finish()


class Guardian:
    """guardian run in the background, with its own audit file and log,
    optionally born inside a given cgroup. ready: the log text that says
    it is up (None: do not wait, for runs that log no info lines). prefix:
    a command that execs guardian (["unshare", "--cgroup"]), run in the
    cgroup already."""

    def __init__(self, name, *args, binary=None, cgroup=None, ready="watching ", prefix=()):
        self.audit = f"/tmp/gd-{name}/audit.jsonl"
        self.log_path = f"/tmp/gd-{name}.log"
        self.log = open(self.log_path, "w")

        def enter():
            if cgroup:
                write(f"{cgroup}/cgroup.procs", str(os.getpid()))

        self.proc = subprocess.Popen([*prefix, binary or GUARDIAN, "run", "--audit-log", self.audit,
                                      *args], stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=enter)
        if ready:
            self.wait_log(ready, 60)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, needle, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return True
            if self.proc.poll() is not None:
                raise RuntimeError(f"guardian exited {self.proc.returncode}:\n{self.text()}")
            time.sleep(0.1)
        raise TimeoutError(f"no '{needle}' in guardian's log:\n{self.text()}")

    def records(self):
        try:
            with open(self.audit) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def wait_records(self, predicate, timeout=10):
        """The record is written once guardian has seen the victim die,
        which may be a moment after the test saw it."""
        deadline = time.monotonic() + timeout
        while True:
            recs = self.records()
            if any(predicate(r) for r in recs) or time.monotonic() > deadline:
                return recs
            time.sleep(0.1)

    def kills(self):
        return [r for r in self.records() if r["event"] in ("kill", "kill-cgroup")]

    def dump_log(self, label):
        lines = self.text().splitlines()
        keep = len(lines) if os.environ.get("HOST_DEBUG") else 15
        print("\n".join(f"info {label}: log: {line}" for line in lines[-keep:]), flush=True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc


def make_cgroup(name, files=None):
    """Create a cgroup and write its interface files ({"memory.max": "256M"})."""
    path = f"{CG}/{name}"
    os.mkdir(path)
    for key, value in (files or {}).items():
        write(f"{path}/{key}", str(value))
    return path


def events(path):
    out = {}
    for line in read(f"{path}/memory.events").splitlines():
        k, v = line.split()
        out[k] = int(v)
    return out
