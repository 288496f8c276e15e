"""The topic's note in a window of its own, in large type: a lecturer keeps it on a second screen while
the plots fill the projector. It follows the tab that is open, and its "▶" links set up the experiments."""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab.core.presets import Preset
from explorer.ui.widgets.panels import NoteBrowser


class NoteWindow(QtWidgets.QWidget):
    """A top-level reader for one Markdown note at a time; zoom with Ctrl + / Ctrl -."""

    sig_closed = QtCore.pyqtSignal()
    sig_preset = QtCore.pyqtSignal(object)  # a "▶" link was clicked: apply this Preset

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.setWindowTitle("Note")
        self.browser = NoteBrowser()
        self.browser.sig_preset.connect(self.sig_preset)
        self.browser.document().setDocumentMargin(16)
        font = QtGui.QFont(self.browser.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.6)  # readable from across a room
        self.browser.setFont(font)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser)
        for keys, step in ((QtGui.QKeySequence.StandardKey.ZoomIn, 2), (QtGui.QKeySequence.StandardKey.ZoomOut, -2)):
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self)
            shortcut.activated.connect(lambda step=step: self.browser.zoomIn(step))
        self.resize(720, 820)

    def show_note(self, title: str, markdown: str, presets: Sequence[Preset] = ()) -> None:
        self.setWindowTitle(f"Note — {title}")
        self.browser.show_markdown(markdown, presets)

    def text(self) -> str:
        return self.browser.toPlainText()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        super().closeEvent(event)
        self.sig_closed.emit()
