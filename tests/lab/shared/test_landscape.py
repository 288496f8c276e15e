"""Loss landscapes: exact centre, batched evaluation against the per-point loop, directions, progress."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from explorer.lab import landscape
from explorer.lab.core.protocol import run_job
from models import CNNConfig, MLPConfig, build_net, glyphs, two_spirals


def _trained(config: MLPConfig | CNNConfig, X: torch.Tensor, y: torch.Tensor, steps: int = 30) -> torch.nn.Module:
    net = build_net(config, seed=0)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(net(X), y).backward()
        optimizer.step()
    return net


@pytest.fixture(scope="module")
def spirals() -> tuple[torch.Tensor, torch.Tensor]:
    X, y = two_spirals(128, 0.05, 0)
    return torch.from_numpy(X), torch.from_numpy(y)


def test_centre_equals_the_trained_models_loss_exactly(spirals: tuple[torch.Tensor, torch.Tensor]) -> None:
    X, y = spirals
    net = _trained(MLPConfig(4, 16, "relu", "batchnorm"), X, y)
    result = run_job(landscape.landscape(net, X, y, landscape.LandscapeConfig(resolution=9, span=0.5)))
    net.eval()
    with torch.no_grad():
        trained_loss = F.cross_entropy(net(X), y).item()
    assert result.losses[4, 4] == trained_loss == result.center_loss
    assert result.alphas[4] == 0.0 and result.betas[4] == 0.0
    assert net.training is False  # the caller's mode is restored (it was set to eval above)
    assert np.isfinite(result.losses).all() and result.losses.shape == (9, 9)
    assert result.losses.min() >= 0


@pytest.mark.parametrize(
    "config",
    [MLPConfig(4, 8, "sigmoid", "layernorm", residual=True), MLPConfig(3, 8, "gelu", "batchnorm")],
)
def test_grid_matches_the_per_point_loop(config: MLPConfig, spirals: tuple[torch.Tensor, torch.Tensor]) -> None:
    X, y = spirals
    net = _trained(config, X, y, steps=10)
    cfg = landscape.LandscapeConfig(resolution=5, span=1.0, seed=3, points_per_batch=4)
    result = run_job(landscape.landscape(net, X, y, cfg))
    d1, d2 = landscape.filter_normalized_directions(net, cfg.seed)
    naive = [[landscape.loss_at(net, X, y, d1, d2, a, b) for a in result.alphas] for b in result.betas]
    np.testing.assert_allclose(result.losses, naive, rtol=1e-5)


def test_batched_cnn_matches_the_per_point_loop() -> None:
    X, y = glyphs(3, 0)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    for residual in (False, True):
        net = _trained(CNNConfig(4, 4, "relu", "batchnorm", residual=residual), X, y, steps=3).eval()
        d1, d2 = landscape.filter_normalized_directions(net, 0)
        ab = torch.tensor([[0.2, -0.1], [-0.4, 0.3]])
        batched = landscape.batched_losses(net, X, y, d1, d2, ab, chunk=7)
        naive = [landscape.loss_at(net, X, y, d1, d2, a.item(), b.item()) for a, b in ab]
        np.testing.assert_allclose(batched.numpy(), naive, rtol=1e-5)


def test_directions_are_filter_normalized_and_shared_between_plain_and_residual() -> None:
    plain = build_net(MLPConfig(3, 8), seed=0)
    residual = build_net(MLPConfig(3, 8, residual=True), seed=5)  # other weights, same shapes
    d_plain, _ = landscape.filter_normalized_directions(plain, seed=1)
    d_res, e_res = landscape.filter_normalized_directions(residual, seed=1)
    for name, p in plain.named_parameters():
        d = d_plain[name]
        if p.ndim == 1:
            assert torch.count_nonzero(d) == 0  # biases and norm parameters stay put
            continue
        torch.testing.assert_close(d.norm(dim=1), p.detach().norm(dim=1))  # filter by filter
        # Same seed and name: the same random direction before scaling to each net's filters.
        q = dict(residual.named_parameters())[name].detach()
        torch.testing.assert_close(d / p.detach().norm(dim=1, keepdim=True), d_res[name] / q.norm(dim=1, keepdim=True))
        assert not torch.allclose(d_res[name], e_res[name])  # two different directions


def test_grid_order_visits_every_point_once_coarse_first() -> None:
    levels = list(landscape.grid_order(21))
    strides = [s for s, _ in levels]
    assert strides == sorted(strides, reverse=True) and strides[-1] == 1
    points = np.concatenate([p for _, p in levels])
    assert len(points) == 21 * 21 - 1
    assert len({tuple(p) for p in points}) == len(points) and [10, 10] not in points.tolist()


def test_progress_is_partial_then_complete_and_cancellable(spirals: tuple[torch.Tensor, torch.Tensor]) -> None:
    X, y = spirals
    net = build_net(MLPConfig(2, 8))
    job = landscape.landscape(net, X, y, landscape.LandscapeConfig(resolution=21, points_per_batch=8))
    first = next(job)
    assert 0 < first.fraction < 1
    partial = first.partial
    assert isinstance(partial, landscape.PartialLandscape)
    assert np.isnan(partial.losses).any() and np.isfinite(partial.preview).all()
    assert partial.losses.shape == partial.preview.shape == (21, 21) and partial.alphas.shape == (21,)
    job.close()  # Cancel: stop at a yield
    assert net.training  # restored on cancel
    fractions = [p.fraction for p in landscape.landscape(net, X, y, landscape.LandscapeConfig(resolution=7))]
    assert fractions[-1] == 1.0 and np.all(np.diff(fractions) > 0)


def test_config_validation() -> None:
    for bad in ({"resolution": 50}, {"resolution": 103}, {"span": 0.0}):
        with pytest.raises(ValueError):
            landscape.LandscapeConfig(**bad)
