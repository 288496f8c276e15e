"""Small numerical helpers several topics share, in numpy alone (scipy costs ~0.15 s to import at start-up)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def xlogy(x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """``x * log(y)`` with 0 where x == 0 (so 0 log 0 = 0, as entropy needs), like ``scipy.special.xlogy``."""
    x_arr, y_arr = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        product = x_arr * np.log(y_arr)
    return np.where((x_arr == 0) & ~np.isnan(y_arr), 0.0, product)[()]
