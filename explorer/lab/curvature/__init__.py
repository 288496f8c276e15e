"""The curvature of a model's loss on a batch, from exact Hessian-vector products (no dense Hessian).

- ``top_eigenvalues``: the k largest (or most negative) eigenvalues by Lanczos (Lanczos 1950), the sharpness
  of a minimum or the escape directions of a saddle (Dauphin et al. 2014).
- ``hessian_trace``: Hutchinson's estimator E[z^T H z] = tr H for Rademacher z (Hutchinson 1990), with
  its standard error.
- ``spectral_density``: the smoothed eigenvalue density by stochastic Lanczos quadrature (Ghorbani,
  Krishnan & Xiao 2019).
- ``per_block_top_eigenvalue``: the top eigenvalue of each block's own Hessian block (the curvature a
  layer sees with the others fixed), what PyHessian's users ask for layer by layer.

``batch`` is ``(inputs, targets)`` and ``loss_fn(model(inputs), targets)`` a scalar. The same seed gives
the same answer on every device (random vectors are drawn on the CPU). ``dtype=torch.float64`` evaluates
the model in double precision, for reference values. The model is left as it was: no parameter or buffer
changes, no ``.grad`` appears.
"""

from __future__ import annotations

import math
import zlib
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from explorer.lab.curvature.density import Quadrature, SpectralDensity, quadrature
from explorer.lab.curvature.hvp import Batch, LossFn, LossHessian, model_blocks
from explorer.lab.curvature.lanczos import EigenResult, extreme_eigenpairs

__all__ = [
    "Batch",
    "EigenResult",
    "LossFn",
    "LossHessian",
    "Quadrature",
    "SpectralDensity",
    "TraceEstimate",
    "hessian_trace",
    "model_blocks",
    "per_block_top_eigenvalue",
    "spectral_density",
    "spectral_quadrature",
    "top_eigenpairs",
    "top_eigenvalues",
]

WHICH = ("largest", "smallest")


class TraceEstimate(NamedTuple):
    estimate: float
    standard_error: float  # sample standard deviation / sqrt(samples); NaN for a single sample


def _count(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _generator(seed: object, salt: str = "") -> torch.Generator:
    seed = _count("seed", seed, 0)
    return torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(salt.encode())) % 2**63)


def _check_tol(tol: object) -> None:
    if tol is not None and not (isinstance(tol, float | int) and not isinstance(tol, bool) and 0 < tol < 1):
        raise ValueError(f"tol must be None or in (0, 1), got {tol!r}")


def _default_tol(dtype: torch.dtype) -> float:
    """About the relative rounding error of Hessian-vector products in ``dtype``: no point going below it."""
    return 1e-10 if dtype == torch.float64 else 1e-5


def top_eigenpairs(
    model: nn.Module,
    loss_fn: LossFn,
    batch: Batch,
    k: int = 5,
    which: str = "largest",
    seed: int = 0,
    *,
    dtype: torch.dtype | None = None,
    tol: float | None = None,
    max_steps: int | None = None,
) -> EigenResult:
    """``top_eigenvalues`` with the Ritz vectors, residual bounds and step count."""
    k = _count("k", k, 1)
    if which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}, got {which!r}")
    _check_tol(tol)
    if max_steps is not None:
        max_steps = _count("max_steps", max_steps, k)
    generator = _generator(seed)
    hessian = LossHessian(model, loss_fn, batch, dtype)
    if k > hessian.size:
        raise ValueError(f"k must be at most the number of parameters ({hessian.size}), got {k}")
    tol = tol or _default_tol(hessian.dtype)
    return extreme_eigenpairs(hessian.matvec, hessian.size, k, which, generator, hessian.device, tol, max_steps)


def top_eigenvalues(
    model: nn.Module,
    loss_fn: LossFn,
    batch: Batch,
    k: int = 5,
    which: str = "largest",
    seed: int = 0,
    *,
    dtype: torch.dtype | None = None,
    tol: float | None = None,
    max_steps: int | None = None,
) -> np.ndarray:
    """The k largest eigenvalues of the loss Hessian, largest first; or with ``which="smallest"`` the k
    smallest, most negative first. (k,) float64.

    Lanczos runs until every wanted eigenvalue is accurate to relative ``tol`` by its error estimate
    (default: 1e-5 in float32, 1e-10 in float64), or ``max_steps`` products (default min(n, 300)) have been taken.
    """
    return top_eigenpairs(model, loss_fn, batch, k, which, seed, dtype=dtype, tol=tol, max_steps=max_steps).values


def hessian_trace(
    model: nn.Module,
    loss_fn: LossFn,
    batch: Batch,
    samples: int = 64,
    seed: int = 0,
    *,
    dtype: torch.dtype | None = None,
) -> TraceEstimate:
    """tr H by Hutchinson's estimator over ``samples`` Rademacher vectors: (estimate, standard error).

    Rademacher vectors give the smallest variance of any i.i.d. choice (Hutchinson 1990): 2 sum_{i!=j} H_ij^2.
    """
    samples = _count("samples", samples, 1)
    generator = _generator(seed)
    hessian = LossHessian(model, loss_fn, batch, dtype)
    values = np.empty(samples)
    for s in range(samples):
        z = torch.randint(0, 2, (hessian.size,), generator=generator).to(torch.float64) * 2 - 1  # (n,) of +-1
        z = z.to(hessian.device)
        values[s] = float(z @ hessian.matvec(z).to(torch.float64))
    error = float(values.std(ddof=1) / math.sqrt(samples)) if samples > 1 else math.nan
    return TraceEstimate(float(values.mean()), error)


def spectral_quadrature(
    model: nn.Module,
    loss_fn: LossFn,
    batch: Batch,
    seed: int = 0,
    *,
    runs: int = 4,
    steps: int = 80,
    dtype: torch.dtype | None = None,
) -> Quadrature:
    """The Gauss rules behind ``spectral_density``: ``runs`` start vectors, ``steps`` Lanczos steps each
    (Ghorbani et al. 2019 use 90); ``.negative_mass`` is the share of the spectrum below zero."""
    runs = _count("runs", runs, 1)
    steps = _count("steps", steps, 1)
    generator = _generator(seed)
    hessian = LossHessian(model, loss_fn, batch, dtype)
    return quadrature(hessian.matvec, hessian.size, runs, steps, generator, hessian.device)


def spectral_density(
    model: nn.Module,
    loss_fn: LossFn,
    batch: Batch,
    seed: int = 0,
    width: float | None = None,
    *,
    runs: int = 4,
    steps: int = 80,
    points: int = 512,
    dtype: torch.dtype | None = None,
) -> SpectralDensity:
    """(grid, density): the eigenvalue density smoothed by Gaussians of standard deviation ``width``
    (default: 1% of the spectrum's span), integrating to 1 over a grid that covers the extreme eigenvalues."""
    if width is not None and not (isinstance(width, float | int) and math.isfinite(width) and width > 0):
        raise ValueError(f"width must be a positive number or None, got {width!r}")
    points = _count("points", points, 2)
    rule = spectral_quadrature(model, loss_fn, batch, seed, runs=runs, steps=steps, dtype=dtype)
    return rule.smoothed(width, points)


def per_block_top_eigenvalue(
    model: nn.Module,
    loss_fn: LossFn,
    batch: Batch,
    seed: int = 0,
    *,
    dtype: torch.dtype | None = None,
    tol: float | None = None,
    max_steps: int | None = None,
) -> dict[str, float]:
    """{block name: the largest eigenvalue of H_bb}, for each direct child module with parameters.

    H_bb is the Hessian w.r.t. that block's parameters only (the diagonal block of the full Hessian),
    so the numbers say how sharply the loss bends when one layer moves and the rest stay put. Each
    block draws its start vector from the seed and its own name, independent of the other blocks.
    """
    _count("seed", seed, 0)
    _check_tol(tol)
    hessian = LossHessian(model, loss_fn, batch, dtype)
    tol = tol or _default_tol(hessian.dtype)
    tops = {}
    for block in hessian.blocks:
        result = extreme_eigenpairs(
            hessian.block_matvec(block), block.stop - block.start, 1, "largest", _generator(seed, block.name),
            hessian.device, tol, max_steps,
        )  # fmt: skip
        tops[block.name] = float(result.values[0])
    return tops
