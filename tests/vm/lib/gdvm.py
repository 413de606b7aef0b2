"""Helpers for the tests that run inside the VM (real kernel, as root)."""
import os
import select
import subprocess
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The sanitizer build, so the integration tests are ASan/UBSan runs too.
GUARDIAN = os.environ.get("GUARDIAN", os.path.join(REPO, "build/san/guardian-bin"))
MEMEATER = os.path.join(REPO, "build/helpers/memeater")


def write(path, value):
    with open(path, "w") as f:
        f.write(value)


def read(path):
    with open(path) as f:
        return f.read()


def start_eater(cgroup, mb=0, adj=None, until_oom_kill=False, grow_ms=0, timeout=60):
    """Start a memeater inside cgroup and wait until it has its memory."""
    args = [MEMEATER, "--cgroup", cgroup, "--mb", str(mb)]
    if adj is not None:
        args += ["--adj", str(adj)]
    if until_oom_kill:
        args.append("--until-oom-kill")
    if grow_ms:
        args += ["--grow-ms", str(grow_ms)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    wait_line(proc, "ready", timeout)
    return proc


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
