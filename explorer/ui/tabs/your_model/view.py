"""Your model: the network and data of the user's own Python file, trained live and seen three ways.

Training: loss and accuracy, every parameter tensor's gradient norm (rows named as the model names
them) and the first/last gradient ratio. Landscape: the loss around the current weights on the PCA
plane of the training path (path drawn) or on random filter-normalized directions, and the line from
the initialization. Curvature: the top Hessian eigenvalue over training, and at one step the top five,
the spectral density and each block's top eigenvalue. The lab loads the file in the experiment's
worker thread (it is the user's code, run as Python runs it); whatever is wrong with it is one line in
the banner. Landscape and spectrum are jobs on a snapshot of the weights, started from a button.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PyQt6 import QtWidgets

from explorer.lab.core.protocol import ExperimentFactory, Job, Progress
from explorer.lab.your_model import params
from explorer.ui.tabs.your_model.curvature_page import CurvaturePage
from explorer.ui.tabs.your_model.formatting import number
from explorer.ui.tabs.your_model.landscape_page import HINT as LANDSCAPE_HINT
from explorer.ui.tabs.your_model.landscape_page import LandscapePage
from explorer.ui.tabs.your_model.training_page import TrainingPage
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.label import hold_two_lines, selectable_label
from explorer.ui.widgets.plots import HoverReadout
from explorer.ui.widgets.viewbar import ViewBar

if TYPE_CHECKING:
    from explorer.lab.your_model.analysis import Line, Spectrum, Surface
    from explorer.lab.your_model.experiment import ModelSnapshot, YourModelFrame
    from explorer.ui.params import ParamPanel
    from explorer.ui.runner import JobRunner

#: what each view shows, over its plots
_HEADLINES = {
    "training": "Your model training live: loss and accuracy on its minibatches and on validation(), the gradient "
    "norm of every parameter tensor (named as the model names it), and the first/last gradient ratio.",
    "landscape": "The loss around the current weights, on the plane of the training path (drawn over it) or on "
    "random filter-normalized directions, and along the straight line from the initialization.",
    "curvature": "How sharply the loss bends: the top Hessian eigenvalue over training, and at the step on screen "
    "the five largest eigenvalues, the spectral density and each block's own top eigenvalue.",
}
#: parameters that choose how the landscape of the same weights is taken: they restart nothing
_ANALYSIS = ("directions", "resolution", "span", "landscape_seed")
_PLANES = {"pca": "the PCA plane of the path", "random": "a random filter-normalized plane"}


def landscape_and_line(snapshot: ModelSnapshot, directions: str, resolution: int, span: float,
                       seed: int) -> Job[tuple[Surface, Line]]:  # fmt: skip
    """The lab's two jobs as one: the plane (partial surfaces, coarse to fine), then the line from θ₀."""
    from explorer.lab.your_model import analysis

    grid = analysis.landscape(snapshot, directions, resolution, span, seed)
    while True:
        try:
            report = next(grid)
        except StopIteration as done:
            surface = done.value
            break
        yield Progress(0.9 * report.fraction, report.message, report.partial)
    yield Progress(0.9, "the line from the initialization", surface)
    line = yield from analysis.line_from_initialization(snapshot)
    return surface, line


def spectrum_job(snapshot: ModelSnapshot, seed: int) -> Job[Spectrum]:
    from explorer.lab.your_model import analysis

    return (yield from analysis.spectrum(snapshot, seed))


@register
class YourModelTab(TopicTab):
    minimum_height = 600  # two rows of plots; the page scrolls below this
    summary = (
        "Your own network and data: open a Python file with model() and data() from File > Open model… "
        "(until then, a shipped example), then press Play to train it."
    )

    specs = params.PARAMS

    @classmethod
    def check_files(cls, values: dict[str, Any], given: set[str]) -> None:
        params.check_files(values, given)  # a headless command line: a model file given is loaded and checked now

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame: YourModelFrame | None = None
        self.training = TrainingPage(self.styled)
        self.landscape = LandscapePage(self.styled)
        self.curvature = CurvaturePage(self.styled)
        self.landscape.button.clicked.connect(self._on_landscape_requested)
        self.curvature.button.clicked.connect(self._on_spectrum_requested)
        self.pages = QtWidgets.QStackedWidget()  # one page per view, in the order of params.VIEWS
        for page in (self.training, self.landscape, self.curvature):
            self.pages.addWidget(page)
        self.headline = QtWidgets.QLabel(wordWrap=True)
        titles = [label.replace("&", "&&") for label in params.VIEW_LABELS]  # a tab title's & marks a shortcut
        self.view_bar = ViewBar(params.VIEWS, titles, self.pages, self.headline, _HEADLINES)
        self.hover = selectable_label("Hover over a plot to read its numbers.")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.view_bar)
        layout.addWidget(self.headline)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.hover)
        self.view_bar.show_view("training")
        training, landscape, curvature = self.training, self.landscape, self.curvature
        self.readouts = [
            *(HoverReadout(plot, lambda x, y, w=what: training.describe(w, x, y), self.hover)
              for what, plot in (("loss", training.loss.plot), ("accuracy", training.accuracy.plot),
                                 ("ratio", training.ratio.plot), ("grads", training.grads))),
            HoverReadout(landscape.plane.plot, landscape.describe_plane, self.hover),
            HoverReadout(landscape.line.plot, landscape.describe_line, self.hover),
            *(HoverReadout(panel.plot, lambda x, y, w=what: curvature.describe(w, x, y), self.hover)
              for what, panel in (("sharpness", curvature.sharpness), ("top", curvature.top),
                                  ("density", curvature.density), ("blocks", curvature.blocks))),
        ]  # fmt: skip
        self._landscape_source: ModelSnapshot | None = None  # the weights the landscape shown (or coming) is of
        self._spectrum_source: ModelSnapshot | None = None
        self._running: str | None = None  # the analysis under way: "landscape", "spectrum" or None
        self._restyle_fixed()

    def attach(self, panel: ParamPanel, jobs: JobRunner) -> None:
        super().attach(panel, jobs)
        self.view_bar.attach(panel)
        jobs.sig_cancelled.connect(self._on_cancelled)
        jobs.sig_failed.connect(self._on_job_failed)

    # --- theme ---------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._restyle_fixed()

    def _restyle_fixed(self) -> None:
        theme = self.styled.theme
        for page in (self.training, self.landscape, self.curvature):
            page.restyle(theme)
        hold_two_lines(self.hover)

    # --- parameters -> lab ---------------------------------------------------------------------
    def experiment(self, values: dict[str, Any]) -> ExperimentFactory | None:
        cfg = params.experiment_config(values, self.device)  # a ValueError goes to the page's banner
        from explorer.lab.your_model import experiment  # torch loads here, not at start-up

        return lambda: experiment.run(cfg)

    def on_param_changed(self, key: str, value: Any) -> bool:
        """The view and the landscape's settings redraw or retake; anything else trains anew."""
        if key == "view":
            self.view_bar.show_view(value)
            return False
        if key in _ANALYSIS:
            if self._landscape_source is not None:
                self.start_landscape(self._landscape_source)
            return False
        return True

    def caption(self) -> str:
        v = self.values()
        name = self.frame.model_file if self.frame is not None else (Path(v["model_path"]).name or "first example")
        weights = f", weights {Path(v['weights']).name}" if v["weights"] else ""
        text = (f"{self.title} — {name}{weights}, {v['optimizer']} η={v['lr']:.3g}, batch {v['batch_size']}, "
                f"seed {v['seed']}")  # fmt: skip
        return text if self.shown_step is None else f"{text} — step {self.shown_step}"

    # --- drawing -------------------------------------------------------------------------------
    def show_frame(self, frame: YourModelFrame) -> None:
        if self.frame is None or frame.step < self.frame.step or (frame.step == 0 and frame is not self.frame):
            self._new_run()
        self.frame = frame
        values = self.values()
        self.training.show(frame)
        self.curvature.show_frame(frame, values["curvature_every"])
        self.landscape.button.setEnabled(True)
        self.curvature.button.setEnabled(True)
        # headless (synchronous jobs), the frame shown is the one exported: analyse it for the view exported
        if self.jobs is not None and self.jobs.synchronous:
            if values["view"] == "landscape" and self._landscape_source is not frame.snapshot:
                self.start_landscape(frame.snapshot)
            elif values["view"] == "curvature" and self._spectrum_source is not frame.snapshot:
                self.start_spectrum(frame.snapshot)

    def _new_run(self) -> None:
        """A reset: analyses on screen belong to weights that are gone."""
        if self._running is not None and self.jobs is not None:
            self.jobs.cancel(quiet=True)
        self._running = self._landscape_source = self._spectrum_source = None
        self.training.new_run()
        self.landscape.clear("Press “Landscape of the current weights”")
        self.landscape.info.setText(LANDSCAPE_HINT)
        self.curvature.new_run()

    # --- the analyses --------------------------------------------------------------------------
    def _on_landscape_requested(self) -> None:
        if self.frame is not None:
            self.start_landscape(self.frame.snapshot)

    def _on_spectrum_requested(self) -> None:
        if self.frame is not None:
            self.start_spectrum(self.frame.snapshot)

    def start_landscape(self, snapshot: ModelSnapshot) -> None:
        values = self.values()
        directions = values["directions"]
        if directions == "pca" and len(snapshot.path) < 3:
            self.landscape.info.setText(
                f"The PCA plane needs 3 snapshots of the path and step {snapshot.step} has {len(snapshot.path)}: "
                "train a few more steps (or choose the random plane), then press the button again."
            )
            return
        resolution, span, seed = int(values["resolution"]), values["span"], values["landscape_seed"]
        self._begin("landscape")
        self._landscape_source = snapshot
        self.landscape.clear(f"Computing step {snapshot.step}…")
        self.landscape.info.setText(f"Computing the loss around the weights of step {snapshot.step} on "
                                    f"{_PLANES[directions]} ({resolution}×{resolution})…")  # fmt: skip
        assert self.jobs is not None
        self.jobs.start(lambda: landscape_and_line(snapshot, directions, resolution, span, seed),
                        self._on_landscape, f"Landscape of step {snapshot.step}",
                        on_partial=self._on_surface)  # fmt: skip

    def start_spectrum(self, snapshot: ModelSnapshot) -> None:
        seed = self.values()["landscape_seed"]
        self._begin("spectrum")
        self._spectrum_source = snapshot
        self.curvature.clear()
        self.curvature.info.setText(f"Computing the Hessian spectrum at step {snapshot.step}…")
        assert self.jobs is not None
        self.jobs.start(lambda: spectrum_job(snapshot, seed), self._on_spectrum, f"Spectrum of step {snapshot.step}")

    def _begin(self, kind: str) -> None:
        """One job at a time: an analysis under way of the other kind is cancelled, and its page says so."""
        other = self._running
        if other is not None and other != kind and self.jobs is not None and self.jobs.busy:
            info = self.landscape.info if other == "landscape" else self.curvature.info
            info.setText(f"Stopped: the {kind} took its place (one analysis at a time). Press the button again.")
        self._running = kind

    def _on_surface(self, surface: Surface) -> None:
        source = self._landscape_source
        if source is None or surface.step != source.step:
            return  # a new run began meanwhile
        self.landscape.show_surface(surface, source.task.loss_name)
        self.landscape.info.setText(f"Loss around the weights of step {surface.step}: {surface.fraction:.0%} of the "
                                    "grid so far, coarse to fine…")  # fmt: skip

    def _on_landscape(self, result: tuple[Surface, Line]) -> None:
        surface, line = result
        source = self._landscape_source
        if source is None or surface.step != source.step:
            return
        self._running = None
        loss_name = source.task.loss_name
        self.landscape.show_surface(surface, loss_name)
        self.landscape.show_line(line, loss_name)
        r = len(surface.alphas)
        centre = surface.losses[r // 2, r // 2]
        plane = _PLANES[surface.directions]
        if surface.directions == "pca":
            plane += f" (d₁, d₂ explain {100 * surface.explained[0]:.0f}% and {100 * surface.explained[1]:.0f}%)"
        peak = int(line.losses.argmax())
        self.landscape.info.setText(
            f"Step {surface.step}, {r}×{r} grid on {plane}: loss at θ {number(float(centre))}. From θ₀ to θ the loss "
            f"goes from {number(float(line.losses[0]))} to {number(float(line.losses[-1]))}, highest "
            f"{number(float(line.losses[peak]))} at t = {line.t[peak]:.2f}."
        )

    def _on_spectrum(self, spectrum: Spectrum) -> None:
        source = self._spectrum_source
        if source is None or spectrum.step != source.step:
            return
        self._running = None
        self.curvature.show_spectrum(spectrum)
        tops = ", ".join(number(float(v)) for v in spectrum.top)
        text = f"Step {spectrum.step}: the largest Hessian eigenvalues are {tops}"
        if spectrum.blocks:
            b = int(spectrum.block_tops.argmax())
            text += f"; the sharpest block is “{spectrum.blocks[b]}”, {number(float(spectrum.block_tops[b]))}"
        self.curvature.info.setText(text + ". On the first examples of data(), in eval mode.")

    def _on_cancelled(self) -> None:
        if self._running == "landscape":
            self.landscape.info.setText("Cancelled: what was computed stays; press the button to take it again.")
        elif self._running == "spectrum":
            self.curvature.info.setText("Cancelled: press the button to take the spectrum again.")
        self._running = None

    def _on_job_failed(self, message: str) -> None:
        if self._running == "landscape":
            self.landscape.info.setText(f"The landscape failed: {message}")
        elif self._running == "spectrum":
            self.curvature.info.setText(f"The spectrum failed: {message}")
        self._running = None

    # --- export --------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        return {
            "training_figure": self.training.view.ci,
            **self.training.plots(),
            "landscape_figure": self.landscape.view.ci,
            **self.landscape.plots(),
            "curvature_figure": self.curvature.view.ci,
            **self.curvature.plots(),
        }

    def tables(self) -> dict[str, Table]:
        return {**self.training.tables(), **self.landscape.tables(), **self.curvature.tables()}
