"""What the fine-tuning picture needs before it can train: the source network, then (if asked) the k-sweep.

One job, so one progress bar and one Cancel cover both, and the view never chains jobs by hand. The
pretrained network is handed out as soon as it exists (a ``Progress`` whose ``partial`` is the
:class:`Pretrained`), so the live run can start while the sweep goes on; the job returns both.

While the source network is still on its way, the live experiment is :func:`wait_for_source`: one
:class:`Waiting` frame, then its thread blocks (no polling) until the view opens the gate.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

from explorer.lab.core.protocol import Job, Progress
from explorer.lab.finetune.config import FinetuneConfig, KSweep, PretrainConfig, Pretrained
from explorer.lab.finetune.finetune import k_sweep, pretrain


@dataclass(frozen=True)
class Prepared:
    """What a preparation job made: the source network, and the k-sweep on it if one was asked for."""

    pretrained: Pretrained
    sweep: KSweep | None = None


def prepare(
    source: PretrainConfig,
    device: str = "cpu",
    sweep: FinetuneConfig | None = None,
    pretrained: Pretrained | None = None,
) -> Job[Prepared]:
    """Pretrain ``source`` (or load it from the cache) unless ``pretrained`` already is that network, hand it
    out as a partial result, then run the k-sweep of ``sweep`` on it (None: no sweep)."""
    if sweep is not None and sweep.pretrain != source:
        raise ValueError(f"the sweep's source network {sweep.pretrain} is not the one prepared, {source}")
    if pretrained is None or pretrained.config != source:
        pretrained = yield from pretrain(source, device)
        yield Progress(1.0, "Source network ready", partial=pretrained)
    if sweep is None:
        return Prepared(pretrained)
    result = yield from k_sweep(sweep, pretrained)
    return Prepared(pretrained, result)


@dataclass(frozen=True)
class Waiting:
    """The frame shown while the source network is being pretrained."""

    step: int = 0


def wait_for_source(gate: threading.Event) -> Iterator[Waiting]:
    """The live experiment until the source network arrives: one frame, then (asked for the next) a wait on
    ``gate`` that holds the experiment's thread without polling. The view opens the gate once the real run
    has replaced this one, or the pretraining has ended without a network; then this experiment ends."""
    yield Waiting()
    gate.wait()
