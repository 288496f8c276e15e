"""The saddle tab's "A real network" view: a small MLP's plateau, its gradient and its exact Hessian spectrum."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.ui.topic import Table
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.plots import GrowOnlyRange, HoverReadout, Styled, new_plot

if TYPE_CHECKING:
    from explorer.lab.saddle.plateau import PlateauFrame

HEADLINE = (
    "A student MLP learns a teacher's function from near-zero weights by gradient descent. The loss stalls "
    "where |∇L| is tiny, yet the smallest Hessian eigenvalue is below 0 all along: the plateau is a saddle of "
    "a real network, and training leaves it down a negative-curvature direction (Dauphin et al. 2014)."
)


class NetworkPage(QtWidgets.QWidget):
    """Loss, gradient norm, λ_min (with λ_max) and the negative share over training, and the spectrum now."""

    def __init__(self, styled: Styled) -> None:
        super().__init__()
        self.styled = styled
        self.frame: PlateauFrame | None = None
        self.view = pg.GraphicsLayoutWidget()
        self.loss_plot = new_plot(styled, "Loss: plateau, then escape", "step", "mean squared error",
                                  log_y=True, legend=None)  # fmt: skip
        self.grad_plot = new_plot(styled, "Gradient norm", "step", "‖∇L‖", log_y=True,
                                  legend=None)  # fmt: skip
        self.lambda_plot = new_plot(styled, "Smallest Hessian eigenvalue", "step", "λ_min",
                                    legend=None)  # fmt: skip
        self.share_plot = new_plot(styled, "Negative eigenvalues", "step", "fraction of all λ",
                                   legend=None)  # fmt: skip
        self.spectrum_plot = new_plot(styled, "Hessian eigenvalues now", "eigenvalue rank (ascending)", "λ",
                                      legend=None, downsample=False)  # fmt: skip
        self.view.addItem(self.loss_plot, row=0, col=0)
        self.view.addItem(self.grad_plot, row=0, col=1)
        self.view.addItem(self.spectrum_plot, row=0, col=2, rowspan=2)
        self.view.addItem(self.lambda_plot, row=1, col=0)
        self.view.addItem(self.share_plot, row=1, col=1)
        self.loss = styled.keyed(pg.PlotDataItem(), "gd", 2.0)
        self.grad = styled.keyed(pg.PlotDataItem(), "gd", 2.0)
        self.lambda_min = styled.keyed(pg.PlotDataItem(symbol="o", symbolSize=4), "gd", 2.0)
        self.share = styled.keyed(pg.PlotDataItem(stepMode=None), "gd", 2.0)
        self.spectrum = styled.keyed(pg.PlotDataItem(symbol="o", symbolSize=5), "gd", 1.0)
        for plot, item in ((self.loss_plot, self.loss), (self.grad_plot, self.grad),
                           (self.lambda_plot, self.lambda_min), (self.share_plot, self.share),
                           (self.spectrum_plot, self.spectrum)):  # fmt: skip
            plot.addItem(item)
        self.zero_lines = [pg.InfiniteLine(pos=0, angle=0) for _ in range(2)]  # λ = 0: below it, a way down
        for plot, line in zip((self.lambda_plot, self.spectrum_plot), self.zero_lines, strict=True):
            plot.addItem(line)
        self.restyle()
        self.share_plot.setYRange(0, 1, padding=0.02)
        self.loss_range = GrowOnlyRange(self.loss_plot, log=True)
        self.grad_range = GrowOnlyRange(self.grad_plot, log=True)
        self._steps = 0
        self.status = selectable_label("")
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)

    def restyle(self) -> None:
        pen = pg.mkPen(self.styled.theme.muted(180), width=self.styled.theme.pen_scale)
        pen.setStyle(QtCore.Qt.PenStyle.DashLine)
        for line in self.zero_lines:
            line.setPen(pen)

    def readouts(self, hover: QtWidgets.QLabel) -> list[HoverReadout]:
        return [
            HoverReadout(self.loss_plot, lambda x, y: self._at_step(x), hover),
            HoverReadout(self.grad_plot, lambda x, y: self._at_step(x), hover),
            HoverReadout(self.lambda_plot, lambda x, y: self._at_curvature(x), hover),
            HoverReadout(self.share_plot, lambda x, y: self._at_curvature(x), hover),
            HoverReadout(self.spectrum_plot, lambda x, y: self._eigenvalue(x), hover),
        ]

    def clear(self) -> None:
        self.frame = None
        for item in (self.loss, self.grad, self.lambda_min, self.share, self.spectrum):
            item.setData([], [])
        self.loss_range.reset()
        self.grad_range.reset()
        self._steps = 0

    def show(self, frame: PlateauFrame) -> None:
        if self.frame is None or frame.step < self.frame.step:  # a new run: its own ranges
            self.loss_range.reset()
            self.grad_range.reset()
        self.frame = frame
        if self._steps != frame.total_steps:  # fixed x axes: no re-layout of the tick text every frame
            self._steps = frame.total_steps
            for plot in (self.loss_plot, self.grad_plot, self.lambda_plot, self.share_plot):
                plot.setXRange(0, frame.total_steps, padding=0.02)
        losses, norms = np.maximum(frame.losses, 1e-300), np.maximum(frame.grad_norms, 1e-300)
        self.loss.setData(frame.steps, losses)
        self.grad.setData(frame.steps, norms)
        self.loss_range.include(losses)
        self.grad_range.include(norms)
        self.lambda_min.setData(frame.curvature_steps, frame.lambda_min)
        self.share.setData(frame.curvature_steps, frame.negative_fraction)
        self.spectrum.setData(np.arange(len(frame.spectrum), dtype=float), frame.spectrum)
        self.status.setText(self._summary(frame))

    @staticmethod
    def _summary(frame: PlateauFrame) -> str:
        if not len(frame.lambda_min):
            return ""
        lam_min, lam_max = frame.lambda_min[-1], frame.lambda_max[-1]
        where = "a saddle (λ_min < 0)" if frame.negative_fraction[-1] > 0 else "a minimum so far (every λ ≥ 0)"
        return (f"Step {frame.step}: loss {frame.loss:.4g}, ‖∇L‖ {frame.grad_norms[-1]:.3g}; Hessian of "
                f"{frame.n_params} weights: λ_min {lam_min:.3g}, λ_max {lam_max:.3g}, "
                f"{frame.negative_fraction[-1]:.0%} negative: {where}")  # fmt: skip

    # --- hover ----------------------------------------------------------------------------------
    def _at_step(self, x: float) -> str | None:
        frame = self.frame
        if frame is None or not len(frame.steps):
            return None
        i = int(np.argmin(np.abs(frame.steps - x)))
        return (f"step {int(frame.steps[i])}: loss L = mean (f(x) − y)² = {frame.losses[i]:.4g}, "
                f"‖∇L‖ = {frame.grad_norms[i]:.3g}")  # fmt: skip

    def _at_curvature(self, x: float) -> str | None:
        frame = self.frame
        if frame is None or not len(frame.curvature_steps):
            return None
        i = int(np.argmin(np.abs(frame.curvature_steps - x)))
        return (f"step {int(frame.curvature_steps[i])}: eigenvalues of ∇²L: λ_min = {frame.lambda_min[i]:.3g}, "
                f"λ_max = {frame.lambda_max[i]:.3g}, {frame.negative_fraction[i]:.1%} below 0")  # fmt: skip

    def _eigenvalue(self, x: float) -> str | None:
        frame = self.frame
        if frame is None or not len(frame.spectrum):
            return None
        i = round(x)
        if not 0 <= i < len(frame.spectrum):
            return None
        return (f"eigenvalue {i + 1} of {len(frame.spectrum)} (ascending) at step {frame.curvature_steps[-1]:.0f}: "
                f"λ = {frame.spectrum[i]:.4g}")  # fmt: skip

    # --- export ---------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        return {
            "network_figure": self.view.ci,
            "network_loss": self.loss_plot,
            "network_grad_norm": self.grad_plot,
            "network_lambda_min": self.lambda_plot,
            "network_negative_share": self.share_plot,
            "network_spectrum": self.spectrum_plot,
        }

    def tables(self) -> dict[str, Table]:
        frame = self.frame
        if frame is None:
            return {}
        return {
            "network_training": {"step": frame.steps, "loss": frame.losses, "grad_norm": frame.grad_norms},
            "network_curvature": {
                "step": frame.curvature_steps,
                "lambda_min": frame.lambda_min,
                "lambda_max": frame.lambda_max,
                "negative_fraction": frame.negative_fraction,
            },
            "network_spectrum": {"rank": np.arange(1, len(frame.spectrum) + 1), "eigenvalue": frame.spectrum},
        }
