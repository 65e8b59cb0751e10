#!/usr/bin/env python3
"""Golden vectors with numpy: load cases.npz, run a numpy RoPE, write outputs.npz.

    ropecheck vectors --contract scalar_f64 --out cases.npz
    python3 numpy_rope.py cases.npz outputs.npz            # a correct kernel: judge exits 0
    python3 numpy_rope.py cases.npz outputs.npz --broken   # rotates by -phi: judge exits 1
    ropecheck judge cases.npz outputs.npz

This is the loop a runtime ropecheck cannot call (Metal, a remote GPU, JAX, an FPGA
simulator) runs: every call of the file, as recorded (reports/VECTORS.md documents each
array), answered or refused, and the outputs written back with the cases' hash.

The kernel here is the recipe of the f64 contract scalar_f64: theta_j as given in the file
(spec_inv_freq: the exact frequencies of the variant rounded to f64, for runtimes that are
handed frequencies; a kernel that computes its own is judged the same way), the angle t*theta_j
in f64, cos and sin in f64 times the attention factor, the rotation in f64.  Only numpy.
"""
import argparse
import json
import sys

import numpy as np

RC_ERR_POSITION = 1  # impl/ropecheck_kernel.h: a position outside the declared range
RC_FEATURE_INVERSE = 0x4
RC_FEATURE_NEGATIVE_POSITIONS = 0x10

DTYPES = {"f64": np.float64, "f32": np.float32, "f16": np.float16}


def to_float(a, dtype_name):
    """The file's elements as float64 (bf16 is stored as its raw uint16 bits)."""
    if dtype_name == "bf16":
        return (a.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return a.astype(np.float64)


def from_float(y, dtype_name):
    if dtype_name == "bf16":  # round to nearest even, as a bf16 kernel's output
        b = y.astype(np.float32).view(np.uint32)
        b = (b + 0x7FFF + ((b >> 16) & 1)) >> 16
        return b.astype(np.uint16)
    return y.astype(DTYPES[dtype_name])


def rope(x, t, inv_freq, attention, interleaved, rotary_offset, broken):
    """x: [tokens, heads, head_dim] float64; rotates dims [offset, offset + rotary_dim)."""
    rd = 2 * len(inv_freq)
    pairs = np.arange(rd // 2)
    i0 = rotary_offset + (2 * pairs if interleaved else pairs)
    i1 = rotary_offset + (2 * pairs + 1 if interleaved else pairs + rd // 2)
    angle = t.astype(np.float64)[:, None] * inv_freq[None, :]  # [tokens, pairs], one f64 product
    cos = np.cos(angle)[:, None, :] * attention
    sin = np.sin(angle)[:, None, :] * attention
    if broken:
        sin = -sin  # the bug: R(-phi), a sign flip that keeps every norm
    y = x.copy()  # pass-through dims stay bit for bit
    x0, x1 = x[:, :, i0], x[:, :, i1]
    with np.errstate(invalid="ignore", over="ignore"):  # the NaN/Inf cases: propagated, per pair
        y[:, :, i0] = x0 * cos - x1 * sin
        y[:, :, i1] = x0 * sin + x1 * cos
    return y


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cases", help="cases.npz written by `ropecheck vectors`")
    ap.add_argument("outputs", help="outputs.npz to write")
    ap.add_argument("--broken", action="store_true", help="rotate by -phi (a sin sign flip)")
    args = ap.parse_args()

    c = np.load(args.cases)
    meta = json.loads(bytes(c["meta"]).decode())
    contract = meta["contract"]
    in_dt, out_dt = contract["in_dtype"], contract["out_dtype"]
    lowest = -contract["max_position"] if contract["features"] & RC_FEATURE_NEGATIVE_POSITIONS else 0
    highest = contract["max_position"]

    head_dim, interleaved = c["spec_head_dim"], c["spec_interleaved"]
    freq, freq_off, attention = c["spec_inv_freq"], c["spec_inv_freq_offset"], c["spec_attention_factor"]
    call_spec, q_heads, k_heads = c["call_spec"], c["call_q_heads"], c["call_k_heads"]
    inverse, rotary_offset = c["call_inverse"], c["call_rotary_offset"]
    positions, pos_off = c["positions"], c["positions_offset"]
    x_all, x_off = c["x"], c["x_offset"]

    n = len(call_spec)
    status = np.zeros(n, dtype=np.int32)
    y_all = np.zeros(len(x_all), dtype=x_all.dtype if in_dt == out_dt else DTYPES.get(out_dt, np.uint16))
    for i in range(n):
        s = call_spec[i]
        t = positions[pos_off[i]:pos_off[i + 1]]
        if np.any(t < lowest) or np.any(t > highest):
            status[i] = RC_ERR_POSITION  # refuse, write nothing
            continue
        if inverse[i]:
            t = -t  # R^-1(x, t) = R(x, -t)
        x = to_float(x_all[x_off[i]:x_off[i + 1]], in_dt).reshape(len(t), q_heads[i] + k_heads[i], head_dim[s])
        y = rope(x, t, freq[freq_off[s]:freq_off[s + 1]], attention[s], bool(interleaved[s]), int(rotary_offset[i]),
                 args.broken)
        y_all[x_off[i]:x_off[i + 1]] = from_float(y.reshape(-1), out_dt)

    np.savez(args.outputs, cases_hash=c["cases_hash"], status=status, y=y_all)
    print(f"{args.outputs}: {n} calls, {int(np.count_nonzero(status))} refused"
          f"{' (broken: rotates by -phi)' if args.broken else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
