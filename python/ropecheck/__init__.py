"""ropecheck for Python kernels: the exact reference, contract-derived bounds and the gate
(`ropecheck check`'s judge, catalogue, edge-position sweep, generated cases and shrinking) for
any numpy or torch RoPE callable.

    import ropecheck
    spec = ropecheck.spec({"head_dim": 128, "rope_theta": 500000})
    result = ropecheck.check(ropecheck.torch_kernel(my_rope), spec, "hf_fp32")
    assert result.passed, result.report()

See ropecheck.check for how a kernel is called; README.md, "Python and pytest".
"""
from ._api import (Contract, Spec, SpecError, attention_factor, bound, contract, default_specs, frequencies,
                   presets, properties, rotate, score, spec, specs_from_hf_config)
from ._check import CheckResult, Refused, ReproResult, Violation, check, repro
from ._torch import TorchKernel, torch_kernel

__all__ = [
    "Contract", "Spec", "SpecError", "attention_factor", "bound", "contract", "default_specs", "frequencies",
    "presets", "properties", "rotate", "score", "spec", "specs_from_hf_config", "CheckResult", "ReproResult",
    "Refused", "Violation", "check", "repro", "TorchKernel", "torch_kernel",
]
