"""Sessions: every tab's parameters, the tab (and its view) on show, theme, presentation mode and device in
one JSON file, so a lecturer prepares a sequence of demonstrations and replays it in class (File > Save
session… / Open session…, ``--session FILE``, ``--save-session FILE``). Runs are seeded: reopening a
session gives the same pictures.

Reading is all or nothing: the file is parsed and every value checked against the tab's own specs and
cross-parameter checks before anything is applied, so a corrupt, truncated, newer or hand-edited file is
one message saying what is wrong and where, and the window keeps the state it had.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer import __version__
from explorer.lab.core.params import Param, defaults

#: what the file says it is, and the newest layout this version reads
FORMAT = "loss-explorer session"
FORMAT_VERSION = 1
THEMES = ("light", "dark")
DEVICES = ("auto", "cpu", "cuda")
#: the top-level fields a session file may have
_FIELDS = {"format", "format_version", "app_version", "tab", "theme", "presentation", "device", "tabs"}
#: a tab's parameters that name files: a relative path is taken from the session file's folder
_FILE_KEYS = {"your_model": ("model_path", "weights")}

Check = Callable[[dict[str, Any], set[str]], None]


class SessionError(ValueError):
    """A session file that cannot be applied: the one line to show."""


@dataclass(frozen=True)
class Session:
    """What a session file holds: ``values`` has every parameter of every tab it names."""

    tab: str
    theme: str = "light"
    presentation: bool = False
    device: str = "auto"
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    app_version: str = __version__

    def model_file(self) -> str | None:
        """The user's model file the session would run (its code runs as Python would), or None."""
        return self.values.get("your_model", {}).get("model_path") or None

    def to_json(self) -> bytes:
        document = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "app_version": self.app_version,
            "tab": self.tab,
            "theme": self.theme,
            "presentation": self.presentation,
            "device": self.device,
            "tabs": self.values,
        }
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def parse(text: str | bytes, specs: Mapping[str, Sequence[Param]], checks: Mapping[str, Check] | None = None,
          folder: Path | None = None) -> Session:  # fmt: skip
    """The session in ``text``, every value checked; raise :class:`SessionError` naming what and where.

    ``specs`` are the tabs' parameters by tab name, ``checks`` their cross-parameter checks. A tab the file
    does not name, or a parameter it leaves out, takes its default (the file says the whole state).
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SessionError(f"not a session file: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except UnicodeDecodeError:
        raise SessionError("not a session file: it is not UTF-8 text") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise SessionError(f'not a session file: it has no "format": "{FORMAT}"')
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SessionError(f"format_version must be a whole number from 1, got {version!r:.40}")
    if version > FORMAT_VERSION:
        raise SessionError(
            f"written by a newer version (session format {version}, app {document.get('app_version', '?')}); "
            f"this one reads format {FORMAT_VERSION}: update the app"
        )
    unknown = sorted(set(document) - _FIELDS)
    if unknown:
        raise SessionError(f"unknown field {unknown[0]!r} (a session has {', '.join(sorted(_FIELDS))})")
    tab = _one_of(document, "tab", tuple(specs), required=True)
    theme = _one_of(document, "theme", THEMES, default="light")
    device = _one_of(document, "device", DEVICES, default="auto")
    presentation = document.get("presentation", False)
    if not isinstance(presentation, bool):
        raise SessionError(f"presentation must be true or false, got {presentation!r:.40}")
    tabs = document.get("tabs", {})
    if not isinstance(tabs, dict):
        raise SessionError(f"tabs must be an object of tab names, got {type(tabs).__name__}")
    values = {}
    for name, params in specs.items():
        given = tabs.get(name, {})
        if not isinstance(given, dict):
            raise SessionError(f"tabs.{name} must be an object of parameters, got {type(given).__name__}")
        values[name] = _tab_values(name, params, given, (checks or {}).get(name), folder)
    stray = sorted(set(tabs) - set(specs))
    if stray:
        raise SessionError(f"tabs.{stray[0]}: no such tab (tabs: {', '.join(specs)})")
    app_version = document.get("app_version", "?")
    return Session(tab, theme, presentation, device, values, str(app_version))


def _one_of(document: dict[str, Any], key: str, allowed: tuple[str, ...], default: str | None = None,
            required: bool = False) -> str:  # fmt: skip
    if key not in document and not required:
        return str(default)
    value = document.get(key)
    if value not in allowed:
        raise SessionError(f"{key} must be one of {', '.join(allowed)}; got {value!r:.40}")
    return str(value)


def _tab_values(name: str, params: Sequence[Param], given: dict[str, Any], check: Check | None,
                folder: Path | None) -> dict[str, Any]:  # fmt: skip
    by_key = {p.key: p for p in params}
    values = defaults(params)
    for key, value in given.items():
        if key not in by_key:
            raise SessionError(f"tabs.{name}.{key}: no such parameter of the {name} tab")
        try:
            values[key] = by_key[key].validate(value)
        except ValueError as exc:
            raise SessionError(f"tabs.{name}.{key}: {exc}") from None
    for key in _FILE_KEYS.get(name, ()):
        if folder is not None and values.get(key) and not Path(values[key]).expanduser().is_absolute():
            beside = folder / values[key]
            if beside.exists():  # a lecturer's session and the model file beside it, shared together
                values[key] = str(beside.resolve())
    if check is not None:
        try:
            check(values, set(given))
        except ValueError as exc:
            raise SessionError(f"tabs.{name}: {exc}") from None
    return values


def read(path: Path) -> Session:
    """The session in file ``path``, checked against every tab; :class:`SessionError` names the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SessionError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    specs, checks = tab_specs()
    try:
        return parse(data, specs, checks, Path(path).resolve().parent)
    except SessionError as exc:
        raise SessionError(f"{Path(path).name}: {exc}") from None


def tab_specs() -> tuple[dict[str, list[Param]], dict[str, Check]]:
    """Every tab's parameters and cross-parameter check (imports the views: after the first paint only)."""
    from explorer.ui.topic import tab_classes

    classes = tab_classes()
    specs = {cls.name: list(cls.parameters()) for cls in classes}
    checks = {cls.name: cls.check_values for cls in classes if hasattr(cls, "check_values")}
    return specs, checks


# --- the window's side ------------------------------------------------------------------------------
def capture(window: Any) -> Session:
    """The window's whole state now: a tab never opened has its defaults (it would start with them)."""
    specs, _ = tab_specs()
    values = {}
    for name, params in specs.items():
        page = window.pages.get(name)
        values[name] = {**defaults(params), **(page.params.values() if page is not None else {})}
    return Session(
        tab=window.current_page().tab.name,
        theme="dark" if window.theme.dark else "light",
        presentation=window.theme.presentation,
        device=window.settings["device"],
        values=values,
    )


def apply(window: Any, session: Session) -> list[str]:
    """Put ``session`` into the window (already checked by :func:`parse`); returns notes to show.

    Only what differs is set, in each tab's declaration order (a key that resets others goes first), on
    the tabs that differ (a tab never opened is built only then); each tab then restarts from its seed.
    """
    notes = []
    specs, _ = tab_specs()
    for name, wanted in session.values.items():
        page = window.pages.get(name)
        current = page.params.values() if page is not None else defaults(specs[name])
        changed = [(p.key, wanted[p.key]) for p in specs[name] if current.get(p.key) != wanted[p.key]]
        if changed:
            window.page(name).apply_settings(changed)
    if (session.theme == "dark", session.presentation) != (window.theme.dark, window.theme.presentation):
        window.set_modes(dark=session.theme == "dark", presentation=session.presentation)
    window.device_actions[session.device].setChecked(True)
    window.set_device(session.device)
    if session.device == "cuda" and window.device_name != "probing…" and not window.cuda_available:
        notes.append("the session asks for CUDA, which this machine lacks: running on the CPU")
    window.select(session.tab).reset()  # the same seed: the session's pictures (a page not started yet waits)
    return notes


def save(window: Any, path: Path) -> Path:
    """Write the window's session to ``path`` atomically (a failed write leaves the old file whole)."""
    from explorer.ui.export import check_writable, write_atomic

    check_writable(path)
    return write_atomic(path, capture(window).to_json())


def open_dialog(window: Any) -> None:
    """File > Open session…: pick a file, ask before running a model file it names, apply it or say why not."""
    from PyQt6 import QtWidgets

    start = str(window.start_folder("session_folder"))
    name, _ = QtWidgets.QFileDialog.getOpenFileName(window, "Open session", start, "Sessions (*.json)")
    if name:
        window.remember_folder(Path(name).parent, "session_folder")
        open_file(window, Path(name))


def open_file(window: Any, path: Path, *, ask: bool = True) -> bool:
    """Read, check and apply ``path``; False (with the reason in the status bar) if it was not applied."""
    from PyQt6 import QtWidgets

    try:
        session = read(path)
    except SessionError as exc:
        window.statusBar().showMessage(f"Session not opened: {exc}", 20000)
        QtWidgets.QMessageBox.warning(window, "Session not opened", f"{exc}\n\nNothing was changed.")
        return False
    model = session.model_file()
    if ask and model is not None and not _trusted(window, path, model):
        window.statusBar().showMessage(f"Session not opened: you chose not to run {model}", 15000)
        return False
    notes = apply(window, session)
    window.statusBar().showMessage("; ".join([f"Session {path.name} opened", *notes]), 15000)
    return True


def _trusted(window: Any, path: Path, model: str) -> bool:
    """A shared session can name a model file, whose code runs as Python would: ask first."""
    from PyQt6 import QtWidgets

    answer = QtWidgets.QMessageBox.question(
        window,
        "Run a model file?",
        f"The session {path.name} opens the Your model tab on\n\n{model}\n\n"
        "Loading it runs its Python code with your permissions. Run it?",
    )
    return answer == QtWidgets.QMessageBox.StandardButton.Yes


def save_dialog(window: Any) -> None:
    """File > Save session…: the whole state to a JSON file (the dialog remembers its folder)."""
    from PyQt6 import QtWidgets

    start = str(window.start_folder("session_folder") / "session.json")
    name, _ = QtWidgets.QFileDialog.getSaveFileName(window, "Save session", start, "Sessions (*.json)")
    if not name:
        return
    path = Path(name) if Path(name).suffix else Path(name + ".json")
    window.remember_folder(path.parent, "session_folder")
    try:
        save(window, path)
    except OSError as exc:
        window.statusBar().showMessage(f"Session not saved: {exc}", 20000)
        return
    window.statusBar().showMessage(f"Session saved to {path}", 10000)
