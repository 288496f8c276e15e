"""The natural-gradient tab's combined experiment: both runs advance together, a failed fit stops only itself."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.lab.core.protocol import Progress, run_job
from explorer.lab.natural_gradient import fisher_cost, fisher_race, gaussian_fit
from explorer.lab.natural_gradient import natural_gradient_views as views

RACE = fisher_race.RaceConfig(n_points=64, width=4, batch_size=32, steps_per_frame=5, max_steps=10)
FIT = gaussian_fit.GaussianFitConfig(steps_per_frame=5, n_steps=20)


def test_frames_carry_both_runs_until_the_longer_one_ends() -> None:
    frames = list(views.run(views.NaturalGradientConfig(RACE, FIT)))
    assert [f.step for f in frames] == [0, 5, 10, 15, 20]
    assert [f.race.step for f in frames] == [0, 5, 10, 10, 10]  # the race ended at 10 and stays there
    assert [f.fit.step for f in frames] == [0, 5, 10, 15, 20]
    assert all(f.loss == f.race.loss for f in frames)
    last = frames[-1]
    assert last.fit_stopped == ""
    assert last.natural_gap < 1e-3 < 0.01 < last.gd_gap  # one path for natural gradient, two for GD


def test_planes_cover_start_and_fit_with_one_ellipse_radius() -> None:
    planes = views.fit_planes(FIT)
    data = gaussian_fit.sample_data(FIT)
    mle = (np.mean(data), np.std(data))
    np.testing.assert_allclose(planes.mle, mle)
    assert planes.mu_range[0] < min(FIT.mu0, mle[0]) and planes.mu_range[1] > max(FIT.mu0, mle[0])
    assert 0 < planes.sigma_range[0] < min(FIT.sigma0, mle[1]) and planes.sigma_range[1] > max(FIT.sigma0, mle[1])
    np.testing.assert_allclose(planes.log_sigma_range, np.log(planes.sigma_range))
    assert planes.sigma_ellipses.c == planes.log_sigma_ellipses.c
    np.testing.assert_allclose(planes.mle_log_chart, (mle[0], np.log(mle[1])))
    assert planes.mle_loss == pytest.approx(gaussian_fit.negative_log_likelihood(data, *mle))
    centre = planes.sigma_ellipses.centres[0]  # xᵀF x = c on every ellipse
    offsets = planes.sigma_ellipses.points[0] - centre
    fisher = gaussian_fit.gaussian_fisher(*centre, "sigma")
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", offsets, fisher, offsets), planes.sigma_ellipses.c)


def test_a_diverging_fit_stops_alone_and_says_why() -> None:
    fit = gaussian_fit.GaussianFitConfig(lr=1.0, sigma0=1.0, mu0=-1.0, steps_per_frame=5, n_steps=40)
    race = fisher_race.RaceConfig(n_points=64, width=4, batch_size=32, steps_per_frame=5, max_steps=30)
    frames = list(views.run(views.NaturalGradientConfig(race, fit)))
    assert frames[-1].race.step == 30
    assert "sigma became" in frames[-1].fit_stopped and frames[-1].fit.step < 15


def test_power_law_passes_through_exact_power_laws_on_the_fitted_range() -> None:
    p = np.array([10.0, 100.0, 1000.0, 10000.0])
    values = 3.0 * p**2
    line = views.power_law_through(p, values, 2.0, 100.0)
    assert np.isnan(line[0])
    np.testing.assert_allclose(line[1:], values[1:])
    assert np.all(np.isnan(views.power_law_through(p, values, float("nan"), 100.0)))


def test_fitted_power_law_of_a_measured_curve() -> None:
    p = np.array([100.0, 400.0, 1600.0, 6400.0])
    curve = fisher_cost.CostCurve("exact", np.arange(4), p, 1e-9 * p**3, 4.0 * p**2, 3.0, 2.0, 400.0, 3.0, 2.0, "")
    line = views.fitted_power_law(curve)
    np.testing.assert_allclose(line.seconds[1:], curve.seconds[1:])
    np.testing.assert_allclose(line.peak_bytes[1:], curve.peak_bytes[1:])
    assert np.isnan(line.seconds[0])


TINY_SWEEP = fisher_cost.CostConfig(exact_widths=(4, 8), kfac_widths=(8, 16), n_examples=32, repeats=1)


def test_the_isolated_sweep_returns_the_child_result() -> None:
    result = run_job(views.measure_cost_isolated(TINY_SWEEP))
    np.testing.assert_array_equal(result.exact.widths, [4, 8])
    np.testing.assert_array_equal(result.kfac.n_params, [fisher_cost.mlp_parameter_count(
        fisher_cost.layer_widths(w, TINY_SWEEP)) for w in (8, 16)])  # fmt: skip
    assert np.all(result.exact.peak_bytes > 0) and len(result.extrapolation) == 3


def test_stopping_the_isolated_sweep_ends_the_child() -> None:
    import multiprocessing

    job = views.measure_cost_isolated(TINY_SWEEP)
    assert isinstance(next(job), Progress)
    [child] = [p for p in multiprocessing.active_children() if p.name == "fisher-cost"]
    job.close()
    assert not child.is_alive()


def test_a_failing_sweep_is_reported() -> None:
    bad = fisher_cost.CostConfig(exact_widths=(4, 8), kfac_widths=(8,), n_examples=32, repeats=1, n_classes=2)
    object.__setattr__(bad, "n_examples", 0)  # past validation: the child's numpy work fails
    with pytest.raises(RuntimeError, match="cost sweep failed"):
        run_job(views.measure_cost_isolated(bad))
