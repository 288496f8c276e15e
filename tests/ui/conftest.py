"""What the UI tests share: settings in a temporary file, the window, torch on one thread."""

import gc

import pytest
from PyQt6 import QtCore, QtWidgets

from explorer.ui.app import create_application
from explorer.ui.settings import Settings
from explorer.ui.window import MainWindow


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "first_tab(name, values=None): the window opens on this tab (with these (key, value) settings applied "
        "before it starts), so no other tab's start-up work competes with the test",
    )


def delete_closed_windows() -> None:
    """Close and delete, in Qt's order and now, every main window no longer on screen.

    A window deleted by Python's garbage collector instead goes at whatever allocation triggers a
    collection, from inside the collector: it first empties some of the window's Python objects, then
    deletes the window, and Qt sends the emptied objects events on the way (``'ViewBox' object has no
    attribute 'state'``, ``'FigureFloor' object has no attribute 'view'``, a spin box's deleted red
    outline), raised in the event loop of whichever test was running.
    """
    for widget in QtWidgets.QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow) and not widget.isVisible():
            widget.close()  # a headless window's pages stop their threads, as on quit
            widget.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)


@pytest.fixture(autouse=True)
def qt_deletes_before_python_collects():
    """No collection during a UI test; at its end Qt deletes its windows, then Python collects.

    pytest-qt closes a test's widgets and asks Qt to delete them at the next event loop (``deleteLater``),
    which is the next test's; tests that build a window without pytest-qt leave it to the collector.
    """
    gc.disable()
    try:
        yield
    finally:
        delete_closed_windows()
        gc.enable()
        gc.collect()


@pytest.fixture
def settings(request, tmp_path):
    """Fresh settings in a temporary file; the window opens on the tab a ``first_tab`` mark names."""
    settings = Settings(tmp_path / "settings.ini")
    mark = request.node.get_closest_marker("first_tab")
    if mark is not None:
        settings["last_tab"] = mark.args[0]
    return settings


@pytest.fixture
def one_thread():
    """torch on one thread during the test: the worker leaves the GUI thread a core, as on a small laptop."""
    import torch  # here, not at the top: the start-up tests check which modules the app itself loads

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def window(request, qtbot, settings):
    create_application()
    win = MainWindow(settings)
    qtbot.addWidget(win)
    mark = request.node.get_closest_marker("first_tab")
    if mark is not None and mark.kwargs.get("values"):
        win.page(mark.args[0]).apply_settings(mark.kwargs["values"])
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


@pytest.fixture
def saddle_page(qtbot, window):
    page = window.select("saddle")
    qtbot.waitUntil(lambda: page.tab.surface_map is not None and page.tab.frame is not None, timeout=60000)
    return page
