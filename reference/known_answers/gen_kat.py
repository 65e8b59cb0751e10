#!/usr/bin/python3
"""Independent known-answer table for ropecheck's exact RoPE reference.

Computes, with mpmath at 400 bits, the frequencies theta'_j, the attention factor a, the
rotated head R(x, t) at edge positions, and the closed-form attention score
<R(q,t), R(k,s)> = a^2 Re sum_j q_j conj(k_j) e^{i(t-s)theta'_j} + sum_{c>=d} q_c k_c
for every RoPE variant (default, linear, ntk, dynamic, yarn, llama3, longrope, proportional, none) and both
layouts, and multi-axis M-RoPE (chunked as Qwen2-VL, interleaved as Qwen3-VL, with YaRN and
partial rotary), and N-D RoPE (FLUX's per-axis ropes, the Qwen2-VL ViT's 2-D split, Pixtral's dealt
frequencies): positions "t:h:w", pair j rotated by the position of its axis (axis_map).
Formulas: HuggingFace transformers `modeling_rope_utils` semantics as written
down in shared/design.md (written independently of the C++ reference in reference/*.hpp).

Conventions (the C++ side must use the same ones to agree to 2^-60):
  * every spec number is the exact value of the binary64 it parses to: mpf(float(v));
  * yarn's m(s) = 0.1 ln s + 1 uses the exact 1/10 (the formula's constant, not HF's binary64
    rounding of it); the 0.001 nudge when lo == hi is HF's binary64 value (an implementation
    artefact with no exact counterpart);
  * pi, ln, exp, sqrt, cos, sin and all arithmetic are exact (evaluated at 400 bits).

Regenerate (deterministic, no randomness beyond a fixed-seed LCG):
  /usr/bin/python3 reference/known_answers/gen_kat.py > reference/known_answers/kat.json
The script checks itself (design.md check values, t = 0 identity, norm x a, closed-form
score == dot product of rotated vectors, 400-bit vs 480-bit agreement) and exits non-zero
if anything fails.
"""
import json
import sys

import mpmath
from mpmath import mp, mpf

PREC, DIGITS = 400, 40
mp.prec = PREC


def P(v):  # the exact value of the binary64 the C++ side parses from a JSON number
    return mpf(float(v))


def S(x):  # 40 significant digits, exponent form outside [1e-4, 1e17)
    return mpmath.nstr(x, DIGITS, strip_zeros=False, min_fixed=-4, max_fixed=17)


def fail(msg):
    print("gen_kat.py: CHECK FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


def thetas(b, d):  # theta_j = b^(-2j/d) = exp(-(2j/d) ln b)
    return [mp.exp(-(mpf(2 * j) / d) * mp.log(b)) for j in range(d // 2)]


def m_scale(s, mu):  # yarn get_mscale
    return mpf(1) if s <= 1 else mu * mp.log(s) / 10 + 1


def nd_frequencies(spec):
    """N-D RoPE (axes_dims), written from the models' code, not from the C++:
    per_axis (black-forest-labs flux EmbedND: cat of rope(ids[..., a], axes_dim[a], theta), each
    omega_i = theta^(-2i/d_a); HF qwen2_vl VisionRotaryEmbedding(head_dim/2) for h then w);
    dealt (HF PixtralRotaryEmbedding: freqs = theta^(-2k/d) over the whole dim, freqs[::2] to h,
    freqs[1::2] to w, cat'ed): axis a gets freqs[a::n]."""
    b, axes = P(spec["base"]), spec["axes_dims"]
    if spec.get("axes_frequencies") == "dealt":
        full = thetas(b, spec["rotary_dim"])
        return [t for a in range(len(axes)) for t in full[a::len(axes)]], mpf(1), {}
    return [t for d_a in axes for t in thetas(b, d_a)], mpf(1), {}


def frequencies(spec):
    """(theta'_j list, attention factor a, info dict for check values)."""
    if spec.get("axes_dims"):
        return nd_frequencies(spec)
    d, b, lmax = spec["rotary_dim"], P(spec["base"]), spec["max_position_embeddings"]
    L = spec.get("seq_len", lmax)
    sc = spec.get("scaling", {"type": "default"})
    kind, info = sc["type"], {}
    L0 = sc.get("original_max_position_embeddings", 8192 if kind == "llama3" else lmax)
    th, a = thetas(b, d), mpf(1)
    if kind == "default":
        pass
    elif kind == "linear":
        th = [t / P(sc["factor"]) for t in th]
    elif kind == "ntk":
        th = thetas(b * P(sc["factor"]) ** (mpf(d) / (d - 2)), d)
    elif kind == "dynamic":
        s = P(sc["factor"])
        if L > lmax:
            th = thetas(b * ((s * L / lmax) - (s - 1)) ** (mpf(d) / (d - 2)), d)
    elif kind == "yarn":
        s = P(sc["factor"])
        corr = lambda n: d * mp.log(L0 / (2 * mp.pi * n)) / (2 * mp.log(b))
        lo, hi = corr(P(sc.get("beta_fast", 32))), corr(P(sc.get("beta_slow", 1)))
        if sc.get("truncate", True):
            lo, hi = mp.floor(lo), mp.ceil(hi)
        lo, hi = max(lo, mpf(0)), min(hi, mpf(d - 1))
        if lo == hi:
            hi += P(0.001)
        ramp = [min(max((j - lo) / (hi - lo), mpf(0)), mpf(1)) for j in range(d // 2)]
        th = [(t / s) * r + t * (1 - r) for t, r in zip(th, ramp)]
        mu, mu_all = P(sc.get("mscale", 1)), P(sc.get("mscale_all_dim", 0))
        if "attention_factor" in sc:
            a = P(sc["attention_factor"])
        elif mu != 0 and mu_all != 0:
            a = m_scale(s, mu) / m_scale(s, mu_all)
        else:
            a = m_scale(s, mpf(1))
        info = {"lo": lo, "hi": hi}
    elif kind == "llama3":
        s = P(sc.get("factor", 8))
        lf, hf = P(sc.get("low_freq_factor", 1)), P(sc.get("high_freq_factor", 4))
        out, n = [], {"kept": 0, "divided": 0, "smoothed": 0}
        for t in th:
            lam = 2 * mp.pi / t
            if lf == hf:  # Llama 4: the smooth band is empty; theta kept up to L0/lf inclusive
                if lam <= L0 / lf:
                    out.append(t); n["kept"] += 1
                else:
                    out.append(t / s); n["divided"] += 1
            elif lam < L0 / hf:
                out.append(t); n["kept"] += 1
            elif lam > L0 / lf:
                out.append(t / s); n["divided"] += 1
            else:
                g = (L0 / lam - lf) / (hf - lf)
                out.append((1 - g) * t / s + g * t); n["smoothed"] += 1
        th, info = out, n
    elif kind == "longrope":
        ext = sc["long_factor"] if L > L0 else sc["short_factor"]
        assert len(ext) == d // 2
        th = [1 / (P(e) * b ** (mpf(2 * j) / d)) for j, e in enumerate(ext)]
        s = P(sc["factor"]) if "factor" in sc else mpf(lmax) / L0
        if "attention_factor" in sc:
            a = P(sc["attention_factor"])
        else:
            a = mpf(1) if s <= 1 else mp.sqrt(1 + mp.log(s) / mp.log(L0))
    elif kind == "proportional":
        # Gemma 4's global layers, written from HF _compute_proportional_rope_parameters:
        #   rope_angles = int(partial_rotary_factor * head_dim // 2)   (the spec gives rope_angles)
        #   inv_freq = cat(1 / base ** (arange(0, 2*rope_angles, 2) / head_dim), zeros(head_dim//2 - rope_angles))
        #   inv_freq /= factor
        # then rotate_half over the whole head (pair j = (j, j + head_dim/2)).
        hd, ra = spec["head_dim"], sc["rope_angles"]
        turning = [1 / b ** (mpf(2 * j) / hd) for j in range(ra)]
        th = [t / P(sc.get("factor", 1)) for t in turning + [mpf(0)] * (hd // 2 - ra)]
        info = {"rope_angles": ra}
    elif kind == "none":
        # No rope: a NoPE layer (HF Llama4TextAttention skips apply_rotary_emb where use_rope is
        # 0, no_rope_layers[i] == 0): every pair turns by angle 0 and nothing is scaled.
        th = [mpf(0)] * (d // 2)
        info = {"zero_pairs": d // 2}
    else:
        raise ValueError(kind)
    return th, a, info


def axis_map(spec):
    """The axis of every pair (M-RoPE), written from HF's code, not from the C++:
    chunked (qwen2_vl apply_multimodal_rotary_pos_emb): cos/sin split into chunks of
    mrope_section over the frequency index, chunk i from axis i % 3;
    interleaved (qwen3_vl apply_interleaved_mrope): freqs_t = freqs[0], then for axis
    a = 1, 2: freqs_t[..., a : 3 * section[a] : 3] = freqs[a, ..., same slice]."""
    sec, n = spec.get("mrope_section"), spec["rotary_dim"] // 2
    if spec.get("axes_dims"):  # N-D: each axis a block of axes_dims[a] / 2 consecutive pairs
        return [a for a, d_a in enumerate(spec["axes_dims"]) for _ in range(d_a // 2)]
    if not sec:
        return [0] * n
    if spec.get("mrope_interleaved"):
        axes = [0] * n
        for a in range(1, len(sec)):
            for j in range(a, min(len(sec) * sec[a], n), len(sec)):
                axes[j] = a
        return axes
    axes = []
    for a, count in enumerate(sec):
        axes += [a] * count
    return axes


def n_axes(spec):
    return max(1, len(spec.get("mrope_section") or spec.get("axes_dims") or []))


def at_axes(spec, t):  # a position: one int (every axis, a text token) or one per axis
    return tuple(t) if isinstance(t, tuple) else (t,) * n_axes(spec)


def pos_str(t):
    return ":".join(str(v) for v in t) if isinstance(t, tuple) else str(t)


def pair_index(spec, j):
    d = spec["rotary_dim"]
    return (2 * j, 2 * j + 1) if spec["layout"] == "interleaved" else (j, j + d // 2)


def rotate(spec, th, a, x, t):
    y = [P(v) for v in x]  # components >= rotary_dim: copied unchanged (not times a)
    t, axes = at_axes(spec, t), axis_map(spec)
    for j, tj in enumerate(th):
        i0, i1 = pair_index(spec, j)
        phi = t[axes[j]] * tj
        c, s = mp.cos(phi), mp.sin(phi)
        x0, x1 = P(x[i0]), P(x[i1])
        y[i0], y[i1] = a * (x0 * c - x1 * s), a * (x0 * s + x1 * c)
    return y


def score(spec, th, a, q, k, t, s):
    acc = mpf(0)
    t, s, axes = at_axes(spec, t), at_axes(spec, s), axis_map(spec)
    for j, tj in enumerate(th):
        i0, i1 = pair_index(spec, j)
        z = mpmath.mpc(P(q[i0]), P(q[i1])) * mpmath.conj(mpmath.mpc(P(k[i0]), P(k[i1])))
        acc += (z * mp.expj((t[axes[j]] - s[axes[j]]) * tj)).real
    return a * a * acc + sum(P(q[c]) * P(k[c]) for c in range(spec["rotary_dim"], spec["head_dim"]))


class LCG:  # fixed-seed 64-bit LCG (Knuth MMIX constants); exact doubles in (-2, 2)
    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % 2**64
        return float((self.state >> 11) - 2**52) / 2**51


POS = [0, 1, 2, 255, 256, 257, 2047, 2048, 2049, 4095, 4096, 4097, 65504, 65535, 65536,
       2**24 - 1, 2**24, 2**24 + 1, 2**31 - 1, 2**31, 2**31 + 1, 2**32, 2**53, 2**53 + 1,
       2**62 + 12345, 2**63 - 1]
POS_SHORT = [0, 1, 257, 2049, 4095, 4096, 4097, 65535, 2**24 + 1, 2**31 - 1, 2**32, 2**53 + 1,
             2**62 + 12345, 2**63 - 1]
LF = [1.0, 1.0, 1.125, 1.25, 1.5, 2.0, 3.0, 4.5]           # longrope factors: exact in fp32
LONG = [1.0, 1.5, 2.5, 4.0, 8.0, 16.0, 24.0, 32.0]         # (HF casts them to float32)


def spec(name, hd, rd, base, layout, lmax, scaling=None, seq_len=None, mrope=None, interleaved=False, axes=None,
         dealt=False):
    sp = {"name": name, "head_dim": hd, "rotary_dim": rd, "base": base, "layout": layout,
          "max_position_embeddings": lmax}
    sp.update({} if mrope is None else {"mrope_section": mrope, "mrope_interleaved": interleaved})
    sp.update({} if axes is None else {"axes_dims": axes, "axes_frequencies": "dealt" if dealt else "per_axis"})
    sp.update({} if seq_len is None else {"seq_len": seq_len})
    sp.update({} if scaling is None else {"scaling": scaling})
    return sp


Y = lambda s, L0, **kw: dict(type="yarn", factor=s, original_max_position_embeddings=L0, **kw)
L3 = lambda s, L0, lf=1, hf=4: dict(type="llama3", factor=s, low_freq_factor=lf, high_freq_factor=hf,
                                    original_max_position_embeddings=L0)
PR = lambda ra, **kw: dict(type="proportional", rope_angles=ra, **kw)
LR = lambda **kw: dict(type="longrope", original_max_position_embeddings=4096,
                       short_factor=LF, long_factor=LONG, **kw)
HS, IL = "half_split", "interleaved"
# (case id, spec, positions, special input components {index: value})
CASES = [
    ("default_d16_interleaved", spec("default", 16, 16, 10000, IL, 4096), POS,
     {0: 0.0, 1: -0.0, 6: 1e30, 9: 1e-30}),
    ("default_d16_half_split", spec("default", 16, 16, 10000, HS, 4096), POS,
     {0: 0.0, 8: -0.0, 3: 1e30, 12: 1e-30}),
    ("default_h12_r8_half_split_partial", spec("partial rotary", 12, 8, 10000, HS, 4096), POS,
     {2: 0.0, 9: -0.0, 10: 1e-30, 11: 1e30}),
    ("default_h12_r8_interleaved_partial", spec("partial rotary", 12, 8, 10000, IL, 4096), POS,
     {8: 0.0, 9: -0.0}),
    ("default_d96_b1e6_half_split", spec("d96 base 1e6", 96, 96, 1000000, HS, 32768), POS_SHORT,
     {5: 0.0}),
    ("linear_d16_s4_half_split",
     spec("linear", 16, 16, 10000, HS, 16384, {"type": "linear", "factor": 4}), POS, {}),
    ("linear_d80_s1.1_interleaved",
     spec("linear d80", 80, 80, 10000, IL, 4096, {"type": "linear", "factor": 1.1}), POS_SHORT, {}),
    ("ntk_d16_s4_interleaved",
     spec("ntk", 16, 16, 10000, IL, 4096, {"type": "ntk", "factor": 4}), POS, {}),
    ("dynamic_d16_s2_L8192_half_split", spec("dynamic L > Lmax", 16, 16, 10000, HS, 4096,
                                             {"type": "dynamic", "factor": 2}, 8192), POS, {}),
    ("dynamic_d16_s2_L2048_half_split", spec("dynamic L < Lmax", 16, 16, 10000, HS, 4096,
                                             {"type": "dynamic", "factor": 2}, 2048), POS, {}),
    ("dynamic_d16_s2_Ldefault_interleaved", spec("dynamic L = Lmax", 16, 16, 10000, IL, 4096,
                                                 {"type": "dynamic", "factor": 2}), POS, {}),
    ("yarn_d128_b1e4_s16",
     spec("yarn check 1", 128, 128, 10000, HS, 65536, Y(16, 4096)), POS_SHORT, {}),
    ("yarn_d64_b1.5e5_s32",
     spec("yarn check 2", 64, 64, 150000, IL, 131072, Y(32, 4096)), POS_SHORT, {}),
    ("yarn_d16_s8_truncate_false", spec("yarn no truncate", 16, 16, 10000, HS, 32768,
                                        Y(8, 4096, truncate=False)), POS, {}),
    ("yarn_d16_s40_mscale_1_0.8", spec("yarn deepseek mscale", 16, 16, 10000, IL, 163840, Y(
        40, 4096, beta_fast=32, beta_slow=1, mscale=1.0, mscale_all_dim=0.8)), POS, {}),
    ("yarn_d16_s40_mscale_only", spec("yarn mscale without mscale_all_dim", 16, 16, 10000, HS,
                                      163840, Y(40, 4096, mscale=0.707)), POS, {}),
    ("yarn_h20_r16_s4_attention_factor", spec("yarn given a, partial", 20, 16, 500000, HS, 16384, Y(
        4, 4096, beta_fast=16, beta_slow=2, attention_factor=1.5)), POS, {17: -0.0, 18: 1e30}),
    ("yarn_d16_s4_lo_eq_hi",
     spec("yarn lo == hi (hi += 0.001)", 16, 16, 10000, HS, 16, Y(4, 4)), POS, {}),
    ("llama3_d128_b5e5_s8",
     spec("Llama-3.1", 128, 128, 500000, HS, 131072, L3(8, 8192)), POS_SHORT, {}),
    ("llama3_d16_b5e5_s32_interleaved",
     spec("Llama-3.2 style small d", 16, 16, 500000, IL, 131072, L3(32, 8192)), POS, {}),
    ("longrope_d16_long",
     spec("Phi-3 128K/4K, L > L0", 16, 16, 10000, HS, 131072, LR(), 131072), POS, {}),
    ("longrope_d16_short",
     spec("Phi-3 128K/4K, L <= L0", 16, 16, 10000, HS, 131072, LR(), 4096), POS, {}),
    ("longrope_d16_given_a", spec("longrope given factor and a", 16, 16, 10000, IL, 131072,
                                  LR(factor=32, attention_factor=1.25)), POS, {}),
    # Gemma 4 global layers (transformers Gemma4TextConfig defaults: global_head_dim 512,
    # partial_rotary_factor 0.25, rope_theta 1e6): 64 of 256 pairs turn.  A short position list
    # keeps the table small (512 components per output).
    ("proportional_gemma4_d512_r64", spec("Gemma 4 global", 512, 512, 1000000, HS, 131072, PR(64)),
     [0, 1, 4097, 2**31 - 1, 2**53 + 1, 2**63 - 1], {300: -0.0, 511: 1e30}),
    ("proportional_d16_r3_s2_half_split", spec("proportional, odd share, linear s", 16, 16, 10000, HS, 8192,
                                               PR(3, factor=2)), POS, {7: -0.0, 15: 1e-30}),
    ("proportional_d12_r2_s0.5_interleaved", spec("proportional interleaved", 12, 12, 500000, IL, 4096,
                                                  PR(2, factor=0.5)), POS, {}),
    # Added later, at the end so the cases above keep their LCG inputs.  Llama 4 ships llama3
    # with low_freq_factor == high_freq_factor: no smooth band.
    ("llama3_d128_b5e5_s16_lf_eq_hf", spec("Llama-4-Scout (low_freq_factor == high_freq_factor)",
                                           128, 128, 500000, IL, 10485760, L3(16, 8192, 1, 1)),
     POS_SHORT, {}),
    ("llama3_d16_b1e4_s4_lf_eq_hf_half_split", spec("llama3 lf == hf 2", 16, 16, 10000, HS, 65536,
                                                   L3(4, 4096, 2, 2)), POS, {}),
]


# M-RoPE (t, h, w) positions: text tokens (t = h = w), a large t with small h and w and the
# reverse, each axis up to 2^40 (and one at 2^63 - 1), negative steps between axes.
POS_MROPE = [(0, 0, 0), 5, (7, 3, 5), (4096, 12, 30), (12, 4096, 2**16), (2**20, 1, 2**20 - 1),
             (2**31 - 1, 17, 3), (3, 2**31 - 1, 2**40), 2**40, (2**40, 2**39 + 7, 1),
             (1, 2**40 - 3, 2**40), (2**63 - 1, 5, 2**62 + 12345)]
MROPE_CASES = [
    ("mrope_chunked_d128_qwen2vl", spec("Qwen2-VL M-RoPE [16,24,24]", 128, 128, 1000000, HS, 32768,
                                        mrope=[16, 24, 24]), POS_MROPE, {3: 0.0}),
    ("mrope_interleaved_d128_qwen3vl", spec("Qwen3-VL M-RoPE interleaved [24,20,20]", 128, 128, 5000000, HS,
                                            262144, mrope=[24, 20, 20], interleaved=True), POS_MROPE, {}),
    ("mrope_chunked_h20_r16_partial", spec("M-RoPE chunked, partial rotary", 20, 16, 10000, HS, 4096,
                                           mrope=[4, 2, 2]), POS_MROPE, {17: -0.0, 19: 1e30}),
    ("mrope_chunked_d16_yarn", spec("M-RoPE chunked + YaRN", 16, 16, 1000000, HS, 131072, Y(4, 32768),
                                    mrope=[2, 3, 3]), POS_MROPE, {}),
    ("mrope_interleaved_h24_r16_yarn_partial", spec("M-RoPE interleaved + YaRN + partial", 24, 16, 10000000,
                                                    HS, 262144, Y(4, 65536), mrope=[3, 3, 2], interleaved=True),
     POS_MROPE, {20: 0.0}),
    ("mrope_interleaved_d16_gptj_layout", spec("M-RoPE interleaved axes, interleaved pairs", 16, 16, 10000, IL,
                                               4096, mrope=[4, 2, 2], interleaved=True), POS_MROPE, {}),
]


# N-D RoPE: FLUX's three axes (text/frame, row, column), the Qwen2-VL ViT's and Pixtral's two
# (row, column), partial rotary; positions per axis as for M-RoPE, up to 2^40 (and 2^63 - 1).
POS_2D = [(0, 0), 5, (7, 3), (4096, 12), (12, 4096), (2**20, 1), (2**31 - 1, 2**40), 2**40, (2**40, 2**39 + 7),
          (2**63 - 1, 5)]
# Centred rows and columns (an image grid around 0): negative on either axis or both, down to
# -2^40 and -(2^63 - 1).
POS_2D_CENTRED = [(-1, 0), (0, -1), -5, (-32, 31), (31, -32), (-4096, 12), (-(2**40), 2**40), (-(2**31), -(2**31 - 1)),
                  (-(2**63 - 1), 3)]
ND_CASES = [
    ("nd_flux_d128_axes_16_56_56", spec("FLUX N-D [16,56,56]", 128, 128, 10000, IL, 4096, axes=[16, 56, 56]),
     POS_MROPE, {}),
    ("nd_qwen2vl_vit_d80_2d", spec("Qwen2-VL ViT 2-D [40,40]", 80, 80, 10000, HS, 4096, axes=[40, 40]), POS_2D, {5: 0.0}),
    ("nd_pixtral_d64_2d_dealt", spec("Pixtral 2-D dealt [32,32]", 64, 64, 10000, HS, 4096, axes=[32, 32], dealt=True),
     POS_2D, {}),
    ("nd_partial_h24_r16_3axes", spec("N-D partial rotary [4,6,6]", 24, 16, 10000, IL, 4096, axes=[4, 6, 6]), POS_MROPE,
     {20: 1e30}),
    ("nd_centred_d64_2d_negative", spec("N-D 2-D [32,32], centred positions", 64, 64, 10000, HS, 4096, axes=[32, 32]),
     POS_2D_CENTRED, {}),
]


# No rope (NoPE layers), added after the lists above so that their LCG inputs stay what they were:
# Llama-4-Scout's NoPE layers (its head geometry and rope_theta, interleaved; the type reads
# neither), and a half-split one with partial rotary.
NOPE_CASES = [
    ("none_llama4_nope_d128_interleaved", spec("Llama-4-Scout NoPE layers", 128, 128, 500000, IL, 10485760,
                                               {"type": "none"}), POS_SHORT, {1: -0.0, 127: 1e30}),
    ("none_h12_r8_half_split_partial", spec("no rope, partial rotary", 12, 8, 10000, HS, 4096, {"type": "none"}),
     POS, {4: -0.0, 10: 1e-30}),
]


def build(prec):
    mp.prec = prec
    rng, out = LCG(0x524F50454B4154), []  # "ROPEKAT"
    for cid, sp, pos, special in CASES + MROPE_CASES + ND_CASES + NOPE_CASES:
        sc = sp.get("scaling", {})
        extra = {sp["max_position_embeddings"]} if sc else set()
        if "original_max_position_embeddings" in sc:
            extra.add(sc["original_max_position_embeddings"])
        multi = n_axes(sp) > 1
        positions = pos if multi else sorted(set(pos) | {p + e for p in extra for e in (-1, 0, 1)})
        th, a, info = frequencies(sp)
        hd, rd = sp["head_dim"], sp["rotary_dim"]
        x = [special.get(i, rng.next()) for i in range(hd)]
        outs = [rotate(sp, th, a, x, t) for t in positions]
        scores = []
        pairs = [((8, 5), True), ((18, 15), False), ((2**63 - 1, 2**62 + 12345), True)]
        if multi and n_axes(sp) == 3:  # per-axis differences (3, 5, -7) twice, then far apart
            pairs = [(((8, 10, 2), (5, 5, 9)), True), (((4099, 2**31 + 5, 2**40), (4096, 2**31, 2**40 + 7)), False),
                     (((2**63 - 1, 3, 2**40), (2**62 + 12345, 2**40, 1)), True)]
        elif multi:  # two axes: differences (3, 5) twice, then far apart
            pairs = [(((8, 10), (5, 5)), True), (((4099, 2**31 + 5), (4096, 2**31)), False),
                     (((2**63 - 1, 3), (2**62 + 12345, 2**40)), True)]
        for (t, s), fresh in pairs:
            if fresh:
                q, k = [rng.next() for _ in range(hd)], [rng.next() for _ in range(hd)]
            scores.append((q, k, t, s, score(sp, th, a, q, k, t, s)))
        out.append((cid, sp, positions, th, a, info, x, outs, scores))
    return out


def self_check(cases, cases_hi):
    tol = mpf(2) ** -200
    for (cid, sp, positions, th, a, info, x, outs, scores), hi in zip(cases, cases_hi):
        rd, hd = sp["rotary_dim"], sp["head_dim"]
        for t, y, y_hi in zip(positions, outs, hi[7]):
            for j in range(rd // 2):
                i0, i1 = pair_index(sp, j)
                r = mp.sqrt(P(x[i0]) ** 2 + P(x[i1]) ** 2)
                if abs(mp.sqrt(y[i0] ** 2 + y[i1] ** 2) - a * r) > tol * (1 + r):
                    fail(f"{cid}: norm not preserved x a at t={t} pair {j}")
                if max(abs(y[i0] - y_hi[i0]), abs(y[i1] - y_hi[i1])) > tol * (1 + r):
                    fail(f"{cid}: 400-bit and 480-bit results differ at t={t} pair {j}")
                if t == 0 and (y[i0] != a * P(x[i0]) or y[i1] != a * P(x[i1])):
                    fail(f"{cid}: t = 0 is not x times a, pair {j}")
            if any(y[c] != P(x[c]) for c in range(rd, hd)):
                fail(f"{cid}: pass-through component changed at t={t}")
            for j in range(sp.get("scaling", {}).get("rope_angles", rd // 2), rd // 2):
                if any(y[i] != P(x[i]) for i in pair_index(sp, j)):  # theta = 0: R(0) = I exactly
                    fail(f"{cid}: zero-frequency pair {j} changed at t={t}")
            if sp.get("scaling", {}).get("type") == "none" and any(y[c] != P(x[c]) for c in range(hd)):
                fail(f"{cid}: no rope is not the identity at t={t}")
        for q, k, t, s, sc in scores:
            direct = mpmath.fsum(u * v for u, v in zip(rotate(sp, th, a, q, t), rotate(sp, th, a, k, s)))
            if abs(direct - sc) > tol * (1 + mpmath.fsum(abs(P(u) * P(v)) for u, v in zip(q, k)) * a * a):
                fail(f"{cid}: closed-form score != dot product of rotated vectors (t={t}, s={s})")
    if cases[0][8][0][4] != cases[0][8][1][4]:
        fail("scores of (8,5) and (18,15) differ")
    for cid, sp, positions, th, a, info, x, outs, scores in cases:
        if n_axes(sp) == 1:
            continue
        if scores[0][4] != scores[1][4]:
            fail(f"{cid}: scores with the same per-axis differences differ")
        one_axis = {k: v for k, v in sp.items() if k not in ("mrope_section", "mrope_interleaved", "axes_dims",
                                                                "axes_frequencies")}
        for t, y in zip(positions, outs):
            if not isinstance(t, tuple) and y != rotate(one_axis, th, a, x, t):
                fail(f"{cid}: a text token (t on every axis) is not 1-D RoPE at t={t}")


def check_values(cases):
    by = {c[0]: c for c in cases}
    expect = [("yarn_d128_b1e4_s16", (20, 46), "1.2773"), ("yarn_d64_b1.5e5_s32", (8, 18), "1.3466")]
    res = {}
    for cid, (lo, hi), a4 in expect:
        info, a = by[cid][5], by[cid][4]
        if (info["lo"], info["hi"]) != (lo, hi) or mpmath.nstr(a, 5) != a4:
            fail(f"{cid}: ramp [{info['lo']}, {info['hi']}] a={S(a)}, design.md says [{lo}, {hi}] a={a4}")
        res[cid] = {"lo": int(lo), "hi": int(hi), "attention_factor": S(a)}
    n = by["llama3_d128_b5e5_s8"][5]
    if (n["kept"], n["divided"], n["smoothed"]) != (29, 29, 6):
        fail(f"llama3 d128: {n}, design.md says kept 29 divided 29 smoothed 6")
    res["llama3_d128_b5e5_s8"] = dict(n)
    # Llama 4: wavelen 2 pi 500000^(j/64) passes L0/lf = 8192 between j = 34 and 35.
    n = by["llama3_d128_b5e5_s16_lf_eq_hf"][5]
    if (n["kept"], n["divided"], n["smoothed"]) != (35, 29, 0):
        fail(f"llama3 lf == hf d128: {n}, expected kept 35 divided 29 smoothed 0")
    res["llama3_d128_b5e5_s16_lf_eq_hf"] = dict(n)
    a = by["longrope_d16_long"][4]  # Phi-3 128K/4K: L_max 131072, L0 4096, no factor, no a
    if mpmath.nstr(a, 5) != "1.1902" or by["longrope_d16_short"][4] != a:
        fail(f"longrope Phi-3 a = {S(a)}, design.md says 1.1902")
    res["longrope_phi3_128k_4k"] = {"cases": ["longrope_d16_long", "longrope_d16_short"],
                                    "attention_factor": S(a)}
    # Gemma 4: HF's rope_angles = int(partial_rotary_factor * head_dim // 2) for 0.25 and 512.
    gemma = by["proportional_gemma4_d512_r64"]
    if int(0.25 * 512 // 2) != gemma[5]["rope_angles"] or sum(1 for t in gemma[3] if t != 0) != 64:
        fail(f"proportional Gemma 4: rope_angles {gemma[5]['rope_angles']}, want int(0.25 * 512 // 2) = 64 turning pairs")
    res["proportional_gemma4_d512_r64"] = {"partial_rotary_factor": 0.25, "rope_angles": 64, "zero_pairs": 192}
    nope = by["none_llama4_nope_d128_interleaved"]
    if any(t != 0 for t in nope[3]) or nope[4] != 1:
        fail("none: every theta must be 0 and a = 1")
    res["none_llama4_nope_d128_interleaved"] = {"zero_pairs": nope[5]["zero_pairs"], "attention_factor": S(nope[4])}
    return res


def main():
    cases_hi = build(PREC + 80)
    cases = build(PREC)
    self_check(cases, cases_hi)
    doc = {
        "generator": "reference/known_answers/gen_kat.py", "mpmath": mpmath.__version__,
        "precision_bits": PREC, "digits": DIGITS,
        "conventions": "spec numbers are their binary64 values; yarn's 0.1 is exactly 1/10; the "
                       "0.001 nudge (yarn lo == hi) is binary64; pi and all functions exact",
        "check_values": check_values(cases),
        "cases": [],
    }
    for cid, sp, positions, th, a, info, x, outs, scores in cases:
        rd = sp["rotary_dim"]
        doc["cases"].append({
            "id": cid, "spec": sp,
            "theta": [S(t) for t in th], "attention_factor": S(a),
            "input": [repr(v) for v in x],
            "positions": [pos_str(t) for t in positions],
            "outputs": [[("-0.0" if c >= rd and repr(x[c]) == "-0.0" else S(v)) for c, v in enumerate(y)]
                        for y in outs],
            "scores": [{"q": [repr(v) for v in q], "k": [repr(v) for v in k], "t": pos_str(t), "s": pos_str(s),
                        "score": S(v)} for q, k, t, s, v in scores],
        })
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
