"""The curvature of a plain and a residual net side by side: top Hessian eigenvalue, spectral density and
the top eigenvalue of each block's own Hessian (Ghorbani, Krishnan & Xiao 2019; per block as PyHessian's
users ask for it).

Both nets come from one :class:`~explorer.lab.residual.Checkpoint`, in eval mode (batch norm by its
running statistics, as the landscapes evaluate them), and the loss is the mean cross-entropy over the
checkpoint's whole training set. Every number is ``explorer.lab.curvature``'s on those nets and that batch
with this job's seed; the job only orders the work cheap to costly, so the coarse picture comes first.

Caution: the density and the block spectra cost hundreds of Hessian-vector products each; a deep net on a
CPU takes seconds to a minute. Cancel takes effect between two pieces, not inside one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.nn import functional as F

from explorer.lab import curvature
from explorer.lab.core.protocol import Job, Progress
from explorer.lab.core.training import resolve_device
from explorer.lab.residual.residual import Checkpoint

__all__ = ["BLOCK_TOL", "DENSITY_RUNS", "DENSITY_STEPS", "CurvaturePair", "NetCurvature", "curvature_pair"]

DENSITY_RUNS = 2  # start vectors of the stochastic Lanczos quadrature
DENSITY_STEPS = 40  # Lanczos steps per start vector: resolves the edges of the spectrum, blurs its bulk
BLOCK_TOL = 1e-3  # relative accuracy of each block's top eigenvalue: enough for a bar chart


@dataclass(frozen=True)
class NetCurvature:
    """One net's curvature; NaN or empty where the job has not got to it yet."""

    top: float  # largest eigenvalue of the loss Hessian
    grid: np.ndarray  # (G,) eigenvalue axis of the density; empty until computed
    density: np.ndarray  # (G,) smoothed spectral density, integrates to 1 over ``grid``
    block_names: tuple[str, ...]  # "stem", "blocks.0", ..., "head"; empty until computed
    block_tops: np.ndarray  # (n_blocks + 2,) top eigenvalue of each block's own Hessian


_NOTHING = NetCurvature(np.nan, np.zeros(0), np.zeros(0), (), np.zeros(0))


@dataclass(frozen=True)
class CurvaturePair:
    depth: int
    step: int  # the training step the weights are from
    plain: NetCurvature
    residual: NetCurvature
    fraction: float  # pieces done of 6; 1.0 when complete

    @property
    def complete(self) -> bool:
        return self.fraction >= 1.0


def curvature_pair(checkpoint: Checkpoint, depth: int, device: str = "cpu", seed: int = 0) -> Job[CurvaturePair]:
    """Top eigenvalue, per-block tops, then spectral density of both nets of ``depth`` blocks.

    Yields a Progress after each piece, its partial the CurvaturePair so far.
    """
    torch_device = resolve_device(device)
    nets = checkpoint.nets(depth, torch_device)
    batch = (torch.tensor(checkpoint.points, device=torch_device), torch.tensor(checkpoint.labels, device=torch_device))
    found = [_NOTHING, _NOTHING]
    pieces = [
        ("top eigenvalue", lambda net: {"top": float(curvature.top_eigenvalues(net, F.cross_entropy, batch, k=1,
                                                                              seed=seed)[0])}),
        ("per-block top eigenvalues", lambda net: _blocks(net, batch, seed)),
        ("spectral density", lambda net: _density(net, batch, seed)),
    ]  # fmt: skip
    total, done = 2 * len(pieces), 0
    for what, compute in pieces:
        for i, (kind, net) in enumerate(zip(("plain", "residual"), nets, strict=True)):
            yield Progress(done / total, f"{kind} {depth}: {what}…")
            found[i] = replace(found[i], **compute(net))
            done += 1
            partial = CurvaturePair(depth, checkpoint.step, found[0], found[1], done / total)
            yield Progress(done / total, f"{kind} {depth}: {what} done", partial=partial)
    return CurvaturePair(depth, checkpoint.step, found[0], found[1], 1.0)


def _blocks(net: torch.nn.Module, batch: curvature.Batch, seed: int) -> dict[str, object]:
    tops = curvature.per_block_top_eigenvalue(net, F.cross_entropy, batch, seed, tol=BLOCK_TOL)
    return {"block_names": tuple(tops), "block_tops": np.array(list(tops.values()))}


def _density(net: torch.nn.Module, batch: curvature.Batch, seed: int) -> dict[str, object]:
    grid, density = curvature.spectral_density(net, F.cross_entropy, batch, seed, runs=DENSITY_RUNS,
                                               steps=DENSITY_STEPS)  # fmt: skip
    return {"grid": np.asarray(grid, dtype=np.float64), "density": np.asarray(density, dtype=np.float64)}
