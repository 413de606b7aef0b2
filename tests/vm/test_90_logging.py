#!/usr/bin/python3
"""guardian's logs on a real kernel: --log-format=json and logfmt give one
parseable line per message with the kill's key=value pairs lifted into
fields; --log-level filters; and a victim's secrets (in its environment and
on its command line) reach neither the log nor the audit trail."""
import calendar
import fcntl
import json
import os
import re
import signal
import struct
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402
from gdvm import Guardian, events, make_cgroup, wait_exit  # noqa: E402

SECRET_ENV = "hunter2-env"
SECRET_ARG = "hunter2-arg"
SECRET_TOK = "hunter2-tok"
SECRETS = (SECRET_ENV, SECRET_ARG, SECRET_TOK, "hunter2")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
LEVELS = {"error", "warning", "notice", "info", "debug"}

# logfmt as guardian writes it: key=value pairs separated by one space;
# a value is bare (printable ASCII but '"', '=' and '\') or a quoted
# string with JSON's escapes.
KEY = r"[A-Za-z_][A-Za-z0-9_.-]*"
BARE = r"[\x21\x23-\x3c\x3e-\x5b\x5d-\x7e]+"
QUOTED = r'"(?:[^"\\\x00-\x1f\x7f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
PAIR = rf"({KEY})=({QUOTED}|{BARE})"
LOGFMT_LINE = re.compile(rf"^{PAIR}(?: {PAIR})*$")


def parse_logfmt(line):
    """The pairs of a line, or None when it is not logfmt."""
    if not LOGFMT_LINE.match(line):
        return None
    out = []
    for m in re.finditer(PAIR, line):
        value = m.group(2)
        out.append((m.group(1), json.loads(value) if value.startswith('"') else value))
    return out


def parse_json(line):
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def start_hog(cgroup):
    """A leaking memeater with secrets in its environment and arguments
    (memeater ignores what follows "--")."""
    env = dict(os.environ, GD_SECRET_TOKEN=SECRET_ENV)
    args = [gdvm.MEMEATER, "--cgroup", cgroup, "--grow-ms", "2", "--",
            f"--password={SECRET_ARG}", "--token", SECRET_TOK]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
    gdvm.wait_line(proc, "ready", 60)
    return proc


def wait_in_epoll(pid, timeout=60):
    """Up without an info line to say so: the main thread sleeps in
    epoll_wait (x86-64 syscall 232, epoll_pwait 281)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            nr = gdvm.read(f"/proc/{pid}/syscall").split()[0]
            wchan = gdvm.read(f"/proc/{pid}/wchan")
        except (OSError, IndexError):
            nr, wchan = "", ""
        if nr in ("232", "281") or "epoll" in wchan:
            return True
        time.sleep(0.1)
    return False


def kill_with_secrets(t, name, g):
    """Kill a hog with secrets; returns (hog pid, guardian's log, audit text)."""
    cg = make_cgroup(f"{name}-batch", {"memory.max": "256M", "memory.high": "192M",
                                       "memory.swap.max": "0"})
    hog = None
    try:
        hog = start_hog(cg)
        rc = wait_exit(hog, 60)
        t.check(f"{name}: the hog was SIGKILLed by guardian",
                rc == -signal.SIGKILL and events(cg)["oom_kill"] == 0,
                f"exit {rc}, events {events(cg)}")
        g.wait_records(lambda r: r["pid"] == hog.pid and r["event"] == "kill")
    finally:
        if hog:
            hog.kill()
            hog.wait()
        gdvm.remove_cgroup(cg)
        t.check(f"{name}: guardian exits 0 on SIGTERM", g.stop() == 0, g.text()[-2000:])
    try:
        with open(g.audit) as f:
            audit = f.read()
    except FileNotFoundError:
        audit = ""
    return hog.pid, g.text(), audit


def check_secrets(t, name, log, audit, pid):
    for s in SECRETS:
        t.check(f"{name}: '{s}' is not in guardian's log", s not in log,
                log[log.find(s) - 300:log.find(s) + 100])
        t.check(f"{name}: '{s}' is not in the audit log", s not in audit,
                audit[audit.find(s) - 300:audit.find(s) + 100])
    recs = [json.loads(line) for line in audit.splitlines() if line.strip()]
    kills = [r for r in recs if r["event"] == "kill" and r["pid"] == pid]
    t.check(f"{name}: the audit record shows the masked arguments",
            kills and "--password=*** --token ***" in kills[0]["cmdline"]
            and "memeater" in kills[0]["cmdline"], f"{kills}")


def check_kill_fields(t, name, fields, pid):
    kills = [f for f in fields if f.get("msg") == "killed" and f.get("pid") == str(pid)]
    if kills:
        print(f"info {name}: the kill line's fields: {json.dumps(kills[0])}", flush=True)
    t.check(f"{name}: the kill line has its pairs lifted into fields",
            len(kills) == 1 and kills[0].get("cgroup") == f"{name}-batch"
            and kills[0].get("comm") == "memeater" and kills[0].get("level") == "warning"
            and kills[0].get("result") == "killed" and kills[0].get("reason"),
            f"{kills or fields[-5:]}")


def check_common(t, name, fields, bad):
    now = time.time()
    t.check(f"{name}: every line parses", fields and not bad, f"{bad[:3]}")
    t.check(f"{name}: every line has time, level and msg",
            all(TIME_RE.match(f.get("time", "")) and f.get("level") in LEVELS
                and isinstance(f.get("msg"), str) for f in fields), f"{fields[:3]}")
    stamps = [calendar.timegm(time.strptime(f["time"][:19], "%Y-%m-%dT%H:%M:%S"))
              for f in fields if TIME_RE.match(f.get("time", ""))]
    t.check(f"{name}: the times are now, in UTC",
            stamps and all(abs(s - now) < 600 for s in stamps), f"{stamps[:3]} vs {now}")
    t.check(f"{name}: a message that is not key=value is kept whole in msg",
            any(f.get("msg", "").startswith("watching ") for f in fields), f"{fields[:3]}")


def json_format(t):
    name = "log-json"
    g = Guardian(name, "--log-format=json", "--log-level=debug")
    pid, log, audit = kill_with_secrets(t, name, g)
    lines = log.splitlines()
    fields = [parse_json(line) for line in lines]
    bad = [line for line, f in zip(lines, fields) if f is None]
    fields = [f for f in fields if f is not None]
    check_common(t, name, fields, bad)
    # A number that is not finite (NaN, an infinity) is null (guardian(8)).
    t.check(f"{name}: JSON values are strings",
            all(isinstance(v, str) or v is None for f in fields for v in f.values()),
            f"{fields[:3]}")
    t.check(f"{name}: debug lines are there (sample lines lifted too)",
            any(f.get("level") == "debug" and f.get("msg") == "sample" and "current" in f
                for f in fields), f"{[f for f in fields if f.get('level') == 'debug'][:2]}")
    check_kill_fields(t, name, fields, pid)
    check_secrets(t, name, log, audit, pid)


def logfmt_format(t):
    name = "log-logfmt"
    g = Guardian(name, "--log-format=logfmt")
    pid, log, audit = kill_with_secrets(t, name, g)
    lines = log.splitlines()
    pairs = [parse_logfmt(line) for line in lines]
    bad = [line for line, p in zip(lines, pairs) if p is None]
    pairs = [p for p in pairs if p is not None]
    t.check(f"{name}: every line starts with time, level, msg",
            pairs and all([k for k, _ in p[:3]] == ["time", "level", "msg"] for p in pairs),
            f"{pairs[:2]}")
    fields = [dict(p) for p in pairs]
    check_common(t, name, fields, bad)
    t.check(f"{name}: no debug lines at the default level",
            not any(f.get("level") == "debug" for f in fields), "")
    check_kill_fields(t, name, fields, pid)
    check_secrets(t, name, log, audit, pid)


def warning_level(t):
    name = "log-warn"
    g = Guardian(name, "--log-format=logfmt", "--log-level=warning", ready=None)
    t.check(f"{name}: guardian is up", wait_in_epoll(g.proc.pid), g.text()[-2000:])
    pid, log, _ = kill_with_secrets(t, name, g)
    fields = [dict(p) for p in map(parse_logfmt, log.splitlines()) if p]
    t.check(f"{name}: only warnings and errors",
            fields and all(f.get("level") in ("warning", "error") for f in fields),
            f"{[f for f in fields if f.get('level') not in ('warning', 'error')][:3]}")
    t.check(f"{name}: no info line (start-up, decision, exit)",
            "watching" not in log and "msg=decision" not in log and "exiting" not in log,
            log[-2000:])
    check_kill_fields(t, name, fields, pid)


def text_default(t):
    """The default stays the text format it always was."""
    g = Guardian("log-text")
    rc = g.stop()
    lines = g.text().splitlines()
    t.check("log-text: every line is 'guardian: ...'",
            rc == 0 and lines and all(line.startswith("guardian: ") for line in lines),
            "\n".join(lines[:5]))


def never_reads_environ(t):
    """Nothing in the daemon's sources names /proc/PID/environ."""
    hits = []
    for top in ("guardian", "cgroup", "policy"):
        for root, _, files in os.walk(os.path.join(gdvm.REPO, top)):
            for fn in files:
                if fn.endswith((".c", ".h")):
                    path = os.path.join(root, fn)
                    with open(path, errors="replace") as f:
                        if re.search(r'"[^"\n]*environ"', f.read()):
                            hits.append(path)
    t.check("sources: no string names an environ file", not hits, f"{hits}")


def stalled_reader(t):
    """stderr is a pipe nobody reads (a stalled journal): once it is full,
    guardian drops lines instead of waiting, and keeps answering."""
    r, w = os.pipe()
    proc = subprocess.Popen([gdvm.GUARDIAN, "run", "--audit-log", "/tmp/gd-stall/a.jsonl"],
                            stdout=w, stderr=w)
    os.close(w)
    try:
        t.check("stall: guardian is up", wait_in_epoll(proc.pid), "")
        # Each SIGHUP logs two lines (~100 bytes): a 64 KiB pipe fills in
        # ~700 (paced: signals sent faster than they are read coalesce).
        deadline = time.monotonic() + 120
        full, extra = False, 0
        while time.monotonic() < deadline and extra < 100:
            os.kill(proc.pid, signal.SIGHUP)
            time.sleep(0.005)
            if not full:
                full = struct.unpack("i", fcntl.ioctl(r, termios.FIONREAD, b"\0" * 4))[0] \
                    > 65536 - 256
            else:
                extra += 1
        t.check("stall: the pipe filled up", full, "")
        time.sleep(2)
        st = subprocess.run([gdvm.GUARDIAN, "status", "--metrics"], capture_output=True,
                            text=True, timeout=30)
        dropped = [line for line in st.stdout.splitlines()
                   if line.startswith("guardian_log_lines_dropped_total ")]
        t.check("stall: guardian still answers guardian status", st.returncode == 0,
                f"rc {st.returncode}: {st.stderr}")
        t.check("stall: the lines it could not write are counted",
                dropped and float(dropped[0].split()[-1]) > 0, f"{dropped}")
        t.check("stall: its main thread waits in epoll, not on the pipe",
                wait_in_epoll(proc.pid, 10), gdvm.read(f"/proc/{proc.pid}/wchan"))
        # Drain: the next line says how many were lost.
        os.set_blocking(r, False)
        while True:
            try:
                if not os.read(r, 65536):
                    break
            except BlockingIOError:
                break
        os.kill(proc.pid, signal.SIGHUP)
        time.sleep(1)
        try:
            text = os.read(r, 65536).decode(errors="replace")
        except BlockingIOError:
            text = ""
        t.check("stall: once drained, a warning says how many lines were lost",
                "lines-dropped=" in text, text[-1000:])
    finally:
        proc.send_signal(signal.SIGTERM)
        t.check("stall: guardian exits 0 on SIGTERM", wait_exit(proc, 30) == 0, "")
        os.close(r)


def main():
    return gdvm.run_scenarios("logging", (never_reads_environ, text_default, json_format,
                                          logfmt_format, warning_level, stalled_reader))


if __name__ == "__main__":
    sys.exit(main())
