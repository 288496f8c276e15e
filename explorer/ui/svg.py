"""SVG export: a whole tab as Qt paints it, and single plots through pyqtgraph, tolerant of closed paths.

pyqtgraph 0.14's exporter rewrites every path's coordinates and cannot parse the close-path command
``Z`` that Qt 6.10 and later write (pyqtgraph issue #3495, fixed upstream after 0.14.0). For the
duration of one export, closing commands are taken out before that rewrite and put back after it.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Iterator

import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets
from pyqtgraph.exporters import SVGExporter

_svg_module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
_CLOSE = re.compile(r"\s*[Zz](?=\s|$)")


def _tolerant(correct):
    def correct_coordinates(node, defs, item, options):
        closed = []
        for path in node.getElementsByTagName("path"):
            d = path.getAttribute("d")
            if _CLOSE.search(d):
                path.setAttribute("d", _CLOSE.sub("", d).strip())
                closed.append(path)
        correct(node, defs, item, options)
        for path in closed:
            path.setAttribute("d", path.getAttribute("d").rstrip() + " Z")

    return correct_coordinates


@contextlib.contextmanager
def _closed_paths_tolerated() -> Iterator[None]:
    original = _svg_module.correctCoordinates
    if pg.__version__ > "0.14.0":  # fixed upstream: use pyqtgraph as it is
        yield
        return
    _svg_module.correctCoordinates = _tolerant(original)
    try:
        yield
    finally:
        _svg_module.correctCoordinates = original


def plot_svg(plot: pg.GraphicsItem) -> bytes:
    """A plot or a whole layout (axes, labels, legend and data) as SVG bytes."""
    with _closed_paths_tolerated():
        return SVGExporter(plot).export(toBytes=True)


def widget_svg(widget: QtWidgets.QWidget, title: str) -> bytes:
    """Everything ``widget`` paints (plots, tables, text) as one vector SVG, at its size on screen."""
    from PyQt6 import QtSvg  # only an export needs it

    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    generator = QtSvg.QSvgGenerator()
    generator.setOutputDevice(buffer)
    size = widget.size()
    generator.setSize(size)
    generator.setViewBox(QtCore.QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    painter = QtGui.QPainter(generator)
    try:
        widget.render(painter)
    finally:
        painter.end()
    return bytes(buffer.data())
