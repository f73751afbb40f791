"""Float array alias and the safe elementwise helpers every stats module shares."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]


def as_floats(values: npt.ArrayLike) -> FloatArray:
    """Return `values` as a float64 array (0-d for a scalar), copying only when needed."""
    return np.asarray(values, dtype=np.float64)


def safe_divide(numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> FloatArray:
    """Elementwise numerator / denominator, with 0 where the denominator is 0."""
    num = as_floats(numerator)
    den = as_floats(denominator)
    shape = np.broadcast_shapes(num.shape, den.shape)
    out = np.zeros(shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def safe_sqrt(values: npt.ArrayLike) -> FloatArray:
    """Elementwise square root, with 0 where the value is not positive."""
    vals = as_floats(values)
    return np.sqrt(np.where(vals > 0, vals, 0.0))
