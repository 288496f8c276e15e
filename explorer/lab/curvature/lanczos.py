"""The Lanczos iteration (Lanczos 1950) on a symmetric operator given only by its products H v.

After m steps, Q_m^T H Q_m = T_m, a tridiagonal m x m matrix whose eigenvalues (Ritz values) approach
the extreme eigenvalues of H first, both ends at once, much faster than power iteration with deflation
(Golub & Van Loan, "Matrix Computations", Sec. 10.1). Every new vector is reorthogonalized against all
earlier ones, twice ("twice is enough", Parlett 1998, Sec. 6.9), which removes the ghost copies that
plain Lanczos produces in floating point; m stays small (tens to hundreds), so this costs far less than
the Hessian-vector products. The basis and coefficients are kept in float64 whatever the operator's dtype.
When the Krylov space closes (beta ~ 0) the iteration restarts from a fresh random vector orthogonal to
the basis, so that eigenvalues the start vector missed are still found.

Caution: eigenvalues of multiplicity > 1 are found once each until rounding noise seeds the other copies.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

MatVec = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Tridiagonal:
    """T_m: ``alphas`` (m,) diagonal, ``betas`` (m - 1,) off-diagonal (0 at a restart), ``residual`` beta_m."""

    alphas: np.ndarray
    betas: np.ndarray
    residual: float
    basis: torch.Tensor  # (m, n) float64, orthonormal rows q_1..q_m

    def matrix(self) -> np.ndarray:
        return np.diag(self.alphas) + np.diag(self.betas, 1) + np.diag(self.betas, -1)


@dataclass(frozen=True)
class EigenResult:
    """Ritz pairs of the wanted end of the spectrum, and how far they are from converged."""

    values: np.ndarray  # (k,) largest first for "largest", most negative first for "smallest"
    vectors: torch.Tensor  # (k, n) float64 unit Ritz vectors
    residuals: np.ndarray  # (k,) ||H y - theta y|| bounds, |beta_m * last component of the Ritz vector|
    steps: int  # Hessian-vector products taken
    converged: bool


def _orthogonalize(w: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    for _ in range(2):  # classical Gram-Schmidt, twice
        w = w - basis.T @ (basis @ w)
    return w


def lanczos(
    matvec: MatVec,
    start: torch.Tensor,
    max_steps: int,
    generator: torch.Generator,
    stop: Callable[[np.ndarray, np.ndarray, float], bool] | None = None,
    restart: bool = True,
) -> Tridiagonal:
    """Up to ``max_steps`` Lanczos steps from ``start`` (n,), fully reorthogonalized.

    ``stop(alphas, betas, residual)``, if given, is asked after every step. Without ``restart`` the
    iteration ends where the Krylov space closes, as stochastic Lanczos quadrature needs.
    """
    n = start.numel()
    steps = min(max_steps, n)
    basis = torch.empty(min(steps, 32), n, dtype=torch.float64, device=start.device)  # (capacity, n), grown by doubling
    q = start.to(torch.float64).reshape(-1)
    q = q / q.norm()
    alphas: list[float] = []
    betas: list[float] = []
    residual = 0.0
    scale = 0.0
    for j in range(steps):
        if j == len(basis):
            basis = torch.cat([basis, torch.empty_like(basis)])[:steps]
        basis[j] = q
        w = matvec(q).to(torch.float64).reshape(-1)
        alpha = float(q @ w)
        w = _orthogonalize(w, basis[: j + 1])
        alphas.append(alpha)
        residual = float(w.norm())
        if not (math.isfinite(alpha) and math.isfinite(residual)):
            raise ValueError(f"the operator's product is not finite at Lanczos step {j + 1}")
        scale = max(scale, abs(alpha), residual)
        if j + 1 == steps or (stop is not None and stop(np.array(alphas), np.array(betas), residual)):
            break
        if residual <= 1e-10 * scale:
            # The Krylov space is invariant: T so far is exact on it.
            if not restart:
                residual = 0.0
                break
            fresh = torch.randn(n, generator=generator, dtype=torch.float64).to(start.device)
            w = _orthogonalize(fresh, basis[: j + 1])
            if float(w.norm()) < 1e-8 * float(fresh.norm()):
                residual = 0.0
                break
            betas.append(0.0)
            q = w / w.norm()
        else:
            betas.append(residual)
            q = w / residual
    m = len(alphas)  # betas has m - 1 entries: one per step that went on
    return Tridiagonal(np.array(alphas), np.array(betas), residual, basis[:m])


def ritz_errors(values: np.ndarray, vectors: np.ndarray, residual: float, idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """(bounds, errors) of the Ritz values ``values[idx]`` of T_m (eigenvectors ``vectors``).

    ``bounds``: ||H y - theta y|| = |beta_m * last component of y|; some eigenvalue lies that close.
    ``errors``: min(bound, bound^2 / gap), gap = distance to the nearest other Ritz value, the
    eigenvalue's error once it is separated from the rest (Parlett 1998, Sec. 11.7; Saad 2011, Sec. 6.3).
    """
    bounds = np.abs(residual * vectors[-1, idx])
    others = np.abs(values[None, :] - values[idx, None])  # (k, m)
    others[np.arange(len(idx)), idx] = np.inf
    gaps = others.min(axis=1)  # inf for a lone Ritz value: then only the bound is known
    with np.errstate(divide="ignore", invalid="ignore"):
        return bounds, np.where(np.isfinite(gaps), np.minimum(bounds, bounds**2 / gaps), bounds)


def extreme_eigenpairs(
    matvec: MatVec,
    n: int,
    k: int,
    which: str,
    generator: torch.Generator,
    device: torch.device | str = "cpu",
    tol: float = 1e-5,
    max_steps: int | None = None,
) -> EigenResult:
    """The k largest (or smallest) eigenpairs of the n x n operator, each eigenvalue to relative ``tol``.

    Stops once every wanted Ritz value's error estimate (``ritz_errors``) is below ``tol`` times
    max(|theta|, 1e-3 x spectral radius) (the floor for eigenvalues near zero), or after ``max_steps``
    (default min(n, 300)).
    """
    limit = min(n, max_steps if max_steps is not None else 300)
    start = torch.randn(n, generator=generator, dtype=torch.float64).to(device)  # CPU draw: same on every device

    def wanted(values: np.ndarray) -> np.ndarray:
        order = np.argsort(values)
        return order[::-1][:k] if which == "largest" else order[:k]

    def accurate(values: np.ndarray, vectors: np.ndarray, residual: float) -> tuple[np.ndarray, np.ndarray, bool]:
        idx = wanted(values)
        bounds, errors = ritz_errors(values, vectors, residual, idx)
        scale = np.maximum(np.abs(values[idx]), 1e-3 * np.abs(values).max())
        return idx, bounds, bool(np.all(errors <= tol * scale))

    def converged(alphas: np.ndarray, betas: np.ndarray, residual: float) -> bool:
        m = len(alphas)
        if m <= k or (m > 100 and m % 5):  # one unwanted Ritz value at least, to see a gap; large T: every 5th step
            return False
        values, vectors = np.linalg.eigh(np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1))
        return accurate(values, vectors, residual)[2]

    t = lanczos(matvec, start, limit, generator, stop=converged)
    values, vectors = np.linalg.eigh(t.matrix())
    idx, bounds, done = accurate(values, vectors, t.residual)
    ritz = torch.as_tensor(vectors[:, idx].T.copy(), device=t.basis.device) @ t.basis  # (k, n)
    return EigenResult(values[idx], ritz, bounds, len(t.alphas), done or len(t.alphas) >= n)
