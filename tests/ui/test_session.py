"""Sessions: a round trip for every tab gives the same parameters and the same exported JSON; every bad file
(corrupt, truncated, unknown version, hand-edited with a bad value) is one message and changes nothing; the
command line opens, saves and renders sessions; a session naming a model file asks before running it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PyQt6 import QtWidgets

from explorer import cli
from explorer.ui import session
from explorer.ui.app import create_application
from explorer.ui.export import export_json
from explorer.ui.settings import Settings
from explorer.ui.topic import tab_infos
from explorer.ui.window import MainWindow

pytestmark = pytest.mark.usefixtures("one_thread")

#: small settings per tab (a second each headless), and a value that differs from the default
SMALL = {
    "residual": [("depths", "4,8,16"), ("width", 8), ("n_points", 128), ("batch_size", 32), ("grid", 20)],
    "vanishing": [("depth", 6), ("width", 8), ("n_points", 200), ("batch_size", 32), ("sweep_max_depth", 12)],
    "flash_attention": [("device", "cpu"), ("dtype", "float32"), ("d", 16), ("batch_heads", "1"),
                        ("max_n", "256"), ("flash", False)],
    "finetune": [("blocks", 4), ("width", 4), ("pretrain_steps", 100), ("n_per_class", 5), ("n_val_per_class", 10),
                 ("epochs", 4), ("batch_size", 8), ("cka_every", 1)],
    "natural_gradient": [("width", 8), ("n_points", 128), ("batch_size", 64), ("cost_budget_s", 0.5),
                         ("cost_exact_max_width", 16)],
    "your_model": [("steps", 20), ("curvature_every", 10), ("path_points", 8), ("resolution", "11")],
}  # fmt: skip
#: measured, not computed: differs between any two runs
TIMED = ("ms", "tflops", "seconds", "elapsed", "time", "cost", "per_s")


def _headless(qtbot, tmp_path: Path, name: str) -> MainWindow:
    create_application()
    window = MainWindow(Settings(tmp_path / f"{name}.ini"), headless=True)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    return window


def _untimed(value):
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not any(word in k.lower() for word in TIMED)}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _exported(page, path: Path) -> dict:
    assert page.run_headless(5) is None, page.banner.text()
    export_json(page.tab, path, step=5)
    return _untimed(json.loads(path.read_text()))


@pytest.mark.slow  # every tab twice, headless: ~40 s
@pytest.mark.parametrize("name", [info.name for info in tab_infos()])
def test_a_saved_session_reopens_with_the_same_parameters_and_export(qtbot, tmp_path, name):
    first = _headless(qtbot, tmp_path, "a")
    page = first.select(name)
    spec = page.params.specs.get("seed")
    page.apply_settings([*SMALL.get(name, []), *([("seed", 7)] if spec is not None else [])])
    before = _exported(page, tmp_path / "a.json")
    values = page.params.values()
    saved = session.save(first, tmp_path / "lecture.json")
    first.close()

    second = _headless(qtbot, tmp_path, "b")
    notes = session.apply(second, session.read(saved))
    assert notes == []
    again = second.current_page()
    assert again.tab.name == name
    assert again.params.values() == values
    assert _exported(again, tmp_path / "b.json") == before
    second.close()


def _document(**changes) -> dict:
    base = {"format": session.FORMAT, "format_version": 1, "tab": "saddle", "tabs": {"saddle": {"gd_lr": 0.05}}}
    return {**base, **changes}


BAD = [
    ("corrupt", b"\x89PNG\r\n", "not a session file"),
    ("truncated", json.dumps(_document())[:60].encode(), "not a session file: line 1, column"),
    ("not_a_session", b'{"hello": 1}', 'not a session file: it has no "format"'),
    ("newer", json.dumps(_document(format_version=9)).encode(), "written by a newer version (session format 9"),
    ("bad_value", json.dumps(_document(tabs={"saddle": {"gd_lr": -5}})).encode(),
     "tabs.saddle.gd_lr: gd_lr must be between"),
    ("bad_key", json.dumps(_document(tabs={"saddle": {"lrr": 0.1}})).encode(),
     "tabs.saddle.lrr: no such parameter of the saddle tab"),
    ("bad_tab", json.dumps(_document(tab="nowhere")).encode(), "tab must be one of"),
    ("bad_choice", json.dumps(_document(tabs={"saddle": {"view": "sideways"}})).encode(),
     "tabs.saddle.view: view must be one of"),
    ("bad_theme", json.dumps(_document(theme="purple")).encode(), "theme must be one of light, dark"),
    ("cross_check", json.dumps(_document(tab="finetune", tabs={"finetune": {"blocks": 4, "k": 8}})).encode(),
     "tabs.finetune:"),
    ("stray_tab", json.dumps(_document(tabs={"saddle": {}, "sadle": {}})).encode(), "tabs.sadle: no such tab"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "expected"), BAD, ids=[case[0] for case in BAD])
def test_a_bad_session_file_is_one_message_naming_what_and_where(tmp_path, name, data, expected):
    path = tmp_path / f"{name}.json"
    path.write_bytes(data)
    with pytest.raises(session.SessionError) as caught:
        session.read(path)
    message = str(caught.value)
    assert message.startswith(f"{name}.json: {expected}"), message
    assert "\n" not in message


@pytest.mark.first_tab("saddle")
def test_a_bad_session_changes_nothing_in_the_window(qtbot, window, tmp_path, monkeypatch):
    page = window.select("saddle")
    page.params.set_value("gd_lr", 0.02)
    warned = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda *args: warned.append(args[2]))
    bad = tmp_path / "bad.json"  # a good first half, then a bad value: nothing of it may be applied
    bad.write_text(json.dumps(_document(theme="dark", tabs={"saddle": {"gd_lr": 0.3, "steps": -1}})))
    assert not session.open_file(window, bad)
    assert page.params.value("gd_lr") == 0.02 and not window.theme.dark
    assert "tabs.saddle.steps" in warned[0] and "Nothing was changed" in warned[0]


@pytest.mark.first_tab("saddle")
def test_a_session_naming_a_model_file_asks_first(qtbot, window, tmp_path, monkeypatch):
    model = tmp_path / "my_net.py"
    model.write_text("raise SystemExit('must not run')\n")
    path = tmp_path / "shared.json"
    path.write_text(json.dumps(_document(tab="your_model", tabs={"your_model": {"model_path": "my_net.py"}})))
    asked = []

    def answer(parent, title, text):
        asked.append(text)
        return QtWidgets.QMessageBox.StandardButton.No

    monkeypatch.setattr(QtWidgets.QMessageBox, "question", answer)
    assert not session.open_file(window, path)
    assert str(model) in asked[0]  # the path, resolved beside the session file
    assert "your_model" not in window.pages or window.pages["your_model"].params.value("model_path") == ""


@pytest.mark.first_tab("saddle")
def test_theme_presentation_and_device_come_back(qtbot, window, tmp_path):
    window.set_dark(True)
    window.set_presentation(True)
    window.set_device("cpu")
    saved = session.save(window, tmp_path / "s.json")
    window.set_dark(False)
    window.set_presentation(False)
    window.set_device("auto")
    assert session.open_file(window, saved)
    assert window.theme.dark and window.theme.presentation and window.settings["device"] == "cpu"
    assert window.device_actions["cpu"].isChecked()


def test_a_session_asking_for_cuda_falls_back_to_the_cpu_with_a_note(qtbot, tmp_path):
    window = _headless(qtbot, tmp_path, "w")
    window._on_device_found(False, "CPU only")
    notes = session.apply(window, session.Session(tab="saddle", device="cuda", values={}))
    assert window.resolved_device() == "cpu"
    assert notes == ["the session asks for CUDA, which this machine lacks: running on the CPU"]
    window.close()


def test_the_command_line_saves_opens_and_refuses_sessions(tmp_path, capsys):
    saved = tmp_path / "s.json"
    args = ["--settings", str(tmp_path / "a.ini"), "--tab", "saddle", "--set", "lr=0.05"]
    assert cli.main([*args, "--save-session", str(saved)]) == 0
    document = json.loads(saved.read_text())
    assert document["tab"] == "saddle" and document["tabs"]["saddle"]["gd_lr"] == 0.05
    assert document["format_version"] == session.FORMAT_VERSION and "app_version" in document
    out = tmp_path / "saddle.json"
    assert cli.main(["--settings", str(tmp_path / "b.ini"), "--session", str(saved), "--steps", "3",
                     "--export", str(out)]) == 0  # fmt: skip
    assert json.loads(out.read_text())["parameters"]["gd_lr"] == 0.05
    capsys.readouterr()
    broken = tmp_path / "broken.json"
    broken.write_text(saved.read_text()[:100])
    never = tmp_path / "never"
    assert cli.main(["--session", str(broken), "--export-all", str(never)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("loss-explorer: error: --session broken.json: not a session file") and err.count("\n") == 1
    assert not never.exists()
