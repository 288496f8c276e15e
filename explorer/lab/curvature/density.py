"""Stochastic Lanczos quadrature: the Hessian's eigenvalue density without its eigenvalues.

For a unit random vector v, v^T f(H) v = sum_i (u_i . v)^2 f(lambda_i) is a quadrature against the
spectral measure, and m Lanczos steps from v give its Gauss rule: nodes = the Ritz values theta_j of
T_m, weights = the squared first components of T_m's eigenvectors (Golub & Meurant 2010). Averaged over
a few v, and with f a narrow Gaussian, this is the smoothed density (1/n) sum_i g_sigma(t - lambda_i)
(Lin, Saad & Yang 2016; Ghorbani, Krishnan & Xiao 2019, "An Investigation into Neural Net Optimization
via Hessian Eigenvalue Density", Sec. 2). Start vectors are Rademacher, as in Ghorbani et al.

Caution: nodes with tiny weights sit between the true eigenvalues; only the smoothed density, the
moments and the mass on either side of a point are estimates of the spectrum, not the nodes themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from explorer.lab.curvature.lanczos import MatVec, lanczos


class SpectralDensity(NamedTuple):
    grid: np.ndarray  # (points,) eigenvalue axis, covering the extreme Ritz values by 4 widths
    density: np.ndarray  # (points,) >= 0, trapezoid integral over grid == 1


@dataclass(frozen=True)
class Quadrature:
    """The Gauss rules of all runs: ``nodes`` and ``weights`` (runs, m); each weight row sums to 1."""

    nodes: np.ndarray
    weights: np.ndarray

    @property
    def negative_mass(self) -> float:
        """Share of the spectrum below zero (the saddle's escape directions, Dauphin et al. 2014)."""
        return float(self.weights[self.nodes < 0].sum() / len(self.weights))

    @property
    def extremes(self) -> tuple[float, float]:
        return float(self.nodes.min()), float(self.nodes.max())

    def default_width(self) -> float:
        """1% of the span of the Ritz values: wide enough to join the nodes of a few runs into a curve."""
        low, high = self.extremes
        span = high - low
        return 0.01 * span if span > 0 else 0.01 * max(abs(high), 1.0)

    def smoothed(self, width: float | None = None, points: int = 512) -> SpectralDensity:
        """Sum of Gaussians of standard deviation ``width`` at the nodes, normalized on its grid."""
        sigma = self.default_width() if width is None else width
        low, high = self.extremes
        grid = np.linspace(low - 4 * sigma, high + 4 * sigma, points)
        z = (grid[:, None] - self.nodes.reshape(1, -1)) / sigma  # (points, runs * m)
        density = (np.exp(-0.5 * z**2) * self.weights.reshape(1, -1)).sum(axis=1)
        density /= trapezoid(density, grid)
        return SpectralDensity(grid, density)


def trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    """The trapezoid rule (numpy renamed ``trapz`` in 2.0; this works with both)."""
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


def quadrature(
    matvec: MatVec, n: int, runs: int, steps: int, generator: torch.Generator, device: torch.device
) -> Quadrature:
    """``runs`` Gauss rules of ``steps`` Lanczos steps each (fewer where the Krylov space closes early)."""
    nodes = np.zeros((runs, min(steps, n)))
    weights = np.zeros_like(nodes)
    for r in range(runs):
        signs = torch.randint(0, 2, (n,), generator=generator).to(torch.float64) * 2 - 1  # Rademacher
        t = lanczos(matvec, signs.to(device), steps, generator, restart=False)
        theta, vectors = np.linalg.eigh(t.matrix())
        m = len(theta)
        nodes[r, :m], weights[r, :m] = theta, vectors[0] ** 2
        nodes[r, m:] = theta[0]  # padding: weight 0
    return Quadrature(nodes, weights)
