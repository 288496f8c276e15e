"""The loss landscapes of a plain and a residual net side by side (Li et al. 2018, Fig. 5: ResNet-56
with and without skip connections).

Both nets come from one :class:`~explorer.lab.residual.Checkpoint` of the residual experiment, so the
landscape can be taken of "the nets so far" at any frame. Directions are drawn per parameter *name*
from one seed, so the two planes are cut along the same random directions, each filter-normalised to
its own net. The two grids are evaluated in lockstep, coarse to fine, so both pictures sharpen
together, and they share one colour scale and one set of contour levels (of log10 loss: a plain deep
net's loss spans decades on the plane), so that their shapes can be compared by eye. A cap on the
colour scale, as Li et al. cap theirs at 10 nats, keeps a plain net's astronomical losses far from its
weights (eval-mode batch norm does not undo the perturbation, so it compounds over the layers) from
squeezing the basin around the weights into one colour.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from explorer.lab.core import contours
from explorer.lab.core.protocol import Job, Progress
from explorer.lab.core.training import resolve_device
from explorer.lab.landscape import Landscape, LandscapeConfig, PartialLandscape, landscape
from explorer.lab.residual.residual import Checkpoint

__all__ = ["LOSS_FLOOR", "N_LEVELS", "LandscapePair", "landscape_pair", "recapped"]

N_LEVELS = 12  # contour levels between the lowest and highest log10 loss of both grids
LOSS_FLOOR = 1e-6  # log10 floor: a perfectly fitted point must not be -inf


@dataclass(frozen=True)
class LandscapePair:
    """Both grids so far (a job's partial result) or complete (its return value)."""

    depth: int  # hidden blocks of both nets
    step: int  # the training step the weights are from
    alphas: np.ndarray  # (R,) coordinate along d1; alphas[R // 2] == 0
    betas: np.ndarray  # (R,) coordinate along d2
    losses: tuple[np.ndarray, np.ndarray]  # (plain, residual), each (R, R) row = beta; NaN: not evaluated yet
    shown: tuple[np.ndarray, np.ndarray]  # (R, R) log10 loss up to log10(cap), holes filled from the nearest point
    color_range: tuple[float, float]  # (low, high) of log10 loss over both grids: the shared colour scale
    levels: np.ndarray  # (N_LEVELS,) contour levels of log10 loss, shared
    contours: tuple[np.ndarray, np.ndarray]  # (2k, 2) contour segment end points (alpha, beta) of each
    center_losses: tuple[float, float]  # each trained net's loss: the grid value at (0, 0)
    fraction: float  # share of the grid points evaluated; 1.0 when complete
    cap: float | None  # losses above it are shown as it (nats); None: no cap

    @property
    def complete(self) -> bool:
        return self.fraction >= 1.0


def _log_loss(losses: np.ndarray) -> np.ndarray:
    return np.log10(np.maximum(losses, LOSS_FLOOR))


def _finished_lattice(losses: np.ndarray, stride: int) -> np.ndarray | None:
    """Indices of the finest lattice through the centre on which every point is evaluated.

    While level ``stride`` is under way, the level before it (twice the spacing) is complete; contours
    are traced on that lattice, not on the blocky nearest-point preview.
    """
    r = len(losses)
    c = r // 2
    for s in (1, stride, 2 * stride):
        idx = np.arange(c % s, r, s)
        if len(idx) >= 2 and np.isfinite(losses[np.ix_(idx, idx)]).all():
            return idx
    return None


def _pair(
    depth: int,
    step: int,
    grids: list[PartialLandscape] | list[Landscape],
    fraction: float,
    cap: float | None,
) -> LandscapePair:
    alphas, betas = grids[0].alphas, grids[0].betas
    losses = [g.losses for g in grids]
    previews = [g.preview if isinstance(g, PartialLandscape) else g.losses for g in grids]
    top = np.inf if cap is None else np.log10(cap)
    shown = [np.minimum(_log_loss(p), top) for p in previews]
    finite = np.concatenate([s[np.isfinite(s)] for s in shown])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if high - low < 1e-9:
        high = low + 1e-3  # a flat plane still needs a colour scale
    levels = np.linspace(low, high, N_LEVELS + 2)[1:-1]
    traced = []
    for grid, loss in zip(grids, losses, strict=True):
        stride = grid.stride if isinstance(grid, PartialLandscape) else 1
        idx = _finished_lattice(loss, stride)
        if idx is None:
            traced.append(np.empty((0, 2)))
        else:
            field = np.minimum(_log_loss(loss[np.ix_(idx, idx)]), top)
            traced.append(contours.segments(field, alphas[idx], betas[idx], levels))
    c = len(alphas) // 2
    return LandscapePair(
        depth=depth,
        step=step,
        alphas=alphas,
        betas=betas,
        losses=(losses[0], losses[1]),
        shown=(shown[0], shown[1]),
        color_range=(low, high),
        levels=levels,
        contours=(traced[0], traced[1]),
        center_losses=(float(losses[0][c, c]), float(losses[1][c, c])),
        fraction=fraction,
        cap=cap,
    )


#: the residual tab's landscape: a 41-point grid draws both planes in seconds on a CPU
LANDSCAPE = LandscapeConfig(resolution=41)


def landscape_pair(
    checkpoint: Checkpoint,
    depth: int,
    cfg: LandscapeConfig = LANDSCAPE,
    device: str = "cpu",
    cap: float | None = None,
    partial_every_s: float = 0.1,
) -> Job[LandscapePair]:
    """Both landscapes of the ``depth``-block nets in ``checkpoint``; yields Progress after every batch.

    ``cap`` (nats) tops the shared colour scale. A report carries a LandscapePair as its partial result
    at most every ``partial_every_s`` seconds (the first always does): small nets finish a batch in a
    millisecond, faster than anyone can look, and tracing contours costs more than the batch.
    Stopping at any yield cancels both grids.
    """
    if cap is not None and not cap > 0:
        raise ValueError(f"cap must be a positive loss, got {cap}")
    torch_device = resolve_device(device)
    nets = checkpoint.nets(depth, torch_device)
    X = torch.tensor(checkpoint.points, device=torch_device)
    y = torch.tensor(checkpoint.labels, device=torch_device)
    jobs = [landscape(net, X, y, cfg) for net in nets]
    partials: list[PartialLandscape] = []
    results: list[Landscape] = []
    last_partial = -math.inf
    try:
        while True:
            fractions, partials = [], []
            for job in jobs:  # lockstep: one batch of points of each net
                try:
                    report = next(job)
                except StopIteration as done:
                    results.append(done.value)
                    continue
                fractions.append(report.fraction)
                partials.append(report.partial)
            if len(results) == len(jobs):
                break
            if results:  # same grid, same batches: both end on the same call
                raise RuntimeError("the two landscape grids fell out of step")
            fraction = min(fractions)
            total = cfg.resolution**2
            message = f"{depth}-block nets: {round(fraction * (total - 1)) + 1}/{total} points each"
            partial = None
            if time.perf_counter() - last_partial >= partial_every_s:
                partial = _pair(depth, checkpoint.step, partials, fraction, cap)
                last_partial = time.perf_counter()
            yield Progress(fraction, message, partial=partial)
    finally:
        for job in jobs:
            job.close()
    return _pair(depth, checkpoint.step, results, 1.0, cap)


def recapped(pair: LandscapePair, cap: float | None) -> LandscapePair:
    """A complete pair drawn under another colour cap: the losses stay, scale and contours are redone."""
    if not pair.complete:
        raise ValueError("only a complete landscape can be redrawn; take it again instead")
    c = len(pair.alphas) // 2
    grids = [Landscape(pair.alphas, pair.betas, losses, float(losses[c, c])) for losses in pair.losses]
    return _pair(pair.depth, pair.step, grids, 1.0, cap)
