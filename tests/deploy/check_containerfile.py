#!/usr/bin/python3
"""Static (and partly dry-run) check of deploy/container/Containerfile, since
no container engine runs here: the stages are consistent, every COPY source
exists in the build context and is not ignored, the build stage's own
commands succeed on exactly the files it copies (run here, with /out in a
temporary directory), what later stages copy from it is then there, the
entrypoint and health check name files the final image has, and the
runtime stage installs the package of every shared library the binary
links.

    tests/deploy/check_containerfile.py [CONTAINERFILE] [--no-build]

Prints "ok ..." / "FAIL ..." per check and exits 1 on any failure."""
import fnmatch
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BASES = {"debian:12", "debian:12-slim"}
# In debian:12-slim already: what the binary may link without asking apt.
SLIM_HAS = {"libc6", "libgcc-s1", "libstdc++6", "libselinux1", "libpcre2-8-0",
            "libzstd1", "liblzma5", "libsystemd0", "libgcrypt20", "libcap2", "libseccomp2"}


class Result:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   containerfile: {what}")
        else:
            self.failed += 1
            print(f"FAIL containerfile: {what}{': ' + detail if detail else ''}")
        return ok


def parse(path):
    """Instructions as (KEYWORD, text), continuation lines joined."""
    out, cur = [], ""
    with open(path) as f:
        for line in f:
            s = line.rstrip("\n")
            if not cur and (not s.strip() or s.lstrip().startswith("#")):
                continue
            if cur and s.lstrip().startswith("#"):
                continue  # a comment inside a continued instruction
            if s.endswith("\\"):
                cur += s[:-1] + " "
                continue
            cur += s
            kw, _, rest = cur.strip().partition(" ")
            out.append((kw.upper(), rest.strip()))
            cur = ""
    return out


def stages(instrs):
    """[{name, base, instrs}] in order."""
    result = []
    for kw, rest in instrs:
        if kw == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
            result.append({"base": m.group(1), "name": m.group(2) or str(len(result)),
                           "instrs": []})
        elif result:
            result[-1]["instrs"].append((kw, rest))
    return result


def copy_args(rest):
    """(--from value or None, [sources], dest) of a COPY, shell-form only."""
    words = shlex.split(rest)
    opts = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    frm = next((o.split("=", 1)[1] for o in opts if o.startswith("--from=")), None)
    return frm, paths[:-1], paths[-1]


def ignore_patterns():
    pats = []
    path = os.path.join(REPO, ".dockerignore")
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                pats.append(line.rstrip("/"))
    return pats


def ignored(rel, pats):
    parts = rel.rstrip("/").split("/")
    return any(fnmatch.fnmatch("/".join(parts[:i + 1]), p)
               for p in pats for i in range(len(parts)))


def exec_form(rest):
    try:
        v = json.loads(rest)
    except ValueError:
        return None
    return v if isinstance(v, list) and all(isinstance(x, str) for x in v) else None


def main(argv):
    path = next((a for a in argv if not a.startswith("--")),
                os.path.join(REPO, "deploy/container/Containerfile"))
    build = "--no-build" not in argv
    r = Result()
    st = stages(parse(path))
    names = [s["name"] for s in st]
    r.check("two or more stages (build, runtime)", len(st) >= 2, f"{names}")
    r.check("stage names are unique", len(set(names)) == len(names), f"{names}")
    for i, s in enumerate(st):
        r.check(f"stage {s['name']}: FROM a Debian 12 image or an earlier stage",
                s["base"] in BASES or s["base"] in names[:i], s["base"])
    r.check("the runtime stage is debian:12-slim", st[-1]["base"] == "debian:12-slim",
            st[-1]["base"])

    pats = ignore_patterns()
    final_files = set()
    for i, s in enumerate(st):
        for kw, rest in s["instrs"]:
            if kw not in ("COPY", "ADD"):
                continue
            frm, srcs, dest = copy_args(rest)
            if frm is None:
                for src in srcs:
                    hits = glob.glob(os.path.join(REPO, src))
                    r.check(f"COPY {src}: in the build context", hits, "no such file in the repo")
                    r.check(f"COPY {src}: not excluded by .dockerignore", not ignored(src, pats))
            else:
                r.check(f"COPY --from={frm}: an earlier stage", frm in names[:i], f"stages {names}")
            if i == len(st) - 1:
                for src in srcs:
                    final_files.add(dest.rstrip("/") + "/" + os.path.basename(src.rstrip("/"))
                                    if dest.endswith("/") and not src.endswith("/") else dest)

    final = st[-1]["instrs"]
    entry = [exec_form(rest) for kw, rest in final if kw == "ENTRYPOINT"]
    r.check("ENTRYPOINT in exec form", entry and entry[-1], f"{entry}")
    if entry and entry[-1]:
        r.check(f"ENTRYPOINT {entry[-1][0]} is copied into the image",
                entry[-1][0] in final_files, f"copied: {sorted(final_files)}")
        r.check("ENTRYPOINT runs the daemon (guardian run)", entry[-1][1:2] == ["run"], f"{entry}")
    health = [rest for kw, rest in final if kw == "HEALTHCHECK"]
    cmd = exec_form(health[-1].split(" CMD ", 1)[1]) if health and " CMD " in health[-1] else None
    r.check("HEALTHCHECK with an exec-form CMD", cmd, f"{health}")
    if cmd:
        r.check(f"HEALTHCHECK runs {cmd[0]}, which the image has", cmd[0] in final_files)

    runtime_pkgs = set()
    for kw, rest in final:
        if kw == "RUN" and "apt-get install" in rest:
            after = rest.split("apt-get install", 1)[1].split("&&")[0]
            runtime_pkgs |= {w for w in after.split() if not w.startswith("-")}
    binary = os.path.join(REPO, "build/guardian")
    if os.path.exists(binary):
        libs = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
        needed = set()
        for m in re.finditer(r"=> (/\S+)", libs):
            own = subprocess.run(["dpkg", "-S", os.path.realpath(m.group(1))],
                                 capture_output=True, text=True)
            if own.returncode != 0:
                own = subprocess.run(["dpkg", "-S", m.group(1)], capture_output=True, text=True)
            if own.returncode == 0:
                needed.add(own.stdout.split(":")[0])
        missing = needed - runtime_pkgs - SLIM_HAS
        r.check(f"the runtime stage installs every library build/guardian links "
                f"({', '.join(sorted(needed))})", needed and not missing,
                f"missing: {sorted(missing)}")
    else:
        r.check("build/guardian exists (make build/guardian) to check its libraries", False)

    if build:
        dry_run_build(st, r)
    print(f"containerfile: {r.passed} passed, {r.failed} failed")
    return 1 if r.failed else 0


def dry_run_build(st, r):
    """The first stage's RUN commands (but apt-get) on exactly what it
    copies, with /out in a temporary directory; then what later stages
    copy --from it must be there."""
    first = st[0]
    tmp = tempfile.mkdtemp(prefix="gd-containerfile-")
    try:
        src, out = os.path.join(tmp, "src"), os.path.join(tmp, "out")
        os.makedirs(src)
        workdir = src
        ok = True
        for kw, rest in first["instrs"]:
            if kw == "WORKDIR":
                workdir = src
            elif kw == "COPY" and "--from=" not in rest:
                _, srcs, dest = copy_args(rest)
                for s in srcs:
                    target = os.path.join(workdir, dest)
                    if os.path.isdir(os.path.join(REPO, s)):
                        shutil.copytree(os.path.join(REPO, s), target, dirs_exist_ok=True)
                    else:
                        os.makedirs(target if dest.endswith("/") else os.path.dirname(target),
                                    exist_ok=True)
                        shutil.copy(os.path.join(REPO, s), target)
            elif kw == "RUN" and "apt-get" not in rest:
                cmd = re.sub(r"(?<=[\s=])/out(?=[/\s]|$)", out, rest)
                p = subprocess.run(["bash", "-ec", cmd], cwd=workdir, capture_output=True, text=True)
                ok = r.check(f"build stage RUN succeeds on the copied sources: {rest[:60]}...",
                             p.returncode == 0, (p.stdout + p.stderr)[-1500:]) and ok
        if not ok:
            return
        for s in st[1:]:
            for kw, rest in s["instrs"]:
                if kw == "COPY" and f"--from={first['name']}" in rest:
                    _, srcs, _ = copy_args(rest)
                    for s_ in srcs:
                        there = re.sub(r"^/out(?=/|$)", out, s_)
                        r.check(f"COPY --from={first['name']} {s_}: the build stage made it",
                                os.path.exists(there), "not produced")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
