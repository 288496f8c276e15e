"""The command line's checks before anything is written, and the headless runs that export, save a session
or record: each failure is one line on stderr and an exit status (see :mod:`explorer.cli.errors`)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from explorer.cli.errors import EXIT_DIVERGED, EXIT_USAGE, UsageError


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
        if getattr(args, "save_session", None) is not None:
            check_writable(args.save_session)
        if getattr(args, "record", None) is not None:
            _check_recording(args)
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


def _check_recording(args: argparse.Namespace) -> None:
    """``--record``'s file and pacing, before anything runs (Pillow and ffmpeg load only when it records)."""
    from explorer.ui.export import check_writable

    if args.record.suffix.lower() not in (".gif", ".mp4"):
        raise UsageError(f"--record {args.record}: use a file ending in .gif or .mp4")
    if args.steps < 1:
        raise UsageError(f"--record needs --steps of at least 1, got {args.steps}")
    if args.frame_every is not None and not 1 <= args.frame_every <= args.steps:
        raise UsageError(f"--frame-every must be between 1 and --steps ({args.steps}), got {args.frame_every}")
    if not 0.5 <= args.fps <= 60:
        raise UsageError(f"--fps must be between 0.5 and 60, got {args.fps:g}")
    check_writable(args.record)


def _record(app: Any, window: Any, args: argparse.Namespace) -> int:
    """``--record``: the current tab's animation; 0, 3 if the run stopped early (the file has the frames up to
    there), 2 if nothing could be written."""
    from explorer.ui.record import record_headless

    window.show()
    app.processEvents()
    page = window.current_page()
    every = args.frame_every or max(1, round(args.steps / 50))
    message = record_headless(page, args.record, args.steps, every, args.fps)
    if message is None:
        print(args.record)
        return 0
    print(f"loss-explorer: {page.tab.name}: {message}", file=sys.stderr)
    return EXIT_DIVERGED if args.record.exists() else EXIT_USAGE
