"""Judged cases per second through Python vs through the C ABI: the same cases, the same run.

The same campaign (same spec, seed, property and case count) judges (1) the vectorised torch
HF-style kernel of python/examples/torch_ropes.py through ropecheck.check, and (2) the built-in
scalar_f32_hf kernel, the same recipe in C, through the C ABI.  Both declare the same calls, so
the campaign draws the same cases for both (the script checks that both judged as many cases
per property, and for agreement were given the same head vectors).  QK=1 (the default): both
take q/k calls (scalar_f32_hf is a q-only kernel: the C path answers a q/k call as two of its
own calls, q then k); QK=0: both take q-only calls.  PROPS=all: every property, not agreement
alone.  Interleaved runs, medians of REPEATS.

BUDGET=20: the same budget instead of the same cases. Each path runs the campaign in BUDGET
seconds, as `ropecheck check --budget-seconds` does (the edge sweep, run whole, then generated
cases until the budget ends); with the same seed both draw the same cases in the same order (per
property), so the path that judged fewer judged the first of the other's; the script prints how
many each judged in the budget.

    PYTHONPATH=build/release/python:python /usr/bin/python3 python/bench/bench_python_vs_c.py
"""
import os
import statistics
import sys
import tempfile

import ropecheck
from ropecheck import _core

try:
    from examples import torch_ropes as tr
except ImportError as e:  # no torch for this interpreter (CTest: skipped)
    print(f"SKIP: {e}")
    sys.exit(77)

REPEATS = int(os.environ.get("REPEATS", "5"))
CASES = int(os.environ.get("CASES", "300"))
# PROPS=all: the whole catalogue (each property's cases, each judged as `ropecheck check` does).
PROPS = [] if os.environ.get("PROPS") == "all" else ["agreesWithExactReferenceWithinContract"]
QK = os.environ.get("QK", "1") != "0"
BUDGET = float(os.environ["BUDGET"]) if os.environ.get("BUDGET") else None


def same_budget(spec, out):
    """Cases judged in BUDGET seconds on each path, interleaved, REPEATS times."""
    ratios = []
    for i in range(REPEATS):
        r = ropecheck.check(ropecheck.torch_kernel(tr.hf_rope), spec, ropecheck.contract("hf_fp32", qk=QK),
                            budget_seconds=BUDGET, properties=PROPS, out_dir=out, many_tokens=False)
        assert r.passed, r.report()
        c = _core.run_builtin_check("scalar_f32_hf", [spec], PROPS, -1, 1, out, qk=QK, budget_seconds=BUDGET)
        assert c["exit_code"] == 0
        py_checked = {p: row["checked"] for p, row in r.table.items() if row["checked"]}
        c_checked = {p: n for p, n in c["checked"].items() if n}
        assert py_checked.keys() == c_checked.keys(), f"different properties judged: {py_checked} vs {c_checked}"
        py_n, c_n = sum(py_checked.values()), sum(c_checked.values())
        ratios.append(py_n / c_n)
        print(f"run {i + 1}: python {py_n:,} cases in {r.seconds:.1f} s, C ABI {c_n:,} cases in {c['seconds']:.1f} s: "
              f"python / C {py_n / c_n:.2f}", flush=True)
    print(f"spec {_core.describe_spec(spec)}, {PROPS[0] if PROPS else 'every property'}, "
          f"{'q/k' if QK else 'q-only'} calls, budget {BUDGET:g} s on each path (the edge sweep, then generated cases): "
          f"python / C cases judged, median of {REPEATS}: {statistics.median(ratios):.2f} "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f})")
    return 0


def main():
    spec = ropecheck.spec({"head_dim": 128, "rope_theta": 500000})
    out = tempfile.mkdtemp(prefix="rc-bench-")
    if BUDGET is not None:
        return same_budget(spec, out)
    py_t, c_t, py_vectors, c_vectors = [], [], 0, 0
    for _ in range(REPEATS):
        r = ropecheck.check(ropecheck.torch_kernel(tr.hf_rope), spec, ropecheck.contract("hf_fp32", qk=QK),
                            cases=CASES, properties=PROPS, out_dir=out, many_tokens=False)
        assert r.passed, r.report()
        py_vectors = r.kernel_vectors
        py_t.append(r.seconds)
        c = _core.run_builtin_check("scalar_f32_hf", [spec], PROPS, CASES, 1, out, qk=QK)
        assert c["exit_code"] == 0
        c_t.append(c["seconds"])
        c_vectors = c["vectors"]
        # The same cases: as many judged per property on both paths ...
        py_checked = {p: row["checked"] for p, row in r.table.items() if row["checked"]}
        c_checked = {p: n for p, n in c["checked"].items() if n}
        assert py_checked == c_checked, f"the paths judged different cases: {py_checked} vs {c_checked}"
    # ... and, for agreement alone, the same head vectors given to the kernel (with every property,
    # calls the adapter refuses on the kernel's behalf, positions beyond max_position, never reach
    # Python and are not counted there).
    if PROPS:
        assert py_vectors == c_vectors, f"the paths judged different cases ({py_vectors} vs {c_vectors} head vectors)"
    py_s, c_s = statistics.median(py_t), statistics.median(c_t)
    pairs = c_vectors * spec.rotary_dim // 2
    print(f"spec {_core.describe_spec(spec)}, {PROPS[0] if PROPS else 'every property'}, {CASES} generated cases "
          f"per property + the edge sweep "
          f"({'q/k' if QK else 'q-only'} calls, {pairs} pairs on each path), medians of {REPEATS} (interleaved)")
    print(f"python (torch, vectorised): {py_s:.3f} s  {pairs / py_s:,.0f} judged pairs/s")
    print(f"C ABI (scalar_f32_hf):      {c_s:.3f} s  {pairs / c_s:,.0f} judged pairs/s")
    print(f"python / C: {c_s / py_s:.2f}x the cases per second (the same cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
