"""Focus one plot: a double-click gives it the whole tab, exports are of it alone, Esc puts it back."""

from __future__ import annotations

import pytest
from PyQt6 import QtCore

pytestmark = pytest.mark.first_tab("entropy")


def _double_click(qtbot, plot) -> None:
    view = plot.scene().views()[0]
    centre = view.mapFromScene(plot.mapToScene(plot.boundingRect().center()))
    qtbot.mouseDClick(view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=centre)


def test_a_double_clicked_plot_takes_the_tab_and_esc_puts_it_back(qtbot, window, tmp_path):
    page = window.select("entropy")
    tab = page.tab
    plot = tab.plots()["cross_entropy"]
    sizes = []  # the page laid out (its plots in as many columns as fit): the plot's size the same three looks
    qtbot.waitUntil(lambda: sizes.append(plot.size()) or (len(sizes) > 2 and sizes[-1] == sizes[-2] == sizes[-3]))
    home, cells = plot.parentItem(), list(plot.parentItem().items[plot])
    before = plot.size()
    _double_click(qtbot, plot)
    qtbot.waitUntil(lambda: tab.plot_focus.active)
    assert tab.plot_focus.plot is plot and plot.scene() is tab.plot_focus.view.scene()
    qtbot.waitUntil(lambda: plot.size().width() > 0.9 * tab.width() and plot.size().height() > 0.9 * tab.height())
    assert plot.size().width() > 1.5 * before.width()

    written = window.export_to(tmp_path / "e.svg")
    assert [p.name for p in written] == ["e.svg"]  # the focused plot alone
    assert "code built for" in (tmp_path / "e.svg").read_text()  # its axis label

    qtbot.keyClick(tab.plot_focus.view, QtCore.Qt.Key.Key_Escape)
    assert not tab.plot_focus.active and not tab.plot_focus.view.isVisible()
    assert plot.parentItem() is home and home.items[plot] == cells
    qtbot.waitUntil(lambda: abs(plot.size().width() - before.width()) < 2)
    written = window.export_to(tmp_path / "all.svg")  # the whole tab, and each plot beside it
    assert {p.name for p in written} == {"all.svg", *(f"all-{key}.svg" for key in tab.plots())}
    whole = (tmp_path / "all.svg").read_text()
    assert "code built for" in whole and "x₁" in whole  # the plots' text, beyond the one focused before


def test_a_double_click_on_the_focused_plot_returns_it(qtbot, window):
    tab = window.select("entropy").tab
    plot = tab.plots()["split"]
    qtbot.waitUntil(lambda: plot.size().width() > 0)
    assert tab.plot_focus.focus(plot)
    _double_click(qtbot, plot)
    qtbot.waitUntil(lambda: not tab.plot_focus.active)
    assert plot.scene() is not tab.plot_focus.view.scene()


def test_reset_gives_back_the_axes_that_followed_their_data(qtbot, window):
    page = window.select("entropy")
    followed = [(box, state) for box, state in page.auto_ranges.initial if any(s is not False for s in state)]
    assert followed, "no plot of the tab follows its data"
    for box, _ in followed:
        box.setRange(xRange=(1e3, 2e3), yRange=(-5e3, -4e3))  # a pan or zoom by the user: the range stays put
        box.sigRangeChangedManually.emit([True, True])
        assert box.state["autoRange"] == [False, False]
    page.reset()
    assert all(box.state["autoRange"] == state for box, state in followed)
    drawn = followed[0][0]
    drawn.setRange(xRange=(0, 7), padding=0)  # a range the tab sets while drawing: Reset leaves it to the tab
    page.reset()
    assert drawn.viewRange()[0] == [0, 7] and drawn.state["autoRange"][0] is False
