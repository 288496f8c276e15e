"""Training curves of the twins: accuracy and NLL of the true class against step, training set dashed
and validation set solid, in each network's colour."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui

from explorer.lab.label_smoothing import smoothing
from explorer.ui.tabs.label_smoothing.twins import TWINS, twin_name, twin_state
from explorer.ui.theme import Theme
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.pins import PinSource
from explorer.ui.widgets.plots import GrowOnlyRange, Styled

_SOLID, _DASHED = QtCore.Qt.PenStyle.SolidLine, QtCore.Qt.PenStyle.DashLine


class TrainingPanels:
    """``acc_panel`` and ``nll_panel``; their x axes span the run's steps, fixed while it plays."""

    def __init__(self, styled: Styled) -> None:
        self._step_extent = 0
        self.acc_panel = LegendedPlot(styled, "Accuracy", "step", "accuracy")
        self.nll_panel = LegendedPlot(styled, "NLL of the true class", "step", "NLL (nats)", log_y=True)
        self.acc_curves: dict[str, dict[str, pg.PlotDataItem]] = {}
        self.nll_curves: dict[str, dict[str, pg.PlotDataItem]] = {}
        # legend: colour is the network, line style the data set (grey samples, not drawn in the plot)
        self.style_samples = {"train": pg.PlotDataItem(), "validation": pg.PlotDataItem()}
        for panel, curves in ((self.acc_panel, self.acc_curves), (self.nll_panel, self.nll_curves)):
            for twin in TWINS:
                # one_hot and smoothed lie past the palette, where the theme would dash them: say the style
                curves[twin] = {"train": styled.keyed(pg.PlotDataItem(), twin, 1.5, _DASHED),
                                "val": styled.keyed(pg.PlotDataItem(), twin, 2.0, _SOLID)}  # fmt: skip
                panel.add(curves[twin]["train"])
                panel.add(curves[twin]["val"], twin_name(twin))
            for name, sample in self.style_samples.items():
                panel.legend.addItem(sample, name)
            panel.fit_legend()
        self.acc_panel.plot.setYRange(0, 1.02, padding=0)
        self.nll_range = GrowOnlyRange(self.nll_panel.plot, log=True)

    def panels(self) -> tuple[LegendedPlot, ...]:
        return self.acc_panel, self.nll_panel

    def pin_sources(self) -> list[PinSource]:
        return [PinSource(panel.plot, curves[twin][data], twin, f"{twin_name(twin)} {data}", what, panel.legend,
                          1.5 if data == "train" else 2.0)
                for what, panel, curves in (("accuracy", self.acc_panel, self.acc_curves),
                                            ("nll", self.nll_panel, self.nll_curves))
                for twin in TWINS for data in ("train", "val")]  # fmt: skip

    def restyle(self, theme: Theme, font: QtGui.QFont) -> None:
        """The grey legend samples of the two line styles, and room on the NLL axis for "0.001"."""
        self.style_samples["validation"].setPen(pg.mkPen(theme.muted(230), width=1.5 * theme.pen_scale))
        self.style_samples["train"].setPen(pg.mkPen(theme.muted(230), width=1.5 * theme.pen_scale, style=_DASHED))
        # from the start, or the axis widens only after a paint with a smaller decade (an export misses that)
        room = QtGui.QFontMetrics(font).horizontalAdvance("0.001") + 4
        self.nll_panel.plot.getAxis("left").setStyle(autoExpandTextSpace=False, tickTextWidth=room)

    def draw(self, frame: smoothing.SmoothingFrame, steps_wanted: int, first: bool) -> None:
        if self._step_extent != steps_wanted:  # fixed x axes: no re-layout of the axes every frame
            self._step_extent = steps_wanted
            for panel in self.panels():
                panel.plot.setXRange(0, steps_wanted, padding=0.02)
        if first:
            self.nll_range.reset()
        steps = frame.history_steps
        nll = []
        for twin in TWINS:
            state = twin_state(frame, twin)
            self.acc_curves[twin]["train"].setData(steps, state.train_accuracy_history)
            self.acc_curves[twin]["val"].setData(steps, state.val_accuracy_history)
            nll += [np.maximum(state.train_nll_history, 1e-6), np.maximum(state.val_nll_history, 1e-6)]
            self.nll_curves[twin]["train"].setData(steps, nll[-2])
            self.nll_curves[twin]["val"].setData(steps, nll[-1])
        self.nll_range.include(*nll)
