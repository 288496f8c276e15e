"""The command line under hostile input: huge numbers, constraints in any order, unwritable folders,
exports that fail part-way, runs that stop early. Each is one line on stderr and a telling exit status."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest

from explorer import cli
from explorer.lab.core.protocol import Diverged
from explorer.ui import export
from explorer.ui.params import Param, defaults


def _one_line_exit_2(capsys, args: list[str], message: str, out: Path) -> None:
    assert cli.main([*args, "--export", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not out.exists()


@pytest.mark.parametrize("digits", [310, 400, 5000])
def test_an_integer_of_hundreds_of_digits_is_one_line_and_exit_2(tmp_path, capsys, digits):
    _one_line_exit_2(capsys, ["--tab", "saddle", "--set", "steps=" + "9" * digits],
                     "steps must be between 1 and 5000", tmp_path / "x.png")  # fmt: skip


@pytest.mark.parametrize(
    "text", ["nan", "inf", "-inf", "1e999", "", "  ", "٣", "３", "0x10", "1.5", "\x00", "9" * 400 + ".0", "1e-400e"]
)
@pytest.mark.parametrize("kind", ["int", "float"])
def test_any_text_parses_or_is_refused_with_a_value_error(text, kind):
    param = Param("n", "n", kind, 3, "tip", bounds=(1, 10))
    try:
        value = param.parse(text)
    except ValueError as exc:
        assert str(exc).startswith("n must be") and "\n" not in str(exc)
    else:
        assert 1 <= value <= 10


def test_out_of_bounds_messages_name_the_bounds():
    param = Param("n", "n", "int", 3, "tip", bounds=(1, 10))
    for text in ("9" * 400, "-" + "9" * 400, "11"):
        with pytest.raises(ValueError, match="n must be between 1 and 10"):
            param.parse(text)
    with pytest.raises(ValueError, match="x must be between 0 and 1, got nan"):
        Param("x", "x", "float", 0.5, "tip", bounds=(0, 1)).parse("nan")


def _tab(name: str):
    from explorer.ui.topic import tab_classes

    return next(cls for cls in tab_classes() if cls.name == name)


@pytest.mark.parametrize(
    ("tab", "first", "second", "message"),
    [
        ("finetune", "blocks=4", "k=9", r"k must be between 0 and blocks \+ 1 = 5"),
        ("label_smoothing", "num_classes=5", "target_class=7", "target_class must be between 0 and"),
        ("vanishing", "model=cnn", "dataset=spirals", "cannot train on dataset=spirals"),
        ("entropy", "p_preset=fair_coin", "outcomes=8", "has 2 outcomes"),
    ],
)
def test_constraints_are_checked_on_the_whole_set_in_either_order(tab, first, second, message):
    cls = _tab(tab)
    for order in ([first, second], [second, first]):
        with pytest.raises(cli.UsageError, match=message):
            cli.parse_assignments(cls, order, defaults(cls.parameters()))


def test_a_lone_constrained_value_out_of_reach_of_the_defaults_is_refused_not_clamped():
    cls = _tab("finetune")
    with pytest.raises(cli.UsageError, match="k must be between"):
        cli.parse_assignments(cls, ["k=9"], defaults(cls.parameters()))  # 6 blocks: k <= 7
    cls = _tab("label_smoothing")
    with pytest.raises(cli.UsageError, match="target_class"):
        cli.parse_assignments(cls, ["target_class=15"], defaults(cls.parameters()))  # K = 10


@pytest.mark.parametrize(
    ("tab", "texts"),
    [
        ("finetune", ["k=5", "blocks=4"]),
        ("label_smoothing", ["target_class=15", "num_classes=20"]),
        ("saddle", ["start_x=0.5", "surface=himmelblau"]),
        ("vanishing", ["dataset=glyphs", "model=cnn"]),
    ],
)
def test_a_valid_set_gives_the_same_assignments_in_any_order(tab, texts):
    cls = _tab(tab)
    forward = cli.parse_assignments(cls, texts, defaults(cls.parameters()))
    backward = cli.parse_assignments(cls, texts[::-1], defaults(cls.parameters()))
    assert forward == backward
    keys = [key for key, _ in forward]
    declared = [p.key for p in cls.parameters()]
    assert keys == sorted(keys, key=declared.index)  # the surface is applied before the start it resets


def test_constraints_from_the_command_line_are_one_line_exit_2(tmp_path, capsys):
    _one_line_exit_2(capsys, ["--tab", "finetune", "--set", "blocks=4", "--set", "k=9"], "k must be between",
                     tmp_path / "x.json")  # fmt: skip


@pytest.mark.parametrize("folder", ["/proc/x", "/proc/x/y/z", "/proc/self/status/x"])
def test_export_all_into_a_folder_that_cannot_be_created_is_one_line_exit_2(capsys, folder):
    assert cli.main(["--export-all", folder]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--export-all" in err


def test_export_all_leaves_no_probe_behind(tmp_path, capsys):
    args = argparse.Namespace(export=None, export_all=tmp_path / "new" / "figures", steps=0)
    cli._check_targets(args)
    assert list(tmp_path.iterdir()) == []  # the folders made to probe are removed again


def test_export_all_refuses_a_target_taken_by_a_folder_before_the_run(tmp_path):
    (tmp_path / "saddle.json").mkdir()
    args = argparse.Namespace(export=None, export_all=tmp_path, steps=0)
    with pytest.raises(cli.UsageError, match=r"saddle\.json: it is a folder"):
        cli._check_targets(args)


# --- _export with a stand-in window: what happens when a run or a write fails part-way -------------------
class _Page:
    def __init__(self, name: str, error: BaseException | None = None) -> None:
        self.tab = SimpleNamespace(name=name)
        self.error = error

    def run_headless(self, steps: int) -> str | None:
        return None if self.error is None else f"Diverged: {self.error}"


class _Window:
    def __init__(self, pages: dict[str, _Page]) -> None:
        self.pages = pages
        self.topics = dict.fromkeys(pages)
        self.settings = {"caption": False}
        self.current = next(iter(pages))

    def show(self) -> None: ...
    def close(self) -> None: ...

    def select(self, name: str) -> _Page:
        self.current = name
        return self.pages[name]

    def current_page(self) -> _Page:
        return self.pages[self.current]


_APP = SimpleNamespace(processEvents=lambda: None)


def _fake_exports(monkeypatch, fail_on: str | None = None) -> None:
    def export_everything(tab, folder, *, caption=False, step=None):
        if tab.name == fail_on:
            raise export.ExportError(f"cannot write {folder / tab.name}.png: No space left on device")
        return [export.write_atomic(folder / f"{tab.name}{suffix}", b"data") for suffix in (".png", ".json")]

    def export_file(tab, path, *, caption=False, step=None):
        return [export.write_atomic(path, b"data")]

    monkeypatch.setattr(export, "export_everything", export_everything)
    monkeypatch.setattr(export, "export_file", export_file)


def test_an_export_all_that_fails_part_way_removes_what_it_wrote(tmp_path, monkeypatch, capsys):
    _fake_exports(monkeypatch, fail_on="third")
    window = _Window({name: _Page(name) for name in ("first", "second", "third")})
    args = argparse.Namespace(export=None, export_all=tmp_path / "figures", steps=3)
    assert cli._export(_APP, window, args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left" in err and "removed the 4 file(s)" in err
    assert not (tmp_path / "figures").exists()  # the folder this run made, empty again, is gone too


def test_a_run_that_diverged_exports_what_it_has_and_exits_3(tmp_path, monkeypatch, capsys):
    _fake_exports(monkeypatch)
    window = _Window({"residual": _Page("residual", Diverged(40, "loss became nan")), "saddle": _Page("saddle")})
    args = argparse.Namespace(export=None, export_all=tmp_path, steps=100)
    assert cli._export(_APP, window, args) == cli.EXIT_DIVERGED == 3
    out, err = capsys.readouterr()
    assert (tmp_path / "residual.png").exists() and (tmp_path / "saddle.json").exists()
    assert "residual: Diverged" in err and "stopped early" in err
    assert str(tmp_path / "saddle.png") in out


def test_a_run_out_of_memory_exits_3_too(tmp_path, monkeypatch, capsys):
    _fake_exports(monkeypatch)
    window = _Window({"flash_attention": _Page("flash_attention", MemoryError("cannot allocate"))})
    args = argparse.Namespace(export=tmp_path / "fa.png", export_all=None, steps=10)
    assert cli._export(_APP, window, args) == 3
    assert (tmp_path / "fa.png").read_bytes() == b"data"
