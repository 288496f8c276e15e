"""Entropy: an editable distribution, cross-entropy and KL, Huffman compression, and a decision-tree split.

Nothing trains here: every edit (a dragged bar, a preset, a typed vector, a moved threshold) calls a
few cheap functions of ``explorer.lab.information`` and ``explorer.lab.decision_split`` and redraws.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab import decision_split, information
from explorer.ui.params import Param
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import HoverReadout

_PRESETS = (*information.PRESET_KINDS, "custom")
_PRESET_LABELS = (
    "uniform", "one-hot", "Zipf  pᵢ ∝ 1/(i+1)ˢ", "geometric  pᵢ ∝ (1−r)ⁱ", "fair coin", "biased coin",
    "custom (drag or type)",
)  # fmt: skip
_COINS = ("fair_coin", "biased_coin")
_SHAPES = {"biased_coin": "heads", "zipf": "zipf", "geometric": "geometric"}  # preset -> its shape param
_FEATURES = ("x1", "x2")
_FEATURE_NAMES = ("x₁", "x₂")
_SPLIT_VIEW = ((-5.5, 5.5), (-4.5, 5.5))  # fixed window of the point set: the threshold line has a home
_OFFSET = 0.2  # p's bar sits left of each outcome, q's right
# series keys (colours; everyday palette): curves of a function in blue, the Huffman code's spending in
# orange, its average length in purple; p and q keep their own colours in every plot
_FUNCTION, _CODE, _MEAN_LENGTH = "function", "huffman", "mean_length"
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sub(i: int) -> str:
    return str(i).translate(_SUB)


def _num(x: float, digits: int = 3) -> str:
    """3 → "3", 1.75 → "1.75", 2.92874 → "2.929", ∞ → "∞" (with a true minus sign)."""
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    text = f"{x:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text.replace("-", "−")


def _bits(x: float, digits: int = 3) -> str:
    """A number of bits, in words: "1 bit", "1.75 bits"."""
    text = _num(x, digits)
    return f"{text} bit" if text == "1" else f"{text} bits"


def _distribution_params(which: str, group: str, preset: str, heads: float, zipf: float, geometric: float,
                         ) -> list[Param]:  # fmt: skip
    return [
        Param(f"{which}_preset", f"{which} preset", "choice", preset,
              f"Set {which} to a named distribution; 'custom' keeps the bars you dragged or typed",
              choices=_PRESETS, choice_labels=_PRESET_LABELS, group=group, in_caption=True),
        Param(f"{which}_heads", "P(heads)", "float", heads, f"Biased coin: {which} = [P(heads), 1 − P(heads)]",
              bounds=(0.0, 1.0), group=group),
        Param(f"{which}_zipf", "Zipf exponent s", "float", zipf,
              f"Zipf: {which}ᵢ ∝ 1/(i+1)ˢ; s = 0 is uniform, larger s puts more mass on the first outcomes",
              bounds=(0.0, 4.0), group=group),
        Param(f"{which}_geometric", "geometric r", "float", geometric,
              f"Geometric: {which}ᵢ ∝ (1 − r)ⁱ, truncated at K outcomes; larger r decays faster",
              bounds=(0.01, 0.99), group=group),
    ]  # fmt: skip


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


def _decade_ticks(n: int) -> list[list[tuple[float, str]]]:
    """Major ticks 1, 10, 100, … (in log₁₀ units) and no minor labels: they collide at large fonts."""
    decades = range(math.floor(math.log10(max(n, 1))) + 1)
    return [[(float(d), "1" if d == 0 else "10" if d == 1 else f"10{str(d).translate(_SUP)}") for d in decades], []]


@register
class EntropyTab(TopicTab):
    name = "entropy"
    title = "Entropy"
    order = 70
    summary = "Drag the bars of p or q: entropy, cross-entropy, KL and the Huffman code follow at once."

    @classmethod
    def parameters(cls) -> list[Param]:
        return [
            Param("outcomes", "outcomes K", "int", 8,
                  "Number of outcomes of p and q (2 to 32); the coins always have 2",
                  bounds=(information.MIN_OUTCOMES, information.MAX_OUTCOMES), group="Distributions",
                  in_caption=True),
            *_distribution_params("p", "Distribution p (the source)", "zipf", 0.8, 1.0, 0.5),
            *_distribution_params("q", "Distribution q (what the code assumes)", "uniform", 0.5, 2.0, 0.3),
            Param("message_length", "message length n", "int", 1000,
                  "Symbols drawn from p, Huffman-encoded and counted against n·H(p)", bounds=(1, 50_000),
                  group="Compression", in_caption=True),
            Param("seed", "seed", "int", 0,
                  "Seed of the sampled message and of the point set: same seed, same data",
                  bounds=(0, 2**31 - 1), group="Compression"),
            Param("split_classes", "classes", "int", 3, "Number of classes in the point set (2 or 3)",
                  bounds=(2, 3), group="Decision-tree split"),
            Param("split_points", "points per class", "int", 60, "Points drawn around each class centre",
                  bounds=(5, 300), group="Decision-tree split"),
            Param("split_spread", "spread σ", "float", 0.9,
                  "Standard deviation of each class blob: larger σ makes classes overlap and lowers the best gain",
                  bounds=(0.1, 3.0), group="Decision-tree split"),
            Param("split_feature", "feature", "choice", "x1", "The feature the question 'xⱼ ≤ t?' looks at",
                  choices=_FEATURES, choice_labels=_FEATURE_NAMES, group="Decision-tree split", in_caption=True),
            Param("threshold", "threshold t", "float", 0.0, "The split 'xⱼ ≤ t?' (or drag the line in the plot)",
                  bounds=(-6.0, 6.0), group="Decision-tree split", in_caption=True),
        ]  # fmt: skip

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.p: np.ndarray | None = None
        self.q: np.ndarray | None = None
        self.info: dict[str, Any] | None = None  # every number the information plots show
        self.compression: information.Compression | None = None
        self.points: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.best: decision_split.BestSplit | None = None
        self.split: decision_split.Split | None = None
        self._error = False
        self._syncing = False
        self._legend_classes = 0
        self.view = pg.GraphicsLayoutWidget()
        self._build_information_plots()
        self._build_split_plots()
        top = self.view.ci.addLayout(row=0, col=0)
        bottom = self.view.ci.addLayout(row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 4)
        self.view.ci.layout.setRowStretchFactor(1, 5)  # the point set needs the height more than the bars
        for col, (panel, stretch) in enumerate(((self.pq_panel, 4), (self.ce_panel, 3), (self.binary_panel, 3))):
            top.addItem(panel, row=0, col=col)
            top.layout.setColumnStretchFactor(col, stretch)
        for col, (panel, stretch) in enumerate(((self.code_panel, 4), (self.split_panel, 4), (self.gain_panel, 3))):
            bottom.addItem(panel, row=0, col=col)
            bottom.layout.setColumnStretchFactor(col, stretch)
        self._build_widgets()
        self._restyle_fixed()

    # --- building ------------------------------------------------------------------------------
    def _build_information_plots(self) -> None:
        styled = self.styled
        self.pq_panel = LegendedPlot(styled, "p and q: drag any bar", "outcome i", "probability",
                                     downsample=False)  # fmt: skip
        self.p_bars = styled.keyed(DraggableBars(grab=_OFFSET), "p")
        self.q_bars = styled.keyed(DraggableBars(grab=_OFFSET), "q")
        self.pq_panel.add(self.p_bars, "p: the source")
        self.pq_panel.add(self.q_bars, "q: what the code assumes")
        plot = self.pq_panel.plot
        plot.vb.setMouseEnabled(x=False, y=False)  # a drag edits a bar; it never pans
        plot.setYRange(0, 1.02, padding=0)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        self.p_bars.sig_drag.connect(lambda i, h, done: self._on_drag("p", i, h))
        self.q_bars.sig_drag.connect(lambda i, h, done: self._on_drag("q", i, h))

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
        self.binary_curve = styled.keyed(pg.PlotDataItem(), _FUNCTION)
        self.binary_p = styled.keyed(pg.ScatterPlotItem(size=13, symbol="o"), "p")
        self.binary_q = styled.keyed(pg.ScatterPlotItem(size=13, symbol="s"), "q")
        self.binary_panel.add(self.binary_curve, "H₂(x)")
        self.binary_panel.add(self.binary_p, "p")
        self.binary_panel.add(self.binary_q, "q")
        for item in (self.binary_p, self.binary_q):
            item.setZValue(10)
        self.binary_curve.setData(*information.binary_entropy_curve(201))
        self.binary_panel.plot.setRange(xRange=(0, 1), yRange=(0, 1.08), padding=0.02)
        self.binary_panel.plot.vb.setMouseEnabled(x=False, y=False)

        self.code_panel = LegendedPlot(styled, "Huffman-coded message", "symbols sent m", "bits per symbol so far",
                                       log_x=True)  # fmt: skip
        self.code_curve = styled.keyed(pg.PlotDataItem(), _CODE)
        self.code_h = pg.PlotDataItem()
        self.code_l = styled.keyed(pg.PlotDataItem(), _MEAN_LENGTH)
        self.code_panel.add(self.code_curve, "bits sent / m")
        self.code_panel.add(self.code_h, "H(p)")
        self.code_panel.add(self.code_l, "L = Σ pᵢ ℓᵢ")
        self.code_panel.plot.vb.setMouseEnabled(x=False, y=False)

    def _build_split_plots(self) -> None:
        styled = self.styled
        self.split_panel = LegendedPlot(styled, "Split x₁ ≤ t", "x₁", "x₂", columns=5, downsample=False)
        self.class_items = [pg.ScatterPlotItem(size=8, symbol="ost"[c]) for c in range(3)]
        for item in self.class_items:
            self.split_panel.add(item)
        self.threshold_line = pg.InfiniteLine(pos=0.0, angle=90, movable=True, bounds=(-6.0, 6.0))
        self.threshold_line.setZValue(20)
        self.best_line = pg.InfiniteLine(pos=0.0, angle=90, movable=False)
        self.threshold_proxy = pg.PlotDataItem()  # legend samples for the lines
        self.best_proxy = pg.PlotDataItem()
        self.split_panel.add(self.threshold_line)
        self.split_panel.add(self.best_line)
        self.child_texts = [pg.TextItem(anchor=(0, 0)), pg.TextItem(anchor=(1, 1))]
        for text in self.child_texts:
            text.setZValue(30)
            self.split_panel.plot.addItem(text)
        (x0, x1), (y0, y1) = _SPLIT_VIEW
        self.split_panel.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.split_panel.plot.vb.setMouseEnabled(x=False, y=False)

        self.gain_panel = LegendedPlot(styled, "Information gain", "threshold t on x₁", "gain (bits)",
                                       downsample=False)  # fmt: skip
        self.gain_curve = styled.keyed(pg.PlotDataItem(), _FUNCTION)
        self.gain_best = pg.ScatterPlotItem(size=18, symbol="star")
        self.gain_best.setZValue(10)
        self.gain_line = pg.InfiniteLine(pos=0.0, angle=90, movable=True, bounds=(-6.0, 6.0))
        self.gain_panel.add(self.gain_curve, "gain of each t")
        self.gain_panel.add(self.gain_line)
        self.gain_panel.legend.addItem(self.threshold_proxy, "t (drag)")
        self.gain_panel.add(self.gain_best, "best")
        self.gain_panel.plot.setXRange(x0, x1, padding=0)
        self.gain_panel.plot.vb.setMouseEnabled(x=False, y=False)
        for line in (self.threshold_line, self.gain_line):
            line.sigPositionChanged.connect(self._on_line_moved)

    def _build_widgets(self) -> None:
        self.p_edit = QtWidgets.QLineEdit()
        self.q_edit = QtWidgets.QLineEdit()
        for edit, which in ((self.p_edit, "p"), (self.q_edit, "q")):
            edit.setPlaceholderText("weights, e.g. 4 2 1 1")
            edit.setToolTip(f"Type {which} as 2 to 32 non-negative weights separated by spaces or commas and "
                            "press Enter; they are divided by their sum")  # fmt: skip
        self.p_edit.returnPressed.connect(lambda: self._on_typed("p"))
        self.q_edit.returnPressed.connect(lambda: self._on_typed("q"))
        typing = QtWidgets.QHBoxLayout()
        for text, edit in (("p =", self.p_edit), ("q =", self.q_edit)):
            typing.addWidget(QtWidgets.QLabel(text))
            typing.addWidget(edit, 1)

        self.entropy_label, self.cross_label, self.code_label, self.split_label = (self._readout() for _ in range(4))
        readouts = QtWidgets.QGridLayout()
        readouts.setHorizontalSpacing(18)
        readouts.setVerticalSpacing(4)
        readouts.addWidget(self.entropy_label, 0, 0)
        readouts.addWidget(self.cross_label, 0, 1)
        readouts.addWidget(self.split_label, 1, 0, 1, 2)
        readouts.setColumnStretch(0, 1)
        readouts.setColumnStretch(1, 1)

        self.hover = QtWidgets.QLabel("Hover over a plot to read its numbers and their formulas.")
        self.hover.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hover.setWordWrap(True)
        self.readouts = [
            HoverReadout(self.pq_panel.plot, self._describe_bar, self.hover),
            HoverReadout(self.ce_panel.plot, self._describe_cross, self.hover),
            HoverReadout(self.binary_panel.plot, self._describe_binary, self.hover),
            HoverReadout(self.code_panel.plot, self._describe_message, self.hover),
            HoverReadout(self.split_panel.plot, self._describe_point, self.hover),
            HoverReadout(self.gain_panel.plot, self._describe_gain, self.hover),
        ]

        self.code_summary = self._readout()
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["i", "pᵢ", "code", "−log₂ pᵢ"])
        tips = (
            "symbol (outcome) index",
            "its probability under p",
            "Huffman codeword: no codeword is the start of another, so a message needs no separators",
            "its surprise in bits, the ideal length: Huffman's lengths are within 1 bit of it on average",
        )
        for col, tip in enumerate(tips):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)  # codewords keep their full length; the surprise column gives way
        side = QtWidgets.QWidget()
        side_layout = QtWidgets.QVBoxLayout(side)
        side_layout.setContentsMargins(4, 0, 0, 0)
        side_layout.addWidget(QtWidgets.QLabel("<b>Huffman code for p</b>"))
        side_layout.addWidget(self.code_summary)
        side_layout.addWidget(self.code_label)
        side_layout.addWidget(self.table, 1)
        side.setMinimumWidth(230)
        side.setMaximumWidth(320)

        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.view, 1)
        left_layout.addLayout(typing)
        left_layout.addLayout(readouts)
        left_layout.addWidget(self.hover)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(left, 1)
        layout.addWidget(side)

    @staticmethod
    def _readout() -> QtWidgets.QLabel:
        label = QtWidgets.QLabel(wordWrap=True)
        label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        label.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
        return label

    def _panels(self) -> tuple[LegendedPlot, ...]:
        return (self.pq_panel, self.ce_panel, self.binary_panel, self.code_panel, self.split_panel, self.gain_panel)

    # --- theme: what is not one series of a method ---------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._restyle_fixed()

    def _restyle_fixed(self) -> None:
        theme = self.styled.theme
        for c, item in enumerate(self.class_items):
            item.setBrush(pg.mkBrush(theme.palette[c]))
            item.setPen(pg.mkPen(theme.background, width=0.8 * theme.pen_scale))
            item.setSize(8 * theme.font_scale)
        line_pen = pg.mkPen(theme.foreground, width=2.5 * theme.pen_scale)
        dashed = QtCore.Qt.PenStyle.DashLine
        best_pen = pg.mkPen(theme.muted(220), width=1.5 * theme.pen_scale, style=dashed)
        for line in (self.threshold_line, self.gain_line):
            line.setPen(line_pen)
            line.setHoverPen(pg.mkPen("#d55e00", width=3.5 * theme.pen_scale))
        self.threshold_proxy.setPen(line_pen)
        self.best_line.setPen(best_pen)
        self.best_proxy.setPen(best_pen)
        self.gain_best.setBrush(pg.mkBrush("#d55e00"))
        self.gain_best.setPen(pg.mkPen(theme.foreground, width=theme.pen_scale))
        self.gain_best.setSize(18 * theme.font_scale)
        self.max_line.setPen(pg.mkPen(theme.foreground, width=1.5 * theme.pen_scale, style=dashed))
        self.code_h.setPen(theme.pen("p", 2.0, dashed))
        font = QtGui.QFont()
        font.setPointSizeF(theme.point_size(8.5))
        fill = QtGui.QColor(theme.background)
        fill.setAlpha(210)
        for text in (*self.ce_texts, *self.child_texts):
            text.setColor(theme.foreground)
            text.setFont(font)
        for text in self.child_texts:
            text.fill = pg.mkBrush(fill)
        for panel in self._panels():
            panel.legend.update()
            panel.fit_legend()
        self._mono_codewords()
        # two lines whatever the hover text: a label that grows would shift the plots under the mouse
        self.hover.setFixedHeight(2 * QtGui.QFontMetrics(self.hover.font()).lineSpacing() + 4)

    def _mono_codewords(self) -> None:
        """Codewords in a fixed-width font of the table's (theme's) size, so their lengths line up."""
        mono = QtGui.QFont(self.table.font())
        mono.setFamilies(["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"])
        mono.setStyleHint(QtGui.QFont.StyleHint.TypeWriter)
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 2)
            if item is not None:
                item.setFont(mono)

    # --- state ---------------------------------------------------------------------------------
    def _from_preset(self, which: str, k: int) -> np.ndarray:
        values = self.values()
        kind = values[f"{which}_preset"]
        if kind == "custom":
            current = self.p if which == "p" else self.q
            return current if current is not None and current.size == k else information.presets("uniform", k)
        shape = values[f"{which}_{_SHAPES[kind]}"] if kind in _SHAPES else None
        return information.presets(kind, k, shape)

    def _ensure(self) -> None:
        """Build everything from the parameters the first time it is needed (shown or exported)."""
        if self.p is None and self.panel is not None:
            self._rebuild_distributions()
            self._refresh_split()

    def _rebuild_distributions(self) -> None:
        assert self.panel is not None
        if any(self.panel.value(f"{w}_preset") in _COINS for w in "pq"):  # a coin has two outcomes
            self.panel.set_value("outcomes", 2, quiet=True)
        k = self.panel.value("outcomes")
        self.p = self._from_preset("p", k)
        self.q = self._from_preset("q", k)
        self._refresh_information()

    def start_jobs(self) -> None:
        self._ensure()

    def on_param_changed(self, key: str, value: Any) -> bool:
        """Everything redraws at once; there is no experiment to restart."""
        try:
            if self.p is None:  # not built yet (a --set before the first show): build from all values
                self._ensure()
            else:
                self._apply(key, value)
        except ValueError as exc:
            self._complain(str(exc))
            return False
        self._clear_complaint()
        return False

    def _apply(self, key: str, value: Any) -> None:
        assert self.panel is not None
        if key == "outcomes":
            for which in "pq":  # more outcomes than a coin has: the coin becomes uniform
                if value != 2 and self.panel.value(f"{which}_preset") in _COINS:
                    self.panel.set_value(f"{which}_preset", "uniform", quiet=True)
            self._rebuild_distributions()
        elif key.startswith(("p_", "q_")):
            which, kind = key[0], self.panel.value(f"{key[0]}_preset")
            if kind in _COINS and self.panel.value("outcomes") != 2:
                self._rebuild_distributions()
            elif key.endswith("_preset") or _SHAPES.get(kind) == key[2:]:
                self._set_distribution(which, self._from_preset(which, self.panel.value("outcomes")))
        elif key == "message_length":
            self._refresh_information()
        elif key == "seed":
            self._refresh_information()
            self._refresh_split()
        elif key == "threshold":
            self._refresh_threshold(float(value))
        elif key.startswith("split_"):
            self._refresh_split()

    def _set_distribution(self, which: str, dist: np.ndarray) -> None:
        if which == "p":
            self.p = dist
        else:
            self.q = dist
        self._refresh_information()

    def _complain(self, text: str) -> None:
        self._error = True
        self.sig_message.emit(text)

    def _clear_complaint(self) -> None:
        if self._error:  # the page's reset hides the banner; with no experiment it does nothing else
            self._error = False
            self.sig_reset.emit()

    # --- edits ---------------------------------------------------------------------------------
    def _on_drag(self, which: str, index: int, height: float) -> None:
        current = self.p if which == "p" else self.q
        if current is None or self.panel is None or index >= current.size:
            return
        try:
            new = lift(current, index, height)
        except ValueError as exc:
            self._complain(str(exc))
            return
        self.panel.set_value(f"{which}_preset", "custom", quiet=True)
        self._set_distribution(which, new)
        self._clear_complaint()

    def set_bar(self, which: str, index: int, height: float) -> None:
        """What dragging bar ``index`` of p or q to ``height`` does, without the mouse."""
        self._on_drag(which, index, height)

    def _on_typed(self, which: str) -> None:
        edit = self.p_edit if which == "p" else self.q_edit
        try:
            dist = self.parse_weights(edit.text())
        except ValueError as exc:
            self._complain(f"{which}: {exc}")
            return
        assert self.panel is not None
        k = dist.size
        self.panel.set_value(f"{which}_preset", "custom", quiet=True)
        if k != self.panel.value("outcomes"):
            other = "q" if which == "p" else "p"
            if self.panel.value(f"{other}_preset") in _COINS:
                self.panel.set_value(f"{other}_preset", "uniform", quiet=True)
            self.panel.set_value("outcomes", k, quiet=True)
            if other == "q":
                self.q = self._from_preset("q", k)
            else:
                self.p = self._from_preset("p", k)
        self._set_distribution(which, dist)
        self._clear_complaint()

    @staticmethod
    def parse_weights(text: str) -> np.ndarray:
        """'4 2 1 1' or '0.5, 0.25, 0.125, 0.125' -> a distribution; ValueError says what is wrong."""
        parts = [t for t in re.split(r"[\s,;]+", text.strip().strip("[]()")) if t]
        try:
            weights = np.array([float(t) for t in parts])
        except ValueError:
            raise ValueError(f"could not read {text!r}: type numbers separated by spaces or commas") from None
        lo, hi = information.MIN_OUTCOMES, information.MAX_OUTCOMES
        if not lo <= weights.size <= hi:
            raise ValueError(f"need {lo} to {hi} weights, got {weights.size}")
        return information.normalize(weights)

    def _on_line_moved(self, line: pg.InfiniteLine) -> None:
        if self._syncing or self.panel is None:
            return
        value = float(np.clip(round(line.value(), 4), -6.0, 6.0))
        self.panel.set_value("threshold", value, quiet=True)
        self._refresh_threshold(value)

    # --- computing and drawing -----------------------------------------------------------------
    def _refresh_information(self) -> None:
        p, q = self.p, self.q
        assert p is not None and q is not None
        values = self.values()
        k = p.size
        compression = information.compress(p, values["message_length"], values["seed"])
        info = {
            "k": k,
            "h_bits": information.entropy(p) + 0.0,  # + 0.0: a certain outcome has H = 0, not −0
            "h_nats": information.entropy(p, math.e) + 0.0,
            "hq_bits": information.entropy(q) + 0.0,
            "h_max": information.max_entropy(k),
            "pq": information.cross_entropy_parts(p, q),
            "qp": information.cross_entropy_parts(q, p),
            "ce_nats": information.cross_entropy(p, q, math.e),
        }
        self.info, self.compression = info, compression
        self._draw_bars(p, q, info)
        self._draw_cross(info)
        self._draw_binary(p, q)
        self._draw_compression(compression)
        self._fill_code_table(p, compression)
        self._write_information(info, compression, values["seed"])

    def _draw_bars(self, p: np.ndarray, q: np.ndarray, info: dict[str, Any]) -> None:
        k = p.size
        xs = np.arange(k, dtype=float)
        self.p_bars.setOpts(x=xs - _OFFSET, height=p, width=1.8 * _OFFSET)
        self.q_bars.setOpts(x=xs + _OFFSET, height=q, width=1.8 * _OFFSET)
        self.pq_panel.plot.setXRange(-0.6, k - 0.4, padding=0)
        every = 1 if k <= 10 else 2 if k <= 20 else 4  # outcomes are whole numbers; labels must not collide
        self.pq_panel.plot.getAxis("bottom").setTicks(
            [[(float(i), str(i)) for i in range(0, k, every)], [(float(i), "") for i in range(k)]]
        )
        self.pq_panel.plot.setTitle(f"H(p) = {_num(info['h_bits'], 2)}, H(q) = {_bits(info['hq_bits'], 2)}")
        for edit, dist in ((self.p_edit, p), (self.q_edit, q)):
            if not edit.hasFocus():
                edit.setText(" ".join(_num(v, 4) for v in dist))
                edit.setCursorPosition(0)  # show the first outcomes

    def _draw_cross(self, info: dict[str, Any]) -> None:
        pq, qp = info["pq"], info["qp"]
        tops = [v for v in (pq.cross_entropy, qp.cross_entropy, info["h_max"]) if math.isfinite(v)]
        ceiling = 1.25 * max(*tops, 0.1)
        kl_shown = [min(pq.kl, ceiling - pq.entropy), min(qp.kl, ceiling - qp.entropy)]  # ∞ reaches the top
        self.h_p_bar.setOpts(x=[0], height=[pq.entropy], width=0.6)
        self.h_q_bar.setOpts(x=[1], height=[qp.entropy], width=0.6)
        self.kl_bars.setOpts(x=[0, 1], y0=[pq.entropy, qp.entropy], height=kl_shown, width=0.6)
        self.max_line.setData([-0.55, 1.55], [info["h_max"]] * 2)
        for x, (text, parts) in enumerate(zip(self.ce_texts, (pq, qp), strict=True)):
            text.setText(f"{_num(parts.cross_entropy, 2)}\n{_num(parts.entropy, 2)}+{_num(parts.kl, 2)}")
            text.setPos(x, min(parts.cross_entropy, ceiling))
        self.ce_panel.plot.setYRange(0, ceiling * 1.35, padding=0)  # room for the two lines of text

    def _draw_binary(self, p: np.ndarray, q: np.ndarray) -> None:
        if p.size == 2:
            self.binary_p.setData([p[0]], [information.entropy(p)])
            self.binary_q.setData([q[0]], [information.entropy(q)])
        else:
            self.binary_p.setData([], [])
            self.binary_q.setData([], [])
        coins = p.size == 2
        self.binary_panel.rename(self.binary_p, "p" if coins else "p (when K = 2)")
        self.binary_panel.rename(self.binary_q, "q" if coins else "q (when K = 2)")

    def _draw_compression(self, c: information.Compression) -> None:
        n = c.message.size
        m = np.arange(1, n + 1, dtype=float)
        self.code_curve.setData(m, c.cumulative_bits_per_symbol)
        self.code_h.setData([1, max(n, 2)], [c.entropy] * 2)
        self.code_l.setData([1, max(n, 2)], [c.average_length] * 2)
        low = min(c.entropy, float(c.cumulative_bits_per_symbol.min()))
        high = max(c.average_length, float(c.cumulative_bits_per_symbol.max()))
        span = max(high - low, 0.5)
        plot = self.code_panel.plot
        plot.setRange(xRange=(0, math.log10(max(n, 2))), yRange=(max(0.0, low - 0.1 * span), high + 0.1 * span),
                      padding=0.02)  # fmt: skip
        plot.getAxis("bottom").setTicks(_decade_ticks(n))
        plot.setTitle(f"{c.actual_bits:,} bits; n·H(p) = {c.entropy_bits + 0.0:,.0f}")

    def _fill_code_table(self, p: np.ndarray, c: information.Compression) -> None:
        k = p.size
        if self.table.rowCount() != k:
            self.table.setRowCount(k)
            for row in range(k):
                for col in range(4):
                    item = QtWidgets.QTableWidgetItem("")
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                    self.table.setItem(row, col, item)
                self.table.item(row, 2).setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            self._mono_codewords()
        for i in range(k):
            surprise = -math.log2(p[i]) if p[i] > 0 else math.inf
            cells = (str(i), f"{p[i]:.4f}", c.code.get(i, "—"), _num(surprise, 2))
            for col, text in enumerate(cells):
                item = self.table.item(i, col)
                if item.text() != text:
                    item.setText(text)
            word = c.code.get(i)
            tip = f"{len(word)} bits for outcome {i}" if word else "probability 0: never sent, so it gets no codeword"
            self.table.item(i, 2).setToolTip(tip)
        bound = f"H(p) = {_num(c.entropy)} ≤ L &lt; H(p) + 1 = {_num(c.entropy + 1)} (Shannon)"
        if len(c.code) == 1:  # a certain outcome: no information, but a prefix code still spends one bit
            bound = "H(p) = 0: nothing to say, yet a code still spends 1 bit per symbol (L = H + 1)"
        self.code_summary.setText(
            f"Average length L = Σ pᵢ ℓᵢ = <b>{_bits(c.average_length)}</b> per symbol;<br>{bound}"
        )

    def _write_information(self, info: dict[str, Any], c: information.Compression, seed: int) -> None:
        k, h = info["k"], info["h_bits"]
        pq, qp = info["pq"], info["qp"]
        self.entropy_label.setText(
            f"<b>Entropy</b> H(p) = −Σ p log₂ p = <b>{_bits(h)}</b> = {_num(info['h_nats'])} nats, "
            f"at most log₂ {k} = {_bits(info['h_max'])} (uniform)"
        )
        kl = f"{_num(pq.kl)}" if math.isfinite(pq.kl) else "∞ (q = 0 where p &gt; 0)"
        self.cross_label.setText(
            f"<b>Cross-entropy</b> H(p, q) = −Σ p log₂ q = <b>{_bits(pq.cross_entropy)}</b> "
            f"= H(p) {_num(pq.entropy)} + KL(p‖q) {kl} ({_num(info['ce_nats'])} nats: the classifier's loss). "
            f"KL(q‖p) = {_num(qp.kl)} ≠ KL(p‖q)"
        )
        n, shown = c.message.size, 6
        more = " …" if n > shown else ""
        symbols = " ".join(str(s) for s in c.message[:shown]) + more
        words = " ".join(c.code[int(s)] for s in c.message[:shown]) + more
        check = "decoded back exactly" if c.round_trip else "did NOT decode back"
        self.code_label.setText(
            f"<b>Message</b> of n = {n:,} symbols (seed {seed}): <b>{c.actual_bits:,} bits</b> = "
            f"{_num(c.actual_bits / n)} per symbol; n·H(p) = {c.entropy_bits + 0.0:,.1f}, "
            f"n·L = {c.expected_bits:,.1f}; "
            f"{check}.<br><tt>{symbols}<br>→ {words}</tt>"
        )

    def _refresh_split(self) -> None:
        values = self.values()
        self.points, self.labels = decision_split.make_blobs(
            values["split_points"], values["split_classes"], values["seed"], values["split_spread"]
        )
        self.best = decision_split.best_split(self.points, self.labels)
        for c, item in enumerate(self.class_items):
            chosen = self.points[self.labels == c]
            item.setData(chosen[:, 0], chosen[:, 1])
        self._sync_split_legend(values["split_classes"])
        self._refresh_threshold(values["threshold"])

    def _sync_split_legend(self, classes: int) -> None:
        """The legend lists the classes that are drawn, then the two lines."""
        if classes == self._legend_classes:
            return
        self._legend_classes = classes
        legend = self.split_panel.legend
        legend.clear()
        for c in range(classes):
            legend.addItem(self.class_items[c], f"class {c}")
        legend.addItem(self.threshold_proxy, "t (drag)")
        legend.addItem(self.best_proxy, "best t")
        self.styled.restyle(self.styled.theme)
        self._restyle_fixed()

    def _feature(self) -> int:
        return _FEATURES.index(self.values()["split_feature"])

    def _refresh_threshold(self, threshold: float) -> None:
        if self.points is None or self.labels is None or self.best is None:
            return
        j = self._feature()
        name = _FEATURE_NAMES[j]
        scan = self.best.scans[j]
        self.split = split = decision_split.split_entropies(self.points, self.labels, j, threshold)
        self._syncing = True
        try:
            for line in (self.threshold_line, self.gain_line):
                if line.value() != threshold:
                    line.setValue(threshold)
        finally:
            self._syncing = False
        angle = 90 if j == 0 else 0
        self.threshold_line.setAngle(angle)
        self.best_line.setAngle(angle)
        if math.isfinite(scan.best_threshold):
            self.best_line.setValue(scan.best_threshold)
            self.gain_best.setData([scan.best_threshold], [scan.best_gain])
        self.gain_curve.setData(scan.thresholds, scan.gains)
        self.gain_panel.plot.setYRange(0, 1.15 * max(scan.best_gain, 0.1), padding=0)
        self.gain_panel.plot.setLabel("bottom", f"threshold t on {name}")
        self.gain_panel.plot.setTitle(f"IG = {_bits(split.gain)}")
        self.split_panel.plot.setTitle(f"Split {name} ≤ {_num(threshold, 2)}")
        self._place_child_texts(j, split)
        n = split.left_count + split.right_count
        best = self.best
        self.split_label.setText(
            f"<b>Split</b> {name} ≤ {_num(threshold, 2)}: IG = H(parent) − Σ (nᵢ/n) H(childᵢ) "
            f"= {_num(split.parent_entropy)} − ({split.left_count}/{n}·{_num(split.left_entropy)} + "
            f"{split.right_count}/{n}·{_num(split.right_entropy)}) = <b>{_bits(split.gain)}</b>; "
            f"best {name} ≤ {_num(scan.best_threshold)} ({_bits(scan.best_gain)}), over both features "
            f"{_FEATURE_NAMES[best.feature]} ≤ {_num(best.threshold)} ({_bits(best.gain)})"
        )

    def _place_child_texts(self, j: int, split: decision_split.Split) -> None:
        """Each child's size and entropy in the corner of its side of the line."""
        (x0, x1), (y0, y1) = _SPLIT_VIEW
        low, high = self.child_texts
        low.setText(f"≤ t: n = {split.left_count}, H = {_num(split.left_entropy, 2)}")
        high.setText(f"> t: n = {split.right_count}, H = {_num(split.right_entropy, 2)}")
        if j == 0:  # left child top left, right child bottom right
            low.setAnchor((0, 0))
            low.setPos(x0, y1)
            high.setAnchor((1, 1))
            high.setPos(x1, y0)
        else:  # the child below the line at the bottom, the one above at the top
            low.setAnchor((0, 1))
            low.setPos(x0, y0)
            high.setAnchor((0, 0))
            high.setPos(x0, y1)

    # --- hover ---------------------------------------------------------------------------------
    def _describe_bar(self, x: float, y: float) -> str | None:
        p, q = self.p, self.q
        if p is None or q is None:
            return None
        i = self.p_bars.column_at(x)
        if i is not None:
            s = _sub(i)
            surprise = -math.log2(p[i]) if p[i] > 0 else math.inf
            share = float(-p[i] * math.log2(p[i])) if p[i] > 0 else 0.0
            return (f"p{s} = {p[i]:.4f}: surprise −log₂ p{s} = {_bits(surprise)}; it adds "
                    f"p{s}·(−log₂ p{s}) = {_bits(share)} to H(p). Drag to change it.")  # fmt: skip
        i = self.q_bars.column_at(x)
        if i is None:
            return None
        s = _sub(i)
        length = -math.log2(q[i]) if q[i] > 0 else math.inf
        term = p[i] * math.log2(p[i] / q[i]) if p[i] > 0 and q[i] > 0 else (math.inf if p[i] > 0 else 0.0)
        return (f"q{s} = {q[i]:.4f}: a code built for q spends −log₂ q{s} = {_bits(length)} on outcome {i}; "
                f"p{s} log₂(p{s}/q{s}) = {_bits(term)} of KL(p‖q). Drag to change it.")  # fmt: skip

    def _describe_cross(self, x: float, y: float) -> str | None:
        if self.info is None:
            return None
        if abs(x) < 0.35:
            parts, a, b = self.info["pq"], "p", "q"
        elif abs(x - 1) < 0.35:
            parts, a, b = self.info["qp"], "q", "p"
        else:
            return f"log₂ K = {_bits(self.info['h_max'])}: the entropy of the uniform distribution, the maximum"
        return (f"H({a}, {b}) = −Σ {a} log₂ {b} = {_bits(parts.cross_entropy)} per symbol of {a} coded for "
                f"{b} = H({a}) {_num(parts.entropy)} (unavoidable) + KL({a}‖{b}) {_num(parts.kl)} (the price of "
                f"assuming {b})")  # fmt: skip

    def _describe_binary(self, x: float, y: float) -> str | None:
        if not 0.0 <= x <= 1.0:
            return None
        h = float(information.binary_entropy(x))
        return f"H₂({x:.3f}) = −{x:.3f} log₂ {x:.3f} − {1 - x:.3f} log₂ {1 - x:.3f} = {_bits(h)}"

    def _describe_message(self, x: float, y: float) -> str | None:
        c = self.compression
        if c is None:
            return None
        m = int(np.clip(round(10**x), 1, c.message.size))
        used = c.cumulative_bits_per_symbol[m - 1] * m
        return (f"after m = {m:,} symbols: {used:,.0f} bits sent = {_bits(used / m)} per symbol; "
                f"the code's average is L = {_num(c.average_length)}, the bound H(p) = {_num(c.entropy)}")  # fmt: skip

    def _describe_point(self, x: float, y: float) -> str | None:
        if self.split is None:
            return None
        j = self._feature()
        left = (x, y)[j] <= self.split.threshold
        return (f"(x₁, x₂) = ({x:.2f}, {y:.2f}): {_FEATURE_NAMES[j]} {'≤' if left else '>'} t = "
                f"{_num(self.split.threshold, 2)}, the {'first' if left else 'second'} child. "
                "Drag the line to move t.")  # fmt: skip

    def _describe_gain(self, x: float, y: float) -> str | None:
        if self.points is None or self.labels is None:
            return None
        split = decision_split.split_entropies(self.points, self.labels, self._feature(), x)
        n = split.left_count + split.right_count
        return (f"t = {x:.2f}: IG = {_num(split.parent_entropy)} − ({split.left_count}/{n}·"
                f"{_num(split.left_entropy)} + {split.right_count}/{n}·{_num(split.right_entropy)}) "
                f"= {_bits(split.gain)}")  # fmt: skip

    # --- export ---------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        self._ensure()
        return {
            "figure": self.view.ci,
            "distributions": self.pq_panel,
            "cross_entropy": self.ce_panel,
            "binary_entropy": self.binary_panel,
            "compression": self.code_panel,
            "split": self.split_panel,
            "gain": self.gain_panel,
        }

    def tables(self) -> dict[str, Table]:
        self._ensure()
        if self.p is None or self.q is None or self.info is None or self.compression is None:
            return {}
        p, q, info, c = self.p, self.q, self.info, self.compression
        pq, qp = info["pq"], info["qp"]
        with np.errstate(divide="ignore", invalid="ignore"):
            surprise = -np.log2(p)
            kl_terms = np.where(p > 0, p * (np.log2(np.where(p > 0, p, 1.0)) - np.log2(q)), 0.0)
        quantities = {
            "H(p)": (info["h_bits"], "bits", "-sum p log2 p"),
            "H(p) in nats": (info["h_nats"], "nats", "-sum p ln p"),
            "log2 K": (info["h_max"], "bits", "entropy of the uniform distribution"),
            "H(q)": (info["hq_bits"], "bits", "-sum q log2 q"),
            "H(p,q)": (pq.cross_entropy, "bits", "-sum p log2 q = H(p) + KL(p||q)"),
            "KL(p||q)": (pq.kl, "bits", "sum p log2(p/q)"),
            "H(q,p)": (qp.cross_entropy, "bits", "-sum q log2 p = H(q) + KL(q||p)"),
            "KL(q||p)": (qp.kl, "bits", "sum q log2(q/p)"),
            "L": (c.average_length, "bits per symbol", "sum p_i len(c_i), Huffman"),
            "message bits": (float(c.actual_bits), "bits", "length of the encoded message"),
            "n H(p)": (c.entropy_bits + 0.0, "bits", "Shannon's bound for the message"),
            "n L": (c.expected_bits, "bits", "what the code spends on average"),
        }
        tables: dict[str, Table] = {
            "distributions": {
                "outcome": list(range(p.size)),
                "p": p,
                "q": q,
                "surprise_bits": surprise,
                "kl_term_bits": kl_terms,
                "codeword": [c.code.get(i, "") for i in range(p.size)],
                "code_length": information.code_lengths(c.code, p.size),
            },
            "quantities": {
                "quantity": list(quantities),
                "value": [v[0] for v in quantities.values()],
                "unit": [v[1] for v in quantities.values()],
                "formula": [v[2] for v in quantities.values()],
            },
            "binary_entropy": dict(zip(("x", "H2_bits"), information.binary_entropy_curve(201), strict=True)),
            "message": {
                "m": np.arange(1, c.message.size + 1),
                "symbol": c.message,
                "bits_per_symbol_so_far": c.cumulative_bits_per_symbol,
            },
        }
        if self.points is not None and self.labels is not None and self.best is not None and self.split is not None:
            j = self._feature()
            scan, split = self.best.scans[j], self.split
            tables["split_points"] = {"x1": self.points[:, 0], "x2": self.points[:, 1], "class": self.labels}
            tables["split_gain"] = {"threshold": scan.thresholds, "gain_bits": scan.gains}
            tables["split"] = {
                "feature": [_FEATURES[j]], "threshold": [split.threshold], "parent_entropy": [split.parent_entropy],
                "left_count": [split.left_count], "left_entropy": [split.left_entropy],
                "right_count": [split.right_count], "right_entropy": [split.right_entropy], "gain": [split.gain],
                "best_threshold": [scan.best_threshold], "best_gain": [scan.best_gain],
            }  # fmt: skip
        return tables
