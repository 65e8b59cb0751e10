#!/usr/bin/python3
"""Time to the first printed violation of `ropecheck check` on every in-tree broken kernel.

Issue 21: a kernel author should see a verdict within seconds, not after the whole budget.
For each broken kernel (properties/broken: the generated broken_plugins.inc of the build, the
correct twin control_twin left out, and the model twins with the config or spec that shows
their bug, as cli/tests/model_twins_test.cpp and mrope_twins_test.cpp run them) this runs the default gate — default
budget, default --jobs 2 — as a user would, twice: as is, and with --fail-fast.  It records,
from process start (this script's fork), the time at which the first finding line
("[1.2 s] FAIL found: ..." or "CRASH found:") arrives on the pipe, the total wall time and the
exit code, and prints one Markdown table and the median and max.

Targets (issue 21, "Done when"): median <= 3 s and max <= 10 s to the first violation; with
--fail-fast the process exits within 1 s after it; every run ends within the budget plus the
shrink deadline (--budget-seconds + --shrink-seconds, 20 + 10 s by default).  Nothing here
decides a pass: the script reports, the numbers go to README.md and impl/bench/RESULTS.md.

Usage: scripts/time_to_first_violation.py [--build build/release] [--only NAME]... [--binary PATH]
                                          [--no-fail-fast]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

# The first printed violation: a finding told as it is confirmed ("[0.8 s] FAIL found: ..."),
# or — from a build before streaming (--binary) — the final message ("FAIL: K violates P").
FINDING = re.compile(rb"^(\[[0-9.]+ s\] (FAIL|CRASH) found: |(FAIL|CRASH): )")
DEFAULT_BUDGET, DEFAULT_SHRINK = 20, 10  # cli/cmd_check.cpp defaults

# The model twins: their bug shows only with a real model's config (model_twins_test.cpp), or
# on the M-RoPE and N-D specs (the default specs hold them; mrope_twins_test.cpp uses the same
# files).
MODEL_TWINS = {
    "broken_gemma3_layers_swapped": ["--hf-config", "reference/specs/hf/gemma-3-27b.config.json"],
    "broken_llama3_lf_eq_hf_nan": ["--hf-config", "reference/specs/hf/llama-4-scout-17b-16e.config.json"],
    "broken_mla_mscale_merged": ["--hf-config", "reference/specs/hf/deepseek-v3.config.json"],
    "broken_longrope_short_after_crossing": ["--spec", "reference/specs/gate/longrope-d96-phi3.json"],
    # M-RoPE (issue 17): the default specs hold the two M-RoPE gate specs.
    "broken_mrope_section_off_by_one": [],
    "broken_mrope_interleaved_as_chunked": [],
    "broken_mrope_partial_ignored": [],
    "broken_mrope_yarn_skipped": [],
    # N-D RoPE (issue 17): the default specs hold the two N-D gate specs.
    "broken_nd_axes_swapped": [],
}


def kernels(build, source):
    """(name, plugin path, extra arguments) of every in-tree broken kernel."""
    out = []
    inc = os.path.join(build, "properties/broken/broken_plugins.inc")
    with open(inc) as f:
        for line in f:
            m = re.match(r'\{"([^"]+)", "([^"]+)"\},', line.strip())
            if m and m.group(1) != "control_twin":
                out.append((m.group(1), m.group(2), []))
    for name, extra in MODEL_TWINS.items():
        path = os.path.join(build, "properties/broken/libropecheck_%s.so" % name)
        out.append((name, path, [a if a.startswith("--") else os.path.join(source, a) for a in extra]))
    return out


def run(binary, plugin, extra, fail_fast):
    """(seconds to the first finding line or None, total seconds, exit code)."""
    with tempfile.TemporaryDirectory(prefix="ttfv-") as d:
        cmd = [binary, "check", "--plugin", plugin, *extra, "--quiet", "--out-dir", d]
        if fail_fast:
            cmd.append("--fail-fast")
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        first = None
        for line in p.stdout:  # line by line as the gate flushes them
            if first is None and FINDING.match(line):
                first = time.monotonic() - start
        code = p.wait()
        return first, time.monotonic() - start, code


def fmt(x):
    return "-" if x is None else "%.2f" % x


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--build", default=os.path.join(source, "build/release"))
    ap.add_argument("--only", action="append", default=[], help="only this kernel (repeatable)")
    ap.add_argument("--binary", help="the ropecheck to run (default: the build's); e.g. an older one, for a before/after")
    ap.add_argument("--no-fail-fast", action="store_true", help="skip the --fail-fast runs (a build without it)")
    args = ap.parse_args()
    binary = args.binary or os.path.join(args.build, "cli/ropecheck")
    todo = [k for k in kernels(args.build, source) if not args.only or k[0] in args.only]
    load_before = os.getloadavg()
    print("| broken kernel | first violation (s) | total (s) | exit | --fail-fast: first (s) | total (s) | exit after first (s) | exit |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for name, plugin, extra in todo:
        first, total, code = run(binary, plugin, extra, False)
        ff_first, ff_total, ff_code = (None, None, 1) if args.no_fail_fast else run(binary, plugin, extra, True)
        after = None if ff_first is None else ff_total - ff_first
        rows.append((name, first, total, code, ff_first, ff_total, after, ff_code))
        print("| `%s` | %s | %s | %d | %s | %s | %s | %s |" % (name, fmt(first), fmt(total), code, fmt(ff_first),
                                                         fmt(ff_total), fmt(after), "-" if args.no_fail_fast else ff_code))
        sys.stdout.flush()
    load_after = os.getloadavg()
    firsts = [r[1] for r in rows if r[1] is not None]
    missed = [r[0] for r in rows if r[1] is None]
    afters = [r[6] for r in rows if r[6] is not None]
    totals = [r[2] for r in rows]
    print()
    print("%d kernels, %d cores, load average %.1f before, %.1f after (1 min)" %
          (len(rows), os.cpu_count(), load_before[0], load_after[0]))
    if firsts:
        print("time to first violation: median %.2f s, max %.2f s (targets: median <= 3 s, max <= 10 s)" %
              (statistics.median(firsts), max(firsts)))
    if missed:
        print("no violation printed: " + ", ".join(missed))
    if afters:
        print("--fail-fast, exit after the first violation: median %.2f s, max %.2f s (target <= 1 s)" %
              (statistics.median(afters), max(afters)))
    if totals:
        print("total wall time without --fail-fast: max %.2f s (budget %d s + shrink deadline %d s = %d s)" %
              (max(totals), DEFAULT_BUDGET, DEFAULT_SHRINK, DEFAULT_BUDGET + DEFAULT_SHRINK))
    wrong_exit = [r[0] for r in rows if r[3] != 1 or r[7] != 1]
    if wrong_exit:
        print("exit code other than 1: " + ", ".join(wrong_exit))


if __name__ == "__main__":
    main()
