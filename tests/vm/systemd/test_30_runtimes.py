#!/usr/bin/python3
"""Real container runtimes under systemd as PID 1 (issue 11): Debian's
Docker (docker.io, with its containerd and runc) and Podman (crun) run
containers made from images imported here from a root file system built
in the test (busybox-static's busybox and build/helpers/memeater-static:
no registry, no network). Per runtime and cgroup driver (Docker: systemd,
then cgroupfs after one restart of dockerd; Podman: --cgroup-manager
systemd and cgroupfs) a `mysql-1` from `mysql:8-local` holds 50 MiB and an
`etl-1` from `etl:latest`, labelled com.docker.compose.service=etl, waits
to grow, both under one parent cgroup (--cgroup-parent) whose memory.high
and memory.max squeeze the pair. The test records each container's cgroup
(/proc/PID/cgroup) and copies what the runtime wrote (Docker's
config.v2.json, Podman's containers.json and userdata/config.json) to
$GDVM_OUT/ident-real, where tests/unit/fixtures/ident/real/ comes from.
Then containerd's k8s.io namespace: `ctr run` with the annotations the CRI
plugin writes for a pod's container; its bundle config.json is copied too.

Then each pair runs the guardian scenario: a policy that protects mysql
by container name and image and raises etl by its compose label (Docker)
or its image (Podman keeps labels only in its database); etl-1 grows,
guardian kills in etl-1, mysql-1 lives, and the audit record names the
container (runtime, id, name, image) and the workload it matched.
GD_IDENT_SCENARIO=0 leaves the scenario out (the test then says "scenario
not run" and counts nothing for it)."""
import glob
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdvm  # noqa: E402
from sdvm import sh, wait_for  # noqa: E402

REPO = gdvm.REPO
# Debian's CLI: the host image may have another `docker` earlier in PATH.
DOCKER = "/usr/bin/docker"
CTR = "/usr/bin/ctr"
PODMAN = "/usr/bin/podman"
HOG = f"{REPO}/build/helpers/memeater-static"
WORK = "/tmp/gd-rt"
OUT = os.path.join(os.environ["GDVM_OUT"], "ident-real") if os.environ.get("GDVM_OUT") else None
SCENARIO = os.environ.get("GD_IDENT_SCENARIO", "1") != "0"
# No dash in the slice's name: systemd would nest gd-pair.slice in gd.slice.
PARENT_SLICE = "gdpair.slice"
PARENT_CG = "gdpair"
HIGH, MAX = 160 << 20, 256 << 20
MYSQL_MB = 50
# etl-1 waits for /tmp/go in itself, then grows 1 MiB every 10 ms: it only
# squeezes the pair when the scenario asks it to.
ETL_CMD = ["/bin/sh", "-c", "while [ ! -e /tmp/go ]; do sleep 1; done; "
           "exec /bin/memeater --mb 8 --grow-ms 10"]
# Podman names a locally imported image "localhost/<name>" and keeps
# labels only in its database: its etl-1 is matched by image, Docker's by
# its label (the first workload that matches wins).
POLICY = """version: 1
workloads:
  - name: mysql
    match: { container_name: "mysql*", image: ["mysql:*", "*/mysql:*", "mariadb:*"] }
    protect: { mode: never }
  - name: etl-label
    match: { labels: { com.docker.compose.service: etl } }
    score_adj: 500
  - name: batch
    match: { image: ["etl:*", "*/etl:*"] }
    score_adj: 500
"""
WORKLOAD_OF_ETL = {"docker": "etl-label", "podman": "batch"}
K8S_POLICY = """version: 1
workloads:
  - name: prod-db
    match: { kubernetes: { namespace: prod, pod_name: "postgres-*", container_name: postgres } }
    protect: { mode: never }
"""
# A pod as the CRI plugin would name it (no kubelet runs here).
POD_UID = "6f1c1d52-7b3e-4c1a-9d7e-2f4b8a0c5e11"
CRI_ID = "4b0b7c8e1d2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
CRI_SANDBOX_ID = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
CRI_IMAGE = "docker.io/library/postgres:15-local"

versions = {}
manifest = []


def run(*args, timeout=300):
    """sh(), timed with GD_RT_TIMING=1 (vm-run.sh --env GD_RT_TIMING=1)."""
    t0 = time.monotonic()
    r = sh(*args, timeout=timeout)
    if os.environ.get("GD_RT_TIMING"):
        print(f"info timing {time.monotonic() - t0:5.1f}s {' '.join(args)[:100]}", flush=True)
    return r


def run_both(*argvs, timeout=300):
    """Commands run at once (each runtime call costs seconds under TCG):
    [(exit status, stdout + stderr)] in order."""
    t0 = time.monotonic()
    procs = [subprocess.Popen(a, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=REPO) for a in argvs]
    res = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=max(1, timeout - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        res.append((p.returncode, out))
    if os.environ.get("GD_RT_TIMING"):
        print(f"info timing {time.monotonic() - t0:5.1f}s (at once) {argvs[0][:6]}", flush=True)
    return res


def out_copy(src, rel):
    """Copy src to $GDVM_OUT/ident-real/rel (nothing outside the VM runner)."""
    if not OUT:
        return False
    dst = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    return True


def out_write(rel, text):
    if not OUT:
        return
    dst = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    gdvm.write(dst, text)


def tmpfs(path):
    os.makedirs(path, exist_ok=True)
    if subprocess.run(["mountpoint", "-q", path]).returncode != 0:
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", path], check=True)


def build_rootfs():
    """rootfs.tar: busybox and the static memeater, nothing else."""
    os.makedirs(WORK, exist_ok=True)
    path = f"{WORK}/rootfs.tar"
    with tarfile.open(path, "w") as tar:
        for d in ("bin", "dev", "etc", "proc", "sys", "tmp", "run"):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(ti)
        tar.add("/bin/busybox", "bin/busybox")
        tar.add(HOG, "bin/memeater")
        for applet in ("sh", "sleep", "touch", "test", "[", "cat"):
            ti = tarfile.TarInfo(f"bin/{applet}")
            ti.type, ti.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(ti)
        for name, text in (("etc/passwd", "root:x:0:0:root:/:/bin/sh\n"),
                           ("etc/group", "root:x:0:\n")):
            data = text.encode()
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(data), 0o644
            tar.addfile(ti, io.BytesIO(data))
    return path


def proc_cgroup(pid):
    try:
        return gdvm.read(f"/proc/{pid}/cgroup").strip()
    except OSError:
        return ""


def cg_path(line):
    """The v2 path of a /proc/PID/cgroup line '0::/a/b' -> 'a/b'."""
    return line.split("::", 1)[1].lstrip("/") if "::" in line else ""


def mem_current(rel):
    try:
        return int(gdvm.read(f"{gdvm.CG}/{rel}/memory.current"))
    except (OSError, ValueError):
        return 0


# ---- the shared parent the pair is squeezed under ---------------------------

def make_parent(driver):
    """The parent cgroup: a slice for the systemd drivers (both runtimes
    then want a slice name), a plain cgroup under the root for cgroupfs.
    Returns (the --cgroup-parent argument, its path under /sys/fs/cgroup)."""
    if driver == "systemd":
        rc, out = run("systemctl", "start", PARENT_SLICE)
        if rc != 0:   # not loaded yet: write_slice() came after the last reload
            run("systemctl", "daemon-reload")
            rc, out = run("systemctl", "start", PARENT_SLICE)
        if rc != 0:
            raise RuntimeError(f"systemctl start {PARENT_SLICE}: {out}")
        return PARENT_SLICE, PARENT_SLICE
    gdvm.make_cgroup(PARENT_CG, {"memory.high": HIGH, "memory.max": MAX})
    return f"/{PARENT_CG}", PARENT_CG


def write_slice():
    """The systemd drivers' parent, loaded by the one reload the test does
    (`systemctl unmask`'s): a daemon-reload costs 6-7 s under TCG."""
    gdvm.write(f"/run/systemd/system/{PARENT_SLICE}",
               f"[Unit]\nDescription=gd: the squeezed pair\n[Slice]\n"
               f"MemoryHigh={HIGH}\nMemoryMax={MAX}\n")


def drop_parent(driver):
    if driver == "systemd":
        run("systemctl", "stop", PARENT_SLICE)
    else:
        gdvm.remove_cgroup(f"{gdvm.CG}/{PARENT_CG}")


# ---- one runtime's commands --------------------------------------------------

class Docker:
    name = "docker"
    rm_now = ()

    def __init__(self, driver):
        self.driver = driver
        self.cli = [DOCKER]

    def image(self, tag):
        return tag

    def run_args(self, name, image, parent, labels, cmd):
        args = [*self.cli, "run", "-d", "--name", name, "--network", "none",
                "--cgroup-parent", parent]
        for k, v in labels.items():
            args += ["--label", f"{k}={v}"]
        return args + [image, *cmd]

    def copy_out(self, t, cid, name, rel):
        src = f"/var/lib/docker/containers/{cid}/config.v2.json"
        ok = os.path.exists(src)
        t.check(f"docker/{self.driver}: {name}'s config.v2.json is in /var/lib/docker/containers/<id>",
                ok, src)
        if ok:
            out_copy(src, f"{rel}/{name}.config.v2.json")
            cfg = json.loads(gdvm.read(src))
            return cfg
        return {}


class Podman:
    name = "podman"
    rm_now = ("-t", "0")   # else it waits 10 s for SIGTERM to do what it cannot

    def __init__(self, driver):
        self.driver = driver
        self.cli = [PODMAN, "--cgroup-manager", driver]

    def image(self, tag):
        return f"localhost/{tag}"

    def run_args(self, name, image, parent, labels, cmd):
        args = [*self.cli, "run", "-d", "--name", name, "--network", "none",
                "--cgroup-parent", parent]
        for k, v in labels.items():
            args += ["--label", f"{k}={v}"]
        return args + [image, *cmd]

    def copy_out(self, t, cid, name, rel):
        # <graphroot>/<driver>-containers: vfs-containers here (test_20's
        # storage), overlay-containers on a host with the overlay driver.
        found = glob.glob(f"/var/lib/containers/storage/*-containers/{cid}/userdata/config.json")
        t.check(f"podman/{self.driver}: {name}'s userdata/config.json is in "
                "/var/lib/containers/storage/*-containers/<id>", len(found) == 1, f"{found}")
        if found:
            out_copy(found[0], f"{rel}/{name}.userdata.config.json")
            return json.loads(gdvm.read(found[0]))
        return {}


def inspect(rt, name, fmt):
    rc, out = run(*rt.cli, "inspect", "-f", fmt, name)
    return out.strip() if rc == 0 else ""


def running(rt, name):
    return inspect(rt, name, "{{.State.Running}}") == "true"


def logs(rt, name):
    return run(*rt.cli, "logs", name)[1]


# ---- one pair: mysql-1 and etl-1 under the squeezed parent --------------------

def pair(t, rt):
    tag = f"{rt.name}/{rt.driver}"
    rel = f"{rt.name}-{rt.driver}"
    parent, parent_rel = make_parent(rt.driver)
    try:
        cont = {}
        specs = (("mysql-1", "mysql:8-local", {}, ["/bin/memeater", "--mb", str(MYSQL_MB)]),
                 ("etl-1", "etl:latest", {"com.docker.compose.service": "etl"}, ETL_CMD))
        started = run_both(*[rt.run_args(name, rt.image(image), parent, labels, cmd)
                             for name, image, labels, cmd in specs])
        bad = False
        for (name, image, _, _), (rc, out) in zip(specs, started):
            if not t.check(f"{tag}: {name} from {image} starts under --cgroup-parent {parent}",
                           rc == 0, out[-1500:]):
                bad = True
            else:
                cont[name] = out.strip().splitlines()[-1]
        if bad:
            return
        # One inspect for both: every call of a runtime's CLI costs seconds here.
        rc, out = run(*rt.cli, "inspect", "-f", "{{.Name}} {{.Id}} {{.State.Pid}}", "mysql-1", "etl-1")
        ids = {}
        for line in out.splitlines() if rc == 0 else []:
            f = line.split()
            if len(f) == 3:
                ids[f[0].lstrip("/")] = (f[1], f[2])
        t.check(f"{tag}: inspect gives both containers' ids and pids", len(ids) == 2, out[-800:])
        lines = [f"# {tag}: written by tests/vm/systemd/test_30_runtimes.py",
                 f"# parent {parent} -> /sys/fs/cgroup/{parent_rel}: memory.high {HIGH} memory.max {MAX}"]
        found = {}
        for name, image, labels, _ in specs:
            cid = cont[name]
            full, pid = ids.get(name, ("", ""))
            line = proc_cgroup(pid) if pid.isdigit() else ""
            path = cg_path(line)
            found[name] = (full, int(pid) if pid.isdigit() else 0, path)
            lines.append(f"{name} image={rt.image(image)} id={full} pid={pid} cgroup={line}")
            t.check(f"{tag}: {name}'s cgroup is below the parent and names its id: /{path}",
                    full and cid.startswith(full[:12]) and path.startswith(parent_rel + "/")
                    and full in path, f"id {full} /proc/{pid}/cgroup {line!r}")
            cfg = rt.copy_out(t, full, name, rel)
            if rt.name == "docker":
                ok = (cfg.get("Name") == f"/{name}" and cfg.get("Config", {}).get("Image") == image
                      and all(cfg.get("Config", {}).get("Labels", {}).get(k) == v
                              for k, v in labels.items()))
                t.check(f"{tag}: config.v2.json has Name /{name}, Config.Image {image} and the labels",
                        ok, json.dumps(cfg)[:800])
            else:
                ann = cfg.get("annotations", {})
                print(f"info {tag}: {name}'s annotations: {json.dumps(ann)}", flush=True)
                t.check(f"{tag}: userdata/config.json's annotations say io.container.manager libpod",
                        ann.get("io.container.manager") == "libpod", json.dumps(ann)[:800])
        if rt.name == "podman":
            js = glob.glob("/var/lib/containers/storage/*-containers/containers.json")
            entries = json.loads(gdvm.read(js[0])) if len(js) == 1 else []
            names = {e.get("id"): e.get("names") for e in entries}
            ok = all(names.get(found[n][0]) == [n] for n in found)
            t.check(f"{tag}: containers.json lists both containers by id and name", ok,
                    f"{js} {names}")
            if js:
                out_copy(js[0], f"{rel}/containers.json")
            # Podman 4.3 writes a container's labels into neither file
            # above: they are in libpod's state database (BoltDB, the
            # container's configuration as JSON values), kept as found.
            bolt = "/var/lib/containers/storage/libpod/bolt_state.db"
            if os.path.exists(bolt) and os.path.getsize(bolt) <= 1 << 20:
                out_copy(bolt, f"{rel}/bolt_state.db")
        mysql_cg = found["mysql-1"][2]
        ok = wait_for(lambda: mem_current(mysql_cg) >= MYSQL_MB << 20, 60)
        t.check(f"{tag}: mysql-1's cgroup holds its {MYSQL_MB} MiB (memory.current)", ok,
                "" if ok else f"{mem_current(mysql_cg)} {logs(rt, 'mysql-1')[-300:]}")
        out_write(f"{rel}/cgroups.txt", "\n".join(lines) + "\n")
        manifest.extend(lines)
        print("\n".join(f"info {ln}" for ln in lines), flush=True)
        scenario(t, rt, found)
    finally:
        run(*rt.cli, "rm", "-f", *rt.rm_now, "mysql-1", "etl-1")
        drop_parent(rt.driver)


def scenario(t, rt, found):
    tag = f"{rt.name}/{rt.driver}"
    if not SCENARIO:
        print(f"info {tag}: scenario not run: GD_IDENT_SCENARIO=0", flush=True)
        return
    policy = f"{WORK}/policy.yaml"
    gdvm.write(policy, POLICY)
    g = None
    try:
        g = gdvm.Guardian(f"rt-{rt.name}-{rt.driver}", "--policy", policy)
    except Exception as e:  # noqa: BLE001 - any failure to start is the check's
        t.check(f"{tag} scenario: guardian run --policy with the container policy starts",
                False, repr(e)[-1500:])
        if g:
            g.stop()
        return
    try:
        etl_id, etl_pid, _ = found["etl-1"]
        mysql_id, mysql_pid, _ = found["mysql-1"]
        rc, out = run(*rt.cli, "exec", "etl-1", "/bin/touch", "/tmp/go")
        t.check(f"{tag} scenario: etl-1 starts to grow", rc == 0, out)
        gone = wait_for(lambda: not running(rt, "etl-1"), 60, step=0.5)
        code = inspect(rt, "etl-1", "{{.State.ExitCode}}")
        t.check(f"{tag} scenario: etl-1's hog is killed (exit 137)", gone and code == "137",
                f"running {not gone} exit {code}")
        t.check(f"{tag} scenario: mysql-1 lives", running(rt, "mysql-1"), logs(rt, "mysql-1")[-300:])
        recs = g.wait_records(lambda r: r.get("pid") == etl_pid)
        kill = [r for r in recs if r.get("pid") == etl_pid and r.get("event") == "kill"]
        c = kill[0].get("container") or {} if kill else {}
        image = rt.image("etl:latest")
        want_w = WORKLOAD_OF_ETL[rt.name]
        t.check(f"{tag} scenario: the audit record names the container: runtime {rt.name}, "
                f"id, name etl-1, image {image}, workload {want_w}",
                len(kill) == 1 and kill[0].get("result") == "killed" and kill[0].get("workload") == want_w
                and c.get("runtime") == rt.name and c.get("id") == etl_id and c.get("name") == "etl-1"
                and c.get("image") in ("etl:latest", image), f"{recs}")
        t.check(f"{tag} scenario: nothing in mysql-1 was killed",
                not [r for r in recs if r.get("pid") == mysql_pid
                     or (r.get("container") or {}).get("id") == mysql_id], f"{recs}")
    finally:
        rc = g.stop()
        if t.failed:
            g.dump_log(tag)
        t.check(f"{tag} scenario: guardian exits 0 on SIGTERM", rc == 0, f"exit {rc}")


# ---- Docker: dockerd once, both drivers with one restart ----------------------

def docker_config(driver):
    os.makedirs("/etc/docker", exist_ok=True)
    # No network in the VM: no iptables, no bridge; vfs on the tmpfs (the
    # root is an overlay on a read-only root). The engine's configuration.
    gdvm.write("/etc/docker/daemon.json", json.dumps({
        "storage-driver": "vfs", "iptables": False, "ip-masq": False, "ip-forward": False,
        "bridge": "none", "userland-proxy": False, "log-level": "warn",
        "exec-opts": [f"native.cgroupdriver={driver}"]}, indent=1) + "\n")


def docker(t, rootfs):
    for d in ("/var/lib/docker", "/var/lib/containerd"):
        tmpfs(d)
    docker_config("systemd")
    # stage2-systemd.sh masks what the host's multi-user and sockets targets
    # want, these among them: a test boot starts them when it needs them.
    # (unmask reloads systemd, which also loads write_slice()'s slice.)
    run("systemctl", "unmask", "containerd.service", "docker.service", "docker.socket")
    t0 = time.monotonic()
    rc, out = run("systemctl", "start", "docker.service")
    if not t.check("systemctl start docker (containerd, dockerd)", rc == 0,
                   out + run("journalctl", "-u", "docker", "-u", "containerd", "--no-pager", "-n", "40")[1]):
        return
    print(f"info docker: dockerd up in {time.monotonic() - t0:.1f}s", flush=True)
    rc, out = run(DOCKER, "import", rootfs, "mysql:8-local")
    rc2, out2 = run(DOCKER, "tag", "mysql:8-local", "etl:latest")
    t.check("docker import rootfs.tar mysql:8-local (no registry), tagged etl:latest too",
            rc == rc2 == 0, (out + out2)[-800:])
    for driver in ("systemd", "cgroupfs"):
        if driver != "systemd":
            docker_config(driver)
            rc, out = run("systemctl", "restart", "docker.service")
            t.check(f"dockerd restarted with native.cgroupdriver={driver}", rc == 0, out[-800:])
        got = run(DOCKER, "info", "-f",
                  "{{.CgroupDriver}} {{.CgroupVersion}} {{.Driver}} {{.ServerVersion}}")[1].split()
        if not t.check(f"docker info: cgroup driver {driver}, cgroup v2, storage vfs",
                       got[:3] == [driver, "2", "vfs"], f"{got}"):
            continue
        versions["dockerd"] = got[3] if len(got) > 3 else "?"
        try:
            pair(t, Docker(driver))
        except Exception as e:  # noqa: BLE001
            t.check(f"docker/{driver}: the pair ran", False, repr(e))
    try:
        containerd_cri(t)
    except Exception as e:  # noqa: BLE001
        t.check("containerd k8s.io: ran", False, repr(e))
    # Podman next: give its containers the memory back.
    run("systemctl", "stop", "docker.service", "docker.socket", "containerd.service")


# ---- containerd's k8s.io namespace, as the CRI plugin fills it ----------------

def containerd_cri(t):
    ns = [CTR, "-n", "k8s.io"]
    rc, out = run(DOCKER, "tag", "mysql:8-local", "postgres:15-local")
    rc2, out2 = run("sh", "-c", f"{DOCKER} save postgres:15-local > {WORK}/image.tar")
    rc3, out3 = run(*ns, "images", "import", "--snapshotter", "native", f"{WORK}/image.tar")
    if not t.check(f"ctr -n k8s.io images import (docker save of the rootfs image): {CRI_IMAGE}",
                   rc == rc2 == rc3 == 0 and CRI_IMAGE in run(*ns, "images", "ls", "-q")[1],
                   out + out2 + out3):
        return
    # The annotations the CRI plugin writes into a pod container's spec
    # (containerd internal/cri/annotations): set here by hand, because no
    # kubelet runs here to ask the CRI plugin for a pod.
    ann = {"io.kubernetes.cri.container-type": "container",
           "io.kubernetes.cri.container-name": "postgres",
           "io.kubernetes.cri.image-name": CRI_IMAGE,
           "io.kubernetes.cri.sandbox-id": CRI_SANDBOX_ID,
           "io.kubernetes.cri.sandbox-namespace": "prod",
           "io.kubernetes.cri.sandbox-name": "postgres-0",
           "io.kubernetes.cri.sandbox-uid": POD_UID}
    # The kubelet's systemd-driver layout: kubepods-besteffort-pod<uid>.slice,
    # the container in cri-containerd-<id>.scope.
    slice_ = f"kubepods-besteffort-pod{POD_UID.replace('-', '_')}.slice"
    args = [*ns, "run", "-d", "--snapshotter", "native", "--runc-systemd-cgroup",
            "--cgroup", f"{slice_}:cri-containerd:{CRI_ID}", "--memory-limit", str(128 << 20),
            "--label", "io.cri-containerd.kind=container"]
    for k, v in ann.items():
        args += ["--annotation", f"{k}={v}"]
    rc, out = run(*args, CRI_IMAGE, CRI_ID, "/bin/memeater", "--mb", "20")
    if not t.check("ctr -n k8s.io run --annotation (the CRI's pod annotations) "
                   "--runc-systemd-cgroup starts the container", rc == 0, out[-1500:]):
        return
    try:
        def task_pid():
            for line in run(*ns, "tasks", "ls")[1].splitlines():
                f = line.split()
                if f and f[0] == CRI_ID and len(f) >= 3 and f[2] == "RUNNING":
                    return int(f[1])
            return 0
        pid = wait_for(task_pid, 30)
        line = proc_cgroup(pid) if pid else ""
        path = cg_path(line)
        t.check(f"containerd k8s.io: the task's cgroup is the kubelet's layout: /{path}",
                path.startswith("kubepods.slice/kubepods-besteffort.slice/" + slice_ + "/")
                and path.endswith(f"cri-containerd-{CRI_ID}.scope"), f"pid {pid} {line!r}")
        bundle = f"/run/containerd/io.containerd.runtime.v2.task/k8s.io/{CRI_ID}/config.json"
        spec = json.loads(gdvm.read(bundle)) if os.path.exists(bundle) else {}
        got = spec.get("annotations", {})
        t.check("containerd k8s.io: the bundle's config.json carries the annotations",
                all(got.get(k) == v for k, v in ann.items()), f"{bundle}: {got}")
        if spec:
            out_copy(bundle, "containerd-k8s.io/config.json")
        # Matched by the names operators use: guardian explain reads the
        # bundle's annotations now (no daemon's cache), through the same
        # reader and trust rules as the daemon.
        kpolicy = f"{WORK}/k8s-policy.yaml"
        gdvm.write(kpolicy, K8S_POLICY)
        p = subprocess.run([gdvm.GUARDIAN, "explain", "--json", "--policy", kpolicy, path],
                           capture_output=True, text=True, timeout=120)
        rc, out = p.returncode, p.stdout + p.stderr
        try:
            ex = json.loads(p.stdout) if rc == 0 else {}
        except ValueError:
            ex = {}
        c = ex.get("container") or {}
        t.check("containerd k8s.io: guardian explain names the pod's container (namespace prod, "
                "pod postgres-0, container postgres, its image) and matches workload prod-db "
                "by namespace, pod_name and container_name",
                ex.get("identity") == "known" and c.get("runtime") == "containerd"
                and c.get("id") == CRI_ID and c.get("namespace") == "prod"
                and c.get("pod") == "postgres-0" and c.get("container") == "postgres"
                and c.get("image") == CRI_IMAGE and ex.get("workload") == "prod-db"
                and all(q.get("workload") == "prod-db" and q.get("verdict") == "protected"
                        for q in ex.get("processes", [])) and ex.get("processes"),
                f"rc {rc}: {out[-1500:]}")
        lines = ["# containerd k8s.io (ctr run --annotation, no kubelet): written by "
                 "tests/vm/systemd/test_30_runtimes.py",
                 f"postgres image={CRI_IMAGE} id={CRI_ID} pid={pid} cgroup={line}"]
        out_write("containerd-k8s.io/cgroups.txt", "\n".join(lines) + "\n")
        manifest.extend(lines)
        print("\n".join(f"info {ln}" for ln in lines), flush=True)
    finally:
        run(*ns, "tasks", "kill", "-s", "SIGKILL", CRI_ID)
        wait_for(lambda: "RUNNING" not in run(*ns, "tasks", "ls")[1], 15)
        run(*ns, "tasks", "delete", CRI_ID)
        run(*ns, "containers", "delete", CRI_ID)


# ---- Podman -----------------------------------------------------------------

def podman(t, rootfs):
    # test_20 gave /var/lib/containers a tmpfs and the vfs driver; alone,
    # this test does the same.
    if subprocess.run(["mountpoint", "-q", "/var/lib/containers"]).returncode != 0:
        tmpfs("/var/lib/containers")
        gdvm.write("/etc/containers/storage.conf", '[storage]\ndriver = "vfs"\n'
                   'runroot = "/run/containers/storage"\ngraphroot = "/var/lib/containers/storage"\n')
    rc, out = run(PODMAN, "import", rootfs, "mysql:8-local")
    rc2, out2 = run(PODMAN, "tag", "localhost/mysql:8-local", "etl:latest")
    t.check("podman import rootfs.tar mysql:8-local (no registry), tagged etl:latest too",
            rc == rc2 == 0, (out + out2)[-800:])
    for driver in ("systemd", "cgroupfs"):
        try:
            pair(t, Podman(driver))
        except Exception as e:  # noqa: BLE001
            t.check(f"podman/{driver}: the pair ran", False, repr(e))


def main():
    t = gdvm.Checker("runtimes")
    t.check("systemd is PID 1", gdvm.read("/proc/1/comm").strip() == "systemd")
    if not t.check("build/helpers/memeater-static is built (make helpers)", os.path.exists(HOG), HOG):
        return t.finish()
    rootfs = build_rootfs()
    write_slice()
    pkgs = ("docker.io", "containerd", "runc", "podman", "crun", "conmon")
    rc, out = run("dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *pkgs)
    versions.update(line.split(" ", 1) for line in out.splitlines() if " " in line)
    start = time.monotonic()
    for part in (docker, podman):
        t0 = time.monotonic()
        try:
            part(t, rootfs)
        except Exception as e:  # noqa: BLE001
            t.check(f"{part.__name__}: ran", False, repr(e))
        print(f"info {part.__name__}: {time.monotonic() - t0:.0f}s", flush=True)
    vers = " ".join(f"{k}={v}" for k, v in versions.items())
    print(f"info versions: {vers}", flush=True)
    print(f"info runtimes: {time.monotonic() - start:.0f}s", flush=True)
    out_write("versions.txt", "\n".join(f"{k}: {v}" for k, v in versions.items()) + "\n")
    if not SCENARIO:
        print("info scenario not run: GD_IDENT_SCENARIO=0", flush=True)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
