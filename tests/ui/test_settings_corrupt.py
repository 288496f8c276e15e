"""A settings file of any content opens the app on defaults, with one note naming the file and each problem."""

from __future__ import annotations

import os

import pytest

from explorer.ui.settings import SCHEMA, Settings

DEFAULTS = {key: default for key, (default, _) in SCHEMA.items()}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (os.urandom(0) + bytes(range(256)) * 2, "is not UTF-8 text"),
        (b"\x00" * 64, "contains NUL bytes"),
        ("[General]\ntheme=dark\n".encode("utf-16"), "is UTF-16"),
        (b"hello\nworld\ntheme dark\n", "line 1 has no '='; line 2 has no '='; line 3 has no '='"),
    ],
)
def test_an_unreadable_file_falls_back_to_defaults_with_one_note(tmp_path, content, problem):
    path = tmp_path / "settings.ini"
    path.write_bytes(content)
    settings = Settings(path)
    assert settings.values == DEFAULTS
    [note] = settings.warnings
    assert str(path) in note and problem in note and note.endswith("using defaults")


def test_every_bad_key_is_named_in_the_one_note(tmp_path):
    path = tmp_path / "settings.ini"
    path.write_text("[General]\ntheme=blue\ncaption=maybe\ndevice=tpu\nnote_open=false\n")
    settings = Settings(path)
    [note] = settings.warnings
    assert "theme='blue'" in note and "caption='maybe'" in note and "device='tpu'" in note
    assert settings["note_open"] is False and settings["theme"] == "light"


def test_a_good_file_has_no_note_and_a_bad_one_is_replaced_on_save(tmp_path):
    path = tmp_path / "settings.ini"
    path.write_bytes(b"\x00garbage")
    settings = Settings(path)
    settings["theme"] = "dark"
    settings.save()
    again = Settings(path)
    assert again.warnings == [] and again["theme"] == "dark"
    assert (tmp_path / "settings.ini.bad").read_bytes() == b"\x00garbage"  # kept aside, not lost
