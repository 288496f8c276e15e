"""Natural gradient: steps measured by the Fisher metric, their invariance, and what the Fisher costs.

Three views, switched by the bar above the plots (or the "view" parameter): a Gaussian fitted in two
parameterizations (natural-gradient paths coincide, gradient-descent paths do not), a training race on
two spirals (SGD, Adam, K-FAC, exact natural gradient; per step and per second), and the measured cost
of the exact Fisher against K-FAC as P grows, with a formula-only extrapolation to real networks.
One Play drives the fit and the race together; the cost sweep is a job (Measure, with Cancel).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui.params import Param
from explorer.ui.runner import ExperimentFactory, JobRunner
from explorer.ui.theme import BASE_POINT_SIZE, Theme, style_axis
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.legended import StripLegend
from explorer.ui.widgets.plots import GrowOnlyRange, HoverReadout, new_plot

if TYPE_CHECKING:
    from explorer.lab.fisher_cost import CostResult
    from explorer.lab.fisher_race import RaceFrame
    from explorer.lab.gaussian_fit import GaussianFitFrame
    from explorer.lab.natural_gradient_views import FitPlanes, NaturalGradientFrame, PowerLaw
    from explorer.ui.params import ParamPanel

VIEWS = ("invariance", "race", "cost")
VIEW_TITLES = ("1 · Invariance: fitting a Gaussian", "2 · Steps: a training race", "3 · Cost: exact Fisher vs K-FAC")
HEADLINES = {
    "invariance": "<b>Invariance.</b> The same Gaussian N(μ, σ²) is fitted in two coordinate systems, (μ, σ) and "
    "(μ, log σ). Gradient descent takes a different path through the distributions in each; the natural gradient "
    "F⁻¹∇L takes the same path, because it measures a step by how much it changes the distribution (the Fisher "
    "ellipses), not by how far the coordinates move.",
    "race": "<b>Geometry-aware steps.</b> On a small MLP the natural gradient (exact, or K-FAC's approximation) "
    "needs far fewer steps than SGD or Adam. Per second of compute the exact one pays for a P × P Fisher and its "
    "solve at every step; K-FAC costs little more than a gradient.",
    "cost": "<b>The cost.</b> The exact Fisher has P² entries and its solve takes ~P³/3 operations, measured below "
    "as P grows; K-FAC keeps two small factors per layer (F ≈ A ⊗ G), which is why practice approximates.",
}
ACTIVATIONS = ("tanh", "relu", "gelu", "sigmoid")

#: the race's methods, in the lab's order, with their legend labels and theme series keys
RACE_METHODS = ("sgd", "adam", "kfac", "exact_ng")
RACE_LABELS = {"sgd": "SGD + momentum", "adam": "Adam", "kfac": "K-FAC", "exact_ng": "Exact natural gradient"}
RACE_LR_KEY = {"sgd": "sgd_lr", "adam": "adam_lr", "kfac": "ng_lr", "exact_ng": "ng_lr"}
#: the Gaussian fit's runs (method, chart), in the lab's order; colour by method, line style by chart
FIT_RUNS = (("gd", "sigma"), ("gd", "log_sigma"), ("natural", "sigma"), ("natural", "log_sigma"))
FIT_KEYS = {"gd": "gd", "natural": "natural_gradient"}
FIT_LABELS = {"gd": "gradient descent", "natural": "natural gradient"}
CHART_LABELS = {"sigma": "(μ, σ)", "log_sigma": "(μ, log σ)"}
COST_METHODS = (("exact", "exact_ng", "exact Fisher"), ("kfac", "kfac", "K-FAC"))
FORMULA_NOTE = "computed from the formula, not measured"

_DASH = QtCore.Qt.PenStyle.DashLine
_MIB = 2.0**20
_WARN = "#d55e00"


def _race_params() -> list[Param]:
    group = "Training race (two spirals)"
    return [
        Param("race_steps", "steps", "int", 2000, "How many steps each optimizer takes", bounds=(10, 20000),
              group=group),
        Param("width", "hidden width", "int", 32, "Units per hidden layer: P grows like width²", bounds=(2, 128),
              group=group, in_caption=True),
        Param("n_hidden", "hidden layers", "int", 1, "Width × width layers between input and output layers",
              bounds=(1, 3), group=group),
        Param("activation", "activation", "choice", "tanh", "Non-linearity of the hidden layers",
              choices=ACTIVATIONS, group=group),
        Param("n_points", "points", "int", 512, "Points on the two spirals (half per class)", bounds=(16, 4096),
              group=group),
        Param("batch_size", "batch size", "int", 128, "Examples per step; every method sees the same batches",
              bounds=(1, 1024), group=group),
        Param("sgd_lr", "SGD η", "float", 0.3, "Step size of SGD (momentum 0.9): θ ← θ − η v", bounds=(1e-4, 10.0),
              log=True, group=group),
        Param("adam_lr", "Adam η", "float", 0.02, "Step size of Adam", bounds=(1e-5, 1.0), log=True, group=group),
        Param("ng_lr", "natural-gradient η", "float", 0.3,
              "Step size of K-FAC and the exact natural gradient: θ ← θ − η (F + λI)⁻¹∇L", bounds=(1e-4, 10.0),
              log=True, group=group),
        Param("damping", "damping λ", "float", 1e-2,
              "Added to the Fisher (and split between K-FAC's factors) so that it can be inverted",
              bounds=(1e-6, 10.0), log=True, group=group),
        Param("max_exact_params", "exact NG up to P", "int", 2000,
              "Largest parameter count P for which the exact natural gradient runs: it builds a P × P Fisher "
              "and solves it at every step", bounds=(0, 5000), group=group),
        Param("log_time", "log seconds axis", "bool", True,
              "Log scale for wall-clock seconds: methods whose steps cost 30× more stay on the same chart",
              group=group),
    ]  # fmt: skip


def _fit_params() -> list[Param]:
    group = "Gaussian fit"
    return [
        Param("fit_lr", "step size η", "float", 0.02, "Step size of both methods in both charts",
              bounds=(1e-4, 1.0), log=True, group=group),
        Param("fit_steps", "steps", "int", 400, "Steps of the Gaussian fit", bounds=(1, 5000), group=group),
        Param("mu0", "start μ", "float", -1.0, "Common start: mean", bounds=(-5.0, 5.0), group=group),
        Param("sigma0", "start σ", "float", 2.0, "Common start: standard deviation", bounds=(0.05, 5.0),
              group=group),
        Param("true_mu", "data μ", "float", 1.0, "Mean of the Gaussian the data are drawn from",
              bounds=(-5.0, 5.0), group=group),
        Param("true_sigma", "data σ", "float", 0.5, "Standard deviation of the Gaussian the data are drawn from",
              bounds=(0.05, 5.0), group=group),
        Param("n_samples", "samples", "int", 200, "How many data points are drawn", bounds=(2, 100_000),
              group=group),
    ]  # fmt: skip


def _cost_params() -> list[Param]:
    group = "Cost sweep (press Measure)"
    return [
        Param("cost_budget_s", "time budget (s)", "float", 6.0,
              "Wall-clock seconds the whole sweep may take; it stops early once they are spent",
              bounds=(0.5, 60.0), group=group),
        Param("cost_exact_max_width", "exact: largest width", "int", 64,
              "Widest network of the exact-Fisher sweep (P ≈ width² per hidden layer)", bounds=(8, 64), group=group),
        Param("cost_n_hidden", "hidden layers", "int", 1, "Width × width layers of the swept MLPs",
              bounds=(0, 2), group=group),
    ]  # fmt: skip


def _table(headers: list[str]) -> QtWidgets.QTableWidget:
    table = QtWidgets.QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QtWidgets.QHeaderView.ResizeMode.Stretch)
    return table


def _set_row(table: QtWidgets.QTableWidget, row: int, cells: list[str]) -> None:
    for col, text in enumerate(cells):
        item = table.item(row, col)
        if item is None:
            item = QtWidgets.QTableWidgetItem(text)
            table.setItem(row, col, item)
        elif item.text() != text:  # only what changed: setting items is the costly part
            item.setText(text)


def _label(text: str = "", *, wrap: bool = True) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _count(n: float) -> str:
    for factor, suffix in ((1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")):
        if n >= factor:
            return f"{n / factor:.3g}{suffix}"
    return f"{n:.0f}"


def _bytes(n: float) -> str:
    for power, suffix in ((6, "EiB"), (5, "PiB"), (4, "TiB"), (3, "GiB"), (2, "MiB"), (1, "KiB")):
        if n >= 1024.0**power:
            return f"{n / 1024.0**power:.3g} {suffix}"
    return f"{n:.0f} B"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "—"
    year = 365.25 * 86400
    if seconds >= 1e6 * year:
        return f"{seconds / year:.2g} years"
    if seconds >= year:
        return f"{seconds / year:,.0f} years"
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def _nan_joined(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m, n, 2) closed curves as one x, y pair with NaN breaks, for one PlotDataItem."""
    m, n, _ = curves.shape
    joined = np.full((m, n + 1, 2), np.nan)
    joined[:, :n] = curves
    flat = joined.reshape(-1, 2)
    return flat[:, 0], flat[:, 1]


class _LogAxis(pg.AxisItem):
    """Log-axis labels on decades only (on 1, 2 and 5 when under two decades show): pyqtgraph's own
    labels on every minor tick of a several-decade axis run into each other."""

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        strings = super().logTickStrings(values, scale, spacing)
        low, high = sorted(self.range)
        keep = (1,) if high - low >= 2 else (1, 2, 5)
        return [
            text if round(10 ** (v - math.floor(v + 1e-9))) in keep else ""
            for v, text in zip(values, strings, strict=True)
        ]


class _GrowOnly(GrowOnlyRange):
    """A grow-only y range padded by 5%, not 2%: in presentation mode a decade label that sits on the
    range's edge needs that much room, or pyqtgraph drops it."""

    def include(self, *series: np.ndarray) -> None:
        before = (self.low, self.high)
        super().include(*series)
        if self.low is not None and self.high is not None and (self.low, self.high) != before:
            view = (np.log10(self.low), np.log10(self.high)) if self.log else (self.low, self.high)
            self.plot.setYRange(*view, padding=0.05)


def _log_plot(plot: pg.PlotItem, theme: Theme, log_x: bool, log_y: bool) -> pg.PlotItem:
    """Give a plot from ``new_plot`` log axes that label decades, keeping its labels, grid and style."""
    labels = {side: plot.getAxis(side).labelText for side in ("left", "bottom")}
    axes = {side: _LogAxis(side) for side, log in (("bottom", log_x), ("left", log_y)) if log}
    plot.setAxisItems(axes)
    for side, text in labels.items():
        plot.setLabel(side, text)
    plot.setLogMode(x=log_x, y=log_y)
    for axis in axes.values():  # the plot's log and grid switches did not change: it does not tell new axes
        axis.setLogMode(True)
        axis.setGrid(int(0.15 * 255))
        style_axis(axis, theme)
    return plot


@register
class NaturalGradientTab(TopicTab):
    name = "natural_gradient"
    title = "Natural gradient"
    order = 60
    summary = (
        "Press Space: the Gaussian fit and the training race run together. The bar above the plots switches "
        "between invariance, the race and the measured cost."
    )

    @classmethod
    def parameters(cls) -> list[Param]:
        return [
            Param("view", "view", "choice", "invariance", "Which of the three pictures is shown",
                  choices=VIEWS, choice_labels=VIEW_TITLES, in_caption=True),
            Param("seed", "seed", "int", 0,
                  "Seed of the spirals, the initialization, the mini-batches, the Gaussian's sample and the "
                  "sweep's data: same seed, same run", bounds=(0, 2**31 - 1), in_caption=True),
            Param("steps_per_frame", "steps per frame", "int", 5,
                  "Steps of the race and of the fit between redraws: higher is faster", bounds=(1, 100)),
            *_race_params(),
            *_fit_params(),
            *_cost_params(),
        ]  # fmt: skip

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame: NaturalGradientFrame | None = None
        self.cost: CostResult | None = None
        self.cost_lines: dict[str, PowerLaw] = {}
        self._planes: FitPlanes | None = None
        self._fit_drawn: GaussianFitFrame | None = None
        self._message = ""
        self._dashed: list[tuple[pg.PlotDataItem, str, float]] = []  # re-penned with dashes on a theme change
        self._muted: list[pg.PlotDataItem] = []
        self._markers: list[tuple[pg.ScatterPlotItem, str | None]] = []
        self._chart_pens: list[tuple[pg.PlotDataItem, str, float, bool]] = []

        self.view_bar = QtWidgets.QTabBar()
        self.view_bar.setDocumentMode(True)
        self.view_bar.setExpanding(False)
        for title in VIEW_TITLES:
            self.view_bar.addTab(title)
        self.view_bar.currentChanged.connect(self._on_bar)
        self.headline = _label()
        self.hover = _label("Hover over a plot to read its values and the formula behind them.", wrap=False)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self._build_invariance())
        self.stack.addWidget(self._build_race())
        self.stack.addWidget(self._build_cost())
        self._fix_axis_widths(self.styled.theme)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.view_bar)
        layout.addWidget(self.headline)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.hover)
        self._show_view("invariance")

    # --- construction -------------------------------------------------------------------------
    def _dashed_item(self, key: str, width: float, **kw: Any) -> pg.PlotDataItem:
        item = pg.PlotDataItem(**kw)
        self._dashed.append((item, key, width))
        item.setPen(self.styled.theme.pen(key, width, _DASH))
        return item

    def _series(self, key: str, width: float, solid: bool) -> pg.PlotDataItem:
        """A fit run's line: (μ, σ) runs wide and translucent, (μ, log σ) runs dashed on top, so two
        paths that coincide show as a dashed line inside a band and two that differ as two lines."""
        item = pg.PlotDataItem()
        self._chart_pens.append((item, key, width, solid))
        self._pen_chart(item, key, width, solid, self.styled.theme)
        return item

    @staticmethod
    def _pen_chart(item: pg.PlotDataItem, key: str, width: float, solid: bool, theme: Theme) -> None:
        pen = theme.pen(key, width, QtCore.Qt.PenStyle.SolidLine if solid else _DASH)
        if solid:
            colour = pen.color()
            colour.setAlpha(120)
            pen.setColor(colour)
        item.setPen(pen)

    def _marker(self, symbol: str, fill: str | None) -> pg.ScatterPlotItem:
        """A start or optimum marker; ``fill`` None: the theme's foreground colour."""
        item = pg.ScatterPlotItem(symbol=symbol, size=18, brush=pg.mkBrush(fill or "#000000"))
        item.setZValue(30)
        self._markers.append((item, fill))
        return item

    def _build_invariance(self) -> QtWidgets.QWidget:
        styled = self.styled
        self.fit_view = pg.GraphicsLayoutWidget()
        self.dist_plot = new_plot(styled, "Distributions N(μ, σ²): every run, drawn as (μ, σ)", "mean μ",
                                  "standard deviation σ", legend=None, downsample=False)  # fmt: skip
        self.log_plot = new_plot(styled, "The (μ, log σ) chart in its own coordinates", "mean μ", "log σ",
                                 legend=None, downsample=False)  # fmt: skip
        self.fit_loss_plot = new_plot(styled, "Excess loss L − L(maximum likelihood)", "step", "nats per sample",
                                      log_y=True, legend=None)  # fmt: skip
        _log_plot(self.fit_loss_plot, styled.theme, False, True)
        self.fit_loss_range = _GrowOnly(self.fit_loss_plot, log=True)
        self.fit_view.addItem(self.dist_plot, row=0, col=0, rowspan=2)
        self.fit_view.addItem(self.log_plot, row=0, col=1)
        self.fit_view.addItem(self.fit_loss_plot, row=1, col=1)
        self.fit_legend = styled.styled_legend(StripLegend(colCount=4, frame=False))
        self.fit_view.addItem(self.fit_legend, row=2, col=0, colspan=2)
        self.fit_view.ci.layout.setColumnStretchFactor(0, 3)
        self.fit_view.ci.layout.setColumnStretchFactor(1, 2)
        self.ellipses = {}
        for chart, plot in (("sigma", self.dist_plot), ("log_sigma", self.log_plot)):
            item = pg.PlotDataItem(connect="finite")
            item.setZValue(-5)
            self._muted.append(item)
            plot.addItem(item)
            self.ellipses[chart] = item
        self.fit_paths: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.fit_heads: dict[tuple[str, str], pg.ScatterPlotItem] = {}
        self.chart_paths: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.fit_loss_curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        for run in FIT_RUNS:
            method, chart = run
            key = FIT_KEYS[method]
            # σ runs wide and solid, log σ runs narrow and dashed on top: coinciding paths show both
            solid = chart == "sigma"
            symbol, z = ("o", 10) if solid else ("s", 11)
            self.fit_paths[run] = self._series(key, 5.0 if solid else 2.0, solid)
            self.fit_heads[run] = styled.keyed(pg.ScatterPlotItem(size=10, symbol=symbol), key)
            self.fit_loss_curves[run] = self._series(key, 4.0 if solid else 1.5, solid)
            self.fit_paths[run].setZValue(z)
            self.fit_heads[run].setZValue(z + 2)
            self.dist_plot.addItem(self.fit_paths[run])
            self.dist_plot.addItem(self.fit_heads[run])
            self.fit_loss_plot.addItem(self.fit_loss_curves[run])
            if chart == "log_sigma":
                self.chart_paths[run] = self._series(key, 2.0, solid=False)
                self.chart_paths[run].setZValue(z)
                self.log_plot.addItem(self.chart_paths[run])
            self.fit_legend.addItem(self.fit_paths[run], f"{FIT_LABELS[method]} in {CHART_LABELS[chart]}")
        self.start_markers = {chart: self._marker("+", None) for chart in ("sigma", "log_sigma")}
        self.mle_markers = {chart: self._marker("star", "#ffd400") for chart in ("sigma", "log_sigma")}
        for chart, plot in (("sigma", self.dist_plot), ("log_sigma", self.log_plot)):
            plot.addItem(self.start_markers[chart])
            plot.addItem(self.mle_markers[chart])
        self.fit_legend.addItem(self.start_markers["sigma"], "start")
        self.fit_legend.addItem(self.mle_markers["sigma"], "maximum likelihood")
        self.fit_legend.addItem(self.ellipses["sigma"], "Fisher ellipses xᵀF(θ)x = c")
        self.dist_readout = HoverReadout(self.dist_plot, self._describe_sigma_chart, self.hover)
        self.log_readout = HoverReadout(self.log_plot, self._describe_log_chart, self.hover)
        self.fit_status = _label()
        page = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.fit_view, 1)
        layout.addWidget(self.fit_status)
        return page

    def _build_race(self) -> QtWidgets.QWidget:
        styled = self.styled
        self.race_info = _label()
        self.race_view = pg.GraphicsLayoutWidget()
        self.step_plot = new_plot(styled, "Loss per step", "step", "cross-entropy L (nats)", log_y=True,
                                  legend=None)  # fmt: skip
        self.time_plot = new_plot(styled, "Loss per second of optimizer time", "wall-clock time (s)",
                                  "cross-entropy L (nats)", log_y=True, legend=None)  # fmt: skip
        _log_plot(self.step_plot, styled.theme, False, True)
        _log_plot(self.time_plot, styled.theme, True, True)
        self.time_plot.setYLink(self.step_plot)  # one y scale: a height means the same loss in both
        self.race_range = _GrowOnly(self.step_plot, log=True)
        self.race_view.addItem(self.step_plot, row=0, col=0)
        self.race_view.addItem(self.time_plot, row=0, col=1)
        self.race_legend = styled.styled_legend(StripLegend(colCount=4, frame=False))
        self.race_view.addItem(self.race_legend, row=1, col=0, colspan=2)
        self.step_curves: dict[str, pg.PlotDataItem] = {}
        self.time_curves: dict[str, pg.PlotDataItem] = {}
        for method in RACE_METHODS:
            self.step_curves[method] = styled.keyed(pg.PlotDataItem(), method, 2.0)
            self.time_curves[method] = styled.keyed(pg.PlotDataItem(), method, 2.0)
            self.step_plot.addItem(self.step_curves[method])
            self.time_plot.addItem(self.time_curves[method])
            self.race_legend.addItem(self.step_curves[method], RACE_LABELS[method])
        self.step_readout = HoverReadout(self.step_plot, self._describe_step, self.hover)
        self.time_readout = HoverReadout(self.time_plot, self._describe_time, self.hover)
        self.race_table = _table(["Method", "η", "loss now (nats)", "steps", "optimizer time", "per step", "note"])
        self.race_table.setRowCount(len(RACE_METHODS))
        for row, method in enumerate(RACE_METHODS):
            _set_row(self.race_table, row, [RACE_LABELS[method], "", "", "", "", "", ""])
        page = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.race_info)
        layout.addWidget(self.race_view, 1)
        layout.addWidget(self.race_table)
        return page

    def _build_cost(self) -> QtWidgets.QWidget:
        styled = self.styled
        self.cost_status = _label("The sweep starts when the tab opens; Measure runs it again.")
        self.measure_button = QtWidgets.QPushButton("Measure again")
        self.measure_button.setToolTip("Sweep P for the exact Fisher and for K-FAC (progress and Cancel below)")
        self.measure_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space stays Play
        self.measure_button.clicked.connect(self.measure_cost)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.cost_status, 1)
        top.addWidget(self.measure_button)
        self.cost_view = pg.GraphicsLayoutWidget()
        self.memory_plot = new_plot(styled, "Memory of one natural-gradient step", "parameters P",
                                    "peak memory (MiB)", log_x=True, log_y=True, legend=None)  # fmt: skip
        self.cost_time_plot = new_plot(styled, "Time of one natural-gradient step", "parameters P", "time (s)",
                                       log_x=True, log_y=True, legend=None)  # fmt: skip
        for plot in (self.memory_plot, self.cost_time_plot):
            _log_plot(plot, styled.theme, True, True)
        self.cost_view.addItem(self.memory_plot, row=0, col=0)
        self.cost_view.addItem(self.cost_time_plot, row=0, col=1)
        self.cost_legends = {}
        self.cost_points: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.cost_fits: dict[tuple[str, str], pg.PlotDataItem] = {}
        for col, (quantity, plot) in enumerate((("memory", self.memory_plot), ("time", self.cost_time_plot))):
            legend = styled.styled_legend(StripLegend(colCount=2, frame=False))
            self.cost_view.addItem(legend, row=1, col=col)
            self.cost_legends[quantity] = legend
            for method, key, _ in COST_METHODS:
                points = styled.keyed(pg.PlotDataItem(symbol="o"), key, 1.0)
                fit = self._dashed_item(key, 2.0)
                points.setZValue(10)
                plot.addItem(fit)
                plot.addItem(points)
                self.cost_points[(quantity, method)] = points
                self.cost_fits[(quantity, method)] = fit
        self._label_cost_legends()
        self.memory_readout = HoverReadout(self.memory_plot, self._describe_memory, self.hover)
        self.cost_time_readout = HoverReadout(self.cost_time_plot, self._describe_cost_time, self.hover)
        self.extrapolation_title = _label(
            f"<b>Extrapolated to real networks: {FORMULA_NOTE}</b> (dense fp32 Fisher, Cholesky at the rate "
            "measured above)"
        )
        self.cost_table = _table(["Network", "P", "fp32 Fisher, 4P²", "Cholesky, P³/3 flop",
                                  "time at the measured rate", "source"])  # fmt: skip
        page = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.cost_view, 1)
        layout.addWidget(self.extrapolation_title)
        layout.addWidget(self.cost_table)
        return page

    def attach(self, panel: ParamPanel, jobs: JobRunner) -> None:
        super().attach(panel, jobs)
        jobs.sig_cancelled.connect(self._on_cost_cancelled)
        self.time_plot.setLogMode(x=panel.value("log_time"), y=True)
        self._show_view(panel.value("view"))

    # --- parameters -> lab ------------------------------------------------------------------
    def experiment(self, values: dict[str, Any]) -> ExperimentFactory:
        device, per_frame, seed = self.device, values["steps_per_frame"], values["seed"]
        race = dict(
            n_points=values["n_points"], width=values["width"], n_hidden=values["n_hidden"],
            activation=values["activation"], batch_size=values["batch_size"], sgd_lr=values["sgd_lr"],
            adam_lr=values["adam_lr"], ng_lr=values["ng_lr"], damping=values["damping"],
            max_exact_params=values["max_exact_params"], steps_per_frame=per_frame, max_steps=values["race_steps"],
            seed=seed, device=device,
        )  # fmt: skip
        fit = dict(
            n_samples=values["n_samples"], true_mu=values["true_mu"], true_sigma=values["true_sigma"], seed=seed,
            mu0=values["mu0"], sigma0=values["sigma0"], lr=values["fit_lr"], n_steps=values["fit_steps"],
            steps_per_frame=per_frame,
        )  # fmt: skip

        def factory() -> Any:
            from explorer.lab import natural_gradient_views as views  # torch loads here, not at start-up
            from explorer.lab.fisher_race import RaceConfig
            from explorer.lab.gaussian_fit import GaussianFitConfig

            return views.run(views.NaturalGradientConfig(RaceConfig(**race), GaussianFitConfig(**fit)))

        return factory

    def on_param_changed(self, key: str, value: Any) -> bool:
        if key == "view":
            self._show_view(value)
            return False
        if key.startswith("cost_"):
            self.cost_status.setText("Sweep settings changed: press <b>Measure again</b> to measure with them.")
            return False
        if key == "log_time":
            self.time_plot.setLogMode(x=bool(value), y=True)
            self.time_plot.enableAutoRange(axis="x")
            if self.frame is not None:
                self._draw_race(self.frame.race)
            return False
        return True

    def start_jobs(self) -> None:
        self.measure_cost()

    def measure_cost(self) -> None:
        """Start the cost sweep as a job (progress and Cancel in the page)."""
        values = self.values()
        budget, max_width = values["cost_budget_s"], values["cost_exact_max_width"]
        n_hidden, seed = values["cost_n_hidden"], values["seed"]

        def job() -> Any:
            from explorer.lab import fisher_cost
            from explorer.lab.natural_gradient_views import measure_cost_isolated  # in a child process

            widths = tuple(w for w in fisher_cost.CostConfig().exact_widths if w <= max_width)
            cfg = fisher_cost.CostConfig(exact_widths=widths, n_hidden=n_hidden, max_sweep_seconds=budget, seed=seed)
            return measure_cost_isolated(cfg)

        self.cost_status.setText(f"Measuring (up to {budget:g} s): the progress bar below has Cancel.")
        assert self.jobs is not None
        self.jobs.start(job, self._on_cost, "Measuring the exact Fisher and K-FAC as P grows")

    # --- views --------------------------------------------------------------------------------
    def _show_view(self, view: str) -> None:
        index = VIEWS.index(view)
        self.stack.setCurrentIndex(index)
        self.headline.setText(HEADLINES[view])
        if self.view_bar.currentIndex() != index:
            self.view_bar.blockSignals(True)
            self.view_bar.setCurrentIndex(index)
            self.view_bar.blockSignals(False)
        self._fit_tables()

    def _on_bar(self, index: int) -> None:
        if self.panel is not None and self.panel.value("view") != VIEWS[index]:
            self.panel.set_value("view", VIEWS[index])  # the page calls on_param_changed: one path for both
        else:
            self._show_view(VIEWS[index])

    # --- drawing ------------------------------------------------------------------------------
    def show_frame(self, frame: NaturalGradientFrame) -> None:
        self.frame = frame
        if frame.fit is not self._fit_drawn:  # a finished fit keeps its frame: draw it once
            self._draw_fit(frame)
        self._draw_race(frame.race)
        if frame.fit_stopped and frame.fit_stopped != self._message:
            self.sig_message.emit(frame.fit_stopped)
        self._message = frame.fit_stopped

    def _draw_fit(self, frame: NaturalGradientFrame) -> None:
        fit, planes = frame.fit, frame.planes
        self._fit_drawn = fit
        if planes is not self._planes:
            self._planes = planes
            for chart, ellipses in (("sigma", planes.sigma_ellipses), ("log_sigma", planes.log_sigma_ellipses)):
                self.ellipses[chart].setData(*_nan_joined(ellipses.points))
            self.start_markers["sigma"].setData([fit.distribution_paths[0, 0, 0]], [fit.distribution_paths[0, 0, 1]])
            self.start_markers["log_sigma"].setData([planes.start_log_chart[0]], [planes.start_log_chart[1]])
            self.mle_markers["sigma"].setData([planes.mle[0]], [planes.mle[1]])
            self.mle_markers["log_sigma"].setData([planes.mle_log_chart[0]], [planes.mle_log_chart[1]])
            self.fit_loss_range.reset()
            for plot in (self.dist_plot, self.log_plot, self.fit_loss_plot):
                plot.enableAutoRange(axis="x")
            self.dist_plot.enableAutoRange(axis="y")
            self.log_plot.enableAutoRange(axis="y")
        steps = np.arange(fit.losses.shape[1], dtype=float)
        excess = []
        for i, run in enumerate(fit.runs):
            run = (run[0], run[1])
            path = fit.distribution_paths[i]
            self.fit_paths[run].setData(path[:, 0], path[:, 1])
            self.fit_heads[run].setData(path[-1:, 0], path[-1:, 1])
            if run in self.chart_paths:
                own = fit.parameter_paths[i]
                self.chart_paths[run].setData(own[:, 0], own[:, 1])
            shown = np.maximum(fit.losses[i] - planes.mle_loss, 1e-12)  # the MLE's loss is the floor
            self.fit_loss_curves[run].setData(steps, shown)
            excess.append(shown)
        self.fit_loss_range.include(*excess)
        text = (
            f"Step {fit.step}: the two natural-gradient paths are at most <b>{frame.natural_gap:.2g}</b> apart in "
            f"(μ, σ) (an O(η) effect of finite steps), the two gradient-descent paths up to "
            f"<b>{frame.gd_gap:.2g}</b>. Ellipses: one KL radius, KL ≈ c/2 = {planes.sigma_ellipses.c / 2:.2g} nats."
        )
        if frame.fit_stopped:
            text += f"<br><span style='color:{_WARN}'>{frame.fit_stopped}</span>"
        self.fit_status.setText(text)

    def _draw_race(self, race: RaceFrame) -> None:
        log_time = self.values()["log_time"] if self.panel is not None else True
        shown = []
        for i, method in enumerate(race.methods):
            if not race.available[i]:
                self.step_curves[method].setData([], [])
                self.time_curves[method].setData([], [])
                continue
            loss = np.maximum(race.losses[i], 1e-12)
            seconds = race.seconds[i]
            keep = seconds > 0 if log_time else np.isfinite(seconds)  # t = 0 has no place on a log axis
            self.step_curves[method].setData(race.steps, loss)
            self.time_curves[method].setData(seconds[keep], loss[keep])
            shown.append(loss)
        self.race_range.include(*shown)
        self._race_text(race)

    def _race_text(self, race: RaceFrame) -> None:
        values = self.values() if self.panel is not None else {}
        info = (
            f"Two spirals, an MLP with <b>P = {race.n_params:,}</b> parameters; every method starts from the same "
            "weights and sees the same mini-batches. Seconds count optimizer steps only."
        )
        legend = [RACE_LABELS[m] + ("" if ok else " (off: P too large)") for m, ok in zip(
            race.methods, race.available, strict=True)]  # fmt: skip
        if [label.text for _, label in self.race_legend.items] != legend:
            self.race_legend.clear()
            for method, text in zip(race.methods, legend, strict=True):
                self.race_legend.addItem(self.step_curves[method], text)
            self.styled.restyle(self.styled.theme)
        off = [r for r, ok in zip(race.reasons, race.available, strict=True) if not ok]
        if off:
            info += f"<br><span style='color:{_WARN}'><b>Exact natural gradient is off:</b> {off[0]}.</span>"
        if self.race_info.text() != info:
            self.race_info.setText(info)
        for row, method in enumerate(race.methods):
            i = race.methods.index(method)
            lr = values.get(RACE_LR_KEY[method])
            if not race.available[i]:
                cells = [RACE_LABELS[method], f"{lr:.3g}" if lr else "", "—", "—", "—", "—", "off: P too large"]
            else:
                seconds = float(race.seconds[i, -1])
                per_step = seconds / race.step if race.step else math.nan
                cells = [
                    RACE_LABELS[method], f"{lr:.3g}" if lr else "", f"{race.losses[i, -1]:.4g}", f"{race.step:,}",
                    f"{seconds:.3g} s", _ms(per_step) if math.isfinite(per_step) else "—",
                    "builds and solves the P × P Fisher" if method == "exact_ng" else "",
                ]  # fmt: skip
            _set_row(self.race_table, row, cells)
            self.race_table.item(row, 0).setData(QtCore.Qt.ItemDataRole.DecorationRole, self.styled.theme.color(method))

    def _on_cost(self, result: CostResult) -> None:
        from explorer.lab.natural_gradient_views import fitted_power_law

        self.cost = result
        self.cost_lines = {"exact": fitted_power_law(result.exact), "kfac": fitted_power_law(result.kfac)}
        for method, curve in (("exact", result.exact), ("kfac", result.kfac)):
            line = self.cost_lines[method]
            self.cost_points[("memory", method)].setData(curve.n_params, curve.peak_bytes / _MIB)
            self.cost_points[("time", method)].setData(curve.n_params, curve.seconds)
            fitted = np.isfinite(line.seconds) & np.isfinite(line.peak_bytes)  # the fitted range only
            self.cost_fits[("memory", method)].setData(line.n_params[fitted], line.peak_bytes[fitted] / _MIB)
            self.cost_fits[("time", method)].setData(line.n_params[fitted], line.seconds[fitted])
        for plot in (self.memory_plot, self.cost_time_plot):
            plot.enableAutoRange()
        self._label_cost_legends()
        stopped = [f"{name}: {c.stopped_reason}" for name, c in (("exact", result.exact), ("K-FAC", result.kfac))
                   if c.stopped_reason]  # fmt: skip
        self.cost_status.setText(
            f"Measured on this machine's CPU: {len(result.exact.n_params)} exact and {len(result.kfac.n_params)} "
            f"K-FAC sizes; slopes fitted on the larger half. Memory: {result.memory_method}."
            + (f"<br>Stopped early, {'; '.join(stopped)}." if stopped else "")
        )
        self.cost_table.setRowCount(len(result.extrapolation))
        for row, r in enumerate(result.extrapolation):
            _set_row(self.cost_table, row, [
                r.name, _count(r.n_params), _bytes(r.fisher_bytes_fp32), f"{r.cholesky_flops:.2g}",
                _duration(r.seconds_at_measured_rate), r.source,
            ])  # fmt: skip
        self.extrapolation_title.setText(
            f"<b>Extrapolated to real networks: {FORMULA_NOTE}</b> (dense fp32 Fisher; Cholesky time at "
            f"{result.measured_flops_per_second / 1e9:.3g} GFLOP/s, the rate measured at the largest exact point)"
        )
        self._fit_tables()

    def _label_cost_legends(self) -> None:
        """Measured points and fitted lines per plot, the fitted slope next to the formula's."""
        for quantity, legend in self.cost_legends.items():
            legend.clear()
            for method, _, name in COST_METHODS:
                curve = getattr(self.cost, method) if self.cost is not None else None
                if curve is None:
                    slope, theory = "…", "…"
                else:
                    fitted, theory_slope = (
                        (curve.memory_slope, curve.theory_memory_slope)
                        if quantity == "memory"
                        else (curve.time_slope, curve.theory_time_slope)
                    )
                    slope = f"{fitted:.2f}" if math.isfinite(fitted) else "—"
                    theory = f"{theory_slope:g}"
                legend.addItem(self.cost_points[(quantity, method)], f"{name}, measured")
                legend.addItem(self.cost_fits[(quantity, method)], f"fit: slope {slope} (formula {theory})")
        self.styled.restyle(self.styled.theme)

    def _on_cost_cancelled(self) -> None:
        previous = " The plots keep the previous measurement." if self.cost is not None else ""
        self.cost_status.setText(f"Cancelled: nothing new was measured.{previous} Press <b>Measure again</b>.")

    # --- hover ----------------------------------------------------------------------------------
    def _describe_sigma_chart(self, mu: float, sigma: float) -> str | None:
        if sigma <= 0:
            return None
        from explorer.lab.fisher import gaussian_fisher

        f = gaussian_fisher(mu, sigma, "sigma")
        return (
            f"μ = {mu:.3f}, σ = {sigma:.3f}:  F = E[∇log p ∇log pᵀ] = diag(1/σ², 2/σ²) = "
            f"diag({f[0, 0]:.3g}, {f[1, 1]:.3g});  KL(θ ‖ θ + dθ) ≈ ½ dθᵀF dθ"
        )

    def _describe_log_chart(self, mu: float, log_sigma: float) -> str | None:
        if not -20 < log_sigma < 20:
            return None
        from explorer.lab.fisher import gaussian_fisher

        sigma = math.exp(log_sigma)
        f = gaussian_fisher(mu, sigma, "log_sigma")
        return (
            f"μ = {mu:.3f}, log σ = {log_sigma:.3f} (σ = {sigma:.3f}):  F' = JᵀFJ = diag(1/σ², 2) = "
            f"diag({f[0, 0]:.3g}, {f[1, 1]:.3g});  natural step F'⁻¹∇'L = J⁻¹F⁻¹∇L: the same move"
        )

    def _describe_step(self, x: float, y: float) -> str | None:
        if self.frame is None:
            return None
        race = self.frame.race
        j = int(np.argmin(np.abs(race.steps - x)))
        parts = [f"{RACE_LABELS[m]} {race.losses[i, j]:.3g}" for i, m in enumerate(race.methods) if race.available[i]]
        return f"step {race.steps[j]:.0f}: " + " · ".join(parts) + " nats.  Natural gradient: θ ← θ − η (F + λI)⁻¹∇L"

    def _describe_time(self, x: float, y: float) -> str | None:
        if self.frame is None:
            return None
        race = self.frame.race
        t = 10**x if self.values()["log_time"] else x
        parts = []
        for i, m in enumerate(race.methods):
            if not race.available[i]:
                continue
            j = max(int(np.searchsorted(race.seconds[i], t, side="right")) - 1, 0)
            parts.append(f"{RACE_LABELS[m]} {race.losses[i, j]:.3g} (step {race.steps[j]:.0f})")
        return f"after {t:.3g} s of optimizer time: " + " · ".join(parts) + ".  Exact step: build F (P × P), solve"

    def _nearest_cost(self, x: float, y: float, quantity: str) -> str | None:
        if self.cost is None:
            return None
        best, text = math.inf, None
        for method, _, name in COST_METHODS:
            curve = getattr(self.cost, method)
            values = curve.peak_bytes / _MIB if quantity == "memory" else curve.seconds
            with np.errstate(divide="ignore"):
                distance = np.hypot(np.log10(curve.n_params) - x, np.log10(np.maximum(values, 1e-30)) - y)
            j = int(np.argmin(distance))
            if distance[j] < best:
                best = float(distance[j])
                p = curve.n_params[j]
                formula = (
                    f"F = E[∇log p ∇log pᵀ] has P² = {p**2:,.0f} entries"
                    if method == "exact"
                    else "F ≈ A ⊗ G per layer: two small factors, (d_in+1)² + d_out² entries"
                )
                text = (
                    f"{name}, P = {p:,.0f} (width {curve.widths[j]}): {_ms(curve.seconds[j])}, "
                    f"{curve.peak_bytes[j] / _MIB:.3g} MiB measured;  {formula}"
                )
        return text

    def _describe_memory(self, x: float, y: float) -> str | None:
        return self._nearest_cost(x, y, "memory")

    def _describe_cost_time(self, x: float, y: float) -> str | None:
        return self._nearest_cost(x, y, "time")

    # --- theme, layout ----------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        for item, key, width in self._dashed:
            item.setPen(theme.pen(key, width, _DASH))
        for item, key, width, solid in self._chart_pens:
            self._pen_chart(item, key, width, solid, theme)
        for item in self._muted:
            pen = pg.mkPen(theme.muted(120), width=theme.pen_scale)
            pen.setCosmetic(True)
            item.setPen(pen)
        for item, fill in self._markers:
            item.setPen(pg.mkPen(theme.foreground, width=1.5 * theme.pen_scale))
            item.setBrush(pg.mkBrush(fill or theme.foreground))
            item.setSize(int(18 * theme.font_scale))
        self._fix_axis_widths(theme)
        if self.frame is not None:
            self._race_text(self.frame.race)

    def _plot_items(self) -> list[pg.PlotItem]:
        return [plot for plot in self.plots().values() if isinstance(plot, pg.PlotItem)]

    def _fix_axis_widths(self, theme: Theme) -> None:
        """Room for "0.0001" on every y axis, fixed: an axis that widens after its first paint would draw
        its labels over the axis title in an export taken at once, and re-lays out the figure when playing."""
        font = QtGui.QFont()
        font.setPointSizeF(theme.point_size(BASE_POINT_SIZE - 1))
        text = QtGui.QFontMetricsF(font).horizontalAdvance("0.0001")
        overhang = math.ceil(QtGui.QFontMetricsF(font).height())  # a decade label on the range's edge still shows
        for plot in self._plot_items():
            axis = plot.getAxis("left")
            axis.setWidth(math.ceil(text + 4 * theme.font_scale + 10))
            axis.setStyle(hideOverlappingLabels=overhang)

    def _fit_tables(self) -> None:
        """Every row visible, unless that would take more than a quarter of the tab from the plots."""
        for table in (self.race_table, self.cost_table):
            rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
            content = table.horizontalHeader().height() + rows + 4
            if table.horizontalScrollBar().isVisible():
                content += table.horizontalScrollBar().height()
            table.setFixedHeight(min(content, max(70, int(0.25 * self.height()))))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_tables()

    # --- export -------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        """Each plot alone (axes labelled), and each view's whole figure with its legend."""
        return {
            "invariance_figure": self.fit_view.ci,
            "distribution_plane": self.dist_plot,
            "log_sigma_chart": self.log_plot,
            "fit_excess_loss": self.fit_loss_plot,
            "race_figure": self.race_view.ci,
            "race_loss_per_step": self.step_plot,
            "race_loss_per_second": self.time_plot,
            "cost_figure": self.cost_view.ci,
            "cost_memory": self.memory_plot,
            "cost_time": self.cost_time_plot,
        }

    def tables(self) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        if self.frame is not None:
            tables.update(self._fit_tables_data(self.frame))
            tables.update(self._race_tables_data(self.frame.race))
        if self.cost is not None:
            tables.update(self._cost_tables_data(self.cost))
        return tables

    def _fit_tables_data(self, frame: NaturalGradientFrame) -> dict[str, Table]:
        fit, planes = frame.fit, frame.planes
        paths: Table = {"step": list(range(fit.losses.shape[1]))}
        for i, (method, chart) in enumerate(fit.runs):
            name = f"{method}_{chart}"
            paths[f"{name}_mu"] = fit.distribution_paths[i, :, 0]
            paths[f"{name}_sigma"] = fit.distribution_paths[i, :, 1]
            if chart == "log_sigma":
                paths[f"{name}_log_sigma"] = fit.parameter_paths[i, :, 1]
            paths[f"{name}_loss"] = fit.losses[i]
            paths[f"{name}_excess_loss"] = fit.losses[i] - planes.mle_loss
        columns: dict[str, list[Any]] = {k: [] for k in ("chart", "ellipse", "centre_mu", "centre_2", "mu", "y2", "c")}
        for ellipses in (planes.sigma_ellipses, planes.log_sigma_ellipses):
            m, n, _ = ellipses.points.shape
            columns["chart"] += [ellipses.parameterization] * (m * n)
            columns["ellipse"] += list(np.repeat(np.arange(m), n))
            columns["centre_mu"] += list(np.repeat(ellipses.centres[:, 0], n))
            columns["centre_2"] += list(np.repeat(ellipses.centres[:, 1], n))
            columns["mu"] += list(ellipses.points[..., 0].ravel())
            columns["y2"] += list(ellipses.points[..., 1].ravel())
            columns["c"] += [ellipses.c] * (m * n)
        marks: Table = {
            "point": ["start", "maximum_likelihood"],
            "mu": [fit.distribution_paths[0, 0, 0], planes.mle[0]],
            "sigma": [fit.distribution_paths[0, 0, 1], planes.mle[1]],
            "log_sigma": [planes.start_log_chart[1], planes.mle_log_chart[1]],
            "loss": [fit.losses[0, 0], planes.mle_loss],
        }
        return {"fit_paths": paths, "fit_ellipses": columns, "fit_points": marks}

    def _race_tables_data(self, race: RaceFrame) -> dict[str, Table]:
        history: Table = {"step": race.steps}
        for i, method in enumerate(race.methods):
            history[f"{method}_loss"] = race.losses[i]
            history[f"{method}_seconds"] = race.seconds[i]
        values = self.values()
        summary: Table = {
            "method": list(race.methods),
            "available": list(race.available),
            "reason": list(race.reasons),
            "n_params": [race.n_params] * len(race.methods),
            "lr": [values[RACE_LR_KEY[m]] for m in race.methods],
            "step": [race.step] * len(race.methods),
            "loss": list(race.losses[:, -1]),
            "seconds": list(race.seconds[:, -1]),
        }
        return {"race_history": history, "race_summary": summary}

    def _cost_tables_data(self, cost: CostResult) -> dict[str, Table]:
        points: dict[str, list[Any]] = {k: [] for k in (
            "method", "width", "n_params", "seconds", "peak_bytes", "peak_mib", "fitted_seconds", "fitted_bytes",
        )}  # fmt: skip
        fits: dict[str, list[Any]] = {k: [] for k in (
            "method", "time_slope", "memory_slope", "theory_time_slope", "theory_memory_slope", "fit_min_params",
            "stopped_reason",
        )}  # fmt: skip
        for method, curve in (("exact", cost.exact), ("kfac", cost.kfac)):
            line = self.cost_lines[method]
            k = len(curve.n_params)
            points["method"] += [method] * k
            points["width"] += list(curve.widths)
            points["n_params"] += list(curve.n_params)
            points["seconds"] += list(curve.seconds)
            points["peak_bytes"] += list(curve.peak_bytes)
            points["peak_mib"] += list(curve.peak_bytes / _MIB)
            points["fitted_seconds"] += list(line.seconds)
            points["fitted_bytes"] += list(line.peak_bytes)
            for key in fits:
                fits[key].append(method if key == "method" else getattr(curve, key))
        rows = cost.extrapolation
        extrapolation: Table = {
            "network": [r.name for r in rows],
            "n_params": [r.n_params for r in rows],
            "fisher_entries": [r.fisher_entries for r in rows],
            "fisher_bytes_fp32": [r.fisher_bytes_fp32 for r in rows],
            "cholesky_flops": [r.cholesky_flops for r in rows],
            "seconds_at_measured_rate": [r.seconds_at_measured_rate for r in rows],
            "measured_flops_per_second": [cost.measured_flops_per_second] * len(rows),
            "source": [FORMULA_NOTE] * len(rows),
        }
        return {"cost_points": points, "cost_fits": fits, "cost_extrapolation": extrapolation}
