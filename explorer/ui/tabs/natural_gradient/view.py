"""Natural gradient: steps measured by the Fisher metric, their invariance, and what the Fisher costs.

Three views, switched by the bar above the plots (or the "view" parameter): a Gaussian fitted in two
parameterizations (natural-gradient paths coincide, gradient-descent paths do not), a training race on
two spirals (SGD, Adam, K-FAC, exact natural gradient; per step and per second), and the measured cost
of the exact Fisher against K-FAC as P grows, with a formula-only extrapolation to real networks.
One Play drives the fit and the race together; the cost sweep is a job (Measure, with Cancel).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PyQt6 import QtGui, QtWidgets

from explorer.lab.core.protocol import ExperimentFactory
from explorer.lab.natural_gradient import params
from explorer.ui.runner import JobRunner
from explorer.ui.tabs.natural_gradient.axes import fix_axis_width
from explorer.ui.tabs.natural_gradient.cost_page import CostPage
from explorer.ui.tabs.natural_gradient.invariance_page import InvariancePage
from explorer.ui.tabs.natural_gradient.race_page import RacePage
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.pins import PinSource
from explorer.ui.widgets.viewbar import ViewBar, beside_bar

if TYPE_CHECKING:
    from explorer.lab.natural_gradient.fisher_cost import CostResult
    from explorer.lab.natural_gradient.natural_gradient_views import NaturalGradientFrame
    from explorer.ui.params import ParamPanel

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


@register
class NaturalGradientTab(TopicTab):
    minimum_height = 560  # two rows of plots; the page scrolls below this
    pinnable = True  # the race: the Gaussian fit and the cost sweep stay as they are
    display_settings = frozenset({"view", "log_time", *(p.key for p in params.PARAMS if p.key.startswith("cost_"))})
    summary = (
        "Press Space: the Gaussian fit and the training race run together. The bar above the plots switches "
        "between invariance, the race and the measured cost."
    )

    specs = params.PARAMS

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame: NaturalGradientFrame | None = None
        self._message = ""
        self.headline = selectable_label()
        self.hover = selectable_label("Hover over a plot to read its values and the formula behind them.", wrap=False)
        self.fit_page = InvariancePage(self.styled, self.hover)
        self.race_page = RacePage(self.styled, self.hover)
        self.cost_page = CostPage(self.styled, self.hover)
        self.cost_page.measure_button.clicked.connect(self.measure_cost)
        self.stack = QtWidgets.QStackedWidget()
        for page in (self.fit_page, self.race_page, self.cost_page):
            self.stack.addWidget(page)
        self.view_bar = ViewBar(params.VIEWS, params.VIEW_TITLES, self.stack, self.headline, HEADLINES)
        self._fix_axis_widths(self.styled.theme)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(beside_bar(self.view_bar, self.make_pin_buttons()))
        layout.addWidget(self.headline)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.hover)
        self.view_bar.show_view("invariance")
        self._fit_tables()

    def attach(self, panel: ParamPanel, jobs: JobRunner) -> None:
        super().attach(panel, jobs)
        jobs.sig_cancelled.connect(self.cost_page.cancelled)
        self.race_page.set_log_time(panel.value("log_time"), panel.values())
        self.view_bar.attach(panel)
        self._fit_tables()

    # --- parameters -> lab ------------------------------------------------------------------
    def experiment(self, values: dict[str, Any]) -> ExperimentFactory:
        from explorer.lab.natural_gradient import natural_gradient_views as views  # torch loads here, not at start-up

        cfg = params.experiment_config(values, self.device)  # a ValueError goes to the page's banner
        return lambda: views.run(cfg)

    def on_param_changed(self, key: str, value: Any) -> bool:
        if key == "view":
            self.view_bar.show_view(value)
            self._fit_tables()
            return False
        if key.startswith("cost_"):
            self.cost_page.settings_changed()
            return False
        if key == "log_time":
            self.race_page.set_log_time(bool(value), self.values())
            return False
        return True

    def start_jobs(self) -> None:
        self.measure_cost()

    def measure_cost(self) -> None:
        """Start the cost sweep as a job (progress and Cancel in the page)."""
        values = self.values()
        budget = values["cost_budget_s"]

        def job() -> Any:
            from explorer.lab.natural_gradient.natural_gradient_views import measure_cost_isolated  # in a child process

            return measure_cost_isolated(params.cost_config(values))

        self.cost_page.measuring(budget)
        assert self.jobs is not None
        self.jobs.start(job, self._on_cost, "Measuring the exact Fisher and K-FAC as P grows")

    def _on_cost(self, result: CostResult) -> None:
        self.cost_page.show_result(result)
        self._fit_tables()

    # --- drawing ------------------------------------------------------------------------------
    def show_frame(self, frame: NaturalGradientFrame) -> None:
        self.frame = frame
        self.fit_page.draw(frame)
        self.race_page.draw(frame.race, self._values())
        if frame.fit_stopped and frame.fit_stopped != self._message:
            self.sig_message.emit(frame.fit_stopped)
        self._message = frame.fit_stopped

    def _values(self) -> dict[str, Any]:
        return self.values() if self.panel is not None else {}

    # --- theme, layout ----------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.fit_page.restyle(theme)
        self._fix_axis_widths(theme)
        self.race_page.write(self._values())  # the table's colour swatches

    def _plot_items(self) -> list[pg.PlotItem]:
        return [*self.fit_page.plots(), *self.race_page.plots(), *self.cost_page.plots()]

    def _fix_axis_widths(self, theme: Theme) -> None:
        for plot in self._plot_items():
            fix_axis_width(plot, theme)

    def _fit_tables(self) -> None:
        """Every row visible, unless that would take more than a quarter of the tab from the plots."""
        for table in (self.race_page.table, self.cost_page.table):
            table.fit_height(max(70, int(0.25 * self.height())))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_tables()

    # --- export -------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        """Each plot alone (axes labelled), and each view's whole figure with its legend."""
        fit, race, cost = self.fit_page, self.race_page, self.cost_page
        return {
            "invariance_figure": fit.view.ci,
            "distribution_plane": fit.dist_plot,
            "log_sigma_chart": fit.log_plot,
            "fit_excess_loss": fit.loss_plot,
            "race_figure": race.view.ci,
            "race_loss_per_step": race.step_plot,
            "race_loss_per_second": race.time_plot,
            "cost_figure": cost.view.ci,
            "cost_memory": cost.memory_plot,
            "cost_time": cost.time_plot,
        }

    def pin_curves(self) -> list[PinSource]:
        return self.race_page.pin_sources()

    def tables(self) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        if self.frame is not None:
            tables.update(self.fit_page.tables(self.frame))
            tables.update(self.race_page.tables(self.frame.race, self.values()))
        tables.update(self.cost_page.tables())
        return {**tables, **self.pin_tables()}
