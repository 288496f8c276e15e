"""A figure over one row: the button that starts the figure's job, and a line saying what it shows.

The analysis pages (a landscape, a spectrum, a k-sweep) share this shape; the job's progress and Cancel
are the page's own bar below the tab.
"""

from __future__ import annotations

from PyQt6 import QtWidgets


def figure_with_job(page: QtWidgets.QWidget, figure: QtWidgets.QWidget, text: str, tip: str, info: str,
                    *extra: QtWidgets.QWidget) -> tuple[QtWidgets.QPushButton, QtWidgets.QLabel]:  # fmt: skip
    """Lay out ``figure`` over [button, *extra, info] in ``page``; returns (button, info label)."""
    button = QtWidgets.QPushButton(text)
    button.setToolTip(tip)
    label = QtWidgets.QLabel(info, wordWrap=True)
    row = QtWidgets.QHBoxLayout()
    row.setContentsMargins(4, 0, 4, 0)
    for widget in (button, *extra):
        row.addWidget(widget)
    row.addWidget(label, 1)
    layout = QtWidgets.QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(figure, 1)
    layout.addLayout(row)
    return button, label
