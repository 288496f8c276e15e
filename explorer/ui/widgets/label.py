"""The text beside the plots (headlines, readouts, status lines): selectable, so a number can be copied."""

from __future__ import annotations

from PyQt6 import QtCore, QtGui, QtWidgets


def selectable_label(text: str = "", *, wrap: bool = True, rich: bool = False) -> QtWidgets.QLabel:
    """A label whose text the mouse can select; it wraps unless ``wrap`` is False (a one-line readout).

    ``rich``: always rich text (a formula with live numbers, ``&lt;`` escapes) and aligned top-left, so
    it stays put while its text grows and shrinks.
    """
    label = QtWidgets.QLabel(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    if rich:
        label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        label.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft)
    return label


def hold_two_lines(label: QtWidgets.QLabel) -> None:
    """Two lines high whatever its text, at its font now (call again after a theme change): a hover readout
    that grew with its text would shift the plots under the mouse."""
    label.setFixedHeight(2 * QtGui.QFontMetrics(label.font()).lineSpacing() + 4)
