"""NumPy arrays to and from candor's packed Matrix, checked before sending."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

import numpy as np

from candor._proto import pb

#: The wire layout of every Matrix: little-endian float32, row-major.
WIRE_DTYPE = np.dtype("<f4")
_MAX_ROWS = 2**32 - 1


def to_matrix(
    x: Any,
    *,
    name: str = "vectors",
    dimension: Optional[int] = None,
) -> "pb.Matrix":
    """Packs a 2-D array of embeddings (one per row) into a Matrix.

    Accepts any real floating array (float32, float64, ...) in C or Fortran
    order; it is converted once, as a whole, to little-endian float32 in row
    order. Raises ValueError, before anything is sent, when the array is not
    2-D, has no rows or no columns, does not match ``dimension`` (when the
    gallery's dimension is known), or holds NaN or infinity.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D array (one embedding per row), got shape {arr.shape}"
            + (" (use x.reshape(1, -1) for a single embedding)" if arr.ndim == 1 else "")
        )
    rows, cols = arr.shape
    if rows == 0 or cols == 0:
        raise ValueError(f"{name}: empty array of shape {arr.shape}")
    if rows > _MAX_ROWS:
        raise ValueError(f"{name}: {rows} rows is more than a Matrix can hold")
    if dimension is not None and cols != dimension:
        raise ValueError(
            f"{name}: {cols} columns, but the gallery's dimension is {dimension}"
        )
    with np.errstate(over="ignore"):  # float64 beyond float32 range -> inf, caught below
        packed = np.ascontiguousarray(arr, dtype=WIRE_DTYPE)
    if not np.isfinite(packed).all():
        raise ValueError(f"{name}: holds NaN or infinite values")
    return pb.Matrix(rows=rows, cols=cols, data=packed.tobytes(order="C"))


def from_matrix(m: "pb.Matrix") -> np.ndarray:
    """Unpacks a Matrix into a (rows, cols) float32 array (a copy)."""
    expected = int(m.rows) * int(m.cols) * WIRE_DTYPE.itemsize
    if len(m.data) != expected:
        raise ValueError(
            f"Matrix of {m.rows} x {m.cols} holds {len(m.data)} bytes, expected {expected}"
        )
    out = np.frombuffer(m.data, dtype=WIRE_DTYPE).reshape(m.rows, m.cols)
    return out.astype(np.float32, copy=True)


def check_labels(
    values: Optional[Sequence[str]],
    rows: int,
    *,
    name: str,
    required: bool = False,
) -> List[str]:
    """Validates one label per row (or none, when not required)."""
    if values is None:
        if required:
            raise ValueError(f"{name}: required, one per row ({rows} rows)")
        return []
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{name}: expected a sequence of strings, got a single {type(values).__name__}")
    labels = [str(v) for v in values]
    if len(labels) != rows:
        raise ValueError(f"{name}: {len(labels)} values for {rows} rows")
    return labels


def ids_array(values: Sequence[int]) -> np.ndarray:
    """Entry ids as a uint64 array."""
    return np.fromiter(values, dtype=np.uint64, count=len(values))
