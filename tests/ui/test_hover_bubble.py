"""In presentation mode the hover text follows the cursor in large type, and is never exported."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PyQt6 import QtWidgets

from explorer.ui import export
from explorer.ui.app import create_application
from explorer.ui.theme import Theme, apply_to_application
from explorer.ui.widgets.plots import HoverReadout


@pytest.fixture
def plot_and_readout(qtbot):
    app = create_application()
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    view.resize(600, 400)
    plot = view.addPlot()
    plot.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    line = QtWidgets.QLabel()
    readout = HoverReadout(plot, lambda x, y: f"x = {x:.1f}", line)
    view.show()
    qtbot.waitExposed(view)
    yield view, plot, readout, line
    apply_to_application(app, Theme())


def _inside(plot) -> object:
    return plot.vb.mapViewToScene(pg.Point(5, 5))


def test_presentation_mode_shows_the_readout_beside_the_cursor_in_large_type(plot_and_readout):
    view, plot, readout, line = plot_and_readout
    apply_to_application(QtWidgets.QApplication.instance(), Theme(presentation=True))
    readout._on_moved((_inside(plot),))
    bubble = view.hover_bubble
    assert bubble.isVisible() and bubble.text() == line.text() == "x = 5.0"
    assert bubble.font().pointSizeF() > 1.5 * view.font().pointSizeF()
    assert bubble.geometry().intersects(view.rect())
    assert bubble in export.chrome(view)  # hidden while a figure is drawn
    readout._on_moved((plot.sceneBoundingRect().bottomRight() + pg.Point(50, 50),))
    assert not bubble.isVisible()


def test_normal_mode_keeps_the_readout_in_its_line_only(plot_and_readout):
    view, plot, readout, line = plot_and_readout
    apply_to_application(QtWidgets.QApplication.instance(), Theme(presentation=True))
    readout._on_moved((_inside(plot),))
    apply_to_application(QtWidgets.QApplication.instance(), Theme())
    readout._on_moved((_inside(plot),))
    assert line.text() == "x = 5.0" and not view.hover_bubble.isVisible()
