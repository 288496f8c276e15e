"""Each net's own training path: the plane it moved in, the landscape on that plane, and the straight line
from initialization to the trained weights.

Li et al. (2018, Sec. 7): two random directions are nearly orthogonal to any path in a space of
thousands of dimensions, so a path drawn on a random plane barely moves; the top two principal
components of the recorded weights span the plane in which it moves most. The landscape is cut along
them around the last weights, each axis scaled to the path's extent along it (so a path that moves
mostly along d1 still fills the picture), and evaluated on the checkpoint's training set in batched form
(``explorer.lab.landscape``). Goodfellow, Vinyals & Saxe (2015): the loss along (1 - t) theta_0 + t theta
from the initialization to the trained weights is often monotone, with no barrier to cross.

Caution: the path holds parameters only; every point of the plane and the line is evaluated with the
trained nets' batch-norm running statistics (eval mode), like the other landscapes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from explorer.lab import trajectory
from explorer.lab.core.protocol import Job, Progress
from explorer.lab.core.training import resolve_device
from explorer.lab.landscape import Landscape, LandscapeConfig, PartialLandscape, landscape
from explorer.lab.residual.curvature_pair import CurvaturePair, curvature_pair
from explorer.lab.residual.residual import Checkpoint
from explorer.lab.residual.tracking import WeightPath

__all__ = ["MARGIN", "NetPath", "PathPair", "TrainedViews", "path_of", "path_pair", "trained_views"]

MARGIN = 1.25  # the plane reaches this many times the path's extent along each direction


@dataclass(frozen=True)
class NetPath:
    """One net's path on its own PCA plane. Coordinates are along unit directions d1, d2 (parameter units)."""

    steps: np.ndarray  # (n,) float64, the step of each point of the path; the last is the checkpoint's
    coords: np.ndarray  # (n, 2) (alpha, beta) of each point relative to the last (trajectory.project)
    explained: np.ndarray  # (2,) share of the path's variance along d1 and d2
    alphas: np.ndarray  # (R,) grid along d1; alphas[R // 2] == 0
    betas: np.ndarray  # (R,) grid along d2
    losses: np.ndarray  # (R, R) mean cross-entropy, row = beta; NaN where not evaluated yet
    t: np.ndarray  # (N,) interpolation parameter, 0 = initialization, 1 = trained; empty until computed
    line_losses: np.ndarray  # (N,) loss along the segment

    @property
    def complete(self) -> bool:
        return bool(np.isfinite(self.losses).all()) and len(self.t) > 0


@dataclass(frozen=True)
class PathPair:
    depth: int
    step: int
    plain: NetPath | None  # None until its first grid batch
    residual: NetPath | None
    fraction: float

    @property
    def complete(self) -> bool:
        return self.fraction >= 1.0


@dataclass(frozen=True)
class TrainedViews:
    """Both views of one checkpoint: ``trained_views``' result."""

    curvature: CurvaturePair
    path: PathPair


def path_of(
    path: WeightPath, checkpoint: Checkpoint, depth: int, net: int, final: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """(steps, flat parameter vectors) of net ``net`` (0 plain, 1 residual) up to the checkpoint, ending at
    its weights ``final``."""
    kept = [(s, w) for s, w in zip(path.steps, path.of(depth)[net], strict=True) if s < checkpoint.step]
    steps = np.array([s for s, _ in kept] + [float(checkpoint.step)])
    # writable float64 copies: torch refuses to wrap the frame's read-only arrays without a warning
    return steps, [np.array(w, dtype=np.float64) for _, w in kept] + [final]


def path_pair(
    checkpoint: Checkpoint,
    path: WeightPath,
    depth: int,
    resolution: int = 21,
    interpolation_points: int = 51,
    device: str = "cpu",
    partial_every_s: float = 0.1,
) -> Job[PathPair]:
    """PCA plane, projected path, landscape and interpolation of the plain, then the residual net.

    Yields Progress after every batch of grid points; a report carries the PathPair so far at most every
    ``partial_every_s`` seconds (always the first and each net's last).
    """
    torch_device = resolve_device(device)
    nets = checkpoint.nets(depth, torch_device)
    X = torch.tensor(checkpoint.points, device=torch_device)
    y = torch.tensor(checkpoint.labels, device=torch_device)
    cfg = LandscapeConfig(resolution=resolution, span=1.0)
    done: list[NetPath | None] = [None, None]
    last_partial = -math.inf
    for i, net in enumerate(nets):
        final = trajectory.flat_parameters(net).numpy()
        steps, points = path_of(path, checkpoint, depth, i, final)
        if len(points) < 3:
            raise ValueError(f"the path has {len(points)} points so far; a plane needs 3: train a few more steps")
        d1, d2, explained = trajectory.pca_directions(points)
        coords = trajectory.project(points, d1, d2)  # (n, 2)
        # each axis spans the path's extent: the plane's unit square maps to (scale1 d1, scale2 d2)
        scales = [MARGIN * max(float(np.abs(coords[:, j]).max()), 1e-6) for j in (0, 1)]
        directions = tuple(trajectory.as_directions(net, d * s) for d, s in zip((d1, d2), scales, strict=True))
        job = landscape(net, X, y, cfg, directions=directions)
        try:
            while True:
                try:
                    report = next(job)
                except StopIteration as stop:
                    grid: Landscape | PartialLandscape = stop.value
                    break
                grid = report.partial
                fraction = (i + 0.9 * report.fraction) / 2
                partial = None
                if time.perf_counter() - last_partial >= partial_every_s:
                    done[i] = _net_path(steps, coords, explained, scales, grid.alphas, grid.betas, grid.preview)
                    partial = PathPair(depth, checkpoint.step, done[0], done[1], fraction)
                    last_partial = time.perf_counter()
                yield Progress(fraction, f"{('plain', 'residual')[i]} {depth}: landscape on its PCA plane, "
                               f"{report.message}", partial=partial)  # fmt: skip
        finally:
            job.close()
        yield Progress((i + 0.9) / 2, f"{('plain', 'residual')[i]} {depth}: interpolation from initialization")
        line = trajectory.interpolate(net, points[0], final, F.cross_entropy, (X, y), n=interpolation_points)
        done[i] = _net_path(steps, coords, explained, scales, grid.alphas, grid.betas, grid.losses, line)
        last_partial = time.perf_counter()
        yield Progress((i + 1) / 2, f"{('plain', 'residual')[i]} {depth} done",
                       partial=PathPair(depth, checkpoint.step, done[0], done[1], (i + 1) / 2))  # fmt: skip
    return PathPair(depth, checkpoint.step, done[0], done[1], 1.0)


def _net_path(
    steps: np.ndarray,
    coords: np.ndarray,
    explained: np.ndarray,
    scales: list[float],
    alphas: np.ndarray,
    betas: np.ndarray,
    losses: np.ndarray,
    line: trajectory.Interpolation | None = None,
) -> NetPath:
    empty = np.zeros(0)
    return NetPath(
        steps=steps,
        coords=coords,
        explained=np.asarray(explained, dtype=np.float64),
        alphas=alphas * scales[0],
        betas=betas * scales[1],
        losses=np.array(losses, dtype=np.float64),
        t=empty if line is None else line.t,
        line_losses=empty if line is None else line.losses,
    )


def trained_views(
    checkpoint: Checkpoint,
    path: WeightPath,
    depth: int,
    resolution: int = 21,
    device: str = "cpu",
    seed: int = 0,
) -> Job[TrainedViews]:
    """``curvature_pair`` then ``path_pair`` as one job (its progress split 50/50): both views of one checkpoint."""
    curvature = yield from _scaled(curvature_pair(checkpoint, depth, device, seed), 0.0)
    paths = yield from _scaled(path_pair(checkpoint, path, depth, resolution, device=device), 0.5)
    return TrainedViews(curvature, paths)


def _scaled(job: Job, start: float) -> Job:
    """``job``'s reports with the fraction mapped into [start, start + 0.5]."""
    while True:
        try:
            report = next(job)
        except StopIteration as stop:
            return stop.value
        try:
            yield Progress(start + 0.5 * report.fraction, report.message, partial=report.partial)
        except GeneratorExit:
            job.close()
            raise
