#!/usr/bin/env python3
"""The include order of guardian's rooms (README.md, "Layout").

Includes point down only:
  util <- cgroup, proc <- policy <- watch, decide <- act <- record <- daemon <- cli
and the hook runner (a process of its own) includes only policy and util.
Only the rooms that report (record, daemon, cli, the hook runner) may
include util/log.h: the rooms below return errors and typed outcomes.
Neither the rooms nor the modules in them (x.c with x.h) may form a cycle.

Usage: includes.py [ROOT]     check the tree at ROOT (default: the repo)
       includes.py --selftest  show that each rule fails on a tree that breaks it
Prints one line per check and "lint: N passed, M failed"; exits 1 on a failure.
"""
import os
import re
import sys
import tempfile

# Level of each room: a file may include headers of its own level or below.
RANK = {'util': 0, 'cgroup': 1, 'proc': 1, 'policy': 2, 'watch': 3, 'decide': 3,
        'act': 4, 'record': 5, 'daemon': 6, 'cli': 7}
# Rooms that may include only the rooms listed, whatever their level, and
# the only rooms that may include them: the hook runner is a process of its
# own, which the daemon forks at start-up.
ONLY = {'hookrunner': {'hookrunner', 'policy', 'util'}}
INCLUDERS = {'hookrunner': {'hookrunner', 'daemon'}}
# Headers only some rooms may include.
RESTRICTED = {'util/log.h': {'record', 'daemon', 'cli', 'hookrunner'}}
ROOMS = set(RANK) | set(ONLY)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

# Known edges that break the order, each with the step that removes it. The
# check fails on an edge not listed and on a listed edge that is gone, so
# the list only shrinks. Empty: the tree keeps the order.
KNOWN = frozenset()


def read_tree(root):
    """{path: [included project headers]} for every .c/.h in the rooms."""
    files = {}
    for room in sorted(ROOMS):
        d = os.path.join(root, room)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith(('.c', '.h')):
                path = room + '/' + name
                with open(os.path.join(root, path), encoding='utf-8') as f:
                    files[path] = INCLUDE.findall(f.read())
    return files


def module(path):
    return path.rsplit('.', 1)[0]


def cycles(edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    nodes = set(edges) | {b for bs in edges.values() for b in bs}

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def problems(files, known=frozenset()):
    """Every rule broken by the tree, as (rule, text)."""
    out = []
    room_edges, mod_edges, seen_known = {}, {}, set()
    for path, incs in files.items():
        room = path.split('/', 1)[0]
        for inc in incs:
            target_room = inc.split('/', 1)[0]
            if inc not in files:
                out.append(('resolve', f'{path}: "{inc}" is not a header of a room'))
                continue
            edge = f'{path} -> {inc}'
            bad = None
            if room in ONLY:
                if target_room not in ONLY[room]:
                    bad = f'{room}/ may include only {", ".join(sorted(ONLY[room]))}'
            elif target_room in INCLUDERS:
                if room not in INCLUDERS[target_room]:
                    bad = f'{target_room}/ is a process of its own: only {", ".join(sorted(INCLUDERS[target_room]))} start it'
            elif RANK[target_room] > RANK[room]:
                bad = f'{target_room}/ is above {room}/'
            if (bad is None and inc in RESTRICTED and room not in RESTRICTED[inc]
                    and module(inc) != module(path)):
                bad = f'{room}/ does not report: {inc} is for {", ".join(sorted(RESTRICTED[inc]))}'
            if bad:
                if edge in known:
                    seen_known.add(edge)
                else:
                    out.append(('order', f'{edge}: {bad}'))
            if edge in known:
                continue  # listed, with the step that removes it
            if target_room != room:
                room_edges.setdefault(room, set()).add(target_room)
            if module(inc) != module(path):
                mod_edges.setdefault(module(path), set()).add(module(inc))
    for edge in sorted(set(known) - seen_known):
        out.append(('stale', f'{edge} is listed as known but no longer breaks the order: drop it'))
    for comp in cycles(room_edges):
        out.append(('cycle', 'rooms include each other: ' + ' <-> '.join(comp)))
    for comp in cycles(mod_edges):
        out.append(('cycle', 'modules include each other: ' + ' <-> '.join(comp)))
    return out


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what):
        print(('ok' if ok else 'FAIL') + ': ' + what)
        if ok:
            self.passed += 1
        else:
            self.failed += 1


def check_tree(root, checks):
    files = read_tree(root)
    checks.check(len(files) > 0, f'the rooms hold sources ({len(files)} files)')
    found = problems(files, KNOWN)
    for rule in ('resolve', 'order', 'stale', 'cycle'):
        mine = [t for r, t in found if r == rule]
        for t in mine:
            print('  ' + t)
        checks.check(not mine, f'{rule}: {len(mine)} problem(s)')


def write(root, files):
    for path, text in files.items():
        os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(root, path), 'w', encoding='utf-8') as f:
            f.write(text)


def selftest(checks):
    good = {'util/a.h': '', 'cgroup/c.h': '#include "util/a.h"\n',
            'act/k.c': '#include "cgroup/c.h"\n#include "util/a.h"\n',
            'daemon/d.c': '#include "act/k.h"\n#include "util/log.h"\n',
            'act/k.h': '', 'util/log.h': ''}
    cases = [
        ('a good tree passes', {}, None),
        ('an upward include fails', {'cgroup/c.h': '#include "act/k.h"\n'}, 'order'),
        ('a lower room that logs fails', {'act/k.c': '#include "util/log.h"\n'}, 'order'),
        ('the hook runner including the daemon fails',
         {'hookrunner/h.c': '#include "daemon/x.h"\n', 'daemon/x.h': ''}, 'order'),
        ('a cycle of modules in one room fails',
         {'act/k.h': '#include "act/m.h"\n', 'act/m.h': '#include "act/k.h"\n'}, 'cycle'),
        ('a cycle of rooms on one level fails',
         {'watch/w.h': '#include "decide/x.h"\n', 'decide/x.h': '#include "watch/w.h"\n'}, 'cycle'),
        ('a library room starting the hook runner fails',
         {'act/k.c': '#include "hookrunner/r.h"\n', 'hookrunner/r.h': ''}, 'order'),
        ('the daemon starting the hook runner passes',
         {'daemon/d.c': '#include "hookrunner/r.h"\n', 'hookrunner/r.h': ''}, None),
        ('an include of a missing header fails', {'act/k.c': '#include "act/nope.h"\n'}, 'resolve'),
    ]
    for what, change, rule in cases:
        with tempfile.TemporaryDirectory() as root:
            tree = dict(good)
            tree.update(change)
            write(root, tree)
            found = {r for r, _ in problems(read_tree(root))}
            checks.check(found == set() if rule is None else rule in found, 'selftest: ' + what)
    with tempfile.TemporaryDirectory() as root:
        write(root, good)
        found = {r for r, _ in problems(read_tree(root), {'act/k.c -> cgroup/c.h'})}
        checks.check('stale' in found, 'selftest: a known edge that is gone fails')


def main(argv):
    checks = Checks()
    # The rules are checked on literal trees first, so a rule that no
    # longer fires fails here rather than passing the real tree silently.
    selftest(checks)
    if argv[1:] != ['--selftest']:
        root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
        check_tree(root, checks)
    print(f'lint: {checks.passed} passed, {checks.failed} failed')
    return 1 if checks.failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
