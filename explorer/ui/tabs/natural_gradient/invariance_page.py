"""View 1, invariance: a Gaussian fitted by gradient descent and by the natural gradient, each in the
(μ, σ) and the (μ, log σ) chart, drawn as distributions over the Fisher ellipses of both charts."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.ui.theme import Theme
from explorer.ui.topic import Table
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.legended import StripLegend
from explorer.ui.widgets.plots import GrowOnlyRange, HoverReadout, Styled, new_plot

if TYPE_CHECKING:
    from explorer.lab.natural_gradient.natural_gradient_views import FitPlanes, NaturalGradientFrame

#: the fit's runs (method, chart), in the lab's order; colour by method, line style by chart
FIT_RUNS = (("gd", "sigma"), ("gd", "log_sigma"), ("natural", "sigma"), ("natural", "log_sigma"))
FIT_KEYS = {"gd": "gd", "natural": "natural_gradient"}
FIT_LABELS = {"gd": "gradient descent", "natural": "natural gradient"}
CHART_LABELS = {"sigma": "(μ, σ)", "log_sigma": "(μ, log σ)"}
WARN = "#d55e00"


def nan_joined(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m, n, 2) closed curves as one x, y pair with NaN breaks, for one PlotDataItem."""
    m, n, _ = curves.shape
    joined = np.full((m, n + 1, 2), np.nan)
    joined[:, :n] = curves
    flat = joined.reshape(-1, 2)
    return flat[:, 0], flat[:, 1]


class InvariancePage(QtWidgets.QWidget):
    """The distribution plane (every run as (μ, σ)), the log σ chart, and the excess loss per step."""

    def __init__(self, styled: Styled, hover: QtWidgets.QLabel) -> None:
        super().__init__()
        self.styled = styled
        self._planes: FitPlanes | None = None
        self._fit_drawn: Any = None
        self._chart_pens: list[tuple[pg.PlotDataItem, str, float, bool]] = []
        self._markers: list[tuple[pg.ScatterPlotItem, str | None]] = []
        self.view = pg.GraphicsLayoutWidget()
        self.dist_plot = new_plot(styled, "Distributions N(μ, σ²): every run, drawn as (μ, σ)", "mean μ",
                                  "standard deviation σ", legend=None, downsample=False)  # fmt: skip
        self.log_plot = new_plot(styled, "The (μ, log σ) chart in its own coordinates", "mean μ", "log σ",
                                 legend=None, downsample=False)  # fmt: skip
        self.loss_plot = new_plot(styled, "Excess loss L − L(maximum likelihood)", "step", "nats per sample",
                                  log_y=True, legend=None)  # fmt: skip
        self.loss_range = GrowOnlyRange(self.loss_plot, log=True)
        self.view.addItem(self.dist_plot, row=0, col=0, rowspan=2)
        self.view.addItem(self.log_plot, row=0, col=1)
        self.view.addItem(self.loss_plot, row=1, col=1)
        self.legend = styled.styled_legend(StripLegend(colCount=4, frame=False))
        self.view.addItem(self.legend, row=2, col=0, colspan=2)
        self.view.ci.layout.setColumnStretchFactor(0, 3)
        self.view.ci.layout.setColumnStretchFactor(1, 2)
        self.ellipses: dict[str, pg.PlotDataItem] = {}
        for chart, plot in (("sigma", self.dist_plot), ("log_sigma", self.log_plot)):
            item = pg.PlotDataItem(connect="finite")
            item.setZValue(-5)
            plot.addItem(item)
            self.ellipses[chart] = item
        self.fit_paths: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.fit_heads: dict[tuple[str, str], pg.ScatterPlotItem] = {}
        self.chart_paths: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.loss_curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        for run in FIT_RUNS:
            method, chart = run
            key = FIT_KEYS[method]
            # σ runs wide and solid, log σ runs narrow and dashed on top: coinciding paths show both
            solid = chart == "sigma"
            symbol, z = ("o", 10) if solid else ("s", 11)
            self.fit_paths[run] = self._series(key, 5.0 if solid else 2.0, solid)
            self.fit_heads[run] = styled.keyed(pg.ScatterPlotItem(size=10, symbol=symbol), key)
            self.loss_curves[run] = self._series(key, 4.0 if solid else 1.5, solid)
            self.fit_paths[run].setZValue(z)
            self.fit_heads[run].setZValue(z + 2)
            self.dist_plot.addItem(self.fit_paths[run])
            self.dist_plot.addItem(self.fit_heads[run])
            self.loss_plot.addItem(self.loss_curves[run])
            if chart == "log_sigma":
                self.chart_paths[run] = self._series(key, 2.0, solid=False)
                self.chart_paths[run].setZValue(z)
                self.log_plot.addItem(self.chart_paths[run])
            self.legend.addItem(self.fit_paths[run], f"{FIT_LABELS[method]} in {CHART_LABELS[chart]}")
        self.start_markers = {chart: self._marker("+", None) for chart in ("sigma", "log_sigma")}
        self.mle_markers = {chart: self._marker("star", "#ffd400") for chart in ("sigma", "log_sigma")}
        for chart, plot in (("sigma", self.dist_plot), ("log_sigma", self.log_plot)):
            plot.addItem(self.start_markers[chart])
            plot.addItem(self.mle_markers[chart])
        self.legend.addItem(self.start_markers["sigma"], "start")
        self.legend.addItem(self.mle_markers["sigma"], "maximum likelihood")
        self.legend.addItem(self.ellipses["sigma"], "Fisher ellipses xᵀF(θ)x = c")
        self.readouts = [HoverReadout(self.dist_plot, self.describe_sigma_chart, hover),
                         HoverReadout(self.log_plot, self.describe_log_chart, hover)]  # fmt: skip
        self.status = selectable_label()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self.restyle(styled.theme)

    def _series(self, key: str, width: float, solid: bool) -> pg.PlotDataItem:
        """A fit run's line: (μ, σ) runs wide and translucent, (μ, log σ) runs dashed on top, so two
        paths that coincide show as a dashed line inside a band and two that differ as two lines."""
        item = pg.PlotDataItem()
        self._chart_pens.append((item, key, width, solid))
        return item

    def _marker(self, symbol: str, fill: str | None) -> pg.ScatterPlotItem:
        """A start or optimum marker; ``fill`` None: the theme's foreground colour."""
        item = pg.ScatterPlotItem(symbol=symbol, size=18, brush=pg.mkBrush(fill or "#000000"))
        item.setZValue(30)
        self._markers.append((item, fill))
        return item

    def plots(self) -> list[pg.PlotItem]:
        return [self.dist_plot, self.log_plot, self.loss_plot]

    def restyle(self, theme: Theme) -> None:
        """Translucent bands (a keyed pen has no alpha), muted ellipses, markers in the foreground colour."""
        for item, key, width, solid in self._chart_pens:
            pen = theme.pen(key, width, QtCore.Qt.PenStyle.SolidLine if solid else QtCore.Qt.PenStyle.DashLine)
            if solid:
                colour = pen.color()
                colour.setAlpha(120)
                pen.setColor(colour)
            item.setPen(pen)
        for item in self.ellipses.values():
            pen = pg.mkPen(theme.muted(120), width=theme.pen_scale)
            pen.setCosmetic(True)
            item.setPen(pen)
        for item, fill in self._markers:
            item.setPen(pg.mkPen(theme.foreground, width=1.5 * theme.pen_scale))
            item.setBrush(pg.mkBrush(fill or theme.foreground))
            item.setSize(int(18 * theme.font_scale))

    # --- drawing ------------------------------------------------------------------------------
    def draw(self, frame: NaturalGradientFrame) -> None:
        """Draw the fit of ``frame``; a finished fit keeps its frame object and is drawn once."""
        fit, planes = frame.fit, frame.planes
        if fit is self._fit_drawn:
            return
        self._fit_drawn = fit
        if planes is not self._planes:
            self._draw_planes(frame)
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
            self.loss_curves[run].setData(steps, shown)
            excess.append(shown)
        self.loss_range.include(*excess)
        text = (
            f"Step {fit.step}: the two natural-gradient paths are at most <b>{frame.natural_gap:.2g}</b> apart in "
            f"(μ, σ) (an O(η) effect of finite steps), the two gradient-descent paths up to "
            f"<b>{frame.gd_gap:.2g}</b>. Ellipses: one KL radius, KL ≈ c/2 = {planes.sigma_ellipses.c / 2:.2g} nats."
        )
        if frame.fit_stopped:
            text += f"<br><span style='color:{WARN}'>{frame.fit_stopped}</span>"
        self.status.setText(text)

    def _draw_planes(self, frame: NaturalGradientFrame) -> None:
        """What stays put during a fit: the ellipses, the start and the maximum-likelihood point."""
        fit, planes = frame.fit, frame.planes
        self._planes = planes
        for chart, ellipses in (("sigma", planes.sigma_ellipses), ("log_sigma", planes.log_sigma_ellipses)):
            self.ellipses[chart].setData(*nan_joined(ellipses.points))
        self.start_markers["sigma"].setData([fit.distribution_paths[0, 0, 0]], [fit.distribution_paths[0, 0, 1]])
        self.start_markers["log_sigma"].setData([planes.start_log_chart[0]], [planes.start_log_chart[1]])
        self.mle_markers["sigma"].setData([planes.mle[0]], [planes.mle[1]])
        self.mle_markers["log_sigma"].setData([planes.mle_log_chart[0]], [planes.mle_log_chart[1]])
        self.loss_range.reset()
        for plot in self.plots():
            plot.enableAutoRange(axis="x")
        self.dist_plot.enableAutoRange(axis="y")
        self.log_plot.enableAutoRange(axis="y")

    # --- hover ----------------------------------------------------------------------------------
    @staticmethod
    def describe_sigma_chart(mu: float, sigma: float) -> str | None:
        if sigma <= 0:
            return None
        from explorer.lab.natural_gradient.fisher import gaussian_fisher

        f = gaussian_fisher(mu, sigma, "sigma")
        return (
            f"μ = {mu:.3f}, σ = {sigma:.3f}:  F = E[∇log p ∇log pᵀ] = diag(1/σ², 2/σ²) = "
            f"diag({f[0, 0]:.3g}, {f[1, 1]:.3g});  KL(θ ‖ θ + dθ) ≈ ½ dθᵀF dθ"
        )

    @staticmethod
    def describe_log_chart(mu: float, log_sigma: float) -> str | None:
        if not -20 < log_sigma < 20:
            return None
        from explorer.lab.natural_gradient.fisher import gaussian_fisher

        sigma = math.exp(log_sigma)
        f = gaussian_fisher(mu, sigma, "log_sigma")
        return (
            f"μ = {mu:.3f}, log σ = {log_sigma:.3f} (σ = {sigma:.3f}):  F' = JᵀFJ = diag(1/σ², 2) = "
            f"diag({f[0, 0]:.3g}, {f[1, 1]:.3g});  natural step F'⁻¹∇'L = J⁻¹F⁻¹∇L: the same move"
        )

    # --- export -------------------------------------------------------------------------------
    @staticmethod
    def tables(frame: NaturalGradientFrame) -> dict[str, Table]:
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
