"""The shared read-only table: not editable, rows updated cell by cell, height fitted to its rows."""

from __future__ import annotations

from PyQt6 import QtCore, QtWidgets

from explorer.ui.widgets.table import ReadOnlyTable


def test_cells_are_read_only_and_only_changed_texts_are_set(qtbot):
    table = ReadOnlyTable(["method", "loss", "note"], tips=["who", "nats", "why"])
    qtbot.addWidget(table)
    table.setRowCount(2)
    table.set_row(0, ["Adam", "0.5", ""], tip="all fine", align=QtCore.Qt.AlignmentFlag.AlignCenter)
    first = table.item(0, 1)
    assert table.editTriggers() == QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers
    assert table.horizontalHeaderItem(1).toolTip() == "nats" and table.verticalHeader().isHidden()
    assert first.textAlignment() == QtCore.Qt.AlignmentFlag.AlignCenter
    assert table.item(0, 2).toolTip() == "all fine"
    table.set_row(0, ["Adam", "0.25", ""])
    assert table.item(0, 1) is first and first.text() == "0.25"  # the same item, its text changed
    assert table.item(0, 2).toolTip() == "all fine"  # no tip given: the last one stays


def test_stretch_picks_the_column_that_takes_the_spare_width(qtbot):
    modes = QtWidgets.QHeaderView.ResizeMode
    one = ReadOnlyTable(["a", "b", "c"], stretch=1)
    every = ReadOnlyTable(["a", "b"], stretch="all", row_header=True)
    for table in (one, every):
        qtbot.addWidget(table)
    header = one.horizontalHeader()
    assert [header.sectionResizeMode(c) for c in range(3)] == [modes.ResizeToContents, modes.Stretch,
                                                               modes.ResizeToContents]  # fmt: skip
    assert every.horizontalHeader().sectionResizeMode(0) == modes.Stretch and not every.verticalHeader().isHidden()


def test_fit_height_shows_every_row_up_to_the_limit(qtbot):
    table = ReadOnlyTable(["step", "loss"])
    qtbot.addWidget(table)
    table.setRowCount(5)
    for row in range(5):
        table.set_row(row, [str(row), f"{1 / (row + 1):.3f}"])
    table.show()
    qtbot.waitExposed(table)
    table.fit_height()
    header = table.horizontalHeader().height()
    rows = sum(table.rowHeight(r) for r in range(5))
    assert table.height() == header + rows + 4  # the header, every row and the frame, no empty band
    table.fit_height(limit=header + 10)
    assert table.height() == header + 10  # past the limit it scrolls instead
