"""A read-only table of numbers beside the plots: rows updated cell by cell, its height fitted to its rows.

Setting items is the costly part of a table redrawn every frame, so :meth:`ReadOnlyTable.set_row`
touches only the cells whose text changed; :meth:`ReadOnlyTable.fit_height` shows every row without
an empty band below them, up to a limit past which the table scrolls rather than squeezing the plots.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from PyQt6 import QtCore, QtWidgets

Stretch = int | Literal["all"] | None


class ReadOnlyTable(QtWidgets.QTableWidget):
    """Headers (with optional tooltips) over rows the user can select and copy but not edit.

    ``stretch``: the column that takes the spare width (negative counts from the end; the others fit
    their contents), ``"all"`` to share the width evenly, or None to leave the header's modes alone.
    Row labels (the vertical header) are hidden unless ``row_header``.
    """

    _fitted = False  # fit_height was asked for: again, with the same limit, after a font change
    _fit_limit: int | None = None
    _rows_to_contents = False  # the rows were sized to their text: again after a font change

    def __init__(
        self,
        headers: Sequence[str],
        *,
        tips: Sequence[str] = (),
        stretch: Stretch = -1,
        row_header: bool = False,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(list(headers))
        for col, tip in enumerate(tips):
            self.horizontalHeaderItem(col).setToolTip(tip)
        self.verticalHeader().setVisible(row_header)
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.horizontalHeader()
        if stretch == "all":
            header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        elif stretch is not None:
            header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(stretch % len(headers), QtWidgets.QHeaderView.ResizeMode.Stretch)

    def set_row(
        self,
        row: int,
        cells: Sequence[str],
        *,
        tip: str | None = None,
        align: QtCore.Qt.AlignmentFlag | None = None,
    ) -> None:
        """Write ``cells`` from column 0, creating missing items (aligned by ``align``) and changing only
        texts that differ; ``tip`` becomes the last cell's tooltip."""
        for col, text in enumerate(cells):
            item = self.item(row, col)
            if item is None:
                item = QtWidgets.QTableWidgetItem(text)
                if align is not None:
                    item.setTextAlignment(align)
                self.setItem(row, col, item)
            elif item.text() != text:  # only what changed: setting items is the costly part
                item.setText(text)
        if tip is not None:
            self.item(row, len(cells) - 1).setToolTip(tip)

    def fit_height(self, limit: int | None = None) -> None:
        """Every row visible, unless that takes more than ``limit`` pixels (then it scrolls); fitted again
        with the same limit when the font changes (a theme switch), as a table made in that font would be."""
        self._fit_limit, self._fitted = limit, True
        header = self.horizontalHeader()
        # the header's laid-out height, known before the table is first shown (height() is not)
        content = max(header.minimumHeight(), header.sizeHint().height())
        content += sum(self.rowHeight(r) for r in range(self.rowCount())) + 4
        if self.horizontalScrollBar().isVisible():
            content += self.horizontalScrollBar().height()
        self.setFixedHeight(content if limit is None else min(content, limit))

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.FontChange and self._fitted:
            # after the headers have taken the new font too (each gets its own font change)
            QtCore.QTimer.singleShot(0, self._refit)

    def resizeRowsToContents(self) -> None:
        self._rows_to_contents = True
        super().resizeRowsToContents()

    def _refit(self) -> None:
        if self._rows_to_contents:
            self.resizeRowsToContents()
        self.fit_height(self._fit_limit)
