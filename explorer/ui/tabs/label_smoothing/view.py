"""Label smoothing: one-hot against smoothed targets, in theory and in two twin networks trained live.

Top row, left: the theory (the target vectors, the loss as a function of the predicted probability
of the true class, the optimal logit gap). The rest is ``explorer.lab.smoothing.run``: two identical
MLPs from one initialisation, one trained on one-hot targets and one on smoothed targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtGui, QtWidgets

from explorer.lab.core.protocol import ExperimentFactory
from explorer.lab.label_smoothing import params, smoothing
from explorer.ui.tabs.label_smoothing.calibration_panels import CalibrationPanels
from explorer.ui.tabs.label_smoothing.geometry_panels import GeometryPanels
from explorer.ui.tabs.label_smoothing.summary_table import SummaryTable
from explorer.ui.tabs.label_smoothing.tables import theory_tables, training_tables
from explorer.ui.tabs.label_smoothing.theory_panels import Q_GRID, TheoryPanels
from explorer.ui.tabs.label_smoothing.training_panels import TrainingPanels
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.fit import Cell, FlowGrid
from explorer.ui.widgets.label import hold_two_lines, selectable_label
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.pins import PinSource
from explorer.ui.widgets.plots import HoverReadout


@register
class LabelSmoothingTab(TopicTab):
    minimum_height = 600  # two rows of plots; the page scrolls below this
    pinnable = True
    display_settings = frozenset({"target_class", "projection"})
    summary = "Press Play: two identical networks train, one on one-hot targets, one on smoothed targets."

    specs = params.PARAMS

    @classmethod
    def check_values(cls, values: dict[str, Any], given: set[str]) -> None:
        params.check_values(values, given)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame: smoothing.SmoothingFrame | None = None
        self.view = pg.GraphicsLayoutWidget()
        self.theory_plots = TheoryPanels(self.styled)
        self.training_plots = TrainingPanels(self.styled)
        self.calibration_plots = CalibrationPanels(self.styled)
        self.geometry_plots = GeometryPanels(self.styled)
        theory, training = self.theory_plots, self.training_plots
        calibration, geometry = self.calibration_plots, self.geometry_plots
        grid = (
            (theory.targets_panel, theory.loss_panel, training.acc_panel, training.nll_panel),
            (calibration.rel_panel, calibration.conf_panel, geometry.panels["one_hot"], geometry.panels["smoothed"]),
        )
        # four plots a row where the width holds them, else three or two: a plot never squeezes
        self.flow = FlowGrid(self.view, self.view.ci, [Cell(panel) for row in grid for panel in row], (4, 3, 2, 1))
        self.table = SummaryTable()
        self.hover = selectable_label("Hover over a plot to read its numbers; press Play to train both networks.")
        self.readouts = [
            HoverReadout(theory.targets_panel.plot, theory.describe_target, self.hover),
            HoverReadout(theory.loss_panel.plot, theory.describe_loss, self.hover),
            HoverReadout(calibration.rel_panel.plot, calibration.describe_bin, self.hover),
            HoverReadout(calibration.conf_panel.plot, calibration.describe_confidence, self.hover),
        ]
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.table)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.hover, 1)
        row.addWidget(self.make_pin_buttons())
        layout.addLayout(row)
        self._restyle_fixed()

    def _panels(self) -> list[LegendedPlot]:
        return [*self.theory_plots.panels(), *self.training_plots.panels(), *self.calibration_plots.panels(),
                *self.geometry_plots.panels.values()]  # fmt: skip

    # --- theme: what keyed series cannot say -----------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._restyle_fixed()

    def _restyle_fixed(self) -> None:
        theme = self.styled.theme
        font = QtGui.QFont()
        font.setPointSizeF(theme.point_size(9))  # the theme's tick font
        self.theory_plots.restyle(theme, font)
        self.training_plots.restyle(theme, font)
        self.calibration_plots.restyle(theme)
        self.geometry_plots.restyle(theme)
        for panel in self._panels():
            panel.legend.update()
            panel.fit_legend()
        hold_two_lines(self.hover)
        self.table.restyle(self.styled)

    # --- parameters -> lab ---------------------------------------------------------------------
    def experiment(self, values: dict[str, Any]) -> ExperimentFactory | None:
        cfg = params.experiment_config(values, self.device)
        return lambda: smoothing.run(cfg)

    def on_param_changed(self, key: str, value: Any) -> bool:
        """The targets redraw at once; the class shown and the projected set need no new training."""
        assert self.panel is not None
        if key == "num_classes" and self.panel.value("target_class") >= value:
            self.panel.set_value("target_class", value - 1, quiet=True)
        if key in ("eps", "num_classes", "target_class"):
            self._draw_theory()
        if key == "projection" and self.frame is not None:
            self.geometry_plots.draw(self.frame, value == "train")
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
            losses = {twin: smoothing.loss_vs_true_prob(Q_GRID, k, e) for twin, e in pairs}
            q_star, gap = smoothing.optimal_true_prob(k, eps), smoothing.optimal_logit_gap(k, eps)
        except ValueError as exc:
            self.sig_message.emit(f"Targets: {exc}")
            return
        self.theory_plots.draw({"eps": eps, "k": k, "class": c, "targets": targets, "losses": losses,
                                "q_star": q_star, "gap": gap})  # fmt: skip

    def show_frame(self, frame: smoothing.SmoothingFrame) -> None:
        first = self.frame is None or frame.step == 0
        self.frame = frame
        if first:
            self.geometry_plots.reset()
        values = self.values()
        self.training_plots.draw(frame, values["steps"], first)
        self.calibration_plots.draw(frame, first)
        self.geometry_plots.draw(frame, values["projection"] == "train")
        self.table.fill(frame)

    # --- export --------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        if self.theory_plots.theory is None and self.panel is not None:
            self._draw_theory()
        theory, training = self.theory_plots, self.training_plots
        calibration, geometry = self.calibration_plots, self.geometry_plots
        return {
            "figure": self.view.ci,
            "targets": theory.targets_panel,
            "loss_vs_q": theory.loss_panel,
            "accuracy": training.acc_panel,
            "nll": training.nll_panel,
            "reliability": calibration.rel_panel,
            "confidence": calibration.conf_panel,
            "penultimate_one_hot": geometry.panels["one_hot"],
            "penultimate_smoothed": geometry.panels["smoothed"],
        }

    def pin_curves(self) -> list[PinSource]:
        """Accuracy and NLL of both networks, training set and validation set."""
        return self.training_plots.pin_sources() if self.frame is not None else []

    def tables(self) -> dict[str, Table]:
        if self.theory_plots.theory is None and self.panel is not None:
            self._draw_theory()
        tables: dict[str, Table] = {}
        if self.theory_plots.theory is not None:
            tables.update(theory_tables(self.theory_plots.theory))
        if self.frame is not None:
            tables.update(training_tables(self.frame))
        return {**tables, **self.pin_tables()}
