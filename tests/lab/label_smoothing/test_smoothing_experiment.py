"""The live label-smoothing experiment: frame shapes, determinism, divergence and the effect itself."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from itertools import islice

import numpy as np
import pytest

from explorer.lab.core.protocol import Diverged
from explorer.lab.label_smoothing import smoothing

torch = pytest.importorskip("torch")

SMALL = smoothing.SmoothingConfig(n_train=200, n_val=300, hidden=32, steps=6, steps_per_frame=2, seed=5)


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """One intra-op thread: these tiny matmuls only lose time to thread hand-offs on a busy 2-core box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_frames_have_the_documented_shapes() -> None:
    frames = list(smoothing.run(SMALL))
    assert [f.step for f in frames] == [0, 2, 4, 6]
    last = frames[-1]
    n_train_points = last.train_projection_labels.size
    n_val_points = last.val_projection_labels.size
    assert set(np.unique(last.train_projection_labels)) == {0, 1, 2}
    assert last.history_steps.tolist() == [0.0, 2.0, 4.0, 6.0]
    assert last.confidence_edges.shape == (41,)
    assert last.optimal_logit_gap == pytest.approx(smoothing.optimal_logit_gap(10, 0.1))
    assert last.loss == last.smoothed.train_loss
    for state, eps in ((last.one_hot, 0.0), (last.smoothed, 0.1)):
        assert state.eps == eps
        assert state.reliability.counts.shape == (15,) and state.reliability.counts.sum() == 300
        assert state.reliability.edges.shape == (16,)
        assert state.confidence_counts.shape == (40,) and state.confidence_counts.sum() == 300
        assert state.train_projection.shape == (n_train_points, 2)
        assert state.val_projection.shape == (n_val_points, 2)
        assert state.template_projection.shape == (3, 2)
        for history in (
            state.train_accuracy_history,
            state.val_accuracy_history,
            state.train_nll_history,
            state.val_nll_history,
        ):
            assert history.shape == (4,) and history.dtype == np.float64
        assert state.train_accuracy_history[-1] == state.train_accuracy
        assert state.val_accuracy_history[-1] == state.val_accuracy
        assert state.train_nll_history[-1] == state.train_nll
        assert state.val_nll_history[-1] == state.val_nll
        assert 0.0 <= state.val_accuracy <= 1.0 and 0.0 <= state.ece <= 1.0
        assert 0.0 < state.mean_entropy <= math.log(10) + 1e-9
        assert state.ece == pytest.approx(state.reliability.ece)


def test_twins_start_identical_and_part_ways() -> None:
    first, *_, last = smoothing.run(SMALL)
    np.testing.assert_array_equal(first.one_hot.train_projection, first.smoothed.train_projection)
    assert first.one_hot.val_nll == first.smoothed.val_nll
    assert first.one_hot.train_loss != first.smoothed.train_loss  # same weights, different targets
    assert not np.array_equal(last.one_hot.train_projection, last.smoothed.train_projection)


def test_same_seed_gives_the_same_frames() -> None:
    a = list(smoothing.run(SMALL))
    b = list(smoothing.run(SMALL))
    c = list(smoothing.run(dataclasses.replace(SMALL, seed=6)))
    for fa, fb in zip(a, b, strict=True):
        assert fa.loss == fb.loss
        np.testing.assert_array_equal(fa.smoothed.val_projection, fb.smoothed.val_projection)
        np.testing.assert_array_equal(fa.one_hot.reliability.accuracy, fb.one_hot.reliability.accuracy)
    assert a[-1].loss != c[-1].loss


def test_history_stays_bounded_and_ends_at_the_current_step() -> None:
    cfg = dataclasses.replace(SMALL, steps=40, steps_per_frame=1, history_points=8)
    for frame in smoothing.run(cfg):
        assert frame.history_steps.size <= 9
        assert frame.history_steps[-1] == frame.step
        assert np.all(np.diff(frame.history_steps) > 0)
    assert frame.history_steps[0] == 0.0


def test_huge_learning_rate_diverges_with_a_step() -> None:
    frames = smoothing.run(dataclasses.replace(SMALL, lr=1e6, steps=50))
    with pytest.raises(Diverged) as info:
        for _ in frames:
            pass
    assert 0 < info.value.step <= 50
    assert "loss" in str(info.value)


@pytest.mark.parametrize(
    "changes",
    [{"eps": 1.0}, {"num_classes": 2}, {"lr": 0.0}, {"projected_classes": (0, 0, 1)}, {"device": "tpu"}],
)
def test_bad_config_raises_value_error(changes: dict) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(SMALL, **changes)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is missing")
def test_cuda_without_a_gpu_raises_value_error() -> None:
    with pytest.raises(ValueError, match="CUDA"):
        next(smoothing.run(dataclasses.replace(SMALL, device="cuda")))


def test_default_config_shows_the_label_smoothing_effect() -> None:
    """The finding the tab is built to show (Müller et al. 2019), with the defaults and seed 0."""
    cfg = smoothing.SmoothingConfig()
    frame = next(islice(smoothing.run(dataclasses.replace(cfg, steps_per_frame=cfg.steps)), 1, None))
    one_hot, smoothed = frame.one_hot, frame.smoothed
    assert frame.step == cfg.steps
    # Both fit the training set; the one-hot twin is overconfident on held-out data, the smoothed one is not.
    assert one_hot.train_accuracy > 0.99 and smoothed.train_accuracy > 0.99
    assert one_hot.mean_confidence - one_hot.val_accuracy > 0.1
    assert abs(smoothed.mean_confidence - smoothed.val_accuracy) < 0.07
    assert smoothed.ece < 0.5 * one_hot.ece
    assert smoothed.val_nll < one_hot.val_nll
    assert smoothed.mean_entropy > 2 * one_hot.mean_entropy
    # The logit gap settles near its finite optimum instead of growing without bound.
    assert smoothed.mean_logit_gap == pytest.approx(frame.optimal_logit_gap, rel=0.15)
    assert one_hot.mean_logit_gap > 2 * frame.optimal_logit_gap
    # Penultimate activations: tighter clusters, more evenly spaced.
    assert smoothed.cluster_spread < 0.8 * one_hot.cluster_spread
    assert smoothed.spacing_cv < one_hot.spacing_cv
