"""The QApplication and the pyqtgraph options every window of the explorer shares."""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

#: messages of Qt's offscreen platform that say nothing about this program
_HARMLESS = ("propagateSizeHints",)


def quiet_platform_noise() -> None:
    """Drop Qt's offscreen-platform chatter from the command line's stderr (tests keep Qt's own log)."""
    QtCore.qInstallMessageHandler(_message_handler)


def _message_handler(kind: QtCore.QtMsgType, context: QtCore.QMessageLogContext, message: str) -> None:
    if any(text in message for text in _HARMLESS):
        return
    if kind != QtCore.QtMsgType.QtDebugMsg:
        print(f"Qt: {message}", file=sys.stderr)


def _bounding_rect_before_init() -> None:
    """pyqtgraph's GraphicsWidget sets its bounding-rect cache only after Qt's constructor has run; Qt may
    ask a widget that joins a layout during construction for its bounding rect first, which then raises
    AttributeError inside the event loop. Class-level defaults give that first call an empty cache."""
    from pyqtgraph.graphicsItems.GraphicsWidget import GraphicsWidget

    for name in ("_previousGeometry", "_boundingRectCache", "_painterPathCache"):
        if not hasattr(GraphicsWidget, name):
            setattr(GraphicsWidget, name, None)


def create_application() -> QtWidgets.QApplication:
    """The one QApplication (reused if a test harness made it), with row-major images for numpy."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)  # per item where it pays
    _bounding_rect_before_init()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("loss-explorer")
    app.setOrganizationName("loss-explorer")
    return app
