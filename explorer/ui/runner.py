"""The only place that knows about threads: it drives lab generators off the GUI thread.

:class:`ExperimentRunner` runs a live experiment (see ``explorer.lab.protocol``) in a QThread with
play / pause / step / reset, paces it to a frame rate, and hands the GUI only the *latest* frame, at
most ~30 times a second, so a fast experiment can never flood the event loop. :class:`JobRunner`
runs one-shot jobs with progress and Cancel. Both turn any exception, a non-finite loss or an
out-of-memory into a one-line message naming the step. Both also run synchronously, for headless
export and tests, through the very same generator.

A hand-written QThread (rather than superqt's ``thread_worker``) because Step needs "run exactly
one more frame, then pause", pacing needs an interruptible sleep, and Close must stop the thread
within a bounded time; all three are a few lines around one ``threading.Event``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from PyQt6 import QtCore

from explorer.lab.protocol import Diverged, Job, Progress

ExperimentFactory = Callable[[], Iterator[Any]]
JobFactory = Callable[[], Job[Any]]


def describe_failure(exc: BaseException, step: int | None) -> str:
    """One line a person can act on: what happened, at which step, and what to try."""
    at = f" at step {step}" if step is not None else ""
    if isinstance(exc, Diverged):
        return f"Diverged: {exc.what} at step {exc.step}. Try a smaller learning rate, then Reset."
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc):
        first = str(exc).splitlines()[0] if str(exc) else "no detail"
        return f"Out of memory{at}: {first}. Try a smaller size or the CPU."
    return f"Stopped{at}: {type(exc).__name__}: {exc}"


def check_frame(frame: Any) -> None:
    """A frame with a non-finite ``loss`` ends the run as a divergence at that frame's step."""
    loss = getattr(frame, "loss", None)
    if isinstance(loss, float) and not math.isfinite(loss):
        raise Diverged(frame.step, f"loss became {loss}")


class _ExperimentThread(QtCore.QThread):
    sig_ready = QtCore.pyqtSignal()
    sig_failed = QtCore.pyqtSignal(str)
    sig_finished = QtCore.pyqtSignal()

    def __init__(self, factory: ExperimentFactory, max_fps: float) -> None:
        super().__init__()
        self._factory = factory
        self.max_fps = max_fps
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._stop = False
        self._playing = False
        self._frames_to_step = 0
        self._latest: Any = None
        self._pending = False
        self.step = 0
        self.frame_times: deque[tuple[float, int]] = deque(maxlen=64)  # (time, step) of produced frames

    # --- commands from the GUI thread -------------------------------------------------------
    def command(self, *, playing: bool | None = None, step_once: bool = False, stop: bool = False) -> None:
        if playing is not None:
            self._playing = playing
        if step_once:
            self._frames_to_step += 1
        if stop:
            self._stop = True
        self._wake.set()

    def take_latest(self) -> Any:
        with self._lock:
            self._pending = False
            return self._latest

    # --- the worker loop --------------------------------------------------------------------
    def _publish(self, frame: Any) -> None:
        self.step = int(getattr(frame, "step", self.step))
        self.frame_times.append((time.perf_counter(), self.step))
        with self._lock:
            self._latest = frame
            notify, self._pending = not self._pending, True
        if notify:  # one queued signal at a time: the GUI always reads the newest frame
            self.sig_ready.emit()

    def run(self) -> None:
        generator = None
        try:
            generator = self._factory()
            self._publish(next(generator))
            while not self._stop:
                if not self._playing and self._frames_to_step == 0:
                    self._wake.wait(0.1)
                    self._wake.clear()
                    continue
                started = time.perf_counter()
                frame = next(generator)
                check_frame(frame)
                self._frames_to_step = max(0, self._frames_to_step - 1)
                self._publish(frame)
                spare = 1.0 / self.max_fps - (time.perf_counter() - started)
                if self._playing and spare > 0:
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
        self._orphans: set[_ExperimentThread] = set()
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
        self.stop()
        thread = _ExperimentThread(factory, self.max_fps)
        thread.sig_ready.connect(self._on_ready)
        thread.sig_failed.connect(self._on_failed)
        thread.sig_finished.connect(self._on_finished)
        self._thread = thread
        thread.command(playing=play)
        thread.start()
        self._set_state("playing" if play else "paused")

    def set_speed(self, max_fps: float) -> None:
        self.max_fps = max_fps
        if self._thread is not None:
            self._thread.max_fps = max_fps

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
        """Advance exactly one frame, then stay paused."""
        if self._thread is not None and self.state in ("paused", "playing"):
            self._thread.command(playing=False, step_once=True)
            self._set_state("paused")

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Stop the worker; True if it ended within ``timeout_ms`` (else it is left to finish)."""
        thread, self._thread = self._thread, None
        self._draw_timer.stop()
        if thread is None:
            return True
        for signal in (thread.sig_ready, thread.sig_failed, thread.sig_finished):
            signal.disconnect()
        thread.command(stop=True)
        if thread.wait(timeout_ms):
            return True
        self._orphans.add(thread)  # still inside a long step: keep it alive until it returns
        thread.finished.connect(self._on_orphan_finished)
        return False

    def _on_orphan_finished(self) -> None:
        self._orphans.discard(self.sender())

    @property
    def current_step(self) -> int:
        return self._thread.step if self._thread is not None else 0

    def rates(self) -> tuple[float, float]:
        """(steps per second, frames drawn per second) over the last few seconds."""
        now = time.perf_counter()
        steps_per_s = 0.0
        if self._thread is not None and self.state == "playing":
            recent = [(t, s) for t, s in self._thread.frame_times if now - t < 3.0]
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

    def _on_failed(self, message: str) -> None:
        self._deliver()
        self._set_state("failed")
        self.sig_failed.emit(message)

    def _on_finished(self) -> None:
        self._deliver()
        self._set_state("finished")

    @staticmethod
    def run_sync(factory: ExperimentFactory, until_step: int) -> tuple[Any, str | None]:
        """Run in this thread until a frame reaches ``until_step`` (or the run ends / fails).

        Returns (last frame, failure message or None): the headless twin of play.
        """
        frame, step = None, 0
        generator = factory()
        try:
            for frame in generator:
                check_frame(frame)
                step = frame.step
                if step >= until_step:
                    break
        except Exception as exc:
            return frame, describe_failure(exc, step)
        finally:
            if hasattr(generator, "close"):
                generator.close()
        return frame, None


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
        self.cancelled = False

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
    """One one-shot job at a time; a new one cancels the old, whose result is then ignored."""

    sig_progress = QtCore.pyqtSignal(float, str)
    sig_busy = QtCore.pyqtSignal(bool)
    sig_failed = QtCore.pyqtSignal(str)
    sig_cancelled = QtCore.pyqtSignal()

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.synchronous = False
        self._thread: _JobThread | None = None
        self._orphans: set[_JobThread] = set()
        self.label = ""

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(
        self,
        factory: JobFactory,
        on_done: Callable[[Any], None],
        label: str = "",
        on_partial: Callable[[Any], None] | None = None,
    ) -> None:
        """Run ``factory()`` as a job; ``on_done(result)`` and ``on_partial(x)`` run on the GUI thread."""
        self.cancel(quiet=True)
        self.label = label
        if self.synchronous:
            self._run_sync(factory, on_done)
            return
        thread = _JobThread(factory, on_done, on_partial)
        thread.sig_progress.connect(self.sig_progress)
        thread.sig_partial.connect(self._on_partial)
        thread.sig_result.connect(self._on_result)
        thread.sig_failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
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

    def cancel(self, quiet: bool = False) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.cancelled = True
        self._orphans.add(thread)  # the job stops at its next yield; keep it alive until then
        self.sig_busy.emit(False)
        if not quiet:
            self.sig_cancelled.emit()

    def wait(self, timeout_ms: int = 1000) -> bool:
        """Block until the current job and cancelled ones have ended (used on close and in tests)."""
        threads = [t for t in (self._thread, *self._orphans) if t is not None]
        return all(t.wait(timeout_ms) for t in threads)

    def _current(self) -> _JobThread | None:
        sender = self.sender()
        return sender if sender is self._thread else None

    def _on_partial(self, partial: Any) -> None:
        thread = self._current()
        if thread is not None and thread.on_partial is not None:
            thread.on_partial(partial)

    def _on_result(self, result: Any) -> None:
        thread = self._current()
        if thread is None:
            return
        self._thread = None
        self.sig_busy.emit(False)
        thread.on_done(result)

    def _on_failed(self, message: str) -> None:
        if self._current() is None:
            return
        self._thread = None
        self.sig_busy.emit(False)
        self.sig_failed.emit(message)

    def _on_thread_finished(self) -> None:
        self._orphans.discard(self.sender())
