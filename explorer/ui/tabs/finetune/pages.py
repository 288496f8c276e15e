"""The fine-tuning tab's three pictures: training (what trains, what it buys), inside the network, the k-sweep."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab.finetune.finetune import FinetuneFrame, KSweep, StrategyState
from explorer.ui.tabs.finetune import describe
from explorer.ui.tabs.finetune.diagram import UnitDiagram
from explorer.ui.tabs.finetune.figures import AccuracyCurves, FilterMosaic, PerLayer, SweepPlots
from explorer.ui.theme import Theme
from explorer.ui.widgets.job_row import figure_with_job
from explorer.ui.widgets.plots import HoverReadout, Styled
from explorer.ui.widgets.table import ReadOnlyTable

HEADLINES = {
    "training": "<b>Which layers to retrain.</b> A CNN pretrained on ten digits learns a new task from a few "
    "labelled images. Each row of the diagram trains a different part of it (grey: frozen, paler: a lower "
    "learning rate); the curves show what that buys, the table what it costs.",
    "inside": "<b>Generic below, specific above.</b> Fine-tuning moves the lower layers least, and their "
    "representation of the new images stays closest to the pretrained one (linear CKA near 1): what the first "
    "layers learned on digits serves the new task as it is.",
    "sweep": "<b>What unfreezing costs.</b> Top-k fine-tuning for every k, each run for the same epochs: accuracy "
    "levels off after two or three layers, while the time per step keeps growing by about the same amount for every "
    "layer unfrozen (each stage halves the resolution and doubles the channels, so every convolution costs "
    "alike); most of the parameters sit in the top layers.",
}


def _graphics() -> pg.GraphicsLayoutWidget:
    view = pg.GraphicsLayoutWidget()
    view.ci.layout.setContentsMargins(2, 2, 2, 2)
    return view


class TrainingPage(QtWidgets.QWidget):
    """The frozen/trainable diagram over the accuracy curves, and the summary table."""

    def __init__(self, styled: Styled, hover: QtWidgets.QLabel) -> None:
        super().__init__()
        self.styled = styled
        self.diagram = UnitDiagram(styled)
        self.curves = AccuracyCurves(styled)
        self.view = _graphics()
        self.view.addItem(self.diagram.plot, row=0, col=0)
        self.view.addItem(self.curves.row, row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 5)
        self.view.ci.layout.setRowStretchFactor(1, 6)
        self.table = ReadOnlyTable(
            [c[0] for c in describe.SUMMARY_COLUMNS],
            tips=[c[1] for c in describe.SUMMARY_COLUMNS],
            stretch="all",
            row_header=True,
        )
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.table)
        self.readouts = [
            HoverReadout(self.diagram.plot, self.diagram.describe, hover),
            HoverReadout(self.curves.train_plot, lambda x, y: describe.at_epoch(self.frame, x, "train"), hover),
            HoverReadout(self.curves.val_plot, lambda x, y: describe.at_epoch(self.frame, x, "val"), hover),
        ]
        self.frame: FinetuneFrame | None = None

    def show(self, frame: FinetuneFrame, theme: Theme) -> None:
        self.frame = frame
        self.diagram.show(frame)
        title = f"Which layers learn — epoch {frame.epoch:.3g} of {frame.total_epochs}"
        if self.diagram.plot.titleLabel.text != title:
            self.diagram.plot.setTitle(title)
        self.curves.show(frame)
        self.fill_table(frame, theme)

    def fill_table(self, frame: FinetuneFrame, theme: Theme) -> None:
        states = frame.strategies
        labels = [s.label for s in states]
        shown = [self.table.verticalHeaderItem(r).text() for r in range(self.table.rowCount())]
        if shown != labels:
            self.table.clearContents()
            self.table.setRowCount(len(states))
            self.table.setVerticalHeaderLabels(labels)
        for row, state in enumerate(states):
            self.table.set_row(row, describe.summary_cells(state), align=QtCore.Qt.AlignmentFlag.AlignCenter)
        if shown != labels:
            self.recolour(frame, theme)

    def recolour(self, frame: FinetuneFrame | None, theme: Theme) -> None:
        """A swatch of each strategy's line in its row's first cell, as in the plots' legends."""
        for row in range(self.table.rowCount()):
            if frame is not None and row < len(frame.strategies):
                swatch = self.styled.swatch(frame.strategies[row].strategy)
                self.table.item(row, 0).setData(QtCore.Qt.ItemDataRole.DecorationRole, swatch)
        self.fit_table()

    def fit_table(self) -> None:
        """Every row visible, unless that would take more than 30% of the page from the plots."""
        self.table.fit_height(max(80, int(0.3 * self.height())))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_table()


class InsidePage(QtWidgets.QWidget):
    """Per-layer weight change and CKA side by side, over the first-layer filters."""

    def __init__(self, styled: Styled, hover: QtWidgets.QLabel) -> None:
        super().__init__()
        self.layers = PerLayer(styled)
        self.filters = FilterMosaic(styled)
        self.view = _graphics()
        self.view.addItem(self.layers.row, row=0, col=0)
        self.view.addItem(self.filters.plot, row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        self.frame: FinetuneFrame | None = None
        self.readouts = [
            HoverReadout(self.layers.change_plot, lambda x, y: describe.weight_change_at(self.frame, x), hover),
            HoverReadout(self.layers.cka_plot, lambda x, y: describe.cka_at(self.frame, x), hover),
            HoverReadout(self.filters.plot, self.filters.describe, hover),
        ]

    def show(self, frame: FinetuneFrame, filters_of: StrategyState) -> None:
        self.frame = frame
        self.layers.show(frame)
        self.filters.show(filters_of.initial_filters, filters_of.filters, filters_of.label)


class SweepPage(QtWidgets.QWidget):
    """The k-sweep's three plots, with its button and what it is doing."""

    def __init__(self, styled: Styled, hover: QtWidgets.QLabel) -> None:
        super().__init__()
        self.plots = SweepPlots(styled)
        self.view = _graphics()
        self.view.addItem(self.plots.row, row=0, col=0)
        self.button, self.status = figure_with_job(
            self, self.view, "Run k-sweep",
            "Fine-tune the top k layers for every k, and from scratch: accuracy, trainable parameters and time per "
            "step (a progress bar with Cancel below)",
            "The k-sweep runs once the source network is pretrained.")  # fmt: skip
        self.sweep: KSweep | None = None
        self.readouts = [
            HoverReadout(plot, lambda x, y: describe.sweep_at(self.sweep, x), hover) for plot in self.plots.row.plots
        ]

    def show(self, sweep: KSweep) -> None:
        self.sweep = sweep
        self.plots.show(sweep)

    def clear(self) -> None:
        self.sweep = None
        self.plots.clear()
