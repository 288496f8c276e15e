"""A plot with its own legend in a strip underneath, as one layout cell.

Inside the plot a legend must hide some data whatever corner it takes, and a figure-wide legend
strip leaves each plot's SVG without its key. A :class:`LegendedPlot` keeps the two together: the
legend never covers data, and exporting the cell writes title, axis labels, data and legend at once.
The legend wraps its entries onto as many lines as the cell's width needs (presentation fonts too).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.ui.widgets.plots import Styled, new_plot

_SAMPLE = 20 + 2 * 5 + 6  # an entry's line sample, the spacing either side, and the layout's gap


class StripLegend(pg.LegendItem):
    """A legend that lives in a layout cell: it asks the layout for room instead of resizing itself at
    (0, 0) of its parent, which is what pyqtgraph's free-floating legend does after every change."""

    def updateSize(self) -> None:
        self.updateGeometry()


class LegendedPlot(pg.GraphicsLayout):
    """``new_plot`` in row 0 and a frameless legend of at most ``columns`` entries per line in row 1."""

    def __init__(self, styled: Styled, title: str, x_label: str, y_label: str, *, columns: int = 4,
                 **plot_options: Any) -> None:  # fmt: skip
        super().__init__()
        self.max_columns = columns
        self.layout.setContentsMargins(0, 0, 0, 0)
        self.layout.setSpacing(0)
        self.plot = new_plot(styled, title, x_label, y_label, legend=None, **plot_options)
        # one column to start with: a wide legend would claim a width the layout then never takes back
        self.legend = styled.styled_legend(StripLegend(colCount=1, frame=False))
        self.legend.setMinimumWidth(0)  # its lines wrap (fit_legend): let the cell be as narrow as the plot needs
        self.addItem(self.plot, row=0, col=0)
        self.addItem(self.legend, row=1, col=0)
        self.layout.setAlignment(self.legend, QtCore.Qt.AlignmentFlag.AlignHCenter)
        self.layout.setRowStretchFactor(0, 1)
        self.layout.setRowStretchFactor(1, 0)

    def add(self, item: pg.GraphicsObject, name: str | None = None) -> pg.GraphicsObject:
        """Add ``item`` to the plot and, when named, to the legend."""
        self.plot.addItem(item)
        if name is not None:
            self.legend.addItem(item, name)
            self.fit_legend()
        return item

    def rename(self, item: pg.GraphicsObject, name: str) -> None:
        """Change an entry's text (only when it differs: text layout is the costly part of a redraw)."""
        for sample, label in self.legend.items:
            if sample.item is item and label.text != name:
                label.setText(name)
                self.fit_legend()

    def sizeHint(self, which: QtCore.Qt.SizeHint, constraint: QtCore.QSizeF | None = None) -> QtCore.QSizeF:
        """Preferred = minimum: the room beyond it is shared by the layout's stretch factors alone, not by
        whichever cell happens to have the longest title or axis label."""
        if which == QtCore.Qt.SizeHint.PreferredSize:
            which = QtCore.Qt.SizeHint.MinimumSize
        return super().sizeHint(which, QtCore.QSizeF() if constraint is None else constraint)

    def resizeEvent(self, event: QtWidgets.QGraphicsSceneResizeEvent) -> None:
        super().resizeEvent(event)
        with contextlib.suppress(RuntimeError):  # a window being torn down resizes cells whose labels are gone
            self.fit_legend(event.newSize().width())

    def fit_legend(self, width: float | None = None) -> None:
        """As many entries per line as fit in ``width`` (the cell's width by default), at least one."""
        legend = getattr(self, "legend", None)
        if legend is None:  # a resize while the cell is being built
            return
        width = self.geometry().width() if width is None else width
        entries = [_SAMPLE + label.minimumWidth() for _, label in legend.items]
        if not entries or width <= 0:
            return
        columns = 1
        for c in range(2, min(self.max_columns, len(entries)) + 1):
            if max(sum(entries[i : i + c]) for i in range(0, len(entries), c)) <= width - 8:
                columns = c
        if columns != legend.columnCount:
            legend.setColumnCount(columns)
