"""Record a tab as an animation (GIF or MP4): one frame every K steps of its experiment, for notes.

A recording runs its own instance of the tab's experiment from step 0 in this thread, at the pace the
encoder allows rather than the live runner's frame budget, and draws each frame with the tab's own
``show_frame``. The live run is paused while it records and its frames are held back (so none lands in
the middle of a recording); afterwards the newest live frame is drawn again and a run that was playing
plays on. Each picture is the PNG export's (``render_image``: the figure, no buttons or view bars), drawn
at the chosen width. The file appears whole or not at all: a cancelled or failed recording leaves
nothing. A run that diverges ends the recording at that step, with the frames up to there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab.core.protocol import Advance, ExperimentFactory, check_frame, describe_failure
from explorer.ui.export import ExportError, atomic_target, check_writable, chrome_hidden, render_image

if TYPE_CHECKING:
    from explorer.ui.page import TopicPage
    from explorer.ui.window import MainWindow

SUFFIXES = (".gif", ".mp4")
MIN_WIDTH = 64

#: ``progress(frames done, frames planned)``; False cancels the recording
ProgressCallback = Callable[[int, int], bool]


class RecordError(ExportError):
    """A recording that cannot be made or written; the message is one line for the user."""


class _Cancelled(Exception):
    pass


@dataclass(frozen=True)
class Recording:
    """What a recording wrote: ``path`` None when cancelled; ``stopped`` the run's failure, if it ended one."""

    path: Path | None
    frames: int
    last_step: int
    size: tuple[int, int]
    fps: float
    stopped: str | None = None

    def summary(self) -> str:
        if self.path is None:
            return "Recording cancelled: nothing was written."
        w, h = self.size
        text = (
            f"Recorded {self.frames} frames (steps 0–{self.last_step}) to {self.path.name}, {w}×{h}, {self.fps:g} fps"
        )
        return f"{text}; then the run stopped: {self.stopped}" if self.stopped else f"{text}."


def planned_frames(steps: int, frame_every: int) -> int:
    """Frames at steps 0, K, 2K, … and at ``steps`` itself."""
    return steps // frame_every + 1 + (1 if steps % frame_every else 0)


def frames_every(factory: ExperimentFactory, steps: int, frame_every: int) -> Iterator[Any]:
    """The experiment's frames at steps 0, K, 2K, … up to ``steps`` (or to where the run ends).

    A run that yields more often than asked (a step-through yields every tile) is read on to the next
    multiple of K; one that caps a request at its own cadence is asked again. A failure propagates.
    """
    generator = factory()
    try:
        frame = next(generator)
        check_frame(frame)
        yield frame
        while (step := int(frame.step)) < steps:
            target = min(steps, (step // frame_every + 1) * frame_every)
            while step < target:
                frame = generator.send(Advance(steps=target - step, stop_at=target))
                check_frame(frame)
                step = int(frame.step)
            yield frame
    except StopIteration:
        return
    finally:
        generator.close()


def record(
    page: TopicPage,
    path: Path,
    steps: int,
    frame_every: int,
    fps: float = 10,
    width: int | None = None,
    progress: ProgressCallback | None = None,
) -> Recording:
    """Record ``page``'s experiment from step 0 to ``steps``, one frame every ``frame_every`` steps, into
    ``path`` (.gif or .mp4), ``width`` pixels wide (None: the tab's own width). Raises :class:`RecordError`
    when nothing can be recorded or written; a cancel returns a :class:`Recording` without a path."""
    path = Path(path)
    session = _Session(page, path, fps, width, planned_frames(max(1, steps), max(1, frame_every)), progress)
    try:
        factory = _check(page, path, steps, frame_every, fps, width)
        if progress is not None and not progress(0, session.total):
            raise _Cancelled
        with (
            _live_run_held(page),
            _jobs_in_background(page),
            _step_view_shown(page),
            chrome_hidden(page.tab),
            atomic_target(path) as tmp,
            contextlib.closing(frames_every(factory, steps, frame_every)) as frames,
        ):
            session.run(frames, tmp)
    except _Cancelled:
        return Recording(None, session.frames, session.last_step, session.shape, fps)
    except RecordError:
        raise
    except ExportError as exc:  # a file that cannot be written: one kind of error for callers to catch
        raise RecordError(str(exc)) from exc
    return Recording(path, session.frames, session.last_step, session.shape, fps, session.stopped)


class _Session:
    """One recording's loop: draw, grab, encode, report; it remembers how far it got."""

    def __init__(
        self, page: TopicPage, path: Path, fps: float, width: int | None, total: int, progress: ProgressCallback | None
    ) -> None:
        self.page, self.path, self.fps, self.width, self.total, self.progress = page, path, fps, width, total, progress
        self.frames, self.last_step, self.shape = 0, 0, (0, 0)
        self.stopped: str | None = None

    def run(self, frames: Iterator[Any], tmp: Path) -> None:
        encoder: _Gif | _Mp4 | None = None
        try:
            while (frame := self._next(frames)) is not None:
                if encoder is None:
                    self.shape = _frame_size(self.page.tab, self.width)
                    encoder = _Mp4(tmp, self.path, self.shape, self.fps) if _is_mp4(self.path) else _Gif(tmp, self.fps)
                encoder.add(_grab(self.page.tab, self.shape))
                self.frames, self.last_step = self.frames + 1, int(frame.step)
                if self.progress is not None and not self.progress(self.frames, max(self.total, self.frames)):
                    raise _Cancelled
            if encoder is None:
                raise RecordError(f"Nothing recorded: {self.stopped or 'the run gave no frame'}")
            encoder.finish()
        finally:
            if encoder is not None:
                encoder.close()  # before the temporary file goes: ffmpeg may still hold it

    def _next(self, frames: Iterator[Any]) -> Any:
        """The next frame, drawn; None at the end, or when the run or the drawing failed (said in ``stopped``)."""
        try:
            frame = next(frames, None)
        except Exception as exc:
            self.stopped = describe_failure(exc, self.last_step if self.frames else None)
            return None
        if frame is None:
            return None
        try:
            self.page.tab.shown_step = getattr(frame, "step", None)
            self.page.tab.show_frame(frame)
        except Exception as exc:  # a drawing bug ends the recording like a failed run
            self.stopped = f"Could not draw step {frame.step}: {type(exc).__name__}: {exc}"
            return None
        return frame


def record_headless(
    page: TopicPage, path: Path, steps: int, frame_every: int, fps: float = 10, width: int | None = None
) -> str | None:
    """For ``--record``: start the page (its jobs run here), record; None, or one line saying what went
    wrong. The file exists after a message only if the run stopped early (it holds the frames up to there)."""
    try:
        page.start()
        recording = record(page, Path(path), steps, frame_every, fps, width)
    except ExportError as exc:
        return str(exc)
    return recording.summary() if recording.stopped else None


def open_record_dialog(window: MainWindow) -> Recording | None:
    """File > Record…: ask for the file and pacing, record the current tab with a progress dialog and Cancel,
    and say how it went in the status bar (a failure in a message box). Returns what was recorded."""
    from explorer.ui.widgets.record_dialog import RecordDialog

    page = window.current_page()
    refusal = refuse(page)
    if refusal:
        QtWidgets.QMessageBox.information(window, "Record", refusal)
        return None
    dialog = RecordDialog(page, window)
    if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
        return None
    choice = dialog.choice()
    busy = QtWidgets.QProgressDialog(f"Recording {page.tab.title}…", "Cancel", 0, 1, window)
    busy.setWindowTitle("Record")
    busy.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
    busy.setMinimumDuration(0)

    def report(done: int, total: int) -> bool:
        busy.setMaximum(total)
        busy.setValue(done)
        busy.setLabelText(f"Recording {page.tab.title}: frame {done} of {total}")
        QtWidgets.QApplication.processEvents()
        return not busy.wasCanceled()

    try:
        recording = record(page, choice.path, choice.steps, choice.frame_every, choice.fps, choice.width, report)
    except ExportError as exc:
        busy.close()
        window.statusBar().showMessage(f"Not recorded: {exc}", 10000)
        QtWidgets.QMessageBox.warning(window, "Record", str(exc))
        return None
    busy.close()
    window.statusBar().showMessage(recording.summary(), 15000)
    return recording


def refuse(page: TopicPage) -> str | None:
    """Why ``page`` cannot be recorded, or None: only a tab with a live run moves."""
    if not page.has_experiment:
        return (
            f"The {page.tab.title} tab has no live run to record: its pictures do not change step by step. "
            "Export it as a PNG instead."
        )
    return None


def _check(
    page: TopicPage, path: Path, steps: int, frame_every: int, fps: float, width: int | None
) -> ExperimentFactory:
    refusal = refuse(page)
    if refusal:
        raise RecordError(refusal)
    if path.suffix.lower() not in SUFFIXES:
        raise RecordError(f"cannot record {path.name}: use a file ending in {' or '.join(SUFFIXES)}")
    if steps < 1 or frame_every < 1:
        raise RecordError(f"steps ({steps}) and frame every ({frame_every}) must be at least 1")
    if not 0 < fps <= 100:
        raise RecordError(f"frames per second must be above 0 and at most 100, got {fps:g}")
    if width is not None and width < MIN_WIDTH:
        raise RecordError(f"a width of {width} px is too small to read: use at least {MIN_WIDTH}")
    if page.tab.width() < MIN_WIDTH or page.tab.height() < 16:
        raise RecordError(f"the {page.tab.title} tab is not shown, so there is nothing to draw: show the window first")
    if _is_mp4(path):
        _imageio_ffmpeg()
    check_writable(path)  # before any step runs: a bad path costs nothing
    try:
        factory = page.tab.experiment(page.params.values())
    except ValueError as exc:
        raise RecordError(str(exc)) from None
    if factory is None:
        raise RecordError(f"The {page.tab.title} tab has no experiment for these settings")
    return factory


@contextlib.contextmanager
def _jobs_in_background(page: TopicPage) -> Iterator[None]:
    """Headless, a tab runs the job a frame starts (a landscape) at once, for the one frame it exports; a
    recording shows many frames: their jobs run in the background instead, and are dropped at the end."""
    synchronous = page.jobs.synchronous
    page.jobs.synchronous = False
    try:
        yield
    finally:
        page.jobs.synchronous = synchronous
        if synchronous:
            page.jobs.cancel(quiet=True)


@contextlib.contextmanager
def _live_run_held(page: TopicPage) -> Iterator[None]:
    """Pause the live run and keep its frames off the tab while recording; then draw its newest frame."""
    runner = page.runner
    was_playing = runner.state == "playing"
    runner.pause()
    newest = [getattr(page, "_last_frame", None)]

    def hold(frame: Any) -> None:
        newest[0] = frame

    try:
        runner.sig_frame.disconnect(page._on_frame)
        wired = True
    except TypeError:  # not connected (a page wired otherwise): pausing is all there is to do
        wired = False
    runner.sig_frame.connect(hold)
    try:
        yield
    finally:
        runner.sig_frame.disconnect(hold)
        if wired:
            runner.sig_frame.connect(page._on_frame)
        if newest[0] is not None:
            page._on_frame(newest[0])
        if was_playing:
            runner.play()


@contextlib.contextmanager
def _step_view_shown(page: TopicPage) -> Iterator[None]:
    """A tab with a step-through view (FlashAttention) is recorded in it: the other view does not move."""
    spec = page.params.specs.get("view")
    before = page.params.value("view") if spec is not None else None
    switch = spec is not None and "step" in (spec.choices or ()) and before != "step"
    if switch:
        page.params.set_value("view", "step")
    try:
        yield
    finally:
        if switch:
            page.params.set_value("view", before)


def _frame_size(tab: QtWidgets.QWidget, width: int | None) -> tuple[int, int]:
    """(width, height) of every frame: the tab's aspect, even sides (H.264's yuv420p halves both)."""
    w = max(MIN_WIDTH, width or tab.width())
    h = round(tab.height() * w / max(1, tab.width()))
    return w - w % 2, max(2, h - h % 2)


def _grab(tab: QtWidgets.QWidget, shape: tuple[int, int]) -> np.ndarray:
    """The tab as the PNG export draws it, at ``shape`` exactly: (height, width, 3) uint8 RGB."""
    w, h = shape
    image = render_image(tab, scale=w / max(1, tab.width()))
    image.setDevicePixelRatio(1.0)
    if (image.width(), image.height()) != shape:  # rounding, or a tab that changed size mid-recording
        image = image.scaled(
            w, h, QtCore.Qt.AspectRatioMode.IgnoreAspectRatio, QtCore.Qt.TransformationMode.SmoothTransformation
        )
    image = image.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    rows = np.frombuffer(bits, np.uint8).reshape(h, image.bytesPerLine())  # (H, stride): rows are padded
    return rows[:, : w * 3].reshape(h, w, 3).copy()  # (H, W, 3)


def _is_mp4(path: Path) -> bool:
    return path.suffix.lower() == ".mp4"


class _Gif:
    """Pillow writes a GIF at once, so frames wait as 256-colour images (1 byte a pixel), each with its own
    palette; no dithering, so lines and text stay crisp."""

    def __init__(self, tmp: Path, fps: float) -> None:
        self.tmp, self.fps = tmp, fps
        self.frames: list[Any] = []

    def add(self, rgb: np.ndarray) -> None:
        from PIL import Image

        self.frames.append(Image.fromarray(rgb).quantize(256, Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))

    def finish(self) -> None:
        first, *rest = self.frames
        # GIF delays are in hundredths of a second
        first.save(self.tmp, format="GIF", save_all=True, append_images=rest, duration=round(1000 / self.fps), loop=0)

    def close(self) -> None:
        self.frames.clear()


def _imageio_ffmpeg() -> Any:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise RecordError(
            "MP4 needs the imageio-ffmpeg package (pip install imageio-ffmpeg); GIF works without it"
        ) from None
    return imageio_ffmpeg


class _Mp4:
    """H.264 in yuv420p (what every player plays), streamed to ffmpeg frame by frame."""

    def __init__(self, tmp: Path, path: Path, shape: tuple[int, int], fps: float) -> None:
        self.path = path
        self.writer = _imageio_ffmpeg().write_frames(
            str(tmp), shape, fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=7, macro_block_size=2,
            output_params=["-f", "mp4", "-movflags", "+faststart"],  # the temporary name says nothing of the format
        )  # fmt: skip
        self._call(lambda: self.writer.send(None))
        self.open = True

    def _call(self, action: Callable[[], Any]) -> None:
        try:
            action()
        except (OSError, RuntimeError) as exc:
            self.open = False
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RecordError(f"could not encode {self.path.name}: {first}") from exc

    def add(self, rgb: np.ndarray) -> None:
        self._call(lambda: self.writer.send(np.ascontiguousarray(rgb)))

    def finish(self) -> None:
        self.open = False
        self._call(self.writer.close)

    def close(self) -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(Exception):
                self.writer.close()
