"""Fine-tuning: a CNN pretrained on digits learns a new task from a few labelled images, six ways at once.

Three views, switched by the bar above the plots (or the "view" parameter): training (which layers
train, the accuracy curves and what each strategy costs), inside the network (per-layer weight change,
CKA with the pretrained layers, first-layer filters) and the k-sweep. The source network is pretrained
and the k-sweep run by one preparation job of the lab (pretraining only once; later starts load the network
from the cache), and the live experiment trains every chosen strategy on the same minibatches. Until the
pretrained network is there the experiment shows one waiting frame and holds, so Play pressed early starts
the real run when the weights arrive.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pyqtgraph as pg
from PyQt6 import QtWidgets

from explorer.lab.core.protocol import ExperimentFactory
from explorer.lab.finetune import finetune
from explorer.lab.finetune.finetune import FinetuneFrame, KSweep, Pretrained
from explorer.lab.finetune.params import (
    DISPLAY_KEYS,
    PARAMS,
    SOURCE_KEYS,
    VIEW_CHOICES,
    VIEW_LABELS,
    check_values,
    finetune_config,
    pretrain_config,
    sweep_relevant,
)
from explorer.lab.finetune.preparation import Prepared, Waiting, prepare, wait_for_source
from explorer.ui.params import ParamPanel
from explorer.ui.runner import JobRunner
from explorer.ui.tabs.finetune import describe
from explorer.ui.tabs.finetune.figures import accuracy_sources
from explorer.ui.tabs.finetune.pages import HEADLINES, InsidePage, SweepPage, TrainingPage
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.pins import PinSource
from explorer.ui.widgets.viewbar import ViewBar, beside_bar


@dataclass(frozen=True)
class _Preparing:
    """The preparation job that runs: the source network it makes, and whether a k-sweep follows."""

    source: finetune.PretrainConfig
    sweep: bool


@register
class FinetuneTab(TopicTab):
    minimum_height = 600  # two rows of plots; the page scrolls below this
    pinnable = True
    display_settings = frozenset({"view", *DISPLAY_KEYS})
    summary = (
        "A network pretrained on digits learns six new shapes from 5 images each. Press Space: which layers "
        "should it retrain? The bar above the plots switches to inside the network and the k-sweep."
    )

    specs = PARAMS

    @classmethod
    def check_values(cls, values: dict[str, Any], given: set[str]) -> None:
        check_values(values, given)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.pretrained: Pretrained | None = None
        self.frame: FinetuneFrame | None = None
        self.sweep: KSweep | None = None
        self._started = False
        self._preparing: _Preparing | None = None  # the preparation job of ours that runs, if one does
        self._swept = False
        self._ended = {"pretrain": "", "sweep": ""}  # how the last job of each kind ended, if not well
        self._source_gate = threading.Event()  # what the waiting experiments hold on (see wait_for_source)
        self.headline = selectable_label()
        self.source = selectable_label("The source network is pretrained when the tab first opens.")
        self.hover = selectable_label("Hover over a plot to read its numbers.")
        self.training = TrainingPage(self.styled, self.hover)
        self.inside = InsidePage(self.styled, self.hover)
        self.sweep_page = SweepPage(self.styled, self.hover)
        self.sweep_page.button.clicked.connect(self.run_sweep)
        self.stack = QtWidgets.QStackedWidget()
        for page in (self.training, self.inside, self.sweep_page):
            self.stack.addWidget(page)
        self.view_bar = ViewBar(VIEW_CHOICES, VIEW_LABELS, self.stack, self.headline, HEADLINES)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(beside_bar(self.view_bar, self.make_pin_buttons()))
        for widget, stretch in ((self.headline, 0), (self.source, 0), (self.stack, 1), (self.hover, 0)):
            layout.addWidget(widget, stretch)
        self.view_bar.show_view("training")
        self._stale: set[QtWidgets.QWidget] = set()
        self.stack.currentChanged.connect(lambda index: self._refresh(self.stack.widget(index)))

    def attach(self, panel: ParamPanel, jobs: JobRunner) -> None:
        super().attach(panel, jobs)
        jobs.sig_failed.connect(lambda message: self._on_job_ended("failed"))
        jobs.sig_cancelled.connect(lambda: self._on_job_ended("cancelled"))
        jobs.sig_busy.connect(self._on_busy)
        self.view_bar.attach(panel)

    # --- parameters -> lab ----------------------------------------------------------------------
    def _config(self, values: dict[str, Any], quiet: bool = False) -> finetune.FinetuneConfig | None:
        """The config for a job started outside :meth:`experiment` (the k-sweep) or a status line: a
        refusal goes to the banner (or nowhere, ``quiet``) and gives None."""
        try:
            return finetune_config(values, self.device)
        except ValueError as exc:
            if not quiet:
                self.sig_message.emit(str(exc))
            return None

    def _ready_for_values(self) -> bool:
        return (
            self.pretrained is not None
            and self.panel is not None
            and (self.pretrained.config == pretrain_config(self.values()))
        )

    def _has(self, source: finetune.PretrainConfig) -> bool:
        return self.pretrained is not None and self.pretrained.config == source

    def _ready(self, cfg: finetune.FinetuneConfig) -> Pretrained | None:
        return self.pretrained if self._has(cfg.pretrain) else None

    def _phase(self) -> str | None:
        """What our running preparation job does now: "pretrain", "sweep", or None (nothing of ours)."""
        job = self._preparing
        if job is None:
            return None
        if not self._has(job.source):
            return "pretrain"
        return "sweep" if job.sweep else None

    def experiment(self, values: dict[str, Any]) -> ExperimentFactory | None:
        cfg = finetune_config(values, self.device)
        pretrained = self._ready(cfg)
        if pretrained is not None:
            return lambda: finetune.run(cfg, pretrained)
        if self._started and self.jobs is not None and self.jobs.synchronous:
            return None  # headless and the pretraining failed: the banner says why
        if self._started and self._phase() != "pretrain":
            self._prepare(sweep=False)
        gate = self._source_gate
        return lambda: wait_for_source(gate)

    def on_param_changed(self, key: str, value: Any) -> bool:
        assert self.panel is not None
        if key == "view":
            self.view_bar.show_view(value)
            return False
        if key == "blocks" and self.panel.value("k") > value + 1:
            self.panel.set_value("k", value + 1, quiet=True)
        if key in DISPLAY_KEYS:
            if self.frame is not None:
                self._show_inside(self.frame)
            return False
        if key in SOURCE_KEYS and self._started:
            self._prepare(sweep=False)
        self._show_status()
        return True

    def start_jobs(self) -> None:
        self._started = True
        self._prepare(sweep=not self._swept)

    def run_sweep(self) -> None:
        """Start the k-sweep for the current settings (after the pretraining, if that is still to come)."""
        if self._config(self.values()) is not None:  # else the banner says why
            self._prepare(sweep=True)

    def _prepare(self, sweep: bool) -> None:
        """Start the one job that makes what the current settings lack: the source network, the k-sweep."""
        if self.jobs is None:
            return
        values = self.values()
        source = pretrain_config(values)
        running = self._preparing
        if running is not None and self._phase() == "pretrain":
            if running.source == source and (running.sweep or not sweep):
                return  # already on its way
            sweep = sweep or running.sweep  # a k-sweep asked for still follows the (new) source network
        cfg = self._config(values) if sweep else None
        if cfg is None and self._has(source):
            return  # nothing is missing
        self._preparing = _Preparing(source, cfg is not None)
        if not self._has(source):
            self._ended["pretrain"] = ""
        if cfg is not None:
            self._swept, self._ended["sweep"] = True, ""
            if self._has(source):
                self._clear_sweep()
        device, pretrained = self.device, self.pretrained
        label = "k-sweep: top-k for every k"
        if not self._has(source):
            label = "Pretraining the source network" + (", then the k-sweep" if cfg is not None else "")
        self._show_status()
        self.jobs.start(lambda: prepare(source, device, cfg, pretrained), self._on_prepared, label,
                        on_partial=self._on_partial)  # fmt: skip

    # --- job results ------------------------------------------------------------------------------
    def _on_partial(self, partial: Pretrained | KSweep) -> None:
        if isinstance(partial, Pretrained):
            self._on_pretrained(partial)
        else:
            self._on_sweep(partial)

    def _on_pretrained(self, pretrained: Pretrained) -> None:
        self.pretrained = pretrained
        if self._phase() == "sweep":
            self._clear_sweep()
        self._show_status()
        self.sig_reset.emit()  # the waiting frame gives way to the real run (still playing if it was)
        self._open_source_gate()  # only now: the replaced waiting experiment ends unheard

    def _on_sweep(self, sweep: KSweep) -> None:
        self.sweep = sweep
        self.sweep_page.show(sweep)
        self._show_status()

    def _on_prepared(self, prepared: Prepared) -> None:
        if prepared.pretrained is not self.pretrained:  # a headless run delivers no partial results
            self._on_pretrained(prepared.pretrained)
        self._preparing = None
        if prepared.sweep is not None and prepared.sweep is not self.sweep:
            self._on_sweep(prepared.sweep)
        self._show_status()

    def _clear_sweep(self) -> None:
        self.sweep = None
        self.sweep_page.clear()

    def _on_job_ended(self, how: str) -> None:
        what, self._preparing = self._phase(), None
        if what is None:
            return
        self._ended[what] = (
            f"Pretraining {how}: Reset starts it again." if what == "pretrain" else f"The k-sweep was {how}."
        )
        self._show_status()

    def _on_busy(self, busy: bool) -> None:
        if not busy:  # the job ended, whatever way: a source network still awaited will not come from it
            self._open_source_gate()

    def _open_source_gate(self) -> None:
        """End the experiments that wait for the source network (the next ones wait on a new gate)."""
        self._source_gate.set()
        self._source_gate = threading.Event()

    def _show_status(self) -> None:
        """The source network's line above the plots, and the k-sweep's line beside its button."""
        source = self._ended["pretrain"]
        phase = self._phase()
        if phase == "pretrain":
            source = "Pretraining the source network (only the first time: then it is loaded from the cache)…"
        elif self._ready_for_values():
            assert self.pretrained is not None
            note = f" — {self.pretrained.note}" if self.pretrained.note else ""
            source = self.pretrained.describe() + note
        sweep = "The k-sweep runs once the source network is pretrained."
        if phase == "sweep":
            sweep = "k-sweep running (progress and Cancel below)."
        elif self.sweep is not None and self.panel is not None:
            current = self._config(self.values(), quiet=True)
            if current is None or sweep_relevant(current) != sweep_relevant(self.sweep.config):
                sweep = "This k-sweep was run for earlier settings: run it again for the current ones."
            else:
                sweep = "k-sweep done for the current settings."
        if self._ended["sweep"]:
            sweep = self._ended["sweep"]
        self.source.setText(source)
        self.sweep_page.status.setText(sweep)

    # --- drawing ----------------------------------------------------------------------------------
    def show_frame(self, frame: FinetuneFrame | Waiting) -> None:
        if isinstance(frame, Waiting):
            self.training.diagram.plot.setTitle("Which layers learn: waiting for the pretrained source network…")
            return
        self.frame = frame
        self._stale = {self.training, self.inside}
        self._refresh(self.stack.currentWidget())

    def _refresh(self, page: QtWidgets.QWidget | None) -> None:
        """Bring ``page`` up to the latest frame: only the page on screen follows each frame, a hidden one
        catches up when it is shown or exported (drawing both would cost a quarter of a CPU core)."""
        if self.frame is None or page not in self._stale:
            return
        self._stale.discard(page)
        if page is self.training:
            self.training.show(self.frame, self.styled.theme)
        else:
            self._show_inside(self.frame)

    def _filter_state(self, frame: FinetuneFrame) -> finetune.StrategyState:
        chosen = frame.state(self.values()["filters_of"])
        return chosen if chosen is not None else frame.strategies[0]

    def _show_inside(self, frame: FinetuneFrame) -> None:
        self.inside.show(frame, self._filter_state(frame))

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.inside.filters.grid.setPen(pg.mkPen(theme.foreground, width=1))
        if self.frame is not None:
            self.training.diagram.show(self.frame)
        self.training.recolour(self.frame, theme)

    # --- export -----------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        for page in (self.training, self.inside):
            self._refresh(page)
        return {
            "training_figure": self.training.view.ci,
            "layers_diagram": self.training.diagram.plot,
            "accuracy": self.training.curves.row,
            "inside_figure": self.inside.view.ci,
            "per_layer": self.inside.layers.row,
            "filters": self.inside.filters.plot,
            "k_sweep": self.sweep_page.plots.row,
        }

    def pin_curves(self) -> list[PinSource]:
        """The accuracy curves (brought up to the latest frame first, if their page is hidden)."""
        if self.frame is None:
            return []
        self._refresh(self.training)
        return accuracy_sources(self.training.curves, self.frame)

    def tables(self) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        if self.frame is not None:
            tables.update(describe.frame_tables(self.frame))
            state = self._filter_state(self.frame)
            tables["filters"] = describe.filter_table(state.initial_filters, state.filters)
        if self.sweep is not None:
            tables["k_sweep"] = describe.sweep_table(self.sweep)
        if self.pretrained is not None:
            tables["pretraining"] = describe.pretraining_table(self.pretrained)
        return {**tables, **self.pin_tables()}
