"""Checkpoints of the residual experiment, its end step, and the paired plain/residual landscapes."""

from __future__ import annotations

import dataclasses
from itertools import islice

import numpy as np
import pytest
import torch

from explorer.lab import landscape
from explorer.lab.core.protocol import run_job
from explorer.lab.residual import residual, residual_landscape

SMALL = residual.ResidualConfig(
    depths=(2, 5), width=8, n_points=64, batch_size=32, steps_per_frame=2, boundary_every=2, grid=12, window=3,
    device="cpu",
)  # fmt: skip


def _grid(frame: residual.ResidualFrame) -> torch.Tensor:
    gx, gy = np.meshgrid(frame.grid_x, frame.grid_y, indexing="xy")
    return torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32)


def test_checkpoint_rebuilds_the_nets_of_its_frame_exactly() -> None:
    frames = list(islice(residual.run(SMALL), 3))
    frame = frames[-1]  # step 4, boundaries computed at step 4 from the same weights
    assert frame.boundary_step == frame.checkpoint.step == frame.step == 4
    for i, depth in enumerate(SMALL.depths):
        plain, res = frame.checkpoint.nets(depth)
        assert not plain.training and res.blocks[0].shortcut is not None and plain.blocks[0].shortcut is None
        np.testing.assert_array_equal(residual.decision_boundary(plain, _grid(frame), 12), frame.plain_boundary[i])
        np.testing.assert_array_equal(residual.decision_boundary(res, _grid(frame), 12), frame.residual_boundary[i])
    with pytest.raises(ValueError, match="depth 3"):
        frame.checkpoint.nets(3)


def test_checkpoint_is_a_copy_that_later_training_leaves_alone() -> None:
    run = residual.run(SMALL)
    first = next(run)
    kept = [w.copy() for pair in first.checkpoint.weights for w in pair]
    later = list(islice(run, 3))[-1]
    now = [w for pair in first.checkpoint.weights for w in pair]
    assert all(np.array_equal(a, b) for a, b in zip(kept, now, strict=True))
    assert not np.array_equal(later.checkpoint.weights[0][0], first.checkpoint.weights[0][0])
    assert not first.checkpoint.weights[0][0].flags.writeable


def test_steps_ends_the_run_with_a_frame_at_that_step() -> None:
    frames = list(residual.run(dataclasses.replace(SMALL, steps=5)))
    assert [f.step for f in frames] == [0, 2, 4, 5]
    assert frames[-1].boundary_step == 5  # the final pictures are of the final nets
    assert frames[-1].steps[-1] == 5.0
    with pytest.raises(ValueError):
        residual.ResidualConfig(steps=-1)


def test_pair_centre_is_each_models_loss_and_the_scale_is_shared() -> None:
    frame = list(islice(residual.run(SMALL), 3))[-1]
    cfg = landscape.LandscapeConfig(resolution=7, span=0.5, points_per_batch=8)
    pair = run_job(residual_landscape.landscape_pair(frame.checkpoint, 5, cfg))
    assert pair.complete and pair.depth == 5 and pair.step == 4
    X, y = torch.tensor(frame.points), torch.tensor(frame.labels)
    for net, losses, centre in zip(frame.checkpoint.nets(5), pair.losses, pair.center_losses, strict=True):
        assert losses[3, 3] == centre == landscape.model_loss(net, X, y)
        assert np.isfinite(losses).all() and losses.shape == (7, 7)
    low, high = pair.color_range
    both = np.log10(np.concatenate([loss.ravel() for loss in pair.losses]))
    assert low == pytest.approx(both.min()) and high == pytest.approx(both.max())
    assert len(pair.levels) == residual_landscape.N_LEVELS and low < pair.levels[0] < pair.levels[-1] < high
    assert all(len(c) > 0 and len(c) % 2 == 0 for c in pair.contours)
    # the same raw directions for both nets: only the filter norms differ
    plain, res = frame.checkpoint.nets(5)
    (d_plain, _), (d_res, _) = (landscape.filter_normalized_directions(n, cfg.seed) for n in (plain, res))
    name = "blocks.2.branch.2.weight"
    scale = dict(plain.named_parameters())[name].norm(dim=1, keepdim=True)
    scale_res = dict(res.named_parameters())[name].norm(dim=1, keepdim=True)
    torch.testing.assert_close(d_plain[name] / scale, d_res[name] / scale_res)


def test_cap_tops_the_colour_scale_but_not_the_losses() -> None:
    frame = list(islice(residual.run(SMALL), 3))[-1]
    cfg = landscape.LandscapeConfig(resolution=5, span=2.0)
    free = run_job(residual_landscape.landscape_pair(frame.checkpoint, 5, cfg))
    cap = float(np.median(np.concatenate([loss.ravel() for loss in free.losses])))
    capped = residual_landscape.recapped(free, cap)
    assert capped.color_range[1] == pytest.approx(np.log10(cap))
    assert capped.color_range[1] < free.color_range[1]
    assert max(s.max() for s in capped.shown) == pytest.approx(np.log10(cap))
    assert all(np.array_equal(a, b) for a, b in zip(capped.losses, free.losses, strict=True))
    assert capped.levels[-1] < np.log10(cap) and capped.cap == cap
    direct = run_job(residual_landscape.landscape_pair(frame.checkpoint, 5, cfg, cap=cap))
    np.testing.assert_array_equal(direct.shown[0], capped.shown[0])


def test_pair_is_progressive_and_cancellable() -> None:
    frame = next(residual.run(SMALL))
    cfg = landscape.LandscapeConfig(resolution=21, points_per_batch=8)
    job = residual_landscape.landscape_pair(frame.checkpoint, 2, cfg, partial_every_s=0.0)
    reports = list(islice(job, 12))
    fractions = [r.fraction for r in reports]
    assert np.all(np.diff(fractions) > 0) and fractions[-1] < 1
    first, later = reports[0].partial, reports[-1].partial
    assert not first.complete and np.isnan(first.losses[0]).any()
    assert all(np.isfinite(s).all() for s in first.shown)  # hole-free preview from the first batch on
    assert len(later.contours[0]) > 0  # traced on the first finished lattice
    job.close()  # Cancel
    assert "points each" in reports[0].message
    # at most one partial result a minute here: only the first report carries one
    sparse = list(islice(residual_landscape.landscape_pair(frame.checkpoint, 2, cfg, partial_every_s=60.0), 5))
    assert sparse[0].partial is not None and all(r.partial is None for r in sparse[1:])


def test_smoothed_loss_is_the_bias_corrected_moving_average() -> None:
    values = np.array([[4.0, 2.0, 8.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    w = 0.7
    expected = [[sum(w**k * row[t - k] for k in range(t + 1)) / sum(w**k for k in range(t + 1)) for t in range(4)]
                for row in values]  # fmt: skip
    np.testing.assert_allclose(residual.smoothed(values, w), expected)
    np.testing.assert_array_equal(residual.smoothed(values, 0.0), values)
    frame = list(islice(residual.run(SMALL), 2))[-1]
    np.testing.assert_allclose(frame.plain_smoothed, residual.smoothed(frame.plain_losses, SMALL.smoothing))
