"""Closing the window while a tab trains or runs a job: the window closes at once, every worker ends
on its own afterwards, and nothing is raised or logged on the way (warnings fail the test run)."""

from __future__ import annotations

import pytest

from explorer.ui.app import create_application
from explorer.ui.runner import unfinished_threads
from explorer.ui.topic import tab_infos
from explorer.ui.window import MainWindow


@pytest.mark.parametrize("name", [info.name for info in tab_infos()])
def test_closing_while_the_tab_works(qtbot, settings, tmp_path, monkeypatch, name) -> None:
    monkeypatch.setenv("LOSS_EXPLORER_CACHE", str(tmp_path / "cache"))  # fine-tuning pretrains from scratch
    settings["last_tab"] = name
    create_application()
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.play_on_start = True
    window.show()
    qtbot.waitUntil(lambda: name in window.pages and window.pages[name]._started, timeout=60000)
    page = window.pages[name]
    busy = lambda: page.jobs.busy or page.runner.state == "playing" or not page.has_experiment  # noqa: E731
    qtbot.waitUntil(busy, timeout=60000)
    window.close()
    assert not window.isVisible()
    qtbot.waitUntil(lambda: unfinished_threads() == 0, timeout=60000)
