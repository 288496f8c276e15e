"""The only place that knows about threads: it drives lab generators off the GUI thread.

:class:`ExperimentRunner` runs a live experiment (see ``explorer.lab.core.protocol``) in a QThread with
play / pause / step / reset. While playing, each frame gets a time budget (about 1/30 s of compute)
and the runner asks the experiment for as many steps as fit it, up to the config's steps per frame,
so a slow model still draws smoothly and a fast one keeps its pace. The GUI gets only the *latest*
frame, at most ~30 times a second. :class:`JobRunner` runs one-shot jobs with progress and Cancel.
Both turn any exception, a non-finite loss or an out-of-memory into a one-line message naming the
step; the Qt-free half of that (``describe_failure``, ``check_frame``, ``run_sync``) lives in the
lab's protocol.

A hand-written QThread (rather than superqt's ``thread_worker``) because Step needs "run exactly
one more frame, then pause", pacing needs an interruptible sleep, and Close must never wait on a
step that is still inside torch: every command goes through one lock and one ``threading.Event``,
and a thread is kept referenced until it has really finished, so Qt never destroys a running thread.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from PyQt6 import QtCore

from explorer.lab.core.protocol import (
    Advance,
    ExperimentFactory,
    Job,
    Progress,
    check_frame,
    describe_failure,
)

JobFactory = Callable[[], Job[Any]]

#: compute per frame while playing: a frame every ~1/30 s keeps curves moving smoothly
FRAME_BUDGET_S = 1.0 / 30.0
#: the most steps one frame may ask for (a tiny model can run far more than this in 1/30 s)
MAX_STEPS_PER_FRAME = 100_000

#: every thread started here, until it has finished: Qt aborts the process if a running QThread is
#: destroyed, and a page closed mid-step must not drop the last reference to its worker
_UNFINISHED: set[QtCore.QThread] = set()


def _keep_until_finished(thread: QtCore.QThread) -> None:
    _UNFINISHED.add(thread)
    thread.finished.connect(lambda: _UNFINISHED.discard(thread))


def unfinished_threads() -> int:
    """Workers still running (a quitting window waits a moment for them, tests wait for zero)."""
    return sum(1 for thread in _UNFINISHED if thread.isRunning())


def wait_for_workers(timeout_s: float) -> bool:
    """Block up to ``timeout_s`` in total for every worker to end; True if all did."""
    deadline = time.perf_counter() + timeout_s
    for thread in list(_UNFINISHED):
        left_ms = max(0, int((deadline - time.perf_counter()) * 1000))
        if not thread.wait(left_ms):
            return False
    return True


def steps_for_budget(steps: int, seconds: float, budget: float) -> int:
    """Steps to ask for next: the last frame ran ``steps`` in ``seconds``; aim its compute at ``budget``.

    It moves by at most a factor of two a frame, so one slow frame (a decision boundary, a garbage
    collection) does not swing the next one, and it stays between 1 and ``MAX_STEPS_PER_FRAME``. The
    experiment caps the answer at its own steps per frame, so a fast run keeps the pace its config sets.
    """
    wanted = steps * budget / seconds
    return int(min(MAX_STEPS_PER_FRAME, max(1, min(2 * steps, max(steps / 2, wanted)))))


class _ExperimentThread(QtCore.QThread):
    sig_ready = QtCore.pyqtSignal()
    sig_failed = QtCore.pyqtSignal(str)
    sig_finished = QtCore.pyqtSignal()

    def __init__(self, factory: ExperimentFactory, max_fps: float) -> None:
        super().__init__()
        self._factory = factory
        self._wake = threading.Event()
        self._drawn = threading.Event()  # the GUI has drawn the newest frame (or a command came)
        self._lock = threading.Lock()  # guards every field below that both threads touch
        self._max_fps = max_fps
        self._stop = False
        self._playing = False
        self._frames_to_step = 0
        self._latest: Any = None
        self._pending = False
        self._frame_times: deque[tuple[float, int]] = deque(maxlen=64)  # (time, step) of produced frames
        self.step = 0  # written by the worker only
        self.steps_per_frame: int | None = None  # the budget's current answer (None: the config's cadence)

    # --- commands from the GUI thread -------------------------------------------------------
    def command(
        self,
        *,
        playing: bool | None = None,
        step_once: bool = False,
        stop: bool = False,
        max_fps: float | None = None,
    ) -> None:
        with self._lock:
            if playing is not None:
                self._playing = playing
            if step_once:
                self._frames_to_step += 1
            if stop:
                self._stop = True
            if max_fps is not None:
                self._max_fps = max_fps
        self._wake.set()
        self._drawn.set()

    def mark_drawn(self) -> None:
        """Called by the GUI once it has drawn a frame: the worker may take the interpreter again."""
        self._drawn.set()

    def take_latest(self) -> Any:
        with self._lock:
            self._pending = False
            return self._latest

    def frame_times(self) -> list[tuple[float, int]]:
        with self._lock:
            return list(self._frame_times)

    # --- the worker loop --------------------------------------------------------------------
    def _publish(self, frame: Any) -> None:
        self.step = int(getattr(frame, "step", self.step))
        with self._lock:
            self._frame_times.append((time.perf_counter(), self.step))
            self._latest = frame
            notify, self._pending = not self._pending, True
        if notify:  # one queued signal at a time: the GUI always reads the newest frame
            self.sig_ready.emit()

    def _next_request(self) -> tuple[Advance | None, bool, float] | None:
        """What to do next, read under the lock: (request or None to wait, playing, max fps); None: stop."""
        with self._lock:
            if self._stop:
                return None
            if self._frames_to_step > 0:
                self._frames_to_step -= 1
                return Advance(), False, self._max_fps  # Step: one frame at the config's cadence
            if self._playing:
                return Advance(steps=self.steps_per_frame), True, self._max_fps
            return None, False, self._max_fps

    def _fit_budget(self, steps: int, seconds: float, max_fps: float) -> None:
        if steps > 0 and seconds > 0:
            budget = min(FRAME_BUDGET_S, 1.0 / max_fps)
            self.steps_per_frame = steps_for_budget(steps, seconds, budget)

    def run(self) -> None:
        generator = None
        try:
            generator = self._factory()
            self._publish(next(generator))
            while True:
                plan = self._next_request()
                if plan is None:
                    return
                request, playing, max_fps = plan
                if request is None:
                    self._wake.wait(0.1)
                    self._wake.clear()
                    continue
                started, before = time.perf_counter(), self.step
                frame = generator.send(request)
                check_frame(frame)
                spent = time.perf_counter() - started
                self._drawn.clear()
                self._publish(frame)
                if playing:
                    self._fit_budget(self.step - before, spent, max_fps)
                    # Python runs one thread at a time: while the GUI draws this frame, stay out of its
                    # way (a hidden or stalled window gets a bounded wait, not a frozen run)
                    self._drawn.wait(max(0.1, 3 * spent))
                    spare = 1.0 / max_fps - spent
                    if spare > 0:
                        self._wake.wait(spare)  # interruptible: Pause and Close wake it at once
                        self._wake.clear()
        except StopIteration:
            self.sig_finished.emit()
        except Exception as exc:  # every failure becomes a message in the tab, never a crash
            self.sig_failed.emit(describe_failure(exc, self.step))
        finally:
            if generator is not None and hasattr(generator, "close"):
                generator.close()


class ExperimentRunner(QtCore.QObject):
    """Drives one live experiment at a time; ``sig_frame`` carries frames to the view."""

    sig_frame = QtCore.pyqtSignal(object)
    sig_failed = QtCore.pyqtSignal(str)
    sig_state = QtCore.pyqtSignal(str)  # "paused" | "playing" | "finished" | "failed"

    def __init__(self, parent: QtCore.QObject | None = None, max_fps: float = 60.0, draw_fps: float = 32.0):
        super().__init__(parent)
        self.max_fps = max_fps
        self._draw_interval = 1.0 / draw_fps
        self._thread: _ExperimentThread | None = None
        self._last_draw = 0.0
        self._draw_timer = QtCore.QTimer(self, singleShot=True)
        self._draw_timer.timeout.connect(self._deliver)
        self.state = "idle"
        self.drawn_times: deque[float] = deque(maxlen=64)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.sig_state.emit(state)

    def load(self, factory: ExperimentFactory, *, play: bool = False) -> None:
        """Start ``factory()`` anew (Reset): its step-0 frame is shown at once, then it waits."""
        self.stop(timeout_ms=0)
        thread = _ExperimentThread(factory, self.max_fps)
        thread.sig_ready.connect(self._on_ready)
        thread.sig_failed.connect(self._on_failed)
        thread.sig_finished.connect(self._on_finished)
        self._thread = thread
        thread.command(playing=play)
        _keep_until_finished(thread)
        thread.start()
        self._set_state("playing" if play else "paused")

    def set_speed(self, max_fps: float) -> None:
        self.max_fps = max_fps
        if self._thread is not None:
            self._thread.command(max_fps=max_fps)

    def play(self) -> None:
        if self._thread is not None and self.state == "paused":
            self._thread.command(playing=True)
            self._set_state("playing")

    def pause(self) -> None:
        if self._thread is not None and self.state == "playing":
            self._thread.command(playing=False)
            self._set_state("paused")

    def toggle(self) -> None:
        self.pause() if self.state == "playing" else self.play()

    def step(self) -> None:
        """Advance exactly one frame (the config's steps per frame), then stay paused."""
        if self._thread is not None and self.state in ("paused", "playing"):
            self._thread.command(playing=False, step_once=True)
            self._set_state("paused")

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Stop the worker; True if it ended within ``timeout_ms``.

        A worker still inside a long step finishes it on its own and is then dropped: nothing it
        sends afterwards reaches the view, and it stays referenced until it has ended.
        """
        thread, self._thread = self._thread, None
        self._draw_timer.stop()
        if thread is None:
            return True
        for signal in (thread.sig_ready, thread.sig_failed, thread.sig_finished):
            signal.disconnect()
        thread.command(stop=True)
        return thread.wait(timeout_ms) if timeout_ms > 0 else thread.isFinished()

    @property
    def current_step(self) -> int:
        return self._thread.step if self._thread is not None else 0

    def rates(self) -> tuple[float, float]:
        """(steps per second, frames drawn per second) over the last few seconds."""
        now = time.perf_counter()
        steps_per_s = 0.0
        if self._thread is not None and self.state == "playing":
            recent = [(t, s) for t, s in self._thread.frame_times() if now - t < 3.0]
            if len(recent) >= 2 and recent[-1][0] > recent[0][0]:
                steps_per_s = (recent[-1][1] - recent[0][1]) / (recent[-1][0] - recent[0][0])
        drawn = [t for t in self.drawn_times if now - t < 3.0]
        frames_per_s = (len(drawn) - 1) / (drawn[-1] - drawn[0]) if len(drawn) >= 2 and drawn[-1] > drawn[0] else 0.0
        return steps_per_s, frames_per_s

    def _on_ready(self) -> None:
        wait = self._draw_interval - (time.perf_counter() - self._last_draw)
        if wait <= 0:
            self._deliver()
        elif not self._draw_timer.isActive():
            self._draw_timer.start(math.ceil(wait * 1000))

    def _deliver(self) -> None:
        if self._thread is None:
            return
        frame = self._thread.take_latest()
        if frame is None:
            return
        self._last_draw = time.perf_counter()
        self.drawn_times.append(self._last_draw)
        self.sig_frame.emit(frame)
        if self._thread is not None:
            self._thread.mark_drawn()

    def _on_failed(self, message: str) -> None:
        self._deliver()  # the frame before the failure first, then the message, then the state
        self.sig_failed.emit(message)
        self._set_state("failed")

    def _on_finished(self) -> None:
        self._deliver()
        self._set_state("finished")


class _JobThread(QtCore.QThread):
    sig_progress = QtCore.pyqtSignal(float, str)
    sig_partial = QtCore.pyqtSignal(object)
    sig_result = QtCore.pyqtSignal(object)
    sig_failed = QtCore.pyqtSignal(str)

    def __init__(self, factory: JobFactory, on_done: Callable[[Any], None], on_partial: Callable[[Any], None] | None):
        super().__init__()
        self._factory = factory
        self.on_done = on_done
        self.on_partial = on_partial
        self.cancelled = False  # written by the GUI thread only

    def run(self) -> None:
        try:
            job = self._factory()
            while True:
                try:
                    report = next(job)
                except StopIteration as done:
                    if not self.cancelled:
                        self.sig_result.emit(done.value)
                    return
                if self.cancelled:
                    job.close()
                    return
                if isinstance(report, Progress):
                    self.sig_progress.emit(float(report.fraction), report.message)
                    if report.partial is not None:
                        self.sig_partial.emit(report.partial)
        except Exception as exc:  # a failed job is a message, never a crash
            if not self.cancelled:
                self.sig_failed.emit(describe_failure(exc, None))


class JobRunner(QtCore.QObject):
    """One one-shot job at a time; a new one cancels the old, whose result is then ignored.

    ``busy`` and ``sig_busy(False)`` change only after the outcome (result, failure or cancel) has
    been delivered, so whoever waits on them sees the outcome already in place.
    """

    sig_progress = QtCore.pyqtSignal(float, str)
    sig_busy = QtCore.pyqtSignal(bool)
    sig_failed = QtCore.pyqtSignal(str)
    sig_cancelled = QtCore.pyqtSignal()

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.synchronous = False
        self._thread: _JobThread | None = None
        self._delivering = False
        self._threads: list[_JobThread] = []  # started here and maybe not yet ended, for ``wait``
        self.label = ""

    @property
    def busy(self) -> bool:
        return self._thread is not None or self._delivering

    def start(
        self,
        factory: JobFactory,
        on_done: Callable[[Any], None],
        label: str = "",
        on_partial: Callable[[Any], None] | None = None,
    ) -> None:
        """Run ``factory()`` as a job; ``on_done(result)`` and ``on_partial(x)`` run on the GUI thread."""
        self._drop_current()
        self.label = label
        if self.synchronous:
            self._run_sync(factory, on_done)
            return
        thread = _JobThread(factory, on_done, on_partial)
        thread.sig_progress.connect(self._on_progress)
        thread.sig_partial.connect(self._on_partial)
        thread.sig_result.connect(self._on_result)
        thread.sig_failed.connect(self._on_failed)
        self._thread = thread
        self._threads = [*(t for t in self._threads if not t.isFinished()), thread]
        _keep_until_finished(thread)
        self.sig_busy.emit(True)
        self.sig_progress.emit(0.0, label)
        thread.start()

    def _run_sync(self, factory: JobFactory, on_done: Callable[[Any], None]) -> None:
        try:
            job = factory()
            while True:
                try:
                    next(job)
                except StopIteration as done:
                    on_done(done.value)
                    return
        except Exception as exc:
            self.sig_failed.emit(describe_failure(exc, None))

    def _drop_current(self) -> _JobThread | None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.cancelled = True  # it stops at its next yield and delivers nothing
        return thread

    def cancel(self, quiet: bool = False) -> None:
        if self._drop_current() is None:
            return
        if not quiet:
            self.sig_cancelled.emit()
        self._idle()

    def wait(self, timeout_ms: int = 1000) -> bool:
        """Block until this runner's job threads, cancelled ones too, have ended (tests)."""
        deadline = time.perf_counter() + timeout_ms / 1000
        self._threads = [t for t in self._threads if not t.isFinished()]
        return all(t.wait(max(0, int((deadline - time.perf_counter()) * 1000))) for t in self._threads)

    def _idle(self) -> None:
        if not self.busy:
            self.sig_busy.emit(False)

    def _current(self) -> _JobThread | None:
        sender = self.sender()
        return sender if sender is self._thread else None

    def _on_progress(self, fraction: float, message: str) -> None:
        if self._current() is not None:
            self.sig_progress.emit(fraction, message)

    def _on_partial(self, partial: Any) -> None:
        thread = self._current()
        if thread is not None and thread.on_partial is not None:
            thread.on_partial(partial)

    def _on_result(self, result: Any) -> None:
        thread = self._current()
        if thread is None:
            return
        self._thread, self._delivering = None, True
        try:
            thread.on_done(result)  # may start the next job of a chain
        finally:
            self._delivering = False
            self._idle()

    def _on_failed(self, message: str) -> None:
        if self._current() is None:
            return
        self._thread, self._delivering = None, True
        try:
            self.sig_failed.emit(message)
        finally:
            self._delivering = False
            self._idle()
