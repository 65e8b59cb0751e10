"""Specs, the exact reference, contracts and bounds through the Python package."""
import math

import numpy as np
import pytest

import ropecheck


def test_spec_forms_agree():
    d = {"head_dim": 64, "rope_theta": 10000}
    a = ropecheck.spec(d)
    b = ropecheck.spec(a.to_json())
    assert (a.head_dim, a.rotary_dim, a.base, a.layout, a.rope_type) == (64, 64, 10000, "half_split", "default")
    assert b.to_json() == a.to_json()


def test_hf_config_gives_one_spec_per_layer_type(tmp_path):
    cfg = {"model_type": "gemma3_text", "head_dim": 256, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
           "num_attention_heads": 8, "hidden_size": 2048, "max_position_embeddings": 131072,
           "rope_scaling": {"rope_type": "linear", "factor": 8.0}, "sliding_window_pattern": 6,
           "layer_types": ["sliding_attention"] * 5 + ["full_attention"], "num_hidden_layers": 6}
    specs = ropecheck.specs_from_hf_config(cfg)
    assert len(specs) == 2
    assert {s.base for s in specs} == {10000.0, 1000000.0}
    path = tmp_path / "config.json"
    import json
    path.write_text(json.dumps(cfg))
    assert [s.to_json() for s in ropecheck.specs_from_hf_config(path)] == [s.to_json() for s in specs]


def test_hf_config_nope_layers_are_a_spec_of_rope_type_none():
    # SmolLM3's form: no_rope_layers without layer_types; layer 3 has no rope.
    cfg = {"_name_or_path": "smol", "head_dim": 16, "rope_theta": 10000.0, "num_hidden_layers": 4,
           "no_rope_layers": [1, 1, 1, 0], "max_position_embeddings": 4096}
    specs = ropecheck.specs_from_hf_config(cfg)
    assert [(s.name, s.rope_type) for s in specs] == [("smol", "default"), ("smol/nope", "none")]
    nope = specs[1]
    assert ropecheck.frequencies(nope).tolist() == [0.0] * 8
    assert ropecheck.attention_factor(nope) == 1.0
    x = np.linspace(-2.0, 2.0, 16)
    assert ropecheck.rotate(nope, x, 2**40 + 3).tolist() == x.tolist()  # the identity
    # The one-rope reader gives the rope, not the NoPE layers' identity.
    assert ropecheck.spec(cfg).rope_type == "default"


def test_bad_spec_names_the_field():
    with pytest.raises(ValueError, match="head_dim"):
        ropecheck.spec({"head_dim": 7, "rope_theta": 10000})


def test_yarn_attention_factor_and_frequencies():
    # design.md's check value: YaRN (d 128, b 1e4, L0 4096, s 16) has a = 1.2773.
    s = ropecheck.spec({"head_dim": 128, "rope_theta": 10000, "max_position_embeddings": 65536,
                        "rope_scaling": {"rope_type": "yarn", "factor": 16,
                                         "original_max_position_embeddings": 4096}})
    assert round(ropecheck.attention_factor(s), 4) == 1.2773
    f = ropecheck.frequencies(s)
    assert f.dtype == np.float64 and f.shape == (64,)
    exact = ropecheck.frequencies(s, exact=True)
    assert float(exact[5]) == f[5]


def test_rotation_and_score_identities():
    s = ropecheck.spec({"head_dim": 8, "rope_theta": 10000})
    rng = np.random.default_rng(1)
    q, k = rng.standard_normal(8), rng.standard_normal(8)
    # The score depends on t - s only, and equals the dot product of the rotated vectors.
    assert ropecheck.score(s, q, 5, k, 8) == pytest.approx(ropecheck.score(s, q, 15, k, 18), rel=1e-15)
    rq, rk = ropecheck.rotate(s, q, 5), ropecheck.rotate(s, k, 8)
    assert float(rq @ rk) == pytest.approx(ropecheck.score(s, q, 5, k, 8), rel=1e-13)
    assert ropecheck.rotate(s, q, 0).tolist() == q.tolist()
    assert np.linalg.norm(ropecheck.rotate(s, q, 2**40)) == pytest.approx(np.linalg.norm(q), rel=1e-15)
    batch = ropecheck.rotate(s, np.stack([q, k])[:, None, :], [5, 8])
    assert batch.shape == (2, 1, 8) and batch[1, 0].tolist() == rk.tolist()
    exact = ropecheck.rotate(s, q, 3, exact=True)
    assert [float(v) for v in exact] == pytest.approx(ropecheck.rotate(s, q, 3).tolist(), rel=1e-15, abs=0)


def test_presets_and_fields():
    p = ropecheck.presets()
    for name in ("hf_fp32", "fp64", "position_exact_f32", "bf16", "cache:cos_sin_halves:f32"):
        assert name in p
    c = ropecheck.contract("hf_fp32")
    assert c.in_dtype == "f32" and c.angle_recipe == "f32_invfreq_f32_product" or c.angle_dtype == "f32"
    wider = ropecheck.contract("hf_fp32", sincos_ulp=c.sincos_ulp * 4)
    assert wider.preset == "" and wider.sincos_ulp == 4 * c.sincos_ulp
    with pytest.raises(ValueError, match="unknown contract preset"):
        ropecheck.contract("fp128")
    with pytest.raises(TypeError, match="unknown contract field"):
        ropecheck.contract("hf_fp32", sin_ulp=1)
    # A dict holds every required field (as a repro line's JSON does; the fields with defaults may
    # be left out, as older lines do); a partial one says how to change a few.
    every = c.fields()
    assert ropecheck.contract(every).fields() == every
    assert ropecheck.contract(dict(every, preset="hf_fp32")).preset == "hf_fp32"
    required = {k: v for k, v in every.items() if k not in ("description", "qk", "position_dtypes")}
    assert ropecheck.contract(required).qk and ropecheck.contract(required).position_dtypes == "i64"
    with pytest.raises(ValueError, match=r"\(missing sincos_ulp\)"):
        ropecheck.contract({k: v for k, v in every.items() if k != "sincos_ulp"})
    with pytest.raises(ValueError, match=r"\(missing out_dtype, max_position, angle_recipe, angle_dtype and \d+ more\); "
                                         r"to change a few fields of a preset: contract\("):
        ropecheck.contract({"in_dtype": "f32"})
    with pytest.raises(ValueError, match=r"\(unknown sin_ulp\)"):
        ropecheck.contract(dict(every, sin_ulp=1))


def test_bound_grows_with_position_and_contract():
    s = ropecheck.spec({"head_dim": 64, "rope_theta": 10000})
    b = ropecheck.bound(s, "hf_fp32", [1, 2**10, 2**20])
    assert b.shape == (3, 32)
    assert (np.diff(b[:, 0]) > 0).all()  # the angle term grows with t
    assert (ropecheck.bound(s, "position_exact_f32", [2**20]) < b[2]).all()
    # A norm-2 pair may err twice as much (the floor aside).
    assert ropecheck.bound(s, "hf_fp32", [2**20], norm=2.0)[0, 0] == pytest.approx(2 * b[2, 0], rel=1e-6)
    assert math.isfinite(b.max())


@pytest.mark.parametrize("bad, words", [
    (1.5, "1.5 is not an integer position"),  # numpy's int64 cast would cut it to 1
    (float("nan"), "nan is not an integer position"),
    (2**63, "9223372036854775808 is beyond int64"),  # numpy: OverflowError
    (np.uint64(2**63), "9223372036854775808 is beyond int64"),
    ("7", "'7' is not an integer position"),
])
def test_a_position_that_is_not_an_int64_is_a_value_error_in_every_reference_call(bad, words):
    s = ropecheck.spec({"head_dim": 16, "rope_theta": 10000})
    x = np.ones(16)
    with pytest.raises(ValueError, match="^positions: " + words.replace("(", r"\(").replace(".", r"\.")):
        ropecheck.rotate(s, x, bad)
    with pytest.raises(ValueError, match="^positions: "):
        ropecheck.bound(s, "hf_fp32", [3, bad])
    with pytest.raises(ValueError, match="^t: "):
        ropecheck.score(s, x, bad, x, 0)
    # An integral float or numpy integer is a position, the same as the int.
    assert (ropecheck.rotate(s, x, 5.0) == ropecheck.rotate(s, x, np.int32(5))).all()
    assert (ropecheck.bound(s, "hf_fp32", [np.uint64(5)]) == ropecheck.bound(s, "hf_fp32", [5])).all()
