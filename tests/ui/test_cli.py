import os
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt6 import QtGui

from explorer import cli

ROOT = Path(__file__).resolve().parents[2]


def run_main(*args):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})  # fmt: skip


def test_headless_export_of_the_issue_example(tmp_path):
    out = tmp_path / "out.png"
    result = run_main("--tab", "saddle", "--set", "optimizer=adam", "--set", "lr=0.05", "--steps", "200",
                      "--size", "1200x800", "--settings", str(tmp_path / "s.ini"), "--export", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    image = QtGui.QImage(str(out))
    assert image.width() > 1200 and image.height() > 1400  # 2x of the plot area (exact size: test_saddle_tab)
    assert result.stdout.strip() == str(out)
    assert not (tmp_path / "s.ini").exists()  # an export leaves preferences alone


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tab", "nope"], "unknown tab 'nope'"),
        (["--tab", "saddle", "--set", "speed=3"], "unknown parameter 'speed'"),
        (["--tab", "saddle", "--set", "lr=abc"], "must be a number"),
        (["--tab", "saddle", "--set", "steps=0"], "steps must be between 1 and 5000"),
        (["--tab", "saddle", "--set", "surface=banana"], "surface must be one of"),
        (["--tab", "saddle", "--set", "optimizer=lbfgs"], "optimizer must be 'all'"),
        (["--set", "noequals"], "--set needs KEY=VALUE"),
        (["--steps", "-4"], "--steps must be between"),
        (["--size", "big"], "--size must look like"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    out = tmp_path / "never.png"
    assert cli.main([*args, "--export", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not out.exists()


def test_unwritable_or_unknown_export_targets_exit_2(tmp_path, capsys):
    assert cli.main(["--export", str(tmp_path / "no" / "such" / "dir.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["--export", str(tmp_path / "figure.gif")]) == 2
    assert "use a file ending in" in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.access(locked, os.W_OK):  # running as root: permissions do not bind
        pytest.skip("file permissions are not enforced for this user")
    assert cli.main(["--export", str(locked / "x.png")]) == 2
    assert "not writable" in capsys.readouterr().err


def test_no_display_and_no_export_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, str(ROOT / "main.py")], capture_output=True, text=True, env=env,
                            timeout=60)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "no display" in result.stderr and "--export" in result.stderr


def test_list_params_and_tabs(capsys):
    assert cli.main(["--list-tabs"]) == 0
    assert "saddle" in capsys.readouterr().out
    assert cli.main(["--tab", "saddle", "--list-params"]) == 0
    out = capsys.readouterr().out
    assert "surface" in out and "adam_lr" in out and "optimizer" in out


def test_aliases_expand_in_order():
    from explorer.ui.params import defaults
    from explorer.ui.tabs.saddle.view import SaddleTab

    pairs = cli.parse_assignments(SaddleTab, ["optimizer=adam,gd", "lr=0.05"], defaults(SaddleTab.parameters()))
    enabled = {k for k, v in pairs if v is True}
    assert enabled == {"adam", "gd"}
    assert ("adam_lr", 0.05) in pairs and ("gd_lr", 0.05) in pairs and ("newton_lr", 0.05) not in pairs


def test_python_m_explorer_is_the_same_entry_point():
    result = subprocess.run([sys.executable, "-m", "explorer", "--list-tabs"], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})  # fmt: skip
    assert result.returncode == 0 and "saddle" in result.stdout


def test_a_tab_that_fails_to_import_is_named_and_the_others_still_list(monkeypatch, capsys):
    from explorer.ui import topic

    monkeypatch.setitem(topic.BROKEN_TABS, "ghost", "ImportError: no module named 'spectre'")
    assert cli.main(["--list-tabs"]) == 0
    out = capsys.readouterr().out
    assert "saddle" in out and "ghost            could not load: ImportError" in out
    assert cli.main(["--tab", "ghost", "--export", "x.png"]) == 2
    assert "tab 'ghost' could not load: ImportError" in capsys.readouterr().err
