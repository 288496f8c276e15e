"""Parameterization invariance: natural gradient moves through the same Gaussians in either chart."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from explorer.lab.core.protocol import Diverged
from explorer.lab.natural_gradient import gaussian_fit

CFG = gaussian_fit.GaussianFitConfig()


def _distribution_path(method: str, chart: str, lr: float, n_steps: int) -> np.ndarray:
    data = gaussian_fit.sample_data(CFG)
    path = gaussian_fit.fit_path(data, (CFG.mu0, CFG.sigma0), chart, method, lr, n_steps)
    return gaussian_fit.to_distribution(path, chart)


def test_natural_gradient_takes_the_same_path_in_both_parameterizations() -> None:
    # small steps approach the natural-gradient flow, which is the same curve of distributions
    lr, n_steps = 1e-3, 4000
    in_sigma = _distribution_path("natural", "sigma", lr, n_steps)
    in_log_sigma = _distribution_path("natural", "log_sigma", lr, n_steps)
    assert np.max(np.abs(in_sigma - in_log_sigma)) < 5e-4


def test_gradient_descent_paths_differ_between_parameterizations() -> None:
    lr, n_steps = 1e-3, 4000
    in_sigma = _distribution_path("gd", "sigma", lr, n_steps)
    in_log_sigma = _distribution_path("gd", "log_sigma", lr, n_steps)
    assert np.max(np.abs(in_sigma - in_log_sigma)) > 0.2


def test_gradient_is_the_chain_rule_of_the_sigma_gradient() -> None:
    data = gaussian_fit.sample_data(CFG)
    grad_sigma = gaussian_fit.nll_gradient(data, np.array([0.2, 1.5]), "sigma")
    grad_log = gaussian_fit.nll_gradient(data, np.array([0.2, np.log(1.5)]), "log_sigma")
    np.testing.assert_allclose(grad_log, [grad_sigma[0], 1.5 * grad_sigma[1]])
    eps = 1e-6
    numeric = (
        gaussian_fit.negative_log_likelihood(data, 0.2, 1.5 + eps)
        - gaussian_fit.negative_log_likelihood(data, 0.2, 1.5 - eps)
    ) / (2 * eps)
    assert grad_sigma[1] == pytest.approx(numeric, rel=1e-6)


def test_run_yields_step_zero_then_frames_and_converges_to_the_mle() -> None:
    frames = list(gaussian_fit.run(gaussian_fit.GaussianFitConfig(lr=0.1, n_steps=300, steps_per_frame=50)))
    assert [f.step for f in frames] == [0, 50, 100, 150, 200, 250, 300]
    first, last = frames[0], frames[-1]
    assert first.parameter_paths.shape == (4, 1, 2)
    np.testing.assert_allclose(first.distribution_paths[:, 0], [[CFG.mu0, CFG.sigma0]] * 4)
    np.testing.assert_allclose(first.parameter_paths[1, 0], [CFG.mu0, np.log(CFG.sigma0)])
    assert last.distribution_paths.shape == (4, 301, 2)
    np.testing.assert_allclose(last.distribution_paths[2:, -1], [last.mle, last.mle], atol=1e-6)
    assert last.loss == pytest.approx(last.losses[2, -1])
    assert np.all(np.diff(last.losses[2]) <= 1e-12)  # natural gradient descends monotonically here


def test_run_raises_diverged_when_a_step_leaves_positive_sigma() -> None:
    with pytest.raises(Diverged, match="sigma"):
        list(itertools.islice(gaussian_fit.run(gaussian_fit.GaussianFitConfig(lr=3.0, n_steps=50)), 20))


@pytest.mark.parametrize("chart", ["sigma", "log_sigma"])
def test_metric_ellipses_satisfy_xt_f_x_equals_c(chart: str) -> None:
    ellipses = gaussian_fit.metric_ellipses(chart, (-1.0, 1.0), (0.5, 2.0) if chart == "sigma" else (-0.5, 0.7), (4, 3))
    assert ellipses.centres.shape == (12, 2) and ellipses.points.shape == (12, 49, 2)
    for centre, points in zip(ellipses.centres, ellipses.points, strict=True):
        mu, sigma = gaussian_fit.to_distribution(centre, chart)
        offsets = points - centre
        F = gaussian_fit.gaussian_fisher(mu, sigma, chart)
        np.testing.assert_allclose(np.einsum("ni,ij,nj->n", offsets, F, offsets), ellipses.c, rtol=1e-9)
        np.testing.assert_allclose(points[0], points[-1])


def test_metric_ellipses_in_log_sigma_have_the_same_shape_everywhere_along_sigma() -> None:
    # F = diag(1/σ², 2): the log-sigma axis has constant length, the mu axis scales with sigma
    ellipses = gaussian_fit.metric_ellipses("log_sigma", (0.0, 0.0), (-1.0, 1.0), (1, 3), c=1.0)
    heights = np.ptp(ellipses.points[:, :, 1], axis=1)
    widths = np.ptp(ellipses.points[:, :, 0], axis=1)
    np.testing.assert_allclose(heights, np.sqrt(2.0), rtol=1e-3)
    np.testing.assert_allclose(widths / 2, np.exp([-1.0, 0.0, 1.0]), rtol=1e-3)
