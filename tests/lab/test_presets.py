"""Every note's one-click experiments: each file loads, each preset fits its tab's parameter specs, and
each "What to try" item has one (or is listed here with the reason it cannot have one)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from explorer.lab.core.params import Param
from explorer.lab.core.presets import (
    NOTES_DIR,
    ROOT,
    Preset,
    PresetError,
    check_preset,
    form_values,
    link_presets,
    load_presets,
    preset_index,
    try_items,
)

TOPICS = sorted(path.stem for path in NOTES_DIR.glob("*.md"))

#: (topic, item): why the item has no preset
NO_PRESET = {
    # the dyadic vector (½, ¼, ⅛, ⅛) is typed into the p field; no preset shape gives it exactly
    ("entropy", 2): "a typed distribution, not a parameter",
    # the experiment is editing a copy of the example file
    ("your_model", 4): "writing a model file",
    ("your_model", 5): "breaking a model file on purpose",
}


def _params(topic: str) -> list[Param]:
    return list(importlib.import_module(f"explorer.lab.{topic}.params").PARAMS)


def test_every_topic_with_a_note_has_a_form_and_presets() -> None:
    assert len(TOPICS) == 9
    for topic in TOPICS:
        assert _params(topic), topic
        assert load_presets(topic), f"{topic} has no presets"


@pytest.mark.parametrize("topic", TOPICS)
def test_presets_fit_their_tabs(topic: str) -> None:
    for preset in load_presets(topic):
        assert preset.tab in TOPICS, f"{preset.title!r}: no tab {preset.tab!r}"
        assert check_preset(preset, _params(preset.tab)) == [], preset.title
        values, _ = form_values(preset, _params(preset.tab))
        for key, value in values.items():
            if isinstance(value, str) and value.startswith(str(ROOT)):
                assert Path(value).is_file(), f"{preset.title!r}: {key} names a missing file"


@pytest.mark.parametrize("topic", TOPICS)
def test_every_item_to_try_has_a_preset(topic: str) -> None:
    note = (NOTES_DIR / f"{topic}.md").read_text(encoding="utf-8")
    items = range(1, len(try_items(note)) + 1)
    assert items, f"{topic}'s note has no What-to-try list"
    covered = {preset.item for preset in load_presets(topic)}
    assert covered <= set(items), f"presets for items the note does not have: {covered - set(items)}"
    missing = {n for n in items if n not in covered and (topic, n) not in NO_PRESET}
    assert not missing, f"{topic}: items {sorted(missing)} have no preset"
    assert not {n for (t, n) in NO_PRESET if t == topic} & covered, "an exception that now has a preset"


@pytest.mark.parametrize("topic", TOPICS)
def test_each_preset_is_one_link_in_its_item(topic: str) -> None:
    note = (NOTES_DIR / f"{topic}.md").read_text(encoding="utf-8")
    presets = load_presets(topic)
    linked = link_presets(note, presets)
    for index, preset in enumerate(presets):
        assert linked.count(f"(preset:{index})") == 1
        first, last = try_items(linked)[preset.item - 1]
        assert f"(preset:{index})" in "\n".join(linked.splitlines()[first : last + 1]), preset.title
    assert link_presets(note, []) == note


def test_check_preset_names_each_problem() -> None:
    params = [
        Param("lr", "lr", "float", 0.1, "", bounds=(1e-4, 1.0)),
        Param("depth", "depth", "int", 4, "", bounds=(2, 10)),
        Param("norm", "norm", "choice", "none", "", choices=("none", "batchnorm")),
        Param("causal", "causal", "bool", False, ""),
    ]
    good = Preset(1, "fine", "t", {"lr": 1, "depth": 10, "norm": "batchnorm", "causal": True})
    assert check_preset(good, params) == []
    assert form_values(good, params)[0]["lr"] == 1.0
    bad = Preset(1, "bad", "t", {"lr": 2.0, "depth": 3.5, "norm": "layernorm", "causal": "yes", "width": 8})
    problems = check_preset(bad, params)
    assert len(problems) == 5
    for word in ("between", "whole number", "one of", "true or false", "'width'"):
        assert any(word in problem for problem in problems), word


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        json.dumps({"item": 1}),
        json.dumps([{"item": 0, "title": "x"}]),
        json.dumps([{"item": 1, "title": ""}]),
        json.dumps([{"item": 1, "title": "x", "values": {"a": [1]}}]),
        json.dumps([{"item": 1, "title": "x", "value": {}}]),
    ],
)
def test_a_malformed_file_is_an_error_naming_it(tmp_path: Path, text: str) -> None:
    (tmp_path / "t.presets.json").write_text(text, encoding="utf-8")
    with pytest.raises(PresetError, match=r"t\.presets\.json"):
        load_presets("t", tmp_path)


def test_no_file_no_presets_and_the_tab_defaults_to_the_notes(tmp_path: Path) -> None:
    assert load_presets("t", tmp_path) == []
    (tmp_path / "t.presets.json").write_text(json.dumps([{"item": 2, "title": " a "}]), encoding="utf-8")
    assert load_presets("t", tmp_path) == [Preset(item=2, title="a", tab="t", values={})]


def test_try_items_reads_numbered_and_bulleted_lists() -> None:
    note = "intro\n- not this\n\n### What to try\n\n1. one\n   more\n2. two\n\nEnd.\n- not this either\n"
    assert try_items(note) == [(5, 6), (7, 7)]
    bullets = "**What to try in a lecture**\n- a\n  b\n- c\n\nHover.\n"
    assert try_items(bullets) == [(1, 2), (3, 3)]
    assert try_items("no list here") == []
    assert preset_index("preset:3") == 3 and preset_index("https://x.org") is None
