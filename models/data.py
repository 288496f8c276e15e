"""Two-dimensional toy classification tasks, generated in-process from a seed.

Two interleaved spirals (Lang & Witbrock 1988) need a sharply curved decision boundary, which only a
network of some depth draws well; a checkerboard needs many axis-aligned pieces. Both draw from a
local ``numpy.random.Generator``, never the global random state, so a seed fixes a data set exactly.
"""

from __future__ import annotations

import numpy as np


def _halves(n_points: int) -> tuple[int, int]:
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2, got {n_points}")
    return n_points // 2, n_points - n_points // 2


def two_spirals(n_points: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two spirals of 1.5 turns each, points in roughly [-1, 1]^2, classes 0 and 1 (half each).

    Radius grows linearly with angle; ``sqrt`` of a uniform draw spreads points evenly along the arm
    instead of crowding them at the centre. ``noise`` is the std of Gaussian jitter added to x and y.
    Returns X float32 (n_points, 2) and y int64 (n_points,), in shuffled order.
    """
    rng = np.random.default_rng(seed)
    sizes = _halves(n_points)
    y = np.repeat(np.arange(2), sizes)  # (n,)
    t = np.sqrt(rng.uniform(0.02, 1.0, n_points))  # position along the arm, 0 = centre
    angle = 3.0 * np.pi * t + np.pi * y  # the second arm is the first turned by half a turn
    X = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)  # (n, 2)
    X += noise * rng.standard_normal(X.shape)
    order = rng.permutation(n_points)
    return X[order].astype(np.float32), y[order].astype(np.int64)


def checkerboard(n_points: int, noise: float, seed: int, cells: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points in [-1, 1]^2 labelled by the colour of a ``cells`` x ``cells`` checkerboard.

    Labels are taken before the Gaussian jitter of std ``noise`` is added, so noise blurs the squares'
    edges. Returns X float32 (n_points, 2) and y int64 (n_points,).
    """
    if cells < 1:
        raise ValueError(f"cells must be positive, got {cells}")
    _halves(n_points)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (n_points, 2))  # (n, 2)
    cell = np.minimum(np.floor((X + 1.0) / 2.0 * cells), cells - 1).astype(np.int64)  # (n, 2)
    y = (cell[:, 0] + cell[:, 1]) % 2
    X += noise * rng.standard_normal(X.shape)
    return X.astype(np.float32), y.astype(np.int64)
