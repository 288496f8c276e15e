"""Calibration of the twins on the validation set: reliability diagrams with their ECE, and the
histograms of the top-class confidence."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore

from explorer.lab.label_smoothing import smoothing
from explorer.ui.tabs.label_smoothing.twins import TWINS, twin_name, twin_state
from explorer.ui.theme import Theme
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import Styled

_SOLID = QtCore.Qt.PenStyle.SolidLine  # one_hot and smoothed lie past the palette: say the style


class CalibrationPanels:
    """``rel_panel`` (accuracy against confidence per bin, the diagonal) and ``conf_panel`` (histograms)."""

    def __init__(self, styled: Styled) -> None:
        self.frame: smoothing.SmoothingFrame | None = None
        self._conf_top = 0.0
        self.rel_panel = LegendedPlot(styled, "Reliability", "confidence (top q)",
                                      "accuracy in the bin", columns=2, downsample=False)  # fmt: skip
        self.rel_curves = {twin: styled.keyed(pg.PlotDataItem(symbol="o"), twin, 2.0, _SOLID) for twin in TWINS}
        for twin, curve in self.rel_curves.items():
            self.rel_panel.add(curve, f"{twin_name(twin)}: ECE —")
        self.diagonal = pg.PlotDataItem([0, 1], [0, 1])
        self.rel_panel.add(self.diagonal, "calibrated")
        self.rel_panel.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        self.rel_panel.plot.vb.setMouseEnabled(x=False, y=False)

        self.conf_panel = LegendedPlot(styled, "Confidence", "confidence (top q)",
                                       "fraction of points", downsample=False)  # fmt: skip
        self.conf_curves = {
            twin: styled.keyed(pg.PlotDataItem(stepMode="center", fillLevel=0), twin, 2.0, _SOLID) for twin in TWINS
        }
        for twin, curve in self.conf_curves.items():
            self.conf_panel.add(curve, twin_name(twin))
        self.conf_panel.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)

    def panels(self) -> tuple[LegendedPlot, ...]:
        return self.rel_panel, self.conf_panel

    def restyle(self, theme: Theme) -> None:
        """The histograms' translucent fill and the dotted diagonal."""
        for twin, curve in self.conf_curves.items():
            curve.setBrush(theme.brush(twin, 60))
        self.diagonal.setPen(pg.mkPen(theme.foreground, width=1.5 * theme.pen_scale, style=QtCore.Qt.PenStyle.DotLine))

    def draw(self, frame: smoothing.SmoothingFrame, first: bool) -> None:
        self.frame = frame
        if first:
            self._conf_top = 0.0
        for twin in TWINS:
            state = twin_state(frame, twin)
            rel = state.reliability
            filled = rel.counts > 0
            self.rel_curves[twin].setData(rel.confidence[filled], rel.accuracy[filled])
            self.rel_panel.rename(self.rel_curves[twin], f"{twin_name(twin)}: ECE = {rel.ece:.3f}")
            counts = state.confidence_counts.astype(float)
            self.conf_curves[twin].setData(frame.confidence_edges, counts / max(counts.sum(), 1.0))
        top = max(float(np.max(c.yData)) for c in self.conf_curves.values())
        if top > self._conf_top:  # grow only: a still axis is a cheap axis
            self._conf_top = min(1.0, 1.2 * top)
            self.conf_panel.plot.setYRange(0, self._conf_top, padding=0.02)

    # --- hover ---------------------------------------------------------------------------------
    def describe_bin(self, x: float, y: float) -> str | None:
        if self.frame is None:
            return None
        parts = []
        for twin in TWINS:
            rel = twin_state(self.frame, twin).reliability
            b = int(np.clip(np.searchsorted(rel.edges, x) - 1, 0, rel.counts.size - 1))
            if rel.counts[b] == 0:
                parts.append(f"{twin_name(twin)}: no points")
            else:
                parts.append(f"{twin_name(twin)}: {rel.counts[b]} points, accuracy {rel.accuracy[b]:.3f} at mean "
                             f"confidence {rel.confidence[b]:.3f}")  # fmt: skip
        edges = self.frame.one_hot.reliability.edges
        b = int(np.clip(np.searchsorted(edges, x) - 1, 0, edges.size - 2))
        return (f"confidence in ({edges[b]:.2f}, {edges[b + 1]:.2f}]: " + "; ".join(parts)
                + ". ECE = Σ_b (n_b/N)|acc_b − conf_b|")  # fmt: skip

    def describe_confidence(self, x: float, y: float) -> str | None:
        if self.frame is None:
            return None
        parts = []
        for twin in TWINS:
            state = twin_state(self.frame, twin)
            parts.append(f"{twin_name(twin)}: mean confidence {state.mean_confidence:.3f} vs accuracy "
                         f"{state.val_accuracy:.3f}, mean entropy {state.mean_entropy:.3f} nats")  # fmt: skip
        return "; ".join(parts)
