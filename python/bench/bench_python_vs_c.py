"""Judged pair rotations per second through Python vs through the C ABI, in the same run.

The same campaign (same spec, seed, property and case count: the cases are a function of the
seed) judges (1) the vectorised torch HF-style kernel of python/examples/torch_ropes.py through
ropecheck.check, and (2) the built-in scalar_f32_hf kernel, the same recipe in C, through the C
ABI.  Both pass, so both are called on the same cases; the pair count is the Python kernel's
(head vectors it was given x rotary_dim/2).  Interleaved, medians of REPEATS.

    PYTHONPATH=build/release/python:python /usr/bin/python3 python/bench/bench_python_vs_c.py
"""
import os
import statistics
import sys
import tempfile

import ropecheck
from ropecheck import _core
from examples import torch_ropes as tr

REPEATS = int(os.environ.get("REPEATS", "5"))
CASES = int(os.environ.get("CASES", "300"))
PROPS = ["agreesWithExactReferenceWithinContract"]


def main():
    spec = ropecheck.spec({"head_dim": 128, "rope_theta": 500000})
    out = tempfile.mkdtemp(prefix="rc-bench-")
    py_t, c_t, pairs = [], [], 0
    for _ in range(REPEATS):
        r = ropecheck.check(ropecheck.torch_kernel(tr.hf_rope), spec, "hf_fp32", cases=CASES, properties=PROPS,
                            out_dir=out, many_tokens=False)
        assert r.passed, r.report()
        pairs = r.kernel_vectors * spec.rotary_dim // 2
        py_t.append(r.seconds)
        c = _core.run_builtin_check("scalar_f32_hf", [spec], PROPS, CASES, 1, out)
        assert c["exit_code"] == 0
        c_t.append(c["seconds"])
    py_s, c_s = statistics.median(py_t), statistics.median(c_t)
    print(f"spec {_core.describe_spec(spec)}, property {PROPS[0]}, {CASES} generated cases + the edge sweep, "
          f"{pairs} judged pair rotations per run, medians of {REPEATS} (interleaved)")
    print(f"python (torch, vectorised): {py_s:.3f} s  {pairs / py_s:,.0f} judged pairs/s")
    print(f"C ABI (scalar_f32_hf):      {c_s:.3f} s  {pairs / c_s:,.0f} judged pairs/s")
    print(f"python / C: {c_s / py_s:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
