"""File > Record…: where to write the animation, how far to run, how often to take a frame, how fast and
how wide to play it. It only asks; :func:`explorer.ui.record.open_record_dialog` records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6 import QtWidgets

from explorer.ui.record import MIN_WIDTH, SUFFIXES, planned_frames

if TYPE_CHECKING:
    from explorer.ui.page import TopicPage

#: the width a new recording gets: readable on a slide, small enough for notes
DEFAULT_WIDTH = 960
#: frames a new recording aims at, whatever the run's length
DEFAULT_FRAMES = 60


@dataclass(frozen=True)
class RecordChoice:
    path: Path
    steps: int
    frame_every: int
    fps: float
    width: int | None  # None: as wide as the tab on screen


class RecordDialog(QtWidgets.QDialog):
    def __init__(self, page: TopicPage, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Record {page.tab.title}")
        values = page.params.values()
        steps = int(values.get("steps", 200))  # the run's own length where it has one
        self.path = QtWidgets.QLineEdit(str(Path.cwd() / f"{page.tab.name}.gif"))
        browse = QtWidgets.QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QtWidgets.QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        self.steps = _spin(1, 10_000_000, steps, "Run from step 0 to this step (a run that ends sooner stops there)")
        self.frame_every = _spin(
            1, 1_000_000, max(1, steps // DEFAULT_FRAMES), "One frame every K steps (and one at the last step)"
        )
        self.fps = QtWidgets.QDoubleSpinBox(minimum=1.0, maximum=60.0, value=10.0, decimals=1, suffix=" fps")
        self.fps.setToolTip("How fast the animation plays back")
        self.width = _spin(0, 3840, min(DEFAULT_WIDTH, max(MIN_WIDTH, page.tab.width())), "Width of the animation")
        self.width.setSuffix(" px")
        self.width.setSpecialValueText("as on screen")  # 0
        self.summary = QtWidgets.QLabel()
        self.buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setText("Record")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("File (.gif or .mp4)", path_row)
        form.addRow("Steps", self.steps)
        form.addRow("Frame every K steps", self.frame_every)
        form.addRow("Frames per second", self.fps)
        form.addRow("Width", self.width)
        form.addRow(self.summary)
        form.addRow(self.buttons)
        for signal in (self.path.textChanged, self.steps.valueChanged, self.frame_every.valueChanged):
            signal.connect(self._update)
        self.fps.valueChanged.connect(self._update)
        self._update()

    def choice(self) -> RecordChoice:
        width = self.width.value()
        return RecordChoice(
            Path(self.path.text().strip()).expanduser(),
            self.steps.value(),
            self.frame_every.value(),
            self.fps.value(),
            max(MIN_WIDTH, width) if width else None,
        )

    def _browse(self) -> None:
        name, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Record to", self.path.text(), "Animated GIF (*.gif);;MP4 video (*.mp4)"
        )
        if name:
            self.path.setText(name)

    def _update(self) -> None:
        """Say what the choice gives (frames, seconds) and allow Record only for a file it can write."""
        choice = self.choice()
        ok = choice.path.suffix.lower() in SUFFIXES and bool(choice.path.name)
        frames = planned_frames(choice.steps, choice.frame_every)
        self.summary.setText(
            f"{frames} frames, {frames / choice.fps:.1f} s" if ok else f"The file must end in {' or '.join(SUFFIXES)}"
        )
        self.buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


def _spin(low: int, high: int, value: int, tip: str) -> QtWidgets.QSpinBox:
    spin = QtWidgets.QSpinBox(minimum=low, maximum=high, value=value)
    spin.setToolTip(tip)
    return spin
