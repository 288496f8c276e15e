"""Trajectories: PCA directions against numpy's SVD, projections, straight lines stay straight,
1-D interpolation, and landscapes cut along PCA directions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from explorer.lab import landscape, trajectory
from explorer.lab.core.protocol import run_job
from models import MLPConfig, build_net, two_spirals


@pytest.fixture(scope="module")
def spirals() -> tuple[torch.Tensor, torch.Tensor]:
    X, y = two_spirals(64, 0.05, 0)
    return torch.from_numpy(X), torch.from_numpy(y)


@pytest.fixture(scope="module")
def path(spirals: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.nn.Module, list[dict[str, torch.Tensor]]]:
    """A batch-norm MLP trained 40 steps, and its state dict every 4 steps (11 checkpoints)."""
    X, y = spirals
    net = build_net(MLPConfig(2, 8, "relu", "batchnorm"), seed=0)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.2)
    states = []
    for step in range(41):
        if step % 4 == 0:
            states.append({k: v.clone() for k, v in net.state_dict().items()})
        optimizer.zero_grad()
        F.cross_entropy(net(X), y).backward()
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return net.eval(), states


def _numpy_pca(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    steps = rows[:-1] - rows[-1]
    _, s, vt = np.linalg.svd(steps - steps.mean(axis=0), full_matrices=False)
    return vt[:2], s[:2] ** 2 / (s**2).sum()


def test_pca_directions_match_numpys_svd() -> None:
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(size=(12, 300)) * np.linspace(3, 0.1, 300), axis=0)  # (n, P)
    d1, d2, explained = trajectory.pca_directions(list(walk))
    vt, ratio = _numpy_pca(walk)
    np.testing.assert_allclose(explained, ratio, rtol=1e-10)
    for d, v in ((d1, vt[0]), (d2, vt[1])):
        assert isinstance(d, torch.Tensor) and d.dtype == torch.float64 and d.shape == (300,)
        assert abs(float(d.numpy() @ v)) == pytest.approx(1.0, abs=1e-10)
    assert float(d1 @ d2) == pytest.approx(0.0, abs=1e-12)
    coords = trajectory.project(list(walk), d1, d2)
    assert coords[0, 0] < 0 and coords[0, 1] < 0  # signs: the path runs towards +d
    np.testing.assert_array_equal(coords[-1], [0.0, 0.0])


def test_state_dicts_give_the_directions_of_flat_parameters(path: tuple) -> None:
    net, states = path
    by_dict = trajectory.pca_directions(states)
    assert set(by_dict.d1) == {n for n, _ in net.named_parameters()}  # running statistics left out
    flat = []
    for state in states:
        net.load_state_dict(state)
        flat.append(trajectory.flat_parameters(net))
    by_vector = trajectory.pca_directions(flat)
    np.testing.assert_allclose(by_dict.explained_variance, by_vector.explained_variance, rtol=1e-10)
    d1 = torch.cat([v.reshape(-1) for v in by_dict.d1.values()])
    torch.testing.assert_close(d1, by_vector.d1)
    np.testing.assert_allclose(trajectory.project(states, *by_dict[:2]), trajectory.project(flat, *by_vector[:2]))
    np.testing.assert_allclose(trajectory.project(states, *by_vector[:2]), trajectory.project(flat, *by_vector[:2]))
    assert by_dict.explained_variance.sum() <= 1 and by_dict.explained_variance[0] >= by_dict.explained_variance[1]


def test_a_straight_line_projects_to_a_straight_line() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=500), rng.normal(size=500)
    ts = np.sort(rng.uniform(size=9)) ** 2  # uneven steps along the line
    line = [a + t * (b - a) for t in [*ts, 1.0]]
    d1, d2, explained = trajectory.pca_directions(line)
    np.testing.assert_allclose(explained, [1.0, 0.0], atol=1e-12)
    coords = trajectory.project(line, d1, d2)  # (n, 2)
    np.testing.assert_allclose(coords[:, 1], 0.0, atol=1e-10)
    np.testing.assert_allclose(coords[:, 0], -(1 - np.array([*ts, 1.0])) * np.linalg.norm(b - a), rtol=1e-10)
    # On any plane, PCA or random and non-orthogonal, the points stay collinear.
    r1, r2 = torch.from_numpy(rng.normal(size=500)), torch.from_numpy(rng.normal(size=500))
    coords = trajectory.project(line, r1, r2)
    offsets = coords - coords[0]
    cross = offsets[:, 0] * offsets[-1, 1] - offsets[:, 1] * offsets[-1, 0]
    np.testing.assert_allclose(cross, 0.0, atol=1e-9 * np.abs(offsets).max() ** 2)


def test_project_recovers_known_coordinates_on_a_skewed_plane() -> None:
    rng = np.random.default_rng(2)
    d1 = rng.normal(size=50)
    d2 = d1 + 0.3 * rng.normal(size=50)  # far from orthogonal
    end = rng.normal(size=50)
    known = np.array([[2.0, -3.0], [0.5, 0.25], [0.0, 0.0]])
    points = [end + alpha * d1 + beta * d2 for alpha, beta in known]
    np.testing.assert_allclose(trajectory.project(points, d1, d2), known, atol=1e-10)


def test_interpolation_runs_from_theta_a_to_theta_b(path: tuple, spirals: tuple[torch.Tensor, torch.Tensor]) -> None:
    net, states = path
    net.load_state_dict(states[-1])
    net.train()  # batch statistics: the model's running statistics must still not move
    before = {k: v.clone() for k, v in net.state_dict().items()}
    result = trajectory.interpolate(net, states[0], states[-1], F.cross_entropy, spirals, n=11)
    assert result.t.shape == result.losses.shape == (11,)
    assert result.t[0] == 0.0 and result.t[-1] == 1.0
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k
    with torch.no_grad():
        assert result.losses[-1] == pytest.approx(F.cross_entropy(net(spirals[0]), spirals[1]).item(), rel=1e-6)
    net.eval()
    flat = trajectory.interpolate(
        net, trajectory.flat_parameters(net) * 0.5, trajectory.flat_parameters(net), F.cross_entropy, spirals, n=3
    )
    with torch.no_grad():
        assert flat.losses[-1] == F.cross_entropy(net(spirals[0]), spirals[1]).item()
    assert np.isfinite(flat.losses).all() and all(p.grad is None for p in net.parameters())


def test_landscape_on_pca_directions(path: tuple, spirals: tuple[torch.Tensor, torch.Tensor]) -> None:
    net, states = path
    net.load_state_dict(states[-1])
    net.eval()
    X, y = spirals
    d1, d2, _ = trajectory.pca_directions(states)
    directions = (trajectory.as_directions(net, d1), trajectory.as_directions(net, d2))
    cfg = landscape.LandscapeConfig(resolution=5, span=2.0, points_per_batch=4)
    grid = run_job(landscape.landscape(net, X, y, cfg, directions=directions))
    naive = [[landscape.loss_at(net, X, y, *directions, a, b) for a in grid.alphas] for b in grid.betas]
    np.testing.assert_allclose(grid.losses, naive, rtol=1e-5)
    random = run_job(landscape.landscape(net, X, y, cfg))
    assert grid.center_loss == random.center_loss and not np.allclose(grid.losses, random.losses)


def test_bad_arguments_are_value_errors(path: tuple, spirals: tuple[torch.Tensor, torch.Tensor]) -> None:
    net, states = path
    flat = [trajectory.flat_parameters(net)] * 2
    vector = trajectory.flat_parameters(net)
    cases = [
        ("at least 3", lambda: trajectory.pca_directions(flat)),
        ("one point", lambda: trajectory.pca_directions(flat * 2)),
        ("sequence", lambda: trajectory.pca_directions([])),
        ("finite", lambda: trajectory.pca_directions([vector, vector * np.nan, vector])),
        ("same number", lambda: trajectory.pca_directions([vector, vector[:-1], vector])),
        ("mixed", lambda: trajectory.pca_directions([states[0], vector, vector])),
        ("independent", lambda: trajectory.project(flat, vector, 2 * vector)),
        ("n must", lambda: trajectory.interpolate(net, vector, vector, F.cross_entropy, spirals, n=1)),
        ("batch", lambda: trajectory.interpolate(net, vector, vector, F.cross_entropy, spirals[0])),
        ("theta_b", lambda: trajectory.interpolate(net, vector, vector[:-1], F.cross_entropy, spirals)),
        ("theta_a", lambda: trajectory.interpolate(net, {"nope": vector}, vector, F.cross_entropy, spirals)),
        ("direction", lambda: trajectory.as_directions(net, vector[:-1])),
    ]
    for words, call in cases:
        with pytest.raises(ValueError, match=words):
            call()
