"""The surfaces page's "3D surface" button and view: the surface in 3D with every optimizer's path on it."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6 import QtWidgets

from explorer.lab.saddle import optim, saddle
from explorer.ui.widgets.gl import refuse_3d
from explorer.ui.widgets.plots import Styled
from explorer.ui.widgets.surface3d import Surface3D


class SurfaceIn3D:
    """A checkable button that swaps the 2-D map for a 3D surface (built on first use, where OpenGL works)."""

    def __init__(self, plane: QtWidgets.QWidget, styled: Styled, say: Callable[[str], None]) -> None:
        self.styled, self.say = styled, say
        self.button = QtWidgets.QPushButton("3D surface", checkable=True)
        self.button.setToolTip("The surface in 3D with every optimizer's path on it (drag to turn)")
        self.button.toggled.connect(self._on_toggled)
        self.stack = QtWidgets.QStackedWidget()  # page 0: the map and curves; page 1: the 3D surface
        self.stack.addWidget(plane)
        self.view: Surface3D | None = None
        self._surface_map: saddle.SurfaceMap | None = None
        self._frame: saddle.SaddleFrame | None = None

    @property
    def shown(self) -> bool:
        return self.view is not None and self.button.isChecked()

    def _on_toggled(self, on: bool) -> None:
        if on:
            if not refuse_3d(self.button, self.say):
                return
            if self.view is None:
                self.view = Surface3D("Height and colour: f. Drag to turn, scroll to zoom.")
                self.stack.addWidget(self.view)
            self.stack.setCurrentIndex(1)
            self.draw(self._surface_map, self._frame)
        else:
            self.stack.setCurrentIndex(0)

    def draw(
        self, surface_map: saddle.SurfaceMap | None, frame: saddle.SaddleFrame | None, surface: bool = True
    ) -> None:
        """The surface (when ``surface``) and every running optimizer's path, while the 3D view is shown."""
        self._surface_map, self._frame = surface_map, frame
        view = self.view
        if view is None or not self.shown:
            return
        if surface and surface_map is not None:
            view.set_surface(surface_map.xs, surface_map.ys, surface_map.values, surface_map.shown)
        paths = frame.paths if frame is not None else {}
        for name in optim.NAMES:
            if name in paths and frame is not None:
                path = paths[name]
                view.set_path(name, path[:, 0], path[:, 1], frame.values[name], self.styled.theme.color(name))
            else:
                view.remove_path(name)
