"""The main window: one tab per topic, menus for export, view, run and device, and a status bar.

The window paints first and builds the page of the open tab just after, so start-up costs what Qt
costs; other pages are built the first time their tab is shown. torch, scipy and triton load after
the first paint (a background thread imports torch and finds the device). Closing tells every worker
to stop and waits a moment for them, but never for a step still inside torch: the command line then
ends the process (see ``explorer.cli.run``).
"""

from __future__ import annotations

import contextlib
import os
import platform
import threading
from typing import TYPE_CHECKING

from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui import session
from explorer.ui.runner import wait_for_workers
from explorer.ui.settings import Settings
from explorer.ui.theme import Theme, apply_to_application
from explorer.ui.topic import BROKEN_TABS, TabInfo, tab_infos
from explorer.ui.window_files import FileActions

if TYPE_CHECKING:
    from explorer.ui.page import TopicPage

_found_device: tuple[bool, str] | None = None  # probed once per process: torch's answer cannot change


class DeviceProbe(QtCore.QObject):
    """Imports torch off the GUI thread and reports whether CUDA is there and what it is called.

    A daemon Python thread rather than a QThread: a window closed while torch is still importing
    must not be able to destroy a running thread (Qt aborts the process when that happens).
    """

    sig_found = QtCore.pyqtSignal(bool, str)

    def start(self) -> None:
        if _found_device is not None:
            QtCore.QTimer.singleShot(0, self._report)  # a bound method: dropped if the window goes first
            return
        threading.Thread(target=self._run, name="device-probe", daemon=True).start()

    def _run(self) -> None:
        probe_device()
        self._report()

    def _report(self) -> None:
        assert _found_device is not None
        with contextlib.suppress(RuntimeError):  # the window may have closed meanwhile
            self.sig_found.emit(*_found_device)


def probe_device() -> tuple[bool, str]:
    """(CUDA available, device name), once per process; also leaves torch one core short of all."""
    global _found_device
    if _found_device is None:
        try:
            import torch

            # the models here are small: one intra-op thread fewer than cores leaves a core for drawing
            torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
            cuda = bool(torch.cuda.is_available())
            name = torch.cuda.get_device_name(0) if cuda else (platform.processor() or platform.machine())
        except Exception as exc:  # a broken torch install must not stop the numpy-only tabs
            cuda, name = False, f"torch unavailable ({exc})"
        _found_device = (cuda, name)
    return _found_device


def versions(device_name: str) -> dict[str, str]:
    from importlib import metadata

    from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR

    found = {"Python": platform.python_version(), "Qt": QT_VERSION_STR, "PyQt6": PYQT_VERSION_STR}
    for package in ("torch", "triton", "pyqtgraph", "numpy", "scipy"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    found["device"] = device_name
    return found


class MainWindow(FileActions, QtWidgets.QMainWindow):
    def __init__(self, settings: Settings, *, headless: bool = False) -> None:
        super().__init__()
        self.settings = settings
        self.headless = headless
        self.setWindowTitle("Loss-landscape explorer")
        self.topics: dict[str, TabInfo] = {info.name: info for info in tab_infos()}
        self.pages: dict[str, TopicPage] = {}
        self.cuda_available = False
        self.device_name = "probing…"
        self.theme = Theme(dark=settings["theme"] == "dark", presentation=settings["presentation"])

        self.tabs = QtWidgets.QTabWidget(documentMode=True)
        for info in self.topics.values():
            holder = QtWidgets.QWidget()
            QtWidgets.QVBoxLayout(holder).setContentsMargins(0, 0, 0, 0)
            holder.setProperty("topic", info.name)
            index = self.tabs.addTab(holder, info.title)
            self.tabs.setTabToolTip(index, info.title)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.setCentralWidget(self.tabs)

        self.device_label = QtWidgets.QLabel()
        self.rates_label = QtWidgets.QLabel()
        self.device_label.setToolTip("Where models train: Device menu to change")
        self.rates_label.setToolTip("Optimisation steps per second and frames drawn per second")
        self.statusBar().addPermanentWidget(self.rates_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self._build_menus()
        self._rates_timer = QtCore.QTimer(self, interval=1000)
        self._rates_timer.timeout.connect(self._show_rates)
        self._rates_timer.start()
        self._probe: DeviceProbe | None = None
        self._closed = False
        self.note_window = None
        self._painted = False
        self.play_on_start = False  # --play: the first page plays as soon as it has started
        if headless:  # an export runs where the window would: the same device, found before any page
            self._on_device_found(*probe_device())

        apply_to_application(QtWidgets.QApplication.instance(), self.theme)
        # the page itself is built on first use: after the first paint in a window, at once headless
        remembered = settings["last_tab"] if settings["last_tab"] in self.topics else self._first_name()
        self.tabs.setCurrentIndex(list(self.topics).index(remembered))
        self._update_device_label()
        for warning in settings.warnings:
            self.statusBar().showMessage(f"Settings: {warning}", 15000)
        if BROKEN_TABS:
            broken = "; ".join(f"{name} ({why})" for name, why in BROKEN_TABS.items())
            self.statusBar().showMessage(f"Tabs that could not load: {broken}", 30000)

    # --- pages --------------------------------------------------------------------------------
    def _first_name(self) -> str:
        return next(iter(self.topics))

    def page(self, name: str) -> TopicPage:
        """The page of topic ``name``, built on first use."""
        if name not in self.pages:
            index = list(self.topics).index(name)
            from explorer.ui.page import TopicPage  # after the first paint: its widgets cost ~15 ms to import

            page = TopicPage(self.topics[name].load(), headless=self.headless)
            page.tab.device = self.resolved_device()
            page.note.set_open(self.settings["note_open"])
            page.note.sig_toggled.connect(self._on_note_toggled)
            page.set_side_open(self._side_open())
            page.sig_side_toggled.connect(self.set_side_open)
            page.sig_status.connect(lambda text: self.statusBar().showMessage(text, 8000))
            page.apply_theme(self.theme)
            from explorer.ui.presets import attach_presets

            attach_presets(self, page)  # the note's "What to try" items: one click sets them up
            self.tabs.widget(index).layout().addWidget(page)
            self.pages[name] = page
        return self.pages[name]

    def current_page(self) -> TopicPage:
        return self.page(self.tabs.currentWidget().property("topic"))

    def select(self, name: str) -> TopicPage:
        page = self.page(name)
        self.tabs.setCurrentIndex(list(self.topics).index(name))
        return page

    def _on_tab_changed(self, index: int) -> None:
        name = self.tabs.widget(index).property("topic")
        self.settings["last_tab"] = name
        self._show_note_of(name)
        if not (self._painted or self.headless or self.pages):
            return  # before the first paint: the page is built just after it
        page = self.page(name)
        for other in self.pages.values():
            if other is not page:
                other.runner.pause()  # only the visible topic trains
        if self.isVisible() and not self.headless:
            page.start()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if not self.headless and not self._painted:  # the page, then scipy and torch, once the window has painted
            self.installEventFilter(self)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if obj is self and event.type() == QtCore.QEvent.Type.Paint and not self._painted:
            self._painted = True
            self.removeEventFilter(self)
            QtCore.QTimer.singleShot(0, self._build_current_page)
            QtCore.QTimer.singleShot(300, self._probe_device)
        return False

    def _build_current_page(self) -> None:
        if self._closed:
            return
        self.current_page()
        QtCore.QTimer.singleShot(50, self._start_first_page)

    def _start_first_page(self) -> None:
        if self._closed:
            return
        page = self.current_page()
        page.start()
        if self.play_on_start and page.has_experiment:
            self.play_on_start = False
            page.play()

    # --- menus --------------------------------------------------------------------------------
    def _action(self, menu: QtWidgets.QMenu, text: str, slot, shortcut: str | None = None, **kw) -> QtGui.QAction:
        action = QtGui.QAction(text, self, **kw)
        if shortcut:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "Open model…", self._open_model_dialog, "Ctrl+O")
        file.addSeparator()
        self._action(file, "Open session…", lambda: session.open_dialog(self), "Ctrl+Shift+O")
        self._action(file, "Save session…", lambda: session.save_dialog(self), "Ctrl+S")
        file.addSeparator()
        self._action(file, "Export image (PNG, 2x)…", lambda: self._export_dialog(".png"), "Ctrl+E")
        self._action(file, "Export plots (SVG)…", lambda: self._export_dialog(".svg"), "Ctrl+Shift+S")
        self._action(file, "Export data (CSV)…", lambda: self._export_dialog(".csv"))
        self._action(file, "Export data and parameters (JSON)…", lambda: self._export_dialog(".json"))
        self._action(file, "Copy image", self._copy_image, "Ctrl+Shift+C")
        self._action(file, "Export all tabs to folder…", self._export_all_dialog, "Ctrl+Shift+E")
        self._action(file, "Record animation (GIF, MP4)…", self._record_dialog, "Ctrl+Shift+M")
        self.caption_action = self._action(
            file, "Stamp caption on images", self._on_caption, checkable=True, checked=self.settings["caption"]
        )
        file.addSeparator()
        self._action(file, "Quit", self.close, "Ctrl+Q")

        view = bar.addMenu("&View")
        self.presentation_action = self._action(
            view, "Presentation mode", self.set_presentation, "F5", checkable=True, checked=self.theme.presentation
        )
        self.dark_action = self._action(
            view, "Dark theme", self.set_dark, "Ctrl+D", checkable=True, checked=self.theme.dark
        )
        self._action(view, "Full screen", self._toggle_full_screen, "F11", checkable=True)
        view.addSeparator()
        self.side_action = self._action(
            view, "Side panel", self.set_side_open, "F9", checkable=True, checked=self._side_open()
        )
        self.note_window_action = self._action(
            view, "Note in its own window", self._toggle_note_window, "Ctrl+Shift+N", checkable=True
        )

        run = bar.addMenu("&Run")
        self._action(run, "Play / pause", lambda: self.current_page().toggle_play(), "Space")
        self._action(run, "Step", lambda: self.current_page().step(), "S")
        self._action(run, "Reset", lambda: self.current_page().reset(), "R")
        self._action(run, "Reset parameters to defaults", self._reset_parameters, "Ctrl+Shift+R")
        run.addSeparator()
        self._action(run, "Pin this run", lambda: self._pins("pin_run"), "Ctrl+P")
        self._action(run, "Clear pins", lambda: self._pins("clear_pins"), "Ctrl+Shift+P")

        device = bar.addMenu("&Device")
        group = QtGui.QActionGroup(self)
        self.device_actions: dict[str, QtGui.QAction] = {}
        for key, text in (("auto", "Auto (CUDA when present)"), ("cpu", "CPU"), ("cuda", "CUDA")):
            action = self._action(device, text, lambda _=False, k=key: self.set_device(k), checkable=True)
            action.setChecked(self.settings["device"] == key)
            group.addAction(action)
            self.device_actions[key] = action
        self.device_actions["cuda"].setEnabled(False)
        self.device_actions["cuda"].setToolTip("Looking for a CUDA device…")
        device.setToolTipsVisible(True)

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "Keyboard shortcuts", self._show_shortcuts)
        self._action(help_menu, "About", self._show_about)

    # --- view ---------------------------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        apply_to_application(QtWidgets.QApplication.instance(), theme)
        for page in self.pages.values():
            page.apply_theme(theme)
        self._fit_tab_labels()
        self.settings["theme"] = "dark" if theme.dark else "light"
        self.settings["presentation"] = theme.presentation

    def set_presentation(self, on: bool) -> None:
        self.set_modes(dark=self.theme.dark, presentation=bool(on))

    def set_modes(self, *, dark: bool, presentation: bool) -> None:
        """Theme and presentation mode at once (one restyle), their menu checks, and the side panel as a
        new window in that mode has it (folded in presentation mode)."""
        self.dark_action.setChecked(dark)
        self.presentation_action.setChecked(presentation)
        was_presenting = self.theme.presentation
        self.set_theme(Theme(dark=dark, presentation=presentation))
        if presentation != was_presenting:
            self._apply_side_open(self._side_open())

    # --- side panel and note ------------------------------------------------------------------
    def _side_open(self) -> bool:
        """Presentation mode starts with the side panel folded; otherwise it is as the user left it."""
        return False if self.theme.presentation else self.settings["side_open"]

    def set_side_open(self, open_: bool) -> None:
        """Fold or unfold the side panel of every page (remembered outside presentation mode)."""
        if not self.theme.presentation:
            self.settings["side_open"] = bool(open_)
        self._apply_side_open(bool(open_))

    def _apply_side_open(self, open_: bool) -> None:
        if hasattr(self, "side_action"):
            self.side_action.setChecked(open_)
        for page in self.pages.values():
            page.set_side_open(open_)

    def _toggle_note_window(self, on: bool) -> None:
        if on and self.note_window is None:
            from explorer.ui.presets import apply_preset
            from explorer.ui.widgets.note_window import NoteWindow

            self.note_window = NoteWindow(self)
            self.note_window.sig_closed.connect(lambda: self.note_window_action.setChecked(False))
            self.note_window.sig_preset.connect(lambda preset: apply_preset(self, preset))
        if self.note_window is not None:
            self.note_window.setVisible(on)
            if on:
                self._show_note_of(self.tabs.currentWidget().property("topic"))

    def _show_note_of(self, name: str) -> None:
        if self.note_window is not None and self.note_window.isVisible():
            from explorer.ui.page import read_note
            from explorer.ui.presets import note_presets

            self.note_window.show_note(self.topics[name].title, read_note(name), note_presets(name))

    def _reset_parameters(self) -> None:
        changed = self.current_page().reset_parameters()
        what = ", ".join(changed) if changed else "nothing was changed"
        self.statusBar().showMessage(f"Parameters back to their defaults ({what})", 8000)

    def _pins(self, what: str) -> None:
        """Run > Pin this run / Clear pins: the current tab keeps (or drops) faded copies of its curves."""
        tab = self.current_page().tab
        if not tab.pinnable:
            self.statusBar().showMessage(f"The {tab.title} tab has no training curves to pin", 8000)
            return
        self.statusBar().showMessage(getattr(tab, what)(), 8000)

    def set_dark(self, on: bool) -> None:
        self.set_modes(dark=bool(on), presentation=self.theme.presentation)

    def _toggle_full_screen(self, on: bool) -> None:
        self.showFullScreen() if on else self.showNormal()

    def _on_caption(self, on: bool) -> None:
        self.settings["caption"] = bool(on)

    def _on_note_toggled(self, open_: bool) -> None:
        self.settings["note_open"] = open_
        for page in self.pages.values():
            if page.note.is_open() != open_:
                page.note.set_open(open_)

    # --- device -------------------------------------------------------------------------------
    def _probe_device(self) -> None:
        if self._probe is None:
            self._probe = DeviceProbe(self)
            self._probe.sig_found.connect(self._on_device_found)
            self._probe.start()

    def _on_device_found(self, cuda: bool, name: str) -> None:
        self.cuda_available, self.device_name = cuda, name
        action = self.device_actions["cuda"]
        action.setEnabled(cuda)
        action.setToolTip(name if cuda else "No CUDA device found: torch reports none on this machine")
        if self.settings["device"] == "cuda" and not cuda:
            self.statusBar().showMessage("CUDA was chosen last time but is not available: using the CPU", 10000)
        self._update_device_label()
        for page in self.pages.values():
            page.tab.device = self.resolved_device()

    def resolved_device(self) -> str:
        return "cuda" if self.settings["device"] in ("auto", "cuda") and self.cuda_available else "cpu"

    def set_device(self, key: str) -> None:
        self.settings["device"] = key
        self._update_device_label()
        for page in self.pages.values():
            if page.tab.device != self.resolved_device():
                page.tab.device = self.resolved_device()
                page.reset()

    def _update_device_label(self) -> None:
        device = self.resolved_device()
        self.device_label.setText(f"Device: {device.upper()} · {self.device_name}")

    def _show_rates(self) -> None:
        if not self.pages:
            return
        steps, frames = self.current_page().runner.rates()
        self.rates_label.setText(f"{steps:,.0f} steps/s · {frames:.0f} frames/s")

    # --- help ---------------------------------------------------------------------------------
    def _show_about(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in versions(self.device_name).items())
        QtWidgets.QMessageBox.about(
            self,
            "About the loss-landscape explorer",
            f"<p>Small models train live; the ideas of deep learning become pictures.</p><table>{rows}</table>",
        )

    def _show_shortcuts(self) -> None:
        """Every menu action that has a shortcut, read from the menus themselves (never out of date)."""
        lines = []
        for menu_action in self.menuBar().actions():
            for action in menu_action.menu().actions():
                keys = action.shortcut().toString(QtGui.QKeySequence.SequenceFormat.NativeText)
                if keys:
                    lines.append(f"{keys}  {action.text().replace('&', '').rstrip('…')}")
        QtWidgets.QMessageBox.information(self, "Keyboard shortcuts", "\n".join(lines))

    # --- closing ------------------------------------------------------------------------------
    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_tab_labels()

    def _fit_tab_labels(self) -> None:
        """The full titles when they fit in one row, else the short ones: the tab bar never scrolls on a
        projector's 1280 px (each tab's tooltip keeps the full title)."""
        bar = self.tabs.tabBar()
        metrics = bar.fontMetrics()
        infos = list(self.topics.values())
        # a tab's width is its text's plus padding the style adds; the padding stays when the text changes
        padding = [bar.tabRect(i).width() - metrics.horizontalAdvance(bar.tabText(i)) for i in range(bar.count())]
        full = sum(pad + metrics.horizontalAdvance(info.title) for pad, info in zip(padding, infos, strict=True))
        use_full = full <= self.tabs.width()
        for i, info in enumerate(infos):
            text = info.title if use_full else info.short_title
            if bar.tabText(i) != text:
                bar.setTabText(i, text)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Stop every worker, save, remove temp files; wait a moment, never for a step inside torch."""
        self._closed = True
        self._rates_timer.stop()
        for page in self.pages.values():
            page.shutdown()
        if not self.headless:  # an export from the command line leaves the user's preferences alone
            self.settings.save()
        from explorer.ui import export

        export.remove_partial_files()
        wait_for_workers(0.3)  # most workers end at their next frame; a long step is left behind
        super().closeEvent(event)
