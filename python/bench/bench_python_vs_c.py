"""Judged pair rotations per second through Python vs through the C ABI, in the same run.

The same campaign (same spec, seed, property and case count) judges (1) the vectorised torch
HF-style kernel of python/examples/torch_ropes.py through ropecheck.check, and (2) the built-in
scalar_f32_hf kernel, the same recipe in C, through the C ABI.  The calls differ in shape (the
Python adapter declares q/k calls, scalar_f32_hf is an ABI 1 q-only kernel), so each path counts
the pairs it was judged on (head vectors given to the kernel x rotary_dim/2) and the figure is
judged pairs per second.  Interleaved, medians of REPEATS.

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
# QK=0: the Python kernel declares q-only calls, as scalar_f32_hf (ABI 1) does: cases of the same shapes.
QK = os.environ.get("QK", "1") != "0"


def main():
    spec = ropecheck.spec({"head_dim": 128, "rope_theta": 500000})
    out = tempfile.mkdtemp(prefix="rc-bench-")
    py_t, c_t, py_pairs, c_pairs = [], [], 0, 0
    for _ in range(REPEATS):
        r = ropecheck.check(ropecheck.torch_kernel(tr.hf_rope), spec, ropecheck.contract("hf_fp32", qk=QK),
                            cases=CASES, properties=PROPS, out_dir=out, many_tokens=False)
        assert r.passed, r.report()
        py_pairs = r.kernel_vectors * spec.rotary_dim // 2
        py_t.append(r.seconds)
        c = _core.run_builtin_check("scalar_f32_hf", [spec], PROPS, CASES, 1, out)
        assert c["exit_code"] == 0
        c_t.append(c["seconds"])
        c_pairs = c["vectors"] * spec.rotary_dim // 2
    py_s, c_s = statistics.median(py_t), statistics.median(c_t)
    py_rate, c_rate = py_pairs / py_s, c_pairs / c_s
    print(f"spec {_core.describe_spec(spec)}, property {PROPS[0]}, {CASES} generated cases + the edge sweep, "
          f"medians of {REPEATS} (interleaved)")
    print(f"python (torch, vectorised): {py_s:.3f} s  {py_pairs} pairs  {py_rate:,.0f} judged pairs/s")
    print(f"C ABI (scalar_f32_hf):      {c_s:.3f} s  {c_pairs} pairs  {c_rate:,.0f} judged pairs/s")
    print(f"python / C: {py_rate / c_rate:.2f}x judged pairs/s, {c_s / py_s:.2f}x cases/s (python q/k calls: {QK})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
