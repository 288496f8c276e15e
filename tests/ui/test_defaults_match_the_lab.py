"""A tab's form at its defaults builds the lab config's own defaults: the two specs cannot drift apart.

A few fields are resolved rather than copied (the lab's "use the surface's start" is the form's number);
they are listed with why, and every other field must be equal.
"""

from __future__ import annotations

import dataclasses

import pytest

from explorer.ui.app import create_application
from explorer.ui.window import MainWindow

#: tab -> fields whose lab default means "work it out" and the form shows the worked-out value
RESOLVED = {
    "residual": {"steps"},  # the lab runs until stopped (0); the window's run ends at the form's 300
    "saddle": {"start", "learning_rates"},  # None / {}: the surface's start, each optimizer's suggested rate
}


@pytest.mark.parametrize("name", ["residual", "vanishing", "saddle", "label_smoothing"])
def test_the_form_defaults_are_the_config_defaults(qtbot, settings, name) -> None:
    create_application()
    window = MainWindow(settings, headless=True)
    qtbot.addWidget(window)
    page = window.select(name)
    factory = page.tab.experiment(page.params.values())
    cells = [c.cell_contents for c in factory.__closure__ or ()]
    configs = [c for c in cells if dataclasses.is_dataclass(c)]
    assert configs, f"{name}: no config captured by its experiment factory"
    for cfg in configs:
        lab_default = type(cfg)()
        drift = {
            f.name: (getattr(cfg, f.name), getattr(lab_default, f.name))
            for f in dataclasses.fields(cfg)
            if f.name not in RESOLVED.get(name, set()) | {"device"}
            and getattr(cfg, f.name) != getattr(lab_default, f.name)
        }
        assert not drift, f"{name}: form default vs {type(cfg).__name__} default: {drift}"


def test_every_tab_shows_the_labs_own_specs() -> None:
    """The form is built from the lab's spec list itself: a parameter is written once, in the lab."""
    import importlib

    from explorer.ui.topic import tab_infos

    for info in tab_infos():
        lab = importlib.import_module(f"explorer.lab.{info.name}.params")
        assert info.load().parameters() == list(lab.PARAMS), info.name
