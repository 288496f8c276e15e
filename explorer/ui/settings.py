"""Persistent preferences (QSettings, INI format) that survive a corrupt or foreign file.

Each key has a default and a validator; a value that fails is replaced by the default and named in
:attr:`Settings.warnings`, which the window shows in its status bar instead of failing to start.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PyQt6 import QtCore

_BOOLS = {"true": True, "false": False, "1": True, "0": False}


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _BOOLS:
        return _BOOLS[value.lower()]
    raise ValueError(value)


def _one_of(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value in choices:
            return value
        raise ValueError(value)

    return check


def _text(value: Any) -> str:
    if isinstance(value, str) and len(value) < 200:
        return value
    raise ValueError(value)


def _path(value: Any) -> str:
    if isinstance(value, str) and len(value) < 4096 and "\0" not in value:
        return value
    raise ValueError(value)


SCHEMA: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "theme": ("light", _one_of("light", "dark")),
    "presentation": (False, _as_bool),
    "caption": (True, _as_bool),
    "device": ("auto", _one_of("auto", "cpu", "cuda")),
    "note_open": (True, _as_bool),
    "last_tab": ("saddle", _text),
    "side_open": (True, _as_bool),
    "export_folder": ("", _path),
    "model_folder": ("", _path),  # where File > Open model… last found a file
    "session_folder": ("", _path),  # where File > Open/Save session… last went
}


def default_path() -> Path:
    location = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppConfigLocation)
    return Path(location or Path.home() / ".config" / "loss-explorer") / "settings.ini"


def file_problems(path: Path) -> list[str]:
    """What makes an INI file unreadable, each named: QSettings itself only says "format error"."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [f"cannot be read ({exc.strerror or exc})"]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ["is UTF-16, not UTF-8"]
    problems = []
    if b"\x00" in data:
        problems.append("contains NUL bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"is not UTF-8 text (byte {exc.start})")
        return problems
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith((";", "#", "[")) and "=" not in stripped:
            problems.append(f"line {number} has no '='")
            if len(problems) >= 4:
                problems.append("…")
                break
    return problems


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self._store = QtCore.QSettings(str(self.path), QtCore.QSettings.Format.IniFormat)
        problems = file_problems(self.path)
        self._store.allKeys()  # QSettings parses lazily: its status means something only after a read
        if not problems and self._store.status() != QtCore.QSettings.Status.NoError:
            problems.append("is not a valid INI file")
        self._unreadable = bool(problems)
        self.values: dict[str, Any] = {}
        ignored = []
        for key, (default, check) in SCHEMA.items():
            raw = default if self._unreadable else self._store.value(key, default)
            try:
                self.values[key] = check(raw)
            except (ValueError, TypeError):
                self.values[key] = default
                ignored.append(f"{key}={str(raw)[:40]!r} (using {default!r})")
        if ignored:
            problems.append("ignored " + ", ".join(ignored))
        #: at most one note, naming the file and every problem (a status bar shows one message at a time)
        self.warnings: list[str] = []
        if problems:
            fallback = "; using defaults" if self._unreadable else ""
            self.warnings.append(f"settings file {self.path}: {'; '.join(problems)}{fallback}")

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        SCHEMA[key][1](value)
        self.values[key] = value

    def save(self) -> None:
        if self._unreadable:  # QSettings will not write over a file it could not parse: keep it aside
            with contextlib.suppress(OSError):
                os.replace(self.path, self.path.with_name(self.path.name + ".bad"))
            self._store = QtCore.QSettings(str(self.path), QtCore.QSettings.Format.IniFormat)
            self._unreadable = False
        for key, value in self.values.items():
            self._store.setValue(key, "true" if value is True else "false" if value is False else value)
        self._store.sync()
