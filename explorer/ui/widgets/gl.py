"""Whether a 3D view can be drawn here: PyOpenGL installed and an OpenGL context that can be made.

PyOpenGL is a dependency, but a machine may still have no OpenGL at all (a server, CI's offscreen
platform, a remote desktop without GLX). Trying to make a context inside the app prints Qt warnings
and may leave a black widget; so the first 3D request asks a short-lived Python process instead, with
the same Qt platform, and the answer (with the reason when it is no) is kept for the session.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

_PROBE = """
import sys
from PyQt6 import QtGui
app = QtGui.QGuiApplication(sys.argv[:1])
surface = QtGui.QOffscreenSurface()
surface.create()
context = QtGui.QOpenGLContext()
if not context.create():
    print("no OpenGL context could be created"); sys.exit(1)
if not context.makeCurrent(surface):
    print("an OpenGL context was created but cannot draw"); sys.exit(1)
import OpenGL.GL as gl
version = gl.glGetString(gl.GL_VERSION)
print("OpenGL " + (version.decode(errors="replace") if version else "?"))
"""

_status: tuple[bool, str] | None = None


def gl_status(timeout_s: float = 20.0) -> tuple[bool, str]:
    """(3D can be drawn, what was found or why not); probed once per session."""
    global _status
    if _status is None:
        _status = _probe(timeout_s)
    return _status


def _probe(timeout_s: float) -> tuple[bool, str]:
    if importlib.util.find_spec("OpenGL") is None:
        return False, "3D needs PyOpenGL: pip install PyOpenGL"
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=timeout_s, env=dict(os.environ)
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"3D needs OpenGL, and probing for it failed ({type(exc).__name__})"
    said = (done.stdout.strip().splitlines() or ["no answer"])[-1]
    if done.returncode != 0:
        return False, f"3D needs OpenGL, which this display does not offer: {said}"
    return True, said


def refuse_3d(button, say) -> bool:
    """For a checkable 3D button just pressed: True when 3D can be drawn; else uncheck and disable it, put
    the reason in its tooltip, pass the reason to ``say`` and return False."""
    drawable, why = gl_status()  # asked once, of a separate process: no Qt warning in this one
    if drawable:
        return True
    button.blockSignals(True)
    button.setChecked(False)
    button.blockSignals(False)
    button.setEnabled(False)
    button.setToolTip(why)
    say(why)
    return False
