"""Command line: open the window, or run a tab headless and export what it shows.

    python main.py                                   # the window
    python main.py --tab saddle --set optimizer=adam --set lr=0.05 --steps 200 --export out.png
    python main.py --export-all figures/             # every tab: PNG, SVG, CSV and JSON
    python main.py --model my_net.py --weights my_net.pt  # the "Your model" tab on your own network

Every mistake (unknown tab or key, a value out of bounds, an unwritable path, a model file that does not
load, no display) is one line on stderr and exit status 2 (1 for no display), before anything is written.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

EXIT_USAGE = 2
EXIT_DIVERGED = 3  # headless: a run diverged, ran out of memory or failed; what it had is exported
EXIT_NO_DISPLAY = 1


class UsageError(Exception):
    """A one-line complaint about the command line."""


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
    parser.add_argument("--session", type=Path, metavar="FILE.json",
                        help="open a saved session (every tab's parameters, tab, theme, device); --tab and --set "
                        "apply on top")  # fmt: skip
    parser.add_argument("--save-session", type=Path, metavar="FILE.json",
                        help="headless: write the session (after --session, --tab and --set) to FILE and exit")
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


def has_display() -> bool:
    if sys.platform != "linux":
        return True
    platform_name = os.environ.get("QT_QPA_PLATFORM", "")
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or platform_name)


#: the X11 libraries Qt's xcb platform plugin needs, as Debian/Ubuntu packages
XCB_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 "
    "libxkbcommon-x11-0 libxcb-shape0 libxcb-xkb1 libxcb-randr0"
)


def missing_qt_libraries() -> str | None:
    """Why Qt could not open an X11 window, as one line, or None if it can.

    Qt aborts the whole process when its xcb plugin fails to load, so ask the dynamic loader first:
    loading the plugin names the first missing library, and Qt >= 6.5 also needs libxcb-cursor.
    """
    import ctypes
    import ctypes.util
    import re

    uses_xcb = os.environ.get("QT_QPA_PLATFORM", "xcb") == "xcb" and not os.environ.get("WAYLAND_DISPLAY")
    if sys.platform != "linux" or not uses_xcb:
        return None
    from PyQt6 import QtCore

    plugins = Path(QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.LibraryPath.PluginsPath))
    missing = None
    try:
        ctypes.CDLL(str(plugins / "platforms" / "libqxcb.so"))
    except OSError as exc:
        found = re.search(r"(lib[\w.+-]+\.so[\w.]*)", str(exc))
        missing = found.group(1) if found else str(exc)
    if missing is None and not ctypes.util.find_library("xcb-cursor"):
        missing = "libxcb-cursor.so.0"
    if missing is None:
        return None
    return (
        f"loss-explorer: Qt cannot open a window because {missing} is missing: install the X11 libraries "
        f"(Debian/Ubuntu: sudo apt install {XCB_PACKAGES}), or export with --export"
    )


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


def _read_session(path: Path) -> Any:
    """The session file, checked whole before any window exists: a bad one is one line and exit 2."""
    from explorer.ui.session import SessionError, read

    try:
        return read(path)
    except SessionError as exc:
        raise UsageError(f"--session {exc}") from None


def _check_files(tab_cls: Any, assignments: list[tuple[str, Any]]) -> None:
    """Before a headless export writes anything: the files the settings name (a user's model) load, or one line.

    Only headless: a window runs the user's code in the experiment's worker, where a file that hangs is
    abandoned by Reset or quit and a bad one is a line in the tab's banner."""
    check = getattr(tab_cls, "check_files", None)
    if check is None:
        return
    from explorer.ui.params import defaults

    try:
        check({**defaults(tab_cls.parameters()), **dict(assignments)}, {key for key, _ in assignments})
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_targets(args: argparse.Namespace) -> None:
    """Every file an export will write, checked by trying (``os.access`` says yes to root everywhere)."""
    from explorer.ui.export import SUFFIXES, ExportError, check_writable

    try:
        if args.save_session is not None:
            check_writable(args.save_session)
        if args.export is not None:
            if args.export.suffix.lower() not in SUFFIXES:
                raise UsageError(f"--export {args.export}: use a file ending in {', '.join(SUFFIXES)}")
            check_writable(args.export)
        if args.export_all is not None:
            folder = args.export_all
            if folder.exists() and not folder.is_dir():
                raise UsageError(f"--export-all {folder}: exists and is not a folder")
            if folder.is_dir():
                from explorer.ui.topic import tab_classes

                for cls in tab_classes():
                    for suffix in SUFFIXES:
                        check_writable(folder / f"{cls.name}{suffix}")
            else:
                _probe_new_folder(folder)
    except ExportError as exc:
        flag = "--export" if args.export_all is None else "--export-all"
        raise UsageError(f"{flag}: {exc}") from None
    if not 0 <= args.steps <= 1_000_000:
        raise UsageError(f"--steps must be between 0 and 1000000, got {args.steps}")


def _probe_new_folder(folder: Path) -> None:
    """Create ``folder`` (and the missing folders above it), write a file in it, and remove it all again."""
    from explorer.ui.export import probe_folder

    missing: list[Path] = []
    above = folder.absolute()
    while not above.exists() and not above.is_symlink():
        missing.append(above)
        above = above.parent
    if not above.is_dir():
        raise UsageError(f"--export-all {folder}: {above} is not a folder")
    try:
        for path in reversed(missing):
            path.mkdir()
        probe_folder(folder)
    except OSError as exc:
        raise UsageError(f"--export-all {folder}: cannot create this folder ({exc.strerror or exc})") from None
    finally:
        for path in missing:  # deepest first; a folder that was never made is simply not there
            with contextlib.suppress(OSError):
                path.rmdir()


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
    return args.export is not None or args.export_all is not None or args.save_session is not None


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
            if args.export is None and args.export_all is None:
                return 0
        if headless:
            return _export(app, window, args)
        if args.quit_after_paint is not None:
            _quit_after_paint(app, window, args.quit_after_paint)
        window.play_on_start = args.play
        window.show()
        return app.exec()
    finally:
        _tear_down(app, window)


def _apply_session(window: Any, session: Any, path: Path, headless: bool) -> None:
    """The session into the window; in a window, a model file it names is asked about first (headless, the
    command line is the user's own choice: it is said on stderr)."""
    from explorer.ui.session import apply, open_file

    if not headless:
        open_file(window, path)
        return
    if session.model_file() is not None:
        print(f"loss-explorer: the session runs the model file {session.model_file()}", file=sys.stderr)
    for note in apply(window, session):
        print(f"loss-explorer: {note}", file=sys.stderr)


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


def _export(app: Any, window: Any, args: argparse.Namespace) -> int:
    """Run and export; a failed write removes every file this export wrote (all or nothing), exit 2.

    A run that stops early (diverged, out of memory) is still exported as far as it got, and the exit
    status is :data:`EXIT_DIVERGED` so that a script can tell.
    """
    from explorer.ui.export import export_everything, export_file, removed_on_failure

    window.show()
    app.processEvents()
    written: list[Path] = []
    stopped: list[str] = []
    new_folder = args.export_all is not None and not args.export_all.exists()
    try:
        with removed_on_failure(written):
            if args.export is not None:
                page = window.current_page()
                if _run(app, page, args.steps):
                    stopped.append(page.tab.name)
                written += export_file(page.tab, args.export, caption=window.settings["caption"], step=args.steps)
            if args.export_all is not None:
                args.export_all.mkdir(parents=True, exist_ok=True)
                for name in window.topics:
                    page = window.select(name)
                    if _run(app, page, args.steps):
                        stopped.append(name)
                    written += export_everything(page.tab, args.export_all, caption=window.settings["caption"])
    except OSError as exc:
        if new_folder:
            with contextlib.suppress(OSError):
                args.export_all.rmdir()  # only if empty: what we made and wrote nothing into
        undone = f"; removed the {len(written)} file(s) this export had written" if written else ""
        print(f"loss-explorer: error: {str(exc).splitlines()[0] if str(exc) else exc!r}{undone}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        window.close()
    for path in written:
        print(path)
    if stopped:
        print(f"loss-explorer: exported what {', '.join(stopped)} had when it stopped early", file=sys.stderr)
        return EXIT_DIVERGED
    return 0


def _run(app: Any, page: Any, steps: int) -> bool:
    """Run ``steps`` headless; say on stderr what went wrong; True if the run stopped early or a job failed
    (diverged, out of memory, or any other error): the export still has what there was, and exit 3 says so."""
    failure = page.run_headless(steps)
    app.processEvents()
    if failure:
        print(f"loss-explorer: {page.tab.name}: {failure}", file=sys.stderr)
    return bool(failure)


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
