"""Your model, trained live: per-parameter gradient norms as computed by hand, seeds, weights files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.lab.core.protocol import run_sync
from explorer.lab.your_model import loader
from explorer.lab.your_model.experiment import YourModelConfig, run

TINY = """
import torch
from torch import nn

def model():
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))

def data():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(40, 2, generator=g)
    return x, (x[:, 0] * x[:, 1] > 0).long()
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(TINY)
    return path


def _last(cfg: YourModelConfig):
    frame, failure, _ = run_sync(lambda: run(cfg), cfg.steps)
    assert failure is None, failure
    return frame


def test_the_first_steps_gradient_norms_are_the_models_own(tiny):
    cfg = YourModelConfig(model_path=str(tiny), steps=1, batch_size=8, curvature_every=0, seed=5)
    frame = _last(cfg)
    task = loader.load(tiny, seed=5)  # the same initialization, the same first minibatch
    idx = torch.randint(len(task.inputs), (8,), generator=torch.Generator().manual_seed(6))
    loss = task.loss_fn(task.model(task.inputs[idx]), task.targets[idx])
    loss.backward()
    expected = [float(p.grad.norm()) for p in task.model.parameters()]
    assert frame.parameter_names == ("0.weight", "0.bias", "2.weight", "2.bias")
    np.testing.assert_allclose(frame.grad_norms[0], expected, rtol=1e-5)
    np.testing.assert_allclose(frame.losses[0], float(loss.detach()), rtol=1e-6)
    assert frame.ratio_pair == ("0.weight", "2.weight")  # weights, not the output bias
    assert frame.first_last_ratio[0] == pytest.approx(expected[0] / expected[2], rel=1e-5)


def test_the_same_seed_gives_the_same_run_and_another_seed_another(tiny):
    cfg = YourModelConfig(model_path=str(tiny), steps=30, curvature_every=10)
    a, b = _last(cfg), _last(cfg)
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.top_eigenvalues, b.top_eigenvalues)
    c = _last(YourModelConfig(model_path=str(tiny), steps=30, curvature_every=10, seed=1))
    assert not np.array_equal(a.losses, c.losses)


def test_the_shipped_examples_learn(tiny):
    for example in loader.examples():
        frame = _last(YourModelConfig(model_path=str(example), steps=300, curvature_every=100))
        assert frame.val_accuracies[-1] > 0.9, example.name  # both are classification tasks with validation()
        assert len(frame.top_eigenvalues) == 3 and np.all(np.isfinite(frame.top_eigenvalues))
        assert len(frame.snapshot.path) >= 3 and frame.snapshot.step == 300


def test_a_weights_file_starts_from_those_weights(tiny, tmp_path):
    trained = _last(YourModelConfig(model_path=str(tiny), steps=60, curvature_every=0))
    weights = tmp_path / "trained.pt"
    torch.save(trained.snapshot.state, weights)
    resumed, failure, _ = run_sync(lambda: run(YourModelConfig(model_path=str(tiny), weights=str(weights))), 0)
    assert failure is None
    for name, tensor in trained.snapshot.state.items():
        torch.testing.assert_close(resumed.snapshot.state[name], tensor)


def test_a_diverging_rate_stops_with_the_step(tmp_path):
    path = tmp_path / "line.py"
    path.write_text("import torch\nfrom torch import nn\n"
                    "def model():\n    return nn.Linear(3, 1)\n"
                    "def data():\n    x = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))\n"
                    "    return 10 * x, x.sum(1, keepdim=True)\n")  # fmt: skip
    cfg = YourModelConfig(model_path=str(path), lr=5.0, optimizer="sgd", steps=400, curvature_every=0)
    _, failure, _ = run_sync(lambda: run(cfg), 400)
    assert failure is not None and "step" in failure


def test_configs_refuse_what_they_cannot_run():
    for bad in ({"optimizer": "lbfgs"}, {"lr": 0.0}, {"steps": 0}, {"path_points": 2}, {"memory_limit_gb": -1.0}):
        with pytest.raises(ValueError):
            YourModelConfig(**bad)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_device_menus_cuda_trains_the_example_there_and_agrees_with_the_cpu():
    example = str(loader.examples()[0])
    on_cpu = _last(YourModelConfig(model_path=example, steps=20, curvature_every=10, device="cpu"))
    on_gpu = _last(YourModelConfig(model_path=example, steps=20, curvature_every=10, device="cuda"))
    assert np.all(np.isfinite(on_gpu.losses)) and np.all(np.isfinite(on_gpu.top_eigenvalues))
    np.testing.assert_allclose(on_gpu.losses[0], on_cpu.losses[0], rtol=1e-3)  # the same seed, the same start
