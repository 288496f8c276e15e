"""The theory, before any training: the one-hot and smoothed target vectors of one class, and the loss
as a function of the predicted probability of the true class, whose minimum sets the optimal logit gap."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui

from explorer.lab.label_smoothing import smoothing
from explorer.ui.tabs.label_smoothing.twins import TWINS, fmt, twin_label
from explorer.ui.theme import Theme
from explorer.ui.widgets.fit import ask_for_room
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import Styled

Q_GRID = np.linspace(0.0005, 0.9995, 600)  # predicted probability of the true class, for the loss curves
LOSS_TOP = 3.5  # nats shown on the loss-vs-q plot (−log q is 3.5 at q ≈ 0.03)


class TheoryPanels:
    """``targets_panel`` (grouped bars) and ``loss_panel`` (loss against q, its minimum marked)."""

    def __init__(self, styled: Styled) -> None:
        self.theory: dict[str, Any] | None = None
        self.targets_panel = LegendedPlot(styled, "Targets for class 2", "class k", "target probability",
                                          downsample=False)  # fmt: skip
        self.target_bars = {twin: styled.keyed(pg.BarGraphItem(x=[0], height=[0], width=0.36), twin) for twin in TWINS}
        for twin, bars in self.target_bars.items():
            self.targets_panel.add(bars, twin_label(twin, 0.1))
        self.target_texts = [pg.TextItem(anchor=(0.5, 1.0)) for _ in range(2)]
        for text in self.target_texts:
            self.targets_panel.plot.addItem(text)
        self.targets_panel.plot.setYRange(0, 1.4, padding=0)  # room above the bars for the formula
        self.targets_panel.plot.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0, 0.25, 0.5, 0.75, 1)], []])

        self.loss_panel = LegendedPlot(styled, "Optimal logit gap", "predicted q(true class)",
                                       "loss (nats)", downsample=False)  # fmt: skip
        self.loss_curves = {twin: styled.keyed(pg.PlotDataItem(), twin, 2.0, QtCore.Qt.PenStyle.SolidLine)
                            for twin in TWINS}  # fmt: skip
        for twin, curve in self.loss_curves.items():
            self.loss_panel.add(curve, twin_label(twin, 0.1))
        self.loss_best = pg.ScatterPlotItem(size=14, symbol="o")
        self.loss_best.setZValue(10)
        self.loss_panel.add(self.loss_best, "minimum")
        self.gap_text = pg.TextItem(anchor=(1.0, 0.0))
        self.loss_panel.plot.addItem(self.gap_text)
        self.loss_panel.plot.setRange(xRange=(0, 1), yRange=(0, LOSS_TOP), padding=0.02)
        for panel in self.panels():
            panel.plot.vb.setMouseEnabled(x=False, y=False)

    def panels(self) -> tuple[LegendedPlot, ...]:
        return self.targets_panel, self.loss_panel

    def restyle(self, theme: Theme, font: QtGui.QFont) -> None:
        """The minimum's marker and the formulas' text (``font``: the theme's tick font)."""
        self.loss_best.setBrush(theme.brush("smoothed"))
        self.loss_best.setPen(pg.mkPen(theme.foreground, width=theme.pen_scale))
        self.loss_best.setSize(14 * theme.font_scale)
        for text in (*self.target_texts, self.gap_text):
            text.setColor(theme.foreground)
            text.setFont(font)
        self._room_for_formulas(font)

    def _room_for_formulas(self, font: QtGui.QFont) -> None:
        """Data areas tall enough for the formulas at this font: two lines over the bars (the top 0.39 of the
        targets' 0 .. 1.4), four beside the curves (the upper half of the loss plot)."""
        line = QtGui.QFontMetrics(font).lineSpacing()
        ask_for_room(self.targets_panel.plot, height=2 * line * 1.4 / (1.4 - 1.01) + 4)
        ask_for_room(self.loss_panel.plot, height=4 * line * 2 + 4)

    def draw(self, theory: dict[str, Any]) -> None:
        """``theory``: eps, k, class, targets and losses per twin, q_star and gap (see the view)."""
        self.theory = theory
        eps, k, c = theory["eps"], theory["k"], theory["class"]
        targets, losses = theory["targets"], theory["losses"]
        q_star, gap = theory["q_star"], theory["gap"]
        xs = np.arange(k, dtype=float)
        for twin, offset in zip(TWINS, (-0.2, 0.2), strict=True):
            self.target_bars[twin].setOpts(x=xs + offset, height=targets[twin], width=0.36)
            self.targets_panel.rename(self.target_bars[twin], twin_label(twin, eps))
            self.loss_curves[twin].setData(Q_GRID, np.minimum(losses[twin], 10 * LOSS_TOP))
            self.loss_panel.rename(self.loss_curves[twin], twin_label(twin, eps))
        self.targets_panel.plot.setXRange(-0.7, k - 0.3, padding=0)
        self.targets_panel.plot.setTitle(f"Targets for class {c}")
        true_text, wrong_text = self.target_texts
        true_text.setText(f"1 − ε + ε/K\n= {targets['smoothed'][c]:.3g}")
        left = c < k / 2  # the label reaches from the bar towards the middle: it never leaves the plot
        true_text.setPos(c - 0.45 if left else c + 0.45, 1.01)
        true_text.setAnchor((0.0, 1.0) if left else (1.0, 1.0))
        # over the wrong class farthest from the true one, reaching towards the plot's edge: it never
        # meets the tall bars, even with few classes and presentation fonts
        wrong = k - 1 if c < k / 2 else 0
        wrong_text.setText(f"ε/K\n= {eps / k:.3g}")
        wrong_text.setPos(k - 0.35 if wrong else -0.65, targets["smoothed"][wrong] + 0.03)
        wrong_text.setAnchor((1.0, 1.0) if wrong else (0.0, 1.0))
        # short lines: the formulas fit the empty upper right of the plot at presentation sizes too
        if eps > 0:
            self.loss_best.setData([q_star], [float(smoothing.loss_vs_true_prob(q_star, k, eps))])
            self.loss_panel.rename(self.loss_best, "minimum q*")
            self.gap_text.setText(f"q* = 1 − ε + ε/K\n= {q_star:.3g}\ngap* = log(q*·K/ε)\n= {gap:.3g}")
        else:
            self.loss_best.setData([1.0], [0.0])
            self.loss_panel.rename(self.loss_best, "minimum q = 1")
            self.gap_text.setText("one-hot: best at q = 1,\nlogit gap → ∞")
        self.gap_text.setPos(0.98, LOSS_TOP * 0.97)
        self.loss_panel.plot.setTitle(f"Optimal logit gap: {fmt(gap, 2)}")

    # --- hover ---------------------------------------------------------------------------------
    def describe_target(self, x: float, y: float) -> str | None:
        theory = self.theory
        if theory is None:
            return None
        k, c, eps = theory["k"], theory["class"], theory["eps"]
        i = round(x)
        if not 0 <= i < k:
            return None
        t_one, t_smooth = theory["targets"]["one_hot"][i], theory["targets"]["smoothed"][i]
        rule = "1 − ε + ε/K" if i == c else "ε/K"
        return (f"class {i}: one-hot target {t_one:g}; smoothed target {rule} = {t_smooth:.4g} "
                f"(ε = {eps:g}, K = {k})")  # fmt: skip

    def describe_loss(self, x: float, y: float) -> str | None:
        theory = self.theory
        if theory is None or not 0.0 < x < 1.0:
            return None
        k, eps = theory["k"], theory["eps"]
        one = float(smoothing.loss_vs_true_prob(x, k, 0.0))
        smooth = float(smoothing.loss_vs_true_prob(x, k, eps))
        return (f"q = {x:.3f}: one-hot loss −log q = {one:.3f} nats; smoothed loss −(1 − ε + ε/K) log q − "
                f"(K − 1)(ε/K) log((1 − q)/(K − 1)) = {smooth:.3f} nats")  # fmt: skip
