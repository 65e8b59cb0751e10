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


def _rotate_rows_in_place(x2d, positions_per_row, base=10000.0):
    d = x2d.shape[-1]
    inv = 1.0 / base ** (np.arange(0, d, 2, dtype=np.float64) / d)
    ang = positions_per_row[:, None].astype(np.float64) * inv[None, :]
    c, s = np.cos(ang), np.sin(ang)
    x1, x2 = x2d[:, : d // 2].copy(), x2d[:, d // 2:].copy()
    with np.errstate(invalid="ignore", over="ignore"):
        x2d[:, : d // 2] = x1 * c - x2 * s
        x2d[:, d // 2:] = x2 * c + x1 * s


def in_place_through_reshape(positions, q, k):
    """fp64, in place, but through q.reshape: a copy when the heads are strided (a packed qkv
    view), so the rotation is lost there -- correct on contiguous tensors only."""
    for x in (q, k):
        if x is None:
            continue
        flat = x.reshape(-1, x.shape[-1])  # a view only when x is contiguous
        _rotate_rows_in_place(flat, np.repeat(positions, x.shape[1]))
    return None
