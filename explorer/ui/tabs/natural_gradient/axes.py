"""Small Qt and pyqtgraph pieces the three views share: text labels, read-only tables, and one fixed
width for the tick text of every plot's y axis."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui.theme import BASE_POINT_SIZE, Theme


def text_label(text: str = "", *, wrap: bool = True) -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def table(headers: list[str]) -> QtWidgets.QTableWidget:
    """A read-only table whose last column takes the spare width."""
    widget = QtWidgets.QTableWidget(0, len(headers))
    widget.setHorizontalHeaderLabels(headers)
    widget.verticalHeader().setVisible(False)
    widget.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QtWidgets.QHeaderView.ResizeMode.Stretch)
    return widget


def set_row(widget: QtWidgets.QTableWidget, row: int, cells: list[str]) -> None:
    for col, text in enumerate(cells):
        item = widget.item(row, col)
        if item is None:
            item = QtWidgets.QTableWidgetItem(text)
            widget.setItem(row, col, item)
        elif item.text() != text:  # only what changed: setting items is the costly part
            item.setText(text)


def fit_table_height(widget: QtWidgets.QTableWidget, limit: int) -> None:
    """Every row visible, unless that takes more than ``limit`` pixels (then it scrolls)."""
    rows = sum(widget.rowHeight(r) for r in range(widget.rowCount()))
    content = widget.horizontalHeader().height() + rows + 4
    if widget.horizontalScrollBar().isVisible():
        content += widget.horizontalScrollBar().height()
    widget.setFixedHeight(min(content, limit))


def fix_axis_width(plot: pg.PlotItem, theme: Theme) -> None:
    """Room for "0.0001" (the widest plain log-axis label) on the y axis from the start: an axis that widens
    after its first paint re-lays out the figure while playing, and plots stacked in a column keep their
    y axes aligned."""
    font = QtGui.QFont()
    font.setPointSizeF(theme.point_size(BASE_POINT_SIZE - 1))
    metrics = QtGui.QFontMetricsF(font)
    plot.getAxis("left").setStyle(
        autoExpandTextSpace=False,
        tickTextWidth=math.ceil(metrics.horizontalAdvance("0.0001")),
    )
