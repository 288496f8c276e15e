"""Fitting N(mu, sigma²) to 1-D data: plain gradient descent depends on the parameterization, the
natural gradient does not.

Idea: the same family of distributions can be written with θ = (mu, sigma) or θ = (mu, log sigma).
Gradient descent θ ← θ − η∇L moves differently in each, so the two runs trace different paths through
the space of Gaussians. The natural gradient θ ← θ − η F(θ)⁻¹∇L transforms like a tangent vector
(F' = JᵀFJ, ∇' = Jᵀ∇, so F'⁻¹∇' = J⁻¹F⁻¹∇) and its flow is the same curve of distributions in either
chart (Amari 1998, §3). With finite steps the two agree up to O(η); the metric ellipses xᵀF(θ)x = c
show the "unit KL circles" that make the two charts equivalent.

Everything here is closed form in numpy: for the mean negative log-likelihood
L = log sigma + (s² + (m − mu)²) / (2 sigma²) + const, with sample mean m and variance s².
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from explorer.lab.core.protocol import Diverged, FrameClock, check_finite
from explorer.lab.natural_gradient.fisher import Parameterization, gaussian_fisher, natural_gradient_direction

PARAMETERIZATIONS: tuple[Parameterization, ...] = ("sigma", "log_sigma")
#: one run per (method, parameterization), in this order in every frame
RUNS: tuple[tuple[str, Parameterization], ...] = (
    ("gd", "sigma"), ("gd", "log_sigma"), ("natural", "sigma"), ("natural", "log_sigma"),
)  # fmt: skip


@dataclass(frozen=True)
class GaussianFitConfig:
    """Data N(true_mu, true_sigma²), a start (mu0, sigma0) shared by all runs, and a step size."""

    n_samples: int = 200
    true_mu: float = 1.0
    true_sigma: float = 0.5
    seed: int = 0
    mu0: float = -1.0
    sigma0: float = 2.0
    lr: float = 0.02
    damping: float = 0.0
    n_steps: int = 400
    steps_per_frame: int = 5

    def __post_init__(self) -> None:
        if self.n_samples < 2 or self.true_sigma <= 0 or self.sigma0 <= 0:
            raise ValueError("n_samples >= 2 and positive true_sigma, sigma0 are required")
        if self.lr <= 0 or self.damping < 0 or self.n_steps < 0 or self.steps_per_frame < 1:
            raise ValueError("lr > 0, damping >= 0, n_steps >= 0 and steps_per_frame >= 1 are required")


@dataclass(frozen=True)
class GaussianFitFrame:
    """Paths of the four runs (rows follow ``runs``) up to ``step``, in their own chart and as (mu, sigma)."""

    step: int
    loss: float  # natural gradient's current loss in the (mu, sigma) chart
    runs: tuple[tuple[str, str], ...]
    parameter_paths: np.ndarray  # (4, step+1, 2) in each run's own chart: (mu, sigma) or (mu, log sigma)
    distribution_paths: np.ndarray  # (4, step+1, 2) the same paths mapped to (mu, sigma)
    losses: np.ndarray  # (4, step+1) mean negative log-likelihood, nats
    mle: np.ndarray  # (2,) the maximum-likelihood (mu, sigma): sample mean and (biased) std


@dataclass(frozen=True)
class MetricEllipses:
    """Ellipses xᵀF(θ)x = c around grid centres θ, to draw over a parameter plane."""

    parameterization: str
    c: float
    centres: np.ndarray  # (m, 2)
    points: np.ndarray  # (m, n_points, 2), closed curves (last point = first)


def sample_data(cfg: GaussianFitConfig) -> np.ndarray:
    """The seeded 1-D sample, (n_samples,) float64."""
    rng = np.random.default_rng(cfg.seed)
    return cfg.true_mu + cfg.true_sigma * rng.standard_normal(cfg.n_samples)


def to_distribution(theta: np.ndarray, parameterization: Parameterization) -> np.ndarray:
    """(..., 2) chart coordinates -> (..., 2) (mu, sigma)."""
    theta = np.asarray(theta, dtype=np.float64)
    if parameterization == "sigma":
        return theta.copy()
    with np.errstate(over="ignore"):  # a runaway log sigma maps to inf, which run() reports as divergence
        return np.stack([theta[..., 0], np.exp(theta[..., 1])], axis=-1)


def from_distribution(mu_sigma: np.ndarray, parameterization: Parameterization) -> np.ndarray:
    """(..., 2) (mu, sigma) -> (..., 2) chart coordinates."""
    mu_sigma = np.asarray(mu_sigma, dtype=np.float64)
    if parameterization == "sigma":
        return mu_sigma.copy()
    return np.stack([mu_sigma[..., 0], np.log(mu_sigma[..., 1])], axis=-1)


def negative_log_likelihood(data: np.ndarray, mu: float, sigma: float) -> float:
    """Mean −log N(x | mu, sigma²) over the data, nats."""
    return float(np.log(sigma) + np.mean((data - mu) ** 2) / (2 * sigma**2) + 0.5 * np.log(2 * np.pi))


def nll_gradient(data: np.ndarray, theta: np.ndarray, parameterization: Parameterization) -> np.ndarray:
    """∇θ L in the chart: ∂L/∂sigma is multiplied by sigma for log sigma (chain rule)."""
    mu, sigma = to_distribution(theta, parameterization)
    v = np.mean((data - mu) ** 2)
    d_mu = -(np.mean(data) - mu) / sigma**2
    d_sigma = 1.0 / sigma - v / sigma**3
    return np.array([d_mu, d_sigma if parameterization == "sigma" else sigma * d_sigma])


def fit_step(
    data: np.ndarray,
    theta: np.ndarray,
    parameterization: Parameterization,
    method: str,
    lr: float,
    damping: float = 0.0,
) -> np.ndarray:
    """One step of "gd" (θ − η∇L) or "natural" (θ − η (F + λI)⁻¹∇L) in the given chart."""
    grad = nll_gradient(data, theta, parameterization)
    if method == "gd":
        return theta - lr * grad
    if method == "natural":
        mu, sigma = to_distribution(theta, parameterization)
        return theta - lr * natural_gradient_direction(gaussian_fisher(mu, sigma, parameterization), grad, damping)
    raise ValueError(f"method must be 'gd' or 'natural', got {method!r}")


def fit_path(
    data: np.ndarray,
    start_mu_sigma: tuple[float, float],
    parameterization: Parameterization,
    method: str,
    lr: float,
    n_steps: int,
    damping: float = 0.0,
) -> np.ndarray:
    """The whole path (n_steps+1, 2) in the run's own chart, from the same start in distribution space."""
    path = np.empty((n_steps + 1, 2))
    path[0] = from_distribution(np.array(start_mu_sigma), parameterization)
    for t in range(n_steps):
        path[t + 1] = fit_step(data, path[t], parameterization, method, lr, damping)
    return path


def metric_ellipses(
    parameterization: Parameterization,
    mu_range: tuple[float, float],
    second_range: tuple[float, float],
    grid: tuple[int, int] = (7, 7),
    c: float | None = None,
    n_points: int = 49,
) -> MetricEllipses:
    """Fisher ellipses on a grid over the (mu, sigma) or (mu, log sigma) plane.

    ``second_range`` is the range of the chart's second coordinate. Points are θ + √c L⁻ᵀu for u on the
    unit circle, F = LLᵀ. With ``c=None`` one c is chosen for the whole grid so the widest ellipse fills
    about 90% of a grid cell; sizes stay comparable across the grid, which is the point.
    """
    mus = np.linspace(*mu_range, grid[0])
    seconds = np.linspace(*second_range, grid[1])
    centres = np.array([(m, s) for s in seconds for m in mus])  # (m, 2)
    angle = np.linspace(0.0, 2 * np.pi, n_points)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (n_points, 2)
    shapes = []
    for centre in centres:
        mu, sigma = to_distribution(centre, parameterization)
        chol = np.linalg.cholesky(gaussian_fisher(mu, sigma, parameterization))
        shapes.append(np.linalg.solve(chol.T, circle.T).T)  # L⁻ᵀu: xᵀFx = 1
    unit = np.stack(shapes)  # (m, n_points, 2)
    if c is None:
        cell = np.array([_spacing(mus), _spacing(seconds)])
        c = float((0.45 / np.max(np.abs(unit) / cell)) ** 2)
    points = centres[:, None, :] + np.sqrt(c) * unit
    return MetricEllipses(parameterization, c, centres, points)


def _spacing(values: np.ndarray) -> float:
    return float(values[1] - values[0]) if len(values) > 1 else 1.0


def run(cfg: GaussianFitConfig) -> Iterator[GaussianFitFrame]:
    """Yield the four paths at step 0 and every ``steps_per_frame`` steps, up to ``n_steps``."""
    data = sample_data(cfg)
    mle = np.array([np.mean(data), np.std(data)])
    start = np.array([cfg.mu0, cfg.sigma0])
    paths = [[from_distribution(start, chart)] for _, chart in RUNS]
    losses = [[negative_log_likelihood(data, cfg.mu0, cfg.sigma0)] for _ in RUNS]
    frames = FrameClock(cfg.steps_per_frame, last=cfg.n_steps)
    step = 0
    while True:
        params = np.array(paths)  # (4, step+1, 2)
        dist = np.stack([to_distribution(params[i], chart) for i, (_, chart) in enumerate(RUNS)])
        frame_losses = np.array(losses)
        check_finite(step, **{f"{method}_{chart}_loss": frame_losses[i, -1] for i, (method, chart) in enumerate(RUNS)})
        request = yield GaussianFitFrame(step, float(frame_losses[2, -1]), RUNS, params, dist, frame_losses, mle)
        if step >= cfg.n_steps:
            return
        for _ in range(frames.advance(step, request)):
            for i, (method, chart) in enumerate(RUNS):
                theta = fit_step(data, paths[i][-1], chart, method, cfg.lr, cfg.damping)
                mu, sigma = to_distribution(theta, chart)
                if not 0 < sigma < np.inf:  # overshooting sigma = 0 leaves the family (NaN fails too)
                    raise Diverged(step + 1, f"{method} in ({chart}): sigma became {sigma:.3g}")
                paths[i].append(theta)
                losses[i].append(negative_log_likelihood(data, mu, sigma))
            step += 1
