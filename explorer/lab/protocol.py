"""The contract between a lab experiment and whoever drives it (the GUI runner, a test, a notebook).

A *live experiment* is a generator ``run(cfg)`` built from a frozen config dataclass. Its first
``yield`` is the state at step 0 (so Reset shows the initialization before anything trains); every
later ``yield`` is a small frame after a few more steps. Each frame has an integer ``step`` and, where
one exists, a float ``loss``. A training run that diverges raises :class:`Diverged` with the step.

A *job* is a generator for one-shot work (a sweep, a landscape grid). It yields :class:`Progress`
and *returns* its result, which arrives as ``StopIteration.value``. Whoever drives it may stop at any
``yield``: that is how Cancel works, with no cancel flag inside the maths.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Frame(Protocol):
    """What the runner needs from a frame; experiments add their own fields."""

    step: int


@dataclass(frozen=True)
class Progress:
    """A job's report: ``fraction`` in [0, 1], a short human message, and optionally a partial result
    (a coarse landscape before the fine one) that a view may draw while the job goes on."""

    fraction: float
    message: str = ""
    partial: Any = None


class Diverged(RuntimeError):
    """A run produced a non-finite or exploding value at ``step``."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"{what} at step {step}")
        self.step = step
        self.what = what


Job = Generator[Progress, None, T]
Experiment = Iterator[Any]


def check_finite(step: int, **values: float) -> None:
    """Raise :class:`Diverged` naming the first value that is NaN or infinite."""
    for name, value in values.items():
        if not math.isfinite(value):
            raise Diverged(step, f"{name} became {value}")


def run_job(job: Job[T]) -> T:
    """Drive a job to completion in the calling thread (tests, headless export)."""
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value
