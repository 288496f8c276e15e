"""The probe's norms below float32's squared range, the divergence ceiling, and a frame's latest numbers."""

from __future__ import annotations

import dataclasses
import math
from itertools import islice

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from explorer.lab.core.protocol import Diverged
from explorer.lab.gradprobe import LOG_FLOOR, GradFlowProbe, Trainee, hidden_ratio
from explorer.lab.vanishing import gradflow
from models import MLPConfig, build_net

SMALL = gradflow.GradFlowConfig(depth=4, width=8, n_points=64, batch_size=16, steps_per_frame=3, window=5, device="cpu")


def test_probe_measures_float32_gradients_whose_squares_underflow() -> None:
    # 30 sigmoid layers: the first block's float32 gradient is ~1e-28, nonzero, but its square is not a float32
    net = build_net(MLPConfig(30, 8, "sigmoid"), seed=0)
    X = torch.randn(32, 2, generator=torch.Generator().manual_seed(0))
    y = torch.arange(32) % 2
    probe = GradFlowProbe(net, capacity=1)
    logits = net(X)
    loss = F.cross_entropy(logits, y)
    probe.watch()
    loss.backward()
    probe.record(loss, (logits.argmax(1) == y).float().mean())
    _, _, weight_norms, act_norms = probe.drain()
    grad = net.blocks[0].branch[-1].weight.grad
    assert torch.linalg.vector_norm(grad).item() == 0.0  # what a float32 norm makes of it
    want = grad.double().norm().item()
    assert 0 < want < 1e-20
    assert weight_norms[0, 1] == pytest.approx(want, rel=1e-6)
    assert 0 < act_norms[0, 0] < 1e-20  # ||dL/dh_0|| too
    assert math.log10(LOG_FLOOR) < math.log10(want)  # the heatmap keeps its own colour


def test_a_huge_learning_rate_on_sigmoid_units_stops_as_diverged() -> None:
    # sigmoid keeps every loss finite: without the ceiling this run would bounce at ~100 nats for ever
    cfg = dataclasses.replace(SMALL, optimizer="adam", lr=10.0)
    with pytest.raises(Diverged) as info:
        for _ in islice(gradflow.run(cfg), 200):
            pass
    assert info.value.step > 0
    assert "loss rose to" in info.value.what and "10×" in info.value.what


def test_a_sane_run_and_the_default_trainee_never_trip_the_ceiling() -> None:
    frames = list(islice(gradflow.run(dataclasses.replace(SMALL, activation="relu", init="he")), 40))
    assert frames[-1].step == 117
    net = build_net(MLPConfig(3, 8, "sigmoid"), seed=0)
    trainee = Trainee("net", net, "adam", 10.0, steps_per_frame=1)  # no explode_factor: only NaN/inf stop it
    X = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))
    y = (X[:, 0] > 0).long()
    for step in range(60):
        trainee.backward(X, y)
        trainee.drain(step)
        trainee.update()
    assert math.isinf(trainee.loss_ceiling)
    assert trainee.history.values()[:, 0].max() > 10 * max(trainee.history.values()[0, 0], math.log(2))


def test_the_ceiling_counts_from_the_first_loss_when_it_is_above_chance() -> None:
    # a residual ReLU stack with He init and no normalization starts at a huge loss, then trains
    net = build_net(MLPConfig(20, 16, "relu", init="he", residual=True), seed=0)
    trainee = Trainee("residual", net, "adam", 3e-3, steps_per_frame=1, explode_factor=10.0)
    X = torch.randn(64, 2, generator=torch.Generator().manual_seed(1))
    y = (X[:, 0] > 0).long()
    trainee.backward(X, y)
    trainee.drain(0)
    assert trainee.loss > 10 * math.log(2)
    assert trainee.loss_ceiling == pytest.approx(10 * trainee.loss)


def test_a_frame_reports_its_own_step_after_the_history_thins() -> None:
    cfg = dataclasses.replace(SMALL, history=4)
    long = dataclasses.replace(SMALL, history=2048)
    thin, full = list(islice(gradflow.run(cfg), 6))[-1], list(islice(gradflow.run(long), 6))[-1]
    assert thin.step == 15 and len(thin.plain.steps) <= 4 and thin.plain.steps[-1] < 15  # decimated
    for got, want in ((thin.plain, full.plain), (thin.residual, full.residual)):
        assert got.loss == pytest.approx(want.losses[-1])
        assert got.accuracy == pytest.approx(want.accuracies[-1])
        assert got.grad_ratio == pytest.approx(float(hidden_ratio(got.weight_grad_norms)))


def test_activation_gradient_heatmap_follows_the_norms() -> None:
    last = list(islice(gradflow.run(SMALL), 3))[-1]
    for flow in (last.plain, last.residual):
        assert flow.act_heatmap.shape == (5, 5) and flow.act_heatmap.dtype == np.float32
        assert flow.act_heatmap.flags.c_contiguous
        np.testing.assert_allclose(flow.act_heatmap[:, -1], np.log10(flow.act_grad_norms), rtol=1e-6)
        np.testing.assert_allclose(flow.heatmap[:, -1], np.log10(flow.weight_grad_norms), rtol=1e-6)


def test_a_trainee_without_gradient_norms_trains_and_scores_exactly_as_the_probed_one() -> None:
    X = torch.randn(64, 2, generator=torch.Generator().manual_seed(2))
    y = (X[:, 0] * X[:, 1] > 0).long()
    trainees = [
        Trainee(name, build_net(MLPConfig(4, 8, "relu", norm="batchnorm", residual=True), seed=0), "sgd", 0.1,
                steps_per_frame=3, gradients=gradients)
        for name, gradients in (("probed", True), ("plain", False))
    ]  # fmt: skip
    for step in range(12):
        for trainee in trainees:
            trainee.backward(X, y)
            if step % 3 == 2:
                trainee.drain(step)  # three rows each: the loss-only rows grow and drain alike
            trainee.update()
    probed, plain = (t.history.values() for t in trainees)
    np.testing.assert_array_equal(plain[:, :2], probed[:, :2])  # loss and accuracy, bit for bit
    assert np.isnan(plain[:, 2]).all() and np.isfinite(probed[:, 2]).all()
    assert trainees[1].net.hidden_tap is None  # nothing hooked on the forward pass
    assert trainees[1].heat.array().shape == (12, 0)  # a row per step, no column
    with pytest.raises(ValueError, match="without gradient norms"):
        trainees[1].flow()
