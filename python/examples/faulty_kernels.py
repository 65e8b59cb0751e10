"""Kernels that misbehave, for the fault tests (module-level: isolate=True pickles them by name)."""
import os
import time

import numpy as np


def raises(positions, q, k):
    raise RuntimeError("kernel exploded on purpose")


def hangs(positions, q, k):
    time.sleep(3600)


def wrong_dtype(positions, q, k):
    return q.astype(np.float64), (None if k is None else k.astype(np.float64))


def wrong_shape(positions, q, k):
    return q[:, :, :-2].copy(), (None if k is None else k.copy())


def aborts(positions, q, k):
    os.abort()
