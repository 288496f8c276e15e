"""View 2, the training race: SGD, Adam, K-FAC and the exact natural gradient on two spirals from the
same weights and batches; loss per step, and per second of optimizer time, with a table of the cost."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.ui.tabs.natural_gradient.formatting import ms
from explorer.ui.tabs.natural_gradient.invariance_page import WARN
from explorer.ui.topic import Table
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.legended import StripLegend
from explorer.ui.widgets.pins import PinSource, sync_legend
from explorer.ui.widgets.plots import GrowOnlyRange, HoverReadout, Styled, new_plot
from explorer.ui.widgets.table import ReadOnlyTable

if TYPE_CHECKING:
    from explorer.lab.natural_gradient.fisher_race import RaceFrame

#: the race's methods, in the lab's order, with their legend labels and learning-rate parameters
RACE_METHODS = ("sgd", "adam", "kfac", "exact_ng")
RACE_LABELS = {"sgd": "SGD + momentum", "adam": "Adam", "kfac": "K-FAC", "exact_ng": "Exact natural gradient"}
RACE_LR_KEY = {"sgd": "sgd_lr", "adam": "adam_lr", "kfac": "ng_lr", "exact_ng": "ng_lr"}


class RacePage(QtWidgets.QWidget):
    """Loss against step and against seconds (one y scale for both), a legend strip and a table."""

    def __init__(self, styled: Styled, hover: QtWidgets.QLabel) -> None:
        super().__init__()
        self.styled = styled
        self.race: RaceFrame | None = None
        self.log_time = True
        self.info = selectable_label()
        self.view = pg.GraphicsLayoutWidget()
        self.step_plot = new_plot(styled, "Loss per step", "step", "cross-entropy L (nats)", log_y=True,
                                  legend=None)  # fmt: skip
        self.time_plot = new_plot(styled, "Loss per second of optimizer time", "wall-clock time (s)",
                                  "cross-entropy L (nats)", log_y=True, legend=None)  # fmt: skip
        self.time_plot.setYLink(self.step_plot)  # one y scale: a height means the same loss in both
        self.loss_range = GrowOnlyRange(self.step_plot, log=True)
        self.view.addItem(self.step_plot, row=0, col=0)
        self.view.addItem(self.time_plot, row=0, col=1)
        self.legend = styled.styled_legend(StripLegend(colCount=4, frame=False))
        self.view.addItem(self.legend, row=1, col=0, colspan=2)
        self.step_curves: dict[str, pg.PlotDataItem] = {}
        self.time_curves: dict[str, pg.PlotDataItem] = {}
        for method in RACE_METHODS:
            self.step_curves[method] = styled.keyed(pg.PlotDataItem(), method, 2.0)
            self.time_curves[method] = styled.keyed(pg.PlotDataItem(), method, 2.0)
            self.step_plot.addItem(self.step_curves[method])
            self.time_plot.addItem(self.time_curves[method])
            self.legend.addItem(self.step_curves[method], RACE_LABELS[method])
        self.readouts = [HoverReadout(self.step_plot, self.describe_step, hover),
                         HoverReadout(self.time_plot, self.describe_time, hover)]  # fmt: skip
        self.table = ReadOnlyTable(["Method", "η", "loss now (nats)", "steps", "optimizer time", "per step", "note"])
        self.table.setRowCount(len(RACE_METHODS))
        for row, method in enumerate(RACE_METHODS):
            self.table.set_row(row, [RACE_LABELS[method], "", "", "", "", "", ""])
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.info)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.table)

    def plots(self) -> list[pg.PlotItem]:
        return [self.step_plot, self.time_plot]

    def set_log_time(self, log_time: bool, values: dict[str, Any]) -> None:
        """Log or linear seconds, redrawn at once (no new run)."""
        self.log_time = log_time
        self.time_plot.setLogMode(x=log_time, y=True)
        self.time_plot.enableAutoRange(axis="x")
        if self.race is not None:
            self.draw(self.race, values)

    # --- drawing ------------------------------------------------------------------------------
    def draw(self, race: RaceFrame, values: dict[str, Any]) -> None:
        if self.race is None or race.step < self.race.step or race.step == 0:  # a new run: fit its own range
            self.loss_range.reset()
        self.race = race
        shown = []
        for i, method in enumerate(race.methods):
            if not race.available[i]:
                self.step_curves[method].setData([], [])
                self.time_curves[method].setData([], [])
                continue
            loss = np.maximum(race.losses[i], 1e-12)
            seconds = race.seconds[i]
            keep = seconds > 0 if self.log_time else np.isfinite(seconds)  # t = 0 has no place on a log axis
            self.step_curves[method].setData(race.steps, loss)
            self.time_curves[method].setData(seconds[keep], loss[keep])
            shown.append(loss)
        self.loss_range.include(*shown)
        self.write(values)

    def write(self, values: dict[str, Any]) -> None:
        """The text above the plots, the legend (which methods run) and the table, in the theme's colours."""
        race = self.race
        if race is None:
            return
        info = (
            f"Two spirals, an MLP with <b>P = {race.n_params:,}</b> parameters; every method starts from the same "
            "weights and sees the same mini-batches. Seconds count optimizer steps only."
        )
        legend = [RACE_LABELS[m] + ("" if ok else " (off: P too large)") for m, ok in zip(
            race.methods, race.available, strict=True)]  # fmt: skip
        if sync_legend(self.legend, ((self.step_curves[m], text) for m, text in zip(race.methods, legend,
                                                                                         strict=True))):  # fmt: skip
            self.styled.restyle(self.styled.theme)
        off = [r for r, ok in zip(race.reasons, race.available, strict=True) if not ok]
        if off:
            info += f"<br><span style='color:{WARN}'><b>Exact natural gradient is off:</b> {off[0]}.</span>"
        if self.info.text() != info:
            self.info.setText(info)
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
                    f"{seconds:.3g} s", ms(per_step) if math.isfinite(per_step) else "—",
                    "builds and solves the P × P Fisher" if method == "exact_ng" else "",
                ]  # fmt: skip
            self.table.set_row(row, cells)
            self.table.item(row, 0).setData(QtCore.Qt.ItemDataRole.DecorationRole, self.styled.swatch(method))

    def pin_sources(self) -> list[PinSource]:
        """Every running method's loss per step and per second."""
        race = self.race
        if race is None:
            return []
        methods = [m for m, ok in zip(race.methods, race.available, strict=True) if ok]
        return [PinSource(plot, curves[m], m, RACE_LABELS[m], what, self.legend, 2.0)
                for what, plot, curves in (("race_per_step", self.step_plot, self.step_curves),
                                           ("race_per_second", self.time_plot, self.time_curves))
                for m in methods]  # fmt: skip

    # --- hover ----------------------------------------------------------------------------------
    def describe_step(self, x: float, y: float) -> str | None:
        race = self.race
        if race is None:
            return None
        j = int(np.argmin(np.abs(race.steps - x)))
        parts = [f"{RACE_LABELS[m]} {race.losses[i, j]:.3g}" for i, m in enumerate(race.methods) if race.available[i]]
        return f"step {race.steps[j]:.0f}: " + " · ".join(parts) + " nats.  Natural gradient: θ ← θ − η (F + λI)⁻¹∇L"

    def describe_time(self, x: float, y: float) -> str | None:
        race = self.race
        if race is None:
            return None
        t = 10**x if self.log_time else x
        parts = []
        for i, m in enumerate(race.methods):
            if not race.available[i]:
                continue
            j = max(int(np.searchsorted(race.seconds[i], t, side="right")) - 1, 0)
            parts.append(f"{RACE_LABELS[m]} {race.losses[i, j]:.3g} (step {race.steps[j]:.0f})")
        return f"after {t:.3g} s of optimizer time: " + " · ".join(parts) + ".  Exact step: build F (P × P), solve"

    # --- export -------------------------------------------------------------------------------
    @staticmethod
    def tables(race: RaceFrame, values: dict[str, Any]) -> dict[str, Table]:
        history: Table = {"step": race.steps}
        for i, method in enumerate(race.methods):
            history[f"{method}_loss"] = race.losses[i]
            history[f"{method}_seconds"] = race.seconds[i]
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
