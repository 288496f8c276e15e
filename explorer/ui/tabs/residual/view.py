"""Residual networks: plain and residual nets of several depths trained side by side on a 2-D task.

Top: training loss of every net (He et al. 2016, Fig. 1: the deepest plain net trains worst), and the
size of each residual block's correction ||F(x)|| / ||x|| over training. Bottom: the decision
boundaries of the plain and residual net of one depth, and their loss landscapes on one random plane
(Li et al. 2018), taken of the nets as they are when training ends, or on request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PyQt6 import QtWidgets

from explorer.lab.core.protocol import ExperimentFactory
from explorer.lab.residual import params
from explorer.ui.tabs.residual.boundary_panels import BoundaryPanels
from explorer.ui.tabs.residual.curvature_page import CurvaturePage, CurvatureViews
from explorer.ui.tabs.residual.landscape_panels import LandscapePanels, SurfaceView
from explorer.ui.tabs.residual.training_panels import TrainingPanels
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.fit import Cell, FlowGrid
from explorer.ui.widgets.gl import refuse_3d
from explorer.ui.widgets.label import hold_two_lines, selectable_label
from explorer.ui.widgets.pins import PinSource
from explorer.ui.widgets.plots import HoverReadout
from explorer.ui.widgets.viewbar import ViewBar, beside_bar

if TYPE_CHECKING:
    from explorer.lab.residual.residual import Checkpoint, ResidualFrame
    from explorer.lab.residual.residual_landscape import LandscapePair
    from explorer.ui.params import ParamPanel
    from explorer.ui.runner import JobRunner

_LANDSCAPE_HINT = "At the end of training, or press “Landscape of the current nets”"
_NO_LANDSCAPE = "No landscape yet."
#: what each view shows, over its plots
_HEADLINES = {
    "training": "Training loss of every net, each residual block's correction ‖F(x)‖ / ‖x‖, and the shown depth's "
    "decision boundaries and loss landscapes.",
    "curvature": "How sharply each net's loss bends, over training and at the end, and where each net travelled: "
    "its landscape on the PCA plane of its own path, and the line from its initialization.",
}
#: parameters the curvature view reads when its analysis is asked for; they restart nothing
_ANALYSIS = ("pca_resolution", "curvature_seed")
#: parameters that only change what is drawn, or the landscape of the nets already trained
_DISPLAY = ("shown", "resolution", "span", "landscape_seed", "loss_cap", "auto_landscape")


@register
class ResidualTab(TopicTab):
    minimum_height = 620  # two rows of plots; the page scrolls below this
    pinnable = True
    display_settings = frozenset({"view", *_DISPLAY, *_ANALYSIS})
    summary = "Press Play: plain and residual nets of 8, 20 and 56 blocks train on the same batches."

    specs = params.PARAMS

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame: ResidualFrame | None = None
        self._source: Checkpoint | None = None  # the weights the landscape on screen (or in the making) is of
        self.training = TrainingPanels(self.styled)
        self.boundaries = BoundaryPanels(self.styled)
        self.landscapes = LandscapePanels(self.styled)
        self.landscapes.clear(_LANDSCAPE_HINT)
        self.view = pg.GraphicsLayoutWidget()
        # each row its own layout: a wide cell in one row does not widen a column of the other
        top, bottom = self.view.ci.addLayout(row=0, col=0), self.view.ci.addLayout(row=1, col=0)
        training = (Cell(self.training.loss_panel, 2), Cell(self.training.ratio_plot), Cell(self.training.ratio_now))
        # stretch measured to give the four maps about one size: a residual cell also holds the colour bar
        # it shares with its plain neighbour, and a boundary's axis and legend take more of its cell
        panels = (*self.boundaries.panels.values(), *self.landscapes.panels.values())
        maps = [Cell(item, stretch) for item, stretch in zip(panels, (4, 5, 3, 4), strict=True)]
        # a narrow window puts the maps two by two (boundaries above landscapes) rather than shrink them
        self.flows = (FlowGrid(self.view, top, training, (3, 2, 1)), FlowGrid(self.view, bottom, maps, (4, 2, 1)))
        self._build_widgets()
        self._restyle_fixed()

    def _build_widgets(self) -> None:
        self.landscape_button = QtWidgets.QPushButton("Landscape of the current nets")
        self.landscape_button.setToolTip("Loss of the shown plain and residual nets on a plane through their "
                                         "weights, as they are now (Li et al. 2018)")  # fmt: skip
        self.landscape_button.setEnabled(False)
        self.landscape_button.clicked.connect(self._on_landscape_requested)
        self.surface_button = QtWidgets.QPushButton("3D surface", checkable=True)
        self.landscape_info = QtWidgets.QLabel(_NO_LANDSCAPE, wordWrap=True)
        self.stack = QtWidgets.QStackedWidget()  # page 0: the plots; page 1: the 3D surfaces, once asked for
        self.stack.addWidget(self.view)
        self.surface: SurfaceView | None = None
        self.surface_button.setToolTip("Both landscapes as 3D surfaces (drag to turn)")
        self.surface_button.toggled.connect(self._on_surface_toggled)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(4, 0, 4, 0)
        row.addWidget(self.landscape_button)
        row.addWidget(self.surface_button)
        row.addWidget(self.landscape_info, 1)
        self.hover = selectable_label("Hover over a plot to read its numbers.")
        training = self.training
        self.readouts = [
            HoverReadout(training.loss_panel.plot, lambda x, y: self._describe("loss", x, y), self.hover),
            HoverReadout(training.ratio_plot, lambda x, y: self._describe("ratio_cell", x, y), self.hover),
            HoverReadout(training.ratio_now.plot, lambda x, y: self._describe("ratio_now", x, y), self.hover),
            *(HoverReadout(p.plot, lambda x, y: self._describe("boundary", x, y), self.hover)
              for p in self.boundaries.panels.values()),
            *(HoverReadout(p.plot, lambda x, y, k=k: self.landscapes.describe(k, x, y), self.hover)
              for k, p in self.landscapes.panels.items()),
        ]  # fmt: skip
        training_page = QtWidgets.QWidget()
        inner = QtWidgets.QVBoxLayout(training_page)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.stack, 1)
        inner.addLayout(row)
        self.curvature_page = CurvaturePage(self.styled)
        self.curvature_views = CurvatureViews(self.curvature_page, self)
        self.readouts += self._curvature_readouts()
        self.pages = QtWidgets.QStackedWidget()  # one page per view, in the order of params.VIEWS
        self.pages.addWidget(training_page)
        self.pages.addWidget(self.curvature_page)
        self.headline = QtWidgets.QLabel(wordWrap=True)
        titles = [label.replace("&", "&&") for label in params.VIEW_LABELS]  # a tab title's & marks a shortcut
        self.view_bar = ViewBar(params.VIEWS, titles, self.pages, self.headline, _HEADLINES)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(beside_bar(self.view_bar, self.make_pin_buttons()))
        layout.addWidget(self.headline)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.hover)
        self.view_bar.show_view("training")

    def _curvature_readouts(self) -> list[HoverReadout]:
        curvature, trajectory = self.curvature_page.curvature, self.curvature_page.trajectory
        return [
            HoverReadout(curvature.sharpness.plot, lambda x, y: self.frame and curvature.describe_sharpness(
                self.frame, x), self.hover),
            HoverReadout(curvature.blocks.plot, lambda x, y: curvature.describe_blocks(x), self.hover),
            *(HoverReadout(p.plot, lambda x, y, k=k: trajectory.describe(k, x, y), self.hover)
              for k, p in trajectory.panels.items()),
        ]  # fmt: skip

    def attach(self, panel: ParamPanel, jobs: JobRunner) -> None:
        super().attach(panel, jobs)
        self.view_bar.attach(panel)

    # --- theme ---------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._restyle_fixed()

    def _restyle_fixed(self) -> None:
        theme = self.styled.theme
        self.training.restyle(theme)
        self.boundaries.restyle(theme)
        self.landscapes.restyle(theme)
        self.curvature_page.restyle(theme)
        hold_two_lines(self.hover)

    # --- parameters -> lab ---------------------------------------------------------------------
    def experiment(self, values: dict[str, Any]) -> ExperimentFactory | None:
        cfg = params.experiment_config(values, self.device)  # a ValueError goes to the page's banner
        from explorer.lab.residual import residual  # torch loads here, not at start-up

        return lambda: residual.run(cfg)

    def on_param_changed(self, key: str, value: Any) -> bool:
        """Display choices redraw the frame on screen; landscape choices retake the landscape of the same nets."""
        if key == "view":
            self.view_bar.show_view(value)
            return False
        if key in _ANALYSIS:
            return False
        if key not in _DISPLAY:
            return True
        if key == "shown" and self.frame is not None:
            depth = self._depth(self.frame)
            self.training.show_depth(self.frame, depth)
            self.boundaries.show(self.frame, depth)
        if key == "loss_cap":
            self._recap(value)
        elif key != "auto_landscape" and self._source is not None:
            self._start_landscape(self._source)
        return False

    def _depth(self, frame: ResidualFrame) -> int:
        return params.shown_depth(frame.depths, self.values()["shown"])

    # --- landscape -----------------------------------------------------------------------------
    def _recap(self, cap: float) -> None:
        """A finished landscape is redrawn under the new cap; one under way is taken again with it."""
        pair = self.landscapes.pair
        if pair is not None and pair.complete and not (self.jobs is not None and self.jobs.busy):
            from explorer.lab.residual.residual_landscape import recapped

            self._on_landscape(recapped(pair, cap))
        elif self._source is not None:
            self._start_landscape(self._source)

    def _on_landscape_requested(self) -> None:
        if self.frame is not None:
            self._start_landscape(self.frame.checkpoint)

    def _start_landscape(self, checkpoint: Checkpoint) -> None:
        values = self.values()
        try:
            cfg = params.landscape_config(values)
        except ValueError as exc:
            self.sig_message.emit(str(exc))
            return
        from explorer.lab.residual.residual_landscape import landscape_pair

        depth = params.shown_depth(checkpoint.depths, values["shown"])
        device, cap = self.device, values["loss_cap"]
        self._source = checkpoint
        self.landscape_info.setText(f"Computing the landscape of the {depth}-block nets at step {checkpoint.step}…")
        assert self.jobs is not None
        self.jobs.start(
            lambda: landscape_pair(checkpoint, depth, cfg, device, cap),
            self._on_landscape,
            f"Landscape of the {depth}-block nets",
            on_partial=self._on_landscape,
        )

    def _on_landscape(self, pair: LandscapePair) -> None:
        if self._source is None or pair.step != self._source.step:
            return  # a new run began meanwhile
        self.landscapes.show(pair)
        r = len(pair.alphas)
        done = "" if pair.complete else f", {pair.fraction:.0%} evaluated so far"
        self.landscape_info.setText(
            f"Landscape of the {pair.depth}-block nets at step {pair.step} ({r}×{r} grid{done}); loss at θ: "
            f"plain {pair.center_losses[0]:.3g}, residual {pair.center_losses[1]:.3g} nats."
        )
        if self.surface is not None:
            self.surface.show_pair(pair)

    def _on_surface_toggled(self, on: bool) -> None:
        if on and not refuse_3d(self.surface_button, self.landscape_info.setText):
            return
        if on and self.surface is None:
            self.surface = SurfaceView()
            self.stack.addWidget(self.surface)
            if self.landscapes.pair is not None:
                self.surface.show_pair(self.landscapes.pair)
        self.stack.setCurrentIndex(1 if on else 0)

    # --- drawing -------------------------------------------------------------------------------
    def show_frame(self, frame: ResidualFrame) -> None:
        values = self.values()
        if self.frame is None or frame.step < self.frame.step or (frame.step == 0 and frame is not self.frame):
            self._new_run()
        self.frame = frame
        depth = self._depth(frame)
        self.training.show(frame, depth, values["steps"])
        self.boundaries.show(frame, depth)
        self.curvature_views.show_frame(frame, values["curvature_every"])
        self.landscape_button.setEnabled(True)
        # headless (synchronous jobs), the frame shown is the one exported: take its landscape
        last = frame.step >= values["steps"] or (self.jobs is not None and self.jobs.synchronous)
        if values["auto_landscape"] and last and self._source is not frame.checkpoint:
            self._start_landscape(frame.checkpoint)
        # headless, the curvature view is exported: analyse the nets it shows (the window waits for the button)
        headless = self.jobs is not None and self.jobs.synchronous
        if headless and values["view"] == "curvature" and self.curvature_views.source is not frame.checkpoint:
            self.curvature_views.start(frame)

    def _new_run(self) -> None:
        """A reset: the landscape on screen belongs to nets that are gone."""
        if self._source is not None and self.jobs is not None:
            self.jobs.cancel(quiet=True)
        self._source = None
        self.landscapes.clear(_LANDSCAPE_HINT)
        self.landscape_info.setText(_NO_LANDSCAPE)
        self.training.new_run()
        self.boundaries.new_run()
        self.curvature_views.new_run()

    # --- hover ---------------------------------------------------------------------------------
    def _describe(self, what: str, x: float, y: float) -> str | None:
        frame = self.frame
        if frame is None:
            return None
        if what == "loss":
            return self.training.describe_loss(frame, x)
        if what == "ratio_cell":
            return self.training.describe_ratio_cell(frame, self._depth(frame), x, y)
        if what == "ratio_now":
            return self.training.describe_ratio_now(frame, x)
        return self.boundaries.describe(frame, self._depth(frame), x, y)

    # --- export --------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        # A view applies a new range to its items only when it is about to paint; an SVG is written from
        # the items' transforms as they stand, so without this, data drawn since the last paint would sit
        # off its axes in the file.
        self.view.scene().prepareForPaint()
        return {
            "figure": self.view.ci,
            "training_loss": self.training.loss_panel,
            "ratio_heatmap": self.training.ratio_plot,
            "ratio_per_block": self.training.ratio_now,
            "boundary_plain": self.boundaries.panels["plain"],
            "boundary_residual": self.boundaries.panels["residual"],
            "landscape_plain": self.landscapes.panels["plain"],
            "landscape_residual": self.landscapes.panels["residual"],
            **self.curvature_views.plots(),
        }

    def pin_curves(self) -> list[PinSource]:
        return [] if self.frame is None else self.training.pin_sources(self.frame)

    def tables(self) -> dict[str, Table]:
        frame = self.frame
        if frame is None:
            return self.pin_tables()
        tables = {**self.training.tables(frame), **self.boundaries.tables(frame, self._depth(frame))}
        landscape = self.landscapes.table()
        if landscape is not None:
            tables["landscape"] = landscape
        return {**tables, **self.curvature_views.tables(), **self.pin_tables()}
