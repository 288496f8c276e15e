"""Focus one plot: a double-click gives a plot the whole tab, Esc (or another double-click) puts it back;
and the axes a Reset gives back.

On a projector a 300-pixel plot is a smudge; a lecturer who wants the audience to read one curve
double-clicks it. The plot item itself moves into a full-tab view on top of the page and back into
the same cell of its layout afterwards, so it keeps updating while it is enlarged (the run goes on),
and an export while it is focused is of that plot alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui.widgets.legended import LegendedPlot


@dataclass
class _Home:
    """Where a focused plot came from: its layout and the cells it spanned."""

    layout: pg.GraphicsLayout
    row: int
    col: int
    rowspan: int
    colspan: int


def focusable(item: QtWidgets.QGraphicsItem | None) -> pg.GraphicsWidget | None:
    """The plot a click on ``item`` means: the nearest PlotItem above it, or the LegendedPlot around that
    PlotItem (the legend goes with its plot); None outside any plot."""
    while item is not None and not isinstance(item, pg.PlotItem):
        item = item.parentItem()
    if item is None:
        return None
    parent = item.parentItem()
    return parent if isinstance(parent, LegendedPlot) else item


class PlotFocus(QtCore.QObject):
    """Double-click focus for every plot of ``tab`` (a widget holding GraphicsLayoutWidgets)."""

    sig_changed = QtCore.pyqtSignal(bool)  # focused or not

    def __init__(self, tab: QtWidgets.QWidget) -> None:
        super().__init__(tab)
        self.tab = tab
        self.view = pg.GraphicsLayoutWidget(parent=tab)
        self.view.setToolTip("Esc or a double-click: back to the whole tab")
        self.view.hide()
        self.plot: pg.GraphicsWidget | None = None
        self._home: _Home | None = None
        self._hooked: set[int] = set()
        shortcut = QtGui.QShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_Escape), tab)
        shortcut.setContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.restore)
        tab.installEventFilter(self)
        self.view.installEventFilter(self)  # Esc while the enlarged plot has the keyboard (no window shortcut needed)
        self.hook()

    def hook(self) -> None:
        """Watch every plot view of the tab for double-clicks (call again after adding views)."""
        for widget in [*self.tab.findChildren(pg.GraphicsView), self.view]:
            if id(widget) not in self._hooked:
                self._hooked.add(id(widget))
                widget.viewport().installEventFilter(self)

    @property
    def active(self) -> bool:
        return self.plot is not None

    def focus(self, plot: pg.GraphicsWidget) -> bool:
        """Give ``plot`` the whole tab; False if it is not in a layout it can return to."""
        if self.plot is not None:
            self.restore()
        layout = plot.parentItem()
        if not isinstance(layout, pg.GraphicsLayout) or plot not in layout.items:
            return False
        cells = layout.items[plot]
        rows, cols = [r for r, _ in cells], [c for _, c in cells]
        self._home = _Home(layout, min(rows), min(cols), max(rows) - min(rows) + 1, max(cols) - min(cols) + 1)
        layout.removeItem(plot)
        self.view.ci.addItem(plot, row=0, col=0)
        self.plot = plot
        self.view.setBackground(self._background(layout))
        self.view.setGeometry(self.tab.rect())
        self.view.show()
        self.view.resizeEvent(None)  # the scene takes the view's size now, not at the next resize
        self.view.ci.layout.activate()
        self.view.raise_()
        self.view.setFocus()
        self.sig_changed.emit(True)
        return True

    def restore(self) -> None:
        """Put the focused plot back into its cell."""
        if self.plot is None or self._home is None:
            return
        plot, home = self.plot, self._home
        self.plot, self._home = None, None
        self.view.ci.removeItem(plot)
        home.layout.addItem(plot, row=home.row, col=home.col, rowspan=home.rowspan, colspan=home.colspan)
        self.view.hide()
        self.sig_changed.emit(False)

    def _on_double_click(self, viewport: QtWidgets.QWidget, position: QtCore.QPointF) -> bool:
        """Focus the plot under ``position`` or, when one is focused, put it back; True if handled."""
        if self.plot is not None:
            self.restore()
            return True
        view = viewport.parentWidget()
        if not isinstance(view, pg.GraphicsView) or view.scene() is None:
            return False
        for item in view.scene().items(view.mapToScene(position.toPoint())):
            plot = focusable(item)
            if plot is not None:
                return self.focus(plot)
        return False

    @staticmethod
    def _background(layout: pg.GraphicsLayout) -> QtGui.QBrush:
        views = layout.scene().views() if layout.scene() is not None else []
        return views[0].backgroundBrush() if views else QtGui.QBrush()

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.view and event.type() == QtCore.QEvent.Type.KeyPress:
            if isinstance(event, QtGui.QKeyEvent) and event.key() == QtCore.Qt.Key.Key_Escape and self.active:
                self.restore()
                return True
            return False
        if watched is self.tab:
            if event.type() == QtCore.QEvent.Type.Resize and self.view.isVisible():
                self.view.setGeometry(self.tab.rect())
                self.view.resizeEvent(None)
            return False
        if (
            event.type() == QtCore.QEvent.Type.MouseButtonDblClick
            and isinstance(event, QtGui.QMouseEvent)
            and event.button() == QtCore.Qt.MouseButton.LeftButton
            and isinstance(watched, QtWidgets.QWidget)
        ):
            return self._on_double_click(watched, event.position())
        return False


class AutoRanges:
    """What Reset gives back after a pan or zoom: each plot the user moved, and that followed its data when the
    tab was built, follows it again. Plots the tab ranges itself (fixed axes, ranges set while drawing) are
    left to the tab: only a move by the user (mouse wheel, drag) marks a plot."""

    def __init__(self, tab: QtWidgets.QWidget) -> None:
        boxes = {
            id(item): item
            for view in tab.findChildren(pg.GraphicsView)
            if view.scene() is not None
            for item in view.scene().items()
            if isinstance(item, pg.ViewBox)
        }
        self.initial = [(box, list(box.state["autoRange"])) for box in boxes.values()]
        self.moved: set[int] = set()
        for box in boxes.values():
            box.sigRangeChangedManually.connect(lambda _mask, box=box: self.moved.add(id(box)))

    def restore(self) -> None:
        for box, fractions in self.initial:
            if id(box) not in self.moved:
                continue
            for axis, fraction in zip((pg.ViewBox.XAxis, pg.ViewBox.YAxis), fractions, strict=True):
                if fraction is not False:  # an axis the tab fixed is left as it is
                    box.enableAutoRange(axis=axis, enable=fraction)
        self.moved.clear()
