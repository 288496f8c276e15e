"""The fine-tuning preparation job: pretraining and the k-sweep chained in one job; the waiting experiment."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from explorer.lab.core.protocol import run_job
from explorer.lab.finetune import finetune
from explorer.lab.finetune.preparation import Prepared, Waiting, prepare, wait_for_source

SOURCE = finetune.PretrainConfig(n_blocks=2, width=4, n_per_class=10, steps=20, batch_size=16)
SWEEP = finetune.FinetuneConfig(pretrain=SOURCE, n_per_class=2, n_val_per_class=2, epochs=1, batch_size=4,
                                steps_per_frame=1, cka_every=1)  # fmt: skip


def test_the_network_is_handed_out_before_the_sweep_and_both_are_returned(cache, drive):
    reports, prepared = drive(prepare(SOURCE, "cpu", SWEEP))
    partials = [r.partial for r in reports if r.partial is not None]
    assert isinstance(partials[0], finetune.Pretrained) and partials[0] is prepared.pretrained
    assert all(isinstance(p, finetune.KSweep) for p in partials[1:]) and partials[-1] is prepared.sweep
    assert prepared.pretrained.config == SOURCE and prepared.sweep.ks.tolist() == [0, 1, 2, 3]
    assert np.isfinite(prepared.sweep.scratch_val_accuracy)


def test_a_network_at_hand_is_not_pretrained_again_and_no_sweep_means_none(cache, drive):
    pretrained = run_job(finetune.pretrain(SOURCE))
    reports, prepared = drive(prepare(SOURCE, "cpu", SWEEP, pretrained))
    assert prepared.pretrained is pretrained
    assert not any(isinstance(r.partial, finetune.Pretrained) for r in reports)  # straight to the sweep
    only = run_job(prepare(SOURCE, "cpu", pretrained=pretrained))
    assert only == Prepared(pretrained, None)


def test_a_sweep_on_another_source_network_is_refused():
    other = replace(SWEEP, pretrain=replace(SOURCE, seed=1))
    with pytest.raises(ValueError, match="not the one prepared"):
        next(prepare(SOURCE, "cpu", other))


class _Gate:
    """Stands in for the threading.Event: records how the experiment waits on it."""

    def __init__(self) -> None:
        self.waits: list[tuple] = []

    def wait(self, *args: float) -> bool:
        self.waits.append(args)
        return True


def test_the_waiting_experiment_shows_one_frame_then_waits_once_without_a_timeout_and_ends():
    gate = _Gate()
    waiting = wait_for_source(gate)  # type: ignore[arg-type]
    assert next(waiting) == Waiting(step=0) and gate.waits == []  # the frame comes at once
    with pytest.raises(StopIteration):
        next(waiting)
    assert gate.waits == [()]  # one blocking wait, no polling interval


def test_the_waiting_experiment_ends_at_once_when_its_gate_is_already_open():
    gate = threading.Event()
    gate.set()
    waiting = wait_for_source(gate)
    next(waiting)
    assert list(waiting) == []
