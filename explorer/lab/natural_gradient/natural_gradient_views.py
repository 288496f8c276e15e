"""The natural-gradient tab's live experiment: the training race and the Gaussian fit, side by side.

Idea: one Play drives both demonstrations, so every view of the tab moves together. Each frame
carries the latest frame of :func:`explorer.lab.fisher_race.run` (SGD, Adam, K-FAC and the exact
natural gradient on two spirals) and of :func:`explorer.lab.gaussian_fit.run` (gradient descent and
natural gradient fitting N(mu, sigma²) in two parameterizations), advanced by the same number of steps.
Once per run it also computes what the fit's planes need: their ranges, the Fisher metric ellipses in
both charts drawn with *one* radius c (so an ellipse in one chart is the image of an ellipse in the
other), and the loss at the maximum-likelihood fit, the floor of the excess-loss plot.

:func:`fitted_power_law` turns a cost curve's fitted log-log slope into the line to draw through its
measured points.

The cost sweep runs in a child process (:func:`measure_cost_isolated`): it measures memory with
``tracemalloc``, and on CPython 3.11 a Qt thread that starts while tracing is on (Play, Reset, any new
experiment) can crash the whole process (a segfault in ``_tracemalloc.c``'s ``traceback_new``, seen
here when a new experiment thread's first ``PyGILState_Ensure`` allocates under tracing). The child
has no Qt threads; it also keeps the sweep's timings away from the window's GIL.

Caution:
- A fit that leaves the family of Gaussians (sigma <= 0) stops only the fit: the race goes on, and
  the frame says why the fit stopped. A race that diverges stops the run, as any experiment does.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

from explorer.lab.core.protocol import Diverged, Job, Progress
from explorer.lab.natural_gradient import fisher_race, gaussian_fit
from explorer.lab.natural_gradient.fisher_cost import CostConfig, CostCurve, CostResult
from explorer.lab.natural_gradient.fisher_race import RaceConfig, RaceFrame
from explorer.lab.natural_gradient.gaussian_fit import GaussianFitConfig, GaussianFitFrame, MetricEllipses


@dataclass(frozen=True)
class NaturalGradientConfig:
    """The race and the fit; ``ellipse_grid`` ellipses per axis of each fit plane."""

    race: RaceConfig
    fit: GaussianFitConfig
    ellipse_grid: tuple[int, int] = (7, 6)


@dataclass(frozen=True)
class FitPlanes:
    """What the Gaussian fit's planes show besides the paths; computed once per run."""

    mu_range: tuple[float, float]
    sigma_range: tuple[float, float]
    log_sigma_range: tuple[float, float]
    sigma_ellipses: MetricEllipses  # in the (mu, sigma) plane, which is also the distribution plane
    log_sigma_ellipses: MetricEllipses  # in the (mu, log sigma) plane, with the same c
    mle: tuple[float, float]  # the maximum-likelihood (mu, sigma): sample mean and (biased) std
    mle_log_chart: tuple[float, float]  # the same point in the (mu, log sigma) chart
    start_log_chart: tuple[float, float]  # the common start in the (mu, log sigma) chart
    mle_loss: float  # mean negative log-likelihood at the maximum-likelihood (mu, sigma), nats


@dataclass(frozen=True)
class NaturalGradientFrame:
    """The latest race frame and fit frame; ``step`` is the larger of their steps."""

    step: int
    loss: float  # the race's loss: a non-finite value stops the run
    race: RaceFrame
    fit: GaussianFitFrame
    planes: FitPlanes
    fit_stopped: str  # "" while the fit runs or finished normally, else why it stopped
    gd_gap: float  # largest (mu, sigma) distance so far between the two gradient-descent paths
    natural_gap: float  # the same for the two natural-gradient paths


def _padded(low: float, high: float, pad: float) -> tuple[float, float]:
    return low - pad, high + pad


def fit_planes(cfg: GaussianFitConfig, grid: tuple[int, int] = (7, 6)) -> FitPlanes:
    """Ranges around the start and the maximum-likelihood fit, and the metric ellipses over them."""
    data = gaussian_fit.sample_data(cfg)
    mle_mu, mle_sigma = float(np.mean(data)), float(np.std(data))
    mu_low, mu_high = sorted((cfg.mu0, mle_mu))
    sigma_low, sigma_high = sorted((cfg.sigma0, mle_sigma))
    mu_range = _padded(mu_low, mu_high, max(0.15 * (mu_high - mu_low), 0.5 * sigma_high))
    pad = max(0.15 * (sigma_high - sigma_low), 0.1 * sigma_high)
    sigma_range = (max(sigma_low - pad, 0.5 * sigma_low), sigma_high + pad)
    log_sigma_range = (float(np.log(sigma_range[0])), float(np.log(sigma_range[1])))
    # one c for both charts (the smaller of the two that fit a grid cell): the same KL radius everywhere
    auto = [
        gaussian_fit.metric_ellipses(chart, mu_range, second, grid).c
        for chart, second in (("sigma", sigma_range), ("log_sigma", log_sigma_range))
    ]
    c = min(auto)
    return FitPlanes(
        mu_range,
        sigma_range,
        log_sigma_range,
        gaussian_fit.metric_ellipses("sigma", mu_range, sigma_range, grid, c),
        gaussian_fit.metric_ellipses("log_sigma", mu_range, log_sigma_range, grid, c),
        (mle_mu, mle_sigma),
        (mle_mu, float(np.log(mle_sigma))),
        (cfg.mu0, float(np.log(cfg.sigma0))),
        gaussian_fit.negative_log_likelihood(data, mle_mu, mle_sigma),
    )


def path_gap(fit: GaussianFitFrame, method: str) -> float:
    """Largest distance in (mu, sigma) between ``method``'s runs in the two charts, over the steps so far."""
    rows = [i for i, (m, _) in enumerate(fit.runs) if m == method]
    a, b = fit.distribution_paths[rows[0]], fit.distribution_paths[rows[1]]
    return float(np.max(np.hypot(a[:, 0] - b[:, 0], a[:, 1] - b[:, 1])))


def run(cfg: NaturalGradientConfig) -> Iterator[NaturalGradientFrame]:
    """Yield both experiments at step 0, then after every ``steps_per_frame`` steps of each, until both end."""
    planes = fit_planes(cfg.fit, cfg.ellipse_grid)
    race_run, fit_run = fisher_race.run(cfg.race), gaussian_fit.run(cfg.fit)
    race, fit = next(race_run), next(fit_run)
    race_live, fit_live, fit_stopped = True, True, ""

    def frame() -> NaturalGradientFrame:
        return NaturalGradientFrame(
            max(race.step, fit.step), race.loss, race, fit, planes, fit_stopped,
            path_gap(fit, "gd"), path_gap(fit, "natural"),
        )  # fmt: skip

    request = yield frame()  # passed on to both: they advance the same steps per frame
    while race_live or fit_live:
        moved = False
        if race_live:
            try:
                race = race_run.send(request)
                moved = True
            except StopIteration:
                race_live = False
        if fit_live:
            try:
                fit = fit_run.send(request)
                moved = True
            except StopIteration:
                fit_live = False
            except Diverged as exc:
                fit_live, fit_stopped = False, f"Gaussian fit stopped: {exc}. Try a smaller fit learning rate."
                moved = True  # the frame must carry the reason
        if not moved:
            return
        request = yield frame()


@dataclass(frozen=True)
class PowerLaw:
    """y = a P^slope at the measured P (NaN below the fitted range), for the time and memory of one cost curve."""

    n_params: np.ndarray
    seconds: np.ndarray
    peak_bytes: np.ndarray


def power_law_through(n_params: np.ndarray, values: np.ndarray, slope: float, min_params: float) -> np.ndarray:
    """The least-squares line of log values on log P with the given slope, at every P it was fitted on.

    With the slope fixed, the best intercept is the mean of log y − slope log P over the fitted points
    (P >= min_params, y > 0), the same line ``numpy.polyfit`` found. NaN below ``min_params``, where the
    fit says nothing, and everywhere when nothing was fitted.
    """
    keep = (values > 0) & (n_params >= min_params)
    line = np.full(len(n_params), np.nan)
    if not np.isfinite(slope) or keep.sum() < 1:
        return line
    intercept = float(np.mean(np.log(values[keep]) - slope * np.log(n_params[keep])))
    fitted = n_params >= min_params
    line[fitted] = np.exp(intercept + slope * np.log(n_params[fitted]))
    return line


def fitted_power_law(curve: CostCurve) -> PowerLaw:
    """The fitted time and memory lines of a measured cost curve, at its measured P."""
    p = curve.n_params
    return PowerLaw(
        p,
        power_law_through(p, curve.seconds, curve.time_slope, curve.fit_min_params),
        power_law_through(p, curve.peak_bytes, curve.memory_slope, curve.fit_min_params),
    )


#: a multithreaded BLAS on a small, busy CPU times the scheduler, not the arithmetic (see fisher_cost)
_ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _measure_in_child(cfg: CostConfig, conn: Connection) -> None:
    """The child's side: run the sweep, send ("progress", (fraction, message)) and then one
    ("result", CostResult) or ("error", text)."""
    from explorer.lab.natural_gradient import fisher_cost

    job = fisher_cost.measure_cost(cfg)
    try:
        try:
            while True:
                report = next(job)
                conn.send(("progress", (report.fraction, report.message)))
        except StopIteration as done:
            conn.send(("result", done.value))
        except (BrokenPipeError, EOFError):
            return  # the parent is gone (closed, or the job cancelled): nobody to tell
        except Exception as exc:  # reported to the parent, which raises it as the job's failure
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    except (BrokenPipeError, EOFError):
        return
    finally:
        conn.close()


def measure_cost_isolated(cfg: CostConfig, poll_seconds: float = 0.1) -> Job[CostResult]:
    """:func:`explorer.lab.fisher_cost.measure_cost` in a fresh ("spawn") child process.

    Yields the child's progress (again every ``poll_seconds`` while it works, so a driver can stop at
    any time); stopping this generator terminates the child. The child's BLAS runs one thread, as the
    benchmark's does. The child imports torch through the lab
    (about 2 s on a small CPU) before the sweep's own time budget starts.
    """
    context = multiprocessing.get_context("spawn")  # never fork a process that runs Qt threads
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_measure_in_child, args=(cfg, sender), daemon=True, name="fisher-cost")
    saved = {name: os.environ.get(name) for name in _ONE_BLAS_THREAD}
    os.environ.update(_ONE_BLAS_THREAD)  # read once, when the child's numpy loads
    try:
        process.start()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    sender.close()  # the child holds its own end: EOF here once it is gone
    fraction, message = 0.0, "starting a separate process for the measurement"
    try:
        while True:
            yield Progress(fraction, message)
            if not receiver.poll(poll_seconds):
                if not process.is_alive() and not receiver.poll(0):
                    raise RuntimeError(f"the measuring process ended without a result (exit code {process.exitcode})")
                continue
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise RuntimeError(
                    f"the measuring process ended without a result (exit code {process.exitcode})"
                ) from None
            if kind == "progress":
                fraction, message = payload
            elif kind == "result":
                return payload
            else:
                raise RuntimeError(f"the cost sweep failed: {payload}")
    finally:
        receiver.close()
        if process.is_alive():
            process.terminate()
        process.join(timeout=2.0)
