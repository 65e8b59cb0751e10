#!/usr/bin/env python3
"""Golden vectors with numpy: load cases.npz, run a numpy RoPE, write outputs.npz.

    ropecheck vectors --contract scalar_f64 --out cases.npz
    python3 numpy_rope.py cases.npz outputs.npz            # a correct kernel: judge exits 0
    python3 numpy_rope.py cases.npz outputs.npz --broken   # rotates by -phi: judge exits 1
    python3 numpy_rope.py cases.npz outputs.npz --ignore-seq-len  # the spec's frequencies on
        # every call: a contract that takes the sequence length per call then fails
        # frequenciesFollowTheSequenceLength (longrope keeping its short factors)
    ropecheck judge cases.npz outputs.npz

This is the loop a runtime ropecheck cannot call (Metal, a remote GPU, JAX, an FPGA
simulator) runs: every call of the file, as recorded (reports/VECTORS.md documents each
array), answered or refused, and the outputs written back with the cases' hash.

The kernel here is the recipe of the f64 contract scalar_f64: theta_j as given in the file
(spec_inv_freq: the exact frequencies of the variant rounded to f64, for runtimes that are
handed frequencies; a kernel that computes its own is judged the same way), the angle t*theta_j
in f64, cos and sin in f64 times the attention factor, the rotation in f64.  Only numpy.

Multi-axis positions (M-RoPE, N-D): a call of a spec with mrope_section or axes_dims holds n_axes rows of
n_tokens positions (axis-major, t h w), and pair j turns by the position of its axis, which
this file assigns from the spec (meta call_specs) the way HuggingFace does -- chunked as qwen2_vl,
interleaved as qwen3_vl (pair_axes below) -- and checks against the file's spec_pair_axis.

The sequence length per call (contracts declaring RC_FEATURE_SEQ_LEN): call_seq_len > 0
replaces the spec's seq_len for that call, and its frequencies and attention factor are those of
spec call_freq_spec (the call's spec at that length: longrope's long or short factors, dynamic
NTK's base).

A contract that reads a cos/sin cache (meta contract "cache": cos_sin_halves as vLLM's
cos_sin_cache, full_width as HF's cat(f, f), repeat_interleaved): the file holds the rows the
calls read (cache_position, cache_cos, cache_sin, in the contract's cache_dtype, the attention
factor multiplied in), and the kernel here consumes them as such a kernel does -- no angle is
formed: cos and sin of pair j at position p are read from row p.
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


def pair_axes(spec, pairs):
    """The axis whose position turns each frequency pair j (M-RoPE), as HuggingFace assigns it.

    chunked (HF qwen2_vl apply_multimodal_rotary_pos_emb): cos/sin [3, seq, rotary_dim] are
    split by mrope_section * 2 over the last dim and chunk i is taken from axis i % 3; over the
    frequency index that is pairs [0, s0) from axis 0, [s0, s0 + s1) from axis 1, ...
    interleaved (HF qwen3_vl apply_interleaved_mrope): freqs_t = freqs[0], then for axis
    a = 1, 2: freqs_t[..., a : 3 * s_a : 3] = freqs[a, ..., a : 3 * s_a : 3] (3 = the number of
    axes).  N-D (axes_dims): consecutive blocks of axes_dims[a] / 2 pairs, axis 0's first.  A 1-D
    spec: every pair on axis 0.
    """
    dims = spec.get("axes_dims")
    if dims:  # N-D RoPE (FLUX EmbedND, vision towers): axis a holds the next axes_dims[a] / 2 pairs
        return np.repeat(np.arange(len(dims)), [w // 2 for w in dims])
    section = spec.get("mrope_section")
    if not section:
        return np.zeros(pairs, dtype=np.int64)
    n = len(section)
    if spec.get("mrope_interleaved"):
        axis = np.zeros(pairs, dtype=np.int64)
        for a in range(1, n):
            axis[a:n * section[a]:n] = a
        return axis
    return np.repeat(np.arange(n), section)


def cache_tables(c, contract, freq_off):
    """Per spec: (cache rows, positions held, cos [held, pairs], sin [held, pairs]) as float64."""
    convention = contract["cache"]
    if convention == "none":
        return None
    dt = contract["cache_dtype"]
    pos, off, rows = c["cache_position"], c["cache_position_offset"], c["spec_cache_rows"]
    cos_all, sin_all = to_float(c["cache_cos"], dt), to_float(c["cache_sin"], dt)
    tables, at = [], 0
    for s in range(len(off) - 1):
        h = int(freq_off[s + 1] - freq_off[s])  # pairs; rows are rotary_dim = 2h wide
        n = int(off[s + 1] - off[s])
        cos_rows = cos_all[at:at + 2 * h * n].reshape(n, 2 * h)
        if convention == "cos_sin_halves":  # one table: c_0 .. c_{h-1} | s_0 .. s_{h-1}
            cs, sn = cos_rows[:, :h], cos_rows[:, h:]
        else:
            sin_rows = sin_all[at:at + 2 * h * n].reshape(n, 2 * h)
            if convention == "full_width":  # HF: cat(c, c)
                cs, sn = cos_rows[:, :h], sin_rows[:, :h]
            else:  # repeat_interleaved: c0 c0 c1 c1 ...
                cs, sn = cos_rows[:, 0::2], sin_rows[:, 0::2]
        at += 2 * h * n
        tables.append((int(rows[s]), pos[off[s]:off[s + 1]], cs, sn))
    return tables


def cos_sin_of(t, inv_freq, attention, table):
    """a*cos and a*sin of every token's pairs [tokens, pairs]: computed, or read from the cache."""
    if table is None:
        angle = t.astype(np.float64) * inv_freq[None, :]  # [tokens, pairs], one f64 product
        return np.cos(angle) * attention, np.sin(angle) * attention
    _, held, cs, sn = table
    k = np.searchsorted(held, np.abs(t))  # the row of each pair's position
    if not np.array_equal(held[np.minimum(k, len(held) - 1)], np.abs(t)):
        sys.exit("a call reads a cache row the file does not hold")
    pairs = np.arange(t.shape[1])[None, :]
    return cs[k, pairs], np.sign(t) * sn[k, pairs]  # R(-p): cos(-phi) = cos(phi), sin(-phi) = -sin(phi)


def rope(x, t, inv_freq, attention, interleaved, rotary_offset, broken, table=None):
    """x: [tokens, heads, head_dim] float64; t: [tokens, pairs] the position each pair turns by
    (negative: the inverse, R(-p)); rotates dims [offset, offset + rotary_dim)."""
    rd = 2 * len(inv_freq)
    pairs = np.arange(rd // 2)
    i0 = rotary_offset + (2 * pairs if interleaved else pairs)
    i1 = rotary_offset + (2 * pairs + 1 if interleaved else pairs + rd // 2)
    cos, sin = cos_sin_of(t, inv_freq, attention, table)
    cos, sin = cos[:, None, :], sin[:, None, :]
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
    ap.add_argument("--ignore-seq-len", action="store_true",
                    help="turn every call by its spec's frequencies, ignoring call_seq_len (a bug)")
    args = ap.parse_args()

    c = np.load(args.cases)
    meta = json.loads(bytes(c["meta"]).decode())
    contract = meta["contract"]
    in_dt, out_dt = contract["in_dtype"], contract["out_dtype"]
    lowest = -contract["max_position"] if contract["features"] & RC_FEATURE_NEGATIVE_POSITIONS else 0
    highest = contract["max_position"]

    head_dim, interleaved = c["spec_head_dim"], c["spec_interleaved"]
    n_axes, pair_axis = c["spec_n_axes"], c["spec_pair_axis"]
    freq, freq_off, attention = c["spec_inv_freq"], c["spec_inv_freq_offset"], c["spec_attention_factor"]
    call_spec, q_heads, k_heads = c["call_spec"], c["call_q_heads"], c["call_k_heads"]
    freq_spec = c["call_spec"] if args.ignore_seq_len else c["call_freq_spec"]
    inverse, rotary_offset = c["call_inverse"], c["call_rotary_offset"]
    positions, pos_off = c["positions"], c["positions_offset"]
    x_all, x_off = c["x"], c["x_offset"]

    axes = []  # per spec: the axis of every pair, from the spec as HF assigns it
    for s, spec in enumerate(meta["call_specs"]):
        a = pair_axes(spec, freq_off[s + 1] - freq_off[s])
        if not np.array_equal(a, pair_axis[freq_off[s]:freq_off[s + 1]]) or len(spec.get("mrope_section") or spec.get("axes_dims") or [0]) != n_axes[s]:
            sys.exit(f"spec {s}: the axes of its pairs differ from the file's spec_pair_axis / spec_n_axes")
        axes.append(a)

    tables = cache_tables(c, contract, freq_off)

    n = len(call_spec)
    status = np.zeros(n, dtype=np.int32)
    y_all = np.zeros(len(x_all), dtype=x_all.dtype if in_dt == out_dt else DTYPES.get(out_dt, np.uint16))
    for i in range(n):
        s = call_spec[i]
        rows = positions[pos_off[i]:pos_off[i + 1]].reshape(n_axes[s], -1)  # [n_axes, tokens], axis-major
        if np.any(rows < lowest) or np.any(rows > highest) or (tables and np.any(rows >= tables[s][0])):
            status[i] = RC_ERR_POSITION  # refuse, write nothing (a cache kernel: beyond its rows too)
            continue
        t = rows[axes[s], :].T  # [tokens, pairs]: pair j at its axis's position
        if inverse[i]:
            t = -t  # R^-1(x, t) = R(x, -t)
        x = to_float(x_all[x_off[i]:x_off[i + 1]], in_dt).reshape(rows.shape[1], q_heads[i] + k_heads[i], head_dim[s])
        f = freq_spec[i]  # the frequencies at this call's sequence length
        y = rope(x, t, freq[freq_off[f]:freq_off[f + 1]], attention[f], bool(interleaved[s]), int(rotary_offset[i]),
                 args.broken, tables[s] if tables else None)
        y_all[x_off[i]:x_off[i + 1]] = from_float(y.reshape(-1), out_dt)

    np.savez(args.outputs, cases_hash=c["cases_hash"], status=status, y=y_all)
    print(f"{args.outputs}: {n} calls, {int(np.count_nonzero(status))} refused"
          f"{' (broken: rotates by -phi)' if args.broken else ''}"
          f"{' (broken: ignores call_seq_len)' if args.ignore_seq_len else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
