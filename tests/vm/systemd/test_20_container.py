#!/usr/bin/python3
"""The container image, built and run as README.md, "Docker or Podman",
says, under systemd as PID 1 on the real kernel: the README's set-up
steps run, `podman build --format docker` builds
deploy/container/Containerfile (FROM scratch, build/guardian-static) with
no registry, and deploy/container/run.txt, the README's run line, runs as
it stands with podman for docker. Then: guardian in the container watches
the host (sandboxed, the four capabilities), kills a hog in a scope of the
host before the kernel does, audits it in the host's /var/lib/guardian,
answers `guardian status` and the image's health check, and exits 0 on
`podman stop`."""
import json
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdvm  # noqa: E402
from sdvm import hog_killed, sh, wait_for  # noqa: E402

REPO = gdvm.REPO
RUN_TXT = f"{REPO}/deploy/container/run.txt"
BUILD = ["podman", "build", "--format", "docker", "-f", "deploy/container/Containerfile",
         "-t", "guardian:0.1.0", "."]
CAPS_KEPT = (1 << 1) | (1 << 5) | (1 << 19) | (1 << 24)


def run_args():
    """deploy/container/run.txt as argv: backslash-newlines joined."""
    text = gdvm.read(RUN_TXT).replace("\\\n", " ")
    return shlex.split(text)


def main():
    t = gdvm.Checker("container")
    t.check("systemd is PID 1", gdvm.read("/proc/1/comm").strip() == "systemd")

    # One guardian at a time: test_10_package purged the package's.
    state = subprocess.run(["systemctl", "is-active", "guardian"], capture_output=True,
                           text=True).stdout.strip()
    t.check("no guardian.service runs (test_10_package purged it)", state != "active", state)

    # This VM's root is an overlay on a read-only host root: container
    # storage cannot nest an overlay there, so it gets a tmpfs and the vfs
    # driver. The engine's configuration, not an argument of the tested lines.
    os.makedirs("/var/lib/containers", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/var/lib/containers"], check=True)
    gdvm.write("/etc/containers/storage.conf", '[storage]\ndriver = "vfs"\n'
               'runroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n')

    # README: the directories and a policy.
    os.makedirs("/etc/guardian/policy.d", exist_ok=True)
    os.makedirs("/var/lib/guardian", exist_ok=True)
    gdvm.write("/etc/guardian/policy.d/guardian.yaml", gdvm.read(f"{REPO}/examples/docker-host.yaml"))

    rc, out = sh(*BUILD)
    if not t.check("podman build --format docker -f deploy/container/Containerfile (no registry)",
                   rc == 0, out[-2000:]):
        return t.finish()
    rc, out = sh("podman", "image", "inspect", "guardian:0.1.0")
    img = json.loads(out)[0] if rc == 0 else {}
    layers = img.get("RootFS", {}).get("Layers", [])
    rc, out = sh("podman", "image", "inspect", "guardian:0.1.0", "--format", "{{json .Config.Healthcheck}}")
    health = json.loads(out) if rc == 0 and out.strip().startswith("{") else {}
    t.check("the image: one layer (FROM scratch), under 8 MB, with the health check",
            len(layers) == 1 and img.get("Size", 1 << 30) < 8 << 20
            and health.get("Test") == ["CMD", "/usr/sbin/guardian", "status"],
            f"layers {len(layers)} size {img.get('Size')} health {health}")

    argv = run_args()
    t.check("deploy/container/run.txt is a `docker run` line", argv[:2] == ["docker", "run"], f"{argv}")
    argv = ["podman"] + argv[1:]
    print(f"info container: {shlex.join(argv)}", flush=True)
    rc, out = sh(*argv)
    if not t.check("podman run with the README's arguments", rc == 0, out[-1500:]):
        return t.finish()

    def logs():
        return subprocess.run(["podman", "logs", "guardian"], capture_output=True, text=True).stdout \
            + subprocess.run(["podman", "logs", "guardian"], capture_output=True, text=True).stderr

    up = wait_for(lambda: "watching " in logs(), 60)
    t.check("guardian in the container is up: watching the host's cgroups", up, logs()[-1500:])
    rc, out = sh("podman", "inspect", "guardian", "--format", "{{.State.Pid}}")
    pid = int(out.strip()) if rc == 0 and out.strip().isdigit() else 0
    s = {}
    if pid:
        s = dict(line.split(":\t", 1) for line in gdvm.read(f"/proc/{pid}/status").splitlines()
                 if ":\t" in line)
    t.check("sandboxed in the container: Seccomp: 2, NoNewPrivs: 1, the four capabilities",
            s.get("Seccomp") == "2" and s.get("NoNewPrivs") == "1"
            and int(s.get("CapEff", "0"), 16) == CAPS_KEPT, f"pid {pid} {s.get('Seccomp')} "
            f"{s.get('NoNewPrivs')} {s.get('CapEff')}")

    hogpid = hog_killed(t, "gd-hog-c")
    rc, out = sh("podman", "exec", "guardian", "/usr/sbin/guardian", "status")
    t.check("guardian status in the container lists the kill", rc == 0
            and re.search(rf"\b{hogpid}\b", out) is not None, out[-1500:])
    t.check("--pid=host: the pid guardian reports is its pid on the host",
            pid > 1 and f", pid {pid}," in out, f"host pid {pid}: {out[:200]}")
    rc, out = sh("podman", "healthcheck", "run", "guardian")
    rc2, state = sh("podman", "inspect", "guardian", "--format", "{{.State.Health.Status}}")
    t.check("the image's health check (guardian status) passes: healthy",
            rc == 0 and state.strip() == "healthy", f"{rc} {out} {state}")

    rc, out = sh("podman", "stop", "guardian")
    rc2, code = sh("podman", "inspect", "guardian", "--format", "{{.State.ExitCode}} {{.State.Status}}")
    t.check("podman stop: guardian exits 0 on SIGTERM", rc == 0 and code.strip() == "0 exited",
            f"{out} {code}")
    sh("podman", "rm", "-f", "guardian")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
