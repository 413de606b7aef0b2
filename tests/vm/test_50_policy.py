#!/usr/bin/python3
"""Policies on a real kernel: a real MariaDB protected by policy while a
stress-ng neighbour exhausts the memory they share; what the kernel alone
does with the same load; reloads, good and bad, of a file and a directory."""
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import CG, Guardian, events, make_cgroup  # noqa: E402

POLICY = """version: 1
defaults:
  cooldown: 5s
workloads:
  - name: mariadb
    match:
      comm: [mariadbd, mysqld]
    protect:
      mode: never
      budget: 1G
      memory_min: 64M
      oom_score_adj: -1000
  - name: backup
    match:
      cgroup: "db.slice/backup.service"
    score_adj: +300
"""


class MariaDB:
    """mariadbd on a tmpfs datadir, with a small buffer pool, in a cgroup."""

    def __init__(self, cgroup, name):
        self.dir = f"/tmp/{name}"
        self.sock = f"{self.dir}.sock"
        os.makedirs(self.dir)
        subprocess.run(["mariadb-install-db", f"--datadir={self.dir}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True)
        self.log = open(f"{self.dir}.log", "w")
        self.proc = subprocess.Popen(
            ["mariadbd", f"--datadir={self.dir}", "--user=root", f"--socket={self.sock}",
             "--skip-networking", "--innodb-buffer-pool-size=96M", "--skip-log-bin",
             f"--pid-file={self.dir}.pid"],
            stdout=self.log, stderr=subprocess.STDOUT,
            preexec_fn=lambda: gdvm.write(f"{cgroup}/cgroup.procs", "0"))
        for _ in range(120):
            if self.query("select 1"):
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("mariadbd did not come up")
        self.query("create database t; create table t.a (x int, pad char(200)); "
                   "insert into t.a values (1, repeat('x', 200))")
        # Fill the buffer pool so that the database is the largest process.
        for _ in range(8):
            self.query("insert into t.a select x + 1, pad from t.a")
        self.ok = self.failed = 0
        self.running = True
        self.thread = threading.Thread(target=self._probe, daemon=True)
        self.thread.start()

    def query(self, sql):
        """True when sql ran. A client past 30 s counts as a failure, not an
        exception: under TCG, a slice thrashing at its limit (the
        kernel-alone scenario) stalls the VM for tens of seconds."""
        try:
            r = subprocess.run(["mariadb", f"--socket={self.sock}", "-uroot", "-e", sql],
                               capture_output=True, timeout=30)
        except subprocess.TimeoutExpired:
            return False
        return r.returncode == 0

    def _probe(self):
        while self.running:
            if self.query("select count(*) from t.a"):
                self.ok += 1
            else:
                self.failed += 1
            time.sleep(0.5)

    def stop(self):
        self.running = False
        self.thread.join(40)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        # The datadir is on the VM's tmpfs: left behind, it is memory the
        # tests after this one do not have.
        shutil.rmtree(self.dir, ignore_errors=True)


def rss_mb(pid):
    for line in gdvm.read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def stress(cgroup, workers, mb):
    """stress-ng --vm: workers of mb MiB each (stress-ng shares --vm-bytes
    among its instances), populated at once."""
    return subprocess.Popen(
        ["stress-ng", "--vm", str(workers), "--vm-bytes", f"{workers * mb}M", "--vm-keep",
         "--timeout", "120s", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=lambda: gdvm.write(f"{cgroup}/cgroup.procs", "0"))


def setup_cgroups():
    top = make_cgroup("db.slice", {"memory.max": "380M", "memory.high": "320M",
                                   "memory.swap.max": "0"})
    gdvm.write(f"{top}/cgroup.subtree_control", "+memory")
    return top, make_cgroup("db.slice/mariadb.service"), make_cgroup("db.slice/backup.service")


def kernel_alone(t):
    """No guardian, same slice and load: what does the kernel's memcg OOM
    killer do? stress-ng marks its workers oom_score_adj=1000, so the kernel
    kills (and stress-ng respawns) workers while the database lives on: the
    kernel is right here only because the neighbour volunteered."""
    top = make_cgroup("db.slice", {"memory.max": "380M", "memory.swap.max": "0"})
    gdvm.write(f"{top}/cgroup.subtree_control", "+memory")
    db_cg, job_cg = make_cgroup("db.slice/mariadb.service"), make_cgroup("db.slice/backup.service")
    db, job = None, None
    try:
        db = MariaDB(db_cg, "kernel-alone")
        print(f"info kernel alone: mariadbd {rss_mb(db.proc.pid)} MiB; neighbour 8 x 40 MiB",
              flush=True)
        job = stress(job_cg, 8, 40)
        deadline = time.monotonic() + 120
        while events(top)["oom_kill"] == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        adjs = set()
        for pid in gdvm.read(f"{job_cg}/cgroup.procs").split():
            try:
                adjs.add(int(gdvm.read(f"/proc/{pid}/oom_score_adj")))
            except OSError:
                pass
        print(f"info kernel alone: memory.events {events(top)}; neighbour oom_score_adj {adjs}",
              flush=True)
        t.check("kernel alone: the kernel's OOM killer acts", events(top)["oom_kill"] >= 1,
                f"{events(top)}")
        t.check("kernel alone: it kills the neighbour that marked itself (adj 1000), "
                "the database lives", db.proc.poll() is None and 1000 in adjs,
                f"mariadbd exit {db.proc.poll()}, neighbour adj {adjs}")
    finally:
        if job:
            job.kill()
            job.wait()
        if db:
            db.stop()
        gdvm.remove_cgroup(top)


def protected_by_policy(t):
    policy = "/tmp/policy-protect.yaml"
    gdvm.write(policy, POLICY)
    g = Guardian("policy", "--policy", policy)
    top, db_cg, job_cg = setup_cgroups()
    db, job = None, None
    try:
        db = MariaDB(db_cg, "protected")
        time.sleep(6)  # one enforcement pass
        t.check("policy: oom_score_adj -1000 written to mariadbd",
                gdvm.read(f"/proc/{db.proc.pid}/oom_score_adj").strip() == "-1000",
                gdvm.read(f"/proc/{db.proc.pid}/oom_score_adj"))
        t.check("policy: memory.min written to the database's cgroup",
                gdvm.read(f"{db_cg}/memory.min").strip() == str(64 << 20),
                gdvm.read(f"{db_cg}/memory.min"))
        job = stress(job_cg, 8, 40)
        recs = g.wait_records(lambda r: r["event"] == "kill" and r["result"] == "killed", 120)
        time.sleep(3)
        kills = [r for r in recs if r["event"] == "kill"]
        t.check("policy: guardian killed the neighbour",
                kills and all(r["cgroup"] == "db.slice/backup.service" for r in kills),
                f"{kills}")
        t.check("policy: the audit log names the workload",
                kills and kills[0]["workload"] == "backup", f"{kills[:1]}")
        t.check("policy: mariadbd survives", db.proc.poll() is None, f"exit {db.proc.poll()}")
        t.check("policy: and keeps answering", db.query("select count(*) from t.a"),
                "the last query failed")
        t.check("policy: it answered throughout", db.ok > 0 and db.failed <= db.ok // 10,
                f"{db.ok} answered, {db.failed} failed")
        t.check("policy: before the kernel's OOM killer", events(top)["oom_kill"] == 0,
                f"{events(top)}")
    finally:
        if job:
            job.kill()
            job.wait()
        if db:
            db.stop()
        gdvm.remove_cgroup(top)
        t.check("policy: guardian exits 0", g.stop() == 0, g.text()[-3000:])


NOTIFY = """version: 1
defaults:
  cooldown: 3s
workloads:
  - name: hog
    match: { cgroup: "reload" }
    action: {action}
"""


def reload_file(t):
    policy = "/tmp/policy-reload.yaml"
    gdvm.write(policy, NOTIFY.replace("{action}", "notify"))
    g = Guardian("reload", "--policy", policy)
    cg = make_cgroup("reload", {"memory.high": "64M", "memory.swap.max": "0"})
    hog = None
    try:
        hog = gdvm.start_eater(cg, grow_ms=1)
        recs = g.wait_records(lambda r: r["event"] == "notify", 60)
        t.check("reload: the first policy only notifies", any(r["event"] == "notify" for r in recs)
                and hog.poll() is None, f"{recs}, hog {hog.poll()}")
        # A broken file: reported with its position, the old policy stays.
        gdvm.write(policy, "version: 1\nworkloads:\n  - name: hog\n    match: { cgroup: reload }\n"
                           "    action: explode\n")
        g.wait_log("not valid: keeping the policy in force", 30)
        t.check("reload: a bad file is reported as FILE:LINE:COL",
                f"{policy}:5:" in g.text(), g.text()[-2000:])
        n_before = len(g.records())
        g.wait_records(lambda r: False, 5)
        t.check("reload: after the failed reload the old policy still decides (notify)",
                len(g.records()) > n_before and hog.poll() is None,
                f"{g.records()[n_before:]}, hog {hog.poll()}")
        # A good change takes effect without a restart.
        gdvm.write(policy, NOTIFY.replace("{action}", "kill-process"))
        rc = hog.wait(60)
        t.check("reload: the new policy kills", rc == -signal.SIGKILL, f"exit {rc}")
    except subprocess.TimeoutExpired:
        t.check("reload: the new policy kills", False, "hog still alive")
    finally:
        if hog:
            hog.kill()
            hog.wait()
        gdvm.remove_cgroup(cg)
        g.stop()


def reload_dir(t):
    d = "/tmp/policy.d"
    os.makedirs(d, exist_ok=True)
    gdvm.write(f"{d}/00-defaults.yaml", "version: 1\ndefaults:\n  cooldown: 5s\n")
    g = Guardian("reload-dir", "--policy-dir", d)
    try:
        t.check("policy dir: loaded", f"policy: {d} (0 workloads)" in g.text(), g.text()[-1000:])
        gdvm.write(f"{d}/10-db.yaml", "version: 1\nworkloads:\n  - name: db\n"
                                      "    match: { comm: mariadbd }\n")
        t.check("policy dir: a file added is picked up", g.wait_log(f"policy reloaded from {d}: 1 workloads", 30))
        gdvm.write(f"{d}/20-db-again.yaml", "version: 1\nworkloads:\n  - name: db\n"
                                            "    match: { comm: mysqld }\n")
        g.wait_log("not valid: keeping the policy in force", 30)
        text = g.text()
        t.check("policy dir: a name defined twice names both files",
                "10-db.yaml" in text and "20-db-again.yaml" in text, text[-2000:])
        os.unlink(f"{d}/20-db-again.yaml")
        gdvm.write(f"{d}/10-db.yaml", "version: 1\nworkloads:\n  - name: db\n"
                                      "    match: { comm: mariadbd }\n  - name: web\n"
                                      "    match: { comm: nginx }\n")
        t.check("policy dir: a changed file is picked up", g.wait_log(f"policy reloaded from {d}: 2 workloads", 30))
        os.unlink(f"{d}/10-db.yaml")
        t.check("policy dir: a removed file is picked up", g.wait_log(f"policy reloaded from {d}: 0 workloads", 30))
    except (TimeoutError, RuntimeError) as e:
        t.check("policy dir: reloads", False, repr(e))
    finally:
        t.check("policy dir: guardian exits 0", g.stop() == 0, g.text()[-2000:])


GROUP_POLICY = """version: 1
workloads:
  - name: mariadb
    match:
      comm: [mariadbd]
    protect:
      mode: never
      budget: 1G
"""


def oom_group_never(t):
    """memory.oom.group = 1 (the kubelet sets it on every container) on a
    cgroup that holds a "never" database and a hog: a whole-cgroup kill
    would take the database with it. guardian kills the hog alone, and
    says why it did not kill the cgroup whole. No oom_score_adj here: the
    policy's "never" alone must hold."""
    policy = "/tmp/policy-group.yaml"
    gdvm.write(policy, GROUP_POLICY)
    pod = make_cgroup("grp-pod", {"memory.max": "384M", "memory.high": "256M",
                                  "memory.swap.max": "0", "memory.oom.group": "1"})
    db, hog, g = None, None, None
    try:
        db = MariaDB(pod, "grp-db")
        g = Guardian("policy-group", "--policy", policy)
        hog = gdvm.start_eater(pod, grow_ms=2)
        rc = gdvm.wait_exit(hog, 90)
        recs = g.wait_records(lambda r: r["event"] in ("kill", "kill-cgroup"))
        t.check("oom.group + never: the hog is SIGKILLed", rc == -signal.SIGKILL, f"exit {rc}")
        t.check("oom.group + never: one process killed, not the cgroup",
                [r["pid"] for r in recs if r["event"] == "kill"] == [hog.pid]
                and not any(r["event"] == "kill-cgroup" for r in g.records()), f"{recs}")
        t.check("oom.group + never: mariadbd survives", db.proc.poll() is None,
                f"exit {db.proc.poll()}")
        t.check("oom.group + never: it says why",
                f"not killing cgroup=grp-pod whole: pid {db.proc.pid} comm=mariadbd is "
                "protected (never)" in g.text(), g.text()[-2000:])
        t.check("oom.group + never: before the kernel's OOM killer",
                events(pod)["oom_kill"] == 0, f"{events(pod)}")
    finally:
        if hog and hog.poll() is None:
            hog.kill()
            hog.wait()
        if g:
            t.check("oom.group + never: guardian exits 0", g.stop() == 0, g.text()[-2000:])
        if db:
            db.stop()
        gdvm.remove_cgroup(pod)


def main():
    return gdvm.run_scenarios("policy", (kernel_alone, protected_by_policy, oom_group_never, reload_file,
                                            reload_dir))


if __name__ == "__main__":
    sys.exit(main())
