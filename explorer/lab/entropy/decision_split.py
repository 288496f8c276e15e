"""Choosing a decision-tree split by information gain, on a small 2-D point set.

A split "x_feature <= threshold" sends points left or right; its information gain is the parent's label
entropy minus the size-weighted entropy of the two children. ID3/C4.5 try every threshold between
consecutive sorted values and keep the best one. Here the scan is vectorised with cumulative class
counts, so the Entropy tab can plot the whole gain curve, not only its maximum.

References: J. R. Quinlan, "Induction of Decision Trees", Machine Learning 1 (1986);
T. Hastie, R. Tibshirani, J. Friedman, "The Elements of Statistical Learning", section 9.2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from explorer.lab.core.numerics import xlogy
from explorer.lab.entropy.information import information_gain, label_entropy, log_base


@dataclass(frozen=True)
class Blobs:
    """The split demo's point set: Gaussian blobs of 2 or 3 classes in the plane, centred on fixed points so
    splits are readable. A value of its own, so the tab builds it from its form by name."""

    n_per_class: int = 60
    num_classes: int = 3
    seed: int = 0
    spread: float = 0.9  # standard deviation of each blob: larger makes the classes overlap, the best gain lower

    def __post_init__(self) -> None:
        if self.num_classes not in (2, 3):
            raise ValueError(f"the split demo uses 2 or 3 classes, got {self.num_classes}")
        if self.n_per_class < 1:
            raise ValueError(f"need at least one point per class, got {self.n_per_class}")
        if not self.spread > 0:
            raise ValueError(f"spread must be positive, got {self.spread}")

    def draw(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """``points`` (N, 2) and ``labels`` (N,), N = n_per_class * num_classes; the same seed, the same set."""
        centres = np.array([[-2.0, -1.0], [2.0, -1.0], [0.0, 2.0]])[: self.num_classes]
        rng = np.random.default_rng(self.seed)
        noise = self.spread * rng.standard_normal((self.num_classes * self.n_per_class, 2))
        points = centres.repeat(self.n_per_class, axis=0) + noise
        labels = np.arange(self.num_classes, dtype=np.int64).repeat(self.n_per_class)
        return points, labels


def make_blobs(
    n_per_class: int = 60, num_classes: int = 3, seed: int = 0, spread: float = 0.9
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The points and labels of :class:`Blobs` with these settings."""
    return Blobs(n_per_class, num_classes, seed, spread).draw()


def _validate(points: ArrayLike, labels: ArrayLike, feature: int) -> tuple[NDArray[np.float64], NDArray]:
    x = np.asarray(points, dtype=np.float64)
    y = np.asarray(labels)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"points must be a non-empty (N, d) array, got shape {x.shape}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"labels shape {y.shape} does not match {x.shape[0]} points")
    if not 0 <= feature < x.shape[1]:
        raise ValueError(f"feature must be in [0, {x.shape[1]}), got {feature}")
    return x, y


@dataclass(frozen=True)
class Split:
    """One split and the entropies the tab shows beside it (in bits)."""

    feature: int
    threshold: float
    parent_entropy: float
    left_entropy: float  # points with x[feature] <= threshold
    right_entropy: float
    left_count: int
    right_count: int
    gain: float


def split_entropies(points: ArrayLike, labels: ArrayLike, feature: int, threshold: float, base: float = 2) -> Split:
    """Entropies of the parent and both children for the split ``x[feature] <= threshold``."""
    x, y = _validate(points, labels, feature)
    left = x[:, feature] <= threshold
    return Split(
        feature=feature,
        threshold=float(threshold),
        parent_entropy=label_entropy(y, base),
        left_entropy=label_entropy(y[left], base),
        right_entropy=label_entropy(y[~left], base),
        left_count=int(left.sum()),
        right_count=int((~left).sum()),
        gain=information_gain(y, left, base),
    )


@dataclass(frozen=True)
class ThresholdScan:
    """Gain of every candidate threshold on one feature: the curve and its best point."""

    feature: int
    thresholds: NDArray[np.float64]  # (T,) midpoints between consecutive distinct values, ascending
    gains: NDArray[np.float64]  # (T,)
    best_threshold: float  # NaN when the feature has a single distinct value
    best_gain: float


def _entropy_rows(counts: NDArray[np.float64], base: float) -> NDArray[np.float64]:
    """Entropy of each row of class counts (rows summing to 0 give 0)."""
    totals = counts.sum(axis=1, keepdims=True)
    p = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return -xlogy(p, p).sum(axis=1) / log_base(base)


def scan_thresholds(points: ArrayLike, labels: ArrayLike, feature: int, base: float = 2) -> ThresholdScan:
    """Information gain of every threshold on ``feature``, in O(N log N + N·C), no Python loop."""
    x, y = _validate(points, labels, feature)
    classes, y_index = np.unique(y, return_inverse=True)
    order = np.argsort(x[:, feature], kind="stable")
    values = x[order, feature]
    onehot = np.zeros((y.size, classes.size))
    onehot[np.arange(y.size), y_index[order]] = 1.0
    left_counts = np.cumsum(onehot, axis=0)[:-1]  # (N-1, C): row i = counts of the i+1 smallest points
    total = onehot.sum(axis=0)
    right_counts = total - left_counts
    # A threshold can only fall between two different values; equal values must go the same way.
    cut = np.flatnonzero(values[1:] > values[:-1])
    n_left = (cut + 1).astype(np.float64)
    n = float(y.size)
    parent = _entropy_rows(total[None, :], base)[0]
    children = (n_left / n) * _entropy_rows(left_counts[cut], base) + ((n - n_left) / n) * _entropy_rows(
        right_counts[cut], base
    )
    thresholds = 0.5 * (values[cut] + values[cut + 1])
    gains = np.maximum(parent - children, 0.0)
    if gains.size == 0:
        return ThresholdScan(feature, thresholds, gains, float("nan"), 0.0)
    best = int(np.argmax(gains))
    return ThresholdScan(feature, thresholds, gains, float(thresholds[best]), float(gains[best]))


@dataclass(frozen=True)
class BestSplit:
    """The best axis-aligned split over all features, and the scans it came from (one per feature)."""

    feature: int
    threshold: float
    gain: float
    scans: tuple[ThresholdScan, ...]


def best_split(points: ArrayLike, labels: ArrayLike, base: float = 2) -> BestSplit:
    """Scan every feature and keep the threshold with the largest information gain (first on ties)."""
    x, y = _validate(points, labels, 0)
    scans = tuple(scan_thresholds(x, y, j, base) for j in range(x.shape[1]))
    winner = max(range(len(scans)), key=lambda j: (scans[j].best_gain, -j))
    return BestSplit(winner, scans[winner].best_threshold, scans[winner].best_gain, scans)
