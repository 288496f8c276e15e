"""One-shot analyses of the user's network at a frame: its loss landscape, the line from its initialization,
its Hessian spectrum. Each is a job (Progress with partial results, Cancel by stopping) on a copy of the
model with that frame's weights, so training can go on meanwhile.

The landscape evaluates the user's own loss at θ + α d₁ + β d₂ with ``torch.func.functional_call``, any
module, any loss; d₁, d₂ are filter-normalized random directions (Li et al. 2018) or the first two
principal components of the training path, with the path projected onto them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.lab import curvature, trajectory
from explorer.lab.core.protocol import Job, Progress
from explorer.lab.landscape import filter_normalized_directions, grid_order
from explorer.lab.your_model.experiment import ModelSnapshot

LANDSCAPE_ROWS = 2048  # examples the landscape's loss is taken on (the first ones of data())
CURVATURE_ROWS = 512  # examples of the Hessian's batch
DIRECTIONS = ("random", "pca")


@dataclass(frozen=True)
class Surface:
    """The loss on a plane through the weights of ``step``; NaN where not evaluated yet."""

    step: int
    directions: str  # "random" or "pca"
    alphas: np.ndarray  # (R,)
    betas: np.ndarray  # (R,)
    losses: np.ndarray  # (R, R), row = beta
    path: np.ndarray  # (m, 2) the training path projected on the plane (PCA), else (0, 2)
    path_steps: np.ndarray  # (m,)
    explained: np.ndarray  # (2,) share of the path's variance along d1, d2 (PCA), else NaN
    fraction: float

    @property
    def complete(self) -> bool:
        return self.fraction >= 1.0


@dataclass(frozen=True)
class Line:
    step: int
    t: np.ndarray  # (N,) 0 = initialization, 1 = the weights of ``step``
    losses: np.ndarray  # (N,)


@dataclass(frozen=True)
class Spectrum:
    step: int
    top: np.ndarray  # (k,) largest Hessian eigenvalues, largest first
    grid: np.ndarray  # (P,) eigenvalue axis of the density
    density: np.ndarray  # (P,) smoothed spectral density, integrates to 1
    blocks: tuple[str, ...]  # each direct child module with parameters
    block_tops: np.ndarray  # (B,) top eigenvalue of each block's own Hessian


def _batch(snapshot: ModelSnapshot, rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    task = snapshot.task
    return task.inputs[:rows], task.targets[:rows]


def _over_trainable(model: torch.nn.Module, flat: torch.Tensor) -> dict[str, torch.Tensor]:
    """A flat vector over the trainable parameters (as the path is kept) as {name: tensor} for every
    parameter: zero along frozen ones, which the path never moved."""
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    split = torch.split(torch.as_tensor(flat), [p.numel() for _, p in trainable])
    pieces = {n: piece.to(p).view(p.shape) for (n, p), piece in zip(trainable, split, strict=True)}
    return {n: pieces[n] if n in pieces else torch.zeros_like(p) for n, p in model.named_parameters()}


def landscape(snapshot: ModelSnapshot, directions: str = "random", resolution: int = 21, span: float = 1.0,
              seed: int = 0) -> Job[Surface]:  # fmt: skip
    """The loss around the weights of the snapshot, coarse to fine; PCA planes span the whole path."""
    if directions not in DIRECTIONS:
        raise ValueError(f"directions must be one of {', '.join(DIRECTIONS)}, got {directions!r}")
    if not (3 <= resolution <= 101 and resolution % 2 == 1):
        raise ValueError(f"resolution must be odd and in [3, 101], got {resolution}")
    model = snapshot.model()
    model.eval()
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    path, path_steps, explained = np.zeros((0, 2)), np.zeros(0), np.full(2, np.nan)
    if directions == "pca":
        if len(snapshot.path) < 3:
            raise ValueError("the PCA plane needs at least 3 snapshots of the path: train a few more steps")
        pca = trajectory.pca_directions(list(snapshot.path))
        d1, d2 = (_over_trainable(model, d) for d in (pca.d1, pca.d2))
        path = trajectory.project(list(snapshot.path), pca.d1, pca.d2)
        path_steps, explained = snapshot.path_steps, np.asarray(pca.explained_variance, dtype=float)
        span = 1.15 * float(np.max(np.abs(path))) if np.max(np.abs(path)) > 0 else span
    else:
        d1, d2 = filter_normalized_directions(model, seed)
    x, y = _batch(snapshot, LANDSCAPE_ROWS)
    base = {n: p.detach() for n, p in model.named_parameters()}
    buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
    coords = np.linspace(-span, span, resolution)
    c = resolution // 2
    coords[c] = 0.0
    losses = np.full((resolution, resolution), np.nan)

    def loss_at(alpha: float, beta: float) -> float:
        params = {n: base[n] + alpha * d1[n].to(base[n]) + beta * d2[n].to(base[n]) if n in names else base[n]
                  for n in base}  # fmt: skip
        with torch.no_grad():
            out = torch.func.functional_call(model, {**params, **buffers}, (x,))
            return float(snapshot.task.loss_fn(out, y))

    losses[c, c] = loss_at(0.0, 0.0)  # the weights themselves: grid_order starts around them
    total, done = resolution * resolution, 1
    for _, points in grid_order(resolution):
        for i, j in points:
            losses[i, j] = loss_at(coords[j], coords[i])
            done += 1
            if done % max(1, resolution) == 0 or done == total:
                yield Progress(done / total, f"{done}/{total} points",
                               partial=Surface(snapshot.step, directions, coords, coords.copy(), losses.copy(), path,
                                               path_steps, explained, done / total))  # fmt: skip
    return Surface(snapshot.step, directions, coords, coords.copy(), losses, path, path_steps, explained, 1.0)


def line_from_initialization(snapshot: ModelSnapshot, n: int = 41) -> Job[Line]:
    """The loss from the initialization to the weights of the snapshot (Goodfellow et al. 2015)."""
    model = snapshot.model()
    model.eval()
    yield Progress(0.0, "the line from the initialization")
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    start = {k: v for k, v in snapshot.initial.items() if k in trainable}
    end = {k: v for k, v in snapshot.state.items() if k in trainable}
    result = trajectory.interpolate(model, start, end, snapshot.task.loss_fn, _batch(snapshot, LANDSCAPE_ROWS), n)
    return Line(snapshot.step, np.asarray(result.t), np.asarray(result.losses))


def spectrum(snapshot: ModelSnapshot, seed: int = 0) -> Job[Spectrum]:
    """Top-5 Hessian eigenvalues, the spectral density and each block's top eigenvalue, at the snapshot."""
    model = snapshot.model()
    model.eval()
    batch, loss_fn = _batch(snapshot, CURVATURE_ROWS), snapshot.task.loss_fn
    yield Progress(0.0, "top eigenvalues (Lanczos)")
    k = min(5, snapshot.task.n_params)
    top = curvature.top_eigenvalues(model, loss_fn, batch, k=k, seed=seed)
    yield Progress(0.4, "spectral density (stochastic Lanczos quadrature)")
    density = curvature.spectral_density(model, loss_fn, batch, seed=seed)
    yield Progress(0.75, "each block's top eigenvalue")
    blocks = curvature.per_block_top_eigenvalue(model, loss_fn, batch, seed=seed)
    return Spectrum(snapshot.step, np.asarray(top), np.asarray(density.grid), np.asarray(density.density),
                    tuple(blocks), np.array(list(blocks.values()), dtype=float))  # fmt: skip
