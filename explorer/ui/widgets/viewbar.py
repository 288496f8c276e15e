"""The bar above a tab's plots that picks one of its views, kept in step with the tab's "view" parameter.

A tab with several pictures (pages of a ``QStackedWidget``) has a "view" choice in its parameter panel
too, so that a view can be set from the command line (``--set view=...``) and is saved with the rest.
Bar and parameter go one way only: a click on the bar sets the parameter, the page then calls the tab's
``on_param_changed``, and the tab calls :meth:`ViewBar.show`; so there is one path for both, and
``show`` changes the bar without echoing back.

A bar too narrow for its titles (a projector's 1280 px, presentation fonts) names each view by the part
of its title before the first colon or comma ("1 · Measured"), the whole title in its tooltip, rather
than hiding views behind scroll arrows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PyQt6 import QtCore, QtWidgets

if TYPE_CHECKING:
    from explorer.ui.params import ParamPanel


class ViewBar(QtWidgets.QTabBar):
    """Names the views of ``stack`` (its pages in the order of ``views``) and shows each one's headline."""

    def __init__(
        self,
        views: Sequence[str],
        titles: Sequence[str],
        stack: QtWidgets.QStackedWidget,
        headline: QtWidgets.QLabel,
        headlines: Mapping[str, str],
        key: str = "view",
    ) -> None:
        super().__init__()
        if not len(views) == len(titles) == stack.count():
            raise ValueError(f"{len(views)} views, {len(titles)} titles and {stack.count()} pages must match")
        self.views, self.stack, self.headline, self.headlines, self.key = tuple(views), stack, headline, headlines, key
        self.panel: ParamPanel | None = None
        self.setDocumentMode(True)
        self.setExpanding(False)
        self.titles = tuple(titles)
        self.short_titles = tuple(short_title(title) for title in titles)
        for title in titles:
            self.addTab(title)
        self.currentChanged.connect(self._on_click)

    def fit_titles(self) -> None:
        """Whole titles where the bar holds them all, else the short ones (whole in their tooltips)."""
        for index, title in enumerate(self.titles):
            if self.tabText(index) != title:
                self.setTabText(index, title)
        short = sum(self.tabSizeHint(index).width() for index in range(self.count())) > self.width()
        for index, (title, brief) in enumerate(zip(self.titles, self.short_titles, strict=True)):
            if short and brief != title:
                self.setTabText(index, brief)
            self.setTabToolTip(index, title if short and brief != title else "")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_titles()

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.FontChange:
            self.fit_titles()

    def attach(self, panel: ParamPanel) -> None:
        """From now on a click sets the panel's parameter, and the view shown is the panel's."""
        self.panel = panel
        self.show_view(panel.value(self.key))

    def show_view(self, view: str) -> None:
        index = self.views.index(view)
        self.stack.setCurrentIndex(index)
        self.headline.setText(self.headlines[view])
        if self.currentIndex() != index:
            self.blockSignals(True)
            self.setCurrentIndex(index)
            self.blockSignals(False)

    @property
    def current(self) -> str:
        return self.views[self.stack.currentIndex()]

    def _on_click(self, index: int) -> None:
        if self.panel is not None and self.panel.value(self.key) != self.views[index]:
            self.panel.set_value(self.key, self.views[index])  # the page calls the tab's on_param_changed
        else:
            self.show_view(self.views[index])


def beside_bar(bar: ViewBar, *widgets: QtWidgets.QWidget) -> QtWidgets.QHBoxLayout:
    """The bar and, at its right end, a tab's controls that belong to every view (pinning runs, say)."""
    row = QtWidgets.QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(4)
    row.addWidget(bar, 1)
    for widget in widgets:
        row.addWidget(widget, 0, QtCore.Qt.AlignmentFlag.AlignVCenter)
    return row


def short_title(title: str) -> str:
    """A view's title up to its first colon or comma: "1 · Measured: memory, IO…" → "1 · Measured"."""
    cut = min((i for i in (title.find(":"), title.find(",")) if i > 0), default=len(title))
    return title[:cut].strip()
