"""The "Residual networks" experiment: frames, branch ratios, decision boundaries and degradation."""

from __future__ import annotations

import dataclasses
from itertools import islice

import numpy as np
import pytest
import torch

from explorer.lab.core.protocol import Diverged
from explorer.lab.residual import residual
from models import MLPConfig, build_net

SMALL = residual.ResidualConfig(
    depths=(2, 5), width=8, n_points=64, batch_size=32, steps_per_frame=2, boundary_every=2, grid=12, window=3,
    device="cpu",
)  # fmt: skip


def test_frames_shapes_and_boundary_schedule() -> None:
    frames = list(islice(residual.run(SMALL), 4))
    assert [f.step for f in frames] == [0, 2, 4, 6]
    assert [f.boundary_step for f in frames] == [0, 0, 4, 4]  # every second frame
    last = frames[-1]
    assert last.depths == (2, 5)
    assert last.plain_losses.shape == last.residual_losses.shape == (2, 7) == last.plain_accuracies.shape
    assert last.steps.tolist() == list(range(7))
    assert last.ratio_steps.tolist() == [2.0, 4.0, 6.0]  # window of three frames
    assert [r.shape for r in last.branch_ratios] == [(2, 3), (5, 3)]
    assert all((r > 0).all() and np.isfinite(r).all() for r in last.branch_ratios)
    assert last.plain_boundary.shape == last.residual_boundary.shape == (2, 12, 12)
    assert last.plain_boundary.dtype == np.float32
    assert ((last.plain_boundary >= 0) & (last.plain_boundary <= 1)).all()
    assert last.grid_x.shape == (12,) and last.points.shape == (64, 2) and last.labels.shape == (64,)
    assert last.grid_x[0] < last.points[:, 0].min() and last.grid_x[-1] > last.points[:, 0].max()
    assert last.loss == last.plain_losses[1, -1]  # the deepest plain net
    assert frames[0].points is last.points  # shared, not copied per frame


def test_branch_ratio_is_norm_of_f_over_norm_of_x() -> None:
    net = build_net(MLPConfig(3, 8, residual=True))
    x = torch.randn(10, 2)
    with residual.branch_ratios(net) as result:
        net(x)
    h = net.stem(x)
    expected = []
    for block in net.blocks:
        f = block.branch(h)
        expected.append((f.norm() / h.norm()).item())
        h = h + f
    np.testing.assert_allclose(result[0].detach().numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError), residual.branch_ratios(build_net(MLPConfig(2, 4))):
        pass


def test_deterministic_and_diverges_on_huge_lr() -> None:
    a = list(islice(residual.run(SMALL), 3))[-1]
    b = list(islice(residual.run(SMALL), 3))[-1]
    np.testing.assert_array_equal(a.residual_losses, b.residual_losses)
    np.testing.assert_array_equal(a.plain_boundary, b.plain_boundary)
    with pytest.raises(Diverged):
        for _ in islice(residual.run(dataclasses.replace(SMALL, norm="none", lr=1e8)), 40):
            pass


@pytest.mark.slow
def test_degradation_deeper_plain_net_trains_worse() -> None:
    """He et al. (2016), Fig. 1 in miniature: with the defaults, plain 56 ends above plain 8 in training
    loss, while the residual 56 trains as well as the shallow nets."""
    cfg = dataclasses.replace(residual.ResidualConfig(device="cpu"), depths=(8, 56), boundary_every=1000)
    frame = list(islice(residual.run(cfg), 21))[-1]  # 200 steps
    plain = frame.plain_losses[:, -50:].mean(axis=1)
    res = frame.residual_losses[:, -50:].mean(axis=1)
    assert plain[1] > 3 * plain[0]
    assert res[1] < plain[1] / 3
