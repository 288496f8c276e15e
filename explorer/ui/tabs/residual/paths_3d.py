"""Each net's landscape on the PCA plane of its own path, in 3D, with the path drawn on the surface.

The path's points are projected onto the plane (``trajectory.project``); each is drawn at the height
of the surface under it (bilinear in the grid), so the line lies on the landscape it crossed. The
heights are log10 of the loss, as the colours of the 2-D maps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PyQt6 import QtGui, QtWidgets

from explorer.ui.widgets.gl import refuse_3d
from explorer.ui.widgets.surface3d import Surface3D

if TYPE_CHECKING:
    from explorer.lab.residual.path_pair import NetPath, PathPair

KINDS = ("plain", "residual")
LOSS_FLOOR = 1e-6
PATH_COLOUR = QtGui.QColor("#ff5a1f")  # one warm line on viridis, which has no orange


def surface_heights(net: NetPath, coords: np.ndarray) -> np.ndarray:
    """log10 loss of the plane's grid at each (α, β) of ``coords``, bilinear between grid points."""
    shown = np.log10(np.maximum(net.losses, LOSS_FLOOR))  # (R_beta, R_alpha)
    a = np.interp(coords[:, 0], net.alphas, np.arange(len(net.alphas)))
    b = np.interp(coords[:, 1], net.betas, np.arange(len(net.betas)))
    i0, j0 = np.floor(b).astype(int), np.floor(a).astype(int)
    i1, j1 = np.minimum(i0 + 1, len(net.betas) - 1), np.minimum(j0 + 1, len(net.alphas) - 1)
    fb, fa = b - i0, a - j0
    top = shown[i0, j0] * (1 - fa) + shown[i0, j1] * fa
    bottom = shown[i1, j0] * (1 - fa) + shown[i1, j1] * fa
    return top * (1 - fb) + bottom * fb


class PathsIn3D:
    """A checkable button that swaps the PCA-plane maps for two 3D surfaces (where OpenGL works)."""

    def __init__(self, plane: QtWidgets.QWidget, say: Callable[[str], None]) -> None:
        self.say = say
        self.button = QtWidgets.QPushButton("Paths in 3D", checkable=True)
        self.button.setToolTip("Each net's PCA-plane landscape as a surface with its training path on it")
        self.button.toggled.connect(self._on_toggled)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(plane)
        self.views: dict[str, Surface3D] = {}
        self.pair: PathPair | None = None

    def _on_toggled(self, on: bool) -> None:
        if not on:
            self.stack.setCurrentIndex(0)
            return
        if not refuse_3d(self.button, self.say):
            return
        if not self.views:
            both = QtWidgets.QWidget()
            row = QtWidgets.QHBoxLayout(both)
            row.setContentsMargins(0, 0, 0, 0)
            for kind in KINDS:
                self.views[kind] = Surface3D(f"{kind}: log₁₀ loss on its own PCA plane; the line is its path.")
                row.addWidget(self.views[kind])
            self.stack.addWidget(both)
        self.stack.setCurrentIndex(1)
        self.show(self.pair)

    def show(self, pair: PathPair | None) -> None:
        self.pair = pair
        if pair is None or not self.views or not self.button.isChecked():
            return
        for kind, net in zip(KINDS, (pair.plain, pair.residual), strict=True):
            if net is None:
                continue
            view, shown = self.views[kind], np.log10(np.maximum(net.losses, LOSS_FLOOR))
            view.set_surface(net.alphas, net.betas, shown)
            view.set_path("path", net.coords[:, 0], net.coords[:, 1], surface_heights(net, net.coords), PATH_COLOUR)
