"""Two-parameter loss surfaces: classic test functions and two surfaces that are real models.

Every surface gives its value, gradient and Hessian vectorised over numpy arrays, so one code path
draws a 400 x 400 heatmap and takes a single optimizer step. The two model surfaces (a two-weight
tanh network and two-weight logistic regression) also give their Fisher information, which is what
the natural gradient needs; the analytic functions are not likelihoods and have none.

Critical points are found numerically (root finding on the gradient from a grid of starts) and
classified by the signs of the Hessian eigenvalues, as in Dauphin et al. 2014, "Identifying and
attacking the saddle point problem in high-dimensional non-convex optimization".
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Bounds = tuple[tuple[float, float], tuple[float, float]]


class NotAModelError(ValueError):
    """Raised when the Fisher information is asked of a surface that is not a likelihood."""


class Surface(ABC):
    """A loss f(x, y) with its derivatives; subclasses give ``_value``, ``_grad``, ``_hessian``."""

    name: str = ""
    title: str = ""
    formula: str = ""
    bounds: Bounds = ((-2.0, 2.0), (-2.0, 2.0))
    default_start: tuple[float, float] = (0.0, 0.0)
    #: the infimum of f when it is known (attained or not); None when f is unbounded below
    infimum: float | None = None
    is_model: bool = False
    #: a gradient-descent step that is stable over the window (about 1 / largest curvature)
    gd_lr: float = 0.05
    axis_labels: tuple[str, str] = ("x", "y")

    def value(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        return self._value(x, y)

    def grad(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """Gradient with a trailing axis of size 2: shape x.shape + (2,)."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        gx, gy = self._grad(x, y)
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def hessian(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """Hessian with two trailing axes: shape x.shape + (2, 2)."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        hxx, hxy, hyy = np.broadcast_arrays(*self._hessian(x, y))
        return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)

    def fisher(self, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
        """Fisher information of the model's likelihood at weights (x, y): shape x.shape + (2, 2)."""
        raise NotAModelError(f"{self.title} is not a model's likelihood, so it has no Fisher information")

    @abstractmethod
    def _value(self, x: np.ndarray, y: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _grad(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    @abstractmethod
    def _hessian(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    @property
    def extent(self) -> float:
        """Length of the diagonal of the drawn window: the natural length scale for tolerances."""
        (x0, x1), (y0, y1) = self.bounds
        return float(np.hypot(x1 - x0, y1 - y0))


class Saddle(Surface):
    name, title, formula = "saddle", "Saddle x² − y²", "f(x, y) = x² − y²"
    bounds = ((-2.0, 2.0), (-2.0, 2.0))
    default_start = (-1.8, 0.001)

    def _value(self, x, y):
        return x**2 - y**2

    def _grad(self, x, y):
        return 2 * x, -2 * y

    def _hessian(self, x, y):
        return np.full_like(x, 2.0), np.zeros_like(x), np.full_like(x, -2.0)


class MonkeySaddle(Surface):
    name, title, formula = "monkey_saddle", "Monkey saddle x³ − 3xy²", "f(x, y) = x³ − 3xy²"
    bounds = ((-1.5, 1.5), (-1.5, 1.5))
    default_start = (1.2, 0.02)

    def _value(self, x, y):
        return x**3 - 3 * x * y**2

    def _grad(self, x, y):
        return 3 * x**2 - 3 * y**2, -6 * x * y

    def _hessian(self, x, y):
        return 6 * x, -6 * y, -6 * x


class Himmelblau(Surface):
    name, title = "himmelblau", "Himmelblau"
    formula = "f(x, y) = (x² + y − 11)² + (x + y² − 7)²"
    gd_lr = 0.005
    bounds = ((-5.0, 5.0), (-5.0, 5.0))
    default_start = (-0.1, 0.2)
    infimum = 0.0

    def _value(self, x, y):
        return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2

    def _grad(self, x, y):
        a, b = x**2 + y - 11, x + y**2 - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b

    def _hessian(self, x, y):
        return 12 * x**2 + 4 * y - 42, 4 * x + 4 * y, 4 * x + 12 * y**2 - 26


class Rosenbrock(Surface):
    name, title = "rosenbrock", "Rosenbrock"
    formula = "f(x, y) = (1 − x)² + 100 (y − x²)²"
    gd_lr = 0.0005
    bounds = ((-2.0, 2.0), (-1.0, 3.0))
    default_start = (-1.5, 2.0)
    infimum = 0.0

    def _value(self, x, y):
        return (1 - x) ** 2 + 100 * (y - x**2) ** 2

    def _grad(self, x, y):
        return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)

    def _hessian(self, x, y):
        return 2 - 400 * y + 1200 * x**2, -400 * x, np.full_like(x, 200.0)


class SixHumpCamel(Surface):
    name, title = "six_hump_camel", "Six-hump camel"
    formula = "f(x, y) = (4 − 2.1x² + x⁴/3) x² + xy + (4y² − 4) y²"
    gd_lr = 0.02
    bounds = ((-2.0, 2.0), (-1.1, 1.1))
    default_start = (0.02, 0.01)
    infimum = -1.031628453489877

    def _value(self, x, y):
        return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2

    def _grad(self, x, y):
        return 8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3

    def _hessian(self, x, y):
        return 8 - 25.2 * x**2 + 10 * x**4, np.ones_like(x), -8 + 48 * y**2


class TwoParamNet(Surface):
    """ŷ = w2·tanh(w1·x) fit to y = x by ½·mean squared error (a Gaussian likelihood with σ = 1).

    Swapping the signs of both weights gives the same network, so the origin is a critical point by
    symmetry, and a saddle. The valley along w1·w2 ≈ 1 keeps descending towards infinity: the linear
    fit is approached and never reached, so the infimum 0 is not attained.
    """

    name, title = "two_param_net", "Two-weight network ŷ = w2·tanh(w1·x)"
    formula = "L(w1, w2) = ½ mean_i (w2·tanh(w1·x_i) − x_i)²,  x_i ∈ [−2, 2]"
    gd_lr = 0.3
    bounds = ((-3.0, 3.0), (-3.0, 3.0))
    default_start = (0.02, -2.5)
    infimum = 0.0
    is_model = True
    axis_labels = ("w1", "w2")
    inputs = np.linspace(-2.0, 2.0, 41)

    def _parts(self, w1, w2):
        xs = self.inputs
        t = np.tanh(w1[..., None] * xs)  # (..., n)
        s = 1.0 - t**2  # sech², the derivative of tanh
        r = w2[..., None] * t - xs  # residuals
        return xs, t, s, r

    def _value(self, w1, w2):
        *_, r = self._parts(w1, w2)
        return 0.5 * np.mean(r**2, axis=-1)

    def _grad(self, w1, w2):
        xs, t, s, r = self._parts(w1, w2)
        return np.mean(r * w2[..., None] * s * xs, axis=-1), np.mean(r * t, axis=-1)

    def _hessian(self, w1, w2):
        xs, t, s, r = self._parts(w1, w2)
        w2e = w2[..., None]
        d1, d2 = w2e * s * xs, t  # ∂ŷ/∂w1, ∂ŷ/∂w2
        hxx = np.mean(d1**2 + r * w2e * xs**2 * (-2 * t * s), axis=-1)
        hxy = np.mean(d1 * d2 + r * s * xs, axis=-1)
        hyy = np.mean(d2**2, axis=-1)
        return hxx, hxy, hyy

    def fisher(self, x, y):
        w1, w2 = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        xs, t, s, _ = self._parts(w1, w2)
        d1, d2 = w2[..., None] * s * xs, t
        fxx, fxy, fyy = (np.mean(a * b, axis=-1) for a, b in ((d1, d1), (d1, d2), (d2, d2)))
        return np.stack([np.stack([fxx, fxy], -1), np.stack([fxy, fyy], -1)], -2)


class Logistic2D(Surface):
    """Logistic regression p(y=1|x) = σ(w·x) with two weights and no bias, on two generated blobs.

    The blobs overlap, so the minimum is finite. For this canonical-link model the Fisher
    information equals the Hessian: natural gradient and Newton coincide.
    """

    name, title = "logistic_2d", "Logistic regression, two weights"
    formula = "L(w) = mean_i [log(1 + e^{w·x_i}) − y_i w·x_i]"
    gd_lr = 3.0
    bounds = ((-4.0, 4.0), (-4.0, 4.0))
    default_start = (-3.0, 3.0)
    is_model = True
    axis_labels = ("w1", "w2")

    def __init__(self, n_points: int = 200, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        half = n_points // 2
        centre = np.array([1.0, 0.5])
        self.features = np.concatenate([rng.normal(centre, 1.0, (half, 2)), rng.normal(-centre, 1.0, (half, 2))])
        self.labels = np.concatenate([np.ones(half), np.zeros(half)])

    def _logits(self, w1, w2):
        return w1[..., None] * self.features[:, 0] + w2[..., None] * self.features[:, 1]  # (..., n)

    def _value(self, w1, w2):
        z = self._logits(w1, w2)
        return np.mean(np.logaddexp(0.0, z) - self.labels * z, axis=-1)

    def _grad(self, w1, w2):
        err = _sigmoid(self._logits(w1, w2)) - self.labels
        return np.mean(err * self.features[:, 0], -1), np.mean(err * self.features[:, 1], -1)

    def _hessian(self, w1, w2):
        p = _sigmoid(self._logits(w1, w2))
        v = p * (1 - p)
        f0, f1 = self.features[:, 0], self.features[:, 1]
        return np.mean(v * f0 * f0, -1), np.mean(v * f0 * f1, -1), np.mean(v * f1 * f1, -1)

    def fisher(self, x, y):
        return self.hessian(x, y)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # overflow-free form of 1 / (1 + e^-z)


_SURFACES: dict[str, Callable[[], Surface]] = {
    cls.name: cls for cls in (Saddle, MonkeySaddle, Himmelblau, Rosenbrock, SixHumpCamel, TwoParamNet, Logistic2D)
}
NAMES: tuple[str, ...] = tuple(_SURFACES)


@functools.cache
def get(name: str) -> Surface:
    """The surface called ``name`` (one of :data:`NAMES`); surfaces are immutable, so shared."""
    try:
        return _SURFACES[name]()
    except KeyError:
        raise ValueError(f"unknown surface {name!r}; choose from {', '.join(NAMES)}") from None


@dataclass(frozen=True)
class CriticalPoint:
    x: float
    y: float
    value: float
    eigenvalues: tuple[float, float]
    kind: str  # "minimum" | "maximum" | "saddle" | "degenerate"

    def describe(self) -> str:
        e1, e2 = self.eigenvalues
        return (
            f"{self.kind} at ({self.x:.4g}, {self.y:.4g}), f = {self.value:.4g}, Hessian eigenvalues {e1:.3g}, {e2:.3g}"
        )


def classify(eigenvalues: np.ndarray, tol: float) -> str:
    """Minimum, maximum or saddle by the eigenvalue signs; degenerate when one is ~0."""
    if np.min(np.abs(eigenvalues)) <= tol:
        return "degenerate"
    if np.all(eigenvalues > 0):
        return "minimum"
    if np.all(eigenvalues < 0):
        return "maximum"
    return "saddle"


@functools.cache
def critical_points(surface: Surface, starts_per_axis: int = 15) -> tuple[CriticalPoint, ...]:
    """All critical points inside ``surface.bounds`` reachable by Newton-type root finding.

    Starts on a grid, solves grad f = 0 with scipy's hybrid Powell method (Hessian as Jacobian),
    keeps roots whose gradient really vanishes, merges duplicates within 1e-3 of the window size.
    """
    from scipy.optimize import root  # imported here: scipy.optimize is slow to import at start-up

    (x0, x1), (y0, y1) = surface.bounds
    scale = surface.extent
    found: list[np.ndarray] = []
    for sx in np.linspace(x0, x1, starts_per_axis):
        for sy in np.linspace(y0, y1, starts_per_axis):
            sol = root(
                lambda v: surface.grad(v[0], v[1]),
                np.array([sx, sy]),
                jac=lambda v: surface.hessian(v[0], v[1]),
                method="hybr",
                options={"xtol": 1e-12},
            )
            p = sol.x
            inside = x0 - 1e-9 <= p[0] <= x1 + 1e-9 and y0 - 1e-9 <= p[1] <= y1 + 1e-9
            if not (inside and np.all(np.isfinite(p))):
                continue
            if np.linalg.norm(surface.grad(p[0], p[1])) > 1e-7 * max(1.0, _gradient_scale(surface)):
                continue
            if all(np.linalg.norm(p - q) > 1e-3 * scale for q in found):
                found.append(p)
    hessians = [surface.hessian(p[0], p[1]) for p in found]
    curvature = max((np.max(np.abs(np.linalg.eigvalsh(h))) for h in hessians), default=1.0)
    points = []
    for p, h in zip(found, hessians, strict=True):
        p = np.where(np.abs(p) < 1e-9 * scale, 0.0, p)  # show round-off as the exact zero it is
        eig = np.linalg.eigvalsh(h)
        kind = classify(eig, tol=1e-4 * max(curvature, 1.0))
        value = float(surface.value(p[0], p[1]))
        points.append(CriticalPoint(float(p[0]), float(p[1]), value, (float(eig[0]), float(eig[1])), kind))
    return tuple(sorted(points, key=lambda c: (c.kind, c.x, c.y)))


def _gradient_scale(surface: Surface) -> float:
    """Typical gradient size over the window, so the 'gradient vanishes' test is scale-free."""
    (x0, x1), (y0, y1) = surface.bounds
    gx, gy = np.meshgrid(np.linspace(x0, x1, 9), np.linspace(y0, y1, 9))
    return float(np.median(np.linalg.norm(surface.grad(gx, gy), axis=-1)))
