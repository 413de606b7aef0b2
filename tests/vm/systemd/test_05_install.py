#!/usr/bin/python3
"""README.md, "systemd (a host)", as it stands, under systemd as PID 1 on
the real kernel: `make install` (PREFIX=/usr/local), the example policy
checked, `systemctl daemon-reload` and `enable --now`; the unit systemd
loads is the installed one, from /usr/local/lib/systemd/system, running
/usr/local/sbin/guardian, READY with its status line; it kills a hog in a
limited scope and audits it. Then `systemctl disable --now` and `make
uninstall` leave nothing behind, so the package test after this one starts
on a clean host."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdvm  # noqa: E402
from sdvm import hog_killed, sh, show, wait_for  # noqa: E402

UNIT = "guardian.service"
UNITDIR = "/usr/local/lib/systemd/system"
POLICY_D = "/etc/guardian/policy.d"


def main():
    t = gdvm.Checker("install")
    t.check("systemd is PID 1", gdvm.read("/proc/1/comm").strip() == "systemd")

    rc, out = sh("make", "install")
    t.check("make install", rc == 0 and os.access("/usr/local/sbin/guardian", os.X_OK)
            and os.path.exists(f"{UNITDIR}/{UNIT}") and os.path.exists(f"{UNITDIR}/guardian.slice"),
            out[-1500:])
    os.makedirs(POLICY_D, exist_ok=True)
    shutil.copy(f"{gdvm.REPO}/examples/docker-host.yaml", f"{POLICY_D}/guardian.yaml")
    rc, out = sh("guardian", "check", POLICY_D)
    t.check("guardian check /etc/guardian/policy.d (the installed binary on PATH)", rc == 0, out)
    rc1, out1 = sh("systemctl", "daemon-reload")
    rc2, out2 = sh("systemctl", "enable", "--now", UNIT)
    p = wait_for(lambda: (lambda s: s if s.get("ActiveState") in ("active", "failed") else None)(
        show(UNIT, "ActiveState", "SubState", "StatusText", "MainPID", "FragmentPath",
             "UnitFileState", "ExecMainPID")), 60) or show(UNIT, "ActiveState", "FragmentPath")
    t.check("daemon-reload, enable --now: active (running), enabled, from /usr/local/lib/systemd/system",
            rc1 == 0 and rc2 == 0 and p.get("ActiveState") == "active"
            and p.get("SubState") == "running" and p.get("UnitFileState") == "enabled"
            and p.get("FragmentPath") == f"{UNITDIR}/{UNIT}", f"{out1}{out2} {p}")
    t.check("READY=1 with its status line (watching N cgroups ...)",
            p.get("StatusText", "").startswith("watching "), p.get("StatusText"))
    pid = int(p.get("MainPID", "0") or 0)
    exe = os.readlink(f"/proc/{pid}/exe") if pid > 0 else ""
    t.check("its main process runs /usr/local/sbin/guardian", exe == "/usr/local/sbin/guardian", exe)

    hog_killed(t, "gd-hog-i")

    rc1, out1 = sh("systemctl", "disable", "--now", UNIT)
    rc2, out2 = sh("make", "uninstall")
    sh("systemctl", "daemon-reload")
    state = show(UNIT, "ActiveState", "LoadState")
    left = [f for f in ("/usr/local/sbin/guardian", f"{UNITDIR}/{UNIT}", f"{UNITDIR}/guardian.slice")
            if os.path.exists(f)]
    t.check("disable --now, make uninstall: stopped, the unit gone, no file left",
            rc1 == 0 and rc2 == 0 and state.get("ActiveState") == "inactive"
            and state.get("LoadState") == "not-found" and not left, f"{out1}{out2} {state} {left}")
    # What the README's steps made by hand, so that the package test sees
    # a host without guardian.
    shutil.rmtree("/etc/guardian", ignore_errors=True)
    shutil.rmtree("/var/lib/guardian", ignore_errors=True)
    subprocess.run(["systemctl", "reset-failed"], capture_output=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
