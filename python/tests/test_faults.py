"""A misbehaving kernel is a finding of the kernel (crash class, exit code 3), never an internal
error: an exception (with its traceback), a hang (timeout), a wrong shape or dtype, and with
isolate=True a process abort."""
import os
import subprocess
import sys

import pytest

import ropecheck
from examples import faulty_kernels as fk

SPEC = ropecheck.spec({"head_dim": 16, "rope_theta": 10000})
ONE = ["agreesWithExactReferenceWithinContract"]


def check(fn, tmp_path, **kw):
    kw.setdefault("properties", ONE)
    return ropecheck.check(fn, SPEC, "fp64", budget_seconds=0.5, out_dir=str(tmp_path), many_tokens=False, **kw)


def test_exception_is_a_crash_with_its_traceback(tmp_path):
    r = check(fk.raises, tmp_path)
    assert r.verdict == "crash" and r.exit_code == 3
    assert "RuntimeError: kernel exploded on purpose" in r.traceback
    assert "Traceback (most recent call last)" in r.traceback and "faulty_kernels.py" in r.traceback
    assert "kernel exploded on purpose" in r.report() and not r.internal_errors


def test_hang_is_cut_by_the_timeout(tmp_path):
    r = check(fk.hangs, tmp_path, timeout=1)
    assert r.verdict == "crash"
    assert "did not return within 1 s" in r.traceback


@pytest.mark.parametrize("fn, words", [
    (fk.wrong_dtype, "dtype float64;"),
    (fk.wrong_shape, ", 14) and dtype float32; expected shape ("),
])
def test_wrong_result_names_expected_and_actual(fn, words, tmp_path):
    r = ropecheck.check(fn, SPEC, "hf_fp32", budget_seconds=0.5, out_dir=str(tmp_path), many_tokens=False,
                        properties=ONE)
    assert r.verdict == "crash", r.report()
    assert "expected shape" in r.traceback and "returned q of shape" in r.traceback
    if fn is fk.wrong_shape:
        assert words in r.traceback
    else:
        assert "dtype float64; expected shape" in r.traceback and "dtype float32" in r.traceback


def test_isolated_abort_is_a_finding_and_the_interpreter_survives(tmp_path):
    r = check(fk.aborts, tmp_path, isolate=True)
    assert r.verdict == "crash"
    assert "SIGABRT" in r.traceback
    assert os.getpid() > 0  # still here


def test_isolated_hang_kills_the_worker(tmp_path):
    r = check(fk.hangs, tmp_path, isolate=True, timeout=1)
    assert r.verdict == "crash" and "worker process was killed" in r.traceback


def test_a_refusal_inside_the_declared_range_is_a_violation(tmp_path):
    # The judge's rule for every kernel: what the contract declares must be answered.
    def refuses(positions, q, k):
        raise ropecheck.Refused("not today")

    r = check(refuses, tmp_path)
    assert r.verdict == "violation"
    assert "refused a case inside its declared range" in r.report() and "not today" in r.report()


def test_strided_views_reach_the_kernel(tmp_path):
    # Tensors are views of the call's buffers with their strides: a kernel that is only right on
    # contiguous tensors (in place through a reshape copy) is caught on a padded call.
    ok = ropecheck.check(fk.in_place_through_reshape, SPEC, "fp64", budget_seconds=0.5, out_dir=str(tmp_path),
                         many_tokens=False, properties=["positionZeroIsIdentityTimesAttentionFactor"])
    assert ok.passed, ok.report()  # t = 0: nothing to lose
    r = ropecheck.check(fk.in_place_through_reshape, SPEC, "fp64", budget_seconds=1, out_dir=str(tmp_path),
                        many_tokens=False)
    assert r.verdict == "violation", r.report()
    assert "stridedEqualsContiguous" in r.failed_properties


# The caller's errors are not the kernel's faults: raised before any call, not reported as crashes.
@pytest.mark.parametrize("device, words", [("cdua", "cdua"), ("cuda", "CUDA")])
def test_a_device_torch_cannot_use_is_a_value_error_up_front(device, words):
    torch = pytest.importorskip("torch")
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this torch has CUDA")
    from examples import torch_ropes as tr

    with pytest.raises(ValueError, match=f"torch_kernel\\(device='{device}'\\).*{words}"):
        ropecheck.torch_kernel(tr.hf_rope, device=device)


def test_a_torch_dtype_other_than_the_contracts_is_a_type_error_up_front(tmp_path):
    torch = pytest.importorskip("torch")
    from examples import torch_ropes as tr

    calls = []

    def counted(positions, q, k, spec):
        calls.append(1)
        return tr.hf_rope(positions, q, k, spec)

    with pytest.raises(TypeError, match="in_dtype is f64"):
        check(ropecheck.torch_kernel(counted, dtype=torch.bfloat16), tmp_path)
    assert not calls
    # cpu:0 is the CPU (the tensors stay where they are) and the same dtype is accepted.
    r = ropecheck.check(ropecheck.torch_kernel(counted, device="cpu:0", dtype=torch.float32), SPEC, "hf_fp32",
                        budget_seconds=0.5, out_dir=str(tmp_path), many_tokens=False, properties=ONE)
    assert r.passed and calls


@pytest.mark.parametrize("kw, name", [
    (dict(budget_seconds=float("nan")), "budget_seconds"),  # would never end
    (dict(budget_seconds=float("inf")), "budget_seconds"),
    (dict(budget_seconds=-1), "budget_seconds"),
    (dict(shrink_seconds=float("nan")), "shrink_seconds"),
    (dict(cases=-5), "cases"),  # would silently mean "use the budget"
    (dict(cases=2.5), "cases"),
    (dict(seed=-1), "seed"),
    (dict(seed=2**64), "seed"),
    (dict(timeout=float("nan")), "timeout"),  # would silently mean "no timeout"
    (dict(timeout=-1), "timeout"),
])
def test_an_argument_outside_the_options_domain_is_a_value_error_before_any_call(kw, name, tmp_path):
    calls = []

    def kernel(positions, q, k):
        calls.append(1)
        return q, k

    kw = {"budget_seconds": 0.5, "properties": ONE, **kw}
    with pytest.raises(ValueError, match=f"^{name} must be an? (integer|number) in "):
        ropecheck.check(kernel, SPEC, "fp64", out_dir=str(tmp_path), many_tokens=False, **kw)
    assert not calls


def test_isolate_with_a_kernel_that_does_not_pickle_is_a_value_error_before_any_call(tmp_path):
    # It was a 20 s timeout on every other call: the worker took the first call for the kernel.
    with pytest.raises(ValueError, match=r"^isolate=True: the kernel must pickle .* Can't pickle local object"):
        check(lambda positions, q, k: (q, k), tmp_path, isolate=True)


def test_isolate_from_a_script_without_the_main_guard_is_an_error_saying_so(tmp_path):
    # Spawned workers import the main script; one that calls check() at its top level makes each
    # worker try to spawn its own while it starts, and die.  That is the script's set-up, not the
    # kernel's fault: an error from check(), naming the guard, instead of a crash per call.
    script = tmp_path / "unguarded.py"
    script.write_text("import ropecheck\nfrom examples import faulty_kernels as fk\n"
                      "ropecheck.check(fk.raises, ropecheck.spec({'head_dim': 16, 'rope_theta': 1e4}), 'fp64', "
                      f"budget_seconds=0.5, isolate=True, out_dir={str(tmp_path)!r}, many_tokens=False)\n"
                      "print('CHECKED')\n")
    examples = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.environ.get("PYTHONPATH", ""), examples]))
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=240)
    assert p.returncode != 0 and "CHECKED" not in p.stdout, p.stdout + p.stderr
    assert "RuntimeError: isolate=True: the worker process ended" in p.stderr, p.stderr
    assert 'under `if __name__ == "__main__":`' in p.stderr
