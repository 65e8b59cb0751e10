#!/usr/bin/env python3
"""The include graph between ropecheck's top-level folders, and its loops.

Each top-level folder has one role (reference/ the exact math, impl/ the kernels and their
ABI, properties/ the catalogue and the judge, gate/ fuzz/ reports/ the campaigns, cli/ the
commands, python/ the package).  Dependencies must run one way: a folder that includes another
one's headers may not be included back, directly or through a third, or the roles blur and
nothing can be built or tested alone.  This reads every #include "folder/..." of the sources
(tests included) and exits 1 naming a loop if there is one.

usage: scripts/include_graph.py [REPO]     (prints the edges; exit 0: no loop, 1: a loop)
"""
import os
import re
import sys

FOLDERS = ["reference", "impl", "properties", "gate", "fuzz", "reports", "cli", "python"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SOURCES = (".c", ".cc", ".cpp", ".h", ".hpp", ".in")


def edges(repo):
    found = {}
    for top in FOLDERS:
        for root, _, files in os.walk(os.path.join(repo, top)):
            for f in files:
                if not f.endswith(SOURCES):
                    continue
                path = os.path.join(root, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for inc in INCLUDE.findall(text):
                    target = inc.split("/")[0]
                    # "../ropecheck_kernel.h" and same-folder includes stay inside the folder.
                    if target in FOLDERS and target != top:
                        found.setdefault((top, target), os.path.relpath(path, repo) + ' -> ' + inc)
    return found


def find_loop(graph):
    state = {}
    stack = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                loop = visit(nxt)
                if loop:
                    return loop
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            loop = visit(node)
            if loop:
                return loop
    return None


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    e = edges(repo)
    graph = {}
    for (a, b), example in sorted(e.items()):
        graph.setdefault(a, set()).add(b)
        print(f"{a} -> {b}   (e.g. {example})")
    loop = find_loop(graph)
    if loop:
        print("include loop between top-level folders: " + " -> ".join(loop), file=sys.stderr)
        for a, b in zip(loop, loop[1:]):
            print(f"  {a} -> {b}: {e[(a, b)]}", file=sys.stderr)
        return 1
    print("no include loop between top-level folders")
    return 0


if __name__ == "__main__":
    sys.exit(main())
