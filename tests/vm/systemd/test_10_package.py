#!/usr/bin/python3
"""The Debian package under systemd as PID 1, on the real kernel (the VM
boots systemd: tests/vm/stage2-systemd.sh). build/deb/guardian_*.deb is
installed with dpkg, its postinst enables and starts the shipped unit
(deploy/systemd/guardian.service and guardian.slice, unchanged but for
ExecStart='s /usr/sbin), and then: READY (Type=notify), the watchdog fed
and never firing over more than WatchdogSec, `systemctl reload` re-reads
the policy, the sandbox is on, a policy's memory.min and oom_score_adj
writes succeed under the unit's hardening, a hog in a scope with a limit
is killed by guardian (not the kernel) and audited in $STATE_DIRECTORY,
`guardian status` answers on $RUNTIME_DIRECTORY's socket, `systemctl stop`
exits cleanly, a `kill -9` is restarted by systemd, the README's
`systemd-analyze security` figure is the one measured here, and a purge
takes the unit, the conffile and the state directory away."""
import glob
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdvm  # noqa: E402
from sdvm import AUDIT, hog_killed, sh, show, wait_for  # noqa: E402

REPO = gdvm.REPO
UNIT = "guardian.service"
STATE = "/var/lib/guardian"
POLICY_D = "/etc/guardian/policy.d"
# CAP_DAC_OVERRIDE (1), CAP_KILL (5), CAP_SYS_PTRACE (19), CAP_SYS_RESOURCE (24):
# what guardian keeps of the unit's five (CAP_IPC_LOCK goes after mlockall).
CAPS_KEPT = (1 << 1) | (1 << 5) | (1 << 19) | (1 << 24)
TEST_POLICY = """version: 1
workloads:
  - name: gd-db
    match:
      cgroup: system.slice/gd-db.service
    protect:
      mode: never
      memory_min: 32M
      oom_score_adj: -500
"""


def journal(unit=UNIT):
    return subprocess.run(["journalctl", "-u", unit, "-o", "cat", "--no-pager"],
                          capture_output=True, text=True).stdout.splitlines()


def proc_status(pid):
    try:
        text = gdvm.read(f"/proc/{pid}/status")
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def main():
    t = gdvm.Checker("package")
    t.check("systemd is PID 1", gdvm.read("/proc/1/comm").strip() == "systemd",
            gdvm.read("/proc/1/comm"))
    debs = sorted(glob.glob(f"{REPO}/build/deb/guardian_*.deb"))
    debs = [d for d in debs if "dbgsym" not in d]
    if not t.check("build/deb holds the package (make deb)", len(debs) == 1, f"{debs}"):
        return t.finish()

    # This host image stops postinsts from starting services (a container
    # build's /usr/sbin/policy-rc.d, exit 101); a real host has none.
    if os.path.exists("/usr/sbin/policy-rc.d"):
        os.unlink("/usr/sbin/policy-rc.d")
    rc, out = sh("dpkg", "-i", debs[0])
    t.check("dpkg -i installs the package", rc == 0, out[-1500:])
    rc, out = sh("dpkg-query", "-W", "-f=${Status} ${Conffiles}", "guardian")
    t.check("dpkg: installed, with /etc/guardian/policy.d/guardian.yaml a conffile",
            out.startswith("install ok installed") and f"{POLICY_D}/guardian.yaml" in out, out)

    # The shipped unit and slice, as dh_installsystemd installed them.
    shipped = gdvm.read(f"{REPO}/deploy/systemd/guardian.service")
    installed = gdvm.read(f"/lib/systemd/system/{UNIT}")
    t.check("the installed unit is deploy/systemd/guardian.service with ExecStart= in /usr/sbin",
            installed == shipped.replace("/usr/local/sbin/guardian", "/usr/sbin/guardian")
            and "ExecStart=/usr/sbin/guardian run\n" in installed, "the files differ")
    t.check("the installed slice is deploy/systemd/guardian.slice",
            gdvm.read("/lib/systemd/system/guardian.slice")
            == gdvm.read(f"{REPO}/deploy/systemd/guardian.slice"))
    st = os.stat(STATE)
    t.check(f"the package's state directory {STATE} is 0700", st.st_mode & 0o777 == 0o700,
            oct(st.st_mode))

    # Started by the postinst; with Type=notify, "active" means READY=1 came.
    p = wait_for(lambda: (lambda s: s if s.get("ActiveState") in ("active", "failed") else None)(
        show(UNIT, "ActiveState", "SubState", "Type", "MainPID", "StatusText", "UnitFileState")), 60)
    p = p or show(UNIT, "ActiveState", "SubState", "Type", "MainPID", "StatusText", "UnitFileState")
    t.check("the postinst enabled and started it: active (running), Type=notify",
            p.get("ActiveState") == "active" and p.get("SubState") == "running"
            and p.get("Type") == "notify" and p.get("UnitFileState") == "enabled", f"{p}")
    t.check("READY=1 came with its status line (StatusText: watching N cgroups ...)",
            p.get("StatusText", "").startswith("watching "), p.get("StatusText"))
    pid = int(p.get("MainPID", "0"))
    started = float(show(UNIT, "ActiveEnterTimestampMonotonic")["ActiveEnterTimestampMonotonic"]) / 1e6
    if not t.check("a main pid", pid > 0, f"{p}"):
        print("\n".join(f"info journal: {line}" for line in journal()[-30:]))
        return t.finish()

    # The sandbox and the unit's placement.
    s = proc_status(pid)
    t.check("sandboxed: Seccomp: 2, NoNewPrivs: 1",
            s.get("Seccomp") == "2" and s.get("NoNewPrivs") == "1", f"{s.get('Seccomp')} {s.get('NoNewPrivs')}")
    t.check("effective and permitted capabilities: exactly the four kept",
            int(s.get("CapEff", "0"), 16) == CAPS_KEPT and int(s.get("CapPrm", "0"), 16) == CAPS_KEPT,
            f"CapEff {s.get('CapEff')} CapPrm {s.get('CapPrm')}")
    t.check("in guardian.slice/guardian.service, oom_score_adj -1000",
            gdvm.read(f"/proc/{pid}/cgroup").strip() == "0::/guardian.slice/guardian.service"
            and gdvm.read(f"/proc/{pid}/oom_score_adj").strip() == "-1000",
            gdvm.read(f"/proc/{pid}/cgroup") + gdvm.read(f"/proc/{pid}/oom_score_adj"))
    mins = [gdvm.read(f"{gdvm.CG}/guardian.slice/memory.min").strip(),
            gdvm.read(f"{gdvm.CG}/guardian.slice/guardian.service/memory.min").strip()]
    t.check("memory.min 64M on the slice and the service", mins == [str(64 << 20)] * 2, f"{mins}")

    # The watchdog: WatchdogSec=30s, a ping every quarter of it.
    w = show(UNIT, "WatchdogUSec", "WatchdogTimestampMonotonic")
    t0 = int(w.get("WatchdogTimestampMonotonic", "0"))
    t1 = wait_for(lambda: (lambda v: v if v > t0 else 0)(
        int(show(UNIT, "WatchdogTimestampMonotonic")["WatchdogTimestampMonotonic"])), 12)
    t.check("the watchdog (WatchdogSec=30s) is fed: WatchdogTimestamp moves within 12 s",
            w.get("WatchdogUSec") == "30s" and t0 > 0 and t1 > t0, f"{w} then {t1}")

    # A workload under a policy: memory.min and oom_score_adj written under
    # ProtectSystem=strict, the capability set and the syscall filter.
    rc, out = sh("systemd-run", "--unit=gd-db", "-p", "MemoryMax=256M", gdvm.MEMEATER, "--mb", "16")
    db = wait_for(lambda: int(show("gd-db.service", "MainPID")["MainPID"]), 10)
    t.check("a service gd-db runs (systemd-run)", rc == 0 and db > 0, out)
    before = journal()
    tmp = "/etc/guardian/.50-gdtest.yaml"
    gdvm.write(tmp, TEST_POLICY)
    os.rename(tmp, f"{POLICY_D}/50-gdtest.yaml")
    seen = wait_for(lambda: any("policy reloaded from /etc/guardian/policy.d: 1 workloads" in line
                                for line in journal()[len(before):]), 10)
    t.check("a new policy file is seen and loaded (inotify under ProtectSystem=strict)", seen,
            "\n".join(journal()[len(before):]))
    cg = f"{gdvm.CG}/system.slice/gd-db.service"
    ok = wait_for(lambda: gdvm.read(f"{cg}/memory.min").strip() == str(32 << 20)
                  and gdvm.read(f"/proc/{db}/oom_score_adj").strip() == "-500", 12)
    t.check("the policy's memory.min (32M) and oom_score_adj (-500) are written",
            ok, f"memory.min {gdvm.read(cg + '/memory.min').strip()} "
            f"oom_score_adj {gdvm.read(f'/proc/{db}/oom_score_adj').strip()}")
    failed = [line for line in journal() if re.search(r"cannot (set|write)|failed to (set|write)|"
                                                      r"Operation not permitted|Read-only file", line)]
    t.check("no write refused in the journal", not failed, "\n".join(failed[-5:]))

    before = journal()
    rc, out = sh("systemctl", "reload", UNIT)
    new = wait_for(lambda: (lambda j: j if any("policy reloaded from" in line for line in j) else None)(
        journal()[len(before):]), 10) or journal()[len(before):]
    t.check("systemctl reload re-reads the policy (SIGHUP: reloading, policy reloaded)",
            rc == 0 and any("SIGHUP: reloading the policy" in line for line in new)
            and any("policy reloaded from /etc/guardian/policy.d: 1 workloads" in line for line in new),
            out + "\n".join(new))
    t.check("active after the reload, same main pid",
            show(UNIT, "ActiveState")["ActiveState"] == "active"
            and int(show(UNIT, "MainPID")["MainPID"]) == pid)

    # A hog in a scope with limits: guardian kills it before the kernel.
    hogpid = hog_killed(t, "gd-hog")
    st = os.stat(AUDIT)
    t.check("the audit log is 0600", st.st_mode & 0o777 == 0o600, oct(st.st_mode))
    rc, out = sh("guardian", "status")
    t.check("guardian status answers on $RUNTIME_DIRECTORY/guardian.sock and lists the kill",
            rc == 0 and "sandbox: yes" in out and re.search(rf"\b{hogpid}\b", out) is not None, out[-1500:])

    # No watchdog kill, no restart, over more than WatchdogSec.
    wait_for(lambda: time.monotonic() - started > 33, 40, step=1)
    p = show(UNIT, "ActiveState", "MainPID", "NRestarts")
    t.check(f"after {time.monotonic() - started:.0f}s (> WatchdogSec): same pid, no restart",
            p.get("ActiveState") == "active" and int(p.get("MainPID", 0)) == pid
            and p.get("NRestarts") == "0", f"{p}")

    # systemctl stop: SIGTERM, a clean exit 0.
    rc, out = sh("systemctl", "stop", UNIT)
    p = show(UNIT, "ActiveState", "Result", "ExecMainCode", "ExecMainStatus")
    t.check("systemctl stop: inactive, Result=success, exited with status 0",
            rc == 0 and p.get("ActiveState") == "inactive" and p.get("Result") == "success"
            and p.get("ExecMainCode") == "1" and p.get("ExecMainStatus") == "0", f"{out} {p}")
    t.check("the journal says why it exited (Terminated: exiting)",
            any(line.endswith("Terminated: exiting") for line in journal()), "\n".join(journal()[-5:]))

    # Started again, then killed with SIGKILL: systemd brings it back.
    rc, out = sh("systemctl", "start", UNIT)
    pid = int(show(UNIT, "MainPID")["MainPID"])
    t.check("systemctl start: active again (READY)", rc == 0 and pid > 0
            and show(UNIT, "ActiveState")["ActiveState"] == "active", out)
    restarts = int(show(UNIT, "NRestarts")["NRestarts"])
    os.kill(pid, signal.SIGKILL)
    new = wait_for(lambda: (lambda s: s if s.get("ActiveState") == "active"
                            and int(s.get("MainPID", 0)) not in (0, pid) else None)(
        show(UNIT, "ActiveState", "MainPID", "NRestarts")), 30)
    t.check("kill -9: systemd restarts it (Restart=always), a new pid, active",
            new and int(new["NRestarts"]) == restarts + 1, f"{new or show(UNIT, 'ActiveState', 'MainPID', 'NRestarts')}")

    # The exposure figure the README quotes.
    rc, out = sh("systemd-analyze", "security", UNIT, "--no-pager")
    m = re.search(r"Overall exposure level for guardian\.service: (\d+\.\d+) (\w+)", out)
    readme = gdvm.read(f"{REPO}/README.md")
    r = re.search(r"`systemd-analyze security guardian` rates it (\d+\.\d+), \"(\w+)\"", readme)
    t.check("systemd-analyze security: the figure README.md quotes",
            m is not None and r is not None and m.groups() == r.groups(),
            f"measured {m and m.groups()}, README {r and r.groups()}")
    if m:
        print(f"info package: systemd-analyze security guardian: {m.group(1)} {m.group(2)}")

    # Purge: the unit stopped and disabled, the conffile and the state
    # directory (the audit trail) gone with the package.
    sh("systemctl", "stop", "gd-db.service")
    os.unlink(f"{POLICY_D}/50-gdtest.yaml")
    rc, out = sh("dpkg", "--purge", "guardian")
    state = show(UNIT, "ActiveState", "LoadState")
    t.check("dpkg --purge: the unit stopped and gone, /etc/guardian and /var/lib/guardian removed",
            rc == 0 and state.get("ActiveState") == "inactive" and state.get("LoadState") == "not-found"
            and not os.path.exists("/etc/guardian") and not os.path.exists(STATE),
            f"{out[-1000:]} {state} /etc/guardian {os.path.exists('/etc/guardian')} "
            f"{STATE} {os.path.exists(STATE)}")
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
