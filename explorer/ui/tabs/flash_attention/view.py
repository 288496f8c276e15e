"""FlashAttention: why attention's cost is memory traffic, measured, modelled and stepped through.

Two views, switched by the bar above the plots (or the "view" parameter). The sweep measures peak
memory, time and throughput of naive attention, a torch tiled version, the Triton kernel and PyTorch's
SDPA as N grows (a job: progress and Cancel below, points drawn as they arrive) beside the paper's IO
model. The step-through plays the online softmax on a small example through the page's Play / Step /
Reset; Previous / Next / the slider jump by restarting it at another step. Dao et al. 2022.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from explorer.lab.core.protocol import ExperimentFactory
from explorer.lab.flash_attention import attention, attention_steps, params
from explorer.ui.runner import JobRunner
from explorer.ui.tabs.flash_attention.step_page import StepView
from explorer.ui.tabs.flash_attention.sweep_page import SweepView
from explorer.ui.tabs.flash_attention.text import WARN
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.viewbar import ViewBar

if TYPE_CHECKING:
    from explorer.ui.params import ParamPanel

HEADLINES = {
    "sweep": "<b>Memory, not FLOPs.</b> Naive attention stores the N × N scores and probabilities: memory ∝ N², "
    "until it runs out. FlashAttention keeps one tile in on-chip SRAM with a running max and sum: memory ∝ N, and "
    "far less traffic through HBM.",
    "step": "<b>The online softmax.</b> Each query tile walks the key tiles once; when a tile raises a row's max m, "
    "ℓ and the output so far are rescaled by exp(m_old − m_new). The result is exactly softmax(QKᵀ/√d)V.",
}


@register
class FlashAttentionTab(TopicTab):
    frames_per_second = 2  # one tile every half second: slow enough to follow m and l
    minimum_height = 600  # two rows of plots; the page scrolls below this
    summary = (
        "The sweep measures memory and time as N grows (Measure again; Cancel below). View 2 walks the online "
        "softmax tile by tile: Next / Previous, or Space to play (slow it with Speed)."
    )

    specs = params.PARAMS

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        self._device = "cpu"
        self._measured_once = False
        super().__init__(parent)
        self.sweep: attention.SweepResult | None = None
        self.sweep_complete = False
        self.step_frame: attention_steps.StepThroughFrame | None = None
        self._jump_to: int | None = None  # where the next start of the step-through begins, once
        self._landed: int | None = None  # a jump whose first frame has not been drawn yet
        self.headline = selectable_label()
        self.hover = selectable_label("Hover over a plot to read its values and the formula behind them.", wrap=False)
        self.sweep_view = SweepView(self.styled, self.hover)
        self.step_view = StepView(self.styled, self.hover)
        self.sweep_view.sig_measure.connect(self.measure)
        self.step_view.sig_jump.connect(self._on_jump)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.sweep_view)
        self.stack.addWidget(self.step_view)
        self.view_bar = ViewBar(params.VIEWS, params.VIEW_TITLES, self.stack, self.headline, HEADLINES)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.view_bar)
        layout.addWidget(self.headline)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.hover)
        self.view_bar.show_view("sweep")

    @property
    def device(self) -> str:
        return self._device

    @device.setter
    def device(self, value: str) -> None:
        """The window finds CUDA after the tab opened (or the Device menu changes): an "auto" sweep follows."""
        changed, self._device = value != self._device, value
        if not (changed and self._measured_once and self.panel is not None and self.panel.value("device") == "auto"):
            return
        if self.isVisible():
            self.measure()
        else:  # timings taken while another tab trains would mislead: wait for the user
            self.sweep_view.show_note(
                f"The device is now {value.upper()}: press <b>Measure again</b> to measure there."
            )

    def attach(self, panel: ParamPanel, jobs: JobRunner) -> None:
        super().attach(panel, jobs)
        jobs.sig_cancelled.connect(self._on_cancelled)
        jobs.sig_failed.connect(self._on_failed)  # the banner says it too; the status must not say "Measuring"
        self.view_bar.attach(panel)
        self._draw_io()

    # --- parameters -> lab ------------------------------------------------------------------
    def experiment(self, values: dict[str, Any]) -> ExperimentFactory:
        cfg = params.step_config(values)
        start, self._jump_to = self._jump_to, None  # a jump is used once; Reset goes back to step 0
        return lambda: attention_steps.run(cfg, start or 0)

    def on_param_changed(self, key: str, value: Any) -> bool:
        if key == "view":
            self.view_bar.show_view(value)
            return False
        if key in params.SWEEP_KEYS or key in params.SHARED:
            self.sweep_view.show_note("Sweep settings changed: press <b>Measure again</b> to measure with them.")
        if key in params.SWEEP_KEYS or key == "sram_kib":
            self._draw_io()
        return key in params.STEP_KEYS or key in params.SHARED

    def start_jobs(self) -> None:
        self.measure()

    def measure(self) -> None:
        """Start the sweep as a job; refuse at once what cannot work (bf16 where Triton is interpreted)."""
        assert self.jobs is not None
        self._measured_once = True
        try:
            cfg = params.sweep_config(self.values(), self.device)
        except ValueError as exc:
            self._refuse(str(exc))
            return
        if cfg.dtype == "bfloat16" and cfg.device == "cpu" and "flash" in cfg.methods:
            self._refuse(
                "bfloat16 is refused on the CPU: there the Triton kernel runs under Triton's interpreter, which "
                "computes bf16 wrongly without an error. Choose float16 or float32, or a CUDA device."
            )
            return
        self.sig_message.emit("")
        self._draw_io()
        self.sweep_view.show_note(f"Measuring {len(cfg.n_values)} sizes × {len(cfg.methods)} methods…")
        self.jobs.start(
            lambda: attention.sweep(cfg),  # torch and the kernels load in the job's thread
            lambda result: self._on_sweep(result, True),
            "Measuring attention as N grows",
            on_partial=lambda result: self._on_sweep(result, False),
        )

    def _refuse(self, message: str) -> None:
        self.sig_message.emit(message)
        self.sweep_view.show_note(f"<span style='color:{WARN}'><b>Not measured:</b> {message}</span>")

    def _draw_io(self) -> None:
        """The IO model over the N the sweep would measure with the current settings."""
        values = self.values()
        kib, d = values["sram_kib"], values["d"]
        try:
            n_values = params.sweep_config(values, self.device).n_values
        except ValueError:  # no method chosen: the model still has something to say
            n_values = tuple(2**k for k in range(7, 13))

        def model(size_kib: float) -> attention.IOModel:
            return attention.io_model(n_values, d, max(1, int(size_kib * 1024 // 2)))  # fp16: 2 bytes an element

        self.sweep_view.show_io(model(kib), model(kib / 4), model(kib * 4), kib)

    def _on_jump(self, step: int) -> None:
        self._jump_to = self._landed = step
        self.sig_reset.emit()  # the page restarts the step-through there (playing on if it was)

    # --- drawing ------------------------------------------------------------------------------
    def show_frame(self, frame: attention_steps.StepThroughFrame) -> None:
        # Play or Step from step 0 (not a jump there: jumps load a run that starts where it lands)
        started = self.step_frame is not None and self.step_frame.step == 0 and frame.step > 0
        started = started and self._landed is None
        self._landed = None
        self.step_frame = frame
        self.step_view.show_frame(frame)
        headless = self.jobs is not None and self.jobs.synchronous
        if started and not headless and self.panel is not None and self.panel.value("view") != "step":
            self.panel.set_value("view", "step")  # show what moves

    def _on_sweep(self, result: attention.SweepResult, complete: bool) -> None:
        self.sweep, self.sweep_complete = result, complete
        self.sweep_view.show_result(result, complete)

    def _on_cancelled(self) -> None:
        done = len(self.sweep.measurements) if self.sweep is not None and not self.sweep_complete else 0
        kept = f" The plots keep the {done} points measured before." if done else ""
        self.sweep_view.show_note(f"<b>Cancelled.</b>{kept} Press <b>Measure again</b> to run the sweep.")

    def _on_failed(self, message: str) -> None:
        self.sweep_view.show_note(f"<span style='color:{WARN}'><b>The sweep stopped:</b> {message}</span>")

    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self.sweep_view.restyle()
        self.step_view.restyle()

    # --- export -------------------------------------------------------------------------------
    def caption(self) -> str:
        """What the visible view shows: the sweep as it was measured, or the example at its step."""
        if self.panel is None:
            return self.title
        values = self.values()
        if values["view"] == "step":
            f = self.step_frame
            at = f" — step {f.step} of {f.n_steps}" if f is not None else ""
            return (
                f"{self.title} — online softmax on N = {values['example_n']}, d = {values['example_d']}, tiles "
                f"{values['block_m']} × {values['block_n']}, causal = {values['causal']}, seed = {values['seed']}{at}"
            )
        text = f"{self.title} — IO model M = {values['sram_kib']} KiB"
        if self.sweep is not None:
            cfg = self.sweep.config
            text += (
                f"; sweep on {cfg.device.upper()}: {cfg.dtype}, d = {cfg.d}, B·H = {cfg.batch * cfg.heads}, "
                f"{cfg.mode}, causal = {cfg.causal}, seed = {cfg.seed}"
            )
        return text

    def plots(self) -> dict[str, pg.GraphicsItem]:
        """Each view's whole figure, and each plot alone (with its legend where it has one)."""
        sweep, step = self.sweep_view, self.step_view
        return {
            "sweep_figure": sweep.view.ci,
            "memory": sweep.memory,
            "io_model": sweep.io_plot,
            "time": sweep.time,
            "throughput": sweep.throughput,
            "step_figure": step.view.ci,
            "scores": step.scores_plot,
            "running_max": step.m_plot,
            "denominator": step.l_plot,
            "output": step.out_plot,
            "row_error": step.err_plot,
        }

    def tables(self) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        if self.sweep is not None:
            tables["sweep"] = _sweep_table(self.sweep)
        io = self.sweep_view.io
        if io is not None:
            tables["io_model"] = {
                "n": io.n, "d": [io.d] * len(io.n), "sram_elements": [io.sram_elements] * len(io.n),
                "hbm_accesses_standard": io.standard, "hbm_accesses_flash": io.flash, "outer_steps": io.outer_steps,
            }  # fmt: skip
        if self.step_frame is not None:
            tables["step_through"] = _step_table(self.step_frame)
        return tables


def _sweep_table(result: attention.SweepResult) -> Table:
    """One row per (method, N) of the sweep, measured or not: N, method, bytes, ms, TFLOP/s, error, OOM."""
    columns: dict[str, list[Any]] = {k: [] for k in (
        "n", "method", "peak_bytes", "ms", "tflops", "max_abs_err", "oom", "status",
    )}  # fmt: skip
    rows = []
    for m in result.measurements:
        status = "out of memory" if m.oom else f"failed: {m.error}" if m.error else m.note or "measured"
        rows.append((m.n, m.method, m.peak_bytes, m.ms, m.tflops, m.max_abs_err, m.oom, status))
    for p in result.skipped:
        rows.append((p.n, p.method, None, None, None, None, False, p.reason))
    order = {m: i for i, m in enumerate(attention.METHODS)}
    for row in sorted(rows, key=lambda r: (r[0], order[r[1]])):
        for key, value in zip(columns, row, strict=True):
            columns[key].append(np.nan if value is None else value)
    return columns


def _step_table(frame: attention_steps.StepThroughFrame) -> Table:
    """Per query row: the running statistics at this step, their final values, the output and its error."""
    n, d = frame.config.n, frame.config.d
    table: Table = {
        "row": list(range(n)), "step": [frame.step] * n, "m": frame.m, "l": frame.l, "final_m": frame.final_m,
        "final_l": frame.final_l, "row_done": list(frame.row_done), "max_abs_error": frame.row_error,
    }  # fmt: skip
    for c in range(d):
        table[f"o_{c}"] = frame.output[:, c]
        table[f"exact_{c}"] = frame.exact[:, c]
    return table
