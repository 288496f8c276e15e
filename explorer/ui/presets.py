"""One-click experiments in the window: a note's "▶" link sets the form to the defaults, then to the
preset's values, opens its tab and restarts the run from the seed, so a click shows the same pictures
whatever the form held before (the presets themselves: :mod:`explorer.lab.core.presets`)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from explorer.lab.core.presets import Preset, PresetError, form_values, load_presets

if TYPE_CHECKING:
    from explorer.ui.page import TopicPage
    from explorer.ui.window import MainWindow

_SHOWN_MS = 8000


def note_presets(topic: str) -> list[Preset]:
    """``topic``'s presets, or none when its file cannot be read: a broken file costs the links, not the tab."""
    try:
        return load_presets(topic)
    except PresetError:
        return []


def attach_presets(window: MainWindow, page: TopicPage) -> None:
    """Link the page's note to its presets and apply the one clicked in ``window``."""
    page.note.set_presets(note_presets(type(page.tab).name))
    page.note.sig_preset.connect(partial(apply_preset, window))


def apply_preset(window: MainWindow, preset: Preset) -> None:
    """Defaults, then the preset's values, on its tab (opened), then Reset; the status bar says what was set.

    Two passes, each in the form's order, because a tab derives some fields from others (the saddle tab
    moves the start to the surface's own): the first brings every field and what derives from it back
    to the defaults, the second sets the preset's values from there, as a person would type them.
    Values a tab refuses are left at their defaults and named in the status bar.
    """
    if preset.tab not in window.topics:
        window.statusBar().showMessage(f"{preset.title}: the {preset.tab} tab is not available", _SHOWN_MS)
        return
    page = window.page(preset.tab)
    specs = page.params.specs
    values, problems = form_values(preset, list(specs.values()))
    for key, spec in specs.items():
        page.params.set_value(key, spec.default)
    for key in specs:
        if key in values:
            page.params.set_value(key, values[key])
    window.select(preset.tab)
    page.reset()
    message = f"{preset.title}: {preset.describe()}"
    if problems:
        message += f" (not applied: {'; '.join(problems)})"
    window.statusBar().showMessage(message, _SHOWN_MS)
