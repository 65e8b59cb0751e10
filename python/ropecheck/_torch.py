"""ropecheck.torch_kernel: a torch function judged through the numpy calling convention.

    kernel = ropecheck.torch_kernel(fn, device="cpu")
    fn(positions, q, k, **kw) -> (q, k) | q | None      (torch tensors on `device`)

positions is an int64 tensor, q and k tensors of the contract's dtype (torch.float32,
torch.bfloat16, ...) on `device`, a cos/sin cache a tensor on `device` too (on the CPU a
zero-copy view of ropecheck's cache: do not write to it; on another device a copy of the rows
up to the largest position of the call).  Results are copied back to the CPU and checked for
shape and dtype.  A TorchKernel pickles by its function's name (isolate=True needs a
module-level function).
"""
from __future__ import annotations

import warnings

import numpy as np

_TORCH_DTYPES = {"f32": "float32", "f64": "float64", "f16": "float16", "bf16": "bfloat16"}


class TorchKernel:
    def __init__(self, fn, device="cpu", dtype=None, contract=None):
        self.fn = fn
        self.device = str(device)
        self.dtype = dtype  # None: the contract's in_dtype
        self.contract = contract
        self.__qualname__ = getattr(fn, "__qualname__", type(fn).__name__)
        self.__module__ = getattr(fn, "__module__", None)
        # The contract's dtype names and the device, looked up once, not per call.
        self.in_name = contract.in_dtype if contract is not None else "f32"
        self.out_name = contract.out_dtype if contract is not None else self.in_name
        self.cache_name = contract.cache_dtype if contract is not None else "f32"
        self.on_cpu = self.device.split(":")[0] == "cpu"

    def bind(self, contract) -> "TorchKernel":
        """This kernel under `contract` (ropecheck.check and repro bind it before any call).  A
        dtype other than the contract's in_dtype is the caller's error, raised here, not a fault
        of the kernel."""
        if self.dtype is not None and self.dtype != self._torch_dtype(contract.in_dtype):
            raise TypeError(f"torch_kernel(dtype={self.dtype}) but the contract's in_dtype is {contract.in_dtype}: "
                            f"choose a contract of that dtype")
        return TorchKernel(self.fn, self.device, self.dtype, contract)

    def __reduce__(self):
        return (TorchKernel, (self.fn, self.device, self.dtype, self.contract))

    def _torch_dtype(self, name):
        import torch

        return getattr(torch, _TORCH_DTYPES[name])

    def _to_torch(self, a, name):
        import torch

        if a is None:
            return None
        if name == "bf16":
            t = torch.from_numpy(np.ascontiguousarray(a).view(np.int16)).view(torch.bfloat16)
        else:
            t = torch.from_numpy(a) if a.flags.writeable else self._from_read_only(a)
        return t if self.on_cpu else t.to(self.device)

    @staticmethod
    def _from_read_only(a):
        import torch

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # read-only cache views: torch warns, the kernel must not write
            return torch.from_numpy(a)

    def _to_numpy(self, t, name, what):
        import torch

        if t is None:
            return None
        if not isinstance(t, torch.Tensor):
            return t  # the checker names what it got
        want = self._torch_dtype(name)
        if t.dtype != want:
            raise TypeError(f"the torch kernel returned {what} of dtype {t.dtype} and shape {tuple(t.shape)}; "
                            f"expected dtype {want} (the contract's out_dtype {name})")
        t = t.detach() if t.device.type == "cpu" else t.detach().to("cpu")
        if name == "bf16":
            t = t.contiguous()
            return t.view(torch.int16).numpy().view(np.uint16)
        return t.numpy()

    def __call__(self, positions, q, k, **kw):
        import torch

        in_name, out_name = self.in_name, self.out_name
        tkw = {}
        for key, v in kw.items():
            if key in ("cos_sin_cache", "cos", "sin") and v is not None:
                if not self.on_cpu:
                    v = v[: int(positions.max()) + 1] if len(positions) else v[:0]
                tkw[key] = self._to_torch(v, self.cache_name)
            else:
                tkw[key] = v
        tq, tk = self._to_torch(q, in_name), self._to_torch(k, in_name)
        tpos = torch.from_numpy(positions)
        if not self.on_cpu:
            tpos = tpos.to(self.device)
        out = self.fn(tpos, tq, tk, **tkw)
        if out is None:
            out = (tq, tk)
        elif not isinstance(out, tuple):
            out = (out, None)
        if len(out) != 2:
            return out  # the checker says what is wrong
        return (self._to_numpy(out[0], out_name, "q"), self._to_numpy(out[1], out_name, "k"))


def torch_kernel(fn, device="cpu", dtype=None) -> TorchKernel:
    """Wraps a torch RoPE function for ropecheck.check: arrays become tensors on `device` (of
    `dtype`, by default the contract's in_dtype) and the results come back as numpy.

    A device this torch cannot use (a misspelled name, "cuda" without CUDA) is a ValueError
    here: it is not the kernel's fault, and would otherwise fail every call as a crash."""
    import torch

    try:
        torch.empty(0, device=torch.device(device))
    except (RuntimeError, AssertionError, TypeError) as e:  # torch raises all three for devices
        raise ValueError(f"torch_kernel(device={device!r}): this torch cannot use that device: {e}") from None
    return TorchKernel(fn, device, dtype)
