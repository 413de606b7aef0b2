#!/usr/bin/python3
"""The demo's status lines: one a second, from one process (forking a dozen
tools a second is slow under TCG).

    watch.py --cgroup DIR --hog PID --db PID --dblog FILE --t0 EPOCH
             --seconds N [--until-hog-dies] [--high-events0 N]

Each line: time since the hog started (t0, from $EPOCHREALTIME), the
cgroup's memory.current and memory.events high (since --high-events0) and
oom_kill, the hog's RSS, and the database's queries finished in that second
with the slowest one (from db.py's "query SEQ MS" lines). With
--until-hog-dies it stops after the first line that shows the hog dead.
Prints "elapsed S" last: seconds since t0."""
import argparse
import os
import time


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def events(cgroup):
    return dict((k, int(v)) for k, v in (line.split() for line in read(f"{cgroup}/memory.events")
                                          .splitlines()))


def alive(pid):
    stat = read(f"/proc/{pid}/stat")
    return bool(stat) and stat.rsplit(")", 1)[1].split()[0] != "Z"


def rss_mb(pid):
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cgroup", required=True)
    ap.add_argument("--hog", type=int, required=True)
    ap.add_argument("--db", type=int, required=True)
    ap.add_argument("--dblog", required=True)
    ap.add_argument("--t0", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--until-hog-dies", action="store_true")
    ap.add_argument("--high-events0", type=int, default=0)
    args = ap.parse_args()

    log = open(args.dblog)
    log.read()  # only the queries from now on
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        time.sleep(1)
        lats = [int(line.split()[2]) for line in log.read().splitlines()
                if line.startswith("query ")]
        ev = events(args.cgroup)
        cur = int(read(f"{args.cgroup}/memory.current") or 0) >> 20
        hog = f"hog {rss_mb(args.hog)}M" if alive(args.hog) else "hog DEAD"
        if not alive(args.db):
            db = "db: DEAD"
        elif lats:
            db = f"db: {len(lats)} queries, slowest {max(lats)} ms"
        else:
            db = "db: NO query finished in this second (stalled)"
        print(f"  t={time.time() - args.t0:4.1f}s  /{os.path.basename(args.cgroup)} {cur:4d}M  "
              f"high events +{ev.get('high', 0) - args.high_events0:<6d} "
              f"oom_kill {ev.get('oom_kill', 0)} | {hog:<9} | {db}", flush=True)
        if args.until_hog_dies and not alive(args.hog):
            break
    print(f"elapsed {time.time() - args.t0:.0f}", flush=True)


if __name__ == "__main__":
    main()
