"""Curvature: Lanczos eigenvalues, Hutchinson trace, SLQ density and per-block curvature against the
dense Hessian (torch.autograd.functional.hessian) of small nets, seeds, the model left untouched, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from explorer.lab import curvature
from models import CNNConfig, MLPConfig, build_net, glyphs, two_spirals

Case = tuple[nn.Module, tuple[torch.Tensor, torch.Tensor]]


def _trained(net: nn.Module, X: torch.Tensor, y: torch.Tensor, steps: int) -> nn.Module:
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(steps):
        optimizer.zero_grad()
        F.cross_entropy(net(X), y).backward()
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return net.eval()


@pytest.fixture(scope="module")
def spirals() -> tuple[torch.Tensor, torch.Tensor]:
    X, y = two_spirals(64, 0.05, 0)
    return torch.from_numpy(X), torch.from_numpy(y)


@pytest.fixture(scope="module")
def mlp(spirals: tuple[torch.Tensor, torch.Tensor]) -> Case:
    """A batch-norm MLP (eval mode), partly trained so that its Hessian is indefinite."""
    return _trained(build_net(MLPConfig(2, 8, "tanh", "batchnorm"), seed=0), *spirals, steps=20), spirals


@pytest.fixture(scope="module")
def cnn() -> Case:
    X, y = glyphs(2, 0)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    return _trained(build_net(CNNConfig(1, 4, "relu", "batchnorm"), seed=1), X, y, steps=5), (X, y)


@pytest.fixture(scope="module")
def sequential(spirals: tuple[torch.Tensor, torch.Tensor]) -> Case:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 10), nn.Tanh(), nn.Linear(10, 2))
    return _trained(net, *spirals, steps=10), spirals


def dense_hessian(net: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> np.ndarray:
    """The (n, n) float64 Hessian of the mean cross-entropy w.r.t. all parameters, flat."""
    names = [n for n, _ in net.named_parameters()]
    shapes = [p.shape for p in net.parameters()]
    sizes = [p.numel() for p in net.parameters()]
    flat = torch.cat([p.detach().double().reshape(-1) for p in net.parameters()])
    buffers = {n: b.double() if b.is_floating_point() else b for n, b in net.named_buffers()}
    X, y = batch

    def loss(theta: torch.Tensor) -> torch.Tensor:
        params = {n: t.view(s) for n, t, s in zip(names, torch.split(theta, sizes), shapes, strict=True)}
        return F.cross_entropy(torch.func.functional_call(net, {**params, **buffers}, (X.double(),)), y)

    return torch.autograd.functional.hessian(loss, flat).numpy()


@pytest.fixture(scope="module")
def dense(mlp: Case, cnn: Case, sequential: Case) -> dict[str, np.ndarray]:
    return {"mlp": dense_hessian(*mlp), "cnn": dense_hessian(*cnn), "sequential": dense_hessian(*sequential)}


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_top_and_bottom_eigenvalues_equal_the_dense_hessians(
    name: str, request: pytest.FixtureRequest, dense: dict[str, np.ndarray]
) -> None:
    net, batch = request.getfixturevalue(name)
    exact = np.linalg.eigvalsh(dense[name])  # ascending
    radius = np.abs(exact).max()
    assert exact[0] < 0 < exact[-1]  # indefinite: "smallest" really is negative
    top = curvature.top_eigenvalues(net, F.cross_entropy, batch, k=5, dtype=torch.float64)
    np.testing.assert_allclose(top, exact[::-1][:5], rtol=0, atol=1e-8 * radius)
    bottom = curvature.top_eigenvalues(net, F.cross_entropy, batch, k=3, which="smallest", dtype=torch.float64)
    np.testing.assert_allclose(bottom, exact[:3], rtol=0, atol=1e-8 * radius)
    in_float32 = curvature.top_eigenvalues(net, F.cross_entropy, batch, k=2)
    np.testing.assert_allclose(in_float32, exact[::-1][:2], rtol=1e-4)


def test_eigenpairs_are_eigenpairs(mlp: Case, dense: dict[str, np.ndarray]) -> None:
    net, batch = mlp
    result = curvature.top_eigenpairs(net, F.cross_entropy, batch, k=2, dtype=torch.float64)
    assert result.converged and result.steps <= dense["mlp"].shape[0]
    vectors = result.vectors.numpy()  # (k, n)
    residual = dense["mlp"] @ vectors.T - vectors.T * result.values  # (n, k)
    assert np.abs(residual).max() < 1e-6 * np.abs(result.values).max()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-10)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_hutchinson_trace_is_within_its_standard_error_of_the_dense_trace(
    name: str, request: pytest.FixtureRequest, dense: dict[str, np.ndarray]
) -> None:
    net, batch = request.getfixturevalue(name)
    exact = np.trace(dense[name])
    estimate, error = curvature.hessian_trace(net, F.cross_entropy, batch, samples=300, dtype=torch.float64)
    assert 0 < error < 0.5 * abs(exact)
    assert abs(estimate - exact) < 4 * error
    # Hutchinson's variance for Rademacher vectors is 2 * sum of the squared off-diagonal entries.
    h = dense[name]
    predicted = math.sqrt(2 * ((h**2).sum() - (np.diag(h) ** 2).sum()) / 300)
    assert 0.7 * predicted < error < 1.3 * predicted
    single = curvature.hessian_trace(net, F.cross_entropy, batch, samples=1)
    assert math.isfinite(single.estimate) and math.isnan(single.standard_error)


@pytest.mark.parametrize(("name", "steps"), [("mlp", None), ("cnn", 60)])
def test_spectral_density_matches_the_dense_spectrum(
    name: str, steps: int | None, request: pytest.FixtureRequest, dense: dict[str, np.ndarray]
) -> None:
    net, batch = request.getfixturevalue(name)
    exact = np.linalg.eigvalsh(dense[name])
    radius = np.abs(exact).max()
    steps = steps or len(exact)  # None: as many steps as dimensions, where the rule is exact
    rule = curvature.spectral_quadrature(net, F.cross_entropy, batch, runs=3, steps=steps, dtype=torch.float64)
    np.testing.assert_allclose(rule.weights.sum(axis=1), 1.0, rtol=1e-10)
    if steps == len(exact):
        heavy = rule.nodes[rule.weights > 1e-8]
        assert np.abs(heavy[:, None] - exact[None, :]).min(axis=1).max() < 1e-6 * radius  # nodes are eigenvalues
    assert rule.extremes == pytest.approx((exact[0], exact[-1]), abs=1e-6 * radius)  # the ends converge first

    grid, density = curvature.spectral_density(net, F.cross_entropy, batch, runs=3, steps=steps, dtype=torch.float64)
    assert grid[0] <= exact[0] and grid[-1] >= exact[-1]  # the grid covers the extreme eigenvalues
    assert (density >= 0).all()
    assert curvature.density.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-12)
    # First moment: each run's Gauss rule integrates t exactly, to v^T H v, whose mean estimates tr(H) / n.
    mean = curvature.density.trapezoid(grid * density, grid)
    assert mean == pytest.approx((rule.nodes * rule.weights).sum(axis=1).mean(), abs=1e-4 * radius)
    assert abs(mean - exact.mean()) < 0.5 * np.abs(exact).mean()
    # Against the dense spectrum smoothed the same way: close in L1 even with three random vectors.
    width = rule.default_width()
    truth = np.exp(-0.5 * ((grid[:, None] - exact[None, :]) / width) ** 2).sum(axis=1)
    truth /= curvature.density.trapezoid(truth, grid)
    assert curvature.density.trapezoid(np.abs(density - truth), grid) < 0.6
    assert abs(rule.negative_mass - (exact < 0).mean()) < 0.2


def test_density_width_and_points(mlp: Case) -> None:
    net, batch = mlp
    grid, density = curvature.spectral_density(net, F.cross_entropy, batch, width=0.5, points=101, steps=20)
    assert grid.shape == density.shape == (101,)
    assert grid[-1] - grid[0] >= 8 * 0.5
    assert curvature.density.trapezoid(density, grid) == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["mlp", "cnn", "sequential"])
def test_per_block_top_eigenvalue_equals_the_dense_blocks(
    name: str, request: pytest.FixtureRequest, dense: dict[str, np.ndarray]
) -> None:
    net, batch = request.getfixturevalue(name)
    tops = curvature.per_block_top_eigenvalue(net, F.cross_entropy, batch, dtype=torch.float64)
    bounds = np.cumsum([0] + [p.numel() for p in net.parameters()])
    position = {n: i for i, (n, _) in enumerate(net.named_parameters())}
    blocks = curvature.model_blocks(net)
    assert list(tops) == [block for block, _ in blocks]
    for block, members in blocks:
        start, stop = bounds[position[members[0]]], bounds[position[members[-1]] + 1]
        exact = np.linalg.eigvalsh(dense[name][start:stop, start:stop])[-1]
        assert tops[block] == pytest.approx(exact, rel=1e-8, abs=1e-10)


def test_blocks_are_the_direct_children_with_parameters(mlp: Case, sequential: Case) -> None:
    assert [b for b, _ in curvature.model_blocks(sequential[0])] == ["0", "2", "4"]
    assert [b for b, _ in curvature.model_blocks(mlp[0])] == ["stem", "blocks.0", "blocks.1", "head"]


def test_same_seed_same_answer_and_the_model_is_left_untouched(spirals: tuple[torch.Tensor, torch.Tensor]) -> None:
    net = build_net(MLPConfig(2, 8, "relu", "batchnorm"), seed=0)  # train mode: batch statistics
    before = {k: v.clone() for k, v in net.state_dict().items()}
    batch = spirals
    runs = [
        (
            curvature.top_eigenvalues(net, F.cross_entropy, batch, k=3, seed=s, max_steps=6),
            curvature.hessian_trace(net, F.cross_entropy, batch, samples=5, seed=s),
            curvature.spectral_density(net, F.cross_entropy, batch, seed=s, steps=6),
            curvature.per_block_top_eigenvalue(net, F.cross_entropy, batch, seed=s, max_steps=4),
        )
        for s in (7, 7, 8)
    ]
    (top_a, trace_a, density_a, blocks_a), (top_b, trace_b, density_b, blocks_b), (_, trace_c, density_c, _) = runs
    np.testing.assert_array_equal(top_a, top_b)
    assert trace_a == trace_b and blocks_a == blocks_b
    np.testing.assert_array_equal(density_a.density, density_b.density)
    assert trace_c != trace_a and not np.array_equal(density_c.density, density_a.density)
    assert net.training
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k  # parameters and running statistics
    assert all(p.grad is None for p in net.parameters())


def test_bad_arguments_are_value_errors(mlp: Case) -> None:
    net, batch = mlp
    loss = F.cross_entropy
    cases = [
        ("k", lambda: curvature.top_eigenvalues(net, loss, batch, k=0)),
        ("k", lambda: curvature.top_eigenvalues(net, loss, batch, k=True)),
        ("k", lambda: curvature.top_eigenvalues(net, loss, batch, k=10**6)),
        ("which", lambda: curvature.top_eigenvalues(net, loss, batch, which="middle")),
        ("seed", lambda: curvature.top_eigenvalues(net, loss, batch, seed=-1)),
        ("tol", lambda: curvature.top_eigenvalues(net, loss, batch, tol=0.0)),
        ("samples", lambda: curvature.hessian_trace(net, loss, batch, samples=0)),
        ("width", lambda: curvature.spectral_density(net, loss, batch, width=-1.0)),
        ("width", lambda: curvature.spectral_density(net, loss, batch, width=math.inf)),
        ("points", lambda: curvature.spectral_density(net, loss, batch, points=1)),
        ("batch", lambda: curvature.hessian_trace(net, loss, batch[0])),
        ("inputs", lambda: curvature.hessian_trace(net, loss, (batch[0] * math.nan, batch[1]))),
        ("dtype", lambda: curvature.hessian_trace(net, loss, batch, dtype=torch.int64)),
        ("scalar", lambda: curvature.hessian_trace(net, lambda o, t: o.sum(dim=0), batch)),
    ]
    for word, call in cases:
        with pytest.raises(ValueError, match=word):
            call()
    broken = build_net(MLPConfig(1, 4), seed=0)
    with torch.no_grad():
        broken.stem.weight[0, 0] = math.inf
    with pytest.raises(ValueError, match="parameter"):
        curvature.hessian_trace(broken, loss, batch)


def test_denormal_flushing_is_the_callers_again_afterwards(mlp: Case) -> None:
    from explorer.lab.curvature.hvp import _flushing_denormals

    net, batch = mlp
    for setting in (False, True):
        torch.set_flush_denormal(setting)
        try:
            curvature.top_eigenvalues(net, F.cross_entropy, batch, k=1, max_steps=3)
            assert _flushing_denormals() == setting or not torch.set_flush_denormal(setting)  # no-op off x86
        finally:
            torch.set_flush_denormal(False)
