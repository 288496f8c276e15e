"""The contract between a lab experiment and whoever drives it (the GUI runner, a test, a notebook).

A *live experiment* is a generator ``run(cfg)`` built from a frozen config dataclass. Its first
``yield`` is the state at step 0 (so Reset shows the initialization before anything trains); every
later ``yield`` is a small frame after a few more steps. Each frame has an integer ``step`` and, where
one exists, a float ``loss``. A training run that diverges raises :class:`Diverged` with the step.

How many steps lie between two frames is partly the driver's choice: it may ``send`` an
:class:`Advance` into the generator (``frame = gen.send(Advance(steps=4))``); plain iteration sends
``None``, which keeps the config's own cadence. The window asks for as many steps as fit a time
budget (never more than the cadence), so a slow model still draws smoothly; a headless run asks
never to pass the step it exports. The training
itself never depends on the split: the state after N steps is the same however it was cut into frames.

A *job* is a generator for one-shot work (a sweep, a landscape grid). It yields :class:`Progress`
and *returns* its result, which arrives as ``StopIteration.value``. Whoever drives it may stop at any
``yield``: that is how Cancel works, with no cancel flag inside the maths.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

ExperimentFactory = Callable[[], Generator[Any, Any, None]]  # sent an Advance (or None) at each frame


@dataclass(frozen=True)
class Progress:
    """A job's report: ``fraction`` in [0, 1], a short human message, and optionally a partial result
    (a coarse landscape before the fine one) that a view may draw while the job goes on."""

    fraction: float
    message: str = ""
    partial: Any = None


Job = Generator[Progress, None, T]


@dataclass(frozen=True)
class Advance:
    """What a driver sends into a live experiment: the next frame comes after at most ``steps`` more
    steps (None: the config's own cadence, ``steps_per_frame``, which also caps ``steps``), and never
    after step ``stop_at`` (None: no limit). The cap keeps a fast run at the pace its config sets;
    a slow one gets fewer steps per frame, so it still draws often."""

    steps: int | None = None
    stop_at: int | None = None


class FrameClock:
    """The steps at which an experiment yields a frame: step 0, then as its driver asks.

    ``every`` is the config's cadence (``steps_per_frame``); ``last`` a step that always gets a frame
    (the run's end), 0 for none. Use::

        clock = FrameClock(cfg.steps_per_frame)
        ...
        if clock.due(step):
            clock.advance(step, (yield frame))
    """

    def __init__(self, every: int, last: int = 0) -> None:
        if every < 1:
            raise ValueError(f"steps per frame must be at least 1, got {every}")
        self.every = every
        self.last = last
        self.next = 0
        self.frames = 0  # frames yielded so far, for work done every few frames

    def due(self, step: int) -> bool:
        return step >= self.next or step == self.last > 0

    def advance(self, step: int, request: Advance | None) -> int:
        """Schedule the frame after the one just yielded at ``step``; return the steps until it."""
        self.frames += 1
        steps = self.every if request is None or request.steps is None else max(1, min(self.every, request.steps))
        self.next = step + steps
        if request is not None and request.stop_at is not None and request.stop_at > step:
            self.next = min(self.next, request.stop_at)
        if self.last > step:
            self.next = min(self.next, self.last)
        return self.next - step


class Diverged(RuntimeError):
    """A run produced a non-finite or exploding value at ``step``."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"{what} at step {step}")
        self.step = step
        self.what = what


class InputError(ValueError):
    """What the user gave (a file of their own code, say) cannot be used: the message is the whole line to
    show, naming the input and the problem, with no step or exception type in front."""


def check_finite(step: int, **values: float) -> None:
    """Raise :class:`Diverged` naming the first value that is NaN or infinite."""
    for name, value in values.items():
        if not math.isfinite(value):
            raise Diverged(step, f"{name} became {value}")


def check_frame(frame: Any) -> None:
    """A frame with a non-finite ``loss`` ends the run as a divergence at that frame's step."""
    loss = getattr(frame, "loss", None)
    if isinstance(loss, float) and not math.isfinite(loss):
        raise Diverged(frame.step, f"loss became {loss}")


_OUT_OF_MEMORY = ("out of memory", "can't allocate memory", "not enough memory", "cannot allocate memory")


def is_out_of_memory(exc: BaseException) -> bool:
    """CUDA's OutOfMemoryError, Python's MemoryError, or the CPU allocator's RuntimeError."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(words in text for words in _OUT_OF_MEMORY)


def describe_failure(exc: BaseException, step: int | None) -> str:
    """One line a person can act on: what happened, at which step, and what to try."""
    at = f" at step {step}" if step is not None else ""
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, Diverged):
        return f"Diverged: {exc.what} at step {exc.step}. Try a smaller learning rate, then Reset."
    if is_out_of_memory(exc):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
        return f"Out of memory{at}: {first}. Try a smaller size or the CPU."
    return f"Stopped{at}: {type(exc).__name__}: {exc}"


def run_sync(factory: ExperimentFactory, until_step: int) -> tuple[Any, str | None, BaseException | None]:
    """Run an experiment in this thread to exactly ``until_step`` (or until it ends or fails).

    Frames keep the config's cadence but never pass ``until_step``, so an export shows that step.
    Returns (last frame, failure message or None, the exception or None): the headless twin of Play.
    """
    frame, step = None, 0
    generator = factory()
    request = Advance(stop_at=until_step)
    try:
        frame = next(generator)
        while True:
            check_frame(frame)
            step = int(frame.step)
            if step >= until_step:
                break
            frame = generator.send(request)
    except StopIteration:
        pass
    except Exception as exc:
        return frame, describe_failure(exc, step), exc
    finally:
        generator.close()
    return frame, None, None


def run_job(job: Job[T]) -> T:
    """Drive a job to completion in the calling thread (tests, headless export)."""
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value
