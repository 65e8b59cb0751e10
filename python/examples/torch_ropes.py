"""Torch RoPE kernels written here from the published semantics (RoFormer's rotation; HF
transformers' rotate_half convention with an fp32 inv_freq; vLLM's rotary_embedding reading a
cos||sin cache in place, q and k with GQA), and broken twins of each, for ropecheck.check.

Every function follows ropecheck's calling convention for torch kernels
(ropecheck.torch_kernel): fn(positions, q, k, **kw) -> (q, k) | None.
"""
import functools

import torch


# ------------------------------------------------------------------ HF style ----------
# inv_freq_j = 1 / base^(2j/d) in fp32, angle = t * inv_freq in fp32, emb = cat(freqs, freqs),
# out = x * cos + rotate_half(x) * sin with rotate_half(x) = cat(-x2, x1) over the rotary dims.

@functools.lru_cache(maxsize=16)
def _inv_freq(rotary_dim: int, base: float, bf16: bool = False) -> torch.Tensor:
    exponent = torch.arange(0, rotary_dim, 2, dtype=torch.int64).to(torch.float32) / rotary_dim
    inv_freq = 1.0 / (base ** exponent)
    if bf16:  # the bug: the table stored in the model's bf16 dtype
        inv_freq = inv_freq.to(torch.bfloat16).to(torch.float32)
    return inv_freq


class HfStyleRotaryEmbedding(torch.nn.Module):
    """cos and sin per position, as HF's LlamaRotaryEmbedding (default rope_type)."""

    def __init__(self, rotary_dim: int, base: float, bf16_inv_freq: bool = False):
        super().__init__()
        self.register_buffer("inv_freq", _inv_freq(rotary_dim, float(base), bf16_inv_freq), persistent=False)

    def forward(self, positions: torch.Tensor):
        return _hf_cos_sin(positions, self.inv_freq)


def _hf_cos_sin(positions: torch.Tensor, inv_freq: torch.Tensor):
    """cos and sin of emb = cat(freqs, freqs), freqs = t * inv_freq in fp32, [T, rotary_dim]."""
    freqs = positions.to(torch.float32)[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _apply_hf(x, cos, sin, rotary_dim):
    rot, rest = x[..., :rotary_dim], x[..., rotary_dim:]
    out = rot * cos[:, None, :] + rotate_half(rot) * sin[:, None, :]
    return torch.cat((out, rest), dim=-1)


def _apply_hf_qk(q, k, cos, sin, rotary_dim):
    return _apply_hf(q, cos, sin, rotary_dim), (None if k is None else _apply_hf(k, cos, sin, rotary_dim))


def _hf(positions, q, k, spec, bf16_inv_freq=False, skip_single_kv_head=False):
    emb = HfStyleRotaryEmbedding(spec.rotary_dim, spec.base, bf16_inv_freq)
    cos, sin = emb(positions)
    q_out = _apply_hf(q, cos, sin, spec.rotary_dim)
    if k is None:
        return q_out, None
    if skip_single_kv_head and k.shape[1] == 1:  # the bug: an MQA path that forgets k
        return q_out, k.clone()
    return q_out, _apply_hf(k, cos, sin, spec.rotary_dim)


def hf_rope(positions, q, k, spec):
    """HF-style rotate_half RoPE, fp32 inv_freq: correct."""
    return _hf(positions, q, k, spec)


def hf_rope_bf16_inv_freq(positions, q, k, spec):
    """Broken twin: inv_freq rounded to bf16."""
    return _hf(positions, q, k, spec, bf16_inv_freq=True)


def hf_rope_skips_single_kv_head(positions, q, k, spec):
    """Broken twin: k left unrotated when there is one kv head (MQA)."""
    return _hf(positions, q, k, spec, skip_single_kv_head=True)


def hf_rope_interleaved(positions, q, k, spec):
    """Broken twin: GPT-J pairs (2i, 2i+1) where the spec declares NeoX rotate_half."""
    emb = HfStyleRotaryEmbedding(spec.rotary_dim, spec.base)
    freqs = positions.to(torch.float32)[:, None] * emb.inv_freq[None, :]
    cos, sin = freqs.cos()[:, None, :], freqs.sin()[:, None, :]

    def apply(x):
        r = spec.rotary_dim
        x0, x1 = x[..., 0:r:2], x[..., 1:r:2]
        out = x.clone()
        out[..., 0:r:2] = x0 * cos - x1 * sin
        out[..., 1:r:2] = x0 * sin + x1 * cos
        return out

    return apply(q), (None if k is None else apply(k))


# ------------------------------------------------------------- dynamic NTK ----------
# HF modeling_rope_utils._compute_dynamic_ntk_parameters: the sequence length so far L (here the
# call's seq_len; 0 = the spec's) above max_position_embeddings L_max grows the base to
# b * (s*L/L_max - (s - 1))^(d/(d-2)) (computed in Python floats), then inv_freq in fp32 as
# above.  HF's dynamic_frequency_update recomputes it whenever L grows past what it cached.

def _dynamic_inv_freq(spec, seq_len: int) -> torch.Tensor:
    d, L = spec.rotary_dim, seq_len or spec.seq_len or spec.max_position_embeddings
    base = spec.base
    if L > spec.max_position_embeddings:
        base = base * ((spec.factor * L / spec.max_position_embeddings) - (spec.factor - 1)) ** (d / (d - 2))
    return 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.int64).to(torch.float32) / d))


def _dynamic(positions, q, k, inv_freq, rotary_dim):
    cos, sin = _hf_cos_sin(positions, inv_freq)
    return _apply_hf_qk(q, k, cos, sin, rotary_dim)


def hf_dynamic_rope(positions, q, k, spec, seq_len):
    """Dynamic NTK, the base of the call's sequence length: correct."""
    return _dynamic(positions, q, k, _dynamic_inv_freq(spec, seq_len), spec.rotary_dim)


_STALE = {}


def hf_dynamic_rope_stale_cache(positions, q, k, spec, seq_len):
    """Broken twin: inv_freq cached with the first sequence length seen, kept after the length
    crosses max_position_embeddings (and back)."""
    key = (spec.rotary_dim, spec.base, spec.factor, spec.max_position_embeddings)
    if key not in _STALE:
        _STALE[key] = _dynamic_inv_freq(spec, seq_len)
    return _dynamic(positions, q, k, _STALE[key], spec.rotary_dim)


# ------------------------------------------------------------- MLA: rope on a slice ----------
# DeepSeek-V2/V3's attention splits each head into [nope | pe] and ropes only pe (HF
# deepseek_v3: q_pe = q[..., qk_nope_head_dim:], then apply_rotary_pos_emb on q_pe).  Here the
# slice is [rotary_offset, rotary_offset + rotary_dim), HF rotate_half inside it (fp32 inv_freq).

def _mla(positions, q, k, spec, rotary_offset, ignore_offset=False):
    off = 0 if ignore_offset else rotary_offset  # the bug: the slice taken from dim 0
    cos, sin = HfStyleRotaryEmbedding(spec.rotary_dim, spec.base)(positions)

    def apply(x):
        out = x.clone()
        out[..., off: off + spec.rotary_dim] = _apply_hf(x[..., off: off + spec.rotary_dim], cos, sin, spec.rotary_dim)
        return out

    return apply(q), (None if k is None else apply(k))


def mla_rope(positions, q, k, spec, rotary_offset):
    """MLA-style: rope on dims [rotary_offset, rotary_offset + rotary_dim) only: correct."""
    return _mla(positions, q, k, spec, rotary_offset)


def mla_rope_ignores_offset(positions, q, k, spec, rotary_offset):
    """Broken twin: ropes dims [0, rotary_dim) whatever the offset."""
    return _mla(positions, q, k, spec, rotary_offset, ignore_offset=True)


# ------------------------------------------------------------ M-RoPE (Qwen2-VL) ----------
# HF qwen2_vl (Qwen2VLRotaryEmbedding, apply_multimodal_rotary_pos_emb): positions [3, T] (t, h,
# w); the 1-D fp32 inv_freq, freqs[a] = positions[a] * inv_freq, emb = cat(freqs, freqs) per
# axis, then cos and sin are split along the last dim into chunks of mrope_section * 2 and chunk
# i is taken from axis i % 3.

def _mrope(positions, q, k, spec, axis_order=(0, 1, 2)):
    inv_freq = _inv_freq(spec.rotary_dim, float(spec.base))
    freqs = positions.to(torch.float32)[:, :, None] * inv_freq[None, None, :]  # [3, T, r/2]
    emb = torch.cat((freqs, freqs), dim=-1)
    sections = list(spec.mrope_section) * 2
    n = len(spec.mrope_section)

    def pick(m):  # [3, T, r] -> [T, r]: chunk i from axis axis_order[i % n]
        return torch.cat([c[axis_order[i % n]] for i, c in enumerate(m.split(sections, dim=-1))], dim=-1)

    return _apply_hf_qk(q, k, pick(emb.cos()), pick(emb.sin()), spec.rotary_dim)


def qwen2_vl_mrope(positions, q, k, spec):
    """Qwen2-VL M-RoPE, chunked sections, fp32 inv_freq: correct (for mrope_interleaved False)."""
    return _mrope(positions, q, k, spec)


def qwen2_vl_mrope_h_w_swapped(positions, q, k, spec):
    """Broken twin: the h and w sections read each other's positions."""
    return _mrope(positions, q, k, spec, axis_order=(0, 2, 1))


# ------------------------------------------------------- N-D RoPE (FLUX, Pixtral) ----------
# diffusers FluxPosEmbed / EmbedND: axis a rotates its own block of axes_dims[a] dims by its own
# position, theta_{a,i} = base^(-2i/axes_dims[a]); Pixtral deals the 1-D frequencies of the whole
# rotary_dim to the axes in turn.  Pairs as the spec's layout says (FLUX: (2i, 2i+1)); fp32
# frequencies and angles, as the HF recipe.  Positions [n_axes, T], centred grids negative.

def nd_rope(positions, q, k, spec):
    r, pairs = spec.rotary_dim, spec.rotary_dim // 2
    axis = torch.tensor(spec.axis_of_pair, dtype=torch.int64)
    # i: the pair's index within its axis's block.
    within = torch.tensor([sum(1 for b in spec.axis_of_pair[:j] if b == a) for j, a in enumerate(spec.axis_of_pair)])
    if spec.axes_dealt:  # the (n*i + a)-th 1-D frequency of the whole rotary_dim
        exponent = (2 * (spec.n_axes * within + axis)).to(torch.float32) / r
    else:  # 2i over the axis's own width
        width = torch.tensor(spec.axes_dims, dtype=torch.int64)[axis]
        exponent = (2 * within).to(torch.float32) / width.to(torch.float32)
    theta = 1.0 / (spec.base ** exponent)                                  # [pairs]
    # Contiguous before cos/sin: on a transposed view torch computes some elements by its vector
    # path and some by its scalar one, whose bits differ, so a token's output would depend on its
    # place in the call (tokensAndHeadsAreIndependent caught that in this example's first version).
    angle = positions.to(torch.float32)[axis, :].T.contiguous() * theta[None, :]  # [T, pairs]
    cos, sin = angle.cos()[:, None, :], angle.sin()[:, None, :]
    first = torch.arange(pairs) * 2 if spec.layout == "interleaved" else torch.arange(pairs)
    second = first + 1 if spec.layout == "interleaved" else first + pairs

    def apply(x):
        out = x.clone()
        x0, x1 = x[..., first], x[..., second]
        out[..., first] = x0 * cos - x1 * sin
        out[..., second] = x0 * sin + x1 * cos
        return out

    return apply(q), (None if k is None else apply(k))


# ---------------------------------------------------------------- vLLM style ----------
# cos_sin_cache [max_pos, rotary_dim] = [cos_0 .. cos_{r/2-1} | sin_0 .. sin_{r/2-1}] (fp32), read
# at each token's position; q [T, Hq, D] and k [T, Hkv, D] rotated in place (NeoX pairing).

def _vllm(positions, q, k, cos_sin_cache, swap_halves=False):
    r = cos_sin_cache.shape[-1]
    cos_sin = cos_sin_cache.index_select(0, positions)
    cos, sin = cos_sin.chunk(2, dim=-1)
    if swap_halves:  # the bug: the halves read the wrong way round
        cos, sin = sin, cos
    cos, sin = cos[:, None, :].to(q.dtype), sin[:, None, :].to(q.dtype)
    for x in (q, k):
        if x is None:
            continue
        x1 = x[..., : r // 2].clone()
        x2 = x[..., r // 2: r].clone()
        x[..., : r // 2] = x1 * cos - x2 * sin
        x[..., r // 2: r] = x2 * cos + x1 * sin
    return None  # in place


def vllm_rope(positions, q, k, cos_sin_cache):
    """vLLM-style q/k kernel, cos||sin fp32 cache, in place, any kv head count: correct."""
    return _vllm(positions, q, k, cos_sin_cache)


def vllm_rope_swapped_halves(positions, q, k, cos_sin_cache):
    """Broken twin: reads sin||cos from a cos||sin cache."""
    return _vllm(positions, q, k, cos_sin_cache, swap_halves=True)


# ---------------------------------------------------------------------- bf16 ----------
# bf16 tensors, angles in float64 (exact enough below 2^20), rotation in fp32, one rounding to bf16.

def bf16_rope(positions, q, k, spec):
    r = spec.rotary_dim
    inv_freq = 1.0 / spec.base ** (torch.arange(0, r, 2, dtype=torch.float64) / r)
    ang = positions.to(torch.float64)[:, None] * inv_freq[None, :]
    cos, sin = ang.cos().to(torch.float32)[:, None, :], ang.sin().to(torch.float32)[:, None, :]

    def apply(x):
        xf = x.to(torch.float32)
        x1, x2 = xf[..., : r // 2], xf[..., r // 2: r]
        out = torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin, xf[..., r:]), dim=-1)
        return out.to(torch.bfloat16)

    return apply(q), (None if k is None else apply(k))
