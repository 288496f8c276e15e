"""Plots that keep a readable size: the page scrolls (or the figure reflows) before a plot shrinks.

pyqtgraph lays a figure out inside its view whatever the view's height: a figure of six plots in a
500-pixel view gets six 40-pixel plots. :class:`FigureFloor` gives the data area of every plot in a
view a minimum size (:data:`MIN_DATA`, logical pixels) and makes the view ask the widget layout for
the height its figure then needs, so a page too short for it scrolls instead (the page's scroll area
does that). Only the height is asked for: a figure too wide for the page must reflow (fewer columns),
which :class:`FlowGrid` does for the figures that need it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

#: the smallest data area (a plot's ViewBox) a figure may give a plot, in logical pixels
MIN_DATA = QtCore.QSize(160, 110)


def plots_in(item: QtWidgets.QGraphicsItem) -> list[pg.PlotItem]:
    """The plots laid out in ``item`` (a figure's layout), at any depth; colour bars are not plots."""
    if isinstance(item, pg.PlotItem):
        return [] if isinstance(item, pg.ColorBarItem) else [item]
    if isinstance(item, pg.GraphicsLayout):
        return [plot for child in list(item.items) for plot in plots_in(child)]
    return []


def ask_for_room(plot: pg.PlotItem, width: float = 0, height: float = 0) -> None:
    """A data area at least ``width`` x ``height`` for ``plot`` (text drawn inside it, say), on top of the
    floor every plot gets; the figure's :class:`FigureFloor` applies it at its next layout."""
    plot.vb.setProperty("least_size", (float(width), float(height)))
    plot.vb.updateGeometry()


def _least(plot: pg.PlotItem) -> tuple[float, float]:
    """The size the plot's data area needs: the floor, what the tab asked for, and room for the longest
    word of each axis label along its axis (a word does not wrap)."""
    asked = plot.vb.property("least_size") or (0.0, 0.0)
    width, height = max(MIN_DATA.width(), asked[0]), max(MIN_DATA.height(), asked[1])
    for side in ("left", "right", "bottom", "top"):
        axis = plot.getAxis(side)
        word = getattr(axis, "longest_word", None)
        if word is None or not axis.isVisible() or not axis.label.isVisible():
            continue
        if side in ("left", "right"):
            height = max(height, word())
        else:
            width = max(width, word())
    return width, height


def floor_plots(root: QtWidgets.QGraphicsItem) -> None:
    """Give the data area of each plot laid out in ``root`` the size it needs (see :func:`_least`)."""
    for plot in plots_in(root):
        box = plot.vb
        width, height = _least(plot)
        if (box.minimumWidth(), box.minimumHeight()) != (width, height):
            box.setMinimumSize(width, height)


class FigureFloor(QtCore.QObject):
    """Keeps ``view``'s minimum height at what its figure needs with every data area at :data:`MIN_DATA`.

    A hidden view (a page of a stack not shown) asks for nothing: a stack is as tall as its tallest page.
    """

    def __init__(self, view: pg.GraphicsLayoutWidget) -> None:
        super().__init__(view)
        self.view = view
        floor_plots(view.ci)
        view.ci.installEventFilter(self)
        view.installEventFilter(self)
        self._window: QtWidgets.QWidget | None = None
        self.update()

    def needed_height(self) -> int:
        """The figure's minimum height, with every plot's data area at its floor."""
        floor_plots(self.view.ci)
        hint = self.view.ci.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize)
        return int(hint.height() + 0.999) + 2 * self.view.frameWidth()

    def update(self) -> None:
        view = self.view
        if view.window() is not self._window:  # the page went into a window: know when it closes
            self._window = view.window()
            self._window.installEventFilter(self)
        if not view.window().isVisible():
            return  # a window closing (or not yet shown): nothing to lay out
        floor_plots(view.ci)  # a hidden view's too: its plots' floors follow the fonts as a shown one's do
        height = self.needed_height() if view.isVisible() else 0
        if view.minimumHeight() != height:
            view.setMinimumHeight(height)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind, types = event.type(), QtCore.QEvent.Type
        if (watched is self.view.ci and kind == types.LayoutRequest) or (watched is self.view and kind == types.Show):
            self.update()
        elif watched is self._window and kind == types.Close:
            # the plots' own minimum again: a window torn down with plots held to a floor resizes them
            # while pyqtgraph's views are half gone (an error printed at exit)
            for plot in plots_in(self.view.ci):
                plot.vb.setMinimumSize(0, 0)
        elif watched is self.view and kind == types.Hide:
            QtCore.QTimer.singleShot(0, self.update)  # not while its window is torn down: it is gone by then
        return False


def floor_figures(root: QtWidgets.QWidget, skip: Sequence[QtWidgets.QWidget] = ()) -> list[FigureFloor]:
    """A :class:`FigureFloor` for every figure (GraphicsLayoutWidget) under ``root``, except ``skip``."""
    return [
        FigureFloor(view)
        for view in root.findChildren(pg.GraphicsLayoutWidget)
        if not any(view is other for other in skip)
    ]


@dataclass(frozen=True)
class Cell:
    """One plot (or legended plot, or a layout of plots) of a :class:`FlowGrid`: its share of the spare
    width and height, and how many columns it spans (at most as many as there are)."""

    item: QtWidgets.QGraphicsWidget
    stretch: int = 1
    row_stretch: int = 1
    span: int = 1


Placement = list[tuple[Cell, int, int, int]]  # (cell, row, column, columns spanned)


class FlowGrid(QtCore.QObject):
    """Cells of a figure in as many columns as the view's width holds at their minimum widths.

    The cells go row by row into a grid in the first cell of ``host`` (a layout of ``view``'s figure), in
    the first of ``choices`` column counts, most first, whose columns fit; a narrower window or larger
    fonts move cells to a new row instead of squeezing them, and the page scrolls if the rows are then
    too tall (see :class:`FigureFloor`). ``footer`` (a legend, say) spans the row under the cells;
    ``on_place(columns)`` lets the tab adjust what depends on the arrangement (which plot shows its row
    axis). Each arrangement is a new grid: a grid keeps the spacing of rows and columns it once had.
    """

    def __init__(
        self,
        view: pg.GraphicsView,
        host: pg.GraphicsLayout,
        cells: Sequence[Cell],
        choices: Sequence[int],
        *,
        footer: QtWidgets.QGraphicsWidget | None = None,
        on_place: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(view)
        self.view, self.host, self.cells = view, host, list(cells)
        # one column is always the last resort: a page narrowed by the side panel on a projector stacks
        # the cells (and scrolls) rather than cutting them at the right
        self.choices = sorted({*choices, 1}, reverse=True)
        self.footer, self.on_place = footer, on_place
        self.columns = 0
        self.grid: pg.GraphicsLayout | None = None
        for item in self._items():
            if item in host.items:
                host.removeItem(item)
        self.place(self.choices[0])
        view.installEventFilter(self)
        host.installEventFilter(self)

    def _items(self) -> list[QtWidgets.QGraphicsWidget]:
        return [cell.item for cell in self.cells] + ([self.footer] if self.footer is not None else [])

    def placement(self, columns: int) -> Placement:
        """Row by row, a cell that does not fit in what is left of a row starting the next one."""
        placed: Placement = []
        row = col = 0
        for cell in self.cells:
            span = min(cell.span, columns)
            if col + span > columns:
                row, col = row + 1, 0
            placed.append((cell, row, col, span))
            col += span
            if col >= columns:
                row, col = row + 1, 0
        return placed

    def _margins(self) -> float:
        """Margins of the host's layout and of every layout around it, left and right."""
        total, item = 0.0, self.host
        while isinstance(item, pg.GraphicsLayout):
            left, _, right, _ = item.layout.getContentsMargins()
            total += left + right
            item = item.parentItem()
        return total + 2 * self.view.frameWidth() + 1

    def needed_width(self, columns: int) -> float:
        """The view width ``columns`` columns need, every cell at its minimum width (the rows share the
        columns: a column is as wide as its widest cell; a spanning cell widens its columns evenly)."""
        placed = self.placement(columns)
        used = max(col + span for _, _, col, span in placed)
        gap = self.grid.layout.horizontalSpacing() if self.grid is not None else 0.0
        widths = [0.0] * used
        minimum = {id(cell): cell.item.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).width() for cell in self.cells}
        for cell, _, col, span in sorted(placed, key=lambda p: p[3]):  # single cells first
            have = sum(widths[col : col + span]) + gap * (span - 1)
            if minimum[id(cell)] > have:
                for c in range(col, col + span):
                    widths[c] += (minimum[id(cell)] - have) / span
        return sum(widths) + gap * (used - 1) + self._margins()

    def choose(self, width: float) -> int:
        return next((n for n in self.choices if self.needed_width(n) <= width), self.choices[-1])

    def reflow(self) -> None:
        """Re-place the cells if another column count fits the view's width now."""
        if any(item.parentItem() is not self.grid for item in self._items()):
            return  # a plot is away (focused: it has the whole tab): it comes back to the cell it left
        columns = self.choose(self.view.width())
        if columns != self.columns:
            self.place(columns)

    def place(self, columns: int) -> None:
        old, grid = self.grid, pg.GraphicsLayout()
        grid.layout.setContentsMargins(0, 0, 0, 0)
        if old is not None:
            for item in self._items():
                if item in old.items:
                    old.removeItem(item)
        placed = self.placement(columns)
        for cell, row, col, span in placed:
            grid.addItem(cell.item, row=row, col=col, colspan=span)
        rows = max(row for _, row, _, _ in placed) + 1
        if self.footer is not None:
            grid.addItem(self.footer, row=rows, col=0, colspan=columns)
        for col in range(columns):
            stretches = [cell.stretch for cell, _, c, span in placed if c == col and span == 1]
            grid.layout.setColumnStretchFactor(col, max(stretches, default=1))
        for row in range(rows):
            grid.layout.setRowStretchFactor(row, max(cell.row_stretch for cell, r, _, _ in placed if r == row))
        if old is not None:
            self.host.removeItem(old)
        self.host.addItem(grid, row=0, col=0)
        self.grid, self.columns = grid, columns
        if self.on_place is not None:
            self.on_place(columns)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        kind = event.type()
        if (watched is self.view and kind == QtCore.QEvent.Type.Resize) or (
            watched is self.host and kind == QtCore.QEvent.Type.LayoutRequest  # new fonts, new minimum widths
        ):
            self.reflow()
        return False
