"""The base class every topic view derives from, and the registry the main window reads.

A view declares its parameters, turns their values into a lab experiment, and draws the frames it
receives; it never computes and never imports another view. A topic is a package in
``explorer/ui/tabs/`` whose ``__init__`` declares ``TAB = TabInfo(...)`` (name, title, order, whether
it trains live, and its view class in ``view.py``): the window lists every topic from these
declarations alone and imports a view only when its page is first shown, so start-up never pays
for eight views. Adding a topic adds a package; nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.lab.core.protocol import ExperimentFactory
from explorer.ui.params import Param, ParamPanel
from explorer.ui.runner import JobRunner
from explorer.ui.theme import Theme
from explorer.ui.widgets.focus import PlotFocus
from explorer.ui.widgets.pins import MAX_PINS, PinBoard, PinButtons, PinSource
from explorer.ui.widgets.plots import Styled, forget_spot_sizes

#: a CLI shorthand: (help text, function(text, current values) -> [(key, value), ...])
Alias = tuple[str, Callable[[str, dict[str, Any]], list[tuple[str, Any]]]]
Table = dict[str, Sequence[Any]]

TABS_PACKAGE = "explorer.ui.tabs"


@dataclass(frozen=True)
class TabInfo:
    """What the window needs to list a topic, without importing its view."""

    name: str  # the key on the command line (``--tab``) and in settings
    title: str  # the tab's label
    order: int  # position in the tab bar
    live: bool  # a live experiment: Play / Step / Reset and the Speed slider
    view: str  # the TopicTab subclass in the package's ``view`` module
    short: str = ""  # the tab's label where the full titles do not fit in one row (a projector's width)

    @property
    def short_title(self) -> str:
        return self.short or self.title

    def load(self) -> type[TopicTab]:
        """Import the view (and its lab modules) and return its class, registered with this info."""
        module = importlib.import_module(f"{TABS_PACKAGE}.{self.name}.view")
        cls = getattr(module, self.view)
        if cls.name != self.name:
            raise ValueError(f"{self.view} is not registered (missing @register?)")
        return cls


def register(cls: type[TopicTab]) -> type[TopicTab]:
    """Give a view class the name, title, order and liveness its package declares in ``TAB``."""
    package = importlib.import_module(cls.__module__.rpartition(".")[0])
    info: TabInfo = package.TAB
    cls.name, cls.title, cls.order, cls.live = info.name, info.title, info.order, info.live
    return cls


#: topic -> why it could not be imported (shown in the status bar; the other tabs still open)
BROKEN_TABS: dict[str, str] = {}


def tab_infos() -> list[TabInfo]:
    """Every topic's declaration in display order; imports each package's ``__init__`` only.

    A package that fails to import or declares no ``TAB`` is left out and recorded in ``BROKEN_TABS``."""
    package = importlib.import_module(TABS_PACKAGE)
    infos: dict[str, TabInfo] = {}
    for module in pkgutil.iter_modules(package.__path__):
        try:
            info = importlib.import_module(f"{TABS_PACKAGE}.{module.name}").TAB
        except Exception as exc:  # any failure of one topic is reported, not raised
            BROKEN_TABS[module.name] = f"{type(exc).__name__}: {exc}"
            continue
        if info.name in infos:
            raise ValueError(f"two tabs are named {info.name!r}")
        infos[info.name] = info
    return sorted(infos.values(), key=lambda info: info.order)


def tab_classes() -> list[type[TopicTab]]:
    """Every topic's view class in display order (imports every view: the command line and tests).

    A view that fails to import is left out and recorded in ``BROKEN_TABS``: one broken topic
    (a missing optional package, say) must not take the other seven with it."""
    classes = []
    for info in tab_infos():
        try:
            classes.append(info.load())
        except Exception as exc:
            BROKEN_TABS[info.name] = f"{type(exc).__name__}: {exc}"
    return classes


class TopicTab(QtWidgets.QWidget):
    """Plots of one topic. ``@register`` sets ``name``, ``title``, ``order`` and ``live`` from the package's
    ``TAB``; subclasses set ``summary`` and override the hooks."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    order: ClassVar[int] = 100
    #: shown under the title in the side panel
    summary: ClassVar[str] = ""
    #: the Speed slider's starting value: a training run wants many frames, a step-through a few
    frames_per_second: ClassVar[int] = 30
    #: True for a topic with a live experiment (Play / Step / Reset); declared, so that building a page
    #: never has to call ``experiment()`` (and import torch) to find out
    live: ClassVar[bool] = False
    #: logical pixels below which the page scrolls instead of squashing the plots (x the font scale)
    minimum_height: ClassVar[int] = 0
    #: True for a topic whose curves can be pinned (``pin_run``): the view lists them in ``pin_curves``
    pinnable: ClassVar[bool] = False
    #: settings that change only what is drawn, not the run a pin copies: left out of a pin's label
    display_settings: ClassVar[frozenset[str]] = frozenset({"view"})

    sig_message = QtCore.pyqtSignal(str)  # a problem to show in the tab's banner
    sig_reset = QtCore.pyqtSignal()  # ask the page to restart the experiment (e.g. new start point)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.styled = Styled()
        self.panel: ParamPanel | None = None
        self.jobs: JobRunner | None = None
        self.device = "cpu"
        self.shown_step: int | None = None  # the step of the frame on screen, for captions
        self.plot_focus: PlotFocus | None = None  # the page's: which plot, if any, has the whole tab
        self.pins = PinBoard(self.styled.theme)
        self.pin_buttons: PinButtons | None = None

    def exported_plots(self) -> dict[str, pg.GraphicsItem]:
        """What an SVG export writes: every plot, or only the one focused (named as in ``plots()``)."""
        plots = self.plots()
        focus = self.plot_focus
        if focus is None or focus.plot is None:
            return plots
        inner = getattr(focus.plot, "plot", None)  # a LegendedPlot's own PlotItem
        key = next((k for k, item in plots.items() if item is focus.plot or item is inner), "focused")
        return {key: focus.plot}

    # --- declared by subclasses -------------------------------------------------------------
    #: the tab's parameter specs (its lab's ``params.PARAMS``): the form, the command line and sessions
    specs: ClassVar[Sequence[Param]] = ()

    @classmethod
    def parameters(cls) -> list[Param]:
        return list(cls.specs)

    @classmethod
    def aliases(cls) -> dict[str, Alias]:
        """CLI shorthands beyond the parameter keys (e.g. ``optimizer=adam``)."""
        return {}

    def experiment(self, values: dict[str, Any]) -> ExperimentFactory | None:
        """A factory for the live experiment of these parameter values, or None if the tab has none."""
        return None

    def show_frame(self, frame: Any) -> None:
        """Draw a frame from the experiment."""

    def on_param_changed(self, key: str, value: Any) -> bool:
        """React to an edited parameter; return True if the experiment must restart."""
        return True

    def start_jobs(self) -> None:
        """Start the one-shot jobs the view needs before it can draw (a landscape grid, say)."""

    def plots(self) -> dict[str, pg.GraphicsItem]:
        """Items to export as SVG, one file each: plots, or a whole layout (``view.ci``) with its legend."""
        return {}

    def tables(self) -> dict[str, Table]:
        """What the plots show, as named column tables, for CSV and JSON export (a pinnable view adds
        :meth:`pin_tables`)."""
        return {}

    def pin_curves(self) -> list[PinSource]:
        """The curves a pin copies, as they are drawn now (a pinnable view lists them)."""
        return []

    def caption(self) -> str:
        """Topic and key parameters, stamped under an exported image."""
        if self.panel is None:
            return self.title
        keys = [p for p in self.parameters() if p.in_caption]
        values = self.panel.values()
        text = self.title + " — " + ", ".join(f"{p.key}={_short(values[p.key])}" for p in keys)
        return text if self.shown_step is None else f"{text} — shown at step {self.shown_step}"

    # --- provided ---------------------------------------------------------------------------
    def attach(self, panel: ParamPanel, jobs: JobRunner) -> None:
        self.panel = panel
        self.jobs = jobs
        if self.pinnable:
            panel.sig_changed.connect(self._on_setting_changed)  # pins are named by what differs from the form

    def values(self) -> dict[str, Any]:
        assert self.panel is not None
        return self.panel.values()

    # --- pinned runs ------------------------------------------------------------------------
    def make_pin_buttons(self) -> PinButtons:
        """The "Pin this run" / "Clear pins" pair, for the view to place beside its view bar or headline."""
        self.pin_buttons = PinButtons(self.pin_run, self.clear_pins)
        return self.pin_buttons

    def run_settings(self) -> dict[str, Any]:
        """The form's values that make the run what it is (display choices left out)."""
        if self.panel is None:
            return {}
        return {k: v for k, v in self.panel.values().items() if k not in self.display_settings}

    def pin_run(self) -> str:
        """Keep the curves shown now as a faded overlay; returns what happened, for the status bar."""
        if not self.pinnable:
            return f"The {self.title} tab has no curves to pin."
        sources = [s for s in self.pin_curves() if s.item.xData is not None and len(s.item.xData)]
        if not sources:
            return self._pins_changed("Nothing to pin yet: run a few steps first.")
        pin, replaced = self.pins.pin(sources, self.run_settings())
        self.pins.relabel(self.run_settings())
        if replaced is not None:
            message = f"Pinned run {pin.number}; pin {replaced.number}, the oldest, is gone (at most {MAX_PINS})."
        else:
            message = f"Pinned run {len(self.pins)} of {MAX_PINS}."
        return self._pins_changed(message)

    def clear_pins(self) -> str:
        count = self.pins.clear()
        message = f"Cleared {count} pinned run{'s' if count != 1 else ''}." if count else "No pinned runs to clear."
        return self._pins_changed(message)

    def pin_tables(self) -> dict[str, Table]:
        """Each pin's curves and settings, for a pinnable view's :meth:`tables`."""
        return self.pins.tables()

    def _pins_changed(self, message: str) -> str:
        if self.pin_buttons is not None:
            self.pin_buttons.show_state(len(self.pins), message)
        return message

    def _on_setting_changed(self, key: str, value: Any) -> None:
        if self.pins.pins and key not in self.display_settings:
            self.pins.relabel(self.run_settings())

    def apply_theme(self, theme: Theme) -> None:
        """Restyle for ``theme``: a subclass calls this first, then restyles what ``styled`` does not know."""
        self.styled.restyle(theme)
        self.pins.restyle(theme)
        for widget in self.findChildren(pg.GraphicsLayoutWidget):
            widget.setBackground(theme.background)

    def theme_applied(self) -> None:
        """After :meth:`apply_theme` (the page calls it), what leaves no trace of the theme before:

        * every marker is measured at its new size only, so a plot that fits its data takes the range a
          tab started in this theme would;
        * a figure's view asks the layouts for no height of its own: a QGraphicsView's size hint is its
          size now, so the pages holding it (and the stack of a tab's views) kept the taller hints of
          presentation mode, and the tab outgrew the page after it (a scroll bar, every plot moved);
        * once the layouts have settled, each figure is fitted to its view again: pyqtgraph widens a
          figure to its minimum (larger fonts, wider) but never narrows it back.
        """
        for view in self.findChildren(pg.GraphicsView):
            policy = view.sizePolicy()
            if policy.verticalPolicy() != QtWidgets.QSizePolicy.Policy.Ignored:
                policy.setVerticalPolicy(QtWidgets.QSizePolicy.Policy.Ignored)
                view.setSizePolicy(policy)
            if view.scene() is None:
                continue
            for item in view.scene().items():
                if isinstance(item, pg.ScatterPlotItem):
                    forget_spot_sizes(item)
        QtCore.QTimer.singleShot(0, self._refit_figures)

    def _refit_figures(self) -> None:
        for view in self.findChildren(pg.GraphicsLayoutWidget):
            view.ci.setGeometry(QtCore.QRectF(0, 0, view.width(), view.height()))


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
