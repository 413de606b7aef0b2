#!/usr/bin/python3
"""Static check of deploy/container/Containerfile, the file the VM test
(tests/vm/systemd/test_20_container.py) builds with podman and runs: one
stage FROM scratch; every COPY source is in the build context and let
through by .dockerignore (its `!` exceptions included, the last matching
line winning, as the engines read it); what it copies from build/ is the
static binary `make static` builds (no program interpreter, so it runs in
an image with no libc); the entrypoint and the health check name files the
image has; and README.md shows the build command the VM test runs.

    tests/deploy/check_containerfile.py [CONTAINERFILE]

Prints "ok ..." / "FAIL ..." per check and exits 1 on any failure."""
import fnmatch
import glob
import importlib.util
import json
import os
import re
import shlex
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Result  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


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


def ignore_rules():
    """[(pattern, excluded)] of .dockerignore, in order."""
    rules = []
    path = os.path.join(REPO, ".dockerignore")
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if line and not line.startswith("#"):
                neg = line.startswith("!")
                rules.append((line.lstrip("!").rstrip("/"), not neg))
    return rules


def ignored(rel, rules):
    """The last rule matching rel or one of its parents decides."""
    parts = rel.rstrip("/").split("/")
    prefixes = ["/".join(parts[:i + 1]) for i in range(len(parts))]
    verdict = False
    for pat, excluded in rules:
        if any(fnmatch.fnmatchcase(p, pat) for p in prefixes):
            verdict = excluded
    return verdict


def exec_form(rest):
    try:
        v = json.loads(rest)
    except ValueError:
        return None
    return v if isinstance(v, list) and all(isinstance(x, str) for x in v) else None


def elf_interp(path):
    """(is an ELF, has a PT_INTERP program header)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return False, False
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    types = [struct.unpack_from("<I", table, i * phentsize)[0] for i in range(phnum)]
    return True, 3 in types


def vm_build_command():
    """BUILD of tests/vm/systemd/test_20_container.py: what the VM runs."""
    path = os.path.join(REPO, "tests/vm/systemd/test_20_container.py")
    spec = importlib.util.spec_from_file_location("test_20_container", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.BUILD


def main(argv):
    path = argv[0] if argv else os.path.join(REPO, "deploy/container/Containerfile")
    r = Result("containerfile")
    instrs = parse(path)
    froms = [rest for kw, rest in instrs if kw == "FROM"]
    r.check("one stage, FROM scratch (nothing to pull from a registry)", froms == ["scratch"], f"{froms}")

    rules = ignore_rules()
    image_files = set()
    for kw, rest in instrs:
        if kw == "ADD":
            r.check("no ADD (COPY only)", False, rest)
        if kw != "COPY":
            continue
        words = shlex.split(rest)
        r.check(f"COPY {rest}: no --from (one stage)", not any(w.startswith("--from") for w in words))
        paths = [w for w in words if not w.startswith("--")]
        srcs, dest = paths[:-1], paths[-1]
        for src in srcs:
            hits = glob.glob(os.path.join(REPO, src))
            r.check(f"COPY {src}: in the build context", hits,
                    "no such file in the repo" + (" (make static)" if src.startswith("build/") else ""))
            r.check(f"COPY {src}: not excluded by .dockerignore", not ignored(src, rules))
            if src.startswith("build/") and hits and os.path.isfile(hits[0]):
                is_elf, interp = elf_interp(hits[0])
                r.check(f"COPY {src}: a static binary (ELF, no program interpreter)",
                        is_elf and not interp, f"ELF {is_elf}, PT_INTERP {interp}")
                p = subprocess.run([hits[0], "version"], capture_output=True, text=True)
                r.check(f"{src} runs (version)", p.returncode == 0 and p.stdout.startswith("guardian "),
                        p.stdout + p.stderr)
            image_files.add(dest if not dest.endswith("/") else dest + os.path.basename(src))
    r.check("something is copied from build/ (the static binary)",
            any(s.startswith("build/") for kw, rest in instrs if kw == "COPY" for s in shlex.split(rest)))
    r.check(".dockerignore keeps the rest of build/ out of the context",
            ignored("build/vm", rules) and ignored("build/rel/cli/main.o", rules))

    entry = [exec_form(rest) for kw, rest in instrs if kw == "ENTRYPOINT"]
    r.check("ENTRYPOINT in exec form", entry and entry[-1], f"{entry}")
    if entry and entry[-1]:
        r.check(f"ENTRYPOINT {entry[-1][0]} is copied into the image", entry[-1][0] in image_files,
                f"copied: {sorted(image_files)}")
        r.check("ENTRYPOINT runs the daemon (guardian run) on the host's trees, the runtimes' "
                "state under /host",
                entry[-1][1:] == ["run", "--host-root", "/host", "--cgroup-root", "/sys/fs/cgroup",
                                  "--proc-root", "/proc"], f"{entry}")
    health = [rest for kw, rest in instrs if kw == "HEALTHCHECK"]
    cmd = exec_form(health[-1].split(" CMD ", 1)[1]) if health and " CMD " in health[-1] else None
    r.check("HEALTHCHECK with an exec-form CMD", cmd, f"{health}")
    if cmd:
        r.check(f"HEALTHCHECK runs {cmd[0]}, which the image has", cmd[0] in image_files)
        r.check("HEALTHCHECK asks the daemon (guardian status)", cmd[1:] == ["status"], f"{cmd}")

    build = shlex.join(vm_build_command())
    readme = open(os.path.join(REPO, "README.md")).read()
    r.check(f"README.md shows the build the VM test runs ({build})", build in readme)
    r.check("the Containerfile's header shows it too", build in open(path).read())
    r.check("the build names this Containerfile",
            re.search(r"-f deploy/container/Containerfile\b", build) is not None, build)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
