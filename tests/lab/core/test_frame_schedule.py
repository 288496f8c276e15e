"""The driver chooses how many steps lie between frames; the run itself must not notice.

Every live experiment is run to the same step twice: at its config's cadence (``run_sync``, as a
headless export does) and cut into irregular frames (as the window's time budget does). The training
state at that step must be the same, and ``run_sync`` must stop exactly at the step asked for.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from explorer.lab.core.protocol import Advance, FrameClock, run_sync
from explorer.lab.label_smoothing import smoothing
from explorer.lab.natural_gradient import fisher_race, gaussian_fit
from explorer.lab.residual import residual
from explorer.lab.saddle import saddle
from explorer.lab.vanishing import gradflow

SPLITS = (1, 7, 3, 12, 2, 5)  # steps per frame, repeated: uneven on purpose


def _irregular(factory, until: int):
    """Drive like the window: a different number of steps each frame, never past ``until``."""
    generator = factory()
    frame = next(generator)
    sizes = itertools.cycle(SPLITS)
    while frame.step < until:
        frame = generator.send(Advance(steps=next(sizes), stop_at=until))
    generator.close()
    return frame


def _both(factory, until: int):
    even, failure, _ = run_sync(factory, until)
    assert failure is None, failure
    uneven = _irregular(factory, until)
    assert even.step == uneven.step == until
    return even, uneven


def test_frame_clock_honours_cadence_requests_and_the_last_step() -> None:
    clock = FrameClock(every=5, last=12)
    assert clock.due(0)
    assert clock.advance(0, None) == 5 and not clock.due(4) and clock.due(5)
    assert clock.advance(5, Advance(steps=40)) == 5  # never more than the config's cadence
    assert clock.advance(10, Advance(steps=4)) == 2  # nor past the run's last step
    assert clock.advance(2, Advance(steps=3)) == 3  # fewer when asked
    assert clock.advance(2, Advance(steps=40, stop_at=6)) == 4
    assert clock.advance(0, Advance(steps=0)) == 1  # never zero steps: a frame always moves on
    with pytest.raises(ValueError, match="at least 1"):
        FrameClock(every=0)


def test_saddle_paths_do_not_depend_on_the_split() -> None:
    cfg = saddle.SaddleConfig(surface="monkey_saddle", steps=60, steps_per_frame=20)
    even, uneven = _both(lambda: saddle.run(cfg), 37)
    assert even.paths.keys() == uneven.paths.keys()
    for name in even.paths:
        np.testing.assert_array_equal(even.paths[name], uneven.paths[name])


def test_gradflow_training_does_not_depend_on_the_split() -> None:
    cfg = gradflow.GradFlowConfig(depth=6, width=8, n_points=128, batch_size=32, steps_per_frame=20, device="cpu")
    even, uneven = _both(lambda: gradflow.run(cfg), 23)
    for net in ("plain", "residual"):
        a, b = getattr(even, net), getattr(uneven, net)
        np.testing.assert_array_equal(a.losses, b.losses)
        np.testing.assert_array_equal(a.heatmap, b.heatmap)  # one column per step, however drained
        np.testing.assert_array_equal(a.weight_grad_norms, b.weight_grad_norms)


def test_residual_weights_do_not_depend_on_the_split() -> None:
    cfg = residual.ResidualConfig(
        depths=(2, 4), width=8, n_points=128, batch_size=32, grid=8, steps_per_frame=20, device="cpu"
    )
    even, uneven = _both(lambda: residual.run(cfg), 29)
    for pair_a, pair_b in zip(even.checkpoint.weights, uneven.checkpoint.weights, strict=True):
        for a, b in zip(pair_a, pair_b, strict=True):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(even.plain_losses, uneven.plain_losses)


def test_natural_gradient_race_and_fit_do_not_depend_on_the_split() -> None:
    race = fisher_race.RaceConfig(n_points=64, width=8, batch_size=16, max_steps=40, steps_per_frame=20)
    even, uneven = _both(lambda: fisher_race.run(race), 19)
    np.testing.assert_allclose(even.losses[:, -1], uneven.losses[:, -1], rtol=1e-12, equal_nan=True)
    fit = gaussian_fit.GaussianFitConfig(n_steps=50, steps_per_frame=20)
    even, uneven = _both(lambda: gaussian_fit.run(fit), 31)
    np.testing.assert_array_equal(even.parameter_paths, uneven.parameter_paths)


def test_label_smoothing_twins_do_not_depend_on_the_split() -> None:
    cfg = smoothing.SmoothingConfig(n_train=100, n_val=100, hidden=16, steps=40, steps_per_frame=20)
    even, uneven = _both(lambda: smoothing.run(cfg), 27)
    assert even.one_hot.train_loss == uneven.one_hot.train_loss
    assert even.smoothed.val_nll == uneven.smoothed.val_nll


def test_run_sync_stops_exactly_where_asked_and_reports_the_end() -> None:
    cfg = saddle.SaddleConfig(steps=20, steps_per_frame=7)
    frame, failure, error = run_sync(lambda: saddle.run(cfg), 10)
    assert frame.step == 10 and failure is None and error is None
    frame, failure, _ = run_sync(lambda: saddle.run(cfg), 500)  # past the end: the last frame
    assert frame.step == 20 and failure is None


def test_the_real_networks_plateau_does_not_depend_on_the_split() -> None:
    from explorer.lab.saddle import plateau

    cfg = plateau.PlateauConfig(steps=80, curvature_every=7, steps_per_frame=10)
    even, uneven = _both(lambda: plateau.run(cfg), 53)
    np.testing.assert_array_equal(even.losses, uneven.losses)
    np.testing.assert_array_equal(even.lambda_min, uneven.lambda_min)
    np.testing.assert_array_equal(even.spectrum, uneven.spectrum)


def test_your_model_does_not_depend_on_the_split() -> None:
    from explorer.lab.your_model.experiment import YourModelConfig, run

    cfg = YourModelConfig(steps=60, curvature_every=20, steps_per_frame=10)
    even, uneven = _both(lambda: run(cfg), 47)
    np.testing.assert_array_equal(even.losses, uneven.losses)
    np.testing.assert_array_equal(even.grad_norms, uneven.grad_norms)
    np.testing.assert_array_equal(even.val_losses, uneven.val_losses)
    np.testing.assert_array_equal(even.top_eigenvalues, uneven.top_eigenvalues)
