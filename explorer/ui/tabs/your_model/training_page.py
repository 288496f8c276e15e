"""The "Your model" tab's training view: loss and accuracy (minibatch and validation()), the gradient norm
of every parameter tensor as a parameter × step heatmap, and the first/last gradient ratio over training.

Rows of the heatmap are the model's own parameter names (``features.0.weight``), input side at the
bottom; colour is log₁₀ ‖∂L/∂W‖ on levels that only grow, in whole decades. The ratio is the first
tensor's gradient norm over the last one's, as on the VGG vs ResNet tab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.ui.tabs.your_model.formatting import (
    LOSS_FLOOR,
    TRAIN,
    VALIDATION,
    ZERO_MARK,
    axis_end,
    grow_decades,
    loss_unit,
    nearest_index,
    number,
    ratio_words,
    thinned_ticks,
)
from explorer.ui.theme import Theme
from explorer.ui.topic import Table
from explorer.ui.widgets.fit import Cell, FlowGrid
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import GrowOnlyRange, HeatmapPanel, Styled, new_plot

if TYPE_CHECKING:
    from explorer.lab.your_model.experiment import YourModelFrame

_GRADS_TITLE = "Gradient norm of each parameter tensor"


class TrainingPage(QtWidgets.QWidget):
    """Loss, accuracy and ratio over training in one row, the gradient heatmap under them, a readout below."""

    def __init__(self, styled: Styled) -> None:
        super().__init__()
        self.styled = styled
        self.loss = LegendedPlot(styled, "Loss", "step", "loss", columns=2, log_y=True)
        self.accuracy = LegendedPlot(styled, "Accuracy", "step", "accuracy (fraction correct)", columns=2)
        self.loss_curves, self.accuracy_curves = {}, {}
        for key, name in ((TRAIN, "training minibatch"), (VALIDATION, "validation()")):
            options = {"symbol": "o", "symbolSize": 5} if key == VALIDATION else {}
            self.loss_curves[key] = self.loss.add(styled.keyed(pg.PlotDataItem(**options), key, 2.0), name)
            self.accuracy_curves[key] = self.accuracy.add(styled.keyed(pg.PlotDataItem(**options), key, 2.0), name)
        self.accuracy.plot.setYRange(0, 1.02, padding=0)
        self.no_accuracy = styled.styled_text(pg.TextItem(anchor=(0.5, 0.5)))
        self.accuracy.plot.addItem(self.no_accuracy)
        self.ratio = LegendedPlot(styled, "First / last gradient ratio", "step", "ratio of norms (×)",
                                  columns=1, log_y=True)  # fmt: skip
        self.ratio_curve = self.ratio.add(styled.keyed(pg.PlotDataItem(), TRAIN, 2.0), "first / last tensor")
        self.even = pg.InfiniteLine(pos=0.0, angle=0, movable=False)  # ratio 1 (log10 = 0): even gradients
        self.ratio.plot.addItem(self.even)
        self.grads = new_plot(styled, _GRADS_TITLE, "step", "parameter tensor", legend=None, downsample=False)
        self.grads.showGrid(x=False, y=False)  # grid lines over an image are noise
        self.heat = HeatmapPanel(styled, self.grads, "viridis")
        self.heat.colorbar.axis.setLabel("log₁₀ ‖∂L/∂W‖")
        styled.styled_axis(self.heat.colorbar.axis)
        self.loss_range = GrowOnlyRange(self.loss.plot, log=True)
        self.ratio_range = GrowOnlyRange(self.ratio.plot, log=True)
        self.view = pg.GraphicsLayoutWidget()
        cells = (Cell(self.loss, row_stretch=3), Cell(self.accuracy, row_stretch=3), Cell(self.ratio, row_stretch=3),
                 Cell(self.grads, row_stretch=4, span=3))  # fmt: skip
        self.flow = FlowGrid(self.view, self.view.ci, cells, (3, 2, 1))
        self.readout = selectable_label("Press Play (Space) to train the model.", rich=True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.readout)
        self.frame: YourModelFrame | None = None
        self._levels: tuple[float, float] | None = None
        self._axes: tuple[object, ...] = ()  # what the axes are set for: names, steps, loss name, log
        self._log = True
        self._x_end = 0.0
        self.restyle(styled.theme)

    def restyle(self, theme: Theme) -> None:
        pen = pg.mkPen(theme.muted(180), width=theme.pen_scale, style=QtCore.Qt.PenStyle.DashLine)
        self.even.setPen(pen)
        for panel in (self.loss, self.accuracy, self.ratio):
            panel.legend.update()
            panel.fit_legend()

    def new_run(self) -> None:
        """A reset: the levels and ranges of the last run do not bind the next."""
        self.frame = None
        self._levels = None
        self._axes = ()
        self._x_end = 0.0
        self.loss_range.reset()
        self.ratio_range.reset()
        self.heat.image.clear()

    # --- drawing ---------------------------------------------------------------------------------
    def show(self, frame: YourModelFrame) -> None:
        self.frame = frame
        self._set_axes(frame)
        end = axis_end(frame.step, frame.total_steps)
        if end != self._x_end:
            self._x_end = end
            for plot in (self.loss.plot, self.accuracy.plot, self.ratio.plot):  # room for the last step's label:
                plot.setXRange(0, end, padding=0.06)  # an axis with a grid drops a label that runs past its end
            self.grads.setXRange(0, end, padding=0.02)
            self.no_accuracy.setPos(end / 2, 0.5)
        floor = LOSS_FLOOR if self._log else -np.inf
        self.loss_curves[TRAIN].setData(frame.steps, np.maximum(frame.losses, floor))
        self.loss_curves[VALIDATION].setData(frame.val_steps, np.maximum(frame.val_losses, floor))
        self.loss_range.include(np.maximum(frame.losses, floor), np.maximum(frame.val_losses, floor))
        if frame.classification:
            self.accuracy_curves[TRAIN].setData(frame.steps, frame.accuracies)
            self.accuracy_curves[VALIDATION].setData(frame.val_steps, frame.val_accuracies)
        ratio = np.maximum(frame.first_last_ratio, 1e-300)
        self.ratio_curve.setData(frame.grad_steps, ratio)
        self.ratio_range.include(ratio, np.ones(1))
        self._show_grads(frame)
        self.readout.setText(self._summary(frame))

    def _set_axes(self, frame: YourModelFrame) -> None:
        losses = np.concatenate([frame.losses, frame.val_losses])
        finite = losses[np.isfinite(losses)]
        log = bool(finite.size == 0 or finite.min() > 0) and (self._log or not self._axes)  # a loss ≤ 0: linear
        key = (frame.parameter_names, frame.total_steps, frame.loss_name, frame.classification, log)
        if key == self._axes:
            return
        self._axes, self._log = key, log
        if self.loss.plot.getAxis("left").logMode != log:
            self.loss.plot.setLogMode(y=log)
            self.loss_range.reset(log=log)
        self.loss.plot.setLabel("left", loss_unit(frame.loss_name))
        self.loss.plot.setTitle(f"Loss of {frame.model_file}")
        names = frame.parameter_names
        self.grads.getAxis("left").setTicks([thinned_ticks(names), []])
        self.grads.setYRange(-0.5, len(names) - 0.5, padding=0)
        self.grads.setTitle(f"{_GRADS_TITLE} ({len(names)}, input side at the bottom)")
        self.no_accuracy.setText("" if frame.classification else "No accuracy: the targets\nare not class indices")
        for key_ in (TRAIN, VALIDATION):
            if not frame.classification:
                self.accuracy_curves[key_].setData([], [])
        self.ratio.rename(self.ratio_curve, f"{frame.ratio_pair[0]} / {frame.ratio_pair[1]}")
        self.styled.restyle(self.styled.theme)  # the new label and title texts in the theme's fonts

    def _show_grads(self, frame: YourModelFrame) -> None:
        norms = frame.grad_norms  # (G, L)
        if norms.size == 0:
            self.heat.image.clear()
            return
        with np.errstate(divide="ignore"):
            logs = np.log10(norms.T)  # (L, G): a row per tensor, a column per step
        shown = np.where(logs > ZERO_MARK, logs, np.nan).astype(np.float32)  # no gradient at all: blank
        levels = grow_decades(self._levels, shown)
        if levels is None:
            levels = (-1.0, 0.0)
        if levels != self._levels:
            self._levels = levels
            self.heat.colorbar.setLevels(levels)
        self.heat.image.setImage(shown, autoLevels=False, levels=levels)
        steps = frame.grad_steps
        width = float(steps[1] - steps[0]) if len(steps) > 1 else 1.0
        self.heat.image.setRect(QtCore.QRectF(steps[0] - width / 2, -0.5, width * len(steps), shown.shape[0]))

    def _summary(self, frame: YourModelFrame) -> str:
        names = frame.parameter_names
        text = (f"<b>{frame.model_file}</b>: {frame.n_params:,} trainable parameters in {len(names)} tensors, "
                f"{frame.loss_name}; step {frame.step} of {frame.total_steps}.")  # fmt: skip
        if frame.first_last_ratio.size:
            ratio = float(frame.first_last_ratio[-1])
            first, last = frame.ratio_pair
            text += (f" First/last gradient ratio ‖∂L/∂W‖ of <i>{first}</i> / <i>{last}</i> = "
                     f"<b>{number(ratio)}</b> ({ratio_words(ratio)}).")  # fmt: skip
        return text

    # --- hover -----------------------------------------------------------------------------------
    def describe(self, what: str, x: float, y: float) -> str | None:
        frame = self.frame
        if frame is None:
            return None
        if what == "grads":
            return self._describe_cell(frame, x, y)
        if what == "ratio":
            i = nearest_index(frame.grad_steps, x)
            if i is None:
                return None
            return (f"step {int(frame.grad_steps[i])}: ‖∂L/∂W‖ {frame.ratio_pair[0]} / {frame.ratio_pair[1]} = "
                    f"{number(float(frame.first_last_ratio[i]))}")  # fmt: skip
        values, val_values, unit = ((frame.losses, frame.val_losses, loss_unit(frame.loss_name)) if what == "loss"
                                    else (frame.accuracies, frame.val_accuracies, "accuracy"))  # fmt: skip
        i = nearest_index(frame.steps, x)
        if i is None:
            return None
        text = f"step {int(frame.steps[i])}: {unit} {number(float(values[i]))} (minibatch)"
        j = nearest_index(frame.val_steps, x)
        if j is not None:
            text += f"; validation() {number(float(val_values[j]))} at step {int(frame.val_steps[j])}"
        return text

    def _describe_cell(self, frame: YourModelFrame, x: float, y: float) -> str | None:
        row, col = round(y), nearest_index(frame.grad_steps, x)
        if col is None or not 0 <= row < len(frame.parameter_names):
            return None
        norm = float(frame.grad_norms[col, row])
        value = number(norm) if np.log10(max(norm, 1e-300)) > ZERO_MARK else "0 (no gradient reaches it)"
        return f"{frame.parameter_names[row]}, step {int(frame.grad_steps[col])}: ‖∂L/∂W‖ = {value}"

    # --- export ----------------------------------------------------------------------------------
    def tables(self) -> dict[str, Table]:
        frame = self.frame
        if frame is None:
            return {}
        curves: Table = {"step": frame.steps, "train_loss": frame.losses}
        if frame.classification:
            curves["train_accuracy"] = frame.accuracies
        tables: dict[str, Table] = {"training": curves}
        if frame.val_steps.size:
            validation: Table = {"step": frame.val_steps, "validation_loss": frame.val_losses}
            if frame.classification:
                validation["validation_accuracy"] = frame.val_accuracies
            tables["validation"] = validation
        norms: Table = {"step": frame.grad_steps}
        for i, name in enumerate(frame.parameter_names):  # the heatmap's rows, as columns named like them
            norms[name] = frame.grad_norms[:, i] if frame.grad_norms.size else np.zeros(0)
        tables["gradient_norms"] = norms
        tables["first_last_ratio"] = {"step": frame.grad_steps, "ratio": frame.first_last_ratio}
        return tables

    def plots(self) -> dict[str, pg.GraphicsItem]:
        return {"loss": self.loss, "accuracy": self.accuracy, "first_last_ratio": self.ratio,
                "gradient_norms": self.grads}  # fmt: skip
