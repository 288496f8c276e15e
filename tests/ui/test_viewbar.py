"""The view bar and the "view" parameter are one control: a click sets the parameter, the parameter moves the bar."""

from __future__ import annotations

import pytest
from PyQt6 import QtWidgets

from explorer.ui.widgets.viewbar import ViewBar

HEADLINES = {"a": "first picture", "b": "second picture"}


class FakePanel:
    """The two calls the bar makes of a ParamPanel; a set value comes back through the tab, as on a page."""

    def __init__(self, bar_of: list[ViewBar]) -> None:
        self.values = {"view": "a"}
        self.sets: list[str] = []
        self._bar_of = bar_of

    def value(self, key: str) -> str:
        return self.values[key]

    def set_value(self, key: str, value: str) -> None:
        self.values[key] = value
        self.sets.append(value)
        self._bar_of[0].show_view(value)  # what the tab's on_param_changed does


@pytest.fixture
def parts(qtbot):
    stack = QtWidgets.QStackedWidget()
    for _ in HEADLINES:
        stack.addWidget(QtWidgets.QWidget())
    headline = QtWidgets.QLabel()
    bar = ViewBar(tuple(HEADLINES), ("A", "B"), stack, headline, HEADLINES)
    qtbot.addWidget(bar)
    qtbot.addWidget(stack)
    return bar, stack, headline


def test_showing_a_view_moves_bar_page_and_headline(parts):
    bar, stack, headline = parts
    bar.show_view("b")
    assert (bar.currentIndex(), stack.currentIndex(), headline.text(), bar.current) == (1, 1, "second picture", "b")


def test_a_click_goes_through_the_parameter_once(parts):
    bar, stack, headline = parts
    panel = FakePanel([bar])
    bar.attach(panel)  # type: ignore[arg-type]
    assert bar.current == "a" and headline.text() == "first picture"
    bar.setCurrentIndex(1)  # a click
    assert panel.sets == ["b"] and stack.currentIndex() == 1 and headline.text() == "second picture"
    panel.set_value("view", "a")  # the parameter panel, or --set view=a
    assert bar.currentIndex() == 0 and panel.sets == ["b", "a"]  # no echo back into the parameter


def test_pages_and_names_must_match(qtbot):
    stack = QtWidgets.QStackedWidget()
    stack.addWidget(QtWidgets.QWidget())
    with pytest.raises(ValueError, match="must match"):
        ViewBar(("a", "b"), ("A", "B"), stack, QtWidgets.QLabel(), HEADLINES)
