"""Optimizers racing across a two-parameter surface, and the surface itself gridded as a map (``SurfaceMap``).

Near a saddle the gradient is small, so first-order methods crawl along a plateau before the
negative-curvature direction takes over and they escape; Newton's method is attracted to the
saddle; saddle-free Newton flips the negative curvature and leaves at once (Dauphin et al. 2014).
``run`` yields frames of every optimizer's path; ``surface_map`` is a job that grids the surface.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from explorer.lab.core import contours
from explorer.lab.core.protocol import FrameClock, Job, Progress
from explorer.lab.saddle import optim, surfaces
from explorer.lab.saddle.surfaces import CriticalPoint, Surface


@dataclass(frozen=True)
class SaddleConfig:
    surface: str = "saddle"
    #: common start point; None means the surface's own default start
    start: tuple[float, float] | None = None
    #: who races; one the surface cannot run (natural gradient without a model's Fisher) sits it out
    optimizers: tuple[str, ...] = ("gd", "sgd", "momentum", "adam", "newton", "saddle_free_newton", "natural_gradient")
    #: per-optimizer learning rates; a missing one uses :func:`optim.suggested_lr`
    learning_rates: Mapping[str, float] = field(default_factory=dict)
    steps: int = 300
    steps_per_frame: int = 2
    noise_sigma: float = 0.1
    damping: float = 1e-3
    seed: int = 0


@dataclass(frozen=True)
class Outcome:
    kind: str  # "running" | "escaped" | "converged" | "stuck" | "diverged" | "unbounded"
    step: int | None
    text: str


@dataclass(frozen=True)
class SaddleFrame:
    step: int
    paths: dict[str, np.ndarray]  # optimizer -> (k + 1, 2) iterates, finite part only
    values: dict[str, np.ndarray]  # optimizer -> f at each iterate
    grad_norms: dict[str, np.ndarray]  # optimizer -> |∇f| at each iterate
    outcomes: dict[str, Outcome]
    finished: bool


def _fmt(c: CriticalPoint) -> str:
    return f"{c.kind} ({c.x:.3g}, {c.y:.3g})"


def describe_outcome(
    surface: Surface, path: np.ndarray, critical: tuple[CriticalPoint, ...], diverged_at: int | None
) -> Outcome:
    """What happened to one path: escaped a saddle, converged (or got stuck), diverged, or still moving."""
    near = 0.03 * surface.extent
    events: list[tuple[int, str]] = []
    for c in critical:
        if c.kind not in ("saddle", "degenerate"):
            continue
        dist = np.hypot(path[:, 0] - c.x, path[:, 1] - c.y)
        inside = np.flatnonzero(dist < near)
        if inside.size:
            left = np.flatnonzero(dist[inside[0] :] > 3 * near)
            if left.size:
                events.append((int(inside[0] + left[0]), f"escaped {_fmt(c)} at step {inside[0] + left[0]}"))
    if diverged_at is not None:
        last_value = float(surface.value(*path[-1]))
        if surface.infimum is None and last_value < 0:  # the expected end on a surface unbounded below
            events.append((diverged_at, f"ran off towards f → −∞ by step {diverged_at}"))
            return Outcome("unbounded", diverged_at, "; ".join(text for _, text in sorted(events)))
        events.append((diverged_at, f"diverged at step {diverged_at}"))
        return Outcome("diverged", diverged_at, "; ".join(text for _, text in sorted(events)))
    settle = 1e-3 * surface.extent
    last = path[-1]
    for c in critical:
        if np.hypot(last[0] - c.x, last[1] - c.y) < settle and len(path) > 1:
            dist = np.hypot(path[:, 0] - c.x, path[:, 1] - c.y)
            since = int(np.flatnonzero(dist >= settle)[-1] + 1) if np.any(dist >= settle) else 0
            stuck = c.kind in ("saddle", "degenerate", "maximum")
            verb = "stuck at" if stuck else "converged to"
            events.append((since, f"{verb} {_fmt(c)} at step {since}"))
            return Outcome("stuck" if stuck else "converged", since, "; ".join(t for _, t in sorted(events)))
    if events:
        step, _ = max(events)
        return Outcome("escaped", step, "; ".join(t for _, t in sorted(events)))
    return Outcome("running", None, "still moving")


def run(cfg: SaddleConfig) -> Iterator[SaddleFrame]:
    """Step every optimizer from the same start; yield a frame at step 0 and every few steps."""
    surface = surfaces.get(cfg.surface)
    critical = surfaces.critical_points(surface)
    start = np.array(cfg.start if cfg.start is not None else surface.default_start, dtype=float)
    opts = {
        name: optim.SurfaceOptimizer(
            name,
            surface,
            cfg.learning_rates.get(name, optim.suggested_lr(surface, name)),
            noise_sigma=cfg.noise_sigma,
            damping=cfg.damping,
            seed=cfg.seed,
        )
        for name in cfg.optimizers
        if optim.runs_on(surface, name)
    }
    n = cfg.steps + 1
    paths = {name: np.full((n, 2), np.nan) for name in opts}
    values = {name: np.full(n, np.nan) for name in opts}
    grads = {name: np.full(n, np.nan) for name in opts}
    thetas = {name: start.copy() for name in opts}
    length = dict.fromkeys(opts, 1)  # finite iterates recorded so far
    diverged: dict[str, int | None] = dict.fromkeys(opts)
    for name in opts:
        paths[name][0] = start
        values[name][0] = surface.value(*start)
        grads[name][0] = np.linalg.norm(surface.grad(*start))

    def frame(step: int) -> SaddleFrame:
        def cut(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {k: a[: length[k]].copy() for k, a in arrays.items()}

        outcomes = {k: describe_outcome(surface, paths[k][: length[k]], critical, diverged[k]) for k in opts}
        return SaddleFrame(step, cut(paths), cut(values), cut(grads), outcomes, step >= cfg.steps)

    clock = FrameClock(cfg.steps_per_frame, last=cfg.steps)
    clock.advance(0, (yield frame(0)))
    with np.errstate(all="ignore"):  # overflow is how divergence shows; it is caught per optimizer
        for step in range(1, cfg.steps + 1):
            for name, opt in opts.items():
                if diverged[name] is not None:
                    continue
                theta = opt.step(thetas[name])
                if optim.is_diverged(surface, theta):
                    diverged[name] = step
                    continue
                paths[name][step] = theta
                values[name][step] = surface.value(*theta)
                grads[name][step] = np.linalg.norm(surface.grad(*theta))
                length[name] = step + 1
            if clock.due(step):
                clock.advance(step, (yield frame(step)))


@dataclass(frozen=True)
class SurfaceMap:
    surface: str
    xs: np.ndarray  # (nx,)
    ys: np.ndarray  # (ny,)
    values: np.ndarray  # (ny, nx) float32: f on the grid, row i at height ys[i]
    shown: np.ndarray  # (ny, nx) float32: what the colours encode (f, or its log)
    shown_label: str
    levels: np.ndarray  # contour levels in units of ``shown``
    contour_points: np.ndarray  # (2m, 2) segment end points, pairwise
    critical: tuple[CriticalPoint, ...]


def surface_map(name: str, resolution: int = 400, log_scale: bool = False, n_levels: int = 14) -> Job[SurfaceMap]:
    """Grid f over the surface's window in row chunks (progress after each), then contours and critical points."""
    if not 16 <= resolution <= 2000:
        raise ValueError(f"resolution must be between 16 and 2000, got {resolution}")
    surface = surfaces.get(name)
    (x0, x1), (y0, y1) = surface.bounds
    xs, ys = np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution)
    values = np.empty((resolution, resolution), dtype=np.float32)
    chunk = max(1, resolution // 20)
    for row in range(0, resolution, chunk):
        gx, gy = np.meshgrid(xs, ys[row : row + chunk])
        values[row : row + chunk] = surface.value(gx, gy)
        yield Progress(0.7 * (row + chunk) / resolution, "evaluating f on the grid")
    if log_scale:
        low, high = float(values.min()), float(values.max())
        delta = 1e-3 * max(high - low, 1e-12)
        shown = np.log10(values - low + delta).astype(np.float32)
        label = "log₁₀(f − min f + δ)"
    else:
        shown, label = values, "f"
    levels = np.unique(np.quantile(shown, np.linspace(0.03, 0.97, n_levels)))
    yield Progress(0.75, "tracing contour lines")
    lines = contours.segments(shown, xs, ys, levels)
    yield Progress(0.85, "finding critical points")
    critical = surfaces.critical_points(surface)
    yield Progress(1.0, "done")
    return SurfaceMap(
        name, xs, ys, values, np.ascontiguousarray(shown, dtype=np.float32), label, levels, lines, critical
    )
