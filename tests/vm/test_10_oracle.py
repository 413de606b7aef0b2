#!/usr/bin/python3
"""The oracle test: guardian's ranking against the kernel's own memcg OOM
choice, on a real kernel (run inside the VM, as root).

For each configuration: start memory eaters of chosen sizes and
oom_score_adj in a cgroup with a limit, run `guardian rank --json`, then push
the cgroup into a real memcg OOM with one more allocator born with
oom_score_adj -1000 (so neither the limit nor the ranked processes change).
The kernel's OOM report gives its victim and, in the task dump, every task's
rss, pgtables and swapents at OOM time. Assert that guardian's first choice is
the kernel's victim and that guardian's whole ranking is the ranking the
kernel's formula gives on the dump's numbers.
"""
import json
import os
import re
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import gdvm  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1 << 20

# (name, limit of the OOM cgroup, whether processes live in an unlimited
#  child of it, [(MiB, oom_score_adj), ...])
CONFIGS = [
    ("sizes-only", "256M", False, [(20, 0), (60, 0), (40, 0)]),
    ("positive-adj", "256M", False, [(60, 0), (20, 300), (40, 0)]),
    ("negative-adj", "256M", False, [(80, -300), (30, 0), (10, 150)]),
    ("adj-min-excluded", "256M", False, [(100, -1000), (30, 0), (50, -100)]),
    ("unlimited-child", "256M", True, [(20, 500), (90, 0), (5, 0)]),
    ("small-limit", "96M", False, [(40, 0), (10, 400), (25, -50)]),
    # The least negative comes first: with a floor of 1 all three would tie
    # and the last one scanned would win instead.
    ("all-negative", "256M", False, [(20, -550), (30, -600), (40, -700)]),
]

DUMP_RE = re.compile(
    r"\[\s*(\d+)\]\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(-?\d+)\s+(.*)$")
VICTIM_RE = re.compile(r"Memory cgroup out of memory: Killed process (\d+) \((.*)\)")
LIMIT_RE = re.compile(r"memory: usage (\d+)kB, limit (\d+)kB")
OOMKILL_RE = re.compile(r"oom-kill:constraint=(\w+),.*oom_memcg=([^,]*),task_memcg=([^,]*),")


def kernel_log():
    out = subprocess.run(["dmesg"], capture_output=True, text=True, check=True).stdout
    return [re.sub(r"^\[\s*\d+\.\d+\]\s?", "", line) for line in out.splitlines()]


def parse_oom_report(lines):
    """The first OOM report since the log was cleared: victim pid, limit in
    kB, oom_memcg, task dump. The first, because it is the kernel's choice
    among the ranked processes; under load a second OOM may follow while the
    victim's memory is still being freed, among the survivors."""
    start = min(i for i, l in enumerate(lines) if "invoked oom-killer" in l)
    report = lines[start:]
    tasks, limit_kb, victim, oom_memcg = [], None, None, None
    in_dump = False
    for line in report:
        if "Tasks state (memory values in pages)" in line:
            in_dump = True
            continue
        m = DUMP_RE.search(line)
        if in_dump and m:
            pid, uid, tgid, total_vm, rss, pgtables_bytes, swapents, adj = map(int, m.groups()[:8])
            tasks.append(dict(pid=pid, rss=rss, pte=pgtables_bytes // PAGE, swap=swapents,
                              adj=adj, comm=m.group(9)))
            continue
        if in_dump and "[  pid  ]" not in line:
            in_dump = False
        m = LIMIT_RE.search(line)
        if m and limit_kb is None:
            limit_kb = int(m.group(2))
        m = OOMKILL_RE.search(line)
        if m:
            oom_memcg = m.group(2)
        m = VICTIM_RE.search(line)
        if m:
            victim = int(m.group(1))
            break
    return victim, limit_kb, oom_memcg, tasks


def kernel_ranking(tasks, totalpages):
    """oom_evaluate_task() over the dump, which lists tasks in scan order."""
    scored = []
    for order, t in enumerate(tasks):
        if t["adj"] == -1000:
            continue
        points = t["rss"] + t["pte"] + t["swap"] + t["adj"] * (totalpages // 1000)
        scored.append((points, order, t["pid"]))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    return [pid for _, _, pid in scored], {pid: p for p, _, pid in scored}


def run_config(t, index, name, limit, nested, procs):
    base = f"/sys/fs/cgroup/oracle-{index}"
    os.mkdir(base)
    gdvm.write(f"{base}/memory.max", limit)
    gdvm.write(f"{base}/memory.swap.max", "0")
    where = base
    if nested:
        gdvm.write(f"{base}/cgroup.subtree_control", "+memory")
        where = f"{base}/child"
        os.mkdir(where)
    children = []
    try:
        for mb, adj in procs:
            children.append(gdvm.start_eater(where, mb=mb, adj=adj))
        rel = os.path.relpath(where, "/sys/fs/cgroup")
        ranked = json.loads(subprocess.run([gdvm.GUARDIAN, "rank", "--json", rel],
                                           capture_output=True, text=True, check=True).stdout)
        ours = [r["pid"] for r in ranked if r["killable"]]
        subprocess.run(["dmesg", "-C"], check=True)
        trigger = gdvm.start_eater(where, adj=-1000, until_oom_kill=True)
        children.append(trigger)
        gdvm.wait_line(trigger, "oom_kill seen", timeout=120)
        time.sleep(0.5)  # the report is printed before the kill completes
        victim, limit_kb, oom_memcg, tasks = parse_oom_report(kernel_log())

        t.check(f"{name}: kernel report parsed", victim is not None and limit_kb and tasks,
                f"victim={victim} limit={limit_kb} tasks={len(tasks)}")
        if victim is None or not limit_kb or not tasks:
            return
        totalpages = ranked[0]["totalpages"]
        t.check(f"{name}: totalpages is the OOM memcg's limit", totalpages == limit_kb * 1024 // PAGE,
                f"guardian {totalpages}, kernel limit {limit_kb} kB")
        t.check(f"{name}: limit found where the kernel ran out",
                "/" + ranked[0]["limit_cgroup"] == oom_memcg,
                f"guardian {ranked[0]['limit_cgroup']!r}, kernel oom_memcg {oom_memcg!r}")
        t.check(f"{name}: guardian's choice is the kernel's victim", ours and ours[0] == victim,
                f"guardian {ours[:1]}, kernel killed {victim}")
        theirs, points = kernel_ranking(tasks, totalpages)
        t.check(f"{name}: kernel's formula on its own dump picks its victim",
                theirs and theirs[0] == victim, f"{theirs[:1]} vs {victim}")
        t.check(f"{name}: whole ranking agrees with the task dump", ours == theirs,
                f"guardian {ours}, kernel {theirs}")
        by_pid = {r["pid"]: r for r in ranked}
        worst = 0
        for task in tasks:
            r = by_pid.get(task["pid"])
            if r and r["killable"]:
                worst = max(worst, abs(r["rss_pages"] - task["rss"]))
                worst = max(worst, abs(r["pte_pages"] - task["pte"]))
        # Reclaim before the OOM may unmap a few file pages (libc, the binary).
        t.check(f"{name}: rss/pte read from /proc match the dump", worst <= 512,
                f"largest difference {worst} pages")
    finally:
        for c in children:
            c.kill()
        gdvm.remove_cgroup(base)
        for c in children:
            c.wait()


def check_host_oom_score(t):
    """For the whole host (no memcg limit) the kernel publishes its badness
    in /proc/PID/oom_score, scaled: (1000 + points * 1000 / totalpages) * 2 / 3
    (fs/proc/base.c proc_oom_score). Every process must agree."""
    eaters = [gdvm.start_eater("/sys/fs/cgroup", mb=mb, adj=adj)
              for mb, adj in [(30, 0), (10, 500), (50, -400)]]
    try:
        ranked = json.loads(subprocess.run([gdvm.GUARDIAN, "rank", "--json", "/"],
                                           capture_output=True, text=True, check=True).stdout)
        checked, wrong = 0, []
        for r in ranked:
            if not r["killable"]:
                continue
            try:
                with open(f"/proc/{r['pid']}/oom_score") as f:
                    kernel = int(f.read())
            except OSError:
                continue  # exited since: normal
            # C division truncates toward zero
            q = abs(r["score"]) * 1000 // r["totalpages"]
            expected = (1000 + (q if r["score"] >= 0 else -q)) * 2 // 3
            checked += 1
            if kernel != expected:
                wrong.append((r["pid"], r["comm"], kernel, expected))
        t.check("host-wide: /proc/PID/oom_score agrees for every process",
                checked >= 3 and not wrong, f"checked {checked}, wrong {wrong}")
        t.check("host-wide: limit is RAM + swap", ranked[0]["limit_cgroup"] is None,
                f"limit_cgroup={ranked[0]['limit_cgroup']!r}")
    finally:
        for e in eaters:
            e.kill()
            e.wait()


def main():
    t = gdvm.Checker("oracle")
    check_host_oom_score(t)
    for index, (name, limit, nested, procs) in enumerate(CONFIGS):
        run_config(t, index, name, limit, nested, procs)
    return t.finish()


if __name__ == "__main__":
    sys.exit(main())
