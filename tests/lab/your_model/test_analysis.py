"""Your model's analyses against direct computations: the landscape grid, the PCA path, the line, the spectrum."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.lab.core.protocol import run_job, run_sync
from explorer.lab.your_model import analysis
from explorer.lab.your_model.experiment import YourModelConfig, run

TINY = """
import torch
from torch import nn

def model():
    return nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))

def data():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(48, 2, generator=g, dtype=torch.float64)
    return x.float(), (torch.sin(x[:, :1]) + 0.5 * x[:, 1:]).float()
"""


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    path = tmp_path_factory.mktemp("user") / "tiny.py"
    path.write_text(TINY)
    cfg = YourModelConfig(model_path=str(path), steps=60, lr=0.05, curvature_every=0, path_every=2)
    frame, failure, _ = run_sync(lambda: run(cfg), cfg.steps)
    assert failure is None, failure
    return frame.snapshot


def _loss(snapshot, params: dict[str, torch.Tensor]) -> float:
    model = snapshot.model()
    with torch.no_grad():
        out = torch.func.functional_call(model, params, (snapshot.task.inputs,))
        return float(snapshot.task.loss_fn(out, snapshot.task.targets))


def test_the_random_landscape_is_the_loss_at_each_grid_point(snapshot):
    surface = run_job(analysis.landscape(snapshot, "random", resolution=7, span=0.8, seed=3))
    assert surface.complete and np.all(np.isfinite(surface.losses)) and surface.path.shape == (0, 2)
    assert surface.losses[3, 3] == pytest.approx(_loss(snapshot, snapshot.state), rel=1e-6)
    from explorer.lab.landscape import filter_normalized_directions

    d1, d2 = filter_normalized_directions(snapshot.model(), 3)
    i, j = 1, 5  # beta index, alpha index
    a, b = surface.alphas[j], surface.betas[i]
    moved = {n: t + a * d1[n] + b * d2[n] for n, t in snapshot.state.items()}
    assert surface.losses[i, j] == pytest.approx(_loss(snapshot, moved), rel=1e-5)


def test_the_pca_plane_carries_the_whole_path_ending_at_the_weights(snapshot):
    surface = run_job(analysis.landscape(snapshot, "pca", resolution=9))
    assert surface.path.shape == (len(snapshot.path), 2) and np.allclose(surface.path[-1], 0.0, atol=1e-6)
    assert np.all(np.abs(surface.path) <= surface.alphas[-1] + 1e-9)  # the grid spans the path
    assert 0.0 < surface.explained.sum() <= 1.0 + 1e-9 and surface.explained[0] >= surface.explained[1]


def test_the_line_runs_from_the_initialization_to_the_weights(snapshot):
    line = run_job(analysis.line_from_initialization(snapshot, n=11))
    assert line.t[0] == 0.0 and line.t[-1] == 1.0
    assert line.losses[0] == pytest.approx(_loss(snapshot, snapshot.initial), rel=1e-6)
    assert line.losses[-1] == pytest.approx(_loss(snapshot, snapshot.state), rel=1e-6)


def test_the_spectrum_agrees_with_the_dense_hessian(snapshot):
    result = run_job(analysis.spectrum(snapshot, seed=0))
    model = snapshot.model().double()
    names = [n for n, _ in model.named_parameters()]
    x, y = snapshot.task.inputs.double(), snapshot.task.targets.double()
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    sizes = [p.numel() for p in model.parameters()]
    shapes = [p.shape for p in model.parameters()]

    def loss(theta):
        chunks = torch.split(theta, sizes)
        params = {n: c.view(s) for n, c, s in zip(names, chunks, shapes, strict=True)}
        return snapshot.task.loss_fn(torch.func.functional_call(model, params, (x,)), y)

    dense = np.linalg.eigvalsh(torch.autograd.functional.hessian(loss, flat).numpy())[::-1]
    np.testing.assert_allclose(result.top, dense[: len(result.top)], rtol=1e-3, atol=1e-5)
    assert result.blocks == ("0", "2") and np.all(np.isfinite(result.block_tops))
    assert np.trapezoid(result.density, result.grid) == pytest.approx(1.0, abs=1e-3)


def test_bad_requests_are_refused(snapshot):
    with pytest.raises(ValueError, match="directions"):
        run_job(analysis.landscape(snapshot, "sideways"))
    with pytest.raises(ValueError, match="odd"):
        run_job(analysis.landscape(snapshot, "random", resolution=8))
