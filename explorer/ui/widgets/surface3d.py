"""A loss surface in 3D with paths drawn on it: drag to turn, scroll to zoom.

The surface is fitted into a fixed box (x and y to [-1, 1], height to [0, HEIGHT]) so any surface
looks alike on screen; every path goes through the same transform, so an optimizer's path lies on the
surface it descends. Only built where ``explorer.ui.widgets.gl.gl_status()`` says OpenGL works.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtGui, QtWidgets

HEIGHT = 1.2  # the box's height in units of its half-width
MAX_GRID = 120  # vertices per axis drawn: a 400 x 400 map is thinned, the picture is the same
LIFT = 0.012  # paths float this much above the surface, so the surface never hides them


class Surface3D(QtWidgets.QWidget):
    """One surface z(x, y) coloured by a colour map, and named paths (x, y, z) on it."""

    def __init__(self, caption: str, colormap: str = "viridis") -> None:
        super().__init__()
        import pyqtgraph.opengl as gl  # PyOpenGL: only where an OpenGL context can be made

        self._gl = gl
        self.colormap = pg.colormap.get(colormap)
        self.view = gl.GLViewWidget()
        self.view.setCameraPosition(distance=4.2, elevation=30, azimuth=-60)
        self.surface = gl.GLSurfacePlotItem(smooth=False, computeNormals=False)
        self.view.addItem(self.surface)
        floor = gl.GLGridItem()
        floor.setSize(2.0, 2.0)
        floor.setSpacing(0.25, 0.25)
        self.view.addItem(floor)
        self.paths: dict[str, tuple] = {}  # key -> (x, y, z, colour) as given, redrawn on a new surface
        self._items: dict[str, tuple] = {}  # key -> (line, head) GL items
        self._box: tuple[float, float, float, float, float, float] | None = None  # x0, x1, y0, y1, z0, z1
        self.caption = QtWidgets.QLabel(caption, wordWrap=True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)

    def set_surface(self, xs: np.ndarray, ys: np.ndarray, z: np.ndarray, shade: np.ndarray | None = None) -> None:
        """``z`` (len(ys), len(xs)), row i at ys[i] as the 2-D maps hold it; ``shade`` colours it (default z).
        Heights are clipped to the 1st..99th percentile, so one spike does not flatten the rest."""
        step_x, step_y = max(1, len(xs) // MAX_GRID), max(1, len(ys) // MAX_GRID)
        xs, ys = np.asarray(xs)[::step_x], np.asarray(ys)[::step_y]
        z = np.asarray(z, dtype=np.float64)[::step_y, ::step_x]
        shade = z if shade is None else np.asarray(shade, dtype=np.float64)[::step_y, ::step_x]
        finite = z[np.isfinite(z)]
        z0, z1 = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
        z1 = z1 if z1 > z0 else z0 + 1.0
        self._box = (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]), float(z0), float(z1))
        s_finite = shade[np.isfinite(shade)]
        s0, s1 = np.percentile(s_finite, [1, 99]) if s_finite.size else (0.0, 1.0)
        unit = np.clip((shade.T - s0) / max(s1 - s0, 1e-12), 0.0, 1.0)  # GL wants [x, y]
        colours = self.colormap.map(np.nan_to_num(unit), mode="float").reshape(-1, 4)
        self.surface.setData(x=self._x(xs), y=self._y(ys), z=self._z(z.T), colors=colours)
        for key, (x, y, zs, colour) in list(self.paths.items()):
            self.set_path(key, x, y, zs, colour)

    def set_path(self, key: str, x: np.ndarray, y: np.ndarray, z: np.ndarray, colour: QtGui.QColor) -> None:
        """Draw (or redraw) path ``key`` on the surface, with a dot at its end."""
        x, y, z = (np.asarray(a, dtype=np.float64) for a in (x, y, z))
        if key not in self.paths:
            line = self._gl.GLLinePlotItem(antialias=True, width=2.5, mode="line_strip")
            head = self._gl.GLScatterPlotItem(size=9.0, pxMode=True)
            line.setGLOptions("translucent")
            self.view.addItem(line)
            self.view.addItem(head)
            self._items[key] = (line, head)
        self.paths[key] = (x, y, z, colour)
        line, head = self._items[key]
        ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
        if self._box is None or not ok.any():
            line.setData(pos=np.zeros((0, 3)))
            head.setData(pos=np.zeros((0, 3)))
            return
        pos = np.column_stack([self._x(x[ok]), self._y(y[ok]), self._z(z[ok]) + LIFT])
        rgba = (colour.redF(), colour.greenF(), colour.blueF(), 1.0)
        line.setData(pos=pos, color=rgba)
        head.setData(pos=pos[-1:], color=rgba)

    def remove_path(self, key: str) -> None:
        if key in self.paths:
            del self.paths[key]
            for item in self._items.pop(key):
                self.view.removeItem(item)

    # --- the box ---------------------------------------------------------------------------------
    def _x(self, x: np.ndarray) -> np.ndarray:
        x0, x1 = self._box[0], self._box[1]
        return 2.0 * (np.clip(x, x0, x1) - x0) / max(x1 - x0, 1e-12) - 1.0

    def _y(self, y: np.ndarray) -> np.ndarray:
        y0, y1 = self._box[2], self._box[3]
        return 2.0 * (np.clip(y, y0, y1) - y0) / max(y1 - y0, 1e-12) - 1.0

    def _z(self, z: np.ndarray) -> np.ndarray:
        z0, z1 = self._box[4], self._box[5]
        return HEIGHT * (np.clip(np.nan_to_num(z, nan=z1), z0, z1) - z0) / (z1 - z0)
