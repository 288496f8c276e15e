"""Whether a window can open here: a display, and the X11 libraries Qt's xcb plugin needs."""

from __future__ import annotations

import os
import sys
from pathlib import Path


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
