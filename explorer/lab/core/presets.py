"""One-click experiments: each item of a note's "What to try" list, written as parameter values.

A topic's presets sit beside its note, ``resources/notes/<topic>.presets.json``: a list of
``{"item": n, "title": "...", "tab": "other_topic" (optional), "values": {key: value, ...}}``, where ``n`` is
the item's place in the list (1 for the first). A preset means *the defaults, then these values*, so
it shows the same pictures whatever was changed before; ``values`` name only what the item changes
(a "view" key too, where the item is about a view). A text value (a file path) is relative to the
project's root. Here they are read, checked against a tab's :class:`~explorer.lab.core.params.Param`
specs, and linked into the note's Markdown as ``preset:<index>`` anchors. Qt-free.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.lab.core.params import Param

ROOT = Path(__file__).resolve().parents[3]
NOTES_DIR = ROOT / "resources" / "notes"
SCHEME = "preset"  # the anchors' scheme: "preset:3" is the fourth preset of the note

_HEADING = re.compile(r"^\s*(#+\s*|\*\*)What to try\b", re.IGNORECASE)
_ITEM = re.compile(r"^(\d+\.|[-*+])\s+")
_KEYS = {"item", "title", "tab", "values"}
_GLUED = 22  # characters: a bold title this long fits the side panel's width in presentation mode


class PresetError(ValueError):
    """A presets file that cannot be read as presets: says which file and which entry."""


@dataclass(frozen=True)
class Preset:
    item: int  # the What-to-try item it belongs to, 1 for the first
    title: str  # the link's text: short, it is read from the back of a lecture room
    tab: str  # the topic whose form it fills (the note's own unless the file says otherwise)
    values: Mapping[str, Any] = field(default_factory=dict)  # on top of that tab's defaults

    def describe(self) -> str:
        """The values in one line, for a tooltip or the status bar."""
        if not self.values:
            return "the defaults"
        return ", ".join(f"{key} = {_shown(value)}" for key, value in self.values.items())


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value) if value != "" else "(default)"


def presets_path(topic: str, notes_dir: Path = NOTES_DIR) -> Path:
    return notes_dir / f"{topic}.presets.json"


def load_presets(topic: str, notes_dir: Path = NOTES_DIR) -> list[Preset]:
    """The presets of ``topic``'s note, in file order; none when it has no file.

    Raises :class:`PresetError` for a file that is not a list of presets (a typo must not pass
    unnoticed: the tests load every file). Values are checked against a tab's specs by :func:`check_preset`.
    """
    path = presets_path(topic, notes_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise PresetError(f"{path.name}: cannot be read ({exc})") from None
    try:
        entries = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PresetError(f"{path.name}: not JSON ({exc})") from None
    if not isinstance(entries, list):
        raise PresetError(f"{path.name}: expected a list of presets, got {type(entries).__name__}")
    return [_preset(entry, topic, f"{path.name}, preset {i + 1}") for i, entry in enumerate(entries)]


def _preset(entry: Any, topic: str, where: str) -> Preset:
    if not isinstance(entry, dict):
        raise PresetError(f"{where}: expected an object, got {type(entry).__name__}")
    unknown = set(entry) - _KEYS
    if unknown:
        raise PresetError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    item, title, tab, values = entry.get("item"), entry.get("title"), entry.get("tab", topic), entry.get("values", {})
    if isinstance(item, bool) or not isinstance(item, int) or item < 1:
        raise PresetError(f"{where}: 'item' must be a What-to-try item number (1, 2, …), got {item!r}")
    if not isinstance(title, str) or not title.strip():
        raise PresetError(f"{where}: 'title' must be a non-empty text")
    if not isinstance(tab, str) or not tab:
        raise PresetError(f"{where}: 'tab' must be a topic name")
    if not isinstance(values, dict) or not all(isinstance(v, (bool, int, float, str)) for v in values.values()):
        raise PresetError(f"{where}: 'values' must map parameter keys to numbers, true/false or text")
    return Preset(item=item, title=title.strip(), tab=tab, values=dict(values))


def check_preset(preset: Preset, params: Sequence[Param]) -> list[str]:
    """What is wrong with ``preset`` for a tab with these specs: unknown keys, values of the wrong type,
    out of bounds or not a choice. Empty when it applies cleanly."""
    return form_values(preset, params)[1]


def form_values(preset: Preset, params: Sequence[Param]) -> tuple[dict[str, Any], list[str]]:
    """({key: value as the form takes it} for the preset's values that fit these specs, the problems of
    the others). A relative file path is made absolute from the project's root; a float typed as a
    whole number (JSON's 10 for 10.0) becomes a float."""
    specs = {p.key: p for p in params}
    good: dict[str, Any] = {}
    problems = []
    for key, value in preset.values.items():
        spec = specs.get(key)
        if spec is None:
            problems.append(f"{preset.tab} has no parameter {key!r}")
            continue
        if spec.kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        try:
            good[key] = spec.validate(value)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if spec.kind == "text" and value and not Path(value).is_absolute():
            good[key] = str(ROOT / value)
    return good, problems


def try_items(markdown: str) -> list[tuple[int, int]]:
    """(first line, last line) of each item of the note's "What to try" list, 0-based, in order.

    The list follows a heading or a bold line that starts with "What to try"; its items start with
    "1." or "-" and go on over indented lines; the first unindented line of other text ends it.
    """
    lines = markdown.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if _HEADING.match(line)), None)
    if start is None:
        return []
    items: list[tuple[int, int]] = []
    for i in range(start, len(lines)):
        line = lines[i]
        if _ITEM.match(line):
            items.append((i, i))
        elif line.strip() and line[:1].isspace() and items:
            items[-1] = (items[-1][0], i)
        elif line.strip() and items:
            break
    return items


def link_presets(markdown: str, presets: Sequence[Preset]) -> str:
    """The note with a line of "▶ title" links (``preset:<index>``) closing each item that has presets."""
    if not presets:
        return markdown
    lines = markdown.splitlines()
    for number, (first, last) in reversed(list(enumerate(try_items(markdown), start=1))):
        links = [f"**[▶\u00a0{_glued(p.title)}]({SCHEME}:{i})**" for i, p in enumerate(presets) if p.item == number]
        if links:
            # a paragraph of the same item, indented like its text: a line of its own, without a bullet
            # (a hard line break would do in CommonMark, but Qt draws it as a new bullet)
            marker = _ITEM.match(lines[first])
            indent = " " * (marker.end() if marker else 3)
            lines[last] = lines[last].rstrip() + "\n\n" + indent + " · ".join(links)
    return "\n".join(lines) + ("\n" if markdown.endswith("\n") else "")


def _glued(title: str) -> str:
    """A short title with no-break spaces: it moves to the next line whole rather than split in two.
    A long one keeps its spaces, or a narrow panel would have to break it inside a word."""
    return title.replace(" ", "\u00a0") if len(title) <= _GLUED else title


def preset_index(href: str) -> int | None:
    """The index in ``preset:<index>``, or None for any other link."""
    scheme, _, rest = href.partition(":")
    return int(rest) if scheme == SCHEME and rest.isdigit() else None
