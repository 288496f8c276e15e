"""Small habits of the residual tab's plot cells: a colour bar two panels share, the grid cell under
the cursor, titles that change only when their text does, colour-bar ticks with room from the start."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtGui

from explorer.ui.theme import Theme
from explorer.ui.widgets.plots import HeatmapPanel

KINDS = ("plain", "residual")  # the two families, and their series keys in the theme


def shared_bar(panel: HeatmapPanel, plot: pg.PlotItem) -> None:
    """Take ``panel``'s colour bar out of its plot: a neighbour's bar shows the same, shared scale.

    The bar stays alive (it gave the image its colour map); the image's levels are set beside the other's.
    """
    plot.layout.removeItem(panel.colorbar)
    panel.colorbar.hide()


def span_title(plot: pg.PlotItem) -> None:
    """Centre the title over the whole cell (axis and colour bar included), not over the view alone.

    pyqtgraph puts the title in the view's column, so a title wider than the view widens the view: in a
    row of square maps the one with the shortest title was left the smallest once fonts grew.
    """
    plot.layout.removeItem(plot.titleLabel)
    plot.layout.addItem(plot.titleLabel, 0, 0, 1, 6)


def bar_room(panel: HeatmapPanel, theme: Theme, widest: str) -> None:
    """Reserve the width of the ``widest`` tick text (pyqtgraph writes "-", not "−") beside a colour bar.

    A bar's axis sizes itself to its tick text only after a paint; an image exported right after a font
    change (presentation mode) would have its label over the ticks.
    """
    font = QtGui.QFont()
    font.setPointSizeF(theme.point_size(9))  # the theme's tick font
    room = QtGui.QFontMetrics(font).horizontalAdvance(widest) + 2
    panel.colorbar.axis.setStyle(autoExpandTextSpace=False, tickTextWidth=room)
    panel.colorbar.axis.enableAutoSIPrefix(False)  # the bar's label carries the unit


def show_cells(plot: pg.PlotItem, xs: np.ndarray, ys: np.ndarray) -> None:
    """Frame a heatmap's cells whole, edges included (an exported SVG does not clip to the axes)."""
    dx = (xs[1] - xs[0]) / 2 if len(xs) > 1 else 0.5
    dy = (ys[1] - ys[0]) / 2 if len(ys) > 1 else 0.5
    plot.setRange(xRange=(xs[0] - dx, xs[-1] + dx), yRange=(ys[0] - dy, ys[-1] + dy), padding=0)


def set_title(plot: pg.PlotItem, text: str) -> None:
    """A new title only when it changes: laying out title text is the costly part of a redraw."""
    if plot.titleLabel.text != text:
        plot.setTitle(text)


def nearest(axis: np.ndarray, value: float) -> int | None:
    """Index of the grid line nearest ``value``, or None beyond half a cell outside the grid."""
    if len(axis) == 0:
        return None
    half = 0.5 * (axis[1] - axis[0]) if len(axis) > 1 else 0.5
    if not axis[0] - half <= value <= axis[-1] + half:
        return None
    return int(np.abs(axis - value).argmin())
