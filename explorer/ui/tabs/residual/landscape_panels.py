"""The residual tab's loss landscapes: plain and residual side by side on one colour scale, and in 3D.

Heatmap and contours of log10 loss on the (α, β) plane (Li et al. 2018), drawn from a
``LandscapePair`` as its grid fills in, coarse to fine. The 3D surface uses pyqtgraph.opengl (PyOpenGL);
where no OpenGL context can be made, the tab says why instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from explorer.ui.tabs.residual.cells import KINDS, bar_room, nearest, set_title, shared_bar, show_cells, span_title
from explorer.ui.theme import Theme
from explorer.ui.topic import Table
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import HeatmapPanel, Styled

if TYPE_CHECKING:
    from explorer.lab.residual.residual_landscape import LandscapePair

COLORMAP = "viridis"


class LandscapePanels:
    """Two heatmaps (plain, residual) with contours, the trained weights marked at (0, 0).

    One colour scale serves both, so only the residual panel shows its bar.
    """

    def __init__(self, styled: Styled) -> None:
        self.styled = styled
        self.panels: dict[str, LegendedPlot] = {}
        self.maps: dict[str, HeatmapPanel] = {}
        self.centres: dict[str, pg.ScatterPlotItem] = {}
        self.hints: dict[str, pg.TextItem] = {}
        for kind in KINDS:
            panel = LegendedPlot(styled, f"{kind.capitalize()} landscape", "α (along d₁)", "β (along d₂)",
                                 columns=1, downsample=False)  # fmt: skip
            self.maps[kind] = HeatmapPanel(styled, panel.plot, COLORMAP)
            centre = pg.ScatterPlotItem(symbol="+", size=16, pen=pg.mkPen("#000000"), brush=pg.mkBrush("#ffffff"))
            centre.setZValue(20)
            panel.add(centre, "trained weights θ")
            panel.legend.addItem(self.maps[kind].contours, "contours of log₁₀ loss")
            panel.fit_legend()
            hint = styled.styled_text(pg.TextItem(anchor=(0.5, 0.5)))
            hint.setZValue(30)
            panel.plot.addItem(hint)
            # the hint wraps to its plot's width (a projector's narrow panel cut it at both sides)
            view = panel.plot.getViewBox()
            view.sigResized.connect(lambda v, h=hint: h.setTextWidth(max(40.0, v.width() - 16)))
            self.panels[kind], self.centres[kind], self.hints[kind] = panel, centre, hint
        shared_bar(self.maps["plain"], self.panels["plain"].plot)
        for panel in self.panels.values():
            span_title(panel.plot)
        self.pair: LandscapePair | None = None
        self._field_key: tuple[object, ...] = ()
        self.clear("")

    def restyle(self, theme: Theme) -> None:
        for centre in self.centres.values():
            centre.setSize(16 * theme.font_scale)
            centre.setPen(pg.mkPen("#000000", width=theme.pen_scale))
        bar_room(self.maps["residual"], theme, "-1.5")
        for panel in self.panels.values():
            panel.legend.update()
            panel.fit_legend()

    def clear(self, hint: str) -> None:
        """No landscape (a new run): empty panels that say how to get one."""
        self.pair = None
        self._field_key = ()
        for kind, heatmap in self.maps.items():
            heatmap.image.clear()
            heatmap.contours.setData([], [])
            self.centres[kind].setData([], [])
            self.hints[kind].setText(hint)
            self.hints[kind].setPos(0.0, 0.0)
            self.panels[kind].plot.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)

    def show(self, pair: LandscapePair) -> None:
        """A partial or complete pair: the grid fills in, coarse to fine, on one colour scale."""
        self.pair = pair
        low, high = pair.color_range
        label = "log₁₀ loss (nats)" if pair.cap is None else f"log₁₀ loss (nats), top: ≥ {pair.cap:g}"
        key = (len(pair.alphas), float(pair.alphas[0]), label, pair.depth)
        fresh = key != self._field_key  # a new grid: extent, label and titles; else only the values move
        self._field_key = key
        for i, (kind, heatmap) in enumerate(self.maps.items()):
            if fresh:
                self.hints[kind].setText("")
                heatmap.set_field(pair.alphas, pair.betas, pair.shown[i], label, pair.losses[i])
                show_cells(self.panels[kind].plot, pair.alphas, pair.betas)
                self.centres[kind].setData([0.0], [0.0])
                set_title(self.panels[kind].plot, f"{kind.capitalize()} {pair.depth} landscape")
            heatmap.image.setImage(
                np.ascontiguousarray(pair.shown[i], dtype=np.float32), autoLevels=False, levels=(low, high)
            )  # one scale for both: shapes compare by eye
            heatmap.colorbar.setLevels((low, high))
            heatmap.set_contours(pair.contours[i])

    def describe(self, kind: str, x: float, y: float) -> str | None:
        pair = self.pair
        if pair is None:
            return None
        i, j = nearest(pair.betas, y), nearest(pair.alphas, x)
        if i is None or j is None:
            return None
        values = []
        for name, losses in zip(KINDS, pair.losses, strict=True):
            loss = losses[i, j]
            mark = "*" if name == kind else ""
            values.append(f"{mark}{name} {loss:.4g}" if np.isfinite(loss) else f"{mark}{name} not yet evaluated")
        where = f"α = {pair.alphas[j]:.3g}, β = {pair.betas[i]:.3g}"
        return (f"{where}: loss L(θ + α d₁ + β d₂) = {', '.join(values)} nats "
                f"(full training set, {pair.depth}-block nets at step {pair.step})")  # fmt: skip

    def table(self) -> Table | None:
        pair = self.pair
        if pair is None:
            return None
        alpha, beta = np.meshgrid(pair.alphas, pair.betas, indexing="xy")  # (R, R) each, row = beta
        return {"alpha": alpha.ravel(), "beta": beta.ravel(), "loss_plain": pair.losses[0].ravel(),
                "loss_residual": pair.losses[1].ravel()}  # fmt: skip


class SurfaceView(QtWidgets.QWidget):
    """Both landscapes as 3D surfaces side by side (height and colour: log10 loss on the shared scale)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph.opengl as gl  # needs an OpenGL context: only built where gl_status() says yes

        self._gl = gl
        self.view = gl.GLViewWidget()
        self.view.setCameraPosition(distance=9.0, elevation=28, azimuth=-70)
        self.surfaces = {kind: gl.GLSurfacePlotItem(smooth=False, computeNormals=False) for kind in KINDS}
        self.labels = {kind: gl.GLTextItem(text=kind) for kind in KINDS}
        for kind in KINDS:
            self.view.addItem(self.surfaces[kind])
            self.view.addItem(self.labels[kind])
        self.floor = gl.GLGridItem()
        self.floor.setSize(6.0, 3.0)
        self.floor.setSpacing(0.5, 0.5)
        self.view.addItem(self.floor)
        self.caption = QtWidgets.QLabel("Drag to turn the surfaces, scroll to zoom.", wordWrap=True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)

    def show_pair(self, pair: LandscapePair) -> None:
        """Each surface in a 2 x 2 square (α, β scaled), heights scaled so the shared range spans 1.5."""
        low, high = pair.color_range
        cmap = pg.colormap.get(COLORMAP)
        xs = pair.alphas / max(abs(pair.alphas[0]), 1e-12)  # (R,) in [-1, 1]
        ys = pair.betas / max(abs(pair.betas[0]), 1e-12)
        for i, kind in enumerate(KINDS):
            z = 1.5 * (pair.shown[i].T - low) / (high - low)  # (R_alpha, R_beta): GL wants z[x, y]
            colors = cmap.map(np.clip((pair.shown[i].T - low) / (high - low), 0, 1), mode="float")  # (R, R, 4)
            surface = self.surfaces[kind]
            surface.setData(x=xs, y=ys, z=z, colors=colors.reshape(-1, 4))
            surface.resetTransform()
            surface.translate(-1.3 if kind == "plain" else 1.3, 0.0, 0.0)
            self.labels[kind].setData(pos=(-1.3 if kind == "plain" else 1.3, 1.2, 1.7),
                                      text=f"{kind} {pair.depth}")  # fmt: skip
        self.caption.setText(
            f"log₁₀ loss of the {pair.depth}-block nets at step {pair.step}, height and colour on one scale "
            f"({10**low:.3g} to {10**high:.3g} nats); α and β run over ±{abs(pair.alphas[0]):.3g}. "
            "Drag to turn, scroll to zoom."
        )
