"""Small shared widgets of the side panel: message banner, run controls, job progress, topic note."""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab.core.presets import Preset, link_presets, preset_index


class Banner(QtWidgets.QFrame):
    """A visible, dismissable message at the top of a tab: divergence, out-of-memory, bad input."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setStyleSheet(
            "#banner { background: #fde8e4; border: 1px solid #d55e00; border-radius: 4px; }"
            "#banner QLabel { color: #5a1a00; }"
        )
        self.label = QtWidgets.QLabel(wordWrap=True)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QtWidgets.QToolButton(text="✕", autoRaise=True, toolTip="Dismiss")
        close.clicked.connect(self.hide)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str) -> None:
        """Show ``text``; an empty text clears the banner (the problem it reported is gone)."""
        self.label.setText(text)
        self.setVisible(bool(text))

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""


class RunControls(QtWidgets.QWidget):
    """Play/Pause, Step, Reset, the speed (frames per second) and the current step."""

    sig_toggle = QtCore.pyqtSignal()
    sig_step = QtCore.pyqtSignal()
    sig_reset = QtCore.pyqtSignal()
    sig_speed = QtCore.pyqtSignal(float)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.play = QtWidgets.QPushButton("▶ Play", toolTip="Play / pause the run (Space)")
        self.step = QtWidgets.QPushButton("Step", toolTip="Advance one frame and pause (S)")
        self.reset = QtWidgets.QPushButton("Reset", toolTip="Start again from the same initialization (R)")
        for button in (self.play, self.step, self.reset):
            button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space must stay the shortcut
        self.play.clicked.connect(self.sig_toggle)
        self.step.clicked.connect(self.sig_step)
        self.reset.clicked.connect(self.sig_reset)
        self.speed = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, minimum=1, maximum=120, value=30)
        self.speed.setToolTip("Frames per second the experiment may produce; each frame is a few steps")
        self.speed_label = QtWidgets.QLabel("30 frames/s")
        self.speed.valueChanged.connect(self._on_speed)
        self.step_label = QtWidgets.QLabel("step 0")
        self.step_label.setToolTip("Optimisation steps taken since the last Reset")
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.play, 0, 0)
        grid.addWidget(self.step, 0, 1)
        grid.addWidget(self.reset, 0, 2)
        grid.addWidget(QtWidgets.QLabel("Speed"), 1, 0)
        grid.addWidget(self.speed, 1, 1)
        grid.addWidget(self.speed_label, 1, 2)
        grid.addWidget(self.step_label, 2, 0, 1, 3)

    def set_speed(self, frames_per_second: int) -> None:
        """Move the slider (and tell the runner) without a user's drag."""
        self.speed.setValue(int(frames_per_second))
        self._on_speed(self.speed.value())

    def _on_speed(self, value: int) -> None:
        self.speed_label.setText(f"{value} frames/s")
        self.sig_speed.emit(float(value))

    def show_state(self, state: str) -> None:
        """After a run ends (finished or failed), Play and Step start again from the same seed."""
        ended = state in ("finished", "failed")
        self.play.setText("❚❚ Pause" if state == "playing" else "▶ Replay" if ended else "▶ Play")
        self.play.setEnabled(state != "idle")
        self.step.setEnabled(state != "idle")

    def show_step(self, step: int) -> None:
        self.step_label.setText(f"step {step}")


class JobProgress(QtWidgets.QWidget):
    """A progress bar with a label and Cancel, visible only while a job runs."""

    sig_cancel = QtCore.pyqtSignal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QtWidgets.QLabel()
        self.bar = QtWidgets.QProgressBar(minimum=0, maximum=1000)
        self.bar.setTextVisible(False)
        self.cancel = QtWidgets.QPushButton("Cancel", toolTip="Stop this computation")
        self.cancel.clicked.connect(self.sig_cancel)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel)
        self.hide()

    def show_progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(1000 * min(max(fraction, 0.0), 1.0)))
        if message:
            self.label.setText(message)

    def set_busy(self, busy: bool) -> None:
        self.setVisible(busy)
        if busy:
            self.bar.setValue(0)


_LINK_ON_DARK = "#7cc4ff"  # a light blue that reads on the dark theme's background


class NoteBrowser(QtWidgets.QTextBrowser):
    """A Markdown note whose "What to try" items end in links that set up the experiment (its presets)."""

    sig_preset = QtCore.pyqtSignal(object)  # the Preset of the link clicked

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)  # every click comes here: a preset runs, a web link opens in the browser
        self.anchorClicked.connect(self._on_anchor)
        self.highlighted.connect(self._on_hover)
        self.markdown = ""
        self.presets: list[Preset] = []

    def show_markdown(self, markdown: str, presets: Sequence[Preset] = ()) -> None:
        self.markdown, self.presets = markdown, list(presets)
        self.setMarkdown(link_presets(markdown, self.presets))
        self._color_links()

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QtCore.QEvent.Type.PaletteChange, QtCore.QEvent.Type.ApplicationPaletteChange):
            self._color_links()

    def _color_links(self) -> None:
        """Links in the palette's link colour, lightened on a dark background: the Markdown reader takes
        Qt's default dark blue, which cannot be read on the dark theme's near-black."""
        palette = self.palette()
        color = palette.color(QtGui.QPalette.ColorRole.Link)
        if palette.color(QtGui.QPalette.ColorRole.Base).lightness() < 128 and color.lightness() < 160:
            color = QtGui.QColor(_LINK_ON_DARK)
        spans = []
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.charFormat().isAnchor():
                    spans.append((fragment.position(), fragment.position() + fragment.length()))
                it += 1
            block = block.next()
        recolor = QtGui.QTextCharFormat()
        recolor.setForeground(color)
        cursor = QtGui.QTextCursor(self.document())
        for start, end in spans:
            cursor.setPosition(start)
            cursor.setPosition(end, QtGui.QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(recolor)

    def preset_at(self, href: str) -> Preset | None:
        index = preset_index(href)
        return self.presets[index] if index is not None and index < len(self.presets) else None

    def _on_anchor(self, url: QtCore.QUrl) -> None:
        if preset_index(url.toString()) is None:
            QtGui.QDesktopServices.openUrl(url)
            return
        preset = self.preset_at(url.toString())
        if preset is not None:
            self.sig_preset.emit(preset)

    def _on_hover(self, url: QtCore.QUrl) -> None:
        """Say what a preset link sets before it is clicked."""
        preset = self.preset_at(url.toString())
        if preset is None:
            QtWidgets.QToolTip.hideText()
            return
        what = f"the defaults, then {preset.describe()}" if preset.values else "every parameter at its default"
        QtWidgets.QToolTip.showText(QtGui.QCursor.pos(), f"{preset.tab}: {what}; the run restarts", self)


class NotePanel(QtWidgets.QWidget):
    """The topic's Markdown note under a header that folds it away; its experiments are links."""

    sig_toggled = QtCore.pyqtSignal(bool)
    sig_preset = QtCore.pyqtSignal(object)  # a "▶" link of the note was clicked: apply this Preset

    def __init__(self, markdown: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QtWidgets.QToolButton(text="About this topic", checkable=True, checked=True)
        self.header.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setArrowType(QtCore.Qt.ArrowType.DownArrow)
        self.header.setFont(bold_only())  # bold, at the application's size, whatever the theme
        self.header.toggled.connect(self.set_open)
        self.markdown = markdown
        self.presets: list[Preset] = []
        self.browser = NoteBrowser()
        self.browser.sig_preset.connect(self.sig_preset)
        self.restyle()
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.browser, 1)

    def set_presets(self, presets: Sequence[Preset]) -> None:
        """Link these presets into the note, each at the end of its What-to-try item."""
        self.presets = list(presets)
        self.restyle()

    def restyle(self) -> None:
        """Header and note for the application's palette and font now (after a theme change).

        A widget with a style sheet keeps the palette it was polished with (the header kept the dark
        theme's light text on the light theme's background), and a Markdown document keeps the heading
        sizes and spacing of the font it was read with: both are set again.
        """
        self.header.setStyleSheet("QToolButton { border: none; }")
        bar = self.browser.verticalScrollBar()
        where = bar.value() / bar.maximum() if bar.maximum() > 0 else 0.0
        self.browser.show_markdown(self.markdown, self.presets)
        wrap_code_blocks(self.browser.document())  # the side panel never scrolls sideways
        self.browser.document().setDocumentMargin(6)
        bar.setValue(round(where * bar.maximum()))  # about the same place in the text

    def set_open(self, open_: bool) -> None:
        self.header.blockSignals(True)
        self.header.setChecked(open_)
        self.header.blockSignals(False)
        self.header.setArrowType(QtCore.Qt.ArrowType.DownArrow if open_ else QtCore.Qt.ArrowType.RightArrow)
        self.browser.setVisible(open_)
        self.sig_toggled.emit(open_)

    def is_open(self) -> bool:
        return self.browser.isVisible() or self.header.isChecked()


def wrap_code_blocks(document: QtGui.QTextDocument) -> None:
    """Let a note's code blocks wrap at the panel's edge like its text (Markdown keeps their lines whole)."""
    block = document.begin()
    while block.isValid():
        if block.blockFormat().nonBreakableLines():
            cursor = QtGui.QTextCursor(block)
            fmt = block.blockFormat()
            fmt.setNonBreakableLines(False)
            cursor.setBlockFormat(fmt)
        block = block.next()


def bold_only() -> QtGui.QFont:
    """A font that sets only the weight: family and size still follow the application's (the theme's)."""
    font = QtGui.QFont()  # nothing set yet: setBold marks the weight alone as the widget's own
    font.setBold(True)
    return font


def bold(widget: QtWidgets.QWidget, scale: float = 1.25) -> QtWidgets.QWidget:
    """Bold, ``scale`` x the application's font size now; call again after a theme change (a set size
    does not follow the application's font)."""
    font = QtGui.QFont(QtWidgets.QApplication.font())
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * scale)
    widget.setFont(font)
    return widget
