"""What the fine-tuning tab says in words and in tables: hover readouts, the summary table, CSV tables."""

from __future__ import annotations

import math

import numpy as np

from explorer.lab.finetune.finetune import FinetuneFrame, KSweep, Pretrained, StrategyState
from explorer.ui.topic import Table

SUMMARY_COLUMNS = (  # header, tooltip
    ("layers trained", "Which layers below the classifier train now (the classifier always does)"),
    ("trainable", "Parameters that receive gradients now"),
    ("train acc", "Accuracy on the labelled set (eval mode)"),
    ("val acc", "Accuracy on the held-out set"),
    ("gap", "Training minus validation accuracy: the overfitting gap"),
    ("ms / step", "Lower quartile of the wall time of the recent training steps (forward, backward, update)"),
)
CKA_FORMULA = "CKA(X, Y) = ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F), columns centred"


def trained_layers(state: StrategyState) -> str:
    """'none', 'all 7' or 'top 3 of 7' for the units below the classifier."""
    below = state.trainable[:-1]
    n, k = len(below), int(below.sum())
    if k == 0:
        return "none (probe)"
    if k == n:
        return f"all {n}"
    return f"top {k} of {n}" if below[n - k :].all() else f"{k} of {n}"


def summary_cells(state: StrategyState) -> list[str]:
    return [
        trained_layers(state),
        f"{state.n_trainable:,}",
        f"{state.train_accuracy[-1]:.3f}",
        f"{state.val_accuracy[-1]:.3f}",
        f"{state.gap:+.3f}".replace("-", "−"),
        "—" if math.isnan(state.ms_per_step) else f"{state.ms_per_step:.1f}",
    ]


def at_epoch(frame: FinetuneFrame | None, x: float, which: str) -> str | None:
    """Hover on an accuracy plot: every strategy's accuracy at the evaluation nearest ``x``."""
    if frame is None or not frame.strategies or len(frame.strategies[0].epochs) == 0:
        return None
    epochs = frame.strategies[0].epochs
    i = int(np.argmin(np.abs(epochs - x)))
    parts = [f"{s.label} {getattr(s, f'{which}_accuracy')[i]:.3f}" for s in frame.strategies]
    name = "training" if which == "train" else "validation"
    return f"epoch {epochs[i]:.2f}, {name} accuracy: " + ", ".join(parts)


def _unit(frame: FinetuneFrame | None, x: float, n: int) -> int | None:
    u = round(x)
    return u if frame is not None and 0 <= u < n else None


def weight_change_at(frame: FinetuneFrame | None, x: float) -> str | None:
    u = _unit(frame, x, len(frame.unit_names) if frame else 0)
    if u is None:
        return None
    parts = [f"{s.label} {s.weight_change[u]:.4f}" for s in frame.strategies if s.strategy != "scratch"]
    return f"{frame.unit_names[u]}: ‖W − W₀‖ / ‖W₀‖ = " + ", ".join(parts) + " (W₀: the pretrained weights)"


def cka_at(frame: FinetuneFrame | None, x: float) -> str | None:
    u = _unit(frame, x, len(frame.unit_names) - 1 if frame else 0)
    if u is None:
        return None
    parts = [f"{s.label} {s.cka[u]:.3f}" for s in frame.strategies if not math.isnan(s.cka[u])]
    if not parts:
        return None
    return f"{frame.unit_names[u]} output: " + ", ".join(parts) + f"; {CKA_FORMULA}"


def sweep_at(sweep: KSweep | None, x: float) -> str | None:
    if sweep is None or len(sweep.ks) == 0:
        return None
    i = int(np.argmin(np.abs(sweep.ks - x)))
    if abs(sweep.ks[i] - x) > 0.5:
        return None
    k = int(sweep.ks[i])
    what = "linear probe" if k == 0 else f"top {k} of {sweep.n_feature_layers} layers"
    text = (f"k = {k} ({what}): validation {sweep.val_accuracy[i]:.3f}, training {sweep.train_accuracy[i]:.3f}, "
            f"{int(sweep.n_trainable[i]):,} trainable parameters, {sweep.ms_per_step[i]:.2f} ms per step")  # fmt: skip
    if not math.isnan(sweep.scratch_val_accuracy):
        text += (f"; from scratch: validation {sweep.scratch_val_accuracy:.3f}, "
                 f"{sweep.scratch_ms_per_step:.2f} ms per step")  # fmt: skip
    return text


def frame_tables(frame: FinetuneFrame) -> dict[str, Table]:
    states = frame.strategies
    curves: Table = {"epoch": states[0].epochs}
    for s in states:
        for name in ("train_accuracy", "val_accuracy", "train_loss", "val_loss"):
            curves[f"{s.strategy}_{name}"] = getattr(s, name)
    per_layer: Table = {"layer": list(frame.unit_names), "output": list(frame.unit_shapes),
                        "parameters": frame.unit_params}  # fmt: skip
    for s in states:
        per_layer[f"{s.strategy}_trainable"] = s.trainable
        per_layer[f"{s.strategy}_lr_scale"] = s.lr_scale
        per_layer[f"{s.strategy}_weight_change"] = s.weight_change
        per_layer[f"{s.strategy}_cka"] = np.append(s.cka, np.nan)  # the classifier has no CKA
    summary: Table = {"strategy": [s.strategy for s in states], "label": [s.label for s in states],
                      "layers_trained": [trained_layers(s) for s in states],
                      "trainable_parameters": [s.n_trainable for s in states],
                      "train_accuracy": [float(s.train_accuracy[-1]) for s in states],
                      "val_accuracy": [float(s.val_accuracy[-1]) for s in states],
                      "gap": [s.gap for s in states], "ms_per_step": [s.ms_per_step for s in states]}  # fmt: skip
    return {"curves": curves, "per_layer": per_layer, "summary": summary}


def filter_table(before: np.ndarray, after: np.ndarray) -> Table:
    """One row per first-layer weight: filter, row, column, at step 0, now, change."""
    c, r, q = np.meshgrid(np.arange(len(before)), np.arange(3), np.arange(3), indexing="ij")
    return {"filter": c.ravel() + 1, "row": r.ravel(), "column": q.ravel(), "step_0": before.ravel(),
            "now": after.ravel(), "change": (after - before).ravel()}  # fmt: skip


def sweep_table(sweep: KSweep) -> Table:
    """One row per k, then a row for training from scratch."""
    return {
        "k": [*(int(k) for k in sweep.ks), "scratch"],
        "val_accuracy": [*sweep.val_accuracy, sweep.scratch_val_accuracy],
        "train_accuracy": [*sweep.train_accuracy, sweep.scratch_train_accuracy],
        "trainable_parameters": [*(int(n) for n in sweep.n_trainable), sweep.scratch_n_trainable],
        "ms_per_step": [*sweep.ms_per_step, sweep.scratch_ms_per_step],
    }


def pretraining_table(pretrained: Pretrained) -> Table:
    h = pretrained.history
    return {"step": h[:, 0].astype(int), "batch_loss": h[:, 1], "batch_accuracy": h[:, 2]}
