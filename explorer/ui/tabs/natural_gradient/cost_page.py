"""View 3, the cost: memory and time of one natural-gradient step, measured as P grows, for the exact
Fisher (P² entries, a P³/3 solve) and K-FAC, with fitted power laws and a formula-only table of what a
dense Fisher of a real network would cost."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.ui.tabs.natural_gradient.formatting import count, duration, ms, nbytes
from explorer.ui.topic import Table
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.legended import StripLegend
from explorer.ui.widgets.plots import HoverReadout, Styled, new_plot
from explorer.ui.widgets.table import ReadOnlyTable

if TYPE_CHECKING:
    from explorer.lab.natural_gradient.fisher_cost import CostResult
    from explorer.lab.natural_gradient.natural_gradient_views import PowerLaw

COST_METHODS = (("exact", "exact_ng", "exact Fisher"), ("kfac", "kfac", "K-FAC"))
FORMULA_NOTE = "computed from the formula, not measured"
MIB = 2.0**20


class CostPage(QtWidgets.QWidget):
    """Measured points and fitted lines on log-log axes, legends with the slopes, the extrapolation."""

    def __init__(self, styled: Styled, hover: QtWidgets.QLabel) -> None:
        super().__init__()
        self.styled = styled
        self.result: CostResult | None = None
        self.lines: dict[str, PowerLaw] = {}
        self.status = selectable_label("The sweep starts when the tab opens; Measure runs it again.")
        self.measure_button = QtWidgets.QPushButton("Measure again")
        self.measure_button.setToolTip("Sweep P for the exact Fisher and for K-FAC (progress and Cancel below)")
        self.measure_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space stays Play
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.measure_button)
        self.view = pg.GraphicsLayoutWidget()
        self.memory_plot = new_plot(styled, "Memory of one natural-gradient step", "parameters P",
                                    "peak memory (MiB)", log_x=True, log_y=True, legend=None)  # fmt: skip
        self.time_plot = new_plot(styled, "Time of one natural-gradient step", "parameters P", "time (s)",
                                  log_x=True, log_y=True, legend=None)  # fmt: skip
        self.view.addItem(self.memory_plot, row=0, col=0)
        self.view.addItem(self.time_plot, row=0, col=1)
        self.legends: dict[str, StripLegend] = {}
        self.points: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.fits: dict[tuple[str, str], pg.PlotDataItem] = {}
        for col, (quantity, plot) in enumerate((("memory", self.memory_plot), ("time", self.time_plot))):
            legend = styled.styled_legend(StripLegend(colCount=2, frame=False))
            self.view.addItem(legend, row=1, col=col)
            self.legends[quantity] = legend
            for method, key, _ in COST_METHODS:
                points = styled.keyed(pg.PlotDataItem(symbol="o"), key, 1.0)
                fit = styled.keyed(pg.PlotDataItem(), key, 2.0, QtCore.Qt.PenStyle.DashLine)
                points.setZValue(10)
                plot.addItem(fit)
                plot.addItem(points)
                self.points[(quantity, method)] = points
                self.fits[(quantity, method)] = fit
        self._label_legends()
        self.readouts = [HoverReadout(self.memory_plot, self.describe_memory, hover),
                         HoverReadout(self.time_plot, self.describe_time, hover)]  # fmt: skip
        self.extrapolation_title = selectable_label(
            f"<b>Extrapolated to real networks: {FORMULA_NOTE}</b> (dense fp32 Fisher, Cholesky at the rate "
            "measured above)"
        )
        self.table = ReadOnlyTable(["Network", "P", "fp32 Fisher, 4P²", "Cholesky, P³/3 flop",
                                    "time at the measured rate", "source"])  # fmt: skip
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.extrapolation_title)
        layout.addWidget(self.table)

    def plots(self) -> list[pg.PlotItem]:
        return [self.memory_plot, self.time_plot]

    # --- drawing ------------------------------------------------------------------------------
    def measuring(self, budget: float) -> None:
        self.status.setText(f"Measuring (up to {budget:g} s): the progress bar below has Cancel.")

    def settings_changed(self) -> None:
        self.status.setText("Sweep settings changed: press <b>Measure again</b> to measure with them.")

    def cancelled(self) -> None:
        previous = " The plots keep the previous measurement." if self.result is not None else ""
        self.status.setText(f"Cancelled: nothing new was measured.{previous} Press <b>Measure again</b>.")

    def show_result(self, result: CostResult) -> None:
        from explorer.lab.natural_gradient.natural_gradient_views import fitted_power_law

        self.result = result
        self.lines = {"exact": fitted_power_law(result.exact), "kfac": fitted_power_law(result.kfac)}
        for method, curve in (("exact", result.exact), ("kfac", result.kfac)):
            line = self.lines[method]
            self.points[("memory", method)].setData(curve.n_params, curve.peak_bytes / MIB)
            self.points[("time", method)].setData(curve.n_params, curve.seconds)
            fitted = np.isfinite(line.seconds) & np.isfinite(line.peak_bytes)  # the fitted range only
            self.fits[("memory", method)].setData(line.n_params[fitted], line.peak_bytes[fitted] / MIB)
            self.fits[("time", method)].setData(line.n_params[fitted], line.seconds[fitted])
        for plot in self.plots():
            plot.enableAutoRange()
        self._label_legends()
        stopped = [f"{name}: {c.stopped_reason}" for name, c in (("exact", result.exact), ("K-FAC", result.kfac))
                   if c.stopped_reason]  # fmt: skip
        self.status.setText(
            f"Measured on this machine's CPU: {len(result.exact.n_params)} exact and {len(result.kfac.n_params)} "
            f"K-FAC sizes; slopes fitted on the larger half. Memory: {result.memory_method}."
            + (f"<br>Stopped early, {'; '.join(stopped)}." if stopped else "")
        )
        self.table.setRowCount(len(result.extrapolation))
        for row, r in enumerate(result.extrapolation):
            self.table.set_row(row, [
                r.name, count(r.n_params), nbytes(r.fisher_bytes_fp32), f"{r.cholesky_flops:.2g}",
                duration(r.seconds_at_measured_rate), r.source,
            ])  # fmt: skip
        self.extrapolation_title.setText(
            f"<b>Extrapolated to real networks: {FORMULA_NOTE}</b> (dense fp32 Fisher; Cholesky time at "
            f"{result.measured_flops_per_second / 1e9:.3g} GFLOP/s, the rate measured at the largest exact point)"
        )

    def _label_legends(self) -> None:
        """Measured points and fitted lines per plot, the fitted slope next to the formula's."""
        for quantity, legend in self.legends.items():
            legend.clear()
            for method, _, name in COST_METHODS:
                curve = getattr(self.result, method) if self.result is not None else None
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
                legend.addItem(self.points[(quantity, method)], f"{name}, measured")
                legend.addItem(self.fits[(quantity, method)], f"fit: slope {slope} (formula {theory})")
        self.styled.restyle(self.styled.theme)

    # --- hover ----------------------------------------------------------------------------------
    def _nearest(self, x: float, y: float, quantity: str) -> str | None:
        if self.result is None:
            return None
        best, text = math.inf, None
        for method, _, name in COST_METHODS:
            curve = getattr(self.result, method)
            values = curve.peak_bytes / MIB if quantity == "memory" else curve.seconds
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
                    f"{name}, P = {p:,.0f} (width {curve.widths[j]}): {ms(curve.seconds[j])}, "
                    f"{curve.peak_bytes[j] / MIB:.3g} MiB measured;  {formula}"
                )
        return text

    def describe_memory(self, x: float, y: float) -> str | None:
        return self._nearest(x, y, "memory")

    def describe_time(self, x: float, y: float) -> str | None:
        return self._nearest(x, y, "time")

    # --- export -------------------------------------------------------------------------------
    def tables(self) -> dict[str, Table]:
        cost = self.result
        if cost is None:
            return {}
        points: dict[str, list[Any]] = {k: [] for k in (
            "method", "width", "n_params", "seconds", "peak_bytes", "peak_mib", "fitted_seconds", "fitted_bytes",
        )}  # fmt: skip
        fits: dict[str, list[Any]] = {k: [] for k in (
            "method", "time_slope", "memory_slope", "theory_time_slope", "theory_memory_slope", "fit_min_params",
            "stopped_reason",
        )}  # fmt: skip
        for method, curve in (("exact", cost.exact), ("kfac", cost.kfac)):
            line = self.lines[method]
            k = len(curve.n_params)
            points["method"] += [method] * k
            points["width"] += list(curve.widths)
            points["n_params"] += list(curve.n_params)
            points["seconds"] += list(curve.seconds)
            points["peak_bytes"] += list(curve.peak_bytes)
            points["peak_mib"] += list(curve.peak_bytes / MIB)
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
