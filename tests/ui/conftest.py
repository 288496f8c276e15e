import pytest

from explorer.ui.app import create_application
from explorer.ui.settings import Settings
from explorer.ui.window import MainWindow


@pytest.fixture
def settings(tmp_path):
    return Settings(tmp_path / "settings.ini")


@pytest.fixture
def window(qtbot, settings):
    create_application()
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


@pytest.fixture
def saddle_page(qtbot, window):
    page = window.select("saddle")
    qtbot.waitUntil(lambda: page.tab.landscape is not None and page.tab.frame is not None, timeout=60000)
    return page
