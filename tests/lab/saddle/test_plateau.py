"""A real network's plateau is a saddle: exact Hessian spectra of a small MLP started near zero."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.lab.core.protocol import run_sync
from explorer.lab.saddle import plateau


def _last(cfg: plateau.PlateauConfig) -> plateau.PlateauFrame:
    frame, failure, _ = run_sync(lambda: plateau.run(cfg), cfg.steps)
    assert failure is None, failure
    return frame


def test_the_spectrum_is_the_dense_hessians() -> None:
    cfg = plateau.PlateauConfig(hidden=3, init_scale=0.3, n_points=32, seed=4)
    x, y, student = plateau.task(cfg)
    params = tuple(p.detach().clone() for p in student.parameters())
    names = [n for n, _ in student.named_parameters()]

    def loss(*weights):
        out = torch.func.functional_call(student, dict(zip(names, weights, strict=True)), (x,))
        return torch.mean((out - y) ** 2)

    blocks = torch.autograd.functional.hessian(loss, params)
    sizes = [p.numel() for p in params]
    dense = torch.cat([torch.cat([blocks[i][j].reshape(sizes[i], sizes[j]) for j in range(len(params))], 1)
                       for i in range(len(params))])  # fmt: skip
    expected = np.linalg.eigvalsh(dense.numpy())
    np.testing.assert_allclose(plateau._Curvature(student, x, y).eigenvalues(), expected, atol=1e-10)


def test_a_near_zero_start_stalls_on_a_saddle_then_escapes() -> None:
    frame = _last(plateau.PlateauConfig())  # the tab's defaults
    assert frame.n_params == 4 * 8 + 8 + 8 * 8 + 8 + 8 + 1 and len(frame.spectrum) == frame.n_params
    plateau_level = frame.losses[40]
    on_plateau = (frame.steps >= 40) & (frame.losses > 0.99 * plateau_level)
    stalled = frame.steps[on_plateau]
    assert stalled.max() - stalled.min() >= 80  # the loss stands still for a long stretch
    assert np.all(frame.grad_norms[on_plateau][:40] < 0.02 * frame.grad_norms[0])  # with a tiny gradient
    during = (frame.curvature_steps >= stalled.min()) & (frame.curvature_steps <= stalled.max())
    assert during.sum() >= 5 and np.all(frame.lambda_min[during] < 0)  # yet a way down: a saddle
    assert np.all(frame.negative_fraction[during] > 0)
    assert frame.losses[-1] < 0.5 * plateau_level  # and training leaves it


def test_a_larger_start_has_no_such_plateau() -> None:
    frame = _last(plateau.PlateauConfig(init_scale=0.5, steps=120))
    assert np.all(np.diff(frame.losses[:60]) < 0) and frame.losses[60] < 0.8 * frame.losses[0]


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    cfg = plateau.PlateauConfig(steps=30, curvature_every=10)
    a, b = _last(cfg), _last(cfg)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.spectrum, b.spectrum)
    c = _last(plateau.PlateauConfig(steps=30, curvature_every=10, seed=1))
    assert not np.array_equal(a.losses, c.losses)


def test_negative_share_ignores_rounding_but_counts_real_negative_curvature() -> None:
    assert plateau.negative_fraction(np.array([-1e-9, 0.0, 1.0, 2.0])) == 0.0
    assert plateau.negative_fraction(np.array([-0.5, 0.0, 1.0, 2.0])) == 0.25
    assert plateau.negative_fraction(np.zeros(3)) == 0.0


@pytest.mark.parametrize(
    "bad", [{"hidden": 0}, {"hidden": 33}, {"init_scale": 0.0}, {"lr": float("nan")}, {"steps": 0}]
)
def test_configs_refuse_what_they_cannot_run(bad) -> None:
    with pytest.raises(ValueError):
        plateau.PlateauConfig(**bad)


def test_a_diverging_rate_stops_with_the_step() -> None:
    _, failure, _ = run_sync(lambda: plateau.run(plateau.PlateauConfig(lr=5.0, init_scale=1.0, steps=400)), 400)
    assert failure is not None and "step" in failure
