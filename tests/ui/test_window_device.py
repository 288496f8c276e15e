"""A headless window (``--export``) knows its device before any page runs, as the GUI does after its probe."""

from __future__ import annotations

from explorer.ui.app import create_application
from explorer.ui.window import MainWindow, probe_device


def test_headless_window_probes_the_device_before_building_pages(qtbot, settings) -> None:
    create_application()
    window = MainWindow(settings, headless=True)
    qtbot.addWidget(window)
    cuda, name = probe_device()
    assert window.cuda_available == cuda and window.device_name == name
    assert window.current_page().tab.device == ("cuda" if cuda else "cpu")
    assert window.device_actions["cuda"].isEnabled() == cuda
