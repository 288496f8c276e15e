"""What the label-smoothing tab's plots show, as column tables for CSV and JSON export."""

from __future__ import annotations

from typing import Any

from explorer.lab.label_smoothing import smoothing
from explorer.ui.tabs.label_smoothing.summary_table import COLUMNS, summary_value
from explorer.ui.tabs.label_smoothing.theory_panels import Q_GRID
from explorer.ui.tabs.label_smoothing.twins import TWINS, twin_state
from explorer.ui.topic import Table


def theory_tables(theory: dict[str, Any]) -> dict[str, Table]:
    """The target vectors and the loss curves."""
    return {
        "targets": {"class": list(range(theory["k"])), "one_hot": theory["targets"]["one_hot"],
                    "smoothed": theory["targets"]["smoothed"]},
        "loss_vs_q": {"q": Q_GRID, "loss_one_hot_nats": theory["losses"]["one_hot"],
                      "loss_smoothed_nats": theory["losses"]["smoothed"]},
    }  # fmt: skip


def training_tables(frame: smoothing.SmoothingFrame) -> dict[str, Table]:
    """The summary, the curves, calibration bins, confidence histograms and the projections."""
    summary: Table = {"model": list(TWINS)}
    for _, _, field in COLUMNS:
        summary[field] = [summary_value(frame, t, field) for t in TWINS]
    curves: Table = {"step": frame.history_steps}
    edges = frame.one_hot.reliability.edges
    reliability: Table = {"bin_low": edges[:-1], "bin_high": edges[1:]}
    confidence: Table = {"bin_low": frame.confidence_edges[:-1], "bin_high": frame.confidence_edges[1:]}
    train: Table = {"class": frame.train_projection_labels}
    val: Table = {"class": frame.val_projection_labels}
    templates: Table = {"class": list(frame.projected_classes)}
    for twin in TWINS:
        state = twin_state(frame, twin)
        for name in ("train_accuracy", "val_accuracy", "train_nll", "val_nll"):
            curves[f"{twin}_{name}"] = getattr(state, f"{name}_history")
        rel = state.reliability
        reliability.update({f"{twin}_confidence": rel.confidence, f"{twin}_accuracy": rel.accuracy,
                            f"{twin}_count": rel.counts})  # fmt: skip
        confidence[f"{twin}_count"] = state.confidence_counts
        for table, points in ((train, state.train_projection), (val, state.val_projection),
                              (templates, state.template_projection)):  # fmt: skip
            table[f"{twin}_x"], table[f"{twin}_y"] = points[:, 0], points[:, 1]
    return {"summary": summary, "curves": curves, "reliability": reliability, "confidence": confidence,
            "penultimate_train": train, "penultimate_val": val, "templates": templates}  # fmt: skip
