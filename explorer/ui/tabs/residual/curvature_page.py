"""The residual tab's "Curvature & path" view: how sharply each net's loss bends, over training and at
the end, and where each net travelled.

Top: the top Hessian eigenvalue of every net over training, then for the shown depth the spectral density
and the per-block top eigenvalues. Bottom: each net's landscape on the PCA plane of its own path with
the path over it, and the loss from initialization to the trained weights.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PyQt6 import QtWidgets

from explorer.lab.residual.params import shown_depth
from explorer.ui.tabs.residual.curvature_panels import CurvaturePanels
from explorer.ui.tabs.residual.paths_3d import PathsIn3D
from explorer.ui.tabs.residual.trajectory_panels import TrajectoryPanels
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab
from explorer.ui.widgets.fit import Cell, FlowGrid
from explorer.ui.widgets.job_row import figure_with_job
from explorer.ui.widgets.plots import Styled

if TYPE_CHECKING:
    from explorer.lab.residual.curvature_pair import CurvaturePair
    from explorer.lab.residual.path_pair import PathPair, TrainedViews
    from explorer.lab.residual.residual import Checkpoint, ResidualFrame

HINT = "Press “Curvature & path of the current nets” for the spectra, the PCA planes and the line from θ₀."


class CurvaturePage(QtWidgets.QWidget):
    """The plots in one layout, and under them the button that analyses the nets of the frame on screen."""

    def __init__(self, styled: Styled) -> None:
        super().__init__()
        self.curvature = CurvaturePanels(styled)
        self.trajectory = TrajectoryPanels(styled)
        self.view = pg.GraphicsLayoutWidget()
        top, bottom = self.view.ci.addLayout(row=0, col=0), self.view.ci.addLayout(row=1, col=0)
        curvature = (Cell(self.curvature.sharpness, 2), Cell(self.curvature.density), Cell(self.curvature.blocks))
        paths = (*self.trajectory.panels.values(), self.trajectory.line_panel)
        paths = [Cell(item, stretch) for item, stretch in zip(paths, (4, 5, 4), strict=True)]  # residual: the bar
        # three plots a row where the width holds them, else two (or one): they never squeeze
        self.flows = (FlowGrid(self.view, top, curvature, (3, 2, 1)), FlowGrid(self.view, bottom, paths, (3, 2, 1)))
        bottom.layout.setColumnSpacing(1, 24)  # the colour bar's label and the next plot's axis label apart
        self.in_3d = PathsIn3D(self.view, lambda text: self.info.setText(text))
        self.button, self.info = figure_with_job(
            self, self.in_3d.stack, "Curvature && path of the current nets",
            "Hessian spectrum, block curvature, PCA planes of the training paths and the line from initialization, "
            "for the shown plain and residual nets as they are now", HINT, self.in_3d.button)  # fmt: skip
        self.button.setEnabled(False)

    def show_paths(self, pair: PathPair) -> None:
        """The PCA-plane landscapes and paths, in 2-D and (when shown) in 3D."""
        self.trajectory.show(pair)
        self.in_3d.show(pair)

    def restyle(self, theme: Theme) -> None:
        self.curvature.restyle(theme)
        self.trajectory.restyle(theme)

    def clear(self) -> None:
        """New nets: the analysis on screen belongs to nets that are gone."""
        self.curvature.clear()
        self.trajectory.clear()
        self.in_3d.show(None)
        self.info.setText(HINT)


class CurvatureViews:
    """Starts the analysis of the nets on screen as ``tab``'s job and draws what comes back.

    The analysis (``trained_views``) is one job: the tab's runner holds one at a time, so a landscape
    asked for meanwhile cancels it, and it cancels a landscape under way.
    """

    def __init__(self, page: CurvaturePage, tab: TopicTab) -> None:
        self.page, self.tab = page, tab
        self.source: Checkpoint | None = None  # the weights the analysis on screen (or in the making) is of
        page.button.clicked.connect(self._on_requested)
        self.frame: ResidualFrame | None = None

    def show_frame(self, frame: ResidualFrame, every: int) -> None:
        self.frame = frame
        self.page.curvature.show_frame(frame, every)
        self.page.button.setEnabled(frame.path.steps.size >= 2)  # with the checkpoint: three points

    def new_run(self) -> None:
        if self.source is not None and self.tab.jobs is not None:
            self.tab.jobs.cancel(quiet=True)
        self.source = None
        self.page.curvature.new_run()
        self.page.clear()

    def _on_requested(self) -> None:
        if self.frame is not None:
            self.start(self.frame)

    def start(self, frame: ResidualFrame) -> None:
        from explorer.lab.residual.path_pair import trained_views

        values = self.tab.values()
        checkpoint, path = frame.checkpoint, frame.path
        depth = shown_depth(checkpoint.depths, values["shown"])
        resolution, seed, device = int(values["pca_resolution"]), values["curvature_seed"], self.tab.device
        self.source = checkpoint
        self.page.info.setText(f"Analysing the {depth}-block nets at step {checkpoint.step}…")
        assert self.tab.jobs is not None
        self.tab.jobs.start(
            lambda: trained_views(checkpoint, path, depth, resolution, device, seed),
            self._on_done,
            f"Curvature & path of the {depth}-block nets",
            on_partial=self._on_partial,
        )

    def _current(self, step: int) -> bool:
        return self.source is not None and step == self.source.step  # else a new run began meanwhile

    def _on_partial(self, partial: CurvaturePair | PathPair) -> None:
        from explorer.lab.residual.curvature_pair import CurvaturePair  # loaded already: the job runs

        if not self._current(partial.step):
            return
        if isinstance(partial, CurvaturePair):
            self.page.curvature.show(partial)
        else:
            self.page.show_paths(partial)

    def _on_done(self, result: TrainedViews) -> None:
        if not self._current(result.curvature.step):
            return
        self.page.curvature.show(result.curvature)
        self.page.show_paths(result.path)
        c, p = result.curvature, result.path
        self.page.info.setText(
            f"{c.depth}-block nets at step {c.step}: top Hessian eigenvalue plain {c.plain.top:.4g}, residual "
            f"{c.residual.top:.4g} (whole training set, eval mode); PCA "
            f"planes explain {100 * p.plain.explained.sum():.0f}% / {100 * p.residual.explained.sum():.0f}% of "
            "each path's variance."
        )

    def tables(self) -> dict[str, Table]:
        tables = {} if self.frame is None else self.page.curvature.frame_tables(self.frame)
        return {**tables, **self.page.curvature.tables(), **self.page.trajectory.tables()}

    def plots(self) -> dict[str, pg.GraphicsItem]:
        self.page.view.scene().prepareForPaint()
        curvature, trajectory = self.page.curvature, self.page.trajectory
        return {
            "curvature_figure": self.page.view.ci,
            "top_eigenvalue": curvature.sharpness,
            "spectral_density": curvature.density,
            "block_curvature": curvature.blocks,
            "pca_landscape_plain": trajectory.panels["plain"],
            "pca_landscape_residual": trajectory.panels["residual"],
            "interpolation": trajectory.line_panel,
        }
