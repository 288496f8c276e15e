"""The residual tab's training panels: loss curves of every net, and each residual block's ||F(x)|| / ||x||.

One colour per family (plain, residual), one line style and width per depth, the deepest boldest: the
degradation of He et al. (2016, Fig. 1) is the bold plain line staying high.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore

from explorer.ui.tabs.residual.cells import KINDS, bar_room, nearest, set_title
from explorer.ui.theme import Theme
from explorer.ui.topic import Table
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.pins import PinSource, sync_legend
from explorer.ui.widgets.plots import GrowOnlyRange, HeatmapPanel, Styled, new_plot

if TYPE_CHECKING:
    from explorer.lab.residual.residual import ResidualFrame

_Pen = QtCore.Qt.PenStyle
#: line of each depth slot, deepest first: one colour per family, depth by dash and width
DEPTH_PENS = ((_Pen.SolidLine, 2.4), (_Pen.DashLine, 1.8), (_Pen.DotLine, 1.8))
_FLOOR = 1e-12  # log-axis floor: a loss or ratio of exactly zero still draws


def slots(depths: tuple[int, ...]) -> list[int]:
    """The depths, deepest first: slot 0 gets the boldest line."""
    return sorted(depths, reverse=True)


def _sync_legend(panel: LegendedPlot, items: list[pg.PlotDataItem], names: list[str]) -> None:
    """The legend lists the curves in use, in slot order, and no others (but the pinned runs')."""
    if sync_legend(panel.legend, zip(items, names, strict=True)):
        panel.fit_legend()


def even_columns(steps: np.ndarray, values: np.ndarray, most: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Columns measured at uneven steps, on an even grid of steps for an image: (grid steps, (rows, n)).

    A frame's steps follow the window's time budget, so the ratios are taken every 5 steps at first and
    then every step, say; an image's columns are all one width. Each grid column shows the measurement
    nearest it (as the hover reads it), the grid as fine as the closest two (at most ``most`` columns).
    """
    span = float(steps[-1] - steps[0])
    spacing = max(float(np.diff(steps).min()), span / most, 1e-12)
    grid = steps[0] + spacing * np.arange(round(span / spacing) + 1)
    right = np.clip(np.searchsorted(steps, grid), 1, len(steps) - 1)
    left = right - 1
    nearest = np.where(grid - steps[left] <= steps[right] - grid, left, right)
    return grid, values[:, nearest]


class TrainingPanels:
    """Loss curves (bold: moving average; faint: each minibatch), the ratio heatmap and ratios per block."""

    def __init__(self, styled: Styled) -> None:
        self.styled = styled
        self.loss_panel = LegendedPlot(styled, "Training loss", "step", "training loss (nats)", columns=3,
                                       log_y=True)  # fmt: skip
        self.loss_curves = {kind: [pg.PlotDataItem() for _ in DEPTH_PENS] for kind in KINDS}
        self.raw_curves = {kind: [pg.PlotDataItem() for _ in DEPTH_PENS] for kind in KINDS}
        for kind, curves in self.loss_curves.items():
            for item, raw, (style, width) in zip(curves, self.raw_curves[kind], DEPTH_PENS, strict=True):
                styled.keyed(item, kind, width, style)
                raw.setZValue(-1)  # behind the averages
                self.loss_panel.add(raw)
                self.loss_panel.add(item)
        self.raw_sample = pg.PlotDataItem()  # the legend's key to the faint lines
        self.loss_range = GrowOnlyRange(self.loss_panel.plot, log=True)
        self.ratio_now = LegendedPlot(styled, "‖F(x)‖ / ‖x‖ per block", "residual block (input → output)",
                                      "‖F(x)‖ / ‖x‖", columns=3, log_y=True, downsample=False)  # fmt: skip
        self.ratio_curves = [styled.keyed(pg.PlotDataItem(), "residual", w, s) for s, w in DEPTH_PENS]
        for item in self.ratio_curves:
            self.ratio_now.add(item)
        self.ratio_now_range = GrowOnlyRange(self.ratio_now.plot, log=True)
        self.ratio_plot = new_plot(styled, "Residual: ‖F(x)‖ / ‖x‖", "step", "residual block", legend=None,
                                   downsample=False)  # fmt: skip
        self.ratio_map = HeatmapPanel(styled, self.ratio_plot, "plasma")
        self._levels = (np.inf, -np.inf)  # the heatmap's colour scale grows, never shrinks, during a run
        self._step_extent = 0

    def restyle(self, theme: Theme) -> None:
        """What the theme's keyed pens cannot say: translucent raw curves, the bar's tick room."""
        for kind, curves in self.raw_curves.items():
            faint = theme.color(kind)
            faint.setAlpha(70)
            for raw in curves:
                raw.setPen(pg.mkPen(faint, width=theme.pen_scale))
        self.raw_sample.setPen(pg.mkPen(theme.muted(110), width=theme.pen_scale))
        bar_room(self.ratio_map, theme, "-0.5")
        for panel in (self.loss_panel, self.ratio_now):
            panel.legend.update()
            panel.fit_legend()

    def new_run(self) -> None:
        self.loss_range.reset()
        self.ratio_now_range.reset()
        self._levels = (np.inf, -np.inf)

    def show(self, frame: ResidualFrame, depth: int, steps: int) -> None:
        """Curves of every net; the heatmap of the residual net of ``depth`` blocks; x axis to ``steps``."""
        if self._step_extent != steps:  # fixed x axis: no re-layout of the axes every frame
            self._step_extent = steps
            self.loss_panel.plot.setXRange(0, steps, padding=0.02)
        self._show_losses(frame)
        self._show_ratios_now(frame)
        self._show_ratio_map(frame, depth)

    def _show_losses(self, frame: ResidualFrame) -> None:
        order = slots(frame.depths)
        series = (("plain", frame.plain_losses, frame.plain_smoothed),
                  ("residual", frame.residual_losses, frame.residual_smoothed))  # fmt: skip
        for kind, losses, smooth in series:
            for slot, (item, raw) in enumerate(zip(self.loss_curves[kind], self.raw_curves[kind], strict=True)):
                if slot < len(order):
                    i = frame.depths.index(order[slot])
                    item.setData(frame.steps, np.maximum(smooth[i], _FLOOR))
                    raw.setData(frame.steps, np.maximum(losses[i], _FLOOR))
                else:
                    item.setData([], [])
                    raw.setData([], [])
        self.loss_range.include(frame.plain_smoothed, frame.residual_smoothed)
        names = [f"{kind} {d}" for kind in KINDS for d in order] + ["each minibatch"]
        items = [self.loss_curves[kind][s] for kind in KINDS for s in range(len(order))] + [self.raw_sample]
        _sync_legend(self.loss_panel, items, names)

    def _show_ratios_now(self, frame: ResidualFrame) -> None:
        order = slots(frame.depths)
        _sync_legend(self.ratio_now, self.ratio_curves[: len(order)], [f"residual {d}" for d in order])
        for slot, item in enumerate(self.ratio_curves):
            if slot < len(order) and frame.ratio_steps.size:
                ratios = frame.branch_ratios[frame.depths.index(order[slot])][:, -1]
                item.setData(np.arange(1, len(ratios) + 1, dtype=float), np.maximum(ratios, _FLOOR))
            else:
                item.setData([], [])
        if frame.ratio_steps.size:
            self.ratio_now_range.include(*(np.maximum(r[:, -1], _FLOOR) for r in frame.branch_ratios))
            self.ratio_now.plot.setXRange(0.5, max(frame.depths) + 0.5, padding=0.02)
            set_title(self.ratio_now.plot, f"‖F(x)‖ / ‖x‖ at step {int(frame.ratio_steps[-1])}")

    def _show_ratio_map(self, frame: ResidualFrame, depth: int) -> None:
        ratios = np.log10(np.maximum(frame.branch_ratios[frame.depths.index(depth)], _FLOOR))  # (n_blocks, k)
        set_title(self.ratio_plot, f"Residual {depth}: ‖F(x)‖ / ‖x‖")
        if len(frame.ratio_steps) < 2:  # one column has no width yet
            self.ratio_map.image.clear()
            return
        steps, shown = even_columns(frame.ratio_steps, ratios)
        low, high = min(self._levels[0], float(ratios.min())), max(self._levels[1], float(ratios.max()))
        high = max(high, low + 1e-3)
        if (low, high) != self._levels or self.ratio_map.image.image is None:
            self._levels = (low, high)
            blocks = np.arange(1, depth + 1, dtype=float)
            self.ratio_map.set_field(steps, blocks, shown, "log₁₀ ‖F(x)‖/‖x‖", shown)
            self.ratio_map.image.setLevels((low, high))
            self.ratio_map.colorbar.setLevels((low, high))
        else:  # same colour scale: only the image and its extent move
            self.ratio_map.image.setImage(np.ascontiguousarray(shown, dtype=np.float32), autoLevels=False,
                                          levels=(low, high))  # fmt: skip
            dx = steps[1] - steps[0]
            self.ratio_map.image.setRect(QtCore.QRectF(steps[0] - dx / 2, 0.5, dx * len(steps), float(depth)))
        self._frame_ratio_map(steps, depth)

    def _frame_ratio_map(self, steps: np.ndarray, depth: int) -> None:
        """x from step 0 to the run's last, as the loss curves above, so the image fills in under an axis
        that stays put (an axis whose range moves redraws its ticks every frame); a run without an end
        shows the steps it has. Whole cells, edges included."""
        dx = steps[1] - steps[0]
        low, high = steps[0] - dx / 2, steps[-1] + dx / 2
        if self._step_extent > 0:
            low, high = min(low, -dx / 2), max(high, self._step_extent + dx / 2)
        self.ratio_plot.setRange(xRange=(low, high), yRange=(0.5, depth + 0.5), padding=0)

    def show_depth(self, frame: ResidualFrame, depth: int) -> None:
        """Another depth on the heatmap: its own colour scale."""
        self._levels = (np.inf, -np.inf)
        self._show_ratio_map(frame, depth)

    def pin_sources(self, frame: ResidualFrame) -> list[PinSource]:
        """The averaged loss curve of every net, and the ratios per block of every residual net."""
        order = slots(frame.depths)
        sources = [PinSource(self.loss_panel.plot, self.loss_curves[kind][slot], kind, f"{kind} {depth}", "loss",
                             self.loss_panel.legend, DEPTH_PENS[slot][1])
                   for kind in KINDS for slot, depth in enumerate(order)]  # fmt: skip
        sources += [PinSource(self.ratio_now.plot, self.ratio_curves[slot], "residual", f"residual {depth}",
                              "ratio_per_block", self.ratio_now.legend, DEPTH_PENS[slot][1])
                    for slot, depth in enumerate(order)]  # fmt: skip
        return sources

    # --- hover and export ----------------------------------------------------------------------
    @staticmethod
    def describe_loss(frame: ResidualFrame, x: float) -> str | None:
        t = nearest(frame.steps, x)
        if t is None:
            return None
        parts = []
        for kind, smooth in zip(KINDS, (frame.plain_smoothed, frame.residual_smoothed), strict=True):
            values = ", ".join(f"{d}: {smooth[frame.depths.index(d), t]:.4g}" for d in sorted(frame.depths))
            parts.append(f"{kind} {values}")
        return (f"step {int(frame.steps[t])}, training loss (nats, moving average of the minibatch losses) — "
                + "; ".join(parts))  # fmt: skip

    @staticmethod
    def describe_ratio_cell(frame: ResidualFrame, depth: int, x: float, y: float) -> str | None:
        if frame.ratio_steps.size < 2:
            return None
        t, b = nearest(frame.ratio_steps, x), nearest(np.arange(1, depth + 1, dtype=float), y)
        if t is None or b is None:
            return None
        r = frame.branch_ratios[frame.depths.index(depth)][b, t]
        return (f"residual {depth}, block {b + 1}, step {int(frame.ratio_steps[t])}: ‖F(x)‖ / ‖x‖ = {r:.4g} "
                f"(the block adds a correction {100 * r:.3g} % the size of its input x)")  # fmt: skip

    @staticmethod
    def describe_ratio_now(frame: ResidualFrame, x: float) -> str | None:
        if frame.ratio_steps.size == 0:
            return None
        b = round(x)
        parts = [f"residual {d}: {frame.branch_ratios[frame.depths.index(d)][b - 1, -1]:.4g}"
                 for d in sorted(frame.depths) if 1 <= b <= d]  # fmt: skip
        if not parts:
            return None
        return f"block {b}, step {int(frame.ratio_steps[-1])}: ‖F(x)‖ / ‖x‖ — " + ", ".join(parts)

    @staticmethod
    def tables(frame: ResidualFrame) -> dict[str, Table]:
        curves: Table = {"step": frame.steps}
        for kind, losses, accs in (("plain", frame.plain_losses, frame.plain_accuracies),
                                   ("residual", frame.residual_losses, frame.residual_accuracies)):  # fmt: skip
            for i, d in enumerate(frame.depths):
                curves[f"{kind}_{d}_loss"] = losses[i]
                curves[f"{kind}_{d}_accuracy"] = accs[i]
        rows = [(d, b + 1, s, r[b, t]) for d, r in zip(frame.depths, frame.branch_ratios, strict=True)
                for b in range(d) for t, s in enumerate(frame.ratio_steps)]  # fmt: skip
        ratios: Table = {name: [row[c] for row in rows] for c, name in enumerate(("depth", "block", "step", "ratio"))}
        return {"training": curves, "branch_ratios": ratios}
