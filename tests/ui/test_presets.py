"""One-click experiments: a "▶" link of a note sets its tab's form to the defaults plus the preset's
values, opens the tab and restarts the run at step 0, whatever the form held before."""

from __future__ import annotations

import pytest
from PyQt6 import QtCore, QtGui

from explorer.lab.core.presets import Preset, form_values, load_presets
from explorer.ui.app import create_application
from explorer.ui.page import read_note
from explorer.ui.presets import apply_preset
from explorer.ui.widgets.note_window import NoteWindow

pytestmark = pytest.mark.first_tab("label_smoothing")


def _anchors(document: QtGui.QTextDocument) -> list[tuple[str, str, QtGui.QColor]]:
    """(href, text, colour) of every link the reader sees."""
    found = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isAnchor():
                found.append((fmt.anchorHref(), it.fragment().text(), fmt.foreground().color()))
            it += 1
        block = block.next()
    return found


def _stepped(qtbot, page) -> None:
    qtbot.waitUntil(lambda: page.runner.state == "paused", timeout=60000)  # started: its step-0 frame is loaded
    page.step()
    qtbot.waitUntil(lambda: page.controls.step_label.text() not in ("", "step 0"), timeout=60000)


def test_a_link_applies_defaults_then_its_values_on_its_tab_and_restarts(qtbot, window, one_thread) -> None:
    page = window.select("label_smoothing")  # the window links the note to its presets
    presets = load_presets("label_smoothing")
    assert [href for href, _, _ in _anchors(page.note.browser.document())] == [
        f"preset:{i}" for i in range(len(presets))
    ]
    page.note.restyle()  # a theme change reads the note again: the links stay
    assert all(text.startswith("▶") for _, text, _ in _anchors(page.note.browser.document()))

    page.params.set_value("hidden", 32)  # changes the preset must undo
    page.params.set_value("projection", "val")
    _stepped(qtbot, page)
    window.select("entropy")
    index, preset = next((i, p) for i, p in enumerate(presets) if p.values.get("num_classes") == 4)
    page.note.browser.anchorClicked.emit(QtCore.QUrl(f"preset:{index}"))

    assert window.current_page() is page
    expected = {spec.key: spec.default for spec in page.tab.parameters()} | dict(preset.values)
    assert page.params.values() == expected
    qtbot.waitUntil(lambda: page.controls.step_label.text() == "step 0", timeout=60000)
    assert page.runner.state == "paused"
    assert preset.title in window.statusBar().currentMessage()


def test_a_bad_value_or_tab_is_said_and_the_rest_applies(qtbot, window) -> None:
    page = window.select("label_smoothing")
    apply_preset(window, Preset(item=1, title="Odd", tab="label_smoothing", values={"eps": 5.0, "hidden": 64}))
    assert page.params.value("hidden") == 64 and page.params.value("eps") == 0.1
    assert "eps must be between" in window.statusBar().currentMessage()
    apply_preset(window, Preset(item=1, title="Elsewhere", tab="nowhere"))
    assert "not available" in window.statusBar().currentMessage()
    assert window.current_page() is page


def test_the_note_window_links_emit_their_preset_and_web_links_open_outside(qtbot, monkeypatch) -> None:
    create_application()
    note = NoteWindow()
    qtbot.addWidget(note)
    presets = load_presets("vanishing")
    note.show_note("VGG vs ResNet", read_note("vanishing"), presets)
    assert len(_anchors(note.browser.document())) == len(presets)
    with qtbot.waitSignal(note.sig_preset) as blocker:
        note.browser.anchorClicked.emit(QtCore.QUrl("preset:2"))
    assert blocker.args == [presets[2]]
    dark = QtGui.QPalette(note.browser.palette())
    dark.setColor(QtGui.QPalette.ColorRole.Base, QtGui.QColor("#1e1e1e"))
    note.browser.setPalette(dark)  # a theme change: the links are redrawn in a colour that reads on it
    assert all(color.lightness() >= 160 for _, _, color in _anchors(note.browser.document()))
    opened = []
    monkeypatch.setattr(QtGui.QDesktopServices, "openUrl", opened.append)
    emitted = []
    note.sig_preset.connect(emitted.append)
    note.browser.anchorClicked.emit(QtCore.QUrl("https://arxiv.org/abs/2205.14135"))
    note.browser.anchorClicked.emit(QtCore.QUrl(f"preset:{len(presets)}"))  # none such: nothing happens
    assert [url.toString() for url in opened] == ["https://arxiv.org/abs/2205.14135"] and not emitted


def test_every_preset_of_every_note_applies_whole(qtbot, tmp_path) -> None:
    """Headless (nothing runs): each preset's values are in its tab's form exactly (the rest are the defaults or,
    on the saddle tab, what its surface sets: start and rates), with no value refused and no banner."""
    from explorer.ui.settings import Settings
    from explorer.ui.topic import tab_infos
    from explorer.ui.window import MainWindow

    create_application()
    window = MainWindow(Settings(tmp_path / "s.ini"), headless=True)
    qtbot.addWidget(window)
    applied = 0
    for info in tab_infos():
        for preset in load_presets(info.name):
            apply_preset(window, preset)
            page = window.current_page()
            assert page.tab.name == preset.tab, preset
            assert "not applied" not in window.statusBar().currentMessage(), preset
            wanted, problems = form_values(preset, list(page.params.specs.values()))  # file paths made absolute
            values = page.params.values()
            assert problems == [] and {key: values[key] for key in wanted} == wanted, preset
            assert page.banner.text() == "", (preset, page.banner.text())
            applied += 1
    assert applied >= 9
