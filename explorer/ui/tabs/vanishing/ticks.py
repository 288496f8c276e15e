"""Tick labels for log axes that span anything from one decade to two hundred.

pyqtgraph labels every minor tick of a log axis that spans a decade or two, and the labels overlap;
these ticks are 1-2-5 steps over short spans and every n-th decade over long ones, at most ~8 in all.
"""

from __future__ import annotations

import math

import pyqtgraph as pg

SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _label(mantissa: int, exponent: int) -> str:
    if -3 <= exponent <= 3:
        return f"{mantissa * 10.0**exponent:g}"
    power = f"10{str(exponent).translate(SUPERSCRIPTS)}"
    return power if mantissa == 1 else f"{mantissa}·{power}"


def log_ticks(low: float, high: float, most: int = 8) -> list[list[tuple[float, str]]]:
    """Major ticks (view position = log10 value, label) for a log axis showing log10 range [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [[], []]
    span = high - low
    mantissas = (1, 2, 5) if span <= 2.5 else (1,)
    stride = next((s for s in (1, 2, 5, 10, 20, 25, 50, 100) if span / s <= most), 200)
    ticks = []
    for exponent in range(math.floor(low), math.ceil(high) + 1):
        if exponent % stride:
            continue
        for mantissa in mantissas:
            position = exponent + math.log10(mantissa)
            if low - 1e-9 <= position <= high + 1e-9:
                ticks.append((position, _label(mantissa, exponent)))
    return [ticks, []]


def follow_log_ticks(plot: pg.PlotItem, side: str) -> None:
    """Keep the ``side`` axis ("left" or "bottom") of a log plot labelled with :func:`log_ticks`."""
    axis = plot.getAxis(side)
    index = 1 if side in ("left", "right") else 0

    def update(*_: object) -> None:
        low, high = plot.vb.viewRange()[index]
        axis.setTicks(log_ticks(low, high))

    plot.vb.sigRangeChanged.connect(update)
    update()
