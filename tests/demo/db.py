#!/usr/bin/python3
"""A stand-in for a long-lived database, for the demo.

    db.py --cgroup DIR [--mb N] [--every-ms N] [--query-mb N]

Joins DIR, holds N MiB (its "buffer pool"), then runs a "query" every
--every-ms: allocate --query-mb MiB of fresh memory, touch it, free it (as a
sort or a join would), and print one line per query: "query SEQ MS". A query
needs a memory charge, so when its cgroup is throttled (over memory.high) the
query stalls: its latency is what a client of the database would see.
Prints "ready PID" once the buffer pool is in place."""
import argparse
import mmap
import os
import sys
import time

PAGE = 4096


def touch(mb):
    """mb MiB of fresh anonymous memory, every page written. An explicit
    mapping: malloc would recycle the previous query's pages (glibc raises
    its mmap threshold after a free), and nothing new would be charged."""
    buf = mmap.mmap(-1, mb << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    for off in range(0, mb << 20, PAGE):
        buf[off] = 1
    return buf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cgroup", required=True)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--every-ms", type=int, default=250)
    ap.add_argument("--query-mb", type=int, default=2)
    args = ap.parse_args()
    with open(os.path.join(args.cgroup, "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("0")
    pool = touch(args.mb)  # noqa: F841 (held for the life of the process)
    print(f"ready {os.getpid()}", flush=True)
    seq = 0
    while True:
        start = time.monotonic()
        touch(args.query_mb).close()
        took = (time.monotonic() - start) * 1000
        seq += 1
        print(f"query {seq} {took:.0f}", flush=True)
        time.sleep(max(0.0, args.every_ms / 1000 - took / 1000))


if __name__ == "__main__":
    sys.exit(main())
