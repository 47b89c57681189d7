#!/usr/bin/env python3
"""`centinela audit code` next to Bandit (and Semgrep, when installed) on the same trees.

Two measurements:

1. Findings on the labelled fixtures (crates/audit/tests/fixtures/code): every line
   that must be reported carries an `expect: CODE-0xx` marker, `good/` holds the
   same code written safely. For each tool and each category of the issue (SQL built
   from strings, XXE, unsafe deserialization, XSS, shell commands, TLS verification,
   JWT verification, weak password hashing, hard-coded secrets): true findings
   (a marked line reported), missed marks, and false positives (a report on an
   unmarked line). Python files only, since Bandit reads nothing else.
2. Wall time over a real tree given on the command line (e.g. an unpacked Django
   source release), best of three runs each.

Semgrep joins the table when it is installed and SEMGREP_RULES names a local rules
directory (its registry packs are fetched from the internet otherwise).

Usage:
    pip install bandit            # once
    cargo build --release
    bench/audit/code_compare.py [TREE ...]
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "crates/audit/tests/fixtures/code")
CENTINELA = os.environ.get("CENTINELA_BIN", os.path.join(ROOT, "target/release/centinela"))

CATEGORY = {
    "CODE-001": "sql", "CODE-002": "xxe", "CODE-003": "deserialization", "CODE-004": "xss",
    "CODE-005": "shell", "CODE-006": "tls", "CODE-007": "jwt", "CODE-008": "weak-hash",
    "CODE-009": "secret",
}
# Bandit test ids mapped to the same categories. Tests outside these (B101 assert,
# B113 timeouts, B311 random, ...) are not part of the comparison.
BANDIT = {}
for t in ["B608", "B610", "B611"]:
    BANDIT[t] = "sql"
for t in ["B313", "B314", "B315", "B316", "B317", "B318", "B319", "B320",
          "B405", "B406", "B407", "B408", "B409", "B410", "B411"]:
    BANDIT[t] = "xxe"
for t in ["B301", "B302", "B307", "B403", "B506"]:
    BANDIT[t] = "deserialization"
for t in ["B308", "B701", "B702", "B703", "B704"]:
    BANDIT[t] = "xss"
for t in ["B602", "B604", "B605", "B609"]:
    BANDIT[t] = "shell"
for t in ["B501", "B502", "B503", "B504"]:
    BANDIT[t] = "tls"
for t in ["B303", "B324"]:
    BANDIT[t] = "weak-hash"
for t in ["B105", "B106", "B107"]:
    BANDIT[t] = "secret"


def marks():
    """(relative file, line) -> category, for every `expect:` marker in Python files."""
    out = {}
    for sub in ["bad", "good"]:
        d = os.path.join(FIXTURES, sub)
        for name in sorted(os.listdir(d)):
            if not name.endswith(".py"):
                continue
            with open(os.path.join(d, name), encoding="utf-8") as f:
                for i, line in enumerate(f, 1):
                    for rule in re.findall(r"expect: ((?:CODE-\d{3}[ ,]*)+)", line):
                        for r in re.findall(r"CODE-\d{3}", rule):
                            out[(f"{sub}/{name}", i)] = CATEGORY[r]
    return out


def rel(path):
    path = os.path.abspath(path)
    return os.path.relpath(path, FIXTURES)


def run_centinela(paths):
    out = subprocess.run([CENTINELA, "audit", "code", "--format", "json", "--fail-on", "none", *paths],
                         capture_output=True, text=True, check=False)
    data = json.loads(out.stdout)
    return [(f["location"]["artifact"], f["location"]["line"], CATEGORY[f["id"]]) for f in data["findings"]]


def run_bandit(paths, min_severity):
    levels = {"LOW": 0, "MEDIUM": 1, "HIGH": 2}
    out = subprocess.run(["bandit", "-q", "-f", "json", "-r", *paths], capture_output=True, text=True, check=False)
    data = json.loads(out.stdout)
    found = []
    for r in data["results"]:
        cat = BANDIT.get(r["test_id"])
        if cat and levels[r["issue_severity"]] >= levels[min_severity]:
            found.append((r["filename"], r["line_number"], cat))
    return found


def run_semgrep(paths, rules):
    out = subprocess.run(["semgrep", "--config", rules, "--json", "--quiet", "--metrics=off", *paths],
                         capture_output=True, text=True, check=False)
    data = json.loads(out.stdout or "{}")
    return [(r["path"], r["start"]["line"], "any") for r in data.get("results", [])]


def score(found, expected):
    got = {}
    for path, line, cat in found:
        r = rel(path)
        if r.endswith(".py"):
            got.setdefault((r, line), set()).add(cat)
    rows = {}
    for cat in sorted(set(CATEGORY.values())):
        want = {k for k, v in expected.items() if v == cat}
        tp = {k for k in want if cat in got.get(k, set()) or "any" in got.get(k, set())}
        fp = {k for k, cats in got.items() if (cat in cats) and expected.get(k) != cat}
        rows[cat] = (len(tp), len(want) - len(tp), len(fp))
    return rows


def timed(cmd):
    best = None
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        e = time.perf_counter() - t
        best = e if best is None else min(best, e)
    return best


def main():
    if not os.path.exists(CENTINELA):
        sys.exit(f"{CENTINELA} not found: run `cargo build --release` (or set CENTINELA_BIN)")
    if not shutil.which("bandit"):
        sys.exit("bandit not found: pip install bandit")
    expected = marks()
    trees = [os.path.join(FIXTURES, "bad"), os.path.join(FIXTURES, "good")]
    tools = [("centinela", score(run_centinela(trees), expected)),
             ("bandit (all severities)", score(run_bandit(trees, "LOW"), expected)),
             ("bandit (medium and up)", score(run_bandit(trees, "MEDIUM"), expected))]
    print(f"Labelled fixtures: {len(expected)} marked sinks in Python files\n")
    print("| category | " + " | ".join(f"{n} found/missed/false" for n, _ in tools) + " |")
    print("|---|" + "---|" * len(tools))
    totals = [[0, 0, 0] for _ in tools]
    for cat in sorted(set(CATEGORY.values())):
        cells = []
        for i, (_, rows) in enumerate(tools):
            tp, fn, fp = rows[cat]
            totals[i][0] += tp
            totals[i][1] += fn
            totals[i][2] += fp
            cells.append(f"{tp}/{fn}/{fp}")
        print(f"| {cat} | " + " | ".join(cells) + " |")
    print("| **total** | " + " | ".join(f"**{a}/{b}/{c}**" for a, b, c in totals) + " |")
    # Semgrep's rule packs come from its registry on the internet; offline it needs a
    # local copy of the rules (a checkout of semgrep-rules), given in SEMGREP_RULES.
    rules = os.environ.get("SEMGREP_RULES")
    if shutil.which("semgrep") and rules:
        print("\nsemgrep:", score(run_semgrep(trees, rules), expected))
    elif shutil.which("semgrep"):
        print("\nsemgrep is installed but has no rules offline: set SEMGREP_RULES to a local rules directory")

    for tree in sys.argv[1:]:
        files = sum(1 for _, _, fs in os.walk(tree) for f in fs if f.endswith(".py"))
        c = timed([CENTINELA, "audit", "code", "--format", "json", "--fail-on", "none", tree])
        b = timed(["bandit", "-q", "-f", "json", "-r", tree])
        cf = len(run_centinela([tree]))
        bf = len(run_bandit([tree], "LOW"))
        print(f"\n{tree}: {files} Python files")
        print(f"| tool | wall time (best of 3) | findings |\n|---|---|---|")
        print(f"| centinela audit code | {c:.2f} s | {cf} |")
        print(f"| bandit -r | {b:.2f} s | {bf} (in the compared categories) |")
        print(f"speed-up: {b / c:.1f}x")


if __name__ == "__main__":
    main()
