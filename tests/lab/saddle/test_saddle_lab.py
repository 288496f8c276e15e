import inspect
import itertools

import numpy as np
import pytest

from explorer.lab.core import contours
from explorer.lab.core.protocol import Progress, run_job
from explorer.lab.saddle import saddle


def test_first_frame_is_the_start_and_frames_are_deterministic():
    cfg = saddle.SaddleConfig(surface="himmelblau", start=(0.5, 0.5), steps=40, steps_per_frame=5, seed=4)
    first = next(saddle.run(cfg))
    assert first.step == 0
    for path in first.paths.values():
        np.testing.assert_array_equal(path, [[0.5, 0.5]])
    a, b = list(saddle.run(cfg)), list(saddle.run(cfg))
    assert [f.step for f in a] == [0, 5, 10, 15, 20, 25, 30, 35, 40]
    np.testing.assert_array_equal(a[-1].paths["sgd"], b[-1].paths["sgd"])
    assert a[-1].finished


def test_outcomes_name_escape_stuck_and_unbounded():
    cfg = saddle.SaddleConfig(surface="saddle", optimizers=("gd", "newton"), steps=300)
    last = list(saddle.run(cfg))[-1]
    assert last.outcomes["newton"].kind == "stuck"
    assert "stuck at saddle (0, 0)" in last.outcomes["newton"].text
    gd = last.outcomes["gd"]
    assert gd.kind == "unbounded" and "escaped saddle (0, 0) at step" in gd.text


def test_outcome_converged_names_the_minimum_and_step():
    cfg = saddle.SaddleConfig(surface="himmelblau", optimizers=("gd",), steps=200)
    outcome = list(saddle.run(cfg))[-1].outcomes["gd"]
    assert outcome.kind == "converged"
    assert outcome.text.startswith("converged to minimum (3, 2) at step")


def test_a_diverging_optimizer_stops_alone():
    cfg = saddle.SaddleConfig(surface="rosenbrock", optimizers=("gd", "newton"), learning_rates={"gd": 0.1}, steps=100)
    last = list(saddle.run(cfg))[-1]
    assert last.outcomes["gd"].kind == "diverged"
    assert len(last.paths["gd"]) < 101 and np.all(np.isfinite(last.paths["gd"]))
    assert last.outcomes["newton"].kind == "converged"


def test_natural_gradient_races_only_where_the_surface_has_a_model():
    assert "natural_gradient" in saddle.SaddleConfig().optimizers  # on by default, as in the tab
    plain = next(saddle.run(saddle.SaddleConfig(surface="saddle", steps=4)))
    assert "natural_gradient" not in plain.paths and "gd" in plain.paths
    model = next(saddle.run(saddle.SaddleConfig(surface="two_param_net", steps=4)))
    assert "natural_gradient" in model.paths


def test_surface_map_job_reports_progress_and_grids_the_window():
    job = saddle.surface_map("six_hump_camel", resolution=64, log_scale=True)
    reports = list(itertools.islice(job, 3))
    assert all(isinstance(r, Progress) for r in reports)
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions)
    result = run_job(saddle.surface_map("six_hump_camel", resolution=64))
    assert result.values.shape == (64, 64) and result.values.dtype == np.float32
    assert result.xs[0] == -2.0 and result.xs[-1] == 2.0
    assert len(result.critical) == 15
    assert result.contour_points.shape[1] == 2 and len(result.contour_points) % 2 == 0


def test_surface_map_job_stops_when_closed():
    job = saddle.surface_map("rosenbrock", resolution=400)
    first = next(job)
    assert isinstance(first, Progress) and first.fraction < 0.7  # still gridding
    job.close()  # Cancel: nothing is raised
    assert inspect.getgeneratorstate(job) == inspect.GEN_CLOSED
    with pytest.raises(StopIteration):  # and nothing else runs: no more progress, no result
        next(job)


def test_contours_of_a_paraboloid_are_circles():
    xs = ys = np.linspace(-2, 2, 81)
    gx, gy = np.meshgrid(xs, ys)
    points = contours.segments(gx**2 + gy**2, xs, ys, np.array([1.0]))
    radius = np.hypot(points[:, 0], points[:, 1])
    assert len(points) > 50
    np.testing.assert_allclose(radius, 1.0, atol=2e-3)
