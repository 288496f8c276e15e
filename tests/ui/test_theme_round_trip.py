"""A theme switch restyles everything it touched: after any sequence of mode changes, each tab looks as
a window started in that mode.

For every tab, at step 0 (nothing trains), every view of the tab is grabbed (the whole page: plots, side
panel, note) in three situations and compared pixel by pixel:

* window A, started in the light theme, then presentation on, dark on, presentation off, dark off:
  compared with A's own grabs from before the switches (a freshly started light window);
* the same window A, then presentation on and dark on: compared with window B, started directly in
  presentation + dark;
* window B switched back to light (dark off, presentation off): compared with A's fresh light grabs.

The windows are one at a time (a new window applies its theme to the whole application), the same size,
with the same small parameters. What a job measures or makes (FlashAttention's timing sweep, the natural
gradient's Fisher cost sweep, fine-tuning's pretrained network and timed k-sweep) is made once, in A, and
replayed to both windows as the job's result, so that the pictures differ only where the styling does;
each window waits for its jobs (about a second each at these sizes) and its step-0 frame. The grabs come
from the screen, once two in a row agree. A failure names the pictures (got, want, and a diff with the
differing pixels in magenta) and says whether any part of the page moved or changed size (a layout
difference) or none did (a styling one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.ui.app import create_application
from explorer.ui.settings import Settings
from explorer.ui.theme import Theme, apply_to_application, forget_text_room
from explorer.ui.topic import tab_infos
from explorer.ui.window import MainWindow

pytestmark = pytest.mark.slow  # 4-15 s a tab (two windows, their start-up jobs); about 70 s in all

SIZE = (1400, 900)
#: a pixel differs when one of its channels moves by more than this (anti-aliasing moves a few)
CHANNEL_TOLERANCE = 30
#: the share of differing pixels a page may have
PIXEL_FRACTION = 0.005


@dataclass(frozen=True)
class Case:
    """A tab's small parameters (applied before it starts) and when its step-0 picture is complete."""

    values: list[tuple[str, Any]] = field(default_factory=list)
    ready: Callable[[Any], bool] = lambda page: True


def _present(*things: Any) -> bool:
    return all(thing is not None for thing in things)


# the small settings of each tab's own tests: step 0 and the start-up jobs in about a second
RESIDUAL = [("depths", "4,8,16"), ("width", 8), ("n_points", 128), ("batch_size", 64), ("grid", 20), ("steps", 40),
            ("steps_per_frame", 5), ("boundary_every", 2), ("resolution", "11")]  # fmt: skip
VANISHING = [("depth", 6), ("width", 8), ("n_points", 200), ("batch_size", 32), ("sweep_max_depth", 12)]
FLASH = [("device", "cpu"), ("dtype", "float32"), ("d", 16), ("batch_heads", "1"), ("max_n", "256"),
         ("flash", False)]  # fmt: skip
FINETUNE = [("blocks", 4), ("width", 4), ("pretrain_steps", 100), ("n_per_class", 5), ("n_val_per_class", 10),
            ("epochs", 4), ("batch_size", 8), ("steps_per_frame", 2), ("cka_every", 1)]  # fmt: skip
NATURAL_GRADIENT = [("width", 8), ("n_points", 128), ("batch_size", 64), ("steps_per_frame", 10),
                    ("cost_budget_s", 0.5), ("cost_exact_max_width", 16)]  # fmt: skip

CASES = {
    "saddle": Case(ready=lambda p: p.tab.surface_map is not None and p.tab.frame is not None),
    "residual": Case(RESIDUAL, lambda p: p.tab.frame is not None and p.tab.frame.depths == (4, 8, 16)),
    "vanishing": Case(VANISHING, lambda p: p.tab.frame is not None and p.tab.sweep.result is not None),
    "flash_attention": Case(FLASH, lambda p: p.tab.step_frame is not None and p.tab.sweep_complete),
    "finetune": Case(FINETUNE, lambda p: _present(p.tab.frame, p.tab.sweep, p.tab.pretrained)),
    "natural_gradient": Case(NATURAL_GRADIENT, lambda p: _present(p.tab.frame, p.tab.cost_page.result)),
    "entropy": Case(ready=lambda p: p.tab.info is not None and p.tab.split_plots.split is not None),
    "label_smoothing": Case(ready=lambda p: p.tab.frame is not None and p.tab.frame.step == 0),
}


def _replayed(real: Callable[..., Any], cache: dict[str, Any], key: Callable[..., str] = repr) -> Callable[..., Any]:
    """A job that runs ``real`` to its end once per ``key`` of its arguments (no partial results) and
    replays that result."""

    def job(cfg: Any, *args: Any, **kwargs: Any) -> Any:
        key_ = f"{real.__qualname__}: {key(cfg, *args, **kwargs)}"
        if key_ not in cache:
            generator = real(cfg, *args, **kwargs)
            try:
                while True:
                    next(generator)
            except StopIteration as done:
                cache[key_] = done.value
        return cache[key_]
        yield  # a generator, as the real job is

    return job


@pytest.fixture(scope="module")
def measurements() -> dict[str, Any]:
    return {}


@pytest.fixture(autouse=True)
def _deterministic(monkeypatch, tmp_path_factory, measurements, one_thread):
    """Measurements replayed, the pretrained network cached, and the light theme back afterwards."""
    from explorer.lab.flash_attention import attention
    from explorer.lab.natural_gradient import natural_gradient_views
    from explorer.ui.tabs.finetune import view as finetune_view

    monkeypatch.setattr(attention, "sweep", _replayed(attention.sweep, measurements))
    # the source network and the k-sweep (timed) of the fine-tuning tab: made once, the same in both windows
    monkeypatch.setattr(
        finetune_view,
        "prepare",
        _replayed(finetune_view.prepare, measurements, key=lambda source, device, sweep, *_: repr((source, sweep))),
    )
    monkeypatch.setattr(
        natural_gradient_views,
        "measure_cost_isolated",
        _replayed(natural_gradient_views.measure_cost_isolated, measurements),
    )
    monkeypatch.setenv("LOSS_EXPLORER_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield
    apply_to_application(create_application(), Theme())


def _open(qtbot, path: Path, name: str, theme: Theme) -> MainWindow:
    create_application()
    settings = Settings(path)
    settings["last_tab"] = name
    settings["theme"] = "dark" if theme.dark else "light"
    settings["presentation"] = theme.presentation
    window = MainWindow(settings)
    qtbot.addWidget(window)
    case = CASES.get(name, Case())
    if case.values:
        window.page(name).apply_settings(case.values)
    window.resize(*SIZE)
    window.show()
    qtbot.waitExposed(window)
    page = window.page(name)
    qtbot.waitUntil(lambda: page._started, timeout=30000)
    qtbot.waitUntil(
        lambda: (not page.has_experiment or page._last_frame is not None) and case.ready(page), timeout=120000
    )
    qtbot.waitUntil(lambda: not page.jobs.busy, timeout=120000)
    _measure_ticks_afresh(page)
    return window


def _measure_ticks_afresh(page) -> None:
    """Every axis sizes itself to the ticks it shows now, as after a theme change.

    pyqtgraph keeps an axis's room for tick text until the text is 10 px narrower than the room, so a new
    window's axes remember the ticks of the default range they were painted with before the data came:
    room that depends on when the first paint happened, not on the theme. A theme change lets every axis
    measure afresh (``forget_text_room``); so does this, once, in a window just opened (after that, it is
    up to the theme code alone).
    """
    for view in page.findChildren(pg.GraphicsView):
        if view.scene() is not None:
            for item in view.scene().items():
                if isinstance(item, pg.AxisItem):
                    forget_text_room(item)


def _views(page) -> list[str | None]:
    bar = getattr(page.tab, "view_bar", None)
    return list(bar.views) if bar is not None else [None]


@dataclass(frozen=True)
class Shot:
    """A page as shown, and where each of its visible parts is (to tell a layout from a styling difference)."""

    image: QtGui.QImage
    parts: dict[str, tuple[int, int, int, int]]


def _parts(page: QtWidgets.QWidget) -> dict[str, tuple[int, int, int, int]]:
    """The rectangle, in page pixels, of every visible widget and every visible part of each figure."""
    parts = {}
    for i, widget in enumerate(page.findChildren(QtWidgets.QWidget)):
        if widget.isVisible():
            corner = widget.mapTo(page, QtCore.QPoint(0, 0))
            parts[f"{type(widget).__name__}#{i}"] = (corner.x(), corner.y(), widget.width(), widget.height())
    for j, view in enumerate(page.findChildren(pg.GraphicsView)):
        if not view.isVisible() or view.scene() is None:
            continue
        for k, item in enumerate(view.scene().items(QtCore.Qt.SortOrder.AscendingOrder)):
            if isinstance(item, QtWidgets.QGraphicsWidget) and item.isVisible():
                r = item.sceneBoundingRect()
                parts[f"figure{j}/{type(item).__name__}#{k}"] = tuple(
                    round(v) for v in (r.x(), r.y(), r.width(), r.height())
                )
    return parts


def _grab(qtbot, window: MainWindow, name: str) -> dict[str | None, Shot]:
    """Every view of tab ``name``'s page, at rest: no focus (no blinking cursor), layouts settled."""
    page = window.page(name)
    shots = {}
    first = _views(page)[0]
    for view in _views(page):
        if view is not None:
            _choose_view(qtbot, page, view)
        focused = QtWidgets.QApplication.focusWidget()
        if focused is not None:
            focused.clearFocus()
        shots[view] = Shot(_settled(qtbot, window, page), _parts(page))
    if first is not None:
        _choose_view(qtbot, page, first)
    return shots


def _choose_view(qtbot, page, view: str) -> None:
    """Show ``view``; where that starts another experiment (the saddle tab's network), wait for its step-0
    frame and jobs: a grab 100 ms after the switch could otherwise show the view still empty."""
    thread, frame = page.runner._thread, page._last_frame
    page.params.set_value("view", view)
    if page.runner._thread is not thread:
        qtbot.waitUntil(lambda: page._last_frame is not frame or page.runner.state == "failed", timeout=60000)
    qtbot.waitUntil(lambda: not page.jobs.busy, timeout=120000)


def _settled(qtbot, window: MainWindow, widget: QtWidgets.QWidget, tries: int = 30) -> QtGui.QImage:
    """``widget`` on screen once two grabs 100 ms apart agree: layouts and late repaints have finished."""
    shot = _on_screen(window, widget)
    for _ in range(tries):
        qtbot.wait(100)
        again = _on_screen(window, widget)
        if again == shot:
            break
        shot = again
    return shot


def _on_screen(window: MainWindow, widget: QtWidgets.QWidget) -> QtGui.QImage:
    """What the window shows of ``widget``, from the screen: ``widget.grab()`` would also lay out what is
    hidden (the folded side panel), which then opens with other proportions than in a window never grabbed."""
    window.repaint()
    corner = widget.mapTo(window, widget.rect().topLeft())
    pixmap = window.screen().grabWindow(window.winId(), corner.x(), corner.y(), widget.width(), widget.height())
    return pixmap.toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)


def _switch(qtbot, window: MainWindow, *steps: tuple[str, bool]) -> None:
    for what, on in steps:
        (window.set_presentation if what == "presentation" else window.set_dark)(on)
        qtbot.wait(50)


def _array(image: QtGui.QImage) -> np.ndarray:
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    rows = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : 4 * image.width()].reshape(image.height(), image.width(), 4)[..., :3].copy()


def _layout_note(got: Shot, want: Shot) -> str:
    """Which parts moved or changed size, if any: then the difference is (also) one of layout."""
    moved = [key for key in want.parts if got.parts.get(key) != want.parts[key]]
    moved += [key for key in got.parts if key not in want.parts]
    if not moved:
        return "layout identical: a styling difference"
    first = ", ".join(f"{key} {want.parts.get(key)} -> {got.parts.get(key)}" for key in moved[:3])
    return f"layout differs in {len(moved)} of {len(want.parts)} parts, e.g. {first}"


def _compare(got_shot: Shot, want_shot: Shot, label: str, folder: Path) -> str | None:
    """None when the two pictures agree; else what differs, with the pictures saved under ``folder``."""
    got, want = got_shot.image, want_shot.image
    stem = folder / label.replace(" ", "_").replace("/", "-")
    if got.size() != want.size():
        got.save(f"{stem}_got.png")
        want.save(f"{stem}_want.png")
        return f"{label}: size {got.width()}x{got.height()} != {want.width()}x{want.height()} ({stem}_*.png)"
    a, b = _array(got), _array(want)
    differs = (np.abs(a.astype(int) - b.astype(int)) > CHANNEL_TOLERANCE).any(axis=2)
    fraction = float(differs.mean())
    if fraction <= PIXEL_FRACTION:
        return None
    diff = (b // 3).astype(np.uint8)
    diff[differs] = (255, 0, 255)
    diff = np.ascontiguousarray(diff)
    rgb = np.dstack([diff, np.full(diff.shape[:2], 255, np.uint8)])[..., [2, 1, 0, 3]].copy()
    image = QtGui.QImage(rgb.data, rgb.shape[1], rgb.shape[0], 4 * rgb.shape[1], QtGui.QImage.Format.Format_ARGB32)
    got.save(f"{stem}_got.png")
    want.save(f"{stem}_want.png")
    image.save(f"{stem}_diff.png")
    ys, xs = np.nonzero(differs)
    box = f"x {xs.min()}-{xs.max()}, y {ys.min()}-{ys.max()}"
    return (
        f"{label}: {fraction:.2%} of pixels differ ({box}; {_layout_note(got_shot, want_shot)}); "
        f"{stem}_got.png, _want.png, _diff.png"
    )


#: every tab the window lists: one added later is compared too (at its defaults, when CASES has no entry)
TABS = [info.name for info in tab_infos()]


@pytest.mark.parametrize("name", TABS)
def test_a_theme_round_trip_looks_like_a_fresh_window(qtbot, tmp_path, name):
    light, lecture = Theme(), Theme(dark=True, presentation=True)
    problems: list[str] = []

    a = _open(qtbot, tmp_path / "a.ini", name, light)
    fresh_light = _grab(qtbot, a, name)
    _switch(qtbot, a, ("presentation", True), ("dark", True), ("presentation", False), ("dark", False))
    for view, image in _grab(qtbot, a, name).items():
        problems.append(_compare(image, fresh_light[view], f"{name} {view} light after round trip", tmp_path))
    _switch(qtbot, a, ("presentation", True), ("dark", True))
    switched_lecture = _grab(qtbot, a, name)
    a.close()

    b = _open(qtbot, tmp_path / "b.ini", name, lecture)
    for view, image in _grab(qtbot, b, name).items():
        problems.append(_compare(switched_lecture[view], image, f"{name} {view} presentation+dark switched", tmp_path))
    _switch(qtbot, b, ("dark", False), ("presentation", False))
    for view, image in _grab(qtbot, b, name).items():
        problems.append(_compare(image, fresh_light[view], f"{name} {view} light after lecture start", tmp_path))
    b.close()

    problems = [p for p in problems if p is not None]
    assert not problems, "\n".join(problems)
