"""The geometry of the penultimate layer seen through three class templates.

The logits are z = W h + b, so row t_k of W is class k's *template* and the logit of class k grows as
the activation h moves towards t_k. Projecting the activations of three classes onto the plane through
their three templates shows how the network separates them: label smoothing gives tight clusters at
evenly spaced points, one-hot targets broad clusters stretched towards their own template.

Reference: R. Müller, S. Kornblith, G. Hinton, "When Does Label Smoothing Help?" (NeurIPS 2019),
section 2 and figure 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


def template_plane(templates: ArrayLike) -> NDArray[np.float64]:
    """Orthonormal basis (D, 2) of the plane through three class templates t0, t1, t2 (rows, (3, D)).

    Gram-Schmidt in a fixed order keeps the picture from flipping between frames: t1 - t0 points along
    +x and t2 lies on the +y side. Only this plane's directions matter for the three classes'
    competition, since logit differences (t_a - t_b)·h depend on h only through them.
    """
    t = np.asarray(templates, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != 3 or t.shape[1] < 2:
        raise ValueError(f"need three templates as rows of a (3, D) array with D >= 2, got {t.shape}")
    u = t[1] - t[0]
    v = t[2] - t[0]
    nu = np.linalg.norm(u)
    if nu == 0:
        raise ValueError("templates t0 and t1 coincide: no plane through them")
    e1 = u / nu
    w = v - (v @ e1) * e1
    nw = np.linalg.norm(w)
    if nw <= 1e-12 * max(np.linalg.norm(v), 1.0):
        raise ValueError("the three templates are collinear: no unique plane through them")
    return np.stack([e1, w / nw], axis=1)


def project_onto_template_plane(activations: ArrayLike, templates: ArrayLike) -> NDArray[np.float64]:
    """2-D coordinates (M, 2) of penultimate activations (M, D) in the plane of three templates.

    The visualisation of Müller et al. (2019), section 2: smoothed models show tight clusters around
    evenly spaced points, one-hot models broad clusters stretched towards their own template.
    """
    a = np.asarray(activations, dtype=np.float64)
    basis = template_plane(templates)
    if a.ndim != 2 or a.shape[1] != basis.shape[0]:
        raise ValueError(f"activations must be (M, {basis.shape[0]}), got shape {a.shape}")
    return a @ basis


@dataclass(frozen=True)
class ClusterGeometry:
    """Two numbers for the projection picture: how tight the clusters are, how evenly they are spaced."""

    spread: float  # mean distance to own class centroid / mean distance between centroids
    spacing_cv: float  # std / mean of the pairwise centroid distances (0: an equilateral triangle)


def cluster_geometry(points: ArrayLike, labels: ArrayLike) -> ClusterGeometry:
    """Tightness and evenness of labelled 2-D clusters (scale-free, so models can be compared)."""
    x = np.asarray(points, dtype=np.float64)
    y = np.asarray(labels)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"points (M, d) and labels (M,) must match, got {x.shape} and {y.shape}")
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError("need points from at least two classes")
    centroids = np.stack([x[y == c].mean(axis=0) for c in classes])
    within = np.mean([np.linalg.norm(x[y == c] - centroids[i], axis=1).mean() for i, c in enumerate(classes)])
    i, j = np.triu_indices(classes.size, k=1)
    between = np.linalg.norm(centroids[i] - centroids[j], axis=1)
    mean_between = float(between.mean())
    if mean_between == 0:
        return ClusterGeometry(spread=math.inf, spacing_cv=0.0)
    return ClusterGeometry(spread=float(within) / mean_between, spacing_cv=float(between.std()) / mean_between)
