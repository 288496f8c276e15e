"""The residual tab's trajectory panels: each net's landscape on the PCA plane of its own training path,
with the path drawn over it (Li et al. 2018, Sec. 7), and the loss on the straight line from
initialization to the trained weights (Goodfellow, Vinyals & Saxe 2015).

The two planes are each net's own, so their axes differ; they share one colour scale of log10 loss.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg

from explorer.lab.core import contours
from explorer.ui.tabs.residual.cells import KINDS, bar_room, nearest, set_title, shared_bar, show_cells, span_title
from explorer.ui.theme import Theme, style_axis
from explorer.ui.topic import Table
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import HeatmapPanel, Styled

if TYPE_CHECKING:
    from explorer.lab.residual.path_pair import NetPath, PathPair

COLORMAP = "viridis"
PATH_COLORMAP = "magma"  # the path's points, dark (step 0) to light (trained): apart from viridis' greens
N_LEVELS = 10
LOSS_FLOOR = 1e-6


class TrajectoryPanels:
    """Two PCA-plane landscapes with their paths, one colour bar for both, and the interpolation curves."""

    def __init__(self, styled: Styled) -> None:
        self.styled = styled
        self.panels: dict[str, LegendedPlot] = {}
        self.maps: dict[str, HeatmapPanel] = {}
        self.lines: dict[str, pg.PlotDataItem] = {}
        self.points: dict[str, pg.ScatterPlotItem] = {}
        self.centres: dict[str, pg.ScatterPlotItem] = {}
        for kind in KINDS:
            panel = LegendedPlot(styled, f"{kind.capitalize()}: its own training path", "α along d₁",
                                 "β along d₂", columns=1, downsample=False)  # fmt: skip
            self.maps[kind] = HeatmapPanel(styled, panel.plot, COLORMAP)
            line = pg.PlotDataItem()
            line.setZValue(15)
            points = pg.ScatterPlotItem(size=7)
            points.setZValue(16)
            centre = pg.ScatterPlotItem(symbol="+", size=16, pen=pg.mkPen("#000000"), brush=pg.mkBrush("#ffffff"))
            centre.setZValue(20)
            panel.add(line)
            panel.add(points, "path: step 0 (dark) → trained (light)")
            panel.add(centre, "trained weights θ")
            panel.fit_legend()
            self.panels[kind], self.lines[kind], self.points[kind], self.centres[kind] = panel, line, points, centre
        shared_bar(self.maps["plain"], self.panels["plain"].plot)
        for panel in self.panels.values():
            span_title(panel.plot)
        self.line_panel = LegendedPlot(styled, "From initialization to the trained weights",
                                       "t  (θ = (1 − t) θ₀ + t θ_trained)", "loss (nats)", columns=2, log_y=True,
                                       downsample=False)  # fmt: skip
        self.line_curves = {kind: styled.keyed(pg.PlotDataItem(), kind, 2.0) for kind in KINDS}
        for kind, item in self.line_curves.items():
            self.line_panel.add(item, kind)
        self.pair: PathPair | None = None
        self._field_key: dict[str, tuple[object, ...]] = {}

    def restyle(self, theme: Theme) -> None:
        for kind in KINDS:
            self.lines[kind].setPen(pg.mkPen(theme.foreground, width=1.5 * theme.pen_scale))
            self.centres[kind].setSize(16 * theme.font_scale)
            self.points[kind].setSize(7 * theme.font_scale)
        bar_room(self.maps["residual"], theme, "-1.5")
        for panel in (*self.panels.values(), self.line_panel):
            panel.legend.update()
            panel.fit_legend()

    def clear(self) -> None:
        self.pair = None
        self._field_key = {}
        for kind, heatmap in self.maps.items():
            heatmap.image.clear()
            heatmap.contours.setData([], [])
            self.lines[kind].setData([], [])
            self.points[kind].setData([], [])
            self.centres[kind].setData([], [])
            self.line_curves[kind].setData([], [])
            set_title(self.panels[kind].plot, f"{kind.capitalize()}: its own training path")

    def show(self, pair: PathPair) -> None:
        """A partial or complete pair; a net not reached yet stays as it was."""
        self.pair = pair
        nets = {k: n for k, n in zip(KINDS, (pair.plain, pair.residual), strict=True) if n is not None}
        shown = {k: np.log10(np.maximum(n.losses, LOSS_FLOOR)) for k, n in nets.items()}
        finite = np.concatenate([s[np.isfinite(s)] for s in shown.values()]) if shown else np.zeros(0)
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        high = max(high, low + 1e-3)
        levels = np.linspace(low, high, N_LEVELS + 2)[1:-1]
        for kind, net in nets.items():
            self._show_net(kind, net, shown[kind], (low, high), levels, pair)
            if net.t.size:
                self.line_curves[kind].setData(net.t, np.maximum(net.line_losses, LOSS_FLOOR))

    def _show_net(self, kind: str, net: NetPath, shown: np.ndarray, scale: tuple[float, float], levels: np.ndarray,
                  pair: PathPair) -> None:  # fmt: skip
        heatmap, plot = self.maps[kind], self.panels[kind].plot
        key = (kind, pair.step, pair.depth, len(net.alphas), float(net.alphas[0]), float(net.betas[0]))
        if self._field_key.get(kind) != key:  # a new plane: extent, axes and path
            self._field_key[kind] = key
            heatmap.set_field(net.alphas, net.betas, shown, "log₁₀ loss (nats)", net.losses)
            show_cells(plot, net.alphas, net.betas)
            ev = 100 * net.explained
            plot.setLabel("bottom", f"α along d₁ ({ev[0]:.1f}% of the path's variance)")
            plot.setLabel("left", f"β along d₂ ({ev[1]:.1f}%)")
            for side in ("bottom", "left"):  # the new label text in the theme's font
                style_axis(plot.getAxis(side), self.styled.theme)
            lut = pg.colormap.get(PATH_COLORMAP)
            frac = net.steps / max(float(net.steps[-1]), 1.0)
            colours = lut.map(0.15 + 0.8 * frac, mode="qcolor")  # not black, not white: seen on any background
            self.lines[kind].setData(net.coords[:, 0], net.coords[:, 1])
            self.points[kind].setData(net.coords[:, 0], net.coords[:, 1], brush=colours,
                                      pen=pg.mkPen("#ffffff", width=0.6))  # fmt: skip
            self.centres[kind].setData([0.0], [0.0])
            set_title(plot, f"{kind.capitalize()} {pair.depth}: own PCA plane, step {pair.step}")
        low, high = scale
        heatmap.image.setImage(np.ascontiguousarray(shown, dtype=np.float32), autoLevels=False, levels=(low, high))
        heatmap.colorbar.setLevels((low, high))
        if np.isfinite(shown).all():
            heatmap.set_contours(contours.segments(shown, net.alphas, net.betas, levels))

    def describe(self, kind: str, x: float, y: float) -> str | None:
        pair = self.pair
        net = None if pair is None else (pair.plain if kind == "plain" else pair.residual)
        if net is None:
            return None
        i, j = nearest(net.betas, y), nearest(net.alphas, x)
        if i is None or j is None:
            return None
        loss = net.losses[i, j]
        value = f"{loss:.4g} nats" if np.isfinite(loss) else "not yet evaluated"
        return f"{kind} {pair.depth}, α = {net.alphas[j]:.3g}, β = {net.betas[i]:.3g} on its PCA plane: loss {value}"

    def tables(self) -> dict[str, Table]:
        pair = self.pair
        if pair is None or pair.plain is None or pair.residual is None:
            return {}
        tables: dict[str, Table] = {}
        path: Table = {"step": pair.plain.steps}
        for kind, net in (("plain", pair.plain), ("residual", pair.residual)):
            path[f"{kind}_alpha"], path[f"{kind}_beta"] = net.coords[:, 0], net.coords[:, 1]
            ga, gb = np.meshgrid(net.alphas, net.betas, indexing="xy")  # (R, R) each, row = beta
            tables[f"pca_landscape_{kind}"] = {"alpha": ga.ravel(), "beta": gb.ravel(), "loss": net.losses.ravel()}
        tables["pca_path"] = path
        if pair.plain.t.size and pair.residual.t.size:
            tables["interpolation"] = {"t": pair.plain.t, "plain_loss": pair.plain.line_losses,
                                       "residual_loss": pair.residual.line_losses}  # fmt: skip
        return tables
