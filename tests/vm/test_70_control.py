#!/usr/bin/python3
"""The control socket and the metrics on a real kernel: a root-only socket,
`guardian status` (text and JSON) that shows the cgroups and a real kill,
Prometheus text that parses, requests that are malformed, oversized or
silent that get an error (or are dropped) while others are served, a
TCP listener only on loopback and only when asked for, and a metrics port
another user holds at start: guardian guards without it and serves it once
the port is free."""
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import GUARDIAN, Guardian, make_cgroup  # noqa: E402

SOCK = "/run/guardian/guardian.sock"
POLICY = """version: 1
defaults:
  cooldown: 5s
workloads:
  - name: batch
    match:
      cgroup: "ctl-hog"
"""


def request(raw, path=SOCK, timeout=10):
    """Send raw bytes, read the answer to EOF: (status, body as text)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the daemon answered and closed before it read it all
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", head)
    return (int(m.group(1)) if m else None), body.decode("utf-8", "replace")


def get(path, sock=SOCK):
    return request(f"GET {path} HTTP/1.0\r\n\r\n".encode(), sock)


def status_cmd(*args, user=None):
    def drop():
        if user is not None:
            os.setgid(user)
            os.setuid(user)
    return subprocess.run([GUARDIAN, "status", *args], capture_output=True, text=True,
                          timeout=30, preexec_fn=drop)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? (\S+)$')


def parse_prometheus(text):
    """{family: {"type":..., "help":..., "samples": [(name, labels, value)]}};
    raises ValueError on anything the text format does not allow."""
    families, current = {}, None
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, name, rest = line[2:6], *line[7:].split(" ", 1)
            fam = families.setdefault(name, {"samples": []})
            if kind == "TYPE":
                if rest not in ("counter", "gauge", "histogram", "summary", "untyped"):
                    raise ValueError(f"bad type: {line}")
                if "type" in fam:
                    raise ValueError(f"TYPE twice: {line}")
                fam["type"] = rest
            else:
                fam["help"] = rest
            current = name
            continue
        if line.startswith("#") or not line:
            raise ValueError(f"stray line: {line!r}")
        m = SAMPLE.match(line)
        if not m:
            raise ValueError(f"not a sample: {line!r}")
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        float(value)  # +Inf, NaN and numbers all parse
        base = name
        if current and families.get(current, {}).get("type") == "histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                if name == current + suffix:
                    base = current
        if base != current or "type" not in families[base]:
            raise ValueError(f"sample outside its family (no TYPE before it): {line!r}")
        families[base]["samples"].append((name, labels, float(value)))
    for name, fam in families.items():
        if "type" not in fam or "help" not in fam:
            raise ValueError(f"family {name} lacks TYPE or HELP")
    return families


def sample(families, name, labels):
    """The value of one sample (a histogram's _count too), or None."""
    for fam in families.values():
        for n, l, v in fam["samples"]:
            if n == name and l == labels:
                return v
    return None


def socket_inodes(pid):
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", link)
        if m:
            out.add(m.group(1))
    return out


def unix_listeners(pid):
    """Paths of the Unix sockets pid holds that have one."""
    inodes = socket_inodes(pid)
    return [f[7] for f in (line.split() for line in gdvm.read("/proc/net/unix").splitlines()[1:])
            if len(f) >= 8 and f[6] in inodes]


def tcp_listeners(pid):
    """Local addresses of TCP sockets in LISTEN owned by pid."""
    inodes, found = socket_inodes(pid), []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = gdvm.read(table).splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            f = line.split()
            if f[3] == "0A" and f[9] in inodes:
                found.append(f[1])
    return found


def socket_and_status(t):
    policy = "/tmp/gd-control-policy.yaml"
    gdvm.write(policy, POLICY)
    g = Guardian("control", "--policy", policy)
    steady = make_cgroup("ctl-steady", {"memory.max": "256M"})
    hogcg = make_cgroup("ctl-hog", {"memory.max": "256M", "memory.high": "192M",
                                    "memory.swap.max": "0"})
    procs = []
    try:
        st = os.lstat(SOCK)
        t.check("socket: is a socket, mode 0600, owned by root",
                stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
                and st.st_uid == 0, f"mode {oct(st.st_mode)} uid {st.st_uid}")
        dst = os.lstat(os.path.dirname(SOCK))
        t.check("socket: its directory is 0700 root", stat.S_IMODE(dst.st_mode) == 0o700
                and dst.st_uid == 0, oct(dst.st_mode))
        t.check("socket: no TCP listener by default, the Unix one is there",
                tcp_listeners(g.proc.pid) == [] and SOCK in unix_listeners(g.proc.pid),
                f"{tcp_listeners(g.proc.pid)} {unix_listeners(g.proc.pid)}")

        procs.append(gdvm.start_eater(steady, mb=48))
        time.sleep(0.5)
        r = status_cmd()
        t.check("status: exits 0 and lists the cgroup", r.returncode == 0 and
                "ctl-steady" in r.stdout and f"pid {g.proc.pid}" in r.stdout,
                r.stdout + r.stderr)
        print("\n".join(f"info status: {line}" for line in r.stdout.splitlines()[:12]),
              flush=True)
        r = status_cmd("--json")
        doc = json.loads(r.stdout)
        cgs = {c["cgroup"]: c for c in doc["cgroups"]}
        cur = int(gdvm.read(f"{steady}/memory.current"))
        c = cgs.get("ctl-steady", {})
        t.check("status --json: the cgroup with its memory.current and memory.max",
                c.get("memory_max") == 256 << 20 and isinstance(c.get("memory_current"), int)
                and 40 << 20 <= c["memory_current"] <= 2 * cur
                and c.get("pressure_some_avg10") is not None, f"{c} (now {cur})")
        t.check("status --json: the daemon", doc["daemon"]["pid"] == g.proc.pid
                and doc["daemon"]["workloads"] == 1 and doc["daemon"]["dry_run"] is False
                and cgs.get("ctl-hog", {}).get("workload") == "batch", f"{doc['daemon']}")

        hog = gdvm.start_eater(hogcg, grow_ms=2)
        procs.append(hog)
        rc = hog.wait(60)
        recs = g.wait_records(lambda r: r["pid"] == hog.pid and r["event"] == "kill")
        kill = [r for r in recs if r["pid"] == hog.pid and r["event"] == "kill"]
        t.check("kill: guardian killed the hog", rc == -signal.SIGKILL and kill,
                f"exit {rc}, records {recs}")
        doc = json.loads(status_cmd("--json").stdout)
        recent = [k for k in doc["recent_kills"] if k["pid"] == hog.pid]
        trigger = kill[0]["trigger"] if kill else "?"
        t.check("kill: in recent kills, with workload, reason and outcome",
                recent and recent[0]["cgroup"] == "ctl-hog" and recent[0]["workload"] == "batch"
                and recent[0]["reason"] == trigger and recent[0]["result"] == "killed"
                and recent[0]["comm"] == "memeater" and recent[0]["event"] == "kill",
                f"{doc['recent_kills']}")
        r = status_cmd()
        t.check("kill: the text status shows it", "memeater" in r.stdout and
                str(hog.pid) in r.stdout, r.stdout)

        code, body = get("/metrics")
        try:
            fams = parse_prometheus(body)
            t.check("metrics: parse as Prometheus text, every family typed", code == 200, code)
        except ValueError as e:
            fams = {}
            t.check("metrics: parse as Prometheus text, every family typed", False, str(e))
        v = sample(fams, "guardian_kills_total", f'{{workload="batch",reason="{trigger}"}}')
        t.check("metrics: guardian_kills_total for the workload and reason is 1", v == 1,
                f"{fams.get('guardian_kills_total')}")
        t.check("metrics: counters move", (sample(fams, "guardian_decisions_total",
                                                  '{action="kill-process"}') or 0) >= 1
                and (sample(fams, "guardian_trigger_events_total",
                            '{source="memory.events"}') or 0) >= 1
                and (sample(fams, "guardian_loop_duration_seconds_count", "") or 0) >= 1
                and (sample(fams, "guardian_watched_cgroups", "") or 0) >= 3,
                f"{[(k, v['samples'][:4]) for k, v in fams.items() if 'total' in k]}")
        v = sample(fams, "guardian_cgroup_memory_current_bytes",
                   '{cgroup="ctl-steady",workload=""}')
        t.check("metrics: per-cgroup memory", v is not None and v >= 40 << 20 and
                sample(fams, "guardian_cgroup_memory_max_bytes",
                       '{cgroup="ctl-steady",workload=""}') == 256 << 20, f"{v}")
        t.check("metrics: per-cgroup pressure ratio in 0..1",
                0 <= (sample(fams, "guardian_cgroup_memory_pressure_some_ratio",
                             '{cgroup="ctl-hog",workload="batch"}') or -1) <= 1, "")

        r = status_cmd(user=65534)
        t.check("status: refused to a non-root user, with a clear error",
                r.returncode == 1 and "root" in r.stderr and "ermission denied" in r.stderr,
                f"{r.returncode} {r.stderr}")
    finally:
        for p in procs:
            p.kill()
            p.wait()
        gdvm.remove_cgroup(steady)
        gdvm.remove_cgroup(hogcg)
        t.check("control: guardian exits 0 on SIGTERM", g.stop() == 0, g.text()[-2000:])
    r = status_cmd()
    t.check("status: 'not running' (exit 3) once the daemon is gone",
            r.returncode == 3 and "not running" in r.stderr, f"{r.returncode} {r.stderr}")


def bad_clients(t):
    g = Guardian("control-bad")
    idle = []
    try:
        code, body = request(b"garbage\r\n\r\n")
        t.check("malformed request: 400", code == 400, f"{code} {body}")
        t.check("a client right after is served", get("/status")[0] == 200, "")
        code, _ = request(b"DELETE /status HTTP/1.1\r\n\r\n")
        t.check("not GET: 405", code == 405, code)
        code, _ = request(b"GET /nothing HTTP/1.0\r\n\r\n")
        t.check("unknown path: 404", code == 404, code)
        code, _ = request(b"GET /status HTTP/1.0\r\nX-Junk: " + b"a" * 16384 + b"\r\n\r\n")
        t.check("oversized request: 431", code == 431, code)
        t.check("a client right after is served", get("/status.json")[0] == 200, "")

        # A client that connects and says nothing blocks nobody...
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(SOCK)
        idle.append(s)
        t0 = time.monotonic()
        code, _ = get("/metrics")
        took = time.monotonic() - t0
        t.check("a silent client does not block others", code == 200 and took < 1.5,
                f"{code} in {took:.2f}s")
        # ...and is dropped after its idle deadline.
        s.settimeout(10)
        t0 = time.monotonic()
        try:
            dropped = s.recv(100) == b""
        except (socket.timeout, ConnectionResetError) as e:
            dropped = isinstance(e, ConnectionResetError)
        took = time.monotonic() - t0
        t.check("a silent client is dropped after the idle deadline", dropped and took < 6,
                f"dropped={dropped} after {took:.1f}s")

        # More clients than slots: the extra ones are closed at once, and
        # the daemon serves again once they are gone.
        for _ in range(24):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(SOCK)
            idle.append(c)
        time.sleep(0.5)
        closed = 0
        for c in idle[1:]:
            c.setblocking(False)
            try:
                if c.recv(1) == b"":
                    closed += 1
            except BlockingIOError:
                pass
            except ConnectionResetError:
                closed += 1
        t.check("clients beyond the limit are closed at once", 8 <= closed < 24, f"{closed} of 24")
        for c in idle:
            c.close()
        idle = []
        time.sleep(0.3)
        t.check("served again once the flood is gone", get("/status")[0] == 200, "")
        t.check("the daemon is still running", g.proc.poll() is None, g.text()[-1000:])
    finally:
        for c in idle:
            c.close()
        t.check("bad clients: guardian exits 0 on SIGTERM", g.stop() == 0, g.text()[-2000:])


def metrics_address(t):
    g = Guardian("control-tcp", "--metrics-address", "127.0.0.1:9187",
                 "--control-socket", "none")
    try:
        listeners = tcp_listeners(g.proc.pid)
        t.check("tcp: one listener, on 127.0.0.1:9187", listeners == ["0100007F:23E3"],
                f"{listeners}")
        with urllib.request.urlopen("http://127.0.0.1:9187/metrics", timeout=10) as resp:
            body = resp.read().decode()
            ctype = resp.headers.get("Content-Type", "")
        fams = parse_prometheus(body)
        t.check("tcp: /metrics served, Prometheus content type",
                "guardian_build_info" in fams and "version=0.0.4" in ctype, ctype)
        try:
            urllib.request.urlopen("http://127.0.0.1:9187/status", timeout=10)
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        t.check("tcp: /status is not served on the network", code == 404, code)
        t.check("tcp: --control-socket none makes no Unix socket",
                unix_listeners(g.proc.pid) == [], f"{unix_listeners(g.proc.pid)}")
    finally:
        t.check("tcp: guardian exits 0 on SIGTERM", g.stop() == 0, g.text()[-2000:])
    for addr in ("0.0.0.0:9187", "10.0.2.15:9187", "[::]:9187", "localhost:9187"):
        r = subprocess.run([GUARDIAN, "run", "--audit-log", "/tmp/gd-refuse/audit.jsonl",
                            "--metrics-address", addr], capture_output=True, text=True,
                           timeout=60)
        t.check(f"tcp: {addr} refused at start", r.returncode != 0 and
                ("not a loopback address" in r.stderr or "bad --metrics-address" in r.stderr),
                f"{r.returncode} {r.stderr[-500:]}")
    r = subprocess.run([GUARDIAN, "run", "--audit-log", "/tmp/gd-refuse/audit.jsonl",
                        "--control-socket", "/tmp/guardian.sock"], capture_output=True,
                       text=True, timeout=60)
    t.check("socket: refused in a directory others can write (/tmp)",
            r.returncode != 0 and "refusing" in r.stderr, f"{r.returncode} {r.stderr[-500:]}")


def tcp_flood(t):
    """Anyone on the host can connect to the TCP listener: holding every
    connection it takes must not lock root out of the Unix socket."""
    g = Guardian("control-flood", "--metrics-address", "127.0.0.1:9188")
    held = []
    try:
        for _ in range(24):
            c = socket.create_connection(("127.0.0.1", 9188), timeout=5)
            held.append(c)
        time.sleep(0.3)
        t.check("flood: root's Unix socket still answers while the TCP listener is full",
                get("/status")[0] == 200, "")
        t.check("flood: the daemon is still running", g.proc.poll() is None, g.text()[-1000:])
    finally:
        for c in held:
            c.close()
        t.check("flood: guardian exits 0 on SIGTERM", g.stop() == 0, g.text()[-2000:])


HOLDER = """import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
print("ready", flush=True)
sys.stdin.read()
"""


def port_taken(t):
    """Another user holds the metrics port when guardian starts (as during
    a restart): guardian comes up without the listener, guards, says why
    in its status, and serves /metrics there soon after the port is free."""
    port = 9189
    addr = f"127.0.0.1:{port}"

    def nobody():
        os.setgid(65534)
        os.setuid(65534)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(port)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, preexec_fn=nobody)
    gdvm.wait_line(holder, "ready", 30)
    hogcg = make_cgroup("ctl-taken", {"memory.max": "256M", "memory.high": "192M",
                                      "memory.swap.max": "0"})
    g = None
    try:
        g = Guardian("control-taken", "--metrics-address", addr)
        log = g.text()
        t.check("taken: guardian starts, warns naming the address and errno",
                g.proc.poll() is None and f"cannot listen on {addr} for metrics" in log
                and "EADDRINUSE" in log, log[-1500:])
        t.check("taken: no TCP listener of guardian's, the Unix socket is up",
                tcp_listeners(g.proc.pid) == [] and SOCK in unix_listeners(g.proc.pid),
                f"{tcp_listeners(g.proc.pid)} {unix_listeners(g.proc.pid)}")
        r = status_cmd()
        t.check("taken: guardian status says the metrics listener is not up, and why",
                r.returncode == 0 and f"metrics: {addr}, NOT LISTENING" in r.stdout
                and "EADDRINUSE" in r.stdout, r.stdout[:600] + r.stderr)
        doc = json.loads(status_cmd("--json").stdout)
        ml = doc["daemon"].get("metrics_listener") or {}
        t.check("taken: status --json: listening false, error EADDRINUSE",
                ml.get("address") == addr and ml.get("listening") is False
                and ml.get("error") == "EADDRINUSE" and ml.get("failed_attempts", 0) >= 1,
                f"{ml}")
        t0 = time.monotonic()
        code, body = get("/metrics")
        fams = parse_prometheus(body)
        t.check("taken: /metrics on the control socket: guardian_metrics_listener_up 0",
                code == 200 and sample(fams, "guardian_metrics_listener_up",
                                       f'{{address="{addr}"}}') == 0, body[-600:])

        # Cached: a second request within the period gets the same bytes
        # (the loop histogram alone would differ after a new render).
        _, again = get("/metrics")
        took = time.monotonic() - t0
        if took < 0.9:
            t.check("cache: /metrics twice within a second: the same bytes", again == body,
                    f"{len(body)} vs {len(again)} bytes in {took:.2f}s")
        else:
            print(f"info cache: two requests took {took:.2f}s: same-bytes check not made",
                  flush=True)

        hog = gdvm.start_eater(hogcg, grow_ms=2)
        rc = hog.wait(60)
        t.check("taken: guardian still guards: the hog is killed", rc == -signal.SIGKILL,
                f"exit {rc}")
        t.check("taken: guardian survived its retries under the sandbox",
                g.proc.poll() is None and "Seccomp:\t2" in gdvm.read(f"/proc/{g.proc.pid}/status"),
                g.text()[-1500:])
        recs = g.wait_records(lambda r: r["pid"] == hog.pid and r["event"] == "kill")
        doc = json.loads(status_cmd("--json").stdout)
        t.check("cache: a new kill shows in the status at once",
                any(k["pid"] == hog.pid for k in doc["recent_kills"]), f"{doc['recent_kills']} {recs}")

        holder.kill()
        holder.wait()
        t0, served, fams = time.monotonic(), False, {}
        while time.monotonic() - t0 < 10 and not served:
            try:
                with urllib.request.urlopen(f"http://{addr}/metrics", timeout=5) as resp:
                    fams = parse_prometheus(resp.read().decode())
                    served = True
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        took = time.monotonic() - t0
        print(f"info taken: /metrics served on {addr} {took:.1f} s after the port was freed",
              flush=True)
        t.check("taken: /metrics served on the port within a few seconds of its release",
                served and took < 6 and sample(fams, "guardian_metrics_listener_up",
                                               f'{{address="{addr}"}}') == 1, f"{took:.1f}s")
        t.check("taken: logged once when it is up",
                g.text().count(f"metrics listener up on {addr}") == 1, g.text()[-1500:])
        r = status_cmd()
        t.check("taken: status says listening now", f"metrics: {addr}, listening" in r.stdout,
                r.stdout[:600])
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        gdvm.remove_cgroup(hogcg)
        if g:
            t.check("taken: guardian exits 0 on SIGTERM", g.stop() == 0, g.text()[-2000:])


sys.exit(gdvm.run_scenarios("control", [socket_and_status, bad_clients, metrics_address,
                                        tcp_flood, port_taken]))
