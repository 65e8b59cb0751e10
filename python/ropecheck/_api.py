"""Specs, the exact reference, contracts and bounds: thin, checked wrappers of ropecheck._core."""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

from . import _core

Spec = _core.Spec
SpecError = _core.SpecError


_INT64 = (-(2**63), 2**63 - 1)


def _positions(positions, what: str = "positions") -> np.ndarray:
    """positions as an int64 array of the same shape, or a ValueError naming `what`: a
    non-integer (1.5 would be cut to 1) or a value beyond int64 (numpy's OverflowError) is not a
    position."""
    a = np.asarray(positions)
    if a.dtype.kind in "iu" and (not a.size or int(a.max()) <= _INT64[1]):  # only a uint64 can exceed it
        return a.astype(np.int64)
    values = []
    for v in a.ravel().tolist():
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{what}: {v!r} is not an integer position")
        if not _INT64[0] <= v <= _INT64[1]:
            raise ValueError(f"{what}: {v} is beyond int64 (positions are int64, at most 2^63 - 1)")
        values.append(v)
    return np.array(values, dtype=np.int64).reshape(a.shape)


# ----------------------------------------------------------------------------- specs ----

def _read_text(source: Union[str, os.PathLike], what: str) -> str:
    path = os.fspath(source)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what}: no such file: {path}")
    with open(path, encoding="utf-8") as f:
        return f.read()


def spec(source: Union[Spec, dict, str, os.PathLike]) -> Spec:
    """One spec: a Spec, a dict in ropecheck's spec JSON form, JSON text, or the path of a
    ropecheck spec file.  (A HuggingFace config: specs_from_hf_config.)"""
    if isinstance(source, Spec):
        return source
    if isinstance(source, dict):
        if "rope_theta" in source or "model_type" in source or "rope_scaling" in source:
            # The one rope: NoPE layers' spec (rope_type "none") is not one, as in the C++ reader.
            return _one([s for s in specs_from_hf_config(source) if s.rope_type != "none"], "the HF config")
        return _core.spec_from_json(json.dumps(source))
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if text.lstrip().startswith("{"):
            return _core.spec_from_json(text)
        return _core.spec_from_json(_read_text(text, "spec"))
    raise TypeError(f"spec: expected a Spec, dict, JSON text or path, got {type(source).__name__}")


def specs_from_hf_config(config: Union[dict, str, os.PathLike]) -> List[Spec]:
    """The specs of a HuggingFace config.json (a path, JSON text or the parsed dict): one per
    layer type with rope (Gemma 3: sliding and full attention), in the config's order, then,
    when some layers have no rope (Llama 4's no_rope_layers), one of rope_type "none" (the
    identity) named "<model>/nope" for them."""
    if isinstance(config, dict):
        return list(_core.specs_from_hf_config(json.dumps(config), "config"))
    text = os.fspath(config)
    if text.lstrip().startswith("{"):
        return list(_core.specs_from_hf_config(text, "config"))
    return list(_core.specs_from_hf_config(_read_text(text, "HF config"), text))


def default_specs() -> List[Spec]:
    """The specs `ropecheck check` uses by default (every variant, both layouts)."""
    return list(_core.default_specs())


def _one(specs: List[Spec], what: str) -> Spec:
    if len(specs) != 1:
        raise ValueError(f"{what} has {len(specs)} rope specs (one per layer type): use specs_from_hf_config")
    return specs[0]


def _specs(source) -> List[Spec]:
    if isinstance(source, (list, tuple)):
        return [spec(s) for s in source]
    if isinstance(source, dict) and ("rope_theta" in source or "model_type" in source or "rope_scaling" in source):
        return specs_from_hf_config(source)
    return [spec(source)]


# ------------------------------------------------------------------ exact reference ----

def frequencies(s, *, exact: bool = False, digits: int = 40):
    """theta'_j of every pair (float64 array), or exact decimal strings with exact=True."""
    s = spec(s)
    return list(_core.frequencies_decimal(s, digits)) if exact else _core.frequencies(s)


def attention_factor(s, *, exact: bool = False, digits: int = 40):
    """The attention factor a (1 unless YaRN/longrope give one); a decimal string with exact=True."""
    s = spec(s)
    return _core.attention_factor_decimal(s, digits) if exact else _core.attention_factor(s)


def rotate(s, x, positions, *, exact: bool = False, digits: int = 40):
    """The exact rotation: x of shape [..., head_dim] (first axis: one position each; a 1-D x
    takes one position), as float64.  exact=True (1-D x only): decimal strings."""
    s = spec(s)
    x = np.asarray(x, dtype=np.float64)
    pos = np.atleast_1d(_positions(positions))
    if exact:
        if x.ndim != 1 or pos.size != 1:
            raise ValueError("rotate(exact=True) takes one head vector and one position")
        return list(_core.rotate_decimal(s, x.tolist(), int(pos[0]), digits))
    out = _core.rotate(s, np.ascontiguousarray(x), pos.tolist())
    return out


def score(s, q, t: int, k, u: int, *, exact: bool = False, digits: int = 40):
    """<R(q, t), R(k, u)> over the head, exactly (closed form in t - u)."""
    s = spec(s)
    q = np.asarray(q, dtype=np.float64).ravel()
    k = np.asarray(k, dtype=np.float64).ravel()
    t, u = int(_positions(t, "t")), int(_positions(u, "u"))
    if exact:
        return _core.score_decimal(s, q.tolist(), t, k.tolist(), u, digits)
    return _core.score(s, q, t, k, u)


# ------------------------------------------------------------------------ contracts ----

_DTYPES = ("f32", "f64", "f16", "bf16")


@dataclasses.dataclass(frozen=True)
class Contract:
    """A kernel's accuracy contract: what ropecheck derives every bound from
    (impl/ropecheck_kernel.h, rc_accuracy; README "Accuracy contract").  Pick a preset with
    ropecheck.contract(name), change fields with dataclasses.replace or contract(name, **fields)."""

    in_dtype: str
    out_dtype: str
    max_position: int
    angle_recipe: str
    angle_dtype: str
    position_dtype: str
    sincos_dtype: str
    compute_dtype: str
    output_rounding: str
    angle_unit_roundoff: float
    theta_rel_error: float
    angle_product_error: float
    reduced_angle_abs_error: float
    sincos_ulp: float
    attention_rel_error: float
    theta_rel_error_per_pair: float = 0.0
    cache: str = "none"
    cache_dtype: str = "f32"
    qk: bool = True  # also calls with q and k together (GQA/MQA shapes); False: q-only calls
    inverse: bool = False  # also inverse calls (rotate by -t): fn gets inverse=
    rotary_offset: bool = False  # also calls with rope on a slice of the head (MLA): fn gets rotary_offset=
    seq_len: bool = False  # also calls with a sequence length of their own (dynamic, longrope): fn gets seq_len=
    negative_positions: bool = False  # positions down to -max_position (N-D RoPE's centred grids)
    position_dtypes: str = "i64"  # the index dtypes positions come in: "i64", "i32" or "i32,i64"
    description: str = ""
    preset: str = ""  # the preset it came from unchanged ("" once a field was changed)

    def fields(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("preset")
        return d

    def replace(self, **changes) -> "Contract":
        return dataclasses.replace(self, preset="", **changes)


def presets() -> Dict[str, Contract]:
    """Every named contract: hf_fp32, fp64, position_exact_f32, bf16, f16, and
    cache:<convention>:<dtype> for kernels reading a cos/sin cache (conventions cos_sin_halves
    (vLLM), full_width (HF cat(c, c)), repeat_interleaved; dtypes f32, bf16, f16)."""
    return {name: Contract(preset=name, **fields) for name, fields in _core.presets().items()}


def contract(name_or_contract: Union[str, Contract, dict] = "hf_fp32", **fields) -> Contract:
    """A contract by preset name (see presets()), optionally with fields changed; a Contract or
    a dict of every field is taken as is."""
    if isinstance(name_or_contract, Contract):
        c = name_or_contract
    elif isinstance(name_or_contract, dict):
        fields_ = dataclasses.fields(Contract)
        unknown = sorted(set(name_or_contract) - {f.name for f in fields_})
        # The fields with no default (the later ones have defaults: older repro lines lack them).
        missing = [f.name for f in fields_ if f.default is dataclasses.MISSING and f.name not in name_or_contract]
        if unknown or missing:
            shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
            raise ValueError("a contract dict must hold every required field of ropecheck.Contract ("
                             + "; ".join(([f"missing {shown}"] if missing else []) + ([f"unknown {', '.join(unknown)}"] if unknown else []))
                             + "); to change a few fields of a preset: contract(\"hf_fp32\", field=value, ...)")
        c = Contract(**name_or_contract)
    else:
        table = presets()
        if name_or_contract not in table:
            raise ValueError(f"unknown contract preset {name_or_contract!r}; known: {', '.join(table)}")
        c = table[name_or_contract]
    unknown = set(fields) - {f.name for f in dataclasses.fields(Contract)}
    if unknown:
        raise TypeError(f"unknown contract field(s): {', '.join(sorted(unknown))}")
    return c.replace(**fields) if fields else c


def bound(s, c, positions: Iterable[int], *, norm: float = 1.0) -> np.ndarray:
    """The per-pair bound the judge uses: the largest |y - y_exact| (Euclidean, over the pair)
    allowed at each position for each pair of input norm `norm`, as [len(positions), pairs]."""
    pos = np.atleast_1d(_positions(positions)).ravel().tolist()
    return _core.bound(spec(s), contract(c).fields(), pos, float(norm))


def properties() -> List[str]:
    """The property catalogue's ids, in order."""
    return [p for p, _ in _core.properties()]
