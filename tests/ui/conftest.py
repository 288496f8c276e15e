"""What the UI tests share: settings in a temporary file, the window, torch on one thread."""

import gc

import pytest
from PyQt6 import QtCore

from explorer.ui.app import create_application
from explorer.ui.settings import Settings
from explorer.ui.window import MainWindow


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "first_tab(name, values=None): the window opens on this tab (with these (key, value) settings applied "
        "before it starts), so no other tab's start-up work competes with the test",
    )


@pytest.fixture(autouse=True)
def qt_deletes_before_python_collects():
    """Qt, not Python's garbage collector, takes each test's windows apart, before the next test starts.

    pytest-qt closes a test's widgets and asks Qt to delete them at the next event loop (``deleteLater``):
    in the next test. Meanwhile their Python wrappers were garbage, and a collection then (at any
    allocation) emptied some wrappers and deleted the window from inside the collector, while Qt still
    sent the emptied objects events. The next test's set-up failed on an exception in the event loop:
    ``'ViewBox' object has no attribute 'state'``, a spin box's deleted red outline. So nothing is
    collected during a test; at its end Qt deletes what it was asked to, then Python collects.
    """
    gc.disable()
    try:
        yield
    finally:
        QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
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
