"""One tab of the window: a topic's plots on the left; parameters, run controls and note on the right.

The page owns the topic's runners and wires them to the view, so every topic gets the same
play / pause / step / reset, progress with Cancel, and failure banner without writing any of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab.core.protocol import ExperimentFactory, run_sync
from explorer.ui.params import ParamPanel
from explorer.ui.runner import ExperimentRunner, JobRunner
from explorer.ui.theme import Theme, inherit_fonts
from explorer.ui.topic import TopicTab
from explorer.ui.widgets.fit import floor_figures
from explorer.ui.widgets.focus import AutoRanges, PlotFocus
from explorer.ui.widgets.panels import Banner, JobProgress, NotePanel, RunControls, bold

NOTES_DIR = Path(__file__).resolve().parents[2] / "resources" / "notes"


def read_note(name: str) -> str:
    path = NOTES_DIR / f"{name}.md"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return f"*The note for this topic ({path.name}) could not be read.*"


class _SidePanel(QtWidgets.QFrame):
    """The side panel: at least 300 px, and as wide as the parameter form needs to show every name and
    value whole (the form says how wide at the fonts in use; a splitter never squeezes it below that)."""

    def minimumSizeHint(self) -> QtCore.QSize:
        hint = super().minimumSizeHint()
        return QtCore.QSize(max(300, hint.width()), hint.height())


class TopicPage(QtWidgets.QWidget):
    sig_status = QtCore.pyqtSignal(str)
    sig_side_toggled = QtCore.pyqtSignal(bool)  # the user folded (False) or unfolded (True) the side panel

    def __init__(self, tab_cls: type[TopicTab], *, headless: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.tab = tab_cls()
        self.tab.plot_focus = PlotFocus(self.tab)  # double-click a plot: it takes the whole tab; Esc: back
        self.auto_ranges = AutoRanges(self.tab)  # what Reset gives back after a user's pan or zoom
        # every plot keeps a readable data area: a figure too tall for the page makes the page scroll
        self._floors = floor_figures(self.tab, skip=[self.tab.plot_focus.view])
        self.params = ParamPanel(tab_cls.parameters())
        self.runner = ExperimentRunner(self)
        self.jobs = JobRunner(self)
        self.jobs.synchronous = headless
        self.headless = headless
        self.tab.attach(self.params, self.jobs)
        self._started = False
        self._last_frame: Any = None

        self.banner = Banner()
        self.progress = JobProgress()
        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.banner)
        # plots scroll rather than shrink: below the tab's minimum height (scaled with the fonts) the
        # page scrolls vertically, so a plot stays readable on a 768-px projector
        self.scroll = QtWidgets.QScrollArea(widgetResizable=True, frameShape=QtWidgets.QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.tab)
        left_layout.addWidget(self.scroll, 1)
        left_layout.addWidget(self.progress)

        self.controls = RunControls()
        self.note = NotePanel(read_note(tab_cls.name))
        self.title_label = title = bold(QtWidgets.QLabel(tab_cls.title))
        summary = QtWidgets.QLabel(tab_cls.summary, wordWrap=True)
        # the side panel folds to a thin strip, so the plots get the screen (a projector's 1366 px)
        self.fold_button = QtWidgets.QToolButton(arrowType=QtCore.Qt.ArrowType.RightArrow, autoRaise=True)
        self.fold_button.setToolTip("Fold the side panel away (F9)")
        self.fold_button.clicked.connect(lambda: self.sig_side_toggled.emit(False))
        title_row = QtWidgets.QHBoxLayout()
        title_row.addWidget(title, 1)
        title_row.addWidget(self.fold_button)
        side = _SidePanel()
        self.side = side
        side_layout = QtWidgets.QVBoxLayout(side)
        side_layout.setContentsMargins(6, 4, 6, 4)
        side_layout.addLayout(title_row)
        side_layout.addWidget(summary)
        side_layout.addWidget(self.controls)
        side_split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        side_split.addWidget(self.params)
        side_split.addWidget(self.note)
        side_split.setStretchFactor(0, 3)
        side_split.setStretchFactor(1, 2)
        side_layout.addWidget(side_split, 1)

        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(side)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setSizes([1200, 340])
        # the side panel's width as first set is clamped to its form's width at the fonts of the time: a
        # theme change sets it again (see apply_theme), unless the user has dragged the divider since
        self.split, self._side_dragged = split, False
        split.splitterMoved.connect(lambda *_: setattr(self, "_side_dragged", True))
        self.side_strip = QtWidgets.QToolButton(arrowType=QtCore.Qt.ArrowType.LeftArrow, autoRaise=True)
        self.side_strip.setToolTip("Show the parameters, run controls and note (F9)")
        self.side_strip.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Expanding)
        self.side_strip.clicked.connect(lambda: self.sig_side_toggled.emit(True))
        self.side_strip.hide()
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        layout.addWidget(split)
        layout.addWidget(self.side_strip)

        self.controls.sig_toggle.connect(self.toggle_play)
        self.controls.sig_step.connect(self.step)
        self.controls.sig_reset.connect(self.reset)
        self.controls.sig_speed.connect(self.runner.set_speed)
        self.controls.set_speed(self.tab.frames_per_second)
        self.runner.sig_frame.connect(self._on_frame)
        self.runner.sig_failed.connect(self._on_failed)
        self.runner.sig_state.connect(self.controls.show_state)
        self.jobs.sig_progress.connect(self.progress.show_progress)
        self.jobs.sig_busy.connect(self.progress.set_busy)
        self.jobs.sig_failed.connect(self.banner.show_message)
        self.jobs.sig_cancelled.connect(lambda: self.sig_status.emit(f"{self.jobs.label}: cancelled"))
        self.progress.sig_cancel.connect(self.jobs.cancel)
        self.params.sig_changed.connect(self._on_param_changed)
        self.tab.sig_message.connect(self.banner.show_message)
        self.tab.sig_reset.connect(self.reset)
        self.controls.show_state("idle")
        self.has_experiment = tab_cls.live
        self.controls.setVisible(self.has_experiment)

    # --- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """First showing: run the view's jobs and load its experiment at step 0."""
        if self._started:
            return
        self._started = True
        self.tab.plot_focus.hook()  # views a tab built after its constructor
        self.tab.start_jobs()
        if not self.headless:
            self.reset()

    def reset(self) -> None:
        """Restart the experiment from the same seed (same initialization); keep playing if it was."""
        self.banner.hide()
        self.auto_ranges.restore()
        factory = self._experiment()
        if factory is None or self.headless or not self._started:
            return
        self.runner.load(factory, play=self.runner.state == "playing")

    def play(self) -> None:
        if self.runner.state in ("finished", "failed", "idle"):
            self.reset()
        self.runner.play()

    def toggle_play(self) -> None:
        if self.runner.state in ("finished", "failed", "idle"):
            self.reset()
        self.runner.toggle()

    def step(self) -> None:
        if self.runner.state in ("finished", "failed", "idle"):
            self.reset()
        self.runner.step()

    def set_side_open(self, open_: bool) -> None:
        """Show the side panel, or fold it to the strip at the right edge."""
        self.side.setVisible(open_)
        self.side_strip.setVisible(not open_)
        self._place_drawer()

    # --- in presentation mode the side panel is a drawer over the plots -------------------------------
    def _set_drawer(self, on: bool) -> None:
        """On a projector the side panel opens over the plots' right edge instead of beside them: the plots
        keep the width they were laid out for (a 1366-px screen less the panel cut some at the right), and
        F9 closes it again. Off, it goes back into the splitter, at the width a new page would give it."""
        if on == (self.side.parent() is self):
            return
        shown = not self.side.isHidden()
        if on:
            self.side.setParent(self)
            self.side.setAutoFillBackground(True)  # over the plots: opaque
            self.side.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        else:
            self.side.setAutoFillBackground(False)
            self.side.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            self.split.addWidget(self.side)
        self.side.setVisible(shown)
        self._place_drawer()

    def _place_drawer(self) -> None:
        if self.side.parent() is not self:
            return
        width = min(max(self.side.minimumSizeHint().width(), 340), max(0, self.width() - 40))
        self.side.setGeometry(self.width() - width, 0, width, self.height())
        self.side.raise_()

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_drawer()

    def side_is_open(self) -> bool:
        return not self.side.isHidden()

    def reset_parameters(self) -> list[str]:
        """Every field back to its default, applied as if typed, then Reset; returns the keys that changed."""
        defaults = {key: spec.default for key, spec in self.params.specs.items()}
        changed = [key for key, value in self.params.values().items() if defaults.get(key, value) != value]
        for key in changed:
            self.params.set_value(key, defaults[key])
        self.reset()
        return changed

    def shutdown(self) -> None:
        """Tell every worker of this page to stop, without waiting (the window waits once, for all)."""
        self.jobs.cancel(quiet=True)
        self.runner.stop(timeout_ms=0)

    def run_headless(self, steps: int) -> str | None:
        """Run jobs and ``steps`` steps in this thread (for --export); return a failure message or None."""
        self.start()
        factory = self._experiment()
        if factory is None:
            return self.banner.text() or None
        frame, failure, _ = run_sync(factory, steps)
        if frame is not None:
            self._on_frame(frame)
        if failure:
            self.banner.show_message(failure)
        return failure or self.banner.text() or None

    def _experiment(self) -> ExperimentFactory | None:
        """The tab's experiment for the form's values; a config that refuses them (a ValueError, e.g. k
        above the blocks) is said in the banner, here for every tab, and nothing runs."""
        try:
            return self.tab.experiment(self.params.values())
        except ValueError as exc:
            self.banner.show_message(str(exc))
            return None

    # --- slots ------------------------------------------------------------------------------
    def _on_frame(self, frame: Any) -> None:
        self._last_frame = frame
        self.tab.shown_step = getattr(frame, "step", None)
        try:
            self.tab.show_frame(frame)
        except Exception as exc:  # a drawing bug must not take the window down with it
            self.banner.show_message(f"Could not draw step {getattr(frame, 'step', '?')}: {exc}")
            self.runner.pause()
        self.controls.show_step(int(getattr(frame, "step", 0)))

    def _on_failed(self, message: str) -> None:
        self.banner.show_message(message)
        self.sig_status.emit(message)

    def _on_param_changed(self, key: str, value: Any) -> None:
        try:
            restart = self.tab.on_param_changed(key, value)
        except ValueError as exc:
            self.banner.show_message(str(exc))
            return
        if restart:
            self.reset()

    def apply_settings(self, assignments: list[tuple[str, Any]]) -> None:
        for key, value in assignments:
            self.params.set_value(key, value)

    def apply_theme(self, theme: Theme) -> None:
        """The tab, and the side panel's fonts that do not follow the application's by themselves."""
        inherit_fonts(self)  # a folded side panel's widgets too
        bold(self.title_label)
        self.params.restyle()  # now, not after the font-change events: a side panel unfolded next takes its width
        self._set_drawer(theme.presentation)
        if not self._side_dragged:
            self.split.setSizes([1200, 340])  # as a page built in this theme: clamped to the form's width now
        self.note.restyle()
        self.tab.apply_theme(theme)
        self.tab.theme_applied()
        self.tab.setMinimumHeight(int(self.tab.minimum_height * theme.font_scale))
