"""ropecheck.check and ropecheck.repro: the gate campaign (`ropecheck check`'s, in C++) run on a
Python callable.

How a kernel is called (the numpy convention; ropecheck.torch_kernel adapts torch functions):

    fn(positions, q, k, **kw) -> (q_out, k_out) | q_out | None

  positions  int64 [n_tokens] (int32 on the calls that pass them so, when the contract's
             position_dtypes has i32); for a multi-axis spec (M-RoPE, N-D RoPE: spec.n_axes > 1)
             [n_axes, n_tokens], row a the tokens' positions on axis a (a text token has the
             same position on every axis); below 0 only when the contract declares
             negative_positions
  q          [n_tokens, n_q_heads, head_dim], the contract's in_dtype (bf16: uint16 bit patterns)
  k          [n_tokens, n_kv_heads, head_dim] or None (a q-only call); n_kv_heads divides n_q_heads
             q and k are writable views of the call's output buffers with the call's strides (a
             packed qkv view stays strided; the input is copied there first for an out-of-place
             call), valid during the call only; when in_dtype != out_dtype, contiguous copies
  kw         cos_sin_cache=[rows, rotary_dim] (contract cache cos_sin_halves), or cos=, sin=
             (full_width, repeat_interleaved): read-only, built from exact math;
             inverse=bool when the contract declares inverse; rotary_offset=int when it
             declares rotary_offset (rope on dims [rotary_offset, rotary_offset + rotary_dim) of
             each head, MLA's [nope | pe]; the other dims must come back unchanged);
             seq_len=int when it declares seq_len (the sequence length so far, for dynamic
             NTK's base and longrope's factors; 0 = the spec's); spec=ropecheck.Spec when fn
             takes a `spec` argument.
  returns    the rotated q and k (out_dtype, same shapes), or None when it rotated q and k in place.

Faults are findings of the kernel (crash class, exit code 3), never errors of ropecheck: an
exception (its traceback is in the finding), a call that does not return within `timeout`
seconds, a result of the wrong shape or dtype.  The timeout interrupts Python code (SIGALRM;
main thread only); a kernel stuck inside C code, or one that kills the process (a segfault,
os.abort()), needs isolate=True: every call then runs in a spawned worker process.
"""
from __future__ import annotations

import inspect
import numbers
import os
import re
import signal
import sys
import threading
import traceback
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from . import _core
from ._api import Contract, Spec, _specs, contract as _contract

_NP_DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "bf16": np.uint16}
PYTHON_REPRO = "/usr/bin/python3 -m ropecheck repro"
_THROWN = "apply threw a C++ exception through the C ABI: "


class Violation(AssertionError):
    """Raised by check(..., raise_on_failure=True) and the pytest fixture: the message holds the
    finding, the shrunk case and the repro line."""

    def __init__(self, result: "CheckResult"):
        super().__init__(result.report())
        self.result = result


class Refused(Exception):
    """A kernel raises Refused("why") to decline a call, as a C kernel returns RC_ERR_UNSUPPORTED
    with a reason.  The judge's rule holds as for any kernel: a call inside what the contract
    declares must be answered, so refusing one is a violation that quotes the reason."""


class _Timeout(BaseException):
    """Raised in the kernel by the alarm (a BaseException: `except Exception` in a kernel does
    not swallow it)."""


def _kernel_name(fn) -> str:
    inner = getattr(fn, "fn", fn)
    name = getattr(inner, "__qualname__", None) or type(inner).__name__
    # A kernel's name is at most 64 characters (the descriptor's rule): a long qualified name
    # keeps its end, the function's own name.
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name.replace(".<locals>.", "."))[-64:].lstrip(".") or "python_kernel"


def _target(fn) -> Optional[str]:
    """module:qualname when fn can be imported again by name (the repro line), else None."""
    mod = getattr(fn, "__module__", None)
    qual = getattr(fn, "__qualname__", None)
    if not mod or not qual or "<" in qual or mod == "__main__":
        return None
    return f"{mod}:{qual}"


def _accepts(fn, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class _Invoker:
    """Called by the C++ adapter for every kernel call: builds the arguments, calls fn (or the
    worker), checks what comes back.  Returns (q_out, k_out) or a string: the kernel's fault."""

    def __init__(self, fn, c: Contract, specs: Sequence[Spec], timeout: float, isolate: bool):
        self.fn = fn
        self.contract = c
        self.specs = list(specs)
        self.timeout = timeout
        self.in_dtype = _NP_DTYPES[c.in_dtype]
        self.out_dtype = _NP_DTYPES[c.out_dtype]
        self.pass_spec = _accepts(getattr(fn, "fn", fn), "spec")  # a TorchKernel: its function
        self.faults: List[str] = []  # every fault message, in order (tracebacks)
        self.calls = 0
        self.vectors = 0  # head vectors passed to the kernel (q's and k's heads over all tokens)
        self.worker = None
        if isolate:
            from ._worker import WorkerKernel

            self.worker = WorkerKernel(fn, timeout)
            self.worker.start()  # a set-up that cannot start one is an error now, not a crash of each call
        self.use_alarm = (not isolate and timeout > 0 and hasattr(signal, "setitimer")
                          and threading.current_thread() is threading.main_thread())

    def kwargs(self, spec, cos, sin, inverse, rotary_offset, seq_len):
        kw: Dict[str, Any] = {}
        if self.contract.cache == "cos_sin_halves":
            kw["cos_sin_cache"] = cos
        elif self.contract.cache != "none":
            kw["cos"], kw["sin"] = cos, sin
        if self.contract.inverse:
            kw["inverse"] = bool(inverse)
        if self.contract.rotary_offset:
            kw["rotary_offset"] = int(rotary_offset)
        if self.contract.seq_len:
            kw["seq_len"] = int(seq_len)
        if self.pass_spec:
            kw["spec"] = spec
        return kw

    def fault(self, text: str) -> str:
        self.faults.append(text)
        return text

    def __call__(self, spec, positions, q, k, cos, sin, inverse, rotary_offset, seq_len=0):
        self.calls += 1
        self.vectors += q.shape[0] * (q.shape[1] + (0 if k is None else k.shape[1]))
        kw = self.kwargs(spec, cos, sin, inverse, rotary_offset, seq_len)
        if self.worker is not None:
            status, value = self.worker.call(positions, q, k, kw)
            if status == "refused":
                return ("refused", 4, f"refused by the Python kernel: {value}")
            if status != "ok":
                return self.fault(value)
            result = value
        else:
            try:
                if self.use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, self.timeout)
                try:
                    result = self.fn(positions, q, k, **kw)
                finally:
                    if self.use_alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0)
            except _Timeout:
                return self.fault(f"the Python kernel did not return within {self.timeout:g} s (a hang, cut by "
                                  f"ropecheck's timeout; check(timeout=...))")
            except KeyboardInterrupt:
                raise
            except Refused as e:
                return ("refused", 4, f"refused by the Python kernel: {e}")
            except BaseException as e:  # SystemExit too: a kernel must return
                tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
                return self.fault(f"the Python kernel raised {type(e).__name__}: {e}\n{tb}")
        return self.checked(result, q, k)

    def checked(self, result, q, k):
        if result is None:  # rotated in place
            result = (q, k)
        elif k is None and not isinstance(result, tuple):
            result = (result, None)
        if not isinstance(result, tuple) or len(result) != 2:
            return self.fault(f"the Python kernel returned {type(result).__name__}; expected (q, k), q alone for a "
                              f"q-only call, or None after rotating in place")
        out = []
        for name, got, given in (("q", result[0], q), ("k", result[1], k)):
            if given is None:
                out.append(None)
                continue
            if got is None:
                return self.fault(f"the Python kernel returned no {name}; expected an array of shape "
                                  f"{tuple(given.shape)} and dtype {np.dtype(self.out_dtype).name}")
            arr = np.asarray(got) if not isinstance(got, np.ndarray) else got
            if arr.shape != given.shape or arr.dtype != np.dtype(self.out_dtype):
                return self.fault(f"the Python kernel returned {name} of shape {tuple(arr.shape)} and dtype "
                                  f"{arr.dtype.name}; expected shape {tuple(given.shape)} and dtype "
                                  f"{np.dtype(self.out_dtype).name} (the contract's out_dtype "
                                  f"{self.contract.out_dtype})")
            out.append(np.ascontiguousarray(arr))
        return tuple(out)

    def close(self):
        if self.worker is not None:
            self.worker.close()


class _Alarm:
    """SIGALRM raises _Timeout in the kernel while a check runs (restored afterwards)."""

    def __init__(self, active: bool):
        self.active = active
        self.old = None

    def __enter__(self):
        if self.active:
            def on_alarm(signum, frame):
                raise _Timeout()

            self.old = signal.signal(signal.SIGALRM, on_alarm)
        return self

    def __exit__(self, *exc):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.old)
        return False


class CheckResult:
    """What ropecheck.check found.

    passed        every property checked held, and something was checked
    verdict       "pass", "violation", "crash", "nothing checked", "internal error" or "output error"
    exit_code     as `ropecheck check` (0, 1, 3, 2, 4)
    table         property -> {"status": "pass"|"FAIL"|"CRASH"|"n/a", "checked", "worst_ratio", ...}
    failures      every failing property's shrunk counterexample (dicts: property, spec, reason,
                  detail, case (JSON), case_text)
    counterexample  the first of them (None on a pass)
    repro         the command that replays it (python -m ropecheck repro ...), "" if not saved
    repro_cli     the same through `ropecheck repro` (ROPECHECK_PYTHON_KERNEL=... ropecheck repro FILE)
    repro_file    the saved counterexample (the format `ropecheck repro` reads)
    traceback     the kernel's first fault (exception and traceback, hang, wrong shape), if any
    messages      the findings as `ropecheck check` prints them
    """

    def __init__(self, raw: dict, kernel: str, contract: Contract, specs, faults: List[str], repro_prefix: str):
        self.raw = raw
        self.kernel = kernel
        self.contract = contract
        self.specs = list(specs)
        self.exit_code = raw["exit_code"]
        self.table: Dict[str, dict] = dict(raw["table"])
        self.failures: List[dict] = list(raw["failures"])
        # The runner words a fault of the adapter as any C kernel's throw; for a Python kernel
        # the invoker's own words (exception and traceback, hang, wrong shape) say it.
        self.messages: List[str] = [m.replace(_THROWN, "") for m in raw["messages"]]
        self.seconds = raw["seconds"]
        self.traceback = faults[0] if faults else ""
        self.internal_errors = list(raw["internal_errors"])
        self.refusals = list(raw["refusals"])
        self.verdict = {0: "pass", 1: "violation", 3: "crash", 4: "internal error"}.get(self.exit_code, "")
        if self.exit_code == 2:
            self.verdict = "nothing checked" if raw["nothing_checked"] else "output error"
        self.passed = self.exit_code == 0
        self.counterexample = self.failures[0] if self.failures else None
        self.repro_file = ""
        self.repro = ""
        self.repro_cli = ""  # the same replay through `ropecheck repro` (the Python plugin)
        for p, cell in self.table.items():
            if cell["status"] in ("FAIL", "CRASH") and cell["repro_file"]:
                self.repro = cell["repro_file"]
                self.repro_file = cell["repro_file"][len(repro_prefix) + 1:]
                if self.counterexample is None or self.counterexample["property"] != p:
                    named = [f for f in self.failures if f["property"] == p]
                    if named:
                        self.counterexample = named[0]
                break

    @property
    def failed_properties(self) -> List[str]:
        return [p for p, c in self.table.items() if c["status"] in ("FAIL", "CRASH")]

    def table_text(self) -> str:
        width = max(len(p) for p in self.table) if self.table else 10
        lines = [f"{'property':<{width}}  result"]
        for p, c in self.table.items():
            s = c["status"]
            if s == "pass":
                s = f"pass {c['checked']}" + (f" r={c['worst_ratio']:.2g}" if c["worst_ratio"] > 0 else "")
            elif s == "n/a" and c["skip_reason"]:
                s = f"n/a ({c['skip_reason'][:70]})"
            lines.append(f"{p:<{width}}  {s}")
        return "\n".join(lines)

    def report(self) -> str:
        head = (f"ropecheck: {self.kernel} under contract {self.contract.preset or '(custom)'} on "
                f"{', '.join(_core.describe_spec(s) for s in self.specs)}: {self.verdict.upper()} "
                f"(exit code {self.exit_code}, {self.seconds:.1f} s)")
        parts = [head]
        parts += self.messages
        parts += [f"INTERNAL ERROR: {e}" for e in self.internal_errors]
        parts += [f"REFUSED: {r}" for r in self.refusals]
        if self.verdict == "nothing checked":
            parts.append("nothing was checked: the kernel refused every call (see the table's reasons)")
        parts.append(self.table_text())
        if self.repro:
            parts.append(f"reproduce: {self.repro}" + (f"\n       or: {self.repro_cli}" if self.repro_cli else ""))
        return "\n\n".join(parts)

    def __repr__(self):
        return f"<ropecheck.CheckResult {self.kernel}: {self.verdict}, {len(self.failed_properties)} failing>"

    def __bool__(self):
        return self.passed


def _contract_arg(c: Contract) -> str:
    if c.preset:
        return c.preset
    import json
    import shlex

    fields = c.fields()
    fields.pop("description")  # not needed to replay (and the line stays shorter)
    return shlex.quote(json.dumps(fields))


PLUGIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libropecheck_python_plugin.so")


def _kernel_words(fn, c: Contract, name: Optional[str]) -> Optional[str]:
    """'MODULE:FUNCTION --contract C [--torch-device D] [--name N]', None when fn has no importable name."""
    from ._torch import TorchKernel

    inner = fn.fn if isinstance(fn, TorchKernel) else fn
    target = _target(inner)
    if target is None:
        return None
    words = f"{target} --contract {_contract_arg(c)}"
    if isinstance(fn, TorchKernel):
        words += f" --torch-device {fn.device}"
    if name:
        words += f" --name {name}"
    return words


def _repro_prefix(fn, c: Contract, name: Optional[str]) -> str:
    words = _kernel_words(fn, c, name)
    if words is None:
        return f"{PYTHON_REPRO} --contract {_contract_arg(c)} --kernel MODULE:FUNCTION"
    target, _, rest = words.partition(" ")
    return f"{PYTHON_REPRO} --kernel {target} {rest}"


def _cli_repro(fn, c: Contract, name: Optional[str], path: str) -> str:
    """The `ropecheck repro` line: the saved file names the Python plugin, the variable the kernel."""
    import shlex

    words = _kernel_words(fn, c, name)
    if words is None or not path or not os.path.exists(PLUGIN):
        return ""
    return f"ROPECHECK_PYTHON_KERNEL={shlex.quote(words)} ropecheck repro {path}"


def _checked_number(name: str, value, lo: float, hi: float, integer: bool = False, shown: str = ""):
    """value if it is a number in [lo, hi] (an integer when asked), else a ValueError naming the
    argument: the same domains as `ropecheck check`'s options (a NaN or infinite budget would
    never end; a negative count would silently mean "use the budget")."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and integer:
        ok = isinstance(value, numbers.Integral) or float(value).is_integer()
    if not ok or not lo <= value <= hi:  # NaN fails the comparison
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name} must be {kind} in {shown or f'[{lo:g}, {hi:g}]'}, got {value!r}")
    return int(value) if integer else float(value)


def check(fn, spec, contract="hf_fp32", *, budget_seconds: float = 20, seed: int = 1,
          properties: Optional[Sequence[str]] = None, cases: Optional[int] = None, timeout: float = 20,
          isolate: bool = False, raise_on_failure: bool = False, out_dir: str = "ropecheck-failures",
          shrink_seconds: float = 10, many_tokens: bool = True, name: Optional[str] = None) -> CheckResult:
    """Judges `fn` (see the module doc for how it is called) as `ropecheck check` judges a C
    kernel: the edge-position sweep, the property catalogue, generated cases for budget_seconds
    (or `cases` per property), shrinking, counterexamples saved to out_dir.

    spec      a Spec, a list of them, ropecheck spec JSON (text, path, dict), or a HF config dict
    contract  a preset name (ropecheck.presets()) or a Contract
    timeout   seconds a single call may take before it is a hang (a finding); 0: no limit
    isolate   run every call in a spawned worker process (a crash of the process is a finding)

    As `ropecheck check`'s options: budget_seconds and shrink_seconds in [0, 86400], cases in
    [0, 1e8] (or None: the budget), seed in [0, 2^64 - 1], timeout in [0, 3600]; anything else
    (NaN, infinity, a negative count) is a ValueError.
    """
    from ._torch import TorchKernel

    budget_seconds = _checked_number("budget_seconds", budget_seconds, 0, 86400)
    shrink_seconds = _checked_number("shrink_seconds", shrink_seconds, 0, 86400)
    timeout = _checked_number("timeout", timeout, 0, 3600)
    seed = _checked_number("seed", seed, 0, 2**64 - 1, integer=True, shown="[0, 2^64 - 1]")
    if cases is not None:
        cases = _checked_number("cases", cases, 0, 100_000_000, integer=True, shown="[0, 100000000]")
    specs = _specs(spec)
    c = _contract(contract)
    if isinstance(fn, TorchKernel):
        fn = fn.bind(c)
    kname = name or _kernel_name(fn)
    # The saved counterexamples name the plugin that lets `ropecheck repro` call the kernel.
    origin = PLUGIN if os.path.exists(PLUGIN) else "python:" + (_target(getattr(fn, "fn", fn)) or kname)
    invoker = _Invoker(fn, c, specs, float(timeout), bool(isolate))
    prefix = _repro_prefix(fn, c, name)
    try:
        with _Alarm(invoker.use_alarm):
            raw = _core.run_check(invoker, c.fields(), kname, origin, specs, list(properties or []),
                                  float(budget_seconds), -1 if cases is None else int(cases), int(seed),
                                  os.fspath(out_dir), float(shrink_seconds), bool(many_tokens), prefix)
    finally:
        invoker.close()
    result = CheckResult(raw, kname, c, specs, invoker.faults, prefix)
    result.kernel_calls, result.kernel_vectors = invoker.calls, invoker.vectors
    result.repro_cli = _cli_repro(fn, c, name, result.repro_file)
    if raise_on_failure and not result.passed:
        raise Violation(result)
    return result


class ReproResult:
    """The replay of a saved counterexample: finding ("pass", "violation", "crash", "skip"),
    exit_code (as `ropecheck repro`), reason, detail, case_text."""

    def __init__(self, raw: dict, faults: List[str]):
        self.raw = raw
        self.finding = raw["finding"]
        self.exit_code = raw["exit_code"]
        self.property = raw["property"]
        self.reason = raw["reason"].replace(_THROWN, "")
        self.detail = raw["detail"]
        self.case_text = raw["case_text"]
        self.traceback = faults[0] if faults else ""
        self.reproduced = self.finding in ("violation", "crash")

    def report(self) -> str:
        verdict = {"violation": "REPRODUCED", "crash": "REPRODUCED (crash)", "pass": "PASSES",
                   "skip": "NOT APPLICABLE"}.get(self.finding, self.finding.upper())
        return f"{verdict}: {self.property} on {self.case_text}\n{self.reason}\n{self.detail}"

    def __repr__(self):
        return f"<ropecheck.ReproResult {self.property}: {self.finding}>"


def repro(path, fn, contract="hf_fp32", *, property: Optional[str] = None, timeout: float = 20,
          isolate: bool = False) -> ReproResult:
    """Replays a counterexample file saved by check() (or `ropecheck check`) on `fn`, judged by
    the exact reference alone, as `ropecheck repro` does."""
    from ._torch import TorchKernel

    timeout = _checked_number("timeout", timeout, 0, 3600)
    c = _contract(contract)
    if isinstance(fn, TorchKernel):
        fn = fn.bind(c)
    path = os.fspath(path)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    import json

    try:
        saved = json.loads(text)
    except ValueError as e:
        raise ValueError(f"{path} is not a ropecheck counterexample (JSON): {e}") from None
    if not isinstance(saved, dict):
        raise ValueError(f"{path} is not a ropecheck counterexample (JSON)")
    sp = _core.spec_from_json(json.dumps(saved["case"]["spec"])) if "spec" in saved.get("case", {}) else None
    invoker = _Invoker(fn, c, [sp] if sp is not None else [], float(timeout), bool(isolate))
    try:
        with _Alarm(invoker.use_alarm):
            raw = _core.run_repro(invoker, c.fields(), _kernel_name(fn), path, text, property or "")
    finally:
        invoker.close()
    return ReproResult(raw, invoker.faults)
