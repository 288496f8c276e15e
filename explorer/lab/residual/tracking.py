"""What the residual experiment records along training for its curvature and trajectory views.

- ``SharpnessHistory``: the top eigenvalue of every net's minibatch loss Hessian every ``every`` steps,
  by a few Lanczos steps (Lanczos converges to the extreme eigenvalue first, so a handful of Hessian-vector
  products on one batch give it to about a percent). The nets are in train mode, as the optimizer sees
  them: batch norm normalizes by the batch's statistics (the Hessian code clones the running statistics,
  so recording never changes training).
- ``PathRecorder``: flat parameter snapshots of every net (``named_parameters`` order, what
  ``explorer.lab.trajectory`` takes), taken every ``interval`` steps from step 0; when ``capacity`` are kept,
  every other one is dropped and the interval doubles, so the kept steps stay evenly spaced whatever the
  run's length (Li et al. 2018, Sec. 7 use the checkpoints of every epoch).

Both count steps, never frames: what is recorded does not depend on how the driver cuts the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from explorer.lab import curvature
from explorer.lab.core.history import DecimatedHistory
from models import BlockNet

__all__ = ["PATH_BUDGET", "PathRecorder", "SharpnessHistory", "WeightPath", "flat_parameters"]

PATH_BUDGET = 2**26  # floats kept in snapshots over all nets (256 MB in float32): big nets keep fewer


def flat_parameters(net: BlockNet) -> torch.Tensor:
    """Every parameter in ``named_parameters`` order as one (P,) vector on the net's device."""
    return torch.cat([p.detach().reshape(-1) for p in net.parameters()])


@dataclass(frozen=True)
class WeightPath:
    """Snapshots of every net's parameters along training, evenly spaced in steps.

    The arrays are host copies made once, when taken, and shared by every later frame.
    """

    steps: np.ndarray  # (m,) float64, the step of each snapshot; steps[0] == 0 (the initialization)
    depths: tuple[int, ...]
    snapshots: tuple[tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]], ...]  # per depth (plain, residual):
    # m flat (P,) float32 parameter vectors each, read-only

    def of(self, depth: int) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """(plain, residual) snapshots of the nets of ``depth`` blocks."""
        if depth not in self.depths:
            raise ValueError(f"no nets of depth {depth} in this path (depths {self.depths})")
        return self.snapshots[self.depths.index(depth)]


class PathRecorder:
    """Keeps at most ``capacity`` snapshots of each net, at steps 0, k, 2k, ... with k doubling as it fills."""

    def __init__(self, depths: tuple[int, ...], n_params: int, capacity: int, interval: int = 1) -> None:
        if capacity < 3 or interval < 1:
            raise ValueError("a path needs room for at least 3 snapshots and a positive interval")
        # at least 3: a plane needs three points, even where the budget would allow fewer
        self.capacity = max(3, min(capacity, PATH_BUDGET // max(n_params, 1)))
        self.interval = interval
        self.depths = depths
        self.steps: list[int] = []
        self.kept: list[list[list[np.ndarray]]] = [[[], []] for _ in depths]
        self.path = WeightPath(np.zeros(0), depths, tuple(((), ()) for _ in depths))

    def due(self, step: int) -> bool:
        if step % self.interval:
            return False
        if len(self.steps) == self.capacity:
            self.steps = self.steps[::2]
            self.kept = [[snaps[::2] for snaps in pair] for pair in self.kept]
            self.interval *= 2
            return step % self.interval == 0
        return True

    def record(self, step: int, nets: list[list[BlockNet]]) -> None:
        """Snapshot every (plain, residual) pair of ``nets`` at ``step`` (call when ``due``)."""
        flats = [flat_parameters(net) for pair in nets for net in pair]
        host = torch.cat(flats).float().cpu().numpy()  # one transfer for all nets
        host.flags.writeable = False
        pieces = np.split(host, np.cumsum([len(f) for f in flats])[:-1])
        for i, pair in enumerate(self.kept):
            for k in (0, 1):
                pair[k].append(pieces[2 * i + k])
        self.steps.append(step)
        self.path = WeightPath(
            np.asarray(self.steps, dtype=np.float64),
            self.depths,
            tuple((tuple(pair[0]), tuple(pair[1])) for pair in self.kept),
        )


class SharpnessHistory:
    """Top Hessian eigenvalue of the tracked nets on the step's minibatch, every ``every`` steps (0: never)."""

    def __init__(
        self, n_depths: int, every: int, lanczos_steps: int, capacity: int, seed: int, tracked: list[int]
    ) -> None:
        self.every = every
        self.tracked = tracked  # indices of the depths measured; the others' rows stay NaN
        self.lanczos_steps = lanczos_steps
        self.seed = seed
        self.history = DecimatedHistory(capacity, 2 * n_depths)  # plain tops, then residual tops

    def due(self, step: int) -> bool:
        return self.every > 0 and step % self.every == 0

    def record(self, step: int, nets: list[list[BlockNet]], batch: tuple[torch.Tensor, torch.Tensor]) -> None:
        tops = [
            [_top_eigenvalue(net, batch, self.lanczos_steps, self.seed) if i in self.tracked else math.nan
             for net in pair]
            for i, pair in enumerate(nets)
        ]  # fmt: skip
        row = np.array([t[0] for t in tops] + [t[1] for t in tops])  # (2 * n_depths,)
        self.history.extend(np.array([float(step)]), row[None])

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps (k,), plain tops (n_depths, k), residual tops (n_depths, k))."""
        values = self.history.values().T  # (2 * n_depths, k)
        half = len(values) // 2
        return self.history.steps(), values[:half], values[half:]


def _top_eigenvalue(net: BlockNet, batch: tuple[torch.Tensor, torch.Tensor], steps: int, seed: int) -> float:
    try:
        values = curvature.top_eigenvalues(net, F.cross_entropy, batch, k=1, seed=seed, tol=1e-3, max_steps=steps)
    except ValueError:  # a non-finite loss or weight: the training loop reports the divergence itself
        return math.nan
    return float(values[0])
