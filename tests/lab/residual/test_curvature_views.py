"""The residual experiment's curvature series and weight path, and the jobs behind its curvature view."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from explorer.lab import curvature, landscape, trajectory
from explorer.lab.core.protocol import Advance, run_sync
from explorer.lab.residual import residual
from explorer.lab.residual.curvature_pair import BLOCK_TOL, DENSITY_RUNS, DENSITY_STEPS, curvature_pair
from explorer.lab.residual.path_pair import path_pair, trained_views
from explorer.lab.residual.tracking import PathRecorder

SMALL = residual.ResidualConfig(
    depths=(2, 3), width=8, n_points=64, batch_size=32, steps_per_frame=4, grid=8, curvature_every=4,
    lanczos_steps=6, curvature_depths="all", path_points=8, path_every=4, steps=20, device="cpu",
)  # fmt: skip


def _finish(job):
    reports = []
    while True:
        try:
            reports.append(next(job))
        except StopIteration as done:
            return done.value, reports


def _frame(cfg: residual.ResidualConfig, step: int) -> residual.ResidualFrame:
    frame, failure, _ = run_sync(lambda: residual.run(cfg), step)
    assert failure is None and frame.step == step
    return frame


@pytest.fixture(scope="module")
def frame() -> residual.ResidualFrame:
    return _frame(SMALL, 20)


def test_curvature_job_equals_the_curvature_package(frame) -> None:
    result, reports = _finish(curvature_pair(frame.checkpoint, 3, seed=1))
    assert result.complete and result.depth == 3 and result.step == 20
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions) and any(r.partial is not None for r in reports)
    batch = (torch.tensor(frame.points), torch.tensor(frame.labels))
    for net, found in zip(frame.checkpoint.nets(3), (result.plain, result.residual), strict=True):
        assert found.top == curvature.top_eigenvalues(net, F.cross_entropy, batch, k=1, seed=1)[0]
        blocks = curvature.per_block_top_eigenvalue(net, F.cross_entropy, batch, 1, tol=BLOCK_TOL)
        assert found.block_names == ("stem", "blocks.0", "blocks.1", "blocks.2", "head") == tuple(blocks)
        np.testing.assert_array_equal(found.block_tops, list(blocks.values()))
        grid, density = curvature.spectral_density(net, F.cross_entropy, batch, 1, runs=DENSITY_RUNS,
                                                   steps=DENSITY_STEPS)  # fmt: skip
        np.testing.assert_array_equal(found.grid, grid)
        np.testing.assert_array_equal(found.density, density)
        assert grid[0] < found.top < grid[-1]


def test_path_job_projects_the_recorded_snapshots(frame) -> None:
    path = frame.path
    assert path.steps.tolist() == [0, 4, 8, 12, 16, 20]  # every 4 steps: 8 places are not yet full
    result, _ = _finish(path_pair(frame.checkpoint, path, 3, resolution=7, interpolation_points=11))
    X, y = torch.tensor(frame.points), torch.tensor(frame.labels)
    for k, (net, found) in enumerate(zip(frame.checkpoint.nets(3), (result.plain, result.residual), strict=True)):
        final = trajectory.flat_parameters(net)
        np.testing.assert_array_equal(path.of(3)[k][-1], final.float().numpy())  # the step-20 snapshot
        points = [torch.tensor(np.array(w, dtype=np.float64)) for w in path.of(3)[k][:-1]] + [final]
        d1, d2, explained = trajectory.pca_directions(points)
        np.testing.assert_allclose(found.coords, trajectory.project(points, d1, d2), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(found.explained, explained, rtol=1e-12)
        assert found.steps.tolist() == [0, 4, 8, 12, 16, 20] and found.coords[-1].tolist() == [0.0, 0.0]
        assert found.losses.shape == (7, 7) and np.isfinite(found.losses).all()
        assert found.losses[3, 3] == landscape.model_loss(net, X, y)  # the centre is the trained net
        # the plane reaches past the path along both directions
        assert np.abs(found.coords).max(axis=0) @ [1, 0] < found.alphas[-1]
        assert np.abs(found.coords[:, 1]).max() < found.betas[-1]
        line = trajectory.interpolate(net, points[0], final, F.cross_entropy, (X, y), n=11)
        np.testing.assert_array_equal(found.line_losses, line.losses)
        assert found.line_losses[-1] == pytest.approx(landscape.model_loss(net, X, y), rel=1e-6)


def test_snapshots_are_the_weights_at_their_steps_and_thin_evenly() -> None:
    earlier = _frame(SMALL, 8)
    later = _frame(dataclasses.replace(SMALL, steps=40, path_points=4), 40)
    assert later.path.steps.tolist() == [0, 16, 32]  # 4 places: every 4, 8, then 16 steps
    for k, net in enumerate(earlier.checkpoint.nets(2)):
        np.testing.assert_array_equal(later.path.of(2)[k][1], _frame(SMALL, 16).path.of(2)[k][-1])
        np.testing.assert_array_equal(earlier.path.of(2)[k][-1], trajectory.flat_parameters(net).float().numpy())
    recorder = PathRecorder((2,), n_params=10, capacity=5)
    kept = [s for s in range(100) if recorder.due(s) and not recorder.steps.append(s)]
    assert kept[-1] == 96 and recorder.steps == [0, 32, 64, 96] and recorder.interval == 32


def test_same_seed_same_numbers_other_seed_other_numbers(frame) -> None:
    again = _frame(SMALL, 20)
    np.testing.assert_array_equal(again.plain_top, frame.plain_top)
    np.testing.assert_array_equal(again.path.of(3)[1][2], frame.path.of(3)[1][2])
    a, _ = _finish(trained_views(frame.checkpoint, frame.path, 2, resolution=5, seed=3))
    b, _ = _finish(trained_views(again.checkpoint, again.path, 2, resolution=5, seed=3))
    assert a.curvature.plain.top == b.curvature.plain.top
    np.testing.assert_array_equal(a.curvature.residual.density, b.curvature.residual.density)
    np.testing.assert_array_equal(a.path.residual.losses, b.path.residual.losses)
    other = _frame(dataclasses.replace(SMALL, seed=1), 20)
    assert not np.array_equal(other.plain_top, frame.plain_top)


def test_curvature_series_every_few_steps_whatever_the_frames() -> None:
    cfg = dataclasses.replace(SMALL, steps=0, steps_per_frame=20, curvature_every=5)
    even = _frame(cfg, 27)
    generator = residual.run(cfg)
    uneven = next(generator)
    for size in itertools.cycle((1, 7, 3, 12, 2, 5)):
        if uneven.step >= 27:
            break
        uneven = generator.send(Advance(steps=size, stop_at=27))
    generator.close()
    assert uneven.step == 27
    assert even.curvature_steps.tolist() == uneven.curvature_steps.tolist() == [0, 5, 10, 15, 20, 25]
    assert even.plain_top.shape == even.residual_top.shape == (2, 6)
    np.testing.assert_array_equal(even.plain_top, uneven.plain_top)
    np.testing.assert_array_equal(even.residual_top, uneven.residual_top)
    assert (even.plain_top > 0).all() and np.isfinite(even.residual_top).all()
    np.testing.assert_array_equal(even.path.steps, uneven.path.steps)
    for a, b in zip(even.checkpoint.weights, uneven.checkpoint.weights, strict=True):
        np.testing.assert_array_equal(a[0], b[0])  # recording never changes training


def test_curvature_off_and_bad_values() -> None:
    off = _frame(dataclasses.replace(SMALL, curvature_every=0), 8)
    assert off.curvature_steps.shape == (0,) and off.plain_top.shape == (2, 0)
    deepest = _frame(dataclasses.replace(SMALL, curvature_depths="deepest"), 8)  # the default: the cheap choice
    assert np.isnan(deepest.plain_top[0]).all() and np.isnan(deepest.residual_top[0]).all()
    np.testing.assert_array_equal(deepest.plain_top[1], _frame(SMALL, 8).plain_top[1])
    assert residual.ResidualConfig().curvature_depths == "deepest"
    with pytest.raises(ValueError, match="curvature_every"):
        dataclasses.replace(SMALL, curvature_every=-1)
    with pytest.raises(ValueError, match="path_points"):
        dataclasses.replace(SMALL, path_points=2)
    early = _frame(SMALL, 0)
    with pytest.raises(ValueError, match="a plane needs 3"):
        _finish(path_pair(early.checkpoint, early.path, 2))
