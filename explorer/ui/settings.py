"""Persistent preferences (QSettings, INI format) that survive a corrupt or foreign file.

Each key has a default and a validator; a value that fails is replaced by the default and named in
:attr:`Settings.warnings`, which the window shows in its status bar instead of failing to start.
"""

from __future__ import annotations

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


SCHEMA: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "theme": ("light", _one_of("light", "dark")),
    "presentation": (False, _as_bool),
    "caption": (True, _as_bool),
    "device": ("auto", _one_of("auto", "cpu", "cuda")),
    "note_open": (True, _as_bool),
    "last_tab": ("saddle", _text),
}


def default_path() -> Path:
    location = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppConfigLocation)
    return Path(location or Path.home() / ".config" / "loss-explorer") / "settings.ini"


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self._store = QtCore.QSettings(str(self.path), QtCore.QSettings.Format.IniFormat)
        self.warnings: list[str] = []
        readable = self._store.status() == QtCore.QSettings.Status.NoError
        if not readable:
            self.warnings.append(f"settings file {self.path} is unreadable; using defaults")
        self.values: dict[str, Any] = {}
        for key, (default, check) in SCHEMA.items():
            raw = self._store.value(key, default) if readable else default
            try:
                self.values[key] = check(raw)
            except (ValueError, TypeError):
                self.values[key] = default
                self.warnings.append(f"ignored setting {key}={raw!r}; using {default!r}")

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        SCHEMA[key][1](value)
        self.values[key] = value

    def save(self) -> None:
        for key, value in self.values.items():
            self._store.setValue(key, "true" if value is True else "false" if value is False else value)
        self._store.sync()
