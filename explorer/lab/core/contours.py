"""Contour lines of a gridded field by marching squares, vectorised over all cells at once.

Each grid cell is classified by which of its four corners lie above the level (16 cases); the line
crosses the cell's edges where the field, linearly interpolated along the edge, equals the level.
The result is a flat list of segment end points, drawn in one call as disconnected pairs.
"""

from __future__ import annotations

import numpy as np

# Edges of a cell with corners c0 = (i, j), c1 = (i, j+1), c2 = (i+1, j+1), c3 = (i+1, j):
# e0 = c0-c1 (bottom), e1 = c1-c2 (right), e2 = c3-c2 (top), e3 = c0-c3 (left).
# For each case (bit k set when corner ck is above the level): the pairs of edges a segment joins.
_CASES: dict[int, tuple[tuple[int, int], ...]] = {
    1: ((3, 0),), 2: ((0, 1),), 3: ((3, 1),), 4: ((1, 2),), 5: ((3, 0), (1, 2)), 6: ((0, 2),),
    7: ((3, 2),), 8: ((2, 3),), 9: ((0, 2),), 10: ((0, 1), (2, 3)), 11: ((1, 2),), 12: ((1, 3),),
    13: ((0, 1),), 14: ((0, 3),),
}  # fmt: skip


def _crossing(a: np.ndarray, b: np.ndarray, level: float) -> np.ndarray:
    """Fraction t in [0, 1] along a -> b where the linear interpolant equals ``level``."""
    span = b - a
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(span != 0, (level - a) / span, 0.5)
    return np.clip(t, 0.0, 1.0)


def segments(field: np.ndarray, xs: np.ndarray, ys: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """End points of all contour segments, shape (2 * n_segments, 2), consecutive rows paired.

    ``field`` has shape (len(ys), len(xs)): row i lies at height ys[i].
    """
    z = np.asarray(field, dtype=float)
    c0, c1, c2, c3 = z[:-1, :-1], z[:-1, 1:], z[1:, 1:], z[1:, :-1]  # each (ny-1, nx-1)
    x0, x1 = xs[:-1][None, :], xs[1:][None, :]
    y0, y1 = ys[:-1][:, None], ys[1:][:, None]
    out: list[np.ndarray] = []
    for level in np.atleast_1d(levels):
        case = (c0 > level) * 1 + (c1 > level) * 2 + (c2 > level) * 4 + (c3 > level) * 8
        t0, t1 = _crossing(c0, c1, level), _crossing(c1, c2, level)
        t2, t3 = _crossing(c3, c2, level), _crossing(c0, c3, level)
        edge_x = (
            x0 + t0 * (x1 - x0),
            np.broadcast_to(x1, t1.shape),
            x0 + t2 * (x1 - x0),
            np.broadcast_to(x0, t3.shape),
        )
        edge_y = (
            np.broadcast_to(y0, t0.shape),
            y0 + t1 * (y1 - y0),
            np.broadcast_to(y1, t2.shape),
            y0 + t3 * (y1 - y0),
        )
        for code, pairs in _CASES.items():
            cells = case == code
            if not cells.any():
                continue
            for ea, eb in pairs:
                start = np.column_stack([edge_x[ea][cells], edge_y[ea][cells]])
                end = np.column_stack([edge_x[eb][cells], edge_y[eb][cells]])
                out.append(np.stack([start, end], axis=1).reshape(-1, 2))  # (2k, 2): start, end, ...
    return np.concatenate(out) if out else np.empty((0, 2))
