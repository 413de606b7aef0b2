#!/usr/bin/python3
"""Benchmarks, run inside the test VM (tests/bench/run.sh boots it).

guardian side by side with the kernel's OOM killer alone, earlyoom and oomd
on the same scenarios, all measured in this one run so that only ratios are
compared (the VM runs under TCG: absolute times are slowed by emulation).

  reaction  noisy neighbour: a leaking hog in bench/noisy (memory.max 256M,
            memory.high 192M, swap.max 0) beside a 64 MiB "database" in
            bench/db; time from the hog's start (and from the cgroup's first
            memory.events high/max event) to the hog's death, who killed it,
            did the database survive. BENCH_REPS runs per contender, median.
  idle      CPU (utime+stime, and the schedstat run time) and VmRSS of each
            daemon with 200 and 2,000 idle cgroups under bench/ over
            BENCH_IDLE_S seconds.
  squeeze   the host squeezed: no limits anywhere, a 400 MiB "database"
            in bench/db and a hog adding 50 MiB/s (1 MiB per 20 ms) in
            bench/noisy; from MemAvailable falling under 10% of MemTotal to
            the hog's death, the lowest MemAvailable, who killed it, did the
            database survive. BENCH_REPS runs per contender, median.
  rank      one `guardian rank --json bench/many` over BENCH_NPROCS
            processes, median of BENCH_RANK_REPS, against `ps -eo
            pid,rss,oom_score` and `cat /proc/[0-9]*/oom_score`.

Progress goes to stdout as it happens; the report is printed at the end and
written to $GDVM_OUT/results.txt, the raw numbers to $GDVM_OUT/raw.json.
"""
import json
import os
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vm", "lib"))
import gdvm  # noqa: E402

CG = "/sys/fs/cgroup"
BENCH = f"{CG}/bench"
GUARDIAN = os.environ.get("BENCH_GUARDIAN", os.path.join(gdvm.REPO, "build/guardian"))
OOMD_CONFIG = os.path.join(HERE, "oomd.json")
EARLYOOM_ARGS = ["-m", "10", "-s", "100", "-r", "0"]

REPS = int(os.environ.get("BENCH_REPS", "3"))
HOG_TIMEOUT = float(os.environ.get("BENCH_HOG_TIMEOUT", "30"))
IDLE_S = float(os.environ.get("BENCH_IDLE_S", "30"))
# The first seconds after a daemon starts (guardian samples every cgroup
# then) are reported apart from the steady state.
IDLE_WARM_S = 10.0
# RLIMIT_NOFILE (soft, hard) for every daemon: what an operator would give
# a service watching thousands of cgroups (LimitNOFILE=65536). The VM's PID 1
# would pass on the kernel's default (1024, 4096); systemd's own default is
# (1024, 524288). Both defaults are tried separately in the idle section.
NOFILE = (65536, 65536)
NOFILE_KERNEL = (1024, 4096)
NOFILE_SYSTEMD = (1024, 524288)
SCENARIOS = {
    "noisy": ("noisy neighbour", {"memory.max": "256M", "memory.high": "192M",
                                  "memory.swap.max": "0"}),
    "limit": ("hard limit only", {"memory.max": "256M", "memory.swap.max": "0"}),
}
IDLE_COUNTS = [int(x) for x in os.environ.get("BENCH_IDLE_COUNTS", "200,2000").split(",")]
NPROCS = int(os.environ.get("BENCH_NPROCS", "1000"))
RANK_REPS = int(os.environ.get("BENCH_RANK_REPS", "5"))
SECTIONS = os.environ.get("BENCH_SECTIONS", "reaction,squeeze,idle,rank").split(",")
SCENARIO_NAMES = os.environ.get("BENCH_SCENARIOS", "noisy,limit").split(",")
CONTENDERS = os.environ.get("BENCH_CONTENDERS", "kernel,guardian,earlyoom,oomd").split(",")
CLK_TCK = os.sysconf("SC_CLK_TCK")
OUT = os.environ.get("GDVM_OUT", "/tmp")

report = []   # lines of the final report
raw = {}      # everything measured, for raw.json


T_START = time.monotonic()


def say(msg=""):
    if msg.startswith("# "):
        msg = f"# [{time.monotonic() - T_START:4.0f}s] {msg[2:]}"
    print(msg, flush=True)


def rep(line=""):
    report.append(line)
    say(line)


def have(tool):
    return shutil.which(tool) is not None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, spec=".2f", none="-"):
    return none if x is None else format(x, spec)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def cg_events(path):
    out = {}
    try:
        for line in gdvm.read(f"{path}/memory.events").splitlines():
            k, v = line.split()
            out[k] = int(v)
    except OSError:
        pass
    return out


def make_cgroup(path, files=None):
    os.makedirs(path, exist_ok=True)
    for key, value in (files or {}).items():
        gdvm.write(f"{path}/{key}", str(value))
    return path


def setup_bench_root():
    if os.path.isdir(BENCH):
        gdvm.remove_cgroup(BENCH)
    os.mkdir(BENCH)
    gdvm.write(f"{BENCH}/cgroup.subtree_control", "+memory +pids")


# --------------------------------------------------------------------------
# Contenders: a daemon in the background with its log in /tmp.

class Daemon:
    def __init__(self, name, argv, ready=None, ready_timeout=60, settle=0.0, nofile=NOFILE):
        self.name = name
        self.log_path = f"/tmp/bench-{name}.log"
        self.log = open(self.log_path, "w")

        def limits():
            resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=limits)
        self.pid = self.proc.pid
        if ready:
            self.wait_log(ready, ready_timeout)
        if settle:
            time.sleep(settle)
        if self.proc.poll() is not None:
            raise RuntimeError(f"{name} exited {self.proc.returncode}:\n{self.text()[-2000:]}")

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def wait_log(self, needle, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}:\n"
                                   f"{self.text()[-2000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"no '{needle}' from {self.name} in {timeout}s:\n{self.text()[-2000:]}")

    def cpu(self):
        """(utime+stime seconds from /proc/PID/stat, run ns summed over threads' schedstat)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])   # utime, stime (fields 14, 15)
        run_ns = 0
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/schedstat") as f:
                    run_ns += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        return ticks / CLK_TCK, run_ns / 1e9

    def rss_kb(self):
        for line in gdvm.read(f"/proc/{self.pid}/status").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def start_contender(name, tag, nofile=NOFILE):
    """Start one contender (None for the kernel alone)."""
    if name == "kernel":
        return None
    if name == "guardian":
        audit = f"/tmp/bench-gd-{tag}/audit.jsonl"
        d = Daemon(f"guardian-{tag}", [GUARDIAN, "run", "--audit-log", audit], ready="watching ",
                   nofile=nofile)
        d.audit = audit
        return d
    if name == "earlyoom":
        # It prints its thresholds, then polls /proc/meminfo.
        return Daemon(f"earlyoom-{tag}", ["earlyoom", *EARLYOOM_ARGS], ready="SIGKILL when",
                      settle=0.5, nofile=nofile)
    if name == "oomd":
        run = f"/tmp/bench-oomd-{tag}"
        os.makedirs(run, exist_ok=True)
        d = Daemon(f"oomd-{tag}", ["oomd", "--config", OOMD_CONFIG, "--interval", "1",
                                   "--runtime-dir", run, "--kmsg-override", f"{run}/kmsg"],
                   settle=2.0, nofile=nofile)
        d.kmsg = f"{run}/kmsg"
        return d
    raise ValueError(name)


def available(name):
    return name in ("kernel", "guardian") or have(name)


# --------------------------------------------------------------------------
# 1. Reaction latency: the noisy neighbour.

def who_killed(name, daemon, hog_pid, noisy_rel, oom_kill):
    """Who ended the hog: the kernel (oom_kill counted), the tool, or nobody."""
    if oom_kill > 0:
        return "kernel"
    if daemon is None:
        return "?"
    if name == "guardian":
        try:
            with open(daemon.audit) as f:
                recs = [json.loads(line) for line in f]
        except (OSError, ValueError):
            recs = []
        if any(r.get("event") in ("kill", "kill-cgroup") and
               (r.get("pid") == hog_pid or r.get("cgroup") == noisy_rel) for r in recs):
            return "guardian"
    elif name == "earlyoom":
        if f"process {hog_pid} " in daemon.text():
            return "earlyoom"
    elif name == "oomd":
        text = daemon.text()
        try:
            text += gdvm.read(daemon.kmsg)
        except OSError:
            pass
        if f" {hog_pid}(" in text and "Trying to kill" in text:
            return "oomd"
    return "?"


def end_run(fds, procs, daemon, res):
    """After a run: its fds closed, its processes killed and reaped, the
    contender stopped (its log's tail kept in res), bench/ removed."""
    for fd in fds:
        if fd >= 0:
            os.close(fd)
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()
    if daemon:
        daemon.stop()
        res["daemon_log_tail"] = daemon.text()[-3000:]
    gdvm.remove_cgroup(BENCH)


def noisy_run(scenario, name, i):
    setup_bench_root()
    noisy = make_cgroup(f"{BENCH}/noisy", SCENARIOS[scenario][1])
    db_cg = make_cgroup(f"{BENCH}/db")
    daemon = start_contender(name, f"{scenario}-{i}")
    res = {"scenario": scenario, "contender": name, "run": i}
    procs = []
    efd = pfd = -1
    try:
        database = gdvm.start_eater(db_cg, mb=64)
        procs.append(database)
        efd = os.open(f"{noisy}/memory.events", os.O_RDONLY)
        os.pread(efd, 4096, 0)
        hog = gdvm.start_eater(noisy, grow_ms=2)
        t0 = time.monotonic()
        procs.append(hog)
        pfd = os.pidfd_open(hog.pid)
        poller = select.poll()
        poller.register(pfd, select.POLLIN)
        poller.register(efd, select.POLLPRI | select.POLLERR)
        t_event = t_death = None
        first_event = None
        idle_wakes = 0
        while True:
            left = t0 + HOG_TIMEOUT - time.monotonic()
            if left <= 0:
                break
            ready = poller.poll(left * 1000)
            now = time.monotonic()
            fds = {fd for fd, _ in ready}
            if pfd in fds:
                t_death = now
                break
            if efd in fds and t_event is None:
                ev = {}
                for line in os.pread(efd, 4096, 0).decode().splitlines():
                    k, v = line.split()
                    ev[k] = int(v)
                hit = [k for k in ("high", "max", "oom") if ev.get(k, 0)]
                if hit:
                    t_event, first_event = now, hit[0]
                    # Only the first event is wanted: stop waking on every
                    # counter change (they come by the thousand when throttled).
                    poller.unregister(efd)
                else:
                    idle_wakes += 1
                    if idle_wakes > 100:        # a file that stays readable
                        poller.unregister(efd)
        rc = hog.wait(10) if t_death is not None else None
        time.sleep(1.0)   # a second kill (the database?) would land now
        ev = cg_events(noisy)
        res.update({
            "start_to_death_s": None if t_death is None else t_death - t0,
            "event_to_death_s": None if t_death is None or t_event is None else t_death - t_event,
            "start_to_event_s": None if t_event is None else t_event - t0,
            "first_event": first_event,
            "hog_exit": rc,
            "oom_kill": ev.get("oom_kill", 0),
            "events": ev,
            "db_alive": database.poll() is None,
            "db_exit": database.poll(),
        })
        try:
            res["peak_mb"] = int(gdvm.read(f"{noisy}/memory.peak")) / 2**20
        except (OSError, ValueError):
            res["peak_mb"] = None
        try:
            res["current_mb"] = int(gdvm.read(f"{noisy}/memory.current")) / 2**20
        except (OSError, ValueError):
            res["current_mb"] = None
        res["killer"] = (who_killed(name, daemon, hog.pid, "bench/noisy", res["oom_kill"])
                         if t_death is not None else "none")
    finally:
        end_run((efd, pfd), procs, daemon, res)
    say(f"# {scenario} {name} run {i}: start->death {fmt(res['start_to_death_s'])} s, "
        f"first event ({first_event}) after {fmt(res['start_to_event_s'])} s, event->death "
        f"{fmt(res['event_to_death_s'])} s, killer {res['killer']}, hog exit {res['hog_exit']}, "
        f"oom_kill {res['oom_kill']}, peak {fmt(res['peak_mb'], '.0f')} MiB, "
        f"database {'alive' if res['db_alive'] else 'DEAD (exit %s)' % res['db_exit']}")
    return res


def latency(runs, key):
    """Median over the runs; a run where the hog was never killed counts as
    the give-up time, marked with '>' when it decides the median. A hog
    killed before the cgroup had any memory.events change has no
    event->death time: that run is left out of that column."""
    vals = []
    for r in runs:
        if "error" in r:
            continue
        v = r.get(key)
        if v is not None:
            vals.append((v, False))
        elif r.get("start_to_death_s") is None:
            vals.append((HOG_TIMEOUT, True))
    if not vals:
        return None, False
    vals.sort()
    return vals[(len(vals) - 1) // 2]   # the lower middle for an even count


def show(v, censored, unit=" s"):
    if v is None:
        return "-"
    return (">" if censored else "") + f"{v:.2f}{unit}"


def show_ratio(a, b):
    """a/b where either may be a lower bound (never killed)."""
    (va, ca), (vb, cb) = a, b
    if va is None or vb is None or vb == 0:
        return "-"
    if ca and cb:
        return "?"
    r = va / vb
    return (">" if ca else "<" if cb else "") + f"{r:.2f}x"


def bench_reaction():
    results = {}
    for scenario in SCENARIO_NAMES:
        results[scenario] = {}
        for name in CONTENDERS:
            if not available(name):
                say(f"# reaction: {name} is not installed, skipped")
                continue
            results[scenario][name] = []
            for i in range(REPS):
                try:
                    results[scenario][name].append(noisy_run(scenario, name, i))
                except Exception as e:   # one broken run must not lose the others
                    say(f"# {scenario} {name} run {i}: ERROR {e!r}")
                    results[scenario][name].append({"contender": name, "run": i,
                                                    "error": repr(e)})
    raw["reaction"] = results

    for n, scenario in enumerate(SCENARIO_NAMES):
        title, files = SCENARIOS[scenario]
        rep("")
        rep(f"1{'abcdef'[n]}. Reaction, {title}: bench/noisy "
            + " ".join(f"{k.replace('memory.', '')}={v}" for k, v in files.items())
            + f" with memeater --grow-ms 2 (1 MiB per 2 ms); database memeater --mb 64 in "
            f"bench/db; median of {REPS}; given up after {HOG_TIMEOUT:.0f} s")
        rep(f"   {'contender':<9} {'start->death':>12} {'event->death':>12} {'peak MiB':>8}  "
            f"{'killed by (each run)':<26} {'database':<9} {'vs kernel':>9} {'vs guardian':>11}")
        runs_by = results[scenario]
        base = latency(runs_by.get("kernel", []), "start_to_death_s")
        gd = latency(runs_by.get("guardian", []), "start_to_death_s")
        for name, runs in runs_by.items():
            sd = latency(runs, "start_to_death_s")
            ed = latency(runs, "event_to_death_s")
            pk = median([r.get("peak_mb") for r in runs])
            killers = ",".join(r.get("killer", "error") for r in runs)
            alive = sum(1 for r in runs if r.get("db_alive"))
            rep(f"   {name:<9} {show(*sd):>12} {show(*ed):>12} {fmt(pk, '.0f'):>8}  "
                f"{killers:<26} {f'{alive}/{len(runs)} alive':<9} "
                f"{show_ratio(sd, base) if name != 'kernel' else '1.00x':>9} "
                f"{show_ratio(sd, gd) if name != 'guardian' else '1.00x':>11}")
    rep("   start->death: the hog's 'ready' to its exit; event->death: the cgroup's first "
        "memory.events high/max/oom change to the exit (runs where the hog died before any "
        "event are left out; '-' if all were); '>': not killed before the give-up "
        "time; peak: memory.peak of bench/noisy; 'killed by: none' = still alive at the "
        "give-up time; ratios are of the start->death medians ('?': neither was ever killed)")


# --------------------------------------------------------------------------
# 1x. The host squeeze: no limits, a steady leak, the whole VM's memory.

SQUEEZE_DB_MB = 400
SQUEEZE_GROW_MS = 20      # 1 MiB per 20 ms: 50 MiB/s
SQUEEZE_POLL_S = 0.01     # MemAvailable is read this often


def mem_available_kb():
    total = avail = None
    for line in gdvm.read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            total = int(line.split()[1])
        elif line.startswith("MemAvailable:"):
            avail = int(line.split()[1])
    return total, avail


def squeeze_run(name, i):
    setup_bench_root()
    noisy = make_cgroup(f"{BENCH}/noisy")
    db_cg = make_cgroup(f"{BENCH}/db")
    daemon = start_contender(name, f"squeeze-{i}")
    res = {"contender": name, "run": i}
    procs = []
    pfd = -1
    try:
        database = gdvm.start_eater(db_cg, mb=SQUEEZE_DB_MB)
        procs.append(database)
        oom_before = vmstat_oom_kill()
        hog = gdvm.start_eater(noisy, grow_ms=SQUEEZE_GROW_MS)
        procs.append(hog)
        t0 = time.monotonic()
        pfd = os.pidfd_open(hog.pid)
        t_cross = t_death = None
        lowest = None
        while time.monotonic() - t0 < HOG_TIMEOUT:
            total, avail = mem_available_kb()
            lowest = avail if lowest is None else min(lowest, avail)
            now = time.monotonic()
            if t_cross is None and avail < total // 10:
                t_cross = now
            if select.select([pfd], [], [], SQUEEZE_POLL_S)[0]:
                t_death = time.monotonic()
                break
        time.sleep(1.0)   # a second kill (the database?) would land now
        oom_kill = vmstat_oom_kill() - oom_before
        res.update({
            "start_to_death_s": None if t_death is None else t_death - t0,
            "cross_to_death_s": None if t_death is None or t_cross is None else t_death - t_cross,
            "died_before_crossing": t_death is not None and t_cross is None,
            "lowest_avail_mb": None if lowest is None else lowest / 1024,
            "oom_kill": oom_kill,
            "db_alive": database.poll() is None,
            "db_exit": database.poll(),
        })
        res["killer"] = (who_killed(name, daemon, hog.pid, "bench/noisy", oom_kill)
                         if t_death is not None else "none")
    finally:
        end_run((pfd,), procs, daemon, res)
    say(f"# squeeze {name} run {i}: MemAvailable<10% -> death {fmt(res['cross_to_death_s'])} s, "
        f"start->death {fmt(res['start_to_death_s'])} s, lowest MemAvailable "
        f"{fmt(res['lowest_avail_mb'], '.0f')} MiB, killer {res['killer']}, "
        f"database {'alive' if res['db_alive'] else 'DEAD (exit %s)' % res['db_exit']}")
    return res


def vmstat_oom_kill():
    for line in gdvm.read("/proc/vmstat").splitlines():
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    return 0


def bench_squeeze():
    results = {}
    for name in CONTENDERS:
        if not available(name):
            say(f"# squeeze: {name} is not installed, skipped")
            continue
        results[name] = []
        for i in range(REPS):
            try:
                results[name].append(squeeze_run(name, i))
            except Exception as e:   # one broken run must not lose the others
                say(f"# squeeze {name} run {i}: ERROR {e!r}")
                results[name].append({"contender": name, "run": i, "error": repr(e)})
    raw["squeeze"] = results
    rep("")
    rep(f"1x. Host squeeze: no limits; memeater --grow-ms {SQUEEZE_GROW_MS} (50 MiB/s) in "
        f"bench/noisy beside a {SQUEEZE_DB_MB} MiB database in bench/db; median of {REPS}; "
        f"given up after {HOG_TIMEOUT:.0f} s")
    rep(f"   {'contender':<9} {'<10%->death':>11} {'start->death':>12} {'lowest avail':>12}  "
        f"{'killed by (each run)':<32} {'database':<9}")
    for name, runs in results.items():
        ok = [r for r in runs if "error" not in r]
        cd = median([r["cross_to_death_s"] for r in ok if r.get("cross_to_death_s") is not None])
        sd = median([r["start_to_death_s"] for r in ok if r.get("start_to_death_s") is not None])
        low = median([r["lowest_avail_mb"] for r in ok if r.get("lowest_avail_mb") is not None])
        killers = ",".join(r.get("killer", "error") for r in runs)
        alive = sum(1 for r in runs if r.get("db_alive"))
        rep(f"   {name:<9} {fmt(cd, '.2f') + ' s':>11} {fmt(sd, '.2f') + ' s':>12} "
            f"{fmt(low, '.0f') + ' MiB':>12}  {killers:<32} {f'{alive}/{len(runs)} alive':<9}")
    rep("   <10%->death: MemAvailable first read under 10% of MemTotal (every 10 ms) to the "
        "hog's exit ('-': it died before, or never); lowest avail: the lowest MemAvailable "
        "read in the run; killed by: kernel when /proc/vmstat oom_kill rose")


# --------------------------------------------------------------------------
# 2. Idle cost.

def add_idle_cgroups(upto):
    have_n = len([d for d in os.listdir(BENCH) if d.startswith("idle-")])
    for k in range(have_n, upto):
        os.mkdir(f"{BENCH}/idle-{k:04d}")


def watching(d):
    m = re.search(r"watching (\d+) cgroups", d.text())
    return int(m.group(1)) if m else None


def bench_idle():
    setup_bench_root()
    results = {}
    contenders = [c for c in CONTENDERS if c != "kernel" and available(c)]
    ncg = None
    try:
        for count in IDLE_COUNTS:
            add_idle_cgroups(count)
            ncg = sum(1 for _ in os.walk(CG))   # every cgroup on the VM, the root too
            for name in contenders:
                try:
                    d = start_contender(name, f"idle-{count}")
                    c0, r0 = d.cpu()
                    t0 = time.monotonic()
                    time.sleep(IDLE_WARM_S)
                    c1, r1 = d.cpu()
                    t1 = time.monotonic()
                    time.sleep(max(0.0, IDLE_S - IDLE_WARM_S))
                    c2, r2 = d.cpu()
                    t2 = time.monotonic()
                    rss = d.rss_kb()
                    nfd = len(os.listdir(f"/proc/{d.pid}/fd"))
                    w = watching(d) if name == "guardian" else None
                    alive = d.proc.poll() is None
                    d.stop()
                    complaints = [ln.strip() for ln in d.text().splitlines()
                                  if re.search(r"too many open files|error|fail|refused", ln, re.I)]
                    r = {"startup_cpu_s": c0, "startup_run_s": r0,
                         "warm_run_s": r1 - r0, "warm_wall_s": t1 - t0,
                         "steady_run_s": r2 - r1, "steady_wall_s": t2 - t1,
                         "cpu_s": c2 - c0, "run_s": r2 - r0, "wall_s": t2 - t0,
                         "rss_kb": rss, "fds": nfd, "watching": w, "cgroups": ncg,
                         "alive": alive, "complaints": len(complaints),
                         "first_complaint": complaints[0] if complaints else None}
                    results.setdefault(name, {})[count] = r
                    say(f"# idle {name} with {count} idle cgroups ({ncg} in all): start-up "
                        f"{r0 * 1e3:.0f} ms, first {IDLE_WARM_S:.0f} s {r['warm_run_s'] * 1e3:.0f} "
                        f"ms, then {r['steady_run_s'] * 1e3:.0f} ms over {t2 - t1:.1f} s; "
                        f"stat CPU {c2 - c0:.2f} s; VmRSS {rss} kB; {nfd} fds"
                        + (f"; watching {w}" if w is not None else "")
                        + ("" if alive else "; EXITED")
                        + (f"; {len(complaints)} complaint lines in its log, first: "
                           f"{complaints[0][:200]}" if complaints else ""))
                except Exception as e:
                    say(f"# idle {name} with {count} cgroups: ERROR {e!r}")
        # The default fd limits, with the most cgroups.
        for name, nofile, label in (("guardian", NOFILE_KERNEL, "kernel default"),
                                    ("oomd", NOFILE_SYSTEMD, "systemd default")):
            if name not in contenders:
                continue
            try:
                d = start_contender(name, f"nofile-{nofile[1]}", nofile=nofile)
                time.sleep(5)
                nfd = len(os.listdir(f"/proc/{d.pid}/fd"))
                w = watching(d) if name == "guardian" else None
                d.stop()
                note = [ln.strip() for ln in d.text().splitlines()
                        if re.search(r"too many open files|error|fail|refused", ln, re.I)]
                results.setdefault("nofile", {})[name] = {
                    "limit": nofile, "label": label, "fds": nfd, "watching": w,
                    "cgroups": ncg, "log": note[:3]}
                say(f"# idle: {name} with RLIMIT_NOFILE {nofile} ({label}) beside {ncg} "
                    f"cgroups: {nfd} fds open after 5 s"
                    + (f", watching {w}" if w is not None else "")
                    + (f"; logs: {note[0][:200]}" if note else "; logs nothing about it"))
            except Exception as e:
                say(f"# idle: {name} with RLIMIT_NOFILE {nofile}: ERROR {e!r}")
    finally:
        gdvm.remove_cgroup(BENCH)
    raw["idle"] = results

    rep("")
    rep(f"2. Idle cost with N idle cgroups under bench/ (CPU run time from schedstat; "
        f"'first {IDLE_WARM_S:.0f} s' right after the daemon is ready, 'steady' the "
        f"{IDLE_S - IDLE_WARM_S:.0f} s after; stat = utime+stime over the whole "
        f"{IDLE_S:.0f} s, 10 ms ticks; start-up = CPU until ready: guardian's 'watching' line, "
        f"earlyoom's banner + 0.5 s, oomd's start + 2 s; every daemon gets RLIMIT_NOFILE "
        f"{NOFILE[0]}:{NOFILE[1]})")
    rep(f"   {'daemon':<9} {'cgroups':>7} {'watched':>7} {'start-up':>9} {'first 10s':>9} "
        f"{'steady':>12} {'stat CPU':>8} {'VmRSS':>8} {'fds':>5}")
    for name, per in results.items():
        if name == "nofile":
            continue
        for count, r in sorted(per.items()):
            rate = r["steady_run_s"] * 1e3 * 60 / r["steady_wall_s"] if r["steady_wall_s"] else 0
            rep(f"   {name:<9} {count:>7} {fmt(r['watching'], 'd'):>7} "
                f"{r['startup_run_s'] * 1e3:>6.0f} ms {r['warm_run_s'] * 1e3:>6.0f} ms "
                f"{rate:>6.0f} ms/min {r['cpu_s']:>6.2f} s {r['rss_kb']:>5} kB {r['fds']:>5}")
    g = results.get("guardian", {})
    for other in ("earlyoom", "oomd"):
        o = results.get(other, {})
        for count in IDLE_COUNTS:
            if count in g and count in o:
                gs, os_ = g[count], o[count]
                rep(f"   guardian/{other} at {count} cgroups: steady CPU "
                    f"{fmt(ratio(gs['steady_run_s'] / gs['steady_wall_s'], os_['steady_run_s'] / os_['steady_wall_s']))}x, "
                    f"first {IDLE_WARM_S:.0f} s {fmt(ratio(gs['warm_run_s'], os_['warm_run_s']))}x, "
                    f"start-up {fmt(ratio(gs['startup_run_s'], os_['startup_run_s']))}x, "
                    f"whole {IDLE_S:.0f} s {fmt(ratio(gs['run_s'], os_['run_s']))}x, "
                    f"VmRSS {fmt(ratio(gs['rss_kb'], os_['rss_kb']))}x")
    for name, per in results.items():
        for count, r in sorted(per.items()) if name != "nofile" else []:
            if r.get("complaints"):
                rep(f"   {name} at {count} cgroups logged {r['complaints']} complaint lines, "
                    f"first: {r['first_complaint'][:160]}")
    for name, r in results.get("nofile", {}).items():
        rep(f"   {name} started with RLIMIT_NOFILE {r['limit'][0]}:{r['limit'][1]} ({r['label']}) "
            f"beside {r['cgroups']} cgroups: {r['fds']} fds open"
            + (f", watching {r['watching']} cgroups" if r["watching"] is not None else "")
            + (f"; it logs: {r['log'][0][:160]}" if r["log"] else "; it logs nothing about it"))


# --------------------------------------------------------------------------
# 3. Scoring cost.

def timed(argv, reps):
    times = []
    for _ in range(reps):
        t = time.monotonic()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.monotonic() - t)
    return times


def bench_rank():
    setup_bench_root()
    many = make_cgroup(f"{BENCH}/many")
    procs = []
    res = {}
    try:
        t = time.monotonic()
        batch = 100
        for start in range(0, NPROCS, batch):
            n = min(batch, NPROCS - start)
            for _ in range(n):
                procs.append(subprocess.Popen(
                    [gdvm.MEMEATER, "--cgroup", many, "--mb", "0"],
                    stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL))
            deadline = time.monotonic() + 120
            while len(gdvm.read(f"{many}/cgroup.procs").split()) < start + n:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"only {len(gdvm.read(f'{many}/cgroup.procs').split())} "
                                       f"of {start + n} processes joined {many}")
                time.sleep(0.1)
        in_cg = len(gdvm.read(f"{many}/cgroup.procs").split())
        total = len([p for p in os.listdir("/proc") if p.isdigit()])
        say(f"# rank: {in_cg} processes in bench/many ({total} on the VM), started in "
            f"{time.monotonic() - t:.1f} s")
        time.sleep(1.0)   # let the last ones reach pause()

        out = subprocess.run([GUARDIAN, "rank", "--json", "bench/many"], capture_output=True,
                             text=True)
        ranked = len(json.loads(out.stdout)) if out.returncode == 0 else None
        cmds = {
            "guardian rank --json bench/many": [GUARDIAN, "rank", "--json", "bench/many"],
            "true (fork+exec floor)": ["true"],
            "ps -eo pid,rss,oom_score": ["ps", "-eo", "pid,rss,oom_score"],
            "cat /proc/[0-9]*/oom_score": ["sh", "-c", "cat /proc/[0-9]*/oom_score"],
        }
        for label, argv in cmds.items():
            timed(argv, 1)   # warm the caches
            res[label] = timed(argv, RANK_REPS)
            say(f"# rank: {label}: " + " ".join(f"{x * 1e3:.0f}" for x in res[label]) + " ms")
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        gdvm.remove_cgroup(BENCH)
    raw["rank"] = {"times_s": res, "processes_in_cgroup": in_cg, "processes_total": total,
                   "ranked": ranked}

    rep("")
    rep(f"3. Scoring cost: one pass over {in_cg} processes in one cgroup ({total} on the VM; "
        f"guardian ranked {ranked}), wall time, median of {RANK_REPS}")
    g = median(res["guardian rank --json bench/many"])
    for label, times in res.items():
        m = median(times)
        rep(f"   {label:<34} {m * 1e3:>8.1f} ms   guardian/this {fmt(ratio(g, m))}x")


def main():
    kernel = os.uname().release
    rep(f"guardian benchmarks, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, in the test VM: Linux "
        f"{kernel}, {os.cpu_count()} vCPUs, "
        f"{int(gdvm.read('/proc/meminfo').split()[1]) // 1024} MiB, qemu TCG (software "
        f"emulation: absolute times are slow; compare ratios within this run)")
    versions = []
    for tool, argv in (("earlyoom", ["earlyoom", "-v"]), ("oomd", ["oomd", "--version"])):
        if have(tool):
            v = subprocess.run(argv, capture_output=True, text=True)
            versions.append(f"{tool}: {(v.stdout + v.stderr).strip().splitlines()[0]}")
        else:
            versions.append(f"{tool}: not installed")
    rep(f"guardian: {GUARDIAN} (release build); {'; '.join(versions)}")
    rep(f"earlyoom {' '.join(EARLYOOM_ARGS)}; oomd --interval 1 --config "
        f"tests/bench/oomd.json; guardian run --audit-log FILE (embedded default policy)")
    failed = 0
    for section, fn in (("reaction", bench_reaction), ("squeeze", bench_squeeze),
                        ("idle", bench_idle), ("rank", bench_rank)):
        if section not in SECTIONS:
            continue
        t = time.monotonic()
        say(f"# ---- {section}")
        try:
            fn()
        except Exception as e:
            failed += 1
            rep(f"{section}: ERROR {e!r}")
        say(f"# ---- {section} took {time.monotonic() - t:.0f} s")
    with open(os.path.join(OUT, "results.txt"), "w") as f:
        f.write("\n".join(report) + "\n")
    with open(os.path.join(OUT, "raw.json"), "w") as f:
        json.dump(raw, f, indent=1, default=str)
    say("")
    say("=" * 30 + " results " + "=" * 30)
    say("\n".join(report))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
