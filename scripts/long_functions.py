#!/usr/bin/env python3
"""Lists Swift functions and initialisers longer than a limit (default 80 lines) under Sources/,
by counting braces from the declaration to its end (issue 12's bar: none outside the C kernels).
  python3 scripts/long_functions.py [LIMIT]"""
import os
import re
import sys

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 80
found = []
for root, _, files in os.walk("Sources"):
    for f in files:
        if not f.endswith(".swift"):
            continue
        path = os.path.join(root, f)
        lines = open(path, encoding="utf-8").read().split("\n")
        for i, line in enumerate(lines):
            if line.strip().startswith("//") or not re.search(r"\bfunc\b|\binit[(<]", line):
                continue
            # A signature may run over several lines before its body's brace; one that meets a
            # blank line, a comment or another declaration first has no body (a protocol's).
            k = i
            while k < len(lines) and "{" not in lines[k]:
                k += 1
                if k < len(lines) and (not lines[k].strip() or re.match(r"\s*(//|@|func\b|var\b|let\b|public\b|private\b|static\b|\})", lines[k])):
                    k = len(lines)
            if k >= len(lines):
                continue
            depth, j, started = 0, i, False
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                started = started or "{" in lines[j]
                if started and depth <= 0:
                    break
                j += 1
            if j - i + 1 > limit:
                found.append((j - i + 1, path, i + 1, line.strip()[:80]))
for n, path, at, text in sorted(found, reverse=True):
    print(f"{n} lines  {path}:{at}  {text}")
print(f"{len(found)} function(s) over {limit} lines")
sys.exit(1 if found else 0)
