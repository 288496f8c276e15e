"""One fixed width for the tick text of every plot's y axis, which the three views share."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PyQt6 import QtGui

from explorer.ui.theme import BASE_POINT_SIZE, Theme


def fix_axis_width(plot: pg.PlotItem, theme: Theme) -> None:
    """Room for "0.0001" (the widest plain log-axis label) on the y axis from the start: an axis that widens
    after its first paint re-lays out the figure while playing, and plots stacked in a column keep their
    y axes aligned."""
    font = QtGui.QFont()
    font.setPointSizeF(theme.point_size(BASE_POINT_SIZE - 1))
    metrics = QtGui.QFontMetricsF(font)
    plot.getAxis("left").setStyle(
        autoExpandTextSpace=False,
        tickTextWidth=math.ceil(metrics.horizontalAdvance("0.0001")),
    )
