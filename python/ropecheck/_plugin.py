"""The Python side of libropecheck_python_plugin.so (python/src/plugin.cpp): the kernel named by
ROPECHECK_PYTHON_KERNEL='MODULE:FUNCTION [--contract C] [--torch-device D] [--name N]'."""
import argparse
import json
import shlex

from ._api import contract as _contract
from ._check import _Invoker, _kernel_name
from ._torch import TorchKernel, torch_kernel


def resolve(target: str):
    import importlib

    mod, _, attr = target.partition(":")
    if not mod or not attr:
        raise ValueError(f"the kernel must be MODULE:FUNCTION, got {target!r}")
    obj = importlib.import_module(mod)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def load(text: str):
    p = argparse.ArgumentParser(prog="ROPECHECK_PYTHON_KERNEL")
    p.add_argument("kernel")
    p.add_argument("--contract", default="hf_fp32")
    p.add_argument("--torch-device", default=None)
    p.add_argument("--name", default=None)
    a = p.parse_args(shlex.split(text))
    fn = resolve(a.kernel)
    if a.torch_device and not isinstance(fn, TorchKernel):
        fn = torch_kernel(fn, device=a.torch_device)
    c = _contract(json.loads(a.contract) if a.contract.lstrip().startswith("{") else a.contract)
    if isinstance(fn, TorchKernel):
        fn = fn.bind(c)
    # timeout 0: ropecheck's supervisor cuts a hang (the call runs in its child).
    invoker = _Invoker(fn, c, [], 0.0, False)
    return invoker, c.fields(), a.name or _kernel_name(fn)
