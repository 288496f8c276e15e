"""The topic's note in a window of its own, in large type: a lecturer keeps it on a second screen while
the plots fill the projector. It follows the tab that is open."""

from __future__ import annotations

from PyQt6 import QtCore, QtGui, QtWidgets


class NoteWindow(QtWidgets.QWidget):
    """A top-level reader for one Markdown note at a time; zoom with Ctrl + / Ctrl -."""

    sig_closed = QtCore.pyqtSignal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, QtCore.Qt.WindowType.Window)
        self.setWindowTitle("Note")
        self.browser = QtWidgets.QTextBrowser(openExternalLinks=True)
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

    def show_note(self, title: str, markdown: str) -> None:
        self.setWindowTitle(f"Note — {title}")
        self.browser.setMarkdown(markdown)

    def text(self) -> str:
        return self.browser.toPlainText()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        super().closeEvent(event)
        self.sig_closed.emit()
