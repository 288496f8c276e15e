"""Pinned runs on every training view: pin, change a setting, and the old curves stay, faded and named."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.ui.export import export_csv, export_svg
from explorer.ui.widgets.pins import MAX_PINS, PIN_ALPHA, PinnedCurve, differences, pin_label

# (tab, small settings applied before it starts, a setting that restarts the run, its new value, pinned label)
CASES = [
    ("residual", [("depths", "8,56"), ("width", 8), ("n_points", 64), ("batch_size", 32), ("grid", 16),
                  ("steps", 20), ("steps_per_frame", 2), ("boundary_every", 5), ("resolution", "11"),
                  ("auto_landscape", False)], "lr", 0.1, "lr=0.05"),
    ("vanishing", [("depth", 4), ("width", 8), ("n_points", 100), ("batch_size", 16), ("sweep_max_depth", 4)],
     "seed", 3, "seed=0"),
    ("saddle", [("steps", 20), ("resolution", 50)], "seed", 5, "seed=0"),
    ("natural_gradient", [("width", 8), ("n_points", 128), ("batch_size", 64), ("steps_per_frame", 5)],
     "seed", 2, "seed=0"),
    ("finetune", [("blocks", 4), ("width", 4), ("pretrain_steps", 100), ("n_per_class", 5), ("n_val_per_class", 10),
                  ("epochs", 2), ("batch_size", 8), ("steps_per_frame", 2), ("eval_every", 1)],
     "lr", 0.02, "lr=0.01"),
    ("label_smoothing", [("n_train", 100), ("n_val", 100), ("hidden", 16), ("steps", 20), ("steps_per_frame", 2)],
     "lr", 0.1, "lr=0.05"),
]  # fmt: skip


def _case(name, values, key, new, label):
    return pytest.param(name, key, new, label, id=name, marks=pytest.mark.first_tab(name, values=values))


@pytest.fixture(autouse=True)
def _cached_and_one_thread(tmp_path, monkeypatch, one_thread):
    monkeypatch.setenv("LOSS_EXPLORER_CACHE", str(tmp_path / "cache"))  # fine-tuning's source network


def _legend_texts(tab) -> list[str]:
    texts = []
    for source in tab.pin_curves():
        if source.legend is not None:
            texts += [label.text for sample, label in source.legend.items if isinstance(sample.item, PinnedCurve)]
    return sorted(set(texts))


def _one_frame(qtbot, page) -> None:
    """From the current run's first frame (step 0), one step of it."""
    qtbot.waitUntil(lambda: page.tab.shown_step == 0, timeout=60000)
    page.step()
    qtbot.waitUntil(lambda: page.tab.shown_step is not None and page.tab.shown_step > 0, timeout=60000)


def test_pin_labels_name_what_differs():
    assert differences({"lr": 0.1, "depth": 50, "seed": 0}, {"lr": 0.05, "depth": 20, "seed": 0}) == [
        "lr=0.1", "depth=50"]  # fmt: skip
    assert pin_label(1, {"lr": 0.1, "depth": 50}, {"lr": 0.05, "depth": 20}) == "pin 1: lr=0.1, depth=50"
    assert pin_label(2, {"lr": 0.1}, {"lr": 0.1}) == "pin 2: same settings"
    assert pin_label(3, dict.fromkeys("abcde", 1), dict.fromkeys("abcde", 2)) == "pin 3: a=1, b=1, c=1 +2 more"


@pytest.mark.parametrize(("name", "key", "new", "label"), [_case(*case) for case in CASES])
def test_pins_survive_a_new_run_export_and_clear(qtbot, window, tmp_path, name, key, new, label):
    page = window.current_page()
    tab = page.tab
    assert tab.name == name and tab.pinnable
    if name == "natural_gradient":  # its start-up cost sweep takes seconds and is no part of the race
        page.start()
        page.jobs.cancel(quiet=True)
        assert page.jobs.wait(60000)
    qtbot.waitUntil(lambda: tab.frame is not None and not page.jobs.busy, timeout=60000)
    _one_frame(qtbot, page)
    live = [(s.item.xData.copy(), s.item.yData.copy()) for s in tab.pin_curves()]
    assert live and tab.pin_run() == f"Pinned run 1 of {MAX_PINS}."
    assert _legend_texts(tab) == ["pin 1: same settings"]

    page.params.set_value(key, new)  # restarts the live run; the pin stays
    _one_frame(qtbot, page)
    assert _legend_texts(tab) == [f"pin 1: {label}"]
    (pin,) = tab.pins.pins
    for (x, y), (_, curve) in zip(live, pin.curves, strict=True):
        np.testing.assert_array_equal(curve.xData, x)
        np.testing.assert_array_equal(curve.yData, y)
        assert curve.opts["pen"].color().alpha() == PIN_ALPHA
    tables = tab.tables()
    assert any(t.startswith("pin1-") for t in tables) and tables["pins"]["label"][0] == f"pin 1: {label}"
    written = [p.name for p in export_csv(tab, tmp_path / "out.csv") + export_svg(tab, tmp_path / "out.svg")]
    assert "out-pins.csv" in written
    svgs = [(tmp_path / n).read_text(encoding="utf-8") for n in written if n.endswith(".svg")]
    assert any(f"pin 1: {label}" in svg for svg in svgs)  # the legend is exported with the plots

    assert tab.pin_run() == f"Pinned run 2 of {MAX_PINS}." and "pin 2: same settings" in _legend_texts(tab)
    tab.pin_run()
    assert tab.pin_run().startswith("Pinned run 4; pin 1, the oldest, is gone")  # a fourth replaces the oldest
    assert [p.number for p in tab.pins.pins] == [2, 3, 4]
    assert len(_legend_texts(tab)) == 3 and not any(t.startswith("pin 1:") for t in _legend_texts(tab))
    assert {p.slot for p in tab.pins.pins} == {0, 1, 2}  # each pin its own dash pattern
    assert tab.pin_buttons.status.text().startswith("Pinned run 4")
    oldest = tab.pins.pins[0]
    oldest.samples[0][1].setVisible(False)  # what a click on its legend entry does: the pin's curves hide
    assert not any(curve.isVisible() for _, curve in oldest.curves)

    window.set_presentation(True)  # a theme change re-pens the pins at the theme's width
    qtbot.waitUntil(lambda: tab.styled.theme.presentation, timeout=10000)
    widths = {curve.opts["pen"].widthF() for pin in tab.pins.pins for source, curve in pin.curves}
    assert len(_legend_texts(tab)) == 3 and min(widths) >= 2.0
    window.set_presentation(False)

    assert tab.clear_pins() == "Cleared 3 pinned runs."
    assert _legend_texts(tab) == [] and not any(t.startswith("pin") for t in tab.tables())
    assert not any(isinstance(item, PinnedCurve) for s in tab.pin_curves() for item in s.plot.items)


def _run_action(window, text: str):
    run_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Run")
    next(a for a in run_menu.actions() if a.text() == text).trigger()


@pytest.mark.first_tab("saddle", values=[("steps", 20), ("resolution", 50)])
def test_the_run_menu_pins_and_clears_and_a_tab_without_curves_says_so(qtbot, window):
    page = window.select("saddle")
    _one_frame(qtbot, page)
    _run_action(window, "Pin this run")
    assert window.statusBar().currentMessage().startswith("Pinned run 1")
    assert len(page.tab.pins.tables()) > 0
    _run_action(window, "Clear pins")
    assert page.tab.pins.tables() == {}
    window.select("entropy")
    _run_action(window, "Pin this run")
    assert window.statusBar().currentMessage() == "The Entropy tab has no training curves to pin"
