"""VGG vs ResNet: a plain and a residual net with the same settings train side by side.

Top: each net's per-layer gradient norm over the last steps on one shared log colour scale, and a
depth sweep at initialization (a job with Cancel). Bottom: the current per-layer norms of both nets,
and their loss and accuracy. The lab is ``explorer.lab.vanishing.gradflow``, imported when a run starts (it
loads torch, which must wait until the window has painted).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.lab.core.protocol import ExperimentFactory
from explorer.lab.vanishing import params
from explorer.ui.runner import JobRunner
from explorer.ui.tabs.vanishing.heatmaps import NETS, ZERO_MARK, LayerHeatmaps, format_norm, layer_ticks
from explorer.ui.tabs.vanishing.readout import (
    LABELS,
    RATIOS,
    TITLES,
    hidden_state_names,
    norm_text,
    ratio_html,
    ratio_tip,
)
from explorer.ui.tabs.vanishing.sweep_panel import SweepPanel
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.fit import Cell, FlowGrid
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.pins import PinSource
from explorer.ui.widgets.plots import GrowOnlyRange, HoverReadout

if TYPE_CHECKING:
    from explorer.lab.vanishing.gradflow import GradFlowFrame, NetFlow
    from explorer.ui.params import ParamPanel

_SOLID = QtCore.Qt.PenStyle.SolidLine
_LOSS_FLOOR = 1e-8  # a float32 cross-entropy can round to exactly 0; a log axis cannot show that
_CNN_ONLY = "Used by the CNN only: choose model CNN (or the glyphs data set)"
_MLP_ONLY = "Used by the MLP only: choose model MLP (or a 2-D point set)"
_BAR_TICKS = {"input": "in", "output": "out"}  # centred under the first and last bar: short words fit


@register
class VanishingTab(TopicTab):
    minimum_height = 560  # two rows of plots; the page scrolls below this
    pinnable = True
    display_settings = frozenset({"gradient", "sweep_max_depth"})
    summary = (
        "Press Play: a plain and a residual net with the same settings train side by side. With sigmoid and "
        "no normalization the plain net's lower layers stay dark: their gradient has vanished."
    )

    specs = params.PARAMS

    @classmethod
    def check_values(cls, values: dict[str, Any], given: set[str]) -> None:
        params.check_values(values, given)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame: GradFlowFrame | None = None
        self._new_run = True
        self._bar_axes: tuple[Any, ...] = ()  # (levels, rows, symbol) the bar plot's axes are set for
        self._n_classes = 2
        styled = self.styled
        self.view = pg.GraphicsLayoutWidget()
        self.heatmaps = LayerHeatmaps(styled, {net: TITLES[net] for net in NETS})
        self.sweep = SweepPanel(styled)
        self.layers = LegendedPlot(styled, "Gradient norm per layer, now", "layer", "‖∂L/∂W‖", log_y=True,
                                   downsample=False)  # fmt: skip
        self.bars = {net: styled.keyed(pg.BarGraphItem(x=[0], height=[0], width=0.4), net) for net in NETS}
        for net, bars in self.bars.items():
            self.layers.add(bars, LABELS[net])
        self.layers.plot.vb.setMouseEnabled(x=False, y=False)
        self.layers.plot.showGrid(x=False, y=False)  # with a grid, pyqtgraph hides end labels ("out", "1")
        self.layers.plot.getAxis("bottom").setStyle(hideOverlappingLabels=24)
        self.loss = LegendedPlot(styled, "Training loss (minibatch)", "step", "loss (nats)", log_y=True)
        self.accuracy = LegendedPlot(styled, "Training accuracy (minibatch)", "step", "accuracy")
        self.loss_curves: dict[str, pg.PlotDataItem] = {}
        self.accuracy_curves: dict[str, pg.PlotDataItem] = {}
        for net in NETS:
            self.loss_curves[net] = self.loss.add(styled.keyed(pg.PlotDataItem(), net, 2.0, _SOLID), LABELS[net])
            self.accuracy_curves[net] = self.accuracy.add(styled.keyed(pg.PlotDataItem(), net, 2.0, _SOLID),
                                                          LABELS[net])  # fmt: skip
        # chance level (ln K nats, accuracy 1/K): an unlabelled line, named in the legend, where the plain
        # net's curve sits and a label would cover it
        self.chance_loss = pg.InfiniteLine(angle=0, movable=False)
        self.chance_accuracy = pg.InfiniteLine(angle=0, movable=False)
        self.chance_samples = {"loss": pg.PlotDataItem(), "accuracy": pg.PlotDataItem()}
        for key, panel, line, text in (("loss", self.loss, self.chance_loss, "chance ln K"),
                                       ("accuracy", self.accuracy, self.chance_accuracy, "chance 1/K")):  # fmt: skip
            panel.plot.addItem(line)
            panel.legend.addItem(self.chance_samples[key], text)
            panel.fit_legend()
        self.accuracy.plot.setYRange(0, 1.02, padding=0)
        self.loss_range = GrowOnlyRange(self.loss.plot, log=True)
        # the heatmaps over two columns and the sweep beside them, the bars and curves under them; where
        # three columns do not fit, two (the heatmaps alone on the first row), or one: nothing squeezes
        cells = (Cell(self.heatmaps, row_stretch=4, span=2), Cell(self.sweep, row_stretch=4),
                 *(Cell(panel, row_stretch=3) for panel in (self.layers, self.loss, self.accuracy)))  # fmt: skip
        self.flow = FlowGrid(self.view, self.view.ci, cells, (3, 2, 1))
        self._build_labels()
        self._restyle_fixed()

    def _build_labels(self) -> None:
        self.ratio_label = QtWidgets.QLabel("Press Play (Space) to train both nets.", wordWrap=True)
        self.ratio_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.hover = selectable_label("Hover a heatmap cell, a bar or a sweep point to read its value.", wrap=False)
        self.sweep_button = QtWidgets.QPushButton("Sweep depths again")
        self.sweep_button.setToolTip("Measure the gradient ratio at initialization, depth 2 up to the deepest net "
                                     "(progress and Cancel below the plots)")  # fmt: skip
        self.sweep_button.clicked.connect(self.start_sweep)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.hover, 1)
        row.addWidget(self.make_pin_buttons())
        row.addWidget(self.sweep_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.ratio_label)
        layout.addLayout(row)
        self.readouts = [
            *(HoverReadout(plot, lambda x, y, n=net: self._describe_cell(n, x, y), self.hover)
              for net, plot in self.heatmaps.plots.items()),
            HoverReadout(self.layers.plot, self._describe_bar, self.hover),
            HoverReadout(self.sweep.plot, self.sweep.describe, self.hover),
        ]  # fmt: skip

    def _restyle_fixed(self) -> None:
        pen = pg.mkPen(self.styled.theme.muted(180), width=self.styled.theme.pen_scale,
                       style=QtCore.Qt.PenStyle.DashLine)  # fmt: skip
        for item in (self.chance_loss, self.chance_accuracy, *self.chance_samples.values()):
            item.setPen(pen)

    def apply_theme(self, theme: Any) -> None:
        super().apply_theme(theme)
        self._restyle_fixed()
        self.sweep.restyle()
        if self.frame is not None:
            self._draw(self.frame)

    def attach(self, panel: ParamPanel, jobs: JobRunner) -> None:
        super().attach(panel, jobs)
        jobs.sig_cancelled.connect(self.sweep.mark_cancelled)
        self._sync_model()
        self.sweep.set_live_depth(panel.value("depth") if panel.value("model") == "mlp" else None)

    # --- parameters -> lab ------------------------------------------------------------------
    def experiment(self, values: dict[str, Any]) -> ExperimentFactory:
        from explorer.lab.vanishing import gradflow  # torch loads here, not at start-up

        cfg = params.experiment_config(values, self.device)  # a ValueError goes to the page's banner
        self._new_run = True
        return lambda: gradflow.run(cfg)

    def on_param_changed(self, key: str, value: Any) -> bool:
        assert self.panel is not None
        for other, new in params.coupled(key, value, self.panel.values()):
            self.panel.set_value(other, new, quiet=True)
        values = self.panel.values()
        if key in ("model", "dataset"):
            self._sync_model()
        if key in ("model", "dataset", "depth"):
            self.sweep.set_live_depth(values["depth"] if values["model"] == "mlp" else None)
        if key in params.SWEEP_KEYS and self.jobs is not None and self.sweep.started:
            self.start_sweep()
        if key == "gradient":
            self.heatmaps.reset_levels()
            if self.frame is not None:
                self._draw(self.frame)
            return False
        return key != "sweep_max_depth"

    def _sync_model(self) -> None:
        assert self.panel is not None
        cnn = self.panel.value("model") == "cnn"
        for key in params.MODEL_KEYS["mlp"]:
            self.panel.set_enabled(key, not cnn, _MLP_ONLY)
        for key in params.MODEL_KEYS["cnn"]:
            self.panel.set_enabled(key, cnn, _CNN_ONLY)

    def start_jobs(self) -> None:
        self.start_sweep()

    def start_sweep(self) -> None:
        """Gradient ratios of fresh MLPs from depth 2 to the deepest, for this activation, norm and init."""
        values = self.values()
        cfg = params.sweep_config(values, self.device)

        def job() -> Any:
            from explorer.lab.vanishing import gradflow

            return gradflow.depth_sweep(cfg)

        self.sweep.begin(values)
        assert self.jobs is not None
        self.jobs.start(job, self.sweep.show_result, "Depth sweep at initialization", on_partial=self.sweep.show)

    def caption(self) -> str:
        v = self.values()
        size = (f"CNN {v['blocks']} blocks × {v['channels']} ch" if v["model"] == "cnn"
                else f"MLP depth {v['depth']} × {v['width']}")  # fmt: skip
        text = (f"{self.title} — {size}, {v['activation']}, {params.NORM_LABELS[v['norm']]}, "
                f"{params.INIT_LABELS[v['init']]}, {v['dataset']}, {v['optimizer']} η={v['lr']:.3g}, "
                f"seed {v['seed']}")  # fmt: skip
        return text if self.shown_step is None else f"{text} — step {self.shown_step}"

    # --- drawing ------------------------------------------------------------------------------
    def show_frame(self, frame: GradFlowFrame) -> None:
        if self._new_run or (self.frame is not None and frame.step < self.frame.step):
            self._new_run = False
            self.heatmaps.reset_levels()
            self.loss_range.reset()
            self._n_classes = 10 if self.values()["dataset"] == "glyphs" else 2
            self.chance_loss.setPos(math.log10(math.log(self._n_classes)))
            self.chance_accuracy.setPos(1.0 / self._n_classes)
        self.frame = frame
        self._draw(frame)

    def _shown(self, flow: NetFlow) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """(heatmap, current norms, row names) of the gradient the view shows."""
        if self.values()["gradient"] == "weight":
            return flow.heatmap, flow.weight_grad_norms, flow.layer_names
        return flow.act_heatmap, flow.act_grad_norms, hidden_state_names(len(flow.act_grad_norms))

    def _draw(self, frame: GradFlowFrame) -> None:
        gradient = self.values()["gradient"]
        symbol = RATIOS[gradient][0]
        flows = {"plain": frame.plain, "residual": frame.residual}
        shown = {net: self._shown(flow) for net, flow in flows.items()}
        y_label = "layer" if gradient == "weight" else "hidden state h<sub>l</sub>"
        self.heatmaps.set_label(f"log₁₀ {symbol}")
        self.heatmaps.show({net: s[0] for net, s in shown.items()}, frame.plain.heatmap_steps,
                           {net: s[2] for net, s in shown.items()}, y_label, self.values()["window"])  # fmt: skip
        self._draw_bars(shown, symbol, y_label)
        for net, flow in flows.items():
            self.loss_curves[net].setData(flow.steps, np.maximum(flow.losses, _LOSS_FLOOR))
            self.accuracy_curves[net].setData(flow.steps, flow.accuracies)
        self.loss_range.include(*(np.maximum(flow.losses, _LOSS_FLOOR) for flow in flows.values()),
                                np.array([math.log(self._n_classes)]))  # fmt: skip
        ratios = {net: flow.grad_ratio if gradient == "weight" else flow.act_grad_ratio for net, flow in flows.items()}
        colours = {net: self.styled.theme.color(net) for net in NETS}
        self.ratio_label.setText(ratio_html(gradient, frame.step, ratios, colours))
        self.ratio_label.setToolTip(ratio_tip(gradient))

    def _draw_bars(self, shown: dict[str, tuple[np.ndarray, np.ndarray, tuple[str, ...]]], symbol: str,
                   x_label: str) -> None:  # fmt: skip
        low, high = self.heatmaps.levels or (-1.0, 0.0)
        low -= 1  # a decade of room under the smallest bar, so that it shows
        theme = self.styled.theme
        # past ~60 layers a bar is a pixel or two wide and its outline would be all one sees
        outline = pg.mkPen(theme.foreground, width=0.5) if len(shown["plain"][1]) <= 60 else pg.mkPen(None)
        for offset, net in zip((-0.2, 0.2), NETS, strict=True):
            norms = shown[net][1]
            logs = np.log10(np.maximum(norms, 1e-300))
            heights = np.where(logs > ZERO_MARK, np.maximum(logs - low, 0.0), 0.0)
            self.bars[net].setOpts(x=np.arange(len(norms)) + offset, height=heights, y0=low, width=0.4, pen=outline)
        names = shown["plain"][2]
        if self._bar_axes != (low, high, len(names), symbol):
            self._bar_axes = (low, high, len(names), symbol)
            plot = self.layers.plot
            plot.setYRange(low, high, padding=0)
            plot.setXRange(-0.7, len(names) - 0.3, padding=0)
            ticks = [(i, _BAR_TICKS.get(t, t.removeprefix("block "))) for i, t in layer_ticks(names)]
            plot.getAxis("bottom").setTicks([ticks, []])
            plot.setLabel("bottom", x_label)
            plot.setLabel("left", symbol)
            self.styled.restyle(self.styled.theme)

    # --- hover --------------------------------------------------------------------------------
    def _describe_cell(self, net: str, x: float, y: float) -> str | None:
        cell = self.heatmaps.describe(net, x, y)
        if cell is None:
            return None
        row, step, log_value = cell
        symbol = RATIOS[self.values()["gradient"]][0]
        exponent = "" if log_value < ZERO_MARK else f"  (log₁₀ = {log_value:.2f})"
        return f"{LABELS[net]}, {row}, step {step}:  {symbol} = {format_norm(log_value)}{exponent}"

    def _describe_bar(self, x: float, y: float) -> str | None:
        if self.frame is None:
            return None
        flows = (("plain", self.frame.plain), ("residual", self.frame.residual))
        shown = {net: self._shown(flow) for net, flow in flows}
        names = shown["plain"][2]
        i = round(x)
        if not 0 <= i < len(names):
            return None
        symbol = RATIOS[self.values()["gradient"]][0]
        values = ", ".join(f"{LABELS[net]} {norm_text(float(shown[net][1][i]))}" for net in NETS)
        return f"{names[i]} at step {self.frame.step}:  {symbol} = {values}"

    # --- export -------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        return {
            "figure": self.view.ci,
            "heatmaps": self.heatmaps,
            "layers": self.layers,
            "loss": self.loss,
            "accuracy": self.accuracy,
            "depth_sweep": self.sweep,
        }

    def pin_curves(self) -> list[PinSource]:
        """Loss and accuracy of both nets."""
        return [PinSource(panel.plot, curves[net], net, LABELS[net], what, panel.legend, 2.0)
                for what, panel, curves in (("loss", self.loss, self.loss_curves),
                                            ("accuracy", self.accuracy, self.accuracy_curves))
                for net in NETS]  # fmt: skip

    def tables(self) -> dict[str, Table]:
        tables: dict[str, Table] = {}
        if self.frame is not None:
            plain, residual = self.frame.plain, self.frame.residual
            tables["layers"] = {
                "layer": list(plain.layer_names),
                "plain_weight_grad_norm": plain.weight_grad_norms,
                "residual_weight_grad_norm": residual.weight_grad_norms,
            }
            tables["hidden_states"] = {
                "state": [f"h{i}" for i in range(len(plain.act_grad_norms))],
                "plain_act_grad_norm": plain.act_grad_norms,
                "residual_act_grad_norm": residual.act_grad_norms,
            }
            curves: Table = {"step": plain.steps}
            for net, flow in (("plain", plain), ("residual", residual)):
                curves.update({f"{net}_loss": flow.losses, f"{net}_accuracy": flow.accuracies,
                               f"{net}_grad_ratio": flow.grad_ratios})  # fmt: skip
            tables["curves"] = curves
            gradient = self.values()["gradient"]
            for net, flow in (("plain", plain), ("residual", residual)):
                heat, _, names = self._shown(flow)
                table: Table = {"step": flow.heatmap_steps}
                for name, row in zip(names, heat, strict=True):  # a norm of exactly zero: a blank cell
                    table[f"log10_{gradient}_grad {name}"] = np.where(row > ZERO_MARK, row, -np.inf)
                tables[f"heatmap_{net}"] = table
        if self.sweep.result is not None:
            tables["depth_sweep"] = self.sweep.table()
        return {**tables, **self.pin_tables()}
