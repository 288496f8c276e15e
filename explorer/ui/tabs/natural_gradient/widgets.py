"""Small Qt and pyqtgraph pieces the three views share: text labels, read-only tables, and log axes
that label whole decades the same way on every plot."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui.theme import BASE_POINT_SIZE, Theme, style_axis

_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


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


def decade_label(exponent: int, mantissa: int = 1, powers: bool = False) -> str:
    """1e-3 → "0.001", 2e4 → "20000"; with ``powers``: 1e-5 → "10⁻⁵", 2e4 → "2×10⁴"."""
    if not powers:
        return f"{mantissa * 10.0**exponent:g}"
    power = f"10{str(exponent).translate(_SUP)}"
    return power if mantissa == 1 else f"{mantissa}×{power}"


class LogAxis(pg.AxisItem):
    """Log-axis labels on decades only (on 1, 2 and 5 when under two decades show), all in one style:
    plain numbers while every decade in view has at most four zeros, powers of ten otherwise.
    pyqtgraph's own labels sit on every minor tick of a several-decade axis, where they run into each
    other, and mix "0.0001" with "10⁻⁵" on one axis."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float | None, list[float]]]:
        levels = super().tickValues(minVal, maxVal, size)
        if self.logMode and len(levels) > 1:  # the minor level repeats the decades: a label drawn twice looks bold
            majors = {round(v, 6) for _, values in levels[:-1] for v in values}
            spacing, values = levels[-1]
            levels[-1] = (spacing, [v for v in values if round(v, 6) not in majors])
        return levels

    def logTickStrings(self, values: list[float], scale: float, spacing: float | None) -> list[str]:
        low, high = sorted(self.range)
        keep = (1,) if high - low >= 2 else (1, 2, 5)
        powers = math.floor(low) < -4 or math.ceil(high) > 4
        strings = []
        for v in values:
            exponent = math.floor(v + 1e-9)
            mantissa = round(10 ** (v - exponent))
            strings.append(decade_label(exponent, mantissa, powers) if mantissa in keep else "")
        return strings


def log_plot(plot: pg.PlotItem, theme: Theme, log_x: bool, log_y: bool) -> pg.PlotItem:
    """Give a plot from ``new_plot`` log axes that label decades, keeping its labels, grid and style."""
    labels = {side: plot.getAxis(side).labelText for side in ("left", "bottom")}
    axes = {side: LogAxis(side) for side, log in (("bottom", log_x), ("left", log_y)) if log}
    plot.setAxisItems(axes)
    for side, text in labels.items():
        plot.setLabel(side, text)
    plot.setLogMode(x=log_x, y=log_y)
    for axis in axes.values():  # the plot's log and grid switches did not change: it does not tell new axes
        axis.setLogMode(True)
        axis.setGrid(int(0.15 * 255))
        axis.enableAutoSIPrefix(False)  # new axes: the units are in the label, no "(x0.001)" beside it
        style_axis(axis, theme)
    return plot


def fix_axis_width(plot: pg.PlotItem, theme: Theme) -> None:
    """Room for "0.0001" on the y axis from the start, beside its label: an axis that widens after its
    first paint draws its labels over the axis title in an export taken at once, and re-lays out the
    figure while playing. A decade label on the range's edge still shows."""
    font = QtGui.QFont()
    font.setPointSizeF(theme.point_size(BASE_POINT_SIZE - 1))
    metrics = QtGui.QFontMetricsF(font)
    plot.getAxis("left").setStyle(
        autoExpandTextSpace=False,
        tickTextWidth=math.ceil(metrics.horizontalAdvance("0.0001")),
        hideOverlappingLabels=math.ceil(metrics.height()),
    )
