"""python -m ropecheck repro [--contract NAME|JSON] --kernel MODULE:FUNCTION [--torch-device D] FILE

Replays a counterexample saved by ropecheck.check on the Python kernel MODULE:FUNCTION (the line
check() prints); exit codes as `ropecheck repro`: 0 passes now, 1 violation reproduces, 3 crash,
2 bad usage or not applicable (a file that cannot be read or is not a counterexample, a kernel
that cannot be imported, an unknown contract: one line on stderr, never a traceback)."""
import argparse
import json
import sys

from ._plugin import resolve

EPILOG = """exit codes: 0 the case passes now; 1 the violation reproduces; 3 the kernel crashed (an
exception, a hang, a wrong result type; its traceback is printed); 2 bad usage: the file cannot be
read or is not a counterexample, the kernel cannot be imported, the contract is unknown, or the
case does not fit the contract (as `ropecheck repro`)."""


def _bad_usage(what: str) -> int:
    print(f"python -m ropecheck repro: error: {what}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    import ropecheck

    p = argparse.ArgumentParser(prog="python -m ropecheck")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("repro", help="replay a saved counterexample on a Python kernel", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("file", help="the counterexample (.json) that check() saved and named in its repro line")
    r.add_argument("--kernel", required=True, help="MODULE:FUNCTION of the kernel (importable from here)")
    r.add_argument("--contract", default="hf_fp32", help="a preset name or the contract's fields as JSON "
                   "(default hf_fp32)")
    r.add_argument("--torch-device", default=None, help="wrap the function with ropecheck.torch_kernel on this device")
    r.add_argument("--name", default=None, help="(the kernel's name in the check; ignored here)")
    r.add_argument("--property", default=None, help="judge this property (default: the one the file names)")
    r.add_argument("--timeout", type=float, default=20, help="seconds a call may take before it is a hang (default 20)")
    r.add_argument("--isolate", action="store_true", help="call the kernel in a spawned worker process")
    a = p.parse_args(argv)
    sys.path.insert(0, "")
    try:
        fn = resolve(a.kernel)
    except Exception as e:  # the user's module: whatever its import raises, it was not loaded
        return _bad_usage(f"--kernel {a.kernel}: cannot load it: {type(e).__name__}: {e}")
    try:
        if a.torch_device and not isinstance(fn, ropecheck.TorchKernel):
            fn = ropecheck.torch_kernel(fn, device=a.torch_device)
    except ValueError as e:
        return _bad_usage(f"--torch-device: {e}")
    try:
        c = ropecheck.contract(json.loads(a.contract) if a.contract.lstrip().startswith("{") else a.contract)
    except (ValueError, TypeError, KeyError) as e:  # not JSON, an unknown preset or field, a bad value
        return _bad_usage(f"--contract {a.contract}: {e}")
    try:
        res = ropecheck.repro(a.file, fn, c, property=a.property, timeout=a.timeout, isolate=a.isolate)
    except OSError as e:
        return _bad_usage(f"{a.file}: cannot read the counterexample: {e.strerror or e}")
    except (ValueError, TypeError) as e:  # not a counterexample, or unfit for this contract
        return _bad_usage(f"{e}")
    print(res.report())
    if res.traceback:
        print(res.traceback)
    return res.exit_code


if __name__ == "__main__":
    sys.exit(main())
