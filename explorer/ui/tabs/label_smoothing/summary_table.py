"""One row per twin of every number the plots show, with the formula in each header's tooltip."""

from __future__ import annotations

import math

from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab.label_smoothing import smoothing
from explorer.ui.tabs.label_smoothing.twins import TWINS, fmt, twin_name, twin_state
from explorer.ui.theme import Theme

COLUMNS = (  # header, tooltip, ModelState field ("optimal_gap" comes from the frame)
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


def summary_value(frame: smoothing.SmoothingFrame, twin: str, field: str) -> float:
    """One number of the summary; the optimal gap is the frame's (the parameters may have moved on)."""
    if field == "optimal_gap":
        return math.inf if twin == "one_hot" else frame.optimal_logit_gap
    return float(getattr(twin_state(frame, twin), field))


class SummaryTable(QtWidgets.QTableWidget):
    """Two rows (one-hot, smoothed), each header swatched in its network's colour; never scrolls."""

    def __init__(self) -> None:
        super().__init__(len(TWINS), len(COLUMNS))
        self.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
        for col, (_, tip, _) in enumerate(COLUMNS):
            self.horizontalHeaderItem(col).setToolTip(tip)
        self.setVerticalHeaderLabels([twin_name(t) for t in TWINS])
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for row in range(len(TWINS)):
            for col in range(len(COLUMNS)):
                item = QtWidgets.QTableWidgetItem("—")
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                self.setItem(row, col, item)

    def restyle(self, theme: Theme) -> None:
        for row, twin in enumerate(TWINS):  # each row header carries its network's colour
            swatch = QtGui.QPixmap(12, 12)
            swatch.fill(theme.color(twin))
            self.verticalHeaderItem(row).setIcon(QtGui.QIcon(swatch))
        rows = sum(self.rowHeight(r) for r in range(self.rowCount()))
        self.setFixedHeight(self.horizontalHeader().sizeHint().height() + rows + 4)

    def fill(self, frame: smoothing.SmoothingFrame) -> None:
        for row, twin in enumerate(TWINS):
            for col, (_, _, field) in enumerate(COLUMNS):
                value = summary_value(frame, twin, field)
                text = f"{value:g}" if field == "eps" else fmt(value)
                item = self.item(row, col)
                if item.text() != text:  # only what changed: setting items is the costly part
                    item.setText(text)
