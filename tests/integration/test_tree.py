"""The shape of the source tree: each folder of src/ is a layer, and a
file uses only its own layer and lower ones, both in what it includes and
in the symbols its object takes from others; no two objects need each
other; no source file is over 800 lines."""
import collections
import os
import re
import subprocess

import harness
from harness import check

# lowest first; folders of one rank are domains side by side, and do not
# use each other
RANK = {"base": 0, "proto": 1, "core": 2, "http": 3, "tcp": 3, "cmd": 4}
MAX_LINES = 800


def root():
    return os.path.dirname(harness.NETTOOL)


def allowed(frm, to):
    return frm == to or RANK[to] < RANK[frm]


def sources(top):
    for folder in RANK:
        for base in (os.path.join(top, "src", folder), os.path.join(top, "include", "nettool", folder)):
            if os.path.isdir(base):
                for name in sorted(os.listdir(base)):
                    if name.endswith((".c", ".h")):
                        yield folder, os.path.join(base, name)


def test_every_source_is_in_a_layer(t):
    top = root()
    for d in ("src", os.path.join("include", "nettool")):
        for name in os.listdir(os.path.join(top, d)):
            path = os.path.join(top, d, name)
            check(os.path.isdir(path) and name in RANK, f"{d}/{name} is in no layer")


def test_includes_go_down_the_layers(t):
    bad = []
    for folder, path in sources(root()):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                m = re.match(r'#include "nettool/([a-z]+)/', line)
                if m and (m.group(1) not in RANK or not allowed(folder, m.group(1))):
                    bad.append(f"{path}:{n}: {line.strip()}")
    check(not bad, "a file includes a higher layer or another domain:\n" + "\n".join(bad))


def symbols(obj):
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCV":
            defined.add(parts[2])
    return defined, used


def test_objects_use_only_lower_layers_and_no_loop(t):
    harness.need("nm")
    top = root()
    objs = []
    for folder in RANK:
        d = os.path.join(top, "src", folder)
        objs += [(folder, os.path.join(d, n)) for n in sorted(os.listdir(d)) if n.endswith(".o")]
    check(len(objs) > 20, f"only {len(objs)} objects built under {top}/src")
    owner, used = {}, {}
    for folder, o in objs:
        defined, used[o] = symbols(o)
        for s in defined:
            owner[s] = o
    folder_of = dict((o, f) for f, o in objs)
    edges = collections.defaultdict(set)
    bad = []
    for o, syms in used.items():
        for s in syms:
            to = owner.get(s)
            if to is None or to == o:
                continue
            edges[o].add(to)
            a, b = folder_of[o], folder_of[to]
            if not allowed(a, b) or (a == b == "cmd" and not o.endswith("/main.o")):
                bad.append(f"{o} uses {s} of {to}")
    check(not bad, "an object uses a higher layer or another command:\n" + "\n".join(sorted(bad)))
    # no loop: a depth-first walk never meets an object still on its path
    state = {}

    def walk(o, path):
        state[o] = 1
        for to in sorted(edges[o]):
            if state.get(to) == 1:
                raise AssertionError("objects that need each other: "
                                     + " -> ".join(path[path.index(to):] + [to]))
            if to not in state:
                walk(to, path + [to])
        state[o] = 2

    for _, o in objs:
        if o not in state:
            walk(o, [o])


def test_no_source_file_over_800_lines(t):
    big = []
    for _, path in sources(root()):
        with open(path) as f:
            n = sum(1 for _ in f)
        if n > MAX_LINES:
            big.append(f"{path}: {n} lines")
    check(not big, "\n".join(big))
