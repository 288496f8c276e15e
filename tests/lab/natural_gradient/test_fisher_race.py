"""The training race: protocol shape, shared initialization, determinism, bounded histories."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from explorer.lab.core.protocol import Diverged
from explorer.lab.natural_gradient import fisher_race

SMALL = fisher_race.RaceConfig(n_points=128, width=8, batch_size=64, steps_per_frame=3, max_steps=12)


def test_first_frame_is_step_zero_with_one_shared_initial_loss() -> None:
    first = next(fisher_race.run(SMALL))
    assert first.step == 0
    assert first.methods == ("sgd", "adam", "kfac", "exact_ng") and all(first.available)
    assert first.losses.shape == (4, 1) and first.seconds.shape == (4, 1)
    assert np.ptp(first.losses[:, 0]) == 0.0  # one initialization for all four
    assert first.loss == pytest.approx(first.losses[0, 0]) and 0.5 < first.loss < 1.0
    np.testing.assert_array_equal(first.seconds[:, 0], 0.0)


def test_frames_every_steps_per_frame_until_max_steps() -> None:
    frames = list(fisher_race.run(SMALL))
    assert [f.step for f in frames] == [0, 3, 6, 9, 12]
    last = frames[-1]
    np.testing.assert_array_equal(last.steps, [0, 3, 6, 9, 12])
    assert np.all(np.diff(last.seconds, axis=1) > 0)  # every method spent time on every step
    assert np.all(last.losses[:, -1] < last.losses[:, 0])


def test_a_few_steps_are_deterministic_with_the_same_seed() -> None:
    a = list(itertools.islice(fisher_race.run(SMALL), 3))
    b = list(itertools.islice(fisher_race.run(SMALL), 3))
    for frame_a, frame_b in zip(a, b, strict=True):
        np.testing.assert_array_equal(frame_a.losses, frame_b.losses)
    other = list(itertools.islice(fisher_race.run(replace(SMALL, seed=1)), 3))
    assert not np.array_equal(other[-1].losses, a[-1].losses)


def test_exact_natural_gradient_is_unavailable_with_a_reason_when_p_is_too_big() -> None:
    cfg = replace(SMALL, max_exact_params=50)
    frames = list(itertools.islice(fisher_race.run(cfg), 2))
    last = frames[-1]
    assert last.available == (True, True, True, False)
    assert last.n_params > 50 and "50" in last.reasons[3]
    assert np.all(np.isnan(last.losses[3])) and np.all(np.isfinite(last.losses[:3]))


def test_default_race_network_fits_the_exact_budget() -> None:
    cfg = fisher_race.RaceConfig()
    assert fisher_race.parameter_count(fisher_race.spiral_mlp(cfg)) <= cfg.max_exact_params
    assert fisher_race.exact_ng_reason(cfg.max_exact_params + 1, cfg.max_exact_params) != ""


def test_non_finite_loss_raises_diverged(monkeypatch: pytest.MonkeyPatch) -> None:
    def poisoned(cfg: fisher_race.RaceConfig) -> torch.nn.Module:
        model = fisher_race.MLP(fisher_race.MLPConfig(n_layers=1, width=cfg.width, activation="tanh"), seed=0)
        with torch.no_grad():
            next(model.parameters()).fill_(math.nan)
        return model

    monkeypatch.setattr(fisher_race, "spiral_mlp", poisoned)
    with pytest.raises(Diverged, match="loss became nan") as info:
        next(fisher_race.run(SMALL))
    assert info.value.step == 0


def test_loss_history_stays_bounded_and_ends_with_the_latest_point() -> None:
    history = fisher_race.LossHistory(max_points=8)
    for step in range(100):
        history.record(step, np.array([float(step)]), np.array([0.1 * step]))
        steps, losses, _ = history.arrays()
        assert len(steps) <= 9 and steps[-1] == step and losses[0, -1] == step
    assert steps[0] == 0 and np.all(np.diff(steps) > 0)


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        fisher_race.RaceConfig(steps_per_frame=0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_race_on_cuda_matches_the_cpu_race() -> None:
    cpu = list(itertools.islice(fisher_race.run(SMALL), 2))[-1]
    gpu = list(itertools.islice(fisher_race.run(replace(SMALL, device="cuda")), 2))[-1]
    rows = [0, 1, 3]  # K-FAC samples its labels from a CUDA generator: a different random stream
    np.testing.assert_allclose(gpu.losses[rows], cpu.losses[rows], rtol=1e-3)
    assert np.all(np.isfinite(gpu.losses[2]))
