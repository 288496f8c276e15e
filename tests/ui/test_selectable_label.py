"""The shared text label: selectable by the mouse, wrapping unless asked not to, rich text on request."""

from __future__ import annotations

from PyQt6 import QtCore

from explorer.ui.widgets.label import selectable_label


def test_text_is_selectable_and_wraps_by_default(qtbot):
    label = selectable_label("H(p) = 1.75 bits")
    qtbot.addWidget(label)
    assert label.text() == "H(p) = 1.75 bits" and label.wordWrap()
    assert label.textInteractionFlags() == QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
    assert label.textFormat() == QtCore.Qt.TextFormat.AutoText


def test_one_line_readouts_and_rich_formulas(qtbot):
    readout = selectable_label("Hover over a plot", wrap=False)
    formula = selectable_label(rich=True)
    for label in (readout, formula):
        qtbot.addWidget(label)
    assert not readout.wordWrap()
    assert formula.wordWrap() and formula.textFormat() == QtCore.Qt.TextFormat.RichText
    top_left = QtCore.Qt.AlignmentFlag.AlignTop | QtCore.Qt.AlignmentFlag.AlignLeft
    assert formula.alignment() == top_left
