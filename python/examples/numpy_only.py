"""A numpy-only RoPE (no torch): HF's rotate_half convention computed in float64, judged by
ropecheck under the fp64 contract.  Exit code: 0 when the kernel passes, else the check's.

    PYTHONPATH=build/release/python /usr/bin/python3 python/examples/numpy_only.py
"""
import sys

import numpy as np

import ropecheck


def numpy_rope(positions, q, k, spec):
    d = spec.rotary_dim
    inv_freq = 1.0 / spec.base ** (np.arange(0, d, 2, dtype=np.float64) / d)
    angles = positions.astype(np.float64)[:, None] * inv_freq[None, :]  # [T, d/2]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]

    def apply(x):
        out = x.copy()
        x1, x2 = x[..., : d // 2], x[..., d // 2: d]
        with np.errstate(invalid="ignore", over="ignore"):  # ropecheck feeds NaN, Inf and huge values on purpose
            out[..., : d // 2] = x1 * cos - x2 * sin
            out[..., d // 2: d] = x2 * cos + x1 * sin
        return out

    return apply(q), (None if k is None else apply(k))


if __name__ == "__main__":
    spec = ropecheck.spec({"head_dim": 64, "rope_theta": 10000})
    print("bound at t = 1, 2^20, 2^40 for a unit pair (pair 0):",
          ropecheck.bound(spec, "fp64", [1, 2**20, 2**40])[:, 0])
    result = ropecheck.check(numpy_rope, spec, "fp64", budget_seconds=2, out_dir="ropecheck-failures")
    print(result.report())
    sys.exit(result.exit_code)
