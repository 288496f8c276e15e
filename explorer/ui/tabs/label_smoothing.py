"""Label smoothing: one-hot against smoothed targets, in theory and in two twin networks trained live.

Top row, left: the theory (the target vectors, the loss as a function of the predicted probability
of the true class, the optimal logit gap). The rest is ``explorer.lab.smoothing.run``: two identical
MLPs from one initialisation, one trained on one-hot targets and one on smoothed targets.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab import smoothing
from explorer.ui.params import Param
from explorer.ui.runner import ExperimentFactory
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import GrowOnlyRange, HoverReadout

_TWINS = ("one_hot", "smoothed")  # series keys: one colour per kind of target, in every plot
_Q = np.linspace(0.0005, 0.9995, 600)  # predicted probability of the true class, for the loss curves
_LOSS_TOP = 3.5  # nats shown on the loss-vs-q plot (−log q is 3.5 at q ≈ 0.03)
_SOLID, _DASHED, _DOTTED = QtCore.Qt.PenStyle.SolidLine, QtCore.Qt.PenStyle.DashLine, QtCore.Qt.PenStyle.DotLine
_COLUMNS = (  # summary table: header, tooltip, ModelState field ("optimal_gap" comes from the frame)
    ("ε", "Smoothing of this network's targets", "eps"),
    ("train acc", "Accuracy on the training set", "train_accuracy"),
    ("val acc", "Accuracy on the held-out validation set", "val_accuracy"),
    ("train NLL", "−log q(true class), mean over the training set (nats)", "train_nll"),
    ("val NLL", "−log q(true class), mean over the validation set (nats)", "val_nll"),
    ("ECE", "Expected calibration error Σ_b (n_b/N)|acc_b − conf_b| on the validation set", "ece"),
    ("conf.", "Mean top-class probability on the validation set; above val acc means overconfident",
     "mean_confidence"),
    ("entropy", "Mean entropy −Σ q log q of the validation predictions (nats)", "mean_entropy"),
    ("gap", "Training set: true logit minus the mean wrong logit, averaged", "mean_logit_gap"),
    ("gap*", "The gap that minimises this network's loss: log((1 − ε + ε/K)/(ε/K)); ∞ for one-hot targets",
     "optimal_gap"),
    ("spread", "Penultimate layer, classes 0-2: mean distance to the own centroid / between centroids",
     "cluster_spread"),
    ("spacing", "Unevenness (std/mean) of the three centroid distances: 0 is an equilateral triangle",
     "spacing_cv"),
)  # fmt: skip


def _fmt(x: float, digits: int = 3) -> str:
    return "∞" if math.isinf(x) else f"{x:.{digits}f}".replace("-", "−")


def _label(twin: str, eps: float) -> str:
    return "one-hot" if twin == "one_hot" else f"smoothed ε = {eps:g}"


def _state(frame: smoothing.SmoothingFrame, twin: str) -> smoothing.ModelState:
    return frame.one_hot if twin == "one_hot" else frame.smoothed


@register
class LabelSmoothingTab(TopicTab):
    name = "label_smoothing"
    title = "Label smoothing"
    order = 80
    summary = "Press Play: two identical networks train, one on one-hot targets, one on smoothed targets."

    @classmethod
    def parameters(cls) -> list[Param]:
        return [
            Param("eps", "smoothing ε", "float", 0.1,
                  "Target = (1 − ε)·one-hot + ε/K. The second network trains on it, the first always on ε = 0",
                  bounds=(0.0, 0.9), group="Targets", in_caption=True),
            Param("num_classes", "classes K", "int", 10, "Number of classes of the data and of each target vector",
                  bounds=(3, 20), group="Targets", in_caption=True),
            Param("target_class", "class shown", "int", 2,
                  "The true class whose one-hot and smoothed target vectors the bar chart shows (0 to K − 1)",
                  bounds=(0, 19), group="Targets"),
            Param("steps", "steps", "int", 400, "Full-batch SGD steps each network takes", bounds=(1, 5000),
                  group="Training", in_caption=True),
            Param("steps_per_frame", "steps per frame", "int", 10, "Steps between redraws: higher is faster",
                  bounds=(1, 100), group="Training"),
            Param("lr", "learning rate η", "float", 0.05, "Step size of SGD with momentum (both networks)",
                  bounds=(1e-4, 1.0), log=True, group="Training", in_caption=True),
            Param("momentum", "momentum", "float", 0.9, "Heavy-ball momentum of SGD (both networks)",
                  bounds=(0.0, 0.99), group="Training"),
            Param("hidden", "hidden width", "int", 128,
                  "Units in each of the two hidden layers; the second is the penultimate layer", bounds=(8, 512),
                  group="Training"),
            Param("n_train", "training points", "int", 1000,
                  "Training set size: a small set is memorised, which makes the one-hot network overconfident",
                  bounds=(20, 5000), group="Data"),
            Param("n_val", "validation points", "int", 2000,
                  "Held-out points for accuracy, NLL, the reliability diagram and the confidence histogram",
                  bounds=(20, 10000), group="Data"),
            Param("separation", "class separation", "float", 4.0,
                  "Typical distance between class means in noise standard deviations: small means overlapping "
                  "classes", bounds=(0.5, 10.0), group="Data"),
            Param("seed", "seed", "int", 0, "Seed of the data and of the initial weights both networks share",
                  bounds=(0, 2**31 - 1), group="Data"),
            Param("bins", "calibration bins", "int", 15, "Equal-width confidence bins of the reliability diagram",
                  bounds=(5, 30), group="Display"),
            Param("projection", "projected points", "choice", "train",
                  "Which points the penultimate-layer plots show (classes 0, 1 and 2)", choices=("train", "val"),
                  choice_labels=("training set", "validation set"), group="Display"),
        ]  # fmt: skip

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame: smoothing.SmoothingFrame | None = None
        self.theory: dict[str, Any] | None = None
        self._step_extent = 0
        self._conf_top = 0.0
        self._proj_box: dict[str, np.ndarray | None] = dict.fromkeys(_TWINS)  # (x0, x1, y0, y1) shown
        # (item, key, width, style): the theme dashes keys past its palette, and one_hot and smoothed are
        # past it, so every line here says its own style: validation solid, training dashed
        self._lines: list[tuple[pg.PlotDataItem, str, float, QtCore.Qt.PenStyle]] = []
        self.view = pg.GraphicsLayoutWidget()
        self._build_theory()
        self._build_training()
        self._build_calibration()
        self._build_geometry()
        grid = (
            (self.targets_panel, self.loss_panel, self.acc_panel, self.nll_panel),
            (self.rel_panel, self.conf_panel, self.proj_panels["one_hot"], self.proj_panels["smoothed"]),
        )
        for row, panels in enumerate(grid):
            for col, panel in enumerate(panels):
                self.view.addItem(panel, row=row, col=col)
        self._build_widgets()
        self._restyle_fixed()

    # --- building ------------------------------------------------------------------------------
    def _line(self, item: pg.PlotDataItem, key: str, width: float, style: QtCore.Qt.PenStyle = _SOLID) -> Any:
        self._lines.append((item, key, width, style))
        item.setPen(self.styled.theme.pen(key, width, style))
        return item

    def _build_theory(self) -> None:
        styled = self.styled
        self.targets_panel = LegendedPlot(styled, "Targets for class 2", "class k", "target probability",
                                          downsample=False)  # fmt: skip
        self.target_bars = {twin: styled.keyed(pg.BarGraphItem(x=[0], height=[0], width=0.36), twin) for twin in _TWINS}
        for twin, bars in self.target_bars.items():
            self.targets_panel.add(bars, _label(twin, 0.1))
        self.target_texts = [pg.TextItem(anchor=(0.5, 1.0)) for _ in range(2)]
        for text in self.target_texts:
            self.targets_panel.plot.addItem(text)
        self.targets_panel.plot.setYRange(0, 1.4, padding=0)  # room above the bars for the formula
        self.targets_panel.plot.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0, 0.25, 0.5, 0.75, 1)], []])

        self.loss_panel = LegendedPlot(styled, "Optimal logit gap", "predicted q(true class)",
                                       "loss (nats)", downsample=False)  # fmt: skip
        self.loss_curves = {twin: self._line(pg.PlotDataItem(), twin, 2.0) for twin in _TWINS}
        for twin, curve in self.loss_curves.items():
            self.loss_panel.add(curve, _label(twin, 0.1))
        self.loss_best = pg.ScatterPlotItem(size=14, symbol="o")
        self.loss_best.setZValue(10)
        self.loss_panel.add(self.loss_best, "minimum")
        self.gap_text = pg.TextItem(anchor=(1.0, 0.0))
        self.loss_panel.plot.addItem(self.gap_text)
        self.loss_panel.plot.setRange(xRange=(0, 1), yRange=(0, _LOSS_TOP), padding=0.02)
        for panel in (self.targets_panel, self.loss_panel):
            panel.plot.vb.setMouseEnabled(x=False, y=False)

    def _build_training(self) -> None:
        styled = self.styled
        self.acc_panel = LegendedPlot(styled, "Accuracy", "step", "accuracy")
        self.nll_panel = LegendedPlot(styled, "NLL of the true class", "step", "NLL (nats)", log_y=True)
        self.acc_curves: dict[str, dict[str, pg.PlotDataItem]] = {}
        self.nll_curves: dict[str, dict[str, pg.PlotDataItem]] = {}
        # legend: colour is the network, line style the data set (grey samples, not drawn in the plot)
        self.style_samples = {"train": pg.PlotDataItem(), "validation": pg.PlotDataItem()}
        for panel, curves in ((self.acc_panel, self.acc_curves), (self.nll_panel, self.nll_curves)):
            for twin in _TWINS:
                curves[twin] = {"train": self._line(pg.PlotDataItem(), twin, 1.5, _DASHED),
                                "val": self._line(pg.PlotDataItem(), twin, 2.0)}  # fmt: skip
                panel.add(curves[twin]["train"])
                panel.add(curves[twin]["val"], "one-hot" if twin == "one_hot" else "smoothed")
            for name, sample in self.style_samples.items():
                panel.legend.addItem(sample, name)
            panel.fit_legend()
        self.acc_panel.plot.setYRange(0, 1.02, padding=0)
        self.nll_range = GrowOnlyRange(self.nll_panel.plot, log=True)

    def _build_calibration(self) -> None:
        styled = self.styled
        self.rel_panel = LegendedPlot(styled, "Reliability", "confidence (top q)",
                                      "accuracy in the bin", columns=2, downsample=False)  # fmt: skip
        self.rel_curves = {twin: self._line(pg.PlotDataItem(symbol="o", symbolSize=7), twin, 2.0) for twin in _TWINS}
        for twin, curve in self.rel_curves.items():
            self.rel_panel.add(curve, f"{'one-hot' if twin == 'one_hot' else 'smoothed'}: ECE —")
        self.diagonal = pg.PlotDataItem([0, 1], [0, 1])
        self.rel_panel.add(self.diagonal, "calibrated")
        self.rel_panel.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
        self.rel_panel.plot.vb.setMouseEnabled(x=False, y=False)

        self.conf_panel = LegendedPlot(styled, "Confidence", "confidence (top q)",
                                       "fraction of points", downsample=False)  # fmt: skip
        self.conf_curves = {
            twin: self._line(pg.PlotDataItem(stepMode="center", fillLevel=0), twin, 2.0) for twin in _TWINS
        }
        for twin, curve in self.conf_curves.items():
            self.conf_panel.add(curve, "one-hot" if twin == "one_hot" else "smoothed")
        self.conf_panel.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)

    def _build_geometry(self) -> None:
        self.proj_panels: dict[str, LegendedPlot] = {}
        self.proj_points: dict[str, list[pg.ScatterPlotItem]] = {}
        self.proj_templates: dict[str, list[pg.ScatterPlotItem]] = {}
        self.template_sample = pg.ScatterPlotItem(size=16, symbol="star")  # the legend's sample
        for twin in _TWINS:
            name = "One-hot" if twin == "one_hot" else "Smoothed"
            panel = LegendedPlot(self.styled, f"{name}: penultimate", "along t₁ − t₀", "across, in the plane",
                                 downsample=False)  # fmt: skip
            points = [pg.ScatterPlotItem(size=6, symbol="ost"[c]) for c in range(3)]
            for c, item in enumerate(points):
                panel.add(item, f"class {c}")
            templates = [pg.ScatterPlotItem(size=20, symbol="star") for _ in range(3)]
            for item in templates:
                item.setZValue(10)
                panel.add(item)
            panel.legend.addItem(self.template_sample, "template")
            panel.plot.setAspectLocked(True)
            self.proj_panels[twin], self.proj_points[twin], self.proj_templates[twin] = panel, points, templates

    def _build_widgets(self) -> None:
        self.table = QtWidgets.QTableWidget(2, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels([c[0] for c in _COLUMNS])
        for col, (_, tip, _) in enumerate(_COLUMNS):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.setVerticalHeaderLabels(["one-hot", "smoothed"])
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for row in range(2):
            for col in range(len(_COLUMNS)):
                item = QtWidgets.QTableWidgetItem("—")
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(row, col, item)
        self.hover = QtWidgets.QLabel("Hover over a plot to read its numbers; press Play to train both networks.")
        self.hover.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hover.setWordWrap(True)
        self.readouts = [
            HoverReadout(self.targets_panel.plot, self._describe_target, self.hover),
            HoverReadout(self.loss_panel.plot, self._describe_loss, self.hover),
            HoverReadout(self.rel_panel.plot, self._describe_bin, self.hover),
            HoverReadout(self.conf_panel.plot, self._describe_confidence, self.hover),
        ]
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.table)
        layout.addWidget(self.hover)

    def _panels(self) -> list[LegendedPlot]:
        return [self.targets_panel, self.loss_panel, self.acc_panel, self.nll_panel, self.rel_panel,
                self.conf_panel, *self.proj_panels.values()]  # fmt: skip

    # --- theme: what keyed series cannot say -----------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._restyle_fixed()

    def _restyle_fixed(self) -> None:
        theme = self.styled.theme
        for item, key, width, style in self._lines:
            item.setPen(theme.pen(key, width, style))
            if item.opts.get("symbol") is not None:
                item.setSymbolBrush(theme.brush(key))
                item.setSymbolPen(pg.mkPen(theme.background))
                item.setSymbolSize(int(7 * theme.font_scale))
        for twin, curve in self.conf_curves.items():
            curve.setBrush(theme.brush(twin, 60))
        muted = pg.mkPen(theme.muted(230), width=1.5 * theme.pen_scale)
        self.style_samples["validation"].setPen(muted)
        self.style_samples["train"].setPen(pg.mkPen(theme.muted(230), width=1.5 * theme.pen_scale, style=_DASHED))
        self.diagonal.setPen(pg.mkPen(theme.foreground, width=1.5 * theme.pen_scale, style=_DOTTED))
        self.loss_best.setBrush(theme.brush("smoothed"))
        self.loss_best.setPen(pg.mkPen(theme.foreground, width=theme.pen_scale))
        self.loss_best.setSize(14 * theme.font_scale)
        for twin in _TWINS:
            for c, (item, star) in enumerate(zip(self.proj_points[twin], self.proj_templates[twin], strict=True)):
                item.setBrush(pg.mkBrush(theme.palette[c]))
                item.setPen(pg.mkPen(theme.background, width=0.5 * theme.pen_scale))
                item.setSize(6 * theme.font_scale)
                star.setBrush(pg.mkBrush(theme.palette[c]))
                star.setPen(pg.mkPen(theme.foreground, width=1.2 * theme.pen_scale))
                star.setSize(20 * theme.font_scale)
        self.template_sample.setBrush(pg.mkBrush(theme.background))
        self.template_sample.setPen(pg.mkPen(theme.foreground, width=1.2 * theme.pen_scale))
        font = QtGui.QFont()
        font.setPointSizeF(theme.point_size(9))  # the theme's tick font: the NLL axis keeps room for "0.001"
        # from the start, or it widens only after a paint with a smaller decade (an exported image misses that)
        room = QtGui.QFontMetrics(font).horizontalAdvance("0.001") + 4
        self.nll_panel.plot.getAxis("left").setStyle(autoExpandTextSpace=False, tickTextWidth=room)
        for text in (*self.target_texts, self.gap_text):
            text.setColor(theme.foreground)
            text.setFont(font)
        for panel in self._panels():
            panel.legend.update()
            panel.fit_legend()
        # two lines whatever the hover text: a label that grows would shift the plots under the mouse
        self.hover.setFixedHeight(2 * QtGui.QFontMetrics(self.hover.font()).lineSpacing() + 4)
        for row, twin in enumerate(_TWINS):  # each row header carries its network's colour
            swatch = QtGui.QPixmap(12, 12)
            swatch.fill(theme.color(twin))
            self.table.verticalHeaderItem(row).setIcon(QtGui.QIcon(swatch))
        self._fit_table()

    def _fit_table(self) -> None:
        rows = sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height() + rows + 4)

    # --- parameters -> lab ---------------------------------------------------------------------
    def experiment(self, values: dict[str, Any]) -> ExperimentFactory | None:
        try:
            cfg = smoothing.SmoothingConfig(
                eps=values["eps"],
                num_classes=values["num_classes"],
                n_train=values["n_train"],
                n_val=values["n_val"],
                separation=values["separation"],
                hidden=values["hidden"],
                lr=values["lr"],
                momentum=values["momentum"],
                steps=values["steps"],
                steps_per_frame=values["steps_per_frame"],
                seed=values["seed"],
                device=self.device,
                bins=values["bins"],
            )
        except ValueError as exc:
            self.sig_message.emit(str(exc))
            return None
        return lambda: smoothing.run(cfg)

    def on_param_changed(self, key: str, value: Any) -> bool:
        """The targets redraw at once; the class shown and the projected set need no new training."""
        assert self.panel is not None
        if key == "num_classes" and self.panel.value("target_class") >= value:
            self.panel.set_value("target_class", value - 1, quiet=True)
        if key in ("eps", "num_classes", "target_class"):
            self._draw_theory()
        if key == "projection" and self.frame is not None:
            self._draw_geometry(self.frame)
        return key not in ("target_class", "projection")

    def start_jobs(self) -> None:
        self._draw_theory()

    # --- drawing -------------------------------------------------------------------------------
    def _draw_theory(self) -> None:
        """The target vectors and the loss curves: they depend on ε, K and the class, not on training."""
        values = self.values()
        eps, k, c = values["eps"], values["num_classes"], values["target_class"]
        if c >= k:
            self.sig_message.emit(f"class shown must be one of the K = {k} classes, 0 to {k - 1}; got {c}")
            return
        try:
            pairs = (("one_hot", 0.0), ("smoothed", eps))
            targets = {twin: smoothing.smooth_targets(np.array([c]), k, e)[0] for twin, e in pairs}
            losses = {twin: smoothing.loss_vs_true_prob(_Q, k, e) for twin, e in pairs}
            q_star, gap = smoothing.optimal_true_prob(k, eps), smoothing.optimal_logit_gap(k, eps)
        except ValueError as exc:
            self.sig_message.emit(f"Targets: {exc}")
            return
        self.theory = {"eps": eps, "k": k, "class": c, "targets": targets, "losses": losses, "q_star": q_star,
                       "gap": gap}  # fmt: skip
        xs = np.arange(k, dtype=float)
        for twin, offset in zip(_TWINS, (-0.2, 0.2), strict=True):
            self.target_bars[twin].setOpts(x=xs + offset, height=targets[twin], width=0.36)
            self.targets_panel.rename(self.target_bars[twin], _label(twin, eps))
            self.loss_curves[twin].setData(_Q, np.minimum(losses[twin], 10 * _LOSS_TOP))
            self.loss_panel.rename(self.loss_curves[twin], _label(twin, eps))
        self.targets_panel.plot.setXRange(-0.7, k - 0.3, padding=0)
        self.targets_panel.plot.setTitle(f"Targets for class {c}")
        true_text, wrong_text = self.target_texts
        true_text.setText(f"1 − ε + ε/K\n= {targets['smoothed'][c]:.3g}")
        left = c < k / 2  # the label reaches from the bar towards the middle: it never leaves the plot
        true_text.setPos(c - 0.45 if left else c + 0.45, 1.01)
        true_text.setAnchor((0.0, 1.0) if left else (1.0, 1.0))
        wrong = k - 1 if c < k / 2 else 0  # a wrong class far from the true one: the labels never meet
        wrong_text.setText(f"ε/K = {eps / k:.3g}")
        wrong_text.setPos(wrong, targets["smoothed"][wrong] + 0.03)
        wrong_text.setAnchor((1.0, 1.0) if wrong == k - 1 else (0.0, 1.0))
        if eps > 0:
            self.loss_best.setData([q_star], [float(smoothing.loss_vs_true_prob(q_star, k, eps))])
            self.gap_text.setText(f"q* = 1 − ε + ε/K = {q_star:.3g}\ngap* = log(q*·K/ε) = {gap:.3g}")
        else:
            self.loss_best.setData([1.0], [0.0])
            self.gap_text.setText("one-hot: best at q = 1,\nlogit gap → ∞")
        self.gap_text.setPos(0.98, _LOSS_TOP * 0.97)
        self.loss_panel.plot.setTitle(f"Optimal logit gap: {_fmt(gap, 2)}")

    def show_frame(self, frame: smoothing.SmoothingFrame) -> None:
        first = self.frame is None or frame.step == 0
        self.frame = frame
        steps_wanted = self.values()["steps"]
        if self._step_extent != steps_wanted:  # fixed x axes: no re-layout of the axes every frame
            self._step_extent = steps_wanted
            for panel in (self.acc_panel, self.nll_panel):
                panel.plot.setXRange(0, steps_wanted, padding=0.02)
        if first:
            self.nll_range.reset()
            self._conf_top = 0.0
            self._proj_box = dict.fromkeys(_TWINS)
        steps = frame.history_steps
        nll = []
        for twin in _TWINS:
            state = _state(frame, twin)
            self.acc_curves[twin]["train"].setData(steps, state.train_accuracy_history)
            self.acc_curves[twin]["val"].setData(steps, state.val_accuracy_history)
            nll += [np.maximum(state.train_nll_history, 1e-6), np.maximum(state.val_nll_history, 1e-6)]
            self.nll_curves[twin]["train"].setData(steps, nll[-2])
            self.nll_curves[twin]["val"].setData(steps, nll[-1])
            self._draw_calibration(frame, twin, state)
        self.nll_range.include(*nll)
        top = max(float(np.max(c.yData)) for c in self.conf_curves.values())
        if top > self._conf_top:  # grow only: a still axis is a cheap axis
            self._conf_top = min(1.0, 1.2 * top)
            self.conf_panel.plot.setYRange(0, self._conf_top, padding=0.02)
        self._draw_geometry(frame)
        self._fill_table(frame)

    def _draw_calibration(self, frame: smoothing.SmoothingFrame, twin: str, state: smoothing.ModelState) -> None:
        rel = state.reliability
        filled = rel.counts > 0
        self.rel_curves[twin].setData(rel.confidence[filled], rel.accuracy[filled])
        name = "one-hot" if twin == "one_hot" else "smoothed"
        self.rel_panel.rename(self.rel_curves[twin], f"{name}: ECE = {rel.ece:.3f}")
        counts = state.confidence_counts.astype(float)
        self.conf_curves[twin].setData(frame.confidence_edges, counts / max(counts.sum(), 1.0))

    def _draw_geometry(self, frame: smoothing.SmoothingFrame) -> None:
        train = self.values()["projection"] == "train"
        labels = frame.train_projection_labels if train else frame.val_projection_labels
        for twin in _TWINS:
            state = _state(frame, twin)
            points = state.train_projection if train else state.val_projection
            for c, item in zip(frame.projected_classes, self.proj_points[twin], strict=True):
                chosen = points[labels == c]
                item.setData(chosen[:, 0], chosen[:, 1])
            for star, (x, y) in zip(self.proj_templates[twin], state.template_projection, strict=True):
                star.setData([x], [y])
            self._grow_box(twin, np.vstack([points, state.template_projection]))

    def _grow_box(self, twin: str, xy: np.ndarray) -> None:
        """Keep a projection's view still while its points stay inside, grow it when they leave: moving
        axes re-render their tick text, the dearest part of a live redraw (as GrowOnlyRange does in 1-D)."""
        low, high = xy.min(axis=0), xy.max(axis=0)
        box = self._proj_box[twin]
        if box is not None and box[0] <= low[0] and high[0] <= box[1] and box[2] <= low[1] and high[1] <= box[3]:
            return
        pad = 0.15 * np.maximum(high - low, 1e-6)
        new = np.array([low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]])
        if box is not None:
            new = np.array([min(box[0], new[0]), max(box[1], new[1]), min(box[2], new[2]), max(box[3], new[3])])
        self._proj_box[twin] = new
        self.proj_panels[twin].plot.setRange(xRange=new[:2], yRange=new[2:], padding=0)

    def _fill_table(self, frame: smoothing.SmoothingFrame) -> None:
        for row, twin in enumerate(_TWINS):
            for col, (_, _, field) in enumerate(_COLUMNS):
                value = self._value(frame, twin, field)
                text = f"{value:g}" if field == "eps" else _fmt(value)
                item = self.table.item(row, col)
                if item.text() != text:
                    item.setText(text)

    @staticmethod
    def _value(frame: smoothing.SmoothingFrame, twin: str, field: str) -> float:
        """One number of the summary table; the optimal gap is the frame's (the parameters may have moved on)."""
        if field == "optimal_gap":
            return math.inf if twin == "one_hot" else frame.optimal_logit_gap
        return float(getattr(_state(frame, twin), field))

    # --- hover ---------------------------------------------------------------------------------
    def _describe_target(self, x: float, y: float) -> str | None:
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

    def _describe_loss(self, x: float, y: float) -> str | None:
        theory = self.theory
        if theory is None or not 0.0 < x < 1.0:
            return None
        k, eps = theory["k"], theory["eps"]
        one = float(smoothing.loss_vs_true_prob(x, k, 0.0))
        smooth = float(smoothing.loss_vs_true_prob(x, k, eps))
        return (f"q = {x:.3f}: one-hot loss −log q = {one:.3f} nats; smoothed loss −(1 − ε + ε/K) log q − "
                f"(K − 1)(ε/K) log((1 − q)/(K − 1)) = {smooth:.3f} nats")  # fmt: skip

    def _describe_bin(self, x: float, y: float) -> str | None:
        if self.frame is None:
            return None
        parts = []
        for twin in _TWINS:
            rel = _state(self.frame, twin).reliability
            b = int(np.clip(np.searchsorted(rel.edges, x) - 1, 0, rel.counts.size - 1))
            name = "one-hot" if twin == "one_hot" else "smoothed"
            if rel.counts[b] == 0:
                parts.append(f"{name}: no points")
            else:
                parts.append(f"{name}: {rel.counts[b]} points, accuracy {rel.accuracy[b]:.3f} at mean confidence "
                             f"{rel.confidence[b]:.3f}")  # fmt: skip
        edges = _state(self.frame, "one_hot").reliability.edges
        b = int(np.clip(np.searchsorted(edges, x) - 1, 0, edges.size - 2))
        return (f"confidence in ({edges[b]:.2f}, {edges[b + 1]:.2f}]: " + "; ".join(parts)
                + ". ECE = Σ_b (n_b/N)|acc_b − conf_b|")  # fmt: skip

    def _describe_confidence(self, x: float, y: float) -> str | None:
        if self.frame is None:
            return None
        parts = []
        for twin in _TWINS:
            state = _state(self.frame, twin)
            name = "one-hot" if twin == "one_hot" else "smoothed"
            parts.append(f"{name}: mean confidence {state.mean_confidence:.3f} vs accuracy "
                         f"{state.val_accuracy:.3f}, mean entropy {state.mean_entropy:.3f} nats")  # fmt: skip
        return "; ".join(parts)

    # --- export --------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        if self.theory is None and self.panel is not None:
            self._draw_theory()
        return {
            "figure": self.view.ci,
            "targets": self.targets_panel,
            "loss_vs_q": self.loss_panel,
            "accuracy": self.acc_panel,
            "nll": self.nll_panel,
            "reliability": self.rel_panel,
            "confidence": self.conf_panel,
            "penultimate_one_hot": self.proj_panels["one_hot"],
            "penultimate_smoothed": self.proj_panels["smoothed"],
        }

    def tables(self) -> dict[str, Table]:
        if self.theory is None and self.panel is not None:
            self._draw_theory()
        tables: dict[str, Table] = {}
        theory = self.theory
        if theory is not None:
            tables["targets"] = {"class": list(range(theory["k"])), "one_hot": theory["targets"]["one_hot"],
                                 "smoothed": theory["targets"]["smoothed"]}  # fmt: skip
            tables["loss_vs_q"] = {"q": _Q, "loss_one_hot_nats": theory["losses"]["one_hot"],
                                   "loss_smoothed_nats": theory["losses"]["smoothed"]}  # fmt: skip
        frame = self.frame
        if frame is None:
            return tables
        summary: Table = {"model": list(_TWINS)}
        for _, _, field in _COLUMNS:
            summary[field] = [self._value(frame, t, field) for t in _TWINS]
        curves: Table = {"step": frame.history_steps}
        edges = frame.one_hot.reliability.edges
        reliability: Table = {"bin_low": edges[:-1], "bin_high": edges[1:]}
        confidence: Table = {"bin_low": frame.confidence_edges[:-1], "bin_high": frame.confidence_edges[1:]}
        train: Table = {"class": frame.train_projection_labels}
        val: Table = {"class": frame.val_projection_labels}
        templates: Table = {"class": list(frame.projected_classes)}
        for twin in _TWINS:
            state = _state(frame, twin)
            for name in ("train_accuracy", "val_accuracy", "train_nll", "val_nll"):
                curves[f"{twin}_{name}"] = getattr(state, f"{name}_history")
            rel = state.reliability
            reliability.update({f"{twin}_confidence": rel.confidence, f"{twin}_accuracy": rel.accuracy,
                                f"{twin}_count": rel.counts})  # fmt: skip
            confidence[f"{twin}_count"] = state.confidence_counts
            for table, points in ((train, state.train_projection), (val, state.val_projection),
                                  (templates, state.template_projection)):  # fmt: skip
                table[f"{twin}_x"], table[f"{twin}_y"] = points[:, 0], points[:, 1]
        tables.update(summary=summary, curves=curves, reliability=reliability, confidence=confidence,
                      penultimate_train=train, penultimate_val=val, templates=templates)  # fmt: skip
        return tables
