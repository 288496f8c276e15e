"""Saddle points: optimizers racing across a 2D loss surface with its critical points marked."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab.core.protocol import ExperimentFactory
from explorer.lab.saddle import optim, params, saddle, surfaces
from explorer.ui.params import ParamPanel
from explorer.ui.runner import JobRunner
from explorer.ui.tabs.saddle.aliases import command_line_aliases
from explorer.ui.tabs.saddle.network_page import HEADLINE as NETWORK_HEADLINE
from explorer.ui.tabs.saddle.network_page import NetworkPage
from explorer.ui.tabs.saddle.surface_3d import SurfaceIn3D
from explorer.ui.theme import Theme
from explorer.ui.topic import Alias, Table, TopicTab, register
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.legended import StripLegend
from explorer.ui.widgets.pins import PinSource, sync_legend
from explorer.ui.widgets.plots import GrowOnlyRange, HeatmapPanel, HoverReadout, new_plot
from explorer.ui.widgets.table import ReadOnlyTable
from explorer.ui.widgets.viewbar import ViewBar, beside_bar

_MARKERS = {  # kind -> (symbol, fill, edge): readable on any colour map
    "minimum": ("o", "#ffffff", "#000000"),
    "maximum": ("t1", "#000000", "#ffffff"),
    "saddle": ("x", "#ff2d2d", "#ffffff"),
    "degenerate": ("d", "#ff9f1c", "#000000"),
}
_HEADLINES = {
    "surfaces": "Optimizers race across a 2-D loss surface with its critical points marked: near a saddle the "
    "gradient is small and first-order methods crawl, Newton is drawn in, saddle-free Newton escapes.",
    "network": NETWORK_HEADLINE,
}
_NO_FISHER = "Natural gradient needs a model's Fisher information: choose the two-weight network or logistic regression"


@register
class SaddleTab(TopicTab):
    summary = "Click the surface to choose where every optimizer starts; press Space to race them."
    pinnable = True
    display_settings = frozenset(
        {"view", "log_color", "resolution", *(p.key for p in params.PARAMS if p.key.startswith("plateau_"))}
    )

    specs = params.PARAMS

    @classmethod
    def aliases(cls) -> dict[str, Alias]:
        return command_line_aliases(cls.parameters())

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._table_names: list[str] = []  # the optimizers of the outcome table's rows
        self.started = False
        self._step_extent = 0
        self.surface_map: saddle.SurfaceMap | None = None
        self.frame: saddle.SaddleFrame | None = None
        styled = self.styled
        self.view = pg.GraphicsLayoutWidget()
        self.surface_plot = new_plot(styled, "Saddle x² − y²", "x", "y", legend=None, downsample=False)
        self.loss_plot = new_plot(styled, "Loss", "step", "f", legend=None)
        self.grad_plot = new_plot(styled, "Gradient norm: a plateau means a saddle nearby", "step", "|∇f|",
                                  log_y=True, legend=None)  # fmt: skip
        self.loss_range = GrowOnlyRange(self.loss_plot, log=False)
        self.grad_range = GrowOnlyRange(self.grad_plot, log=True)
        self.view.addItem(self.surface_plot, row=0, col=0, rowspan=2)
        self.view.addItem(self.loss_plot, row=0, col=1)
        self.view.addItem(self.grad_plot, row=1, col=1)
        # one legend strip under the plots (markers and optimizers): it never covers data
        self.legend = styled.styled_legend(StripLegend(colCount=7, frame=False))
        self.view.addItem(self.legend, row=2, col=0, colspan=2)
        self.view.ci.layout.setColumnStretchFactor(0, 3)
        self.view.ci.layout.setColumnStretchFactor(1, 2)
        self.heatmap = HeatmapPanel(styled, self.surface_plot)
        self.critical_items: dict[str, pg.ScatterPlotItem] = {}
        for kind, (symbol, fill, edge) in _MARKERS.items():
            item = pg.ScatterPlotItem(symbol=symbol, size=14, brush=pg.mkBrush(fill), pen=pg.mkPen(edge, width=1.5),
                                      hoverable=True, tip=self._tip, name=kind)  # fmt: skip
            item.setZValue(20)
            self.surface_plot.addItem(item)
            self.critical_items[kind] = item
            self.legend.addItem(item, kind)
        self.start_marker = pg.ScatterPlotItem(symbol="+", size=22, pen=pg.mkPen("#ffffff", width=2),
                                               brush=pg.mkBrush("#ffffff"))  # fmt: skip
        self.start_marker.setZValue(30)
        self.surface_plot.addItem(self.start_marker)
        self.paths: dict[str, pg.PlotDataItem] = {}
        self.heads: dict[str, pg.ScatterPlotItem] = {}
        self.loss_curves: dict[str, pg.PlotDataItem] = {}
        self.grad_curves: dict[str, pg.PlotDataItem] = {}
        for name in optim.NAMES:
            self.paths[name] = styled.keyed(pg.PlotDataItem(antialias=True, shadowPen=pg.mkPen("#000000", width=4)),
                                            name, 2.0)  # fmt: skip
            self.heads[name] = styled.keyed(pg.ScatterPlotItem(size=11, symbol="o"), name)
            self.loss_curves[name] = styled.keyed(pg.PlotDataItem(), name)
            self.grad_curves[name] = styled.keyed(pg.PlotDataItem(), name)
            self.paths[name].setZValue(10)
            self.heads[name].setZValue(11)
            self.surface_plot.addItem(self.paths[name])
            self.surface_plot.addItem(self.heads[name])
            self.loss_plot.addItem(self.loss_curves[name])
            self.grad_plot.addItem(self.grad_curves[name])
        self.surface_plot.vb.setMouseEnabled(x=False, y=False)  # clicks choose the start; no accidental panning
        self.view.scene().sigMouseClicked.connect(self._on_click)

        self.hover = selectable_label("Hover over the surface to read f; click to set the start point.", wrap=False)
        self.readout = HoverReadout(self.surface_plot, self._describe_point, self.hover)
        self.table = ReadOnlyTable(["Optimizer", "η", "What happened", "f now", "|∇f| now"], stretch=2)
        self.in_3d = SurfaceIn3D(self.view, styled, self.sig_message.emit)
        surfaces_page = QtWidgets.QWidget()
        page_layout = QtWidgets.QVBoxLayout(surfaces_page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(self.in_3d.stack, 3)
        page_layout.addWidget(self.in_3d.button, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        page_layout.addWidget(self.table)
        self.network_page = NetworkPage(styled)
        self.network_readouts = self.network_page.readouts(self.hover)
        self.pages = QtWidgets.QStackedWidget()  # one page per view, in the order of params.VIEWS
        self.pages.addWidget(surfaces_page)
        self.pages.addWidget(self.network_page)
        self.headline = selectable_label()
        self.view_bar = ViewBar(params.VIEWS, params.VIEW_LABELS, self.pages, self.headline, _HEADLINES)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(beside_bar(self.view_bar, self.make_pin_buttons()))
        layout.addWidget(self.headline)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.hover)
        self.view_bar.show_view("surfaces")

    def attach(self, panel: ParamPanel, jobs: JobRunner) -> None:
        super().attach(panel, jobs)
        self.view_bar.attach(panel)

    @property
    def network(self) -> bool:
        """The real-network view is chosen: its experiment runs, its plots export."""
        return self.panel is not None and self.values()["view"] == "network"

    # --- parameters -> lab ------------------------------------------------------------------
    def _surface(self) -> surfaces.Surface:
        return surfaces.get(self.values()["surface"])

    def experiment(self, values: dict[str, Any]) -> ExperimentFactory:
        if values["view"] == "network":
            network = params.plateau_config(values)  # a ValueError goes to the page's banner
            from explorer.lab.saddle import plateau  # torch loads here, when the view is first chosen

            self.network_page.clear()
            return lambda: plateau.run(network)
        cfg = params.experiment_config(values)
        return lambda: saddle.run(cfg)

    def on_param_changed(self, key: str, value: Any) -> bool:
        if key == "view":
            self.view_bar.show_view(value)
            return True  # the other view's experiment
        if key.startswith("plateau_"):
            return self.network
        if key == "surface":
            surface = surfaces.get(value)
            assert self.panel is not None
            self.panel.set_value("start_x", surface.default_start[0], quiet=True)
            self.panel.set_value("start_y", surface.default_start[1], quiet=True)
            for name in optim.NAMES:
                self.panel.set_value(f"{name}_lr", optim.suggested_lr(surface, name), quiet=True)
        if key in ("surface", "log_color", "resolution"):
            self._sync_natural_gradient()
            if self.started:
                self.start_jobs()
            return key == "surface"
        return True

    def _sync_natural_gradient(self) -> None:
        assert self.panel is not None
        is_model = self._surface().is_model
        self.panel.set_enabled("natural_gradient", is_model, "" if is_model else _NO_FISHER)
        self.panel.set_enabled("natural_gradient_lr", is_model, "" if is_model else _NO_FISHER)

    def start_jobs(self) -> None:
        self.started = True
        self._sync_natural_gradient()
        values = self.values()
        name, resolution, log_color = values["surface"], values["resolution"], values["log_color"]
        assert self.jobs is not None
        self.jobs.start(
            lambda: saddle.surface_map(name, resolution, log_color), self._on_surface_map, "Gridding the surface"
        )

    # --- drawing ------------------------------------------------------------------------------
    def _on_surface_map(self, surface_map: saddle.SurfaceMap) -> None:
        self.surface_map = surface_map
        self.in_3d.draw(surface_map, self.frame)
        surface = surfaces.get(surface_map.surface)
        self.surface_plot.setTitle(surface.title)
        self.surface_plot.setLabel("bottom", surface.axis_labels[0])
        self.surface_plot.setLabel("left", surface.axis_labels[1])
        self.heatmap.set_field(
            surface_map.xs, surface_map.ys, surface_map.shown, surface_map.shown_label, surface_map.values
        )
        self.heatmap.set_contours(surface_map.contour_points)
        for kind, item in self.critical_items.items():
            points = [c for c in surface_map.critical if c.kind == kind]
            item.setData([c.x for c in points], [c.y for c in points], data=[c.describe() for c in points])
        has_floor = surface.infimum is not None
        self.loss_plot.setLogMode(y=has_floor)
        self.loss_plot.setLabel("left", "f − inf f" if has_floor else "f")
        self.loss_plot.setTitle("Loss above its infimum" if has_floor else "Loss (unbounded below: window's range)")
        self.loss_range.reset(log=has_floor)
        self.grad_range.reset()
        if not has_floor:  # a run to −∞ would squash everything else: show the range of f over the window
            self.loss_range.include(np.array([np.nanmin(surface_map.values), np.nanmax(surface_map.values)]))
        self.styled.restyle(self.styled.theme)
        if self.frame is not None:
            self.show_frame(self.frame)

    def show_frame(self, frame: Any) -> None:
        if not isinstance(frame, saddle.SaddleFrame):  # the real network's
            self.network_page.show(frame)
            return
        self.frame = frame
        self._sync_legend(list(frame.paths))
        values = self.values()
        if self._step_extent != values["steps"]:  # fixed x axes: no re-layout of the axes every frame
            self._step_extent = values["steps"]
            for plot in (self.loss_plot, self.grad_plot):
                plot.setXRange(0, values["steps"], padding=0.02)
        surface = surfaces.get(values["surface"])
        self.start_marker.setData([values["start_x"]], [values["start_y"]])
        floor = surface.infimum
        losses, grads = [], []
        for name in optim.NAMES:
            if name not in frame.paths:
                for item in (self.paths[name], self.heads[name], self.loss_curves[name], self.grad_curves[name]):
                    item.setData([], [])
                continue
            path = frame.paths[name]
            steps = np.arange(len(path), dtype=float)
            self.paths[name].setData(path[:, 0], path[:, 1])
            self.heads[name].setData(path[-1:, 0], path[-1:, 1])
            loss = frame.values[name]
            shown = np.maximum(loss - floor, 1e-16) if floor is not None else loss
            self.loss_curves[name].setData(steps, shown)
            grad = np.maximum(frame.grad_norms[name], 1e-16)
            self.grad_curves[name].setData(steps, grad)
            losses.append(shown)
            grads.append(grad)
        if floor is not None:  # unbounded surfaces keep the window's range of f
            self.loss_range.include(*losses)
        self.grad_range.include(*grads)
        self._fill_table(frame, values)
        self.in_3d.draw(self.surface_map, frame, surface=False)

    def _sync_legend(self, names: list[str]) -> None:
        """The legend lists the optimizers that are running, in display order, and no others."""
        entries = [*((item, kind) for kind, item in self.critical_items.items()),
                   *((self.loss_curves[name], optim.LABELS[name]) for name in names)]  # fmt: skip
        if sync_legend(self.legend, entries):
            self.styled.restyle(self.styled.theme)

    def _fill_table(self, frame: saddle.SaddleFrame, values: dict[str, Any]) -> None:
        names = list(frame.paths)
        if [self.table.item(r, 0) and self.table.item(r, 0).text() for r in range(self.table.rowCount())] != [
            optim.LABELS[n] for n in names
        ]:
            self._build_table(names)
        for row, name in enumerate(names):
            outcome = frame.outcomes[name]
            self.table.set_row(row, [
                optim.LABELS[name],
                f"{values[f'{name}_lr']:.3g}",
                outcome.text,
                f"{frame.values[name][-1]:.4g}",
                f"{frame.grad_norms[name][-1]:.3g}",
            ])  # fmt: skip
            bad = outcome.kind in ("diverged", "stuck")
            self.table.item(row, 2).setForeground(QtGui.QBrush(QtGui.QColor("#d55e00" if bad else self._text_colour())))

    def _text_colour(self) -> str:
        return self.palette().color(QtGui.QPalette.ColorRole.Text).name()

    def _build_table(self, names: list[str]) -> None:
        self.table.clearContents()
        self.table.setRowCount(len(names))
        self._table_names = names
        for row, name in enumerate(names):
            self.table.set_row(row, [""] * 5)
            label = self.table.item(row, 0)
            label.setText(optim.LABELS[name])
            label.setToolTip(optim.UPDATE_RULES[name])
        self._swatch_table()
        self._fit_table()

    def _swatch_table(self) -> None:
        """Each row's mark is its optimizer's line in the current theme (restyled with the plots)."""
        for row, name in enumerate(self._table_names):
            self.table.item(row, 0).setData(QtCore.Qt.ItemDataRole.DecorationRole, self.styled.swatch(name))

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.network_page.restyle()
        self._swatch_table()

    def _fit_table(self) -> None:
        """Every row visible, unless that would take more than 30% of the tab from the plots."""
        self.table.fit_height(max(80, int(0.3 * self.height())))

    # --- interaction --------------------------------------------------------------------------
    def _tip(self, x: float, y: float, data: Any) -> str:
        return str(data)

    def _describe_point(self, x: float, y: float) -> str | None:
        if self.surface_map is None:
            return None
        surface = surfaces.get(self.surface_map.surface)
        for c in self.surface_map.critical:
            if np.hypot(c.x - x, c.y - y) < 0.015 * surface.extent:
                return c.describe()
        if self.heatmap.value_at(x, y) is None:  # off the drawn surface
            return None
        value = float(surface.value(np.float64(x), np.float64(y)))  # exact, not the nearest grid cell's
        a, b = surface.axis_labels
        return f"{a} = {x:.3f}, {b} = {y:.3f}:  f = {value:.4g}     {surface.formula}"

    def _on_click(self, event: Any) -> None:
        if event.button() != QtCore.Qt.MouseButton.LeftButton or self.panel is None:
            return
        if not self.surface_plot.vb.sceneBoundingRect().contains(event.scenePos()):
            return
        point = self.surface_plot.vb.mapSceneToView(event.scenePos())
        (x0, x1), (y0, y1) = self._surface().bounds
        if x0 <= point.x() <= x1 and y0 <= point.y() <= y1:
            self.panel.set_value("start_x", round(point.x(), 4), quiet=True)
            self.panel.set_value("start_y", round(point.y(), 4))

    # --- export -------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        """Each plot alone (axes labelled), and the whole figure with its legend, of the view shown."""
        if self.network:
            return self.network_page.plots()
        return {
            "figure": self.view.ci,
            "surface": self.surface_plot,
            "loss": self.loss_plot,
            "grad_norm": self.grad_plot,
        }

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_table()

    def pin_curves(self) -> list[PinSource]:
        """The surfaces view's paths, losses and gradient norms (the network view's run is another)."""
        if self.network or self.frame is None:
            return []
        return [PinSource(plot, items[name], name, optim.LABELS[name], what, self.legend, width)
                for what, plot, items, width in (("paths", self.surface_plot, self.paths, 2.0),
                                                 ("loss", self.loss_plot, self.loss_curves, 1.5),
                                                 ("grad_norm", self.grad_plot, self.grad_curves, 1.5))
                for name in self.frame.paths]  # fmt: skip

    def tables(self) -> dict[str, Table]:
        if self.network:
            return {**self.network_page.tables(), **self.pin_tables()}
        tables: dict[str, Table] = {}
        if self.frame is not None:
            frame = self.frame
            trajectory: Table = {"step": list(range(frame.step + 1))}
            for name, path in frame.paths.items():
                pad = frame.step + 1 - len(path)
                for column, data in (("x", path[:, 0]), ("y", path[:, 1]), ("f", frame.values[name]),
                                     ("grad_norm", frame.grad_norms[name])):  # fmt: skip
                    trajectory[f"{name}_{column}"] = np.concatenate([data, np.full(pad, np.nan)])
            tables["trajectories"] = trajectory
            tables["outcomes"] = {
                "optimizer": list(frame.paths),
                "lr": [self.values()[f"{n}_lr"] for n in frame.paths],
                "outcome": [frame.outcomes[n].text for n in frame.paths],
                "final_f": [frame.values[n][-1] for n in frame.paths],
                "final_grad_norm": [frame.grad_norms[n][-1] for n in frame.paths],
            }
        if self.surface_map is not None:
            crit = self.surface_map.critical
            tables["critical_points"] = {
                "x": [c.x for c in crit], "y": [c.y for c in crit], "f": [c.value for c in crit],
                "eigenvalue_1": [c.eigenvalues[0] for c in crit], "eigenvalue_2": [c.eigenvalues[1] for c in crit],
                "kind": [c.kind for c in crit],
            }  # fmt: skip
        return {**tables, **self.pin_tables()}
