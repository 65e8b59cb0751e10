"""python -m ropecheck repro [--contract NAME|JSON] --kernel MODULE:FUNCTION [--torch-device D] FILE

Replays a counterexample saved by ropecheck.check on the Python kernel MODULE:FUNCTION (the line
check() prints); exit codes as `ropecheck repro`: 0 passes now, 1 violation reproduces, 3 crash,
2 bad usage or not applicable."""
import argparse
import json
import sys

from ._plugin import resolve


def main(argv=None) -> int:
    import ropecheck

    p = argparse.ArgumentParser(prog="python -m ropecheck")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("repro", help="replay a saved counterexample on a Python kernel")
    r.add_argument("file")
    r.add_argument("--kernel", required=True, help="MODULE:FUNCTION of the kernel")
    r.add_argument("--contract", default="hf_fp32", help="a preset name or the contract's fields as JSON")
    r.add_argument("--torch-device", default=None, help="wrap the function with ropecheck.torch_kernel")
    r.add_argument("--name", default=None, help="(the kernel's name in the check; ignored here)")
    r.add_argument("--property", default=None)
    r.add_argument("--timeout", type=float, default=20)
    r.add_argument("--isolate", action="store_true")
    a = p.parse_args(argv)
    sys.path.insert(0, "")
    fn = resolve(a.kernel)
    if a.torch_device and not isinstance(fn, ropecheck.TorchKernel):
        fn = ropecheck.torch_kernel(fn, device=a.torch_device)
    c = json.loads(a.contract) if a.contract.lstrip().startswith("{") else a.contract
    res = ropecheck.repro(a.file, fn, ropecheck.contract(c), property=a.property, timeout=a.timeout, isolate=a.isolate)
    print(res.report())
    if res.traceback:
        print(res.traceback)
    return res.exit_code


if __name__ == "__main__":
    sys.exit(main())
