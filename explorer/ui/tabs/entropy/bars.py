"""Bars the mouse can drag, and the renormalisation that keeps a dragged distribution summing to 1."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui

from explorer.lab.entropy import information


class DraggableBars(pg.BarGraphItem):
    """Bars whose heights follow the mouse: press anywhere in a bar's column (even above a bar of
    height 0) and drag up or down; a click sets the height at once. The heights it reports are
    clipped to [0, ceiling]; what they mean (here: renormalising a distribution) is the owner's job.

    ``grab`` is the half-width of the column that picks a bar, so grouped bars can sit side by side.
    """

    sig_drag = QtCore.pyqtSignal(int, float, bool)  # bar index, height, finished

    def __init__(self, ceiling: float = 1.0, grab: float = 0.5) -> None:
        super().__init__(x=np.zeros(1), height=np.zeros(1), width=0.8)
        self.ceiling = ceiling
        self.grab = grab
        self._bar: int | None = None
        self.setCursor(QtCore.Qt.CursorShape.SizeVerCursor)

    def setOpts(self, **opts: Any) -> None:
        self.prepareGeometryChange()  # the grab area (shape) changes with the bars
        super().setOpts(**opts)

    def positions(self) -> np.ndarray:
        return np.atleast_1d(np.asarray(self.opts.get("x"), dtype=float))

    def column_at(self, x: float) -> int | None:
        """Index of the bar whose column (its x ± grab) contains ``x``, or None."""
        xs = self.positions()
        i = int(np.argmin(np.abs(xs - x)))
        return i if abs(xs[i] - x) <= self.grab else None

    def shape(self) -> QtGui.QPainterPath:
        path = QtGui.QPainterPath()
        for x in self.positions():
            path.addRect(QtCore.QRectF(x - self.grab, 0.0, 2 * self.grab, self.ceiling))
        return path

    def boundingRect(self) -> QtCore.QRectF:
        return super().boundingRect().united(self.shape().boundingRect())

    def _height(self, y: float) -> float:
        return float(min(max(y, 0.0), self.ceiling))

    def mouseDragEvent(self, ev: Any) -> None:
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._bar = self.column_at(ev.buttonDownPos().x())
        if self._bar is None:
            ev.ignore()
            return
        ev.accept()
        bar = self._bar
        if ev.isFinish():
            self._bar = None
        self.sig_drag.emit(bar, self._height(ev.pos().y()), bool(ev.isFinish()))

    def mouseClickEvent(self, ev: Any) -> None:
        bar = self.column_at(ev.pos().x())
        if ev.button() != QtCore.Qt.MouseButton.LeftButton or bar is None:
            ev.ignore()
            return
        ev.accept()
        self.sig_drag.emit(bar, self._height(ev.pos().y()), True)


def lift(p: np.ndarray, index: int, height: float) -> np.ndarray:
    """Weights with bar ``index`` at ``height`` and the others scaled to fill the rest, so the dragged
    bar stays under the mouse once :func:`information.normalize` has made them a distribution."""
    rest = np.delete(p, index)
    total = rest.sum()
    weights = rest * ((1.0 - height) / total) if total > 0 else np.full(rest.size, (1.0 - height) / rest.size)
    return information.normalize(np.insert(weights, index, height))
