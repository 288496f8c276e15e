"""Calibration: does a classifier's confidence match how often it is right?

Group held-out predictions by their confidence (the largest predicted probability) into equal-width
bins; in a calibrated model the accuracy inside each bin equals the mean confidence there. The
reliability diagram plots the two per bin, and the expected calibration error (ECE) is their gap
averaged with the bins' weights: ECE = Σ_b (n_b / N) |acc_b - conf_b|. Modern networks trained on
one-hot targets are typically overconfident (conf > acc); label smoothing is one remedy.

References: M. P. Naeini, G. Cooper, M. Hauskrecht, "Obtaining Well Calibrated Probabilities Using
Bayesian Binning" (AAAI 2015); C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern
Neural Networks" (ICML 2017), section 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

ROW_SUM_TOLERANCE = 1e-4  # float32 softmax rows over a few classes sum to 1 within ~1e-6


def as_predictions(probs: ArrayLike, labels: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Validate (N, K) predicted probabilities and their (N,) integer labels in [0, K)."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"probs must be (N, K) with N >= 1 and K >= 2, got shape {p.shape}")
    if y.shape != (p.shape[0],):
        raise ValueError(f"labels shape {y.shape} does not match probs shape {p.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {y.dtype}")
    if np.any((y < 0) | (y >= p.shape[1])):
        raise ValueError(f"labels must be in [0, {p.shape[1]})")
    if not np.all(np.isfinite(p)):
        raise ValueError("probs contain NaN or infinite values")
    if np.any(p < 0):
        raise ValueError("probs contain negative probabilities")
    worst = float(np.max(np.abs(p.sum(axis=1) - 1.0)))
    if worst > ROW_SUM_TOLERANCE:
        raise ValueError(f"each row of probs must sum to 1 (worst row is off by {worst:.3g})")
    return p, y.astype(np.int64)


def _check_bins(bins: int) -> None:
    if bins < 1:
        raise ValueError(f"need at least one bin, got {bins}")


def confidence_bin(confidence: NDArray[np.float64], bins: int) -> NDArray[np.int64]:
    """Bin index of each confidence for equal-width bins (lo, hi] on [0, 1] (0 goes in the first)."""
    # ceil(c * B) - 1 puts c exactly on an inner edge into the lower bin, as in Guo et al.
    return np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)


@dataclass(frozen=True)
class Reliability:
    """A reliability diagram: per-bin mean confidence, accuracy and count, plus the ECE they give.

    Empty bins have count 0 and confidence = accuracy = 0, so bar plots need no NaN handling.
    """

    edges: NDArray[np.float64]  # (B + 1,) from 0 to 1
    confidence: NDArray[np.float64]  # (B,)
    accuracy: NDArray[np.float64]  # (B,)
    counts: NDArray[np.int64]  # (B,)
    ece: float


def reliability_diagram(probs: ArrayLike, labels: ArrayLike, bins: int = 15) -> Reliability:
    """Bin predictions by confidence and compare each bin's accuracy with its mean confidence."""
    _check_bins(bins)
    p, y = as_predictions(probs, labels)
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    index = confidence_bin(confidence, bins)
    counts = np.bincount(index, minlength=bins)
    safe = np.maximum(counts, 1)
    mean_confidence = np.bincount(index, weights=confidence, minlength=bins) / safe
    accuracy = np.bincount(index, weights=correct, minlength=bins) / safe
    ece = float(np.sum(counts * np.abs(accuracy - mean_confidence)) / y.size)
    return Reliability(
        edges=np.linspace(0.0, 1.0, bins + 1),
        confidence=mean_confidence,
        accuracy=accuracy,
        counts=counts.astype(np.int64),
        ece=ece,
    )


def expected_calibration_error(probs: ArrayLike, labels: ArrayLike, bins: int = 15) -> float:
    """ECE = Σ_b (n_b / N) |acc_b - conf_b| over equal-width confidence bins (0 is calibrated)."""
    return reliability_diagram(probs, labels, bins).ece


def confidence_histogram(probs: ArrayLike, bins: int = 40) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """(edges, counts) of the top-class probability: overconfident models pile up near 1."""
    _check_bins(bins)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probs must be (N, K) with K >= 2, got shape {p.shape}")
    index = confidence_bin(p.max(axis=1), bins)
    return np.linspace(0.0, 1.0, bins + 1), np.bincount(index, minlength=bins).astype(np.int64)
