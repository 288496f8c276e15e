"""Words and numbers of the "Your model" tab: axis names for the user's loss, tick thinning, ratios."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: log10 of the lab's floor for a gradient norm that is exactly zero (``gradprobe.LOG_FLOOR`` = 1e-46):
#: below this mark a parameter got no gradient at all, and it does not stretch the colour scale
ZERO_MARK = -45.5
LOSS_FLOOR = 1e-12  # a log axis cannot show a loss of exactly 0
#: series keys (theme colours): the training run, and the file's validation()
TRAIN, VALIDATION = "training", "model_validation"


def loss_unit(loss_name: str) -> str:
    """The loss axis' label: cross-entropy is in nats; MSE in the targets' units squared; the file's own loss as is."""
    if loss_name == "cross-entropy":
        return "cross-entropy (nats)"
    if loss_name == "mean squared error":
        return "mean squared error (target units²)"
    return loss_name


def thinned_ticks(names: Sequence[str], most: int = 14) -> list[tuple[float, str]]:
    """Ticks for rows named ``names``, at most about ``most`` of them: the first and last always."""
    n = len(names)
    if n == 0:
        return []
    stride = max(1, math.ceil(n / most))
    keep = sorted({0, n - 1} | {i for i in range(0, n, stride) if n - 1 - i >= stride / 2})
    return [(float(i), names[i]) for i in keep]


def number(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else "—"


def ratio_words(ratio: float) -> str:
    """How a first/last gradient ratio reads: about even, or how many times smaller or larger at the input."""
    if not (math.isfinite(ratio) and ratio > 0):
        return "undefined"
    decades = math.log10(ratio)
    if abs(decades) <= 1:
        return "within a factor of 10"
    size = f"{10 ** abs(decades):.3g}×" if abs(decades) < 3 else f"{abs(decades):.0f} orders of magnitude"
    return f"{size} {'smaller' if decades < 0 else 'larger'} at the input side"


def nearest_index(values: np.ndarray, x: float) -> int | None:
    """Index of the value nearest ``x`` (a step), None for no values."""
    if len(values) == 0:
        return None
    return int(np.abs(np.asarray(values, dtype=float) - x).argmin())


def grow_decades(levels: tuple[float, float] | None, values: np.ndarray) -> tuple[float, float] | None:
    """Colour levels in whole decades that only grow: an axis whose ticks move every frame is costly."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return levels
    low, high = math.floor(float(finite.min())), math.ceil(float(finite.max()))
    high = max(high, low + 1)
    if levels is not None:
        low, high = min(low, levels[0]), max(high, levels[1])
    return float(low), float(high)


def axis_end(step: int, total: int) -> float:
    """Where a step axis ends at ``step``: the next of 10, 15, 20, 30, 40, 50, 60, 80, 100, … (no further than
    ``total``), so the axis moves a few times a decade, not every frame, and an export at step 300 fills it."""
    step = max(int(step), 1)
    end = next(m * 10**k for k in range(12) for m in (1, 1.5, 2, 3, 4, 5, 6, 8) if m * 10**k >= step)
    return float(min(end, total) if total >= step else end)
