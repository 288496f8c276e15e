"""Fine-tuning: a CNN pretrained on digits learns a new task from a few labelled images, six ways at once.

Three views, switched by the bar above the plots (or the "view" parameter): training (which layers
train, the accuracy curves and what each strategy costs), inside the network (per-layer weight change,
CKA with the pretrained layers, first-layer filters) and the k-sweep. The source network is pretrained
by a job (once; later starts load it from the cache), then the live experiment trains every chosen
strategy on the same minibatches; the k-sweep is a second job. Until the pretrained network is there
the experiment only waits, so Play pressed early starts the real run when the
weights arrive.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.lab.core.protocol import ExperimentFactory
from explorer.lab.finetune import finetune
from explorer.lab.finetune.finetune import FinetuneFrame, KSweep, Pretrained
from explorer.ui.params import Param, ParamPanel
from explorer.ui.runner import JobRunner
from explorer.ui.tabs.finetune import describe
from explorer.ui.tabs.finetune.pages import HEADLINES, InsidePage, SweepPage, TrainingPage
from explorer.ui.tabs.finetune.params import (
    DISPLAY_KEYS,
    SOURCE_KEYS,
    VIEW_CHOICES,
    VIEW_LABELS,
    check_values,
    finetune_config,
    parameters,
    pretrain_config,
    sweep_relevant,
)
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.viewbar import ViewBar


@dataclass(frozen=True)
class Waiting:
    """The frame shown while the source network is being pretrained."""

    step: int = 0


def _wait_for_pretraining() -> Iterator[Waiting]:
    while True:
        yield Waiting()
        time.sleep(0.1)  # the runner asks again when it plays; nothing to compute meanwhile


def _label(text: str = "") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


@register
class FinetuneTab(TopicTab):
    summary = (
        "A network pretrained on digits learns six new shapes from 5 images each. Press Space: which layers "
        "should it retrain? The bar above the plots switches to inside the network and the k-sweep."
    )

    @classmethod
    def parameters(cls) -> list[Param]:
        return parameters()

    @classmethod
    def check_values(cls, values: dict[str, Any], given: set[str]) -> None:
        check_values(values, given)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.pretrained: Pretrained | None = None
        self.frame: FinetuneFrame | None = None
        self.sweep: KSweep | None = None
        self._started = False
        self._job: str | None = None  # "pretrain" | "sweep" while one of ours runs
        self._sweep_after_pretraining = False
        self._swept = False
        self._ended = {"pretrain": "", "sweep": ""}  # how the last job of each kind ended, if not well
        self._pretraining: finetune.PretrainConfig | None = None  # what the running pretraining job makes
        self.headline = _label()
        self.source = _label("The source network is pretrained when the tab first opens.")
        self.hover = _label("Hover over a plot to read its numbers.")
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
        for widget, stretch in ((self.view_bar, 0), (self.headline, 0), (self.source, 0), (self.stack, 1),
                                (self.hover, 0)):  # fmt: skip
            layout.addWidget(widget, stretch)
        self.view_bar.show_view("training")

    def attach(self, panel: ParamPanel, jobs: JobRunner) -> None:
        super().attach(panel, jobs)
        jobs.sig_failed.connect(lambda message: self._on_job_ended("failed"))
        jobs.sig_cancelled.connect(lambda: self._on_job_ended("cancelled"))
        self.view_bar.attach(panel)

    # --- parameters -> lab ----------------------------------------------------------------------
    def _config(self, values: dict[str, Any], quiet: bool = False) -> finetune.FinetuneConfig | None:
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

    def _ready(self, cfg: finetune.FinetuneConfig) -> Pretrained | None:
        pretrained = self.pretrained
        return pretrained if pretrained is not None and pretrained.config == cfg.pretrain else None

    def experiment(self, values: dict[str, Any]) -> ExperimentFactory | None:
        cfg = self._config(values)
        if cfg is None:
            return None
        pretrained = self._ready(cfg)
        if pretrained is not None:
            return lambda: finetune.run(cfg, pretrained)
        if self._started and self.jobs is not None and self.jobs.synchronous:
            return None  # headless and the pretraining failed: the banner says why
        if self._started and self._job != "pretrain":
            self._start_pretraining()
        return _wait_for_pretraining

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
            self._start_pretraining()
        self._show_status()
        return True

    def start_jobs(self) -> None:
        self._started = True
        self._start_pretraining(then_sweep=not self._swept)

    def _start_pretraining(self, then_sweep: bool = False) -> None:
        assert self.jobs is not None
        cfg = pretrain_config(self.values())
        if self.pretrained is not None and self.pretrained.config == cfg:
            if then_sweep:
                self.run_sweep()
            return
        if self._job == "pretrain" and self._pretraining == cfg:  # already on its way
            self._sweep_after_pretraining = self._sweep_after_pretraining or then_sweep
            return
        self._job, self._ended["pretrain"], self._pretraining = "pretrain", "", cfg
        self._sweep_after_pretraining = self._sweep_after_pretraining or then_sweep
        device = self.device
        self._show_status()
        self.jobs.start(lambda: finetune.pretrain(cfg, device), self._on_pretrained, "Pretraining the source network")

    def run_sweep(self) -> None:
        """Start the k-sweep for the current settings (after the pretraining, if that is still to come)."""
        cfg = self._config(self.values())
        if cfg is None or self.jobs is None:
            return
        pretrained = self._ready(cfg)
        if pretrained is None:
            self._start_pretraining(then_sweep=True)
            return
        self._job, self._swept, self._ended["sweep"] = "sweep", True, ""
        self.sweep = None
        self.sweep_page.clear()
        self.jobs.start(lambda: finetune.k_sweep(cfg, pretrained), self._on_sweep, "k-sweep: top-k for every k",
                        on_partial=self._on_sweep)  # fmt: skip
        self._show_status()

    # --- job results ------------------------------------------------------------------------------
    def _on_pretrained(self, pretrained: Pretrained) -> None:
        self._job = None
        self.pretrained = pretrained
        self._show_status()
        self.sig_reset.emit()  # the waiting frame gives way to the real run (still playing if it was)
        if self._sweep_after_pretraining:
            self._sweep_after_pretraining = False
            self.run_sweep()

    def _on_sweep(self, sweep: KSweep) -> None:
        if self._job == "sweep" and not math.isnan(sweep.scratch_val_accuracy):
            self._job = None
        self.sweep = sweep
        self.sweep_page.show(sweep)
        self._show_status()

    def _on_job_ended(self, how: str) -> None:
        if self._job is None:
            return
        what, self._job = self._job, None
        self._sweep_after_pretraining = False
        self._ended[what] = (
            f"Pretraining {how}: Reset starts it again." if what == "pretrain" else f"The k-sweep was {how}."
        )
        self._show_status()

    def _show_status(self) -> None:
        """The source network's line above the plots, and the k-sweep's line beside its button."""
        source = self._ended["pretrain"]
        if self._job == "pretrain":
            source = "Pretraining the source network (only the first time: then it is loaded from the cache)…"
        elif self._ready_for_values():
            assert self.pretrained is not None
            note = f" — {self.pretrained.note}" if self.pretrained.note else ""
            source = self.pretrained.describe() + note
        sweep = "The k-sweep runs once the source network is pretrained."
        if self._job == "sweep":
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
        self.training.show(frame, self.styled.theme)
        self._show_inside(frame)

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
        return {
            "training_figure": self.training.view.ci,
            "layers_diagram": self.training.diagram.plot,
            "accuracy": self.training.curves.row,
            "inside_figure": self.inside.view.ci,
            "per_layer": self.inside.layers.row,
            "filters": self.inside.filters.plot,
            "k_sweep": self.sweep_page.plots.row,
        }

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
        return tables
