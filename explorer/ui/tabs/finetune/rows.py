"""Plots side by side over one legend strip: plots that share their series share their key.

One legend under two or three plots takes a third of the room of one legend each, never covers data,
and exporting the row writes the plots with their key into one SVG. The wrapping of the legend's
entries is :class:`~explorer.ui.widgets.legended.LegendedPlot`'s own.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.ui.widgets.legended import LegendedPlot, StripLegend
from explorer.ui.widgets.plots import Styled, new_plot

PlotSpec = tuple[str, str, str, dict[str, Any]]  # title, x label, y label, new_plot options


class PlotRow(pg.GraphicsLayout):
    """``new_plot`` for each spec in row 0, and one frameless legend spanning them in row 1."""

    fit_legend = LegendedPlot.fit_legend  # as many entries a line as the row's width holds

    def __init__(self, styled: Styled, specs: list[PlotSpec], *, columns: int = 6) -> None:
        super().__init__()
        self.max_columns = columns
        self.layout.setContentsMargins(0, 0, 0, 0)
        self.layout.setSpacing(0)
        self.plots = [new_plot(styled, title, x, y, legend=None, **opts) for title, x, y, opts in specs]
        for col, plot in enumerate(self.plots):
            self.addItem(plot, row=0, col=col)
        self.legend = styled.styled_legend(StripLegend(colCount=1, frame=False))
        self.legend.setMinimumWidth(0)
        self.addItem(self.legend, row=1, col=0, colspan=len(self.plots))
        self.layout.setAlignment(self.legend, QtCore.Qt.AlignmentFlag.AlignHCenter)
        self.layout.setRowStretchFactor(0, 1)
        self.layout.setRowStretchFactor(1, 0)

    def key(self, item: pg.GraphicsObject, name: str) -> None:
        """An entry in the shared legend (the item itself may live in any of the plots, or none)."""
        self.legend.addItem(item, name)
        self.fit_legend()

    def sizeHint(self, which: QtCore.Qt.SizeHint, constraint: QtCore.QSizeF | None = None) -> QtCore.QSizeF:
        """Preferred = minimum, so the outer layout's stretch factors alone share the room (as LegendedPlot)."""
        if which == QtCore.Qt.SizeHint.PreferredSize:
            which = QtCore.Qt.SizeHint.MinimumSize
        return super().sizeHint(which, QtCore.QSizeF() if constraint is None else constraint)

    def resizeEvent(self, event: QtWidgets.QGraphicsSceneResizeEvent) -> None:
        super().resizeEvent(event)
        with contextlib.suppress(RuntimeError):  # a closing window resizes cells whose labels are gone
            self.fit_legend(event.newSize().width())
