"""One row per twin of every number the plots show, with the formula in each header's tooltip."""

from __future__ import annotations

import math

from PyQt6 import QtCore

from explorer.lab.label_smoothing import smoothing
from explorer.ui.tabs.label_smoothing.twins import TWINS, fmt, twin_name, twin_state
from explorer.ui.widgets.plots import Styled
from explorer.ui.widgets.table import ReadOnlyTable

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


class SummaryTable(ReadOnlyTable):
    """Two rows (one-hot, smoothed), each header swatched in its network's colour; never scrolls."""

    def __init__(self) -> None:
        super().__init__([c[0] for c in COLUMNS], tips=[c[1] for c in COLUMNS], stretch="all", row_header=True)
        self.setRowCount(len(TWINS))
        self.setVerticalHeaderLabels([twin_name(t) for t in TWINS])
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for row in range(len(TWINS)):
            self.set_row(row, ["—"] * len(COLUMNS), align=QtCore.Qt.AlignmentFlag.AlignCenter)

    def restyle(self, styled: Styled) -> None:
        for row, twin in enumerate(TWINS):  # each row header carries its network's line
            self.verticalHeaderItem(row).setIcon(styled.swatch(twin))
        self.fit_height()

    def fill(self, frame: smoothing.SmoothingFrame) -> None:
        for row, twin in enumerate(TWINS):
            values = [(field, summary_value(frame, twin, field)) for _, _, field in COLUMNS]
            self.set_row(row, [f"{value:g}" if field == "eps" else fmt(value) for field, value in values])
