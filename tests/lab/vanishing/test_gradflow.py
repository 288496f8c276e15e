"""Gradient flow: the probe against plain autograd, the textbook depth result, and the live experiment."""

from __future__ import annotations

import dataclasses
from itertools import islice

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from explorer.lab.core.protocol import Diverged, Progress
from explorer.lab.core.training import load_task
from explorer.lab.gradprobe import GradFlowProbe, hidden_ratio
from explorer.lab.vanishing import gradflow
from models import CNNConfig, MLPConfig, build_net

SMALL = gradflow.GradFlowConfig(depth=4, width=8, n_points=64, batch_size=16, steps_per_frame=3, window=5, device="cpu")


def _autograd_norms(net: torch.nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer weight-grad norms and ||dL/dh|| the straightforward way: torch.autograd.grad, then norms."""
    hidden: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda m, i, o: hidden.append(o)) for m in [net.stem, *net.blocks]]
    loss = F.cross_entropy(net(X), y)
    for hook in hooks:
        hook.remove()
    groups = net.layer_weights()
    flat = [w for g in groups for w in g]
    grads = torch.autograd.grad(loss, flat + hidden)
    per_tensor = [g.double().norm().item() for g in grads[: len(flat)]]
    layer, i = [], 0
    for g in groups:
        layer.append(np.sqrt(sum(n**2 for n in per_tensor[i : i + len(g)])))
        i += len(g)
    return np.array(layer), np.array([g.double().norm().item() for g in grads[len(flat) :]])


@pytest.mark.parametrize(
    "config",
    [
        MLPConfig(5, 8, "tanh"),
        MLPConfig(5, 8, "relu", "batchnorm", residual=True),
        CNNConfig(4, 4, "relu", "layernorm", residual=True),
        CNNConfig(3, 4, "sigmoid"),
    ],
)
def test_probe_equals_plain_autograd(config: MLPConfig | CNNConfig) -> None:
    shape = (16, 2) if isinstance(config, MLPConfig) else (16, 1, 16, 16)
    X = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    y = torch.arange(16) % config.n_classes
    reference = build_net(config, seed=4)
    want_w, want_h = _autograd_norms(reference, X, y)

    net = build_net(config, seed=4)
    probe = GradFlowProbe(net, capacity=4)
    logits = net(X)
    loss = F.cross_entropy(logits, y)
    probe.watch()
    loss.backward()
    probe.record(loss, (logits.argmax(1) == y).float().mean())
    losses, accs, weight_norms, act_norms = probe.drain()
    assert weight_norms.shape == (1, net.n_blocks + 2) and act_norms.shape == (1, net.n_blocks + 1)
    np.testing.assert_allclose(weight_norms[0], want_w, rtol=1e-5)
    np.testing.assert_allclose(act_norms[0], want_h, rtol=1e-5)
    assert losses[0] == pytest.approx(loss.item())
    assert 0 <= accs[0] <= 1
    probe.close()
    assert net.hidden_tap is None


def test_grad_norms_at_init_shape_and_order() -> None:
    norms = gradflow.grad_norms_at_init(depth=6, width=8, n_points=32)
    assert norms.shape == (8,) and norms.dtype == np.float64
    # Input layer first: index 0 is the stem's Linear(2, width), the last the head.
    net = build_net(MLPConfig(6, 8, "sigmoid"), 0, dtype=torch.float64)

    X, y, _ = load_task("spirals", 32, 0, torch.device("cpu"), dtype=torch.float64)
    loss = F.cross_entropy(net(X), y)
    stem, head = torch.autograd.grad(loss, [net.stem.weight, net.head[-1].weight])
    assert norms[0] == pytest.approx(stem.norm().item(), rel=1e-9)
    assert norms[-1] == pytest.approx(head.norm().item(), rel=1e-9)


def test_sigmoid_plain_gradient_vanishes_residual_does_not() -> None:
    kwargs = {"depth": 30, "activation": "sigmoid", "norm": "none", "width": 16, "n_points": 64}
    plain = hidden_ratio(gradflow.grad_norms_at_init(residual=False, **kwargs))
    residual = hidden_ratio(gradflow.grad_norms_at_init(residual=True, **kwargs))
    assert plain < 1e-15  # twenty-nine sigmoid layers: factors of ~0.1 multiply up
    assert 0.1 < residual < 10  # the identity path carries the gradient through
    assert residual / plain > 1e12


def test_he_init_and_batchnorm_change_the_picture() -> None:
    kwargs = {"depth": 30, "width": 16, "n_points": 64}
    relu_he = hidden_ratio(gradflow.grad_norms_at_init(activation="relu", init="he", **kwargs))
    assert 0.1 < relu_he < 10  # He et al. (2015): variance kept per layer
    sigmoid_bn = hidden_ratio(gradflow.grad_norms_at_init(activation="sigmoid", norm="batchnorm", **kwargs))
    assert sigmoid_bn > 1  # no longer vanishing: batch norm rescales every layer's gradient


def test_depth_sweep_job() -> None:
    cfg = gradflow.DepthSweepConfig(depths=(2, 10, 40), width=8, n_points=32)
    job = gradflow.depth_sweep(cfg)
    progress = []
    while True:
        try:
            progress.append(next(job))
        except StopIteration as stop:
            result = stop.value
            break
    assert [p.fraction for p in progress] == pytest.approx([1 / 3, 2 / 3, 1])
    assert all(isinstance(p, Progress) for p in progress)
    assert progress[1].partial.depths.tolist() == [2, 10] and len(progress[1].partial.ratio_residual) == 2
    assert result.depths.tolist() == [2, 10, 40]
    assert np.all(np.diff(np.log10(result.ratio_plain)) < -3)  # orders of magnitude per step in depth
    assert np.all((result.ratio_residual > 0.1) & (result.ratio_residual < 10))
    assert result.first_plain[-1] < 1e-20 < result.first_residual[-1]


def test_run_first_frame_is_step_zero_and_shapes() -> None:
    frames = list(islice(gradflow.run(SMALL), 4))
    assert [f.step for f in frames] == [0, 3, 6, 9]
    last = frames[-1]
    for flow in (last.plain, last.residual):
        assert flow.layer_names == ("input", "block 1", "block 2", "block 3", "block 4", "output")
        assert flow.heatmap.shape == (6, 5) and flow.heatmap.dtype == np.float32  # window of 5 steps
        assert flow.heatmap.flags.c_contiguous
        assert flow.heatmap_steps.tolist() == [5, 6, 7, 8, 9]
        assert flow.weight_grad_norms.shape == (6,) and flow.act_grad_norms.shape == (5,)
        assert flow.steps.tolist() == list(range(10)) and flow.losses.shape == (10,)
        assert flow.grad_ratio == pytest.approx(flow.weight_grad_norms[1] / flow.weight_grad_norms[-2])
        assert flow.act_grad_ratio == pytest.approx(flow.act_grad_norms[0] / flow.act_grad_norms[-1])
        for field in dataclasses.fields(flow):
            assert not isinstance(getattr(flow, field.name), torch.Tensor)
    assert last.loss == last.plain.loss
    assert frames[0].plain.losses.shape == (1,)


def test_run_is_deterministic_for_a_seed() -> None:
    a = list(islice(gradflow.run(SMALL), 3))[-1]
    b = list(islice(gradflow.run(SMALL), 3))[-1]
    np.testing.assert_array_equal(a.plain.losses, b.plain.losses)
    np.testing.assert_array_equal(a.residual.heatmap, b.residual.heatmap)
    c = list(islice(gradflow.run(dataclasses.replace(SMALL, seed=1)), 3))[-1]
    assert not np.array_equal(a.plain.losses, c.plain.losses)


def test_run_on_glyphs_uses_the_cnn() -> None:
    cfg = dataclasses.replace(SMALL, model="cnn", dataset="glyphs", blocks=3, channels=4, n_points=100)
    frame = next(gradflow.run(cfg))
    assert frame.plain.weight_grad_norms.shape == (5,)
    assert np.isfinite(frame.residual.heatmap).all()


def test_huge_learning_rate_diverges() -> None:
    cfg = dataclasses.replace(SMALL, activation="relu", init="he", optimizer="sgd", lr=1e6, steps_per_frame=2)
    with pytest.raises(Diverged) as info:
        for _ in islice(gradflow.run(cfg), 50):
            pass
    assert info.value.step > 0


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        gradflow.GradFlowConfig(dataset="mnist")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        gradflow.GradFlowConfig(lr=0)
    with pytest.raises(ValueError, match="cannot train on dataset=glyphs"):
        gradflow.GradFlowConfig(dataset="glyphs")  # the MLP trains on the 2-D point sets
    with pytest.raises(ValueError, match="cannot train on dataset=spirals"):
        gradflow.GradFlowConfig(model="cnn")
