"""ropecheck.check on real torch kernels (python/examples/torch_ropes.py): the correct ones pass,
each broken twin fails naming the property, and its repro line replays the same verdict."""
import os
import shlex
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

import ropecheck
from examples import torch_ropes as tr

BUDGET = 1.0
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES_PARENT = os.path.join(ROOT, "python")
SPEC = {"head_dim": 64, "rope_theta": 10000}
CACHE = "cache:cos_sin_halves:f32"
# DeepSeek-V3's attention head: 128 nope dims, then 64 rope dims.
MLA_SPEC = {"head_dim": 192, "rope_theta": 10000, "partial_rotary_factor": 1 / 3}
MLA_CONTRACT = ropecheck.contract("hf_fp32", rotary_offset=True)
# Dynamic NTK with the sequence length per call.
DYNAMIC_SPEC = {"head_dim": 64, "rope_theta": 10000, "max_position_embeddings": 4096,
                "rope_scaling": {"type": "dynamic", "factor": 4}}
DYNAMIC_CONTRACT = ropecheck.contract("hf_fp32", seq_len=True)
# Qwen2-VL's text model (mrope_section [16, 24, 24], head_dim 128).
MROPE_SPEC = {"head_dim": 128, "rope_theta": 1000000, "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}}


def run(fn, contract, tmp_path, spec=SPEC, **kw):
    return ropecheck.check(ropecheck.torch_kernel(fn), ropecheck.spec(spec), contract, budget_seconds=BUDGET,
                           out_dir=str(tmp_path), **kw)


def test_hf_style_module_passes_under_the_hf_fp32_contract(tmp_path):
    r = run(tr.hf_rope, "hf_fp32", tmp_path)
    print(r.report())
    assert r.passed and r.verdict == "pass" and r.exit_code == 0
    assert r.table["agreesWithExactReferenceWithinContract"]["checked"] > 0
    assert r.counterexample is None and r.repro == ""


def test_every_property_gets_generated_cases_after_the_sweep(tmp_path):
    # The sweep of every property runs first, then the generated cases share what is left: the
    # agreement sweep's call of 65539 tokens (many_tokens) no longer uses up agreement's slice.
    r = ropecheck.check(ropecheck.torch_kernel(tr.hf_rope), ropecheck.spec(SPEC), "hf_fp32", budget_seconds=5,
                        out_dir=str(tmp_path))
    assert r.passed, r.report()
    applicable = {p: row for p, row in r.table.items() if row["checked"] > 0}
    assert "agreesWithExactReferenceWithinContract" in applicable
    assert all(row["generated"] > 0 for row in applicable.values()), applicable


def test_hf_style_module_fails_the_position_exact_contract_at_long_positions(tmp_path):
    r = run(tr.hf_rope, "position_exact_f32", tmp_path, properties=["agreesWithExactReferenceWithinContract"])
    print(r.report())
    assert r.verdict == "violation" and r.exit_code == 1
    assert r.failed_properties == ["agreesWithExactReferenceWithinContract"]
    # At t = 0 and 1 the fp32 angle t*inv_freq is inv_freq itself; the failure needs a position
    # where the fp32 product rounds (the smallest failing one found is printed, e.g. t = 17).
    case = __import__("json").loads(r.counterexample["case"])
    assert max(int(p) for p in case["positions"]) >= 2


def test_vllm_style_cache_kernel_passes_in_place_with_gqa(tmp_path):
    shapes = []

    def recorded(positions, q, k, cos_sin_cache):
        shapes.append((q.shape[1], None if k is None else k.shape[1]))
        return tr.vllm_rope(positions, q, k, cos_sin_cache)

    r = run(recorded, CACHE, tmp_path)
    print(r.report())
    assert r.passed
    # The judge called it with q and k together, fewer kv heads than q heads (GQA) and one (MQA).
    assert any(kv is not None and kv < hq for hq, kv in shapes)
    assert any(kv == 1 and hq > 1 for hq, kv in shapes)


def test_one_check_covers_every_layer_type_of_a_hf_config(tmp_path):
    cfg = {"model_type": "gemma3_text", "head_dim": 32, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
           "num_attention_heads": 4, "hidden_size": 128, "max_position_embeddings": 32768,
           "layer_types": ["sliding_attention", "full_attention"], "num_hidden_layers": 2}
    specs = ropecheck.specs_from_hf_config(cfg)
    seen = set()

    def kernel(positions, q, k, spec):
        seen.add(spec.base)
        return tr.hf_rope(positions, q, k, spec)

    r = ropecheck.check(ropecheck.torch_kernel(kernel), specs, "hf_fp32", budget_seconds=BUDGET,
                        out_dir=str(tmp_path), properties=["agreesWithExactReferenceWithinContract"])
    assert r.passed, r.report()
    assert seen == {10000.0, 1000000.0}


def test_mla_style_kernel_passes_with_rope_on_a_slice_of_the_head(tmp_path):
    offsets = set()

    def recorded(positions, q, k, spec, rotary_offset):
        offsets.add(rotary_offset)
        return tr.mla_rope(positions, q, k, spec, rotary_offset)

    r = run(recorded, MLA_CONTRACT, tmp_path, spec=MLA_SPEC)
    print(r.report())
    assert r.passed
    assert r.table["passThroughDimsAreBitIdentical"]["checked"] > 0
    # Called with the slice at the head's end (MLA's [nope | pe]) and elsewhere.
    assert 128 in offsets and len(offsets) > 1


def test_qwen2_vl_mrope_kernel_passes_with_positions_per_axis(tmp_path):
    shapes, distinct = set(), []

    def recorded(positions, q, k, spec):
        shapes.add(tuple(positions.shape[:1]) if positions.dim() == 2 else None)
        distinct.append(bool((positions[1] != positions[2]).any()))
        return tr.qwen2_vl_mrope(positions, q, k, spec)

    r = run(recorded, "hf_fp32", tmp_path, spec=MROPE_SPEC)
    print(r.report())
    assert r.passed
    assert r.table["agreesWithExactReferenceWithinContract"]["checked"] > 0
    assert shapes == {(3,)}  # [3, n_tokens] on every call
    assert any(distinct)     # image tokens, whose h and w differ, among them


def test_dynamic_ntk_kernel_follows_the_sequence_length_of_each_call(tmp_path):
    lengths = set()

    def recorded(positions, q, k, spec, seq_len):
        lengths.add(seq_len)
        return tr.hf_dynamic_rope(positions, q, k, spec, seq_len)

    r = run(recorded, DYNAMIC_CONTRACT, tmp_path, spec=DYNAMIC_SPEC)
    print(r.report())
    assert r.passed
    assert r.table["frequenciesFollowTheSequenceLength"]["checked"] > 0
    assert {4096, 4097} <= lengths  # both sides of max_position_embeddings


@pytest.mark.parametrize("spec", [
    {"head_dim": 64, "base": 10000, "axes_dims": [32, 32], "layout": "interleaved"},       # 2-D, per axis
    {"head_dim": 64, "base": 10000, "axes_dims": [32, 32], "axes_frequencies": "dealt"},  # Pixtral
    {"head_dim": 128, "base": 10000, "axes_dims": [16, 56, 56], "layout": "interleaved"},  # FLUX
])
def test_nd_rope_kernel_passes_with_centred_positions_in_int32_and_int64(spec, tmp_path):
    seen = set()

    def recorded(positions, q, k, spec):
        seen.add((str(positions.dtype), bool((positions < 0).any())))
        return tr.nd_rope(positions, q, k, spec)

    c = ropecheck.contract("hf_fp32", negative_positions=True, position_dtypes="i32,i64")
    r = run(recorded, c, tmp_path, spec=spec, cases=8)  # generated cases (the sweep passes int64 only)
    print(r.report())
    assert r.passed
    assert r.table["agreesWithExactReferenceWithinContract"]["checked"] > 0
    # Both index dtypes, and negative (centred) positions, reached the kernel.
    assert {d for d, _ in seen} == {"torch.int32", "torch.int64"}
    assert any(neg for _, neg in seen)


def test_position_dtypes_are_checked_like_a_plugin_descriptor(tmp_path):
    with pytest.raises(ValueError, match="position_dtypes"):
        run(tr.hf_rope, ropecheck.contract("hf_fp32", position_dtypes="i16"), tmp_path)
    # int32 alone cannot hold positions up to the contract's max_position (2^53).
    with pytest.raises(ValueError, match="int32 positions only"):
        run(tr.hf_rope, ropecheck.contract("hf_fp32", position_dtypes="i32"), tmp_path)


@pytest.mark.parametrize("fn, contract, prop, spec", [
    (tr.hf_rope_bf16_inv_freq, "hf_fp32", "agreesWithExactReferenceWithinContract", SPEC),
    (tr.hf_rope_interleaved, "hf_fp32", "agreesWithExactReferenceWithinContract", SPEC),
    (tr.hf_rope_skips_single_kv_head, "hf_fp32", "agreesWithExactReferenceWithinContract", SPEC),
    (tr.vllm_rope_swapped_halves, CACHE, "agreesWithExactReferenceWithinContract", SPEC),
    (tr.mla_rope_ignores_offset, MLA_CONTRACT, "agreesWithExactReferenceWithinContract", MLA_SPEC),
    (tr.qwen2_vl_mrope_h_w_swapped, "hf_fp32", "agreesWithExactReferenceWithinContract", MROPE_SPEC),
    (tr.hf_dynamic_rope_stale_cache, DYNAMIC_CONTRACT, "frequenciesFollowTheSequenceLength", DYNAMIC_SPEC),
])
def test_broken_twin_is_caught_and_its_repro_replays(fn, contract, prop, spec, tmp_path):
    r = run(fn, contract, tmp_path, spec=spec)
    print(r.report())
    assert r.verdict == "violation"
    assert prop in r.failed_properties
    assert r.counterexample["property"] == prop and r.counterexample["case_text"]
    assert r.repro_file and os.path.exists(r.repro_file)
    # ropecheck.repro replays it with the same verdict on the broken kernel ...
    again = ropecheck.repro(r.repro_file, ropecheck.torch_kernel(fn), contract)
    assert again.finding == "violation" and again.property == prop
    # ... and the repro line (python -m ropecheck repro ...) too, exit code 1 like `ropecheck repro`.
    env = dict(os.environ)
    line = shlex.split(r.repro)  # as a shell reads it (a custom contract is quoted JSON)
    assert line[:4] == ["/usr/bin/python3", "-m", "ropecheck", "repro"]
    p = subprocess.run([sys.executable] + line[1:], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "REPRODUCED" in p.stdout
    # ... and `ropecheck repro` (the C++ CLI, through the Python plugin the file names).
    cli = os.environ.get("ROPECHECK_CLI", os.path.join(ROOT, "build", "release", "cli", "ropecheck"))
    if not os.path.exists(cli):
        pytest.skip("the ropecheck CLI is not built")
    assert r.repro_cli.startswith("ROPECHECK_PYTHON_KERNEL=") and " ropecheck repro " in r.repro_cli
    env["PYTHONPATH"] = os.pathsep.join([EXAMPLES_PARENT, env.get("PYTHONPATH", "")])
    p = subprocess.run(r.repro_cli.replace(" ropecheck repro ", f" {cli} repro "), shell=True, capture_output=True,
                       text=True, env=env, timeout=180)
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"REPRODUCED: {r.kernel} violates {prop}" in p.stdout


@pytest.fixture(scope="module")
def saved_counterexample(tmp_path_factory):
    """A counterexample saved by check() (the bf16 inv_freq twin's), and a non-JSON file beside it."""
    d = tmp_path_factory.mktemp("saved")
    r = run(tr.hf_rope_bf16_inv_freq, "hf_fp32", d, properties=["agreesWithExactReferenceWithinContract"])
    assert r.repro_file
    (d / "not.json").write_text("nonsense")
    return r.repro_file


@pytest.mark.parametrize("args, words", [
    (["--kernel", "examples.numpy_only:numpy_rope", "{missing}"], "cannot read the counterexample: No such file"),
    (["--kernel", "examples.numpy_only:numpy_rope", "{not_json}"], "is not a ropecheck counterexample (JSON)"),
    (["--kernel", "examples.numpy_only:no_such_kernel", "{saved}"], "cannot load it: AttributeError"),
    (["--kernel", "no_such_module:f", "{saved}"], "cannot load it: ModuleNotFoundError"),
    (["--kernel", "examples.numpy_only:numpy_rope", "--contract", "no_such_preset", "{saved}"], "unknown contract preset"),
    (["--kernel", "examples.numpy_only:numpy_rope", "--contract", "{bad json", "{saved}"], "--contract {bad json: "),
    (["--kernel", "examples.numpy_only:numpy_rope", "--torch-device", "cdua", "{saved}"], "--torch-device: "),
    (["--kernel", "examples.numpy_only:numpy_rope", "--contract", "bf16", "{saved}"], "is not a value of the kernel's input"),
], ids=["missing-file", "not-json", "no-such-kernel", "no-such-module", "unknown-preset", "bad-contract-json",
        "bad-device", "case-unfit-for-contract"])
def test_python_repro_command_names_bad_usage_in_one_line_with_exit_2(args, words, saved_counterexample):
    # Exit 1 would read as "the violation reproduces": a usage error is 2, as `ropecheck repro`.
    # (A numpy kernel: each command starts in a fraction of a second; only --torch-device imports torch.)
    d = os.path.dirname(saved_counterexample)
    paths = {"missing": os.path.join(d, "missing.json"), "not_json": os.path.join(d, "not.json"),
             "saved": saved_counterexample}
    argv = [a.format(**paths) if a.startswith("{") and a[1:-1] in paths else a for a in args]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.environ.get("PYTHONPATH", ""), EXAMPLES_PARENT]))
    p = subprocess.run([sys.executable, "-m", "ropecheck", "repro"] + argv, capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stderr.startswith("python -m ropecheck repro: error: ") and words in p.stderr, p.stderr
    assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_repro_of_a_fixed_kernel_passes(tmp_path):
    r = run(tr.hf_rope_bf16_inv_freq, "hf_fp32", tmp_path)
    fixed = ropecheck.repro(r.repro_file, ropecheck.torch_kernel(tr.hf_rope), "hf_fp32")
    assert fixed.finding == "pass" and fixed.exit_code == 0


def test_raise_on_failure_raises_violation_with_the_shrunk_case(tmp_path):
    with pytest.raises(ropecheck.Violation) as e:
        run(tr.hf_rope_bf16_inv_freq, "hf_fp32", tmp_path, raise_on_failure=True,
            properties=["agreesWithExactReferenceWithinContract"])
    text = str(e.value)
    assert "agreesWithExactReferenceWithinContract" in text and "tokens=" in text and "reproduce:" in text


def test_bf16_tensors_round_trip_through_torch(tmp_path):
    c = ropecheck.contract("bf16", max_position=2**20)  # the float64 angle of bf16_rope is exact enough there
    r = run(tr.bf16_rope, c, tmp_path)
    print(r.report())
    assert r.passed
    assert r.table["agreesWithExactReferenceWithinContract"]["checked"] > 0
    # A bf16 kernel judged by the f32 contract returns the wrong dtype: named, as a crash.
    bad = run(tr.bf16_rope, "hf_fp32", tmp_path, properties=["agreesWithExactReferenceWithinContract"])
    assert bad.verdict == "crash" and "torch.bfloat16" in bad.traceback and "torch.float32" in bad.traceback


def _strided(t):
    """The same values with the token and head axes' strides swapped (a non-contiguous tensor)."""
    return None if t is None else t.transpose(0, 1).contiguous().transpose(0, 1)


@pytest.mark.parametrize("fn, contract", [(tr.hf_rope, "hf_fp32"), (tr.bf16_rope, ropecheck.contract("bf16", max_position=2**20))],
                         ids=["f32", "bf16"])
def test_non_contiguous_torch_results_are_read_by_their_strides(fn, contract, tmp_path):
    def strided_result(positions, q, k, spec):
        q_out, k_out = fn(positions, q, k, spec)
        assert not _strided(q_out).is_contiguous() or q_out.shape[0] == 1 or q_out.shape[1] == 1
        return _strided(q_out), _strided(k_out)

    r = run(strided_result, contract, tmp_path, properties=["agreesWithExactReferenceWithinContract"])
    print(r.report())
    assert r.passed and r.table["agreesWithExactReferenceWithinContract"]["checked"] > 0
