"""What the exact natural gradient costs as a network grows, measured, next to K-FAC.

Idea: the exact Fisher of P parameters has P² entries and its Cholesky solve takes about P³/3
multiply-adds, so memory grows like P² and time like P³ (Amari 1998 could afford this for small nets).
K-FAC keeps two d x d factors per layer instead (Martens & Grosse 2015): for width-d layers with
P ≈ d² parameters that is memory ~ P and time ~ P^1.5. This job measures both on an MLP of growing
width, fits the log-log slopes, and extrapolates the dense formulas to real networks.

Both pipelines start from the same per-layer statistics (inputs a and, for every class, the
pre-activation gradients g), computed here in numpy for a tanh MLP; the exact Fisher stacks the
per-example scores g ⊗ a into a (n·C, P) matrix, K-FAC only forms E[a aᵀ] and E[g gᵀ].

Caution:
- Memory is the peak of numpy's allocations as traced by ``tracemalloc`` (numpy reports every array
  buffer to it), measured on the host CPU; LAPACK's small internal workspaces are not included.
- Times are the fastest of a few repeats with tracing off (on a shared machine the minimum is the
  work, the rest is waiting for a core), and include computing the statistics.
- Slopes are fitted on the larger half of the sweep, where the leading term of each cost dominates.
- On a small, busy CPU a multithreaded BLAS waits for descheduled threads and can run 10-100x slower
  than one thread (OPENBLAS_NUM_THREADS=1, set before numpy loads); the job also stops early once
  ``max_sweep_seconds`` are spent, so it stays interactive either way.
- The extrapolation table is arithmetic on formulas, not a measurement, and says so in every row.
"""

from __future__ import annotations

import itertools
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from explorer.lab.core.protocol import Job, Progress
from explorer.lab.natural_gradient.kfac import factored_damping

#: (name, parameter count) of networks people actually train
REAL_NETWORKS: tuple[tuple[str, float], ...] = (
    ("ResNet-50", 25.6e6), ("BERT-base", 110e6), ("GPT-2 XL", 1.5e9),
)  # fmt: skip
FORMULA = "formula, not measured"


@dataclass(frozen=True)
class CostConfig:
    """Widths to sweep (2 -> width -> ... -> width -> classes, tanh), batch size and limits."""

    exact_widths: tuple[int, ...] = (4, 8, 12, 16, 24, 32, 40, 48, 56, 64)
    kfac_widths: tuple[int, ...] = (8, 16, 32, 64, 128, 256, 512, 1024)
    n_hidden: int = 1  # width x width layers between the input and output layers
    n_examples: int = 256
    n_classes: int = 2
    damping: float = 1e-3
    max_seconds_per_point: float = 3.0  # stop a sweep once one point takes longer than this
    max_sweep_seconds: float = 6.0  # whole job; the exact sweep may use 60% of it (a busy machine measures less)
    max_fisher_bytes: float = 2 * 2**30  # skip exact points whose fp32 Fisher alone would exceed this
    repeats: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.exact_widths or not self.kfac_widths or min(self.exact_widths + self.kfac_widths) < 1:
            raise ValueError("widths must be non-empty and positive")
        if self.n_hidden < 0 or self.n_examples < 1 or self.n_classes < 2 or self.damping <= 0 or self.repeats < 1:
            raise ValueError("n_hidden >= 0, n_examples, repeats >= 1, n_classes >= 2 and damping > 0 are required")


@dataclass(frozen=True)
class CostCurve:
    """One method's measured points and the fitted log-log slopes (d log y / d log P)."""

    method: str  # "exact" or "kfac"
    widths: np.ndarray  # (k,) int64
    n_params: np.ndarray  # (k,) float64, P
    seconds: np.ndarray  # (k,) float64, fastest wall time to build and solve
    peak_bytes: np.ndarray  # (k,) float64, traced peak of numpy allocations
    time_slope: float  # fitted on points with P >= fit_min_params
    memory_slope: float
    fit_min_params: float
    theory_time_slope: float  # leading-order formula: exact P³ and P², K-FAC P^1.5 and P
    theory_memory_slope: float
    stopped_reason: str  # "" when every width was measured


@dataclass(frozen=True)
class ExtrapolationRow:
    """The dense Fisher of a real network, from formulas only."""

    name: str
    n_params: float
    fisher_entries: float  # P²
    fisher_bytes_fp32: float  # 4 P²
    cholesky_flops: float  # P³ / 3
    seconds_at_measured_rate: float  # cholesky_flops / the rate measured at this sweep's largest exact point
    source: str = FORMULA


@dataclass(frozen=True)
class CostResult:
    """Both measured curves and the formula-only table for real networks."""

    exact: CostCurve
    kfac: CostCurve
    extrapolation: tuple[ExtrapolationRow, ...]
    measured_flops_per_second: float  # (P³/3) / seconds at the largest exact point: an effective rate
    memory_method: str


@dataclass(frozen=True)
class MLPStatistics:
    """Per layer: inputs with a bias column a (n, d_in+1), gradients g (n, C, d_out) for every class,
    class weights p (n, C), and the mean-loss gradient [∇W, ∇b] (d_out, d_in+1) for observed labels."""

    activations: list[np.ndarray]
    backprops: list[np.ndarray]
    class_weights: np.ndarray
    gradients: list[np.ndarray]


def layer_widths(width: int, cfg: CostConfig) -> tuple[int, ...]:
    """(2, width, ..., width, classes): the swept MLP at one width."""
    return (2, *([width] * (cfg.n_hidden + 1)), cfg.n_classes)


def mlp_parameter_count(widths: tuple[int, ...]) -> int:
    """P of an MLP with biases: Σ d_out (d_in + 1)."""
    return sum(d_out * (d_in + 1) for d_in, d_out in itertools.pairwise(widths))


def mlp_weights(widths: tuple[int, ...], seed: int) -> list[np.ndarray]:
    """[W, b] per layer, (d_out, d_in+1) float32, uniform ±1/√d_in like nn.Linear's default."""
    rng = np.random.default_rng(seed)
    return [
        rng.uniform(-1.0, 1.0, (d_out, d_in + 1)).astype(np.float32) / np.float32(np.sqrt(d_in))
        for d_in, d_out in itertools.pairwise(widths)
    ]


def _with_ones(h: np.ndarray) -> np.ndarray:
    return np.concatenate([h, np.ones((h.shape[0], 1), dtype=h.dtype)], axis=1)


def mlp_statistics(weights: list[np.ndarray], inputs: np.ndarray, labels: np.ndarray) -> MLPStatistics:
    """Forward the tanh MLP, then backpropagate every class's residual p − e_c at once."""
    activations, hidden = [], []
    h = inputs
    for i, weight in enumerate(weights):
        a = _with_ones(h)
        activations.append(a)
        s = a @ weight.T  # (n, d_out)
        h = np.tanh(s) if i < len(weights) - 1 else s
        hidden.append(h)
    logits = h - h.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)  # (n, C)
    n, n_classes = p.shape
    eye = np.eye(n_classes, dtype=p.dtype)
    # one extra "class" row: the observed label, for the gradient to precondition
    residuals = np.concatenate([p[:, None, :] - eye[None], (p - eye[labels])[:, None, :]], axis=1)  # (n, C+1, C)
    backprops = [residuals]
    for i in range(len(weights) - 1, 0, -1):
        upstream = backprops[0].reshape(-1, weights[i].shape[0])  # (n*(C+1), d_out): one GEMM, not n small ones
        g = (upstream @ weights[i][:, :-1]).reshape(n, n_classes + 1, -1) * (1.0 - hidden[i - 1] ** 2)[:, None, :]
        backprops.insert(0, g)  # (n, C+1, d_in)
    gradients = [g[:, -1].T @ a / n for a, g in zip(activations, backprops, strict=True)]
    return MLPStatistics(activations, [g[:, :-1] for g in backprops], p, gradients)


def flat_mlp_gradient(stats: MLPStatistics) -> np.ndarray:
    """The gradients in torch's flat order: each layer's weight row-major, then its bias."""
    return np.concatenate([part for grad in stats.gradients for part in (grad[:, :-1].ravel(), grad[:, -1])])


def dense_fisher(stats: MLPStatistics) -> np.ndarray:
    """The exact true Fisher (P, P) from per-example, per-class scores g ⊗ a weighted by √p."""
    n, n_classes = stats.class_weights.shape
    root_p = np.sqrt(stats.class_weights)[..., None]  # (n, C, 1)
    blocks = []
    for a, g in zip(stats.activations, stats.backprops, strict=True):
        gw = g * root_p  # (n, C, d_out)
        blocks.append(np.einsum("nco,ni->ncoi", gw, a[:, :-1]).reshape(n * n_classes, -1))  # weights
        blocks.append(gw.reshape(n * n_classes, -1))  # biases
    scores = np.concatenate(blocks, axis=1)  # (n*C, P)
    return scores.T @ scores / np.float32(n)


def exact_natural_gradient(
    weights: list[np.ndarray], inputs: np.ndarray, labels: np.ndarray, damping: float
) -> np.ndarray:
    """(F + λI)⁻¹∇L with the dense Fisher: statistics, P x P build, Cholesky, two triangular solves."""
    stats = mlp_statistics(weights, inputs, labels)
    fisher = dense_fisher(stats)
    fisher[np.diag_indices_from(fisher)] += damping
    factor = scipy.linalg.cho_factor(fisher, lower=True, overwrite_a=True, check_finite=False)
    return scipy.linalg.cho_solve(factor, flat_mlp_gradient(stats), check_finite=False)


def kfac_natural_gradient(
    weights: list[np.ndarray], inputs: np.ndarray, labels: np.ndarray, damping: float
) -> list[np.ndarray]:
    """G⁻¹∇W'A⁻¹ per layer with factored damping: statistics, the factors, two small Choleskys each."""
    stats = mlp_statistics(weights, inputs, labels)
    n, n_classes = stats.class_weights.shape
    root_p = np.sqrt(stats.class_weights)[..., None]
    directions = []
    for a, g, grad in zip(stats.activations, stats.backprops, stats.gradients, strict=True):
        gw = (g * root_p).reshape(n * n_classes, -1)  # (n*C, d_out)
        A = a.T @ a / np.float32(n)
        G = gw.T @ gw / np.float32(n)
        damp_a, damp_g = factored_damping(float(np.diag(A).mean()), float(np.diag(G).mean()), damping)
        A[np.diag_indices_from(A)] += damp_a
        G[np.diag_indices_from(G)] += damp_g
        left = scipy.linalg.cho_solve(scipy.linalg.cho_factor(G, lower=True, check_finite=False), grad)  # G⁻¹∇
        chol_a = scipy.linalg.cho_factor(A, lower=True, check_finite=False)
        directions.append(scipy.linalg.cho_solve(chol_a, left.T, check_finite=False).T)  # (G⁻¹∇) A⁻¹
    return directions


def traced_peak_bytes(fn: Callable[[], object]) -> float:
    """Peak bytes numpy allocated while ``fn`` ran, above what was live before it (tracemalloc)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return float(peak - baseline)


def fastest_seconds(fn: Callable[[], object], repeats: int, budget: float = 1.0) -> float:
    """Fastest wall time of ``fn`` over up to ``repeats`` runs (fewer once ``budget`` seconds are spent),
    and up to 20 runs while under 50 ms in all, so cheap points still find a quiet moment."""
    times: list[float] = []
    while not times or (len(times) < repeats and sum(times) < budget) or (sum(times) < 0.05 and len(times) < 20):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def log_log_slope(n_params: np.ndarray, values: np.ndarray, min_params: float = 0.0) -> float:
    """Slope of log values against log P (numpy polyfit) over P >= min_params; NaN under two points."""
    keep = (values > 0) & (n_params >= min_params)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(n_params[keep]), np.log(values[keep]), 1)[0])


def extrapolate(flops_per_second: float) -> tuple[ExtrapolationRow, ...]:
    """The dense Fisher of ResNet-50, BERT-base and GPT-2 XL, from P², 4P² and P³/3."""
    return tuple(
        ExtrapolationRow(
            name, p, p**2, 4 * p**2, p**3 / 3, (p**3 / 3) / flops_per_second if flops_per_second > 0 else np.inf
        )
        for name, p in REAL_NETWORKS
    )


def _sweep(method: str, cfg: CostConfig, done: int, total: int, deadline: float) -> Job[CostCurve]:
    solve = exact_natural_gradient if method == "exact" else kfac_natural_gradient
    widths = cfg.exact_widths if method == "exact" else cfg.kfac_widths
    rng = np.random.default_rng(cfg.seed)
    inputs = rng.standard_normal((cfg.n_examples, 2)).astype(np.float32)
    labels = rng.integers(0, cfg.n_classes, cfg.n_examples)
    points: list[tuple[int, int, float, float]] = []
    stopped = ""
    for i, width in enumerate(widths):
        p = mlp_parameter_count(layer_widths(width, cfg))
        if method == "exact" and 4.0 * p**2 > cfg.max_fisher_bytes:
            stopped = f"width {width}: a {p} x {p} Fisher would exceed {cfg.max_fisher_bytes / 2**30:.1f} GiB"
            break
        weights = mlp_weights(layer_widths(width, cfg), cfg.seed)

        def point(weights: list[np.ndarray] = weights) -> object:
            return solve(weights, inputs, labels, cfg.damping)

        peak = traced_peak_bytes(point)
        seconds = fastest_seconds(point, cfg.repeats)
        points.append((width, p, seconds, peak))
        label = "exact Fisher" if method == "exact" else "K-FAC"
        yield Progress((done + i + 1) / total, f"{label}, P = {p:,}: {seconds * 1e3:.1f} ms, {peak / 2**20:.2f} MiB")
        if i == len(widths) - 1:
            break
        if seconds > cfg.max_seconds_per_point:
            stopped = f"width {width} took {seconds:.1f} s > {cfg.max_seconds_per_point} s per point"
            break
        if time.perf_counter() > deadline and len(points) >= 2:
            stopped = f"time budget reached after width {width} ({cfg.max_sweep_seconds:.0f} s for the whole job)"
            break
    w, p, s, m = (np.array(column, dtype=np.float64) for column in zip(*points, strict=True))
    fit_min = float(np.median(p))
    theory = (3.0, 2.0) if method == "exact" else (1.5, 1.0)
    return CostCurve(
        method, w.astype(np.int64), p, s, m, log_log_slope(p, s, fit_min), log_log_slope(p, m, fit_min), fit_min,
        *theory, stopped,
    )  # fmt: skip


def measure_cost(cfg: CostConfig) -> Job[CostResult]:
    """The job: sweep exact then K-FAC, yielding Progress after every point; returns a CostResult."""
    total = len(cfg.exact_widths) + len(cfg.kfac_widths)
    start = time.perf_counter()
    exact = yield from _sweep("exact", cfg, 0, total, start + 0.6 * cfg.max_sweep_seconds)
    kfac = yield from _sweep("kfac", cfg, len(cfg.exact_widths), total, start + cfg.max_sweep_seconds)
    rate = float(exact.n_params[-1] ** 3 / 3 / exact.seconds[-1])
    yield Progress(1.0, "done")
    return CostResult(exact, kfac, extrapolate(rate), rate, "tracemalloc peak of numpy buffers (host CPU)")
