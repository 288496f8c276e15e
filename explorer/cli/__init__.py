"""Command line: open the window, or run a tab headless and export what it shows.

    python main.py                                   # the window
    python main.py --tab saddle --set optimizer=adam --set lr=0.05 --steps 200 --export out.png
    python main.py --export-all figures/             # every tab: PNG, SVG, CSV and JSON
    python main.py --model my_net.py --weights my_net.pt  # the "Your model" tab on your own network
    python main.py --session lecture.json            # a saved session (--save-session FILE writes one)
    python main.py --tab saddle --steps 300 --record saddle.gif --frame-every 5   # an animation

Every mistake (unknown tab or key, a value out of bounds, an unwritable path, a bad session file, a model
file that does not load when exporting, no display) is one line on stderr and exit status 2 (1 for no
display), before anything is written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from explorer.cli.display import XCB_PACKAGES, has_display, missing_qt_libraries
from explorer.cli.errors import EXIT_DIVERGED, EXIT_NO_DISPLAY, EXIT_USAGE, UsageError
from explorer.cli.headless import _apply_session, _check_files, _check_targets, _export, _read_session, _record

__all__ = [
    "EXIT_DIVERGED", "EXIT_NO_DISPLAY", "EXIT_USAGE", "XCB_PACKAGES", "UsageError", "_check_targets", "_export",
    "build_parser", "has_display", "main", "missing_qt_libraries", "parse_assignments", "run",
]  # fmt: skip


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not argparse's usage dump
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="loss-explorer", description="Watch small models train; export what you see.")
    parser.add_argument("--tab", help="topic to show or export (see --list-tabs)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="set a parameter")
    parser.add_argument("--model", metavar="FILE.py",
                        help="the Your model tab on this Python file with model() and data() (--set model_path=FILE); "
                        "loading runs its code, as python would")  # fmt: skip
    parser.add_argument("--weights", metavar="FILE.pt",
                        help="with --model: start from this torch.save'd state dict (--set weights=FILE)")  # fmt: skip
    parser.add_argument("--steps", type=int, default=200, help="steps to run before exporting (default 200)")
    parser.add_argument("--export", type=Path, metavar="FILE", help="headless: export .png, .svg, .csv or .json")
    parser.add_argument("--export-all", type=Path, metavar="DIR", help="headless: export every tab into DIR")
    parser.add_argument("--caption", action=argparse.BooleanOptionalAction, default=None, help="stamp a caption")
    parser.add_argument("--presentation", action="store_true", help="large fonts, thick lines, Okabe-Ito colours")
    parser.add_argument("--theme", choices=("light", "dark"), help="colour theme")
    parser.add_argument("--size", default="1600x1000", help="window size for export, WIDTHxHEIGHT")
    parser.add_argument(
        "--record",
        type=Path,
        metavar="OUT.gif|OUT.mp4",
        help="headless: record the tab's plots as it trains, --steps steps, into a GIF or MP4",
    )
    parser.add_argument(
        "--frame-every",
        type=int,
        metavar="K",
        help="with --record: one picture every K steps (default: about 50 pictures in all)",
    )
    parser.add_argument("--fps", type=float, default=10.0, help="with --record: frames per second (default 10)")
    parser.add_argument("--session", type=Path, metavar="FILE.json",
                        help="open a saved session (every tab's parameters, tab, theme, device); --tab and --set "
                        "apply on top")  # fmt: skip
    parser.add_argument(
        "--save-session",
        type=Path,
        metavar="FILE.json",
        help="headless: write the session (after --session, --tab and --set) to FILE and exit",
    )
    parser.add_argument("--settings", type=Path, help="settings file (INI) instead of the per-user one")
    parser.add_argument("--list-tabs", action="store_true", help="print the topics and exit")
    parser.add_argument("--list-params", action="store_true", help="print the tab's parameters and exit")
    parser.add_argument("--play", action="store_true", help="start the tab's experiment playing at once")
    parser.add_argument("--quit-after-paint", type=int, nargs="?", const=0, metavar="MS", help=argparse.SUPPRESS)
    return parser


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size must look like 1600x1000, got {text!r}") from None
    if not (320 <= width <= 8000 and 240 <= height <= 8000):
        raise UsageError(f"--size must be between 320x240 and 8000x8000, got {text}")
    return width, height


def parse_assignments(tab_cls: Any, texts: list[str], values: dict[str, Any]) -> list[tuple[str, Any]]:
    """Turn ``--set key=value`` texts into validated (key, value) pairs, aliases expanded in order.

    Constraints between parameters are checked on the whole set once every ``--set`` is read (the tab's
    ``check_values``), so their order never matters and nothing is clamped behind the user's back. The
    pairs come back one per key, in the tab's declaration order: a key whose change resets others (the
    saddle's surface resets the start point) is applied before the keys it would reset.
    """
    specs = {p.key: p for p in tab_cls.parameters()}
    aliases = tab_cls.aliases()
    current = dict(values)
    result: list[tuple[str, Any]] = []
    for text in texts:
        key, sep, raw = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set needs KEY=VALUE, got {text!r}")
        try:
            if key in aliases:
                pairs = aliases[key][1](raw, current)
            elif key in specs:
                pairs = [(key, specs[key].parse(raw))]
            else:
                raise UsageError(
                    f"unknown parameter {key!r} for tab {tab_cls.name} (see --tab {tab_cls.name} --list-params)"
                )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        for k, v in pairs:
            current[k] = v
        result += pairs
    final = dict(result)
    check = getattr(tab_cls, "check_values", None)
    if check is not None:
        try:
            check(current, set(final))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    order = {p.key: i for i, p in enumerate(tab_cls.parameters())}
    return sorted(final.items(), key=lambda pair: order.get(pair[0], len(order)))


#: the tab --model and --weights open, and the parameters they set
MODEL_TAB, MODEL_FLAGS = "your_model", (("model", "model_path"), ("weights", "weights"))


def _model_flags(args: argparse.Namespace) -> None:
    """``--model`` and ``--weights`` as the ``--set`` assignments they stand for (before the user's own
    ``--set``, so those win), on the tab they belong to (chosen by them when ``--tab`` is not given)."""
    given = [(flag, key, getattr(args, flag)) for flag, key in MODEL_FLAGS if getattr(args, flag) is not None]
    if not given:
        return
    if args.tab is None:
        args.tab = MODEL_TAB
    elif args.tab != MODEL_TAB:
        raise UsageError(f"--{given[0][0]} is for --tab {MODEL_TAB}, not --tab {args.tab}")
    for flag, _, value in given:
        if not value.strip():
            raise UsageError(f"--{flag} needs a file name")
    args.set = [f"{key}={value}" for _, key, value in given] + list(args.set)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(build_parser().parse_args(argv))
    except UsageError as exc:
        print(f"loss-explorer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def run() -> NoReturn:
    """The program's entry (``main.py``, ``python -m explorer``, ``loss-explorer``): main, then a hard exit.

    By the time ``main`` returns, settings are saved and temporary files removed. What is left may be
    a worker still inside a torch step, or the device probe still importing torch: letting the
    interpreter tear those down aborts the process (a C++ terminate), so it ends here instead.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _headless(args: argparse.Namespace) -> bool:
    return any(getattr(args, key) is not None for key in ("export", "export_all", "save_session", "record"))


def _main(args: argparse.Namespace) -> int:
    headless = _headless(args)
    width, height = _size(args.size)
    _model_flags(args)
    _check_targets(args)
    if headless:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    elif not (has_display() or args.list_tabs or args.list_params):
        print(
            "loss-explorer: no display found (DISPLAY is unset): run it on a desktop, under xvfb-run, "
            "or headless with --export FILE / --export-all DIR",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY

    from explorer.ui.topic import BROKEN_TABS, tab_classes, tab_infos

    if args.list_tabs:
        for cls in tab_classes():  # every view imported: a topic that cannot load says so here
            print(f"{cls.name:<16} {cls.title}")
        for name, why in BROKEN_TABS.items():
            print(f"{name:<16} could not load: {why}")
        return 0
    infos = {info.name: info for info in tab_infos()}
    if args.tab is not None and args.tab not in infos:
        if args.tab in BROKEN_TABS:
            raise UsageError(f"tab {args.tab!r} could not load: {BROKEN_TABS[args.tab]}")
        raise UsageError(f"unknown tab {args.tab!r}; choose from {', '.join(infos)}")
    session = _read_session(args.session) if args.session is not None else None
    args.loaded_session = session
    first = infos[session.tab] if session is not None else next(iter(infos.values()))
    chosen = infos[args.tab] if args.tab else first
    if not (headless or args.tab or args.set or args.list_params):  # the window opens its last tab
        return _open_window(args, None, [], width, height)
    try:
        tab_cls = chosen.load()
    except Exception as exc:
        raise UsageError(f"tab {chosen.name!r} could not load: {type(exc).__name__}: {exc}") from None
    if args.list_params:
        for param in tab_cls.parameters():
            print(param.describe())
        for key, (text, _) in tab_cls.aliases().items():
            print(f"{key:<24} {'(shorthand)':<30} {text}")
        return 0
    from explorer.ui.params import defaults

    base = session.values[tab_cls.name] if session is not None else defaults(tab_cls.parameters())
    assignments = parse_assignments(tab_cls, args.set, base)
    if headless:
        _check_files(tab_cls, assignments)
    return _open_window(args, tab_cls, assignments, width, height)


def _open_window(args: argparse.Namespace, tab_cls: Any, assignments: list[tuple[str, Any]], width: int,
                 height: int) -> int:  # fmt: skip
    """Build the window (headless for an export) on ``tab_cls``, or on the last tab when that is None."""
    headless = _headless(args)
    hint = None if headless else missing_qt_libraries()
    if hint is not None:
        print(hint, file=sys.stderr)
        return EXIT_NO_DISPLAY
    from explorer.ui.app import create_application, quiet_platform_noise

    quiet_platform_noise()
    app = create_application()
    from explorer.ui.settings import Settings
    from explorer.ui.theme import Theme
    from explorer.ui.window import MainWindow

    settings = Settings(args.settings)
    if args.caption is not None:
        settings["caption"] = args.caption
    window = MainWindow(settings, headless=headless)
    session = getattr(args, "loaded_session", None)
    if session is not None:
        _apply_session(window, session, args.session, headless)
    if args.presentation or args.theme:
        dark = (args.theme or settings["theme"]) == "dark"
        window.set_theme(Theme(dark=dark, presentation=args.presentation or settings["presentation"]))
    if tab_cls is not None:
        page = window.select(tab_cls.name)
        page.apply_settings(assignments)
    window.resize(width, height)
    try:
        if args.save_session is not None:
            from explorer.ui.session import save

            try:
                print(save(window, args.save_session))
            except OSError as exc:
                print(f"loss-explorer: error: {exc}", file=sys.stderr)
                return EXIT_USAGE
            if args.export is None and args.export_all is None and args.record is None:
                return 0
        if args.record is not None:
            code = _record(app, window, args)
            if code != 0 or (args.export is None and args.export_all is None):
                return code
        if headless:
            return _export(app, window, args)
        if args.quit_after_paint is not None:
            _quit_after_paint(app, window, args.quit_after_paint)
        window.play_on_start = args.play
        window.show()
        return app.exec()
    finally:
        _tear_down(app, window)


def _tear_down(app: Any, window: Any) -> None:
    """Destroy the window's C++ objects while Python still runs: left to PyQt's exit-time cleanup, a
    graphics item already freed by its scene can crash the process after the work is done."""
    import gc

    from PyQt6 import QtCore

    window.close()
    window.deleteLater()
    app.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete.value)
    app.processEvents()
    gc.collect()


def _quit_after_paint(app: Any, window: Any, delay_ms: int) -> None:
    """For the start-up benchmark and the quit tests: print when the window painted and when its
    page was built, then close the window ``delay_ms`` after the first paint (as Ctrl+Q would)."""
    from PyQt6 import QtCore

    class _FirstPaint(QtCore.QObject):
        def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
            if event.type() == QtCore.QEvent.Type.Paint and obj is window:
                window.removeEventFilter(self)
                print(f"painted {time.time():.6f}", flush=True)
                QtCore.QTimer.singleShot(0, self._page_built)  # runs after the page built just after paint
                QtCore.QTimer.singleShot(delay_ms, self._close)
            return False

        def _page_built(self) -> None:
            print(f"page {time.time():.6f}", flush=True)

        def _close(self) -> None:
            print(f"closing {time.time():.6f}", flush=True)
            window.close()

    window._first_paint = _FirstPaint(window)
    window.installEventFilter(window._first_paint)
