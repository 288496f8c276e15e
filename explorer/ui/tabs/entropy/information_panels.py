"""The top row of the entropy tab: p and q as draggable bars, H(p, q) = H(p) + KL as stacked bars, and
the binary-entropy curve with the coins on it. Each panel describes what it shows under the mouse."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui

from explorer.lab.entropy import information
from explorer.ui.tabs.entropy.bars import DraggableBars
from explorer.ui.tabs.entropy.formatting import bits, num, sub
from explorer.ui.theme import Theme
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import Styled

OFFSET = 0.2  # p's bar sits left of each outcome, q's right
FUNCTION = "function"  # series key of a function's curve (binary entropy, information gain)


class InformationPanels:
    """Distributions, cross-entropy and binary entropy: three :class:`LegendedPlot` cells."""

    def __init__(self, styled: Styled) -> None:
        self.p: np.ndarray | None = None
        self.q: np.ndarray | None = None
        self.info: information.PairSummary | None = None
        self.pq_panel = LegendedPlot(styled, "p and q: drag any bar", "outcome i", "probability",
                                     downsample=False)  # fmt: skip
        self.p_bars = styled.keyed(DraggableBars(grab=OFFSET), "p")
        self.q_bars = styled.keyed(DraggableBars(grab=OFFSET), "q")
        self.pq_panel.add(self.p_bars, "p: the source")
        self.pq_panel.add(self.q_bars, "q: what the code assumes")
        plot = self.pq_panel.plot
        plot.vb.setMouseEnabled(x=False, y=False)  # a drag edits a bar; it never pans
        plot.setYRange(0, 1.02, padding=0)
        plot.hideButtons()
        plot.setMenuEnabled(False)

        self.ce_panel = LegendedPlot(styled, "H(p, q) = H(p) + KL", "code built for", "bits per symbol",
                                     downsample=False)  # fmt: skip
        self.h_p_bar = styled.keyed(pg.BarGraphItem(x=[0], height=[0], width=0.6), "p")
        self.h_q_bar = styled.keyed(pg.BarGraphItem(x=[1], height=[0], width=0.6), "q")
        self.kl_bars = styled.keyed(pg.BarGraphItem(x=[0, 1], y0=[0, 0], height=[0, 0], width=0.6), "kl")
        self.max_line = pg.PlotDataItem()
        self.ce_panel.add(self.h_p_bar, "H(p)")
        self.ce_panel.add(self.h_q_bar, "H(q)")
        self.ce_panel.add(self.kl_bars, "KL")
        self.ce_panel.add(self.max_line, "log₂ K")
        self.ce_texts = [pg.TextItem(anchor=(0.5, 1.0)) for _ in range(2)]
        for text in self.ce_texts:
            self.ce_panel.plot.addItem(text)
        # data from p coded for q, and the other way round
        self.ce_panel.plot.getAxis("bottom").setTicks([[(0, "q: H(p, q)"), (1, "p: H(q, p)")]])
        self.ce_panel.plot.setXRange(-0.55, 1.55, padding=0)
        self.ce_panel.plot.vb.setMouseEnabled(x=False, y=False)

        self.binary_panel = LegendedPlot(styled, "Binary entropy", "x = P(outcome 0)", "H₂(x) (bits)",
                                         downsample=False)  # fmt: skip
        self.binary_curve = styled.keyed(pg.PlotDataItem(), FUNCTION)
        self.binary_p = styled.keyed(pg.ScatterPlotItem(size=13, symbol="o"), "p")
        self.binary_q = styled.keyed(pg.ScatterPlotItem(size=13, symbol="s"), "q")
        self.binary_panel.add(self.binary_curve, "H₂(x)")
        self.binary_panel.add(self.binary_p, "p")
        self.binary_panel.add(self.binary_q, "q")
        for item in (self.binary_p, self.binary_q):
            item.setZValue(10)
        self.binary_curve.setData(*information.binary_entropy_curve(201))
        self.binary_panel.plot.setRange(xRange=(-0.06, 1.06), yRange=(-0.06, 1.1), padding=0)  # 0 and 1 labelled
        halves = [[(v, f"{v:g}") for v in (0.0, 0.5, 1.0)], [(v, "") for v in (0.25, 0.75)]]  # readable when small
        for side in ("bottom", "left"):
            self.binary_panel.plot.getAxis(side).setTicks(halves)
        self.binary_panel.plot.vb.setMouseEnabled(x=False, y=False)

    def panels(self) -> tuple[LegendedPlot, ...]:
        return self.pq_panel, self.ce_panel, self.binary_panel

    def restyle(self, theme: Theme) -> None:
        """What is not one series' colour: the log₂ K line and the numbers over the stacked bars."""
        self.max_line.setPen(pg.mkPen(theme.foreground, width=1.5 * theme.pen_scale,
                                      style=QtCore.Qt.PenStyle.DashLine))  # fmt: skip
        font = QtGui.QFont()
        font.setPointSizeF(theme.point_size(8.5))
        for text in self.ce_texts:
            text.setColor(theme.foreground)
            text.setFont(font)

    # --- drawing -------------------------------------------------------------------------------
    def draw(self, p: np.ndarray, q: np.ndarray, info: information.PairSummary) -> None:
        self.p, self.q, self.info = p, q, info
        self._draw_bars(p, q, info)
        self._draw_cross(info)
        self._draw_binary(p, q)

    def _draw_bars(self, p: np.ndarray, q: np.ndarray, info: information.PairSummary) -> None:
        k = p.size
        xs = np.arange(k, dtype=float)
        self.p_bars.setOpts(x=xs - OFFSET, height=p, width=1.8 * OFFSET)
        self.q_bars.setOpts(x=xs + OFFSET, height=q, width=1.8 * OFFSET)
        self.pq_panel.plot.setXRange(-0.6, k - 0.4, padding=0)
        every = 1 if k <= 10 else 2 if k <= 20 else 4  # outcomes are whole numbers; labels must not collide
        self.pq_panel.plot.getAxis("bottom").setTicks(
            [[(float(i), str(i)) for i in range(0, k, every)], [(float(i), "") for i in range(k)]]
        )
        self.pq_panel.plot.setTitle(f"H(p) = {num(info.entropy, 2)}, H(q) = {bits(info.q_entropy, 2)}")

    def _draw_cross(self, info: information.PairSummary) -> None:
        pq, qp = info.pq, info.qp
        tops = [v for v in (pq.cross_entropy, qp.cross_entropy, info.max_entropy) if math.isfinite(v)]
        ceiling = 1.25 * max(*tops, 0.1)
        kl_shown = [min(pq.kl, ceiling - pq.entropy), min(qp.kl, ceiling - qp.entropy)]  # ∞ reaches the top
        self.h_p_bar.setOpts(x=[0], height=[pq.entropy], width=0.6)
        self.h_q_bar.setOpts(x=[1], height=[qp.entropy], width=0.6)
        self.kl_bars.setOpts(x=[0, 1], y0=[pq.entropy, qp.entropy], height=kl_shown, width=0.6)
        self.max_line.setData([-0.55, 1.55], [info.max_entropy] * 2)
        for x, (text, parts) in enumerate(zip(self.ce_texts, (pq, qp), strict=True)):
            text.setText(f"{num(parts.cross_entropy, 2)}\n{num(parts.entropy, 2)}+{num(parts.kl, 2)}")
            text.setPos(x, min(parts.cross_entropy, ceiling))
        self.ce_panel.plot.setYRange(0, ceiling * 1.35, padding=0)  # room for the two lines of text

    def _draw_binary(self, p: np.ndarray, q: np.ndarray) -> None:
        coins = p.size == 2
        if coins:
            self.binary_p.setData([p[0]], [information.entropy(p)])
            self.binary_q.setData([q[0]], [information.entropy(q)])
        else:
            self.binary_p.setData([], [])
            self.binary_q.setData([], [])
        self.binary_panel.rename(self.binary_p, "p" if coins else "p (when K = 2)")
        self.binary_panel.rename(self.binary_q, "q" if coins else "q (when K = 2)")

    # --- hover ---------------------------------------------------------------------------------
    def describe_bar(self, x: float, y: float) -> str | None:
        p, q = self.p, self.q
        if p is None or q is None:
            return None
        i = self.p_bars.column_at(x)
        if i is not None:
            s = sub(i)
            surprise = -math.log2(p[i]) if p[i] > 0 else math.inf
            share = float(-p[i] * math.log2(p[i])) if p[i] > 0 else 0.0
            return (f"p{s} = {p[i]:.4f}: surprise −log₂ p{s} = {bits(surprise)}; it adds "
                    f"p{s}·(−log₂ p{s}) = {bits(share)} to H(p). Drag to change it.")  # fmt: skip
        i = self.q_bars.column_at(x)
        if i is None:
            return None
        s = sub(i)
        length = -math.log2(q[i]) if q[i] > 0 else math.inf
        term = p[i] * math.log2(p[i] / q[i]) if p[i] > 0 and q[i] > 0 else (math.inf if p[i] > 0 else 0.0)
        return (f"q{s} = {q[i]:.4f}: a code built for q spends −log₂ q{s} = {bits(length)} on outcome {i}; "
                f"p{s} log₂(p{s}/q{s}) = {bits(term)} of KL(p‖q). Drag to change it.")  # fmt: skip

    def describe_cross(self, x: float, y: float) -> str | None:
        if self.info is None:
            return None
        if abs(x) < 0.35:
            parts, a, b = self.info.pq, "p", "q"
        elif abs(x - 1) < 0.35:
            parts, a, b = self.info.qp, "q", "p"
        else:
            return f"log₂ K = {bits(self.info.max_entropy)}: the entropy of the uniform distribution, the maximum"
        return (f"H({a}, {b}) = −Σ {a} log₂ {b} = {bits(parts.cross_entropy)} per symbol of {a} coded for "
                f"{b} = H({a}) {num(parts.entropy)} (unavoidable) + KL({a}‖{b}) {num(parts.kl)} (the price of "
                f"assuming {b})")  # fmt: skip

    @staticmethod
    def describe_binary(x: float, y: float) -> str | None:
        if not 0.0 <= x <= 1.0:
            return None
        h = float(information.binary_entropy(x))
        return f"H₂({x:.3f}) = −{x:.3f} log₂ {x:.3f} − {1 - x:.3f} log₂ {1 - x:.3f} = {bits(h)}"
