"""isolate=True: the kernel runs in a spawned worker process (multiprocessing's "spawn": a fresh
interpreter, safe with CUDA and threads).  Each call's arrays go over a pipe; a worker that dies
(a segfault in a C extension, os.abort(), exit) or does not answer within the timeout is a
finding of the kernel, and the next call starts a new worker.

The first worker starts with check(), before any call, and takes the kernel: a kernel that does
not pickle, or a worker that cannot start (a script calling check() at its top level without
`if __name__ == "__main__":` -- spawned workers import the main script), is an error then.

Limits: fn must pickle (a module-level function, or a TorchKernel of one); a call costs a
round trip through the pipe (arrays pickled); a cos/sin cache is sent as the rows the call's
positions read (the worker rebuilds a zero-filled cache around them).
"""
from __future__ import annotations

import multiprocessing
import signal
import traceback
from multiprocessing.reduction import ForkingPickler

import numpy as np

START_SECONDS = 120  # a fresh interpreter importing the kernel's module (torch takes seconds)


def _serve(conn):
    fn = conn.recv()
    conn.send("ready")  # the kernel unpickled: its module imports here
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        positions, q, k, kw, cache_rows = msg
        for key, (rows, idx, vals) in cache_rows.items():
            full = np.zeros((rows, vals.shape[1]), dtype=vals.dtype)  # calloc: untouched rows cost nothing
            full[idx] = vals
            full.flags.writeable = False
            kw[key] = full
        try:
            result = fn(positions, q, k, **kw)
            if result is None:
                result = (q, k)
            conn.send(("ok", result))
        except BaseException as e:
            if type(e).__name__ == "Refused" and type(e).__module__.startswith("ropecheck"):
                conn.send(("refused", str(e)))
                continue
            tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
            conn.send(("error", f"the Python kernel raised {type(e).__name__} (in the worker process): {e}\n{tb}"))


class WorkerKernel:
    def __init__(self, fn, timeout: float):
        # The kernel reaches its worker pickled: one that does not pickle (a lambda, a local
        # function) is the caller's error, said before any call, not a fault of every call.
        try:
            ForkingPickler.dumps(fn)
        except Exception as e:
            raise ValueError(f"isolate=True: the kernel must pickle to reach its worker process (a module-level "
                             f"function, or ropecheck.torch_kernel of one); {fn!r} does not: {e}") from None
        self.fn = fn
        self.timeout = timeout
        self.ctx = multiprocessing.get_context("spawn")
        self.proc = None
        self.conn = None

    def start(self):
        """Starts a worker and waits until it holds the kernel.  A worker that cannot is not the
        kernel's fault but the set-up's: a RuntimeError saying why (check() starts the first
        worker before any call, so it is raised from check())."""
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_serve, args=(child,), daemon=True)
        self.conn = parent
        try:
            self.proc.start()
            child.close()
            self.conn.send(self.fn)
            if not self.conn.poll(START_SECONDS):
                raise RuntimeError(f"isolate=True: the worker process did not take the kernel within {START_SECONDS} s "
                                   f"(importing the kernel's module hangs?)")
            self.conn.recv()
        except (EOFError, OSError):
            self.proc.join(timeout=5)
            code = self.proc.exitcode
            self._discard()
            raise RuntimeError(
                f"isolate=True: the worker process ended (exit status {code}) before it could take the kernel; its "
                f"error is above. Spawned workers import the main script: a script that calls ropecheck.check at its "
                f"top level must do so under `if __name__ == \"__main__\":`, and the kernel's module must import "
                f"in a fresh interpreter") from None
        except BaseException:
            self._discard()  # no worker half started: the next call starts afresh
            raise

    def _died(self) -> str:
        self.proc.join(timeout=5)
        code = self.proc.exitcode
        self._discard()
        if code is not None and code < 0:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = str(-code)
            return f"the kernel's worker process died of signal {sig} during the call (isolate=True)"
        return f"the kernel's worker process ended (exit status {code}) during the call; a kernel must return"

    def _discard(self):
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None

    def call(self, positions, q, k, kw):
        if self.proc is None:
            self.start()
        cache_rows = {}
        plain = {}
        for key, v in kw.items():
            if key in ("cos_sin_cache", "cos", "sin") and isinstance(v, np.ndarray):
                idx = np.unique(positions[(positions >= 0) & (positions < v.shape[0])])
                cache_rows[key] = (v.shape[0], idx, np.ascontiguousarray(v[idx]))
            else:
                plain[key] = v
        try:
            self.conn.send((positions, q, k, plain, cache_rows))
            if not self.conn.poll(self.timeout if self.timeout > 0 else None):
                self._discard()
                return "error", (f"the Python kernel did not return within {self.timeout:g} s (a hang; its worker "
                                 f"process was killed)")
            return self.conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
            return "error", self._died()
        except Exception as e:  # the answer did not unpickle
            return "error", f"the kernel's answer could not be read back from its worker: {e!r}"

    def close(self):
        if self.conn is not None:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self._discard()
