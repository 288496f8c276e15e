"""Controls for a lecture: the side panel folds away, the note opens in its own window, every field
goes back to its default in one action, and export dialogs start where the last export went."""

from __future__ import annotations

from pathlib import Path

from explorer.ui.page import read_note


def test_the_side_panel_folds_to_a_strip_and_comes_back(qtbot, window) -> None:
    page = window.select("saddle")
    assert page.side_is_open() and page.side_strip.isHidden()
    page.fold_button.click()
    assert not page.side_is_open() and (not page.side_strip.isHidden())
    assert window.settings["side_open"] is False and not window.side_action.isChecked()
    other = window.select("entropy")  # a page built later folds too
    assert not other.side_is_open()
    page.side_strip.click()
    assert page.side_is_open() and other.side_is_open() and window.settings["side_open"] is True


def test_presentation_mode_starts_folded_and_leaves_the_preference_alone(qtbot, window) -> None:
    page = window.select("saddle")
    window.set_presentation(True)
    assert not page.side_is_open()
    page.side_strip.click()  # unfolded for this lecture only
    assert page.side_is_open() and window.settings["side_open"] is True
    window.set_presentation(False)
    assert page.side_is_open()


def test_the_note_window_follows_the_open_tab(qtbot, window) -> None:
    window.select("saddle")
    window.note_window_action.trigger()
    note = window.note_window
    assert note.isVisible() and "Saddle points" in note.windowTitle()
    first_heading = next(line for line in read_note("saddle").splitlines() if line.startswith("#")).strip("# ")
    assert first_heading in note.text()
    window.select("entropy")
    assert "Entropy" in note.windowTitle()
    note.close()
    assert not window.note_window_action.isChecked()


def test_reset_parameters_returns_every_field_to_its_default(qtbot, window) -> None:
    page = window.select("saddle")
    page.params.set_value("steps", 1234)
    page.params.set_value("seed", 7)
    changed = page.reset_parameters()
    assert set(changed) >= {"steps", "seed"}
    defaults = {p.key: p.default for p in page.tab.parameters()}
    assert {k: v for k, v in page.params.values().items() if k in ("steps", "seed")} == {
        "steps": defaults["steps"],
        "seed": defaults["seed"],
    }
    assert page.reset_parameters() == []


def test_export_dialogs_start_in_the_last_folder(qtbot, window, tmp_path) -> None:
    assert window.start_folder() == Path.home()
    window.remember_folder(tmp_path)
    assert window.start_folder() == tmp_path and window.settings["export_folder"] == str(tmp_path)
    window.remember_folder(tmp_path / "gone")  # a folder that no longer exists falls back to home
    assert window.start_folder() == Path.home()


def test_export_all_with_progress_writes_every_tab(qtbot, window, tmp_path) -> None:
    written = window.export_all(tmp_path, progress=True)
    stems = {path.stem.split("-")[0] for path in written}
    assert set(window.topics) <= stems
    assert all(path.exists() for path in written)


def test_a_typed_value_out_of_bounds_is_marked_and_not_applied(qtbot, window) -> None:
    page = window.select("saddle")
    spec = next(p for p in page.tab.parameters() if p.key == "steps")
    spin = page.params.editor("steps")
    before = page.params.value("steps")
    changes = []
    page.params.sig_changed.connect(lambda key, value: changes.append((key, value)))
    spin.lineEdit().setText("-5")
    spin.editingFinished.emit()
    assert spin.lineEdit().text().startswith("-5")  # the typed value stays in the field
    assert page.params.value("steps") == before and not changes  # and is not applied
    lo, hi = spec.bounds
    assert f"must be between {lo:g} and {hi:g}" in page.params.problem.text() and page.params.problem.isVisibleTo(page)
    spin.lineEdit().setText("120")
    spin.editingFinished.emit()
    assert page.params.value("steps") == 120 and changes == [("steps", 120)]
    assert not page.params.problems() and page.params.problem.isHidden()
