"""The network as a row of units per strategy: filled in the strategy's colour where the unit trains
(paler for a smaller learning rate), grey where it is frozen. Progressive unfreezing fills its row
from the right while it trains."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtGui

from explorer.lab.finetune.finetune import FinetuneFrame
from explorer.ui.widgets.plots import Styled, new_plot


def _count(n: float) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else f"{n:.0f}"


def rate_text(scale: float) -> str:
    """A unit's learning rate relative to the base rate η, as a cell shows it."""
    if scale == 0:
        return "frozen"
    if abs(scale - round(scale)) < 1e-9:
        return f"η×{scale:.0f}"
    return f"η×{scale:.2g}"


def _ink(fill: QtGui.QColor, background: QtGui.QColor) -> QtGui.QColor:
    """Black or white, whichever reads on ``fill`` drawn with its alpha over ``background``."""
    a = fill.alphaF()
    rgb = [a * f + (1 - a) * b for f, b in zip(fill.getRgbF()[:3], background.getRgbF()[:3], strict=True)]
    luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return QtGui.QColor("#000000" if luminance > 0.5 else "#ffffff")


class UnitDiagram:
    """One BarGraphItem of cells (rows: strategies, top first; columns: units, input first) and their texts."""

    def __init__(self, styled: Styled) -> None:
        self.styled = styled
        self.plot = new_plot(styled, "Which layers learn", "layer and its parameters (input → output)", "strategy",
                             legend=None, downsample=False)  # fmt: skip
        self.plot.showGrid(x=False, y=False)
        self.plot.vb.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.cells = pg.BarGraphItem(x0=[0], y0=[0], width=[1], height=[1])
        self.plot.addItem(self.cells)
        self.texts: list[pg.TextItem] = []
        self.frame: FinetuneFrame | None = None
        self._layout: tuple = ()

    def show(self, frame: FinetuneFrame) -> None:
        """Colour and label every cell for ``frame``; axes and texts are rebuilt only when the grid changes."""
        self.frame = frame
        states, n_units = frame.strategies, len(frame.unit_names)
        layout = (tuple(s.label for s in states), frame.unit_names, frame.unit_shapes, self.styled.theme)
        if layout != self._layout:
            self._layout = layout
            self._rebuild(frame)
        theme = self.styled.theme
        brushes, k = [], 0
        for state in states:
            for u in range(n_units):
                scale = float(state.lr_scale[u])
                if scale == 0:
                    brush = pg.mkBrush(theme.muted(45))
                else:  # one decade of rate less: a third paler, down to a quarter of the colour
                    alpha = int(255 * max(0.25, min(1.0, 1.0 + math.log10(scale) / 3.0)))
                    brush = theme.brush(state.strategy, alpha)
                brushes.append(brush)
                text, item = rate_text(scale), self.texts[k]
                if item.textItem.toPlainText() != text:
                    item.setText(text)
                ink = _ink(brush.color(), theme.background)
                if item.color != ink:
                    item.setColor(ink)
                k += 1
        self.cells.setOpts(brushes=brushes)

    def _rebuild(self, frame: FinetuneFrame) -> None:
        theme = self.styled.theme
        n_rows, n_units = len(frame.strategies), len(frame.unit_names)
        cols, rows = np.meshgrid(np.arange(n_units), np.arange(n_rows))  # (n_rows, n_units)
        y = (n_rows - 1 - rows).ravel()  # first strategy on top
        self.cells.setOpts(x0=cols.ravel() - 0.46, y0=y - 0.4, width=0.92, height=0.8,
                           pen=pg.mkPen(theme.foreground, width=0.6))  # fmt: skip
        for text in self.texts:
            self.plot.removeItem(text)
        font = QtGui.QFont()
        font.setPointSizeF(theme.point_size(7.5))
        self.texts = []
        for x, yy in zip(cols.ravel(), y, strict=True):
            text = pg.TextItem("", color=theme.foreground, anchor=(0.5, 0.5))
            text.setFont(font)
            text.setPos(float(x), float(yy))
            self.plot.addItem(text)
            self.texts.append(text)
        left = [(n_rows - 1 - i, s.label) for i, s in enumerate(frame.strategies)]
        bottom = [
            (u, f"{name}\n{_count(params)}")
            for u, (name, params) in enumerate(zip(frame.unit_names, frame.unit_params, strict=True))
        ]  # fmt: skip
        self.plot.getAxis("left").setTicks([left, []])
        self.plot.getAxis("bottom").setTicks([bottom, []])
        self.plot.setRange(xRange=(-0.5, n_units - 0.5), yRange=(-0.5, n_rows - 0.5), padding=0.01)

    def describe(self, x: float, y: float) -> str | None:
        """The cell under the cursor: unit, its size, and how (or whether) it learns in that strategy."""
        frame = self.frame
        if frame is None:
            return None
        u, row = round(x), len(frame.strategies) - 1 - round(y)
        if not (0 <= u < len(frame.unit_names) and 0 <= row < len(frame.strategies)):
            return None
        state = frame.strategies[row]
        name, shape, params = frame.unit_names[u], frame.unit_shapes[u], int(frame.unit_params[u])
        output = f"{shape} classes" if u == len(frame.unit_names) - 1 else f"output {shape}"
        scale = float(state.lr_scale[u])
        if scale == 0:
            how = "frozen: no gradient, not in the optimizer, batch norm on the pretrained statistics"
        else:
            how = f"trains at learning rate η × {scale:.3g}"
        return f"{state.label} — {name} ({output}, {params:,} parameters): {how}"
