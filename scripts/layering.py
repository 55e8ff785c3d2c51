#!/usr/bin/python3
"""layering.py - calls run downward: a check over nm of libgw.

Usage: layering.py LIBGW.a LAYERS ALLOW [--edges]

Every object file of the library is a module (conn_http.c.o is
"conn_http").  A module uses another when it has an undefined symbol that
the other defines (functions and data alike: static functions are the
module's own business).  LAYERS lists the layers bottom first, one a line,
"name: module module ..."; a module may use modules of lower layers and of
its own layer, never of a higher one, and no set of modules may use each
other in a circle.  ALLOW lists the edges "caller -> callee" still pending
removal; an entry no longer needed is an error too, so the list only
shrinks.  Output is TAP.  --edges prints the module graph instead.
"""
import subprocess
import sys


def read_nm(lib):
    out = subprocess.run(["nm", "-A", lib], check=True, capture_output=True,
                         text=True).stdout
    defs, undefs = {}, {}
    for line in out.splitlines():
        # lib.a:obj.c.o:VALUE T sym   or   lib.a:obj.c.o:          U sym
        parts = line.rsplit(":", 1)
        if len(parts) != 2:
            continue
        obj = parts[0].rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        mod = obj[:-4] if obj.endswith(".c.o") else obj
        f = parts[1].split()
        if len(f) < 2:
            continue
        kind, sym = f[-2], f[-1]
        undefs.setdefault(mod, set())
        if kind == "U":
            undefs[mod].add(sym)
        elif kind in "TDBRCV" or kind in "W":
            defs[sym] = mod
    return defs, undefs


def edges_of(defs, undefs):
    edges = {}
    for mod, syms in undefs.items():
        for s in syms:
            callee = defs.get(s)
            if callee is not None and callee != mod:
                edges.setdefault((mod, callee), set()).add(s)
    return edges


def read_layers(path):
    layer, order, units = {}, [], {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            name, mods = line.split(":", 1)
            if name.startswith("unit "):
                files = mods.split()
                for m in files:
                    units[m] = files[0]
                continue
            order.append(name.strip())
            for m in mods.split():
                layer[m] = len(order) - 1
    return layer, order, units


def read_allow(path):
    allow = set()
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                a, b = (x.strip() for x in line.split("->"))
                allow.add((a, b))
    return allow


def cycles(mods, edges):
    """Strongly connected components of more than one module (Tarjan)."""
    adj = {m: sorted(b for (a, b) in edges if a == m) for m in mods}
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
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
    for m in sorted(mods):
        if m not in index:
            visit(m)
    return out


def main():
    lib, layers_path, allow_path = sys.argv[1:4]
    defs, undefs = read_nm(lib)
    layer, order, units = read_layers(layers_path)
    defs = {s: units.get(m, m) for s, m in defs.items()}
    joined = {}
    for m, syms in undefs.items():
        joined.setdefault(units.get(m, m), set()).update(syms)
    undefs = joined
    edges = edges_of(defs, undefs)
    if "--edges" in sys.argv:
        for (a, b), syms in sorted(edges.items()):
            print("%s -> %s  %s" % (a, b, " ".join(sorted(syms))))
        return 0
    allow = read_allow(allow_path)
    n, failed = 0, 0

    def check(cond, desc, lines=()):
        nonlocal n, failed
        n += 1
        print("%sok %d - %s" % ("" if cond else "not ", n, desc))
        for l in lines:
            print("# " + l)
        if not cond:
            failed += 1

    mods = set(undefs)
    unplaced = sorted(m for m in mods if m not in layer)
    check(not unplaced, "every module has a layer in %s" % layers_path,
          ["no layer: " + m for m in unplaced])
    up = []
    for (a, b), syms in sorted(edges.items()):
        if a in layer and b in layer and layer[a] < layer[b] \
                and (a, b) not in allow:
            up.append("%s (%s) calls up into %s (%s): %s" % (
                a, order[layer[a]], b, order[layer[b]],
                " ".join(sorted(syms))))
    check(not up, "no call runs upward", up)
    kept = {e: s for e, s in edges.items() if e not in allow}
    circ = cycles(mods, kept)
    lines = []
    for comp in circ:
        lines.append("cycle: " + " ".join(comp))
        for (a, b), syms in sorted(kept.items()):
            if a in comp and b in comp:
                lines.append("  %s -> %s: %s" % (a, b, " ".join(sorted(syms))))
    check(not circ, "no modules call each other in a circle", lines)
    stale = sorted(e for e in allow if e not in edges)
    nsyms = sum(len(edges[e]) for e in allow if e in edges)
    check(not stale, "every allowlist entry is still needed (%d entries, "
          "%d symbols)" % (len(allow), nsyms), ["%s -> %s is gone: remove it from %s" % (a, b,
                         allow_path) for (a, b) in stale])
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
