"""Optimizers on a two-parameter surface, written out so each update reads like its paper.

First-order methods (GD, SGD with gradient noise, heavy-ball momentum, Nesterov, Adam, RMSProp,
Adagrad) see only the gradient; second-order ones see curvature: Newton solves with the Hessian (and
so is *attracted* to saddles), saddle-free Newton uses |H| (Dauphin et al. 2014), and natural
gradient uses the Fisher information of a model's likelihood (Amari 1998). All use linear solves,
never explicit inverses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explorer.lab.core import guards
from explorer.lab.saddle.surfaces import Surface

#: display order; every tab that shows optimizers uses these keys (and so the same colours)
NAMES: tuple[str, ...] = (
    "gd", "sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad",
    "newton", "saddle_free_newton", "natural_gradient",
)  # fmt: skip
LABELS: dict[str, str] = {
    "gd": "GD", "sgd": "SGD (noisy)", "momentum": "Momentum", "nesterov": "Nesterov",
    "adam": "Adam", "rmsprop": "RMSProp", "adagrad": "Adagrad", "newton": "Newton",
    "saddle_free_newton": "Saddle-free Newton", "natural_gradient": "Natural gradient",
}  # fmt: skip
UPDATE_RULES: dict[str, str] = {
    "gd": "θ ← θ − η ∇f",
    "sgd": "θ ← θ − η (∇f + σ ξ),  ξ ~ N(0, I)",
    "momentum": "v ← β v + ∇f;  θ ← θ − η v   (β = 0.9)",
    "nesterov": "v ← β v + ∇f(θ − η β v);  θ ← θ − η v",
    "adam": "m ← β₁m + (1−β₁)∇f;  s ← β₂s + (1−β₂)∇f²;  θ ← θ − η m̂ / (√ŝ + ε)",
    "rmsprop": "s ← ρ s + (1−ρ) ∇f²;  θ ← θ − η ∇f / (√s + ε)   (ρ = 0.9)",
    "adagrad": "G ← G + ∇f²;  θ ← θ − η ∇f / (√G + ε)",
    "newton": "θ ← θ − η H⁻¹ ∇f",
    "saddle_free_newton": "θ ← θ − η (|H| + δI)⁻¹ ∇f,  |H| = V|Λ|Vᵀ",
    "natural_gradient": "θ ← θ − η (F + δI)⁻¹ ∇f,  F = Fisher information",
}
SECOND_ORDER = frozenset({"newton", "saddle_free_newton", "natural_gradient"})

#: more steps than any picture needs (the saddle tab stops at 5000); the path is kept whole
MAX_STEPS = 10_000_000
#: an iterate farther than this from the origin, or a value above it, counts as diverged
DIVERGENCE_LIMIT = 1e6


@dataclass
class SurfaceOptimizer:
    """One optimizer's state on one surface; :meth:`step` moves ``theta`` in place and returns it."""

    name: str
    surface: Surface
    lr: float
    noise_sigma: float = 0.1
    damping: float = 1e-3
    seed: int = 0
    beta: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    _m: np.ndarray = field(default_factory=lambda: np.zeros(2))
    _s: np.ndarray = field(default_factory=lambda: np.zeros(2))

    def __post_init__(self) -> None:
        if self.name not in NAMES:
            raise ValueError(f"unknown optimizer {self.name!r}; choose from {', '.join(NAMES)}")
        if not runs_on(self.surface, self.name):
            raise ValueError(f"natural gradient needs a model's Fisher information; {self.surface.title} has none")
        guards.positive("lr", self.lr)
        for name in ("noise_sigma", "damping", "beta", "beta2", "eps"):
            guards.finite(name, getattr(self, name))
        self._rng = np.random.default_rng(self.seed)

    def _grad(self, theta: np.ndarray) -> np.ndarray:
        return self.surface.grad(theta[0], theta[1])

    def step(self, theta: np.ndarray) -> np.ndarray:
        self.t += 1
        g = self._grad(theta)
        lr, name = self.lr, self.name
        if name == "gd":
            theta -= lr * g
        elif name == "sgd":
            theta -= lr * (g + self.noise_sigma * self._rng.standard_normal(2))
        elif name == "momentum":
            self._m = self.beta * self._m + g
            theta -= lr * self._m
        elif name == "nesterov":
            self._m = self.beta * self._m + self._grad(theta - lr * self.beta * self._m)
            theta -= lr * self._m
        elif name == "adam":
            self._m = self.beta * self._m + (1 - self.beta) * g
            self._s = self.beta2 * self._s + (1 - self.beta2) * g**2
            m_hat, s_hat = self._m / (1 - self.beta**self.t), self._s / (1 - self.beta2**self.t)
            theta -= lr * m_hat / (np.sqrt(s_hat) + self.eps)
        elif name == "rmsprop":
            self._s = self.beta * self._s + (1 - self.beta) * g**2
            theta -= lr * g / (np.sqrt(self._s) + self.eps)
        elif name == "adagrad":
            self._s = self._s + g**2
            theta -= lr * g / (np.sqrt(self._s) + self.eps)
        elif name == "newton":
            theta -= lr * _solve(self.surface.hessian(theta[0], theta[1]), g)
        elif name == "saddle_free_newton":
            eigenvalues, vectors = np.linalg.eigh(self.surface.hessian(theta[0], theta[1]))
            abs_h = (vectors * np.abs(eigenvalues)) @ vectors.T
            theta -= lr * damped_solve(abs_h, g, self.damping)
        else:  # natural_gradient
            theta -= lr * damped_solve(self.surface.fisher(theta[0], theta[1]), g, self.damping)
        return theta


def runs_on(surface: Surface, name: str) -> bool:
    """Whether optimizer ``name`` can step on ``surface``: natural gradient needs a model's Fisher information."""
    return name != "natural_gradient" or surface.is_model


def suggested_lr(surface: Surface, name: str) -> float:
    """A learning rate that shows each method at its typical best on ``surface``.

    Gradient steps scale with 1 / curvature (the surface's ``gd_lr``); momentum divides by the
    1 / (1 − β) = 10x amplification; sign-like steps (Adam, RMSProp, Adagrad) scale with the
    window's size; curvature-aware steps are already unit-free.
    """
    if name in ("gd", "sgd"):
        return surface.gd_lr
    if name in ("momentum", "nesterov"):
        return surface.gd_lr * 0.2
    if name in ("adam", "rmsprop"):
        return 0.005 * surface.extent
    if name == "adagrad":
        return 0.05 * surface.extent
    return 0.2


def damped_solve(matrix: np.ndarray, vector: np.ndarray, damping: float) -> np.ndarray:
    """(M + δI)⁻¹ v by a linear solve: δ > 0 keeps a singular curvature matrix solvable."""
    return np.linalg.solve(matrix + damping * np.eye(len(vector)), vector)


def _solve(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Undamped Newton direction; least squares where the Hessian is exactly singular."""
    try:
        return np.linalg.solve(matrix, vector)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(matrix, vector, rcond=None)[0]


def is_diverged(surface: Surface, theta: np.ndarray) -> bool:
    if not np.all(np.isfinite(theta)) or np.max(np.abs(theta)) > DIVERGENCE_LIMIT:
        return True
    value = float(surface.value(theta[0], theta[1]))
    return not np.isfinite(value) or abs(value) > DIVERGENCE_LIMIT**2


def trajectory(
    surface: Surface,
    name: str,
    start: tuple[float, float],
    steps: int,
    lr: float | None = None,
    seed: int = 0,
    **hyper: float,
) -> np.ndarray:
    """Iterates of optimizer ``name`` from ``start``: shape (steps + 1, 2), row 0 is the start.

    A run that diverges is not an error: its rows from the step of divergence on are NaN, and
    :func:`divergence_step` tells which step that was.
    """
    guards.known("name", name, NAMES)
    steps = guards.whole("steps", steps, 0, MAX_STEPS)
    guards.check_allocation(16.0 * (steps + 1), f"a path of {steps} steps")
    if not isinstance(start, (tuple, list, np.ndarray)) or len(start) != 2:
        raise ValueError(f"start must be a point (x, y), got {start!r}")
    start = (guards.finite("start x", start[0]), guards.finite("start y", start[1]))
    guards.whole("seed", seed, 0, 2**63 - 1)
    opt = SurfaceOptimizer(name, surface, suggested_lr(surface, name) if lr is None else lr, seed=seed, **hyper)
    path = np.full((steps + 1, 2), np.nan)
    theta = np.array(start, dtype=float)
    path[0] = theta
    with np.errstate(all="ignore"):  # overflow is how divergence shows; it is detected below
        for k in range(1, steps + 1):
            opt.step(theta)
            if is_diverged(surface, theta):
                break
            path[k] = theta
    return path


def divergence_step(path: np.ndarray) -> int | None:
    """The first step whose iterate is missing (NaN) because the run diverged, else None."""
    bad = np.flatnonzero(~np.all(np.isfinite(path), axis=1))
    return int(bad[0]) if bad.size else None
