"""pytest plugin: the `ropecheck_gate` fixture.

    def test_my_rope(ropecheck_gate):
        ropecheck_gate(ropecheck.torch_kernel(my_rope), spec, "hf_fp32")

A failure fails the test with the finding, the shrunk case and the repro line (pytest's JUnit
XML carries the same text).  Options: --ropecheck-seed S, --ropecheck-budget SECONDS,
--ropecheck-out-dir DIR (counterexamples; default ropecheck-failures).  Loaded by the
`pytest11` entry point once the package is installed, or `pytest_plugins =
["ropecheck.pytest_plugin"]` in a conftest.py.
"""
import pytest


def pytest_addoption(parser):
    g = parser.getgroup("ropecheck")
    g.addoption("--ropecheck-seed", type=int, default=1, help="seed of ropecheck's generated cases (default 1)")
    g.addoption("--ropecheck-budget", type=float, default=20,
                help="seconds of generated cases per ropecheck_gate call (default 20; the edge sweep always runs)")
    g.addoption("--ropecheck-out-dir", default="ropecheck-failures", help="where counterexamples are saved")


@pytest.fixture
def ropecheck_gate(request):
    """gate(fn, spec, contract="hf_fp32", **check_kwargs) -> CheckResult; fails the test unless it passes."""
    import ropecheck

    cfg = request.config

    def gate(fn, spec, contract="hf_fp32", **kwargs):
        kwargs.setdefault("seed", cfg.getoption("--ropecheck-seed"))
        kwargs.setdefault("budget_seconds", cfg.getoption("--ropecheck-budget"))
        kwargs.setdefault("out_dir", cfg.getoption("--ropecheck-out-dir"))
        result = ropecheck.check(fn, spec, contract, **kwargs)
        if not result.passed:
            pytest.fail(result.report(), pytrace=False)
        return result

    return gate
