"""The fine-tuning tab's plots: accuracy curves, per-layer change and similarity, the k-sweep, the filters.

Each panel creates its items once and updates them from a frame (or a sweep result); the view only
routes frames here. Series keys are the strategies' names, so each strategy has one colour everywhere.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore

from explorer.lab.finetune.finetune import STRATEGIES, FinetuneFrame, KSweep
from explorer.ui.tabs.finetune.rows import PlotRow
from explorer.ui.theme import style_axis
from explorer.ui.widgets.pins import PinSource, sync_legend
from explorer.ui.widgets.plots import Styled, new_plot

SOLID, DASHED = QtCore.Qt.PenStyle.SolidLine, QtCore.Qt.PenStyle.DashLine
TRANSFERRED = tuple(s for s in STRATEGIES if s != "scratch")  # the ones that start from the pretrained network


def _curve(styled: Styled, key: str, style: QtCore.Qt.PenStyle = SOLID, width: float = 2.0, **kw) -> pg.PlotDataItem:
    return styled.keyed(pg.PlotDataItem(**kw), key, width, style)


def _sync_legend(row: PlotRow, entries: list[tuple[pg.GraphicsObject, str]]) -> None:
    """The legend lists exactly ``entries``, in order, then the pinned runs (rebuilt only when they change)."""
    if sync_legend(row.legend, entries):
        row.fit_legend()


class AccuracyCurves:
    """Training and validation accuracy against epochs, side by side on the same scale."""

    def __init__(self, styled: Styled) -> None:
        self.row = PlotRow(styled, [
            ("Training accuracy (labelled set)", "epoch", "accuracy", {}),
            ("Validation accuracy (held out)", "epoch", "accuracy", {}),
        ])  # fmt: skip
        self.train_plot, self.val_plot = self.row.plots
        self.curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        for key in STRATEGIES:
            pair = (_curve(styled, key), _curve(styled, key))
            self.train_plot.addItem(pair[0])
            self.val_plot.addItem(pair[1])
            self.curves[key] = pair
        for plot in self.row.plots:
            plot.setYRange(0, 1.04, padding=0)
        self._epochs = 0

    def show(self, frame: FinetuneFrame) -> None:
        if self._epochs != frame.total_epochs:  # still axes: no tick re-layout every frame
            self._epochs = frame.total_epochs
            for plot in self.row.plots:
                plot.setXRange(0, frame.total_epochs, padding=0.02)
        shown = {s.strategy: s for s in frame.strategies}
        for key, (train, val) in self.curves.items():
            state = shown.get(key)
            if state is None:
                train.setData([], [])
                val.setData([], [])
                continue
            train.setData(state.epochs, state.train_accuracy)
            val.setData(state.epochs, state.val_accuracy)
        _sync_legend(self.row, [(self.curves[s.strategy][1], s.label) for s in frame.strategies])


def accuracy_sources(curves: AccuracyCurves, frame: FinetuneFrame) -> list[PinSource]:
    """Training and validation accuracy of every strategy that trains."""
    return [PinSource(plot, curves.curves[s.strategy][i], s.strategy, s.label, what, curves.row.legend, 2.0)
            for i, (what, plot) in enumerate((("train_accuracy", curves.train_plot),
                                              ("val_accuracy", curves.val_plot)))
            for s in frame.strategies]  # fmt: skip


class PerLayer:
    """How far each unit's weights moved, and how alike each layer still is to the pretrained one."""

    def __init__(self, styled: Styled) -> None:
        self.row = PlotRow(styled, [
            ("Weight change", "layer below the classifier", "‖W − W₀‖ / ‖W₀‖", {"downsample": False}),
            ("Similarity to pretrained", "layer below the classifier", "linear CKA", {"downsample": False}),
        ])  # fmt: skip
        self.change_plot, self.cka_plot = self.row.plots
        self.styled = styled
        self.cka_plot.setYRange(0, 1.04, padding=0)
        self.change: dict[str, pg.PlotDataItem] = {}
        self.cka: dict[str, pg.PlotDataItem] = {}
        for key in TRANSFERRED:
            self.change[key] = _curve(styled, key, symbol="o", symbolSize=7)
            self.cka[key] = _curve(styled, key, symbol="o", symbolSize=7)
            self.change_plot.addItem(self.change[key])
            self.cka_plot.addItem(self.cka[key])
        self._names: tuple[str, ...] = ()
        self._top = 0.0

    def show(self, frame: FinetuneFrame) -> None:
        if self._names != frame.unit_names:
            self._names = frame.unit_names
            # the classifier is left out: it starts from random weights, so its change is not comparable
            names = self._names[:-1]
            ticks = [(i, name.replace("block ", "b").replace("input conv", "in")) for i, name in enumerate(names)]
            for plot in self.row.plots:
                plot.getAxis("bottom").setTicks([ticks, []])
                plot.setXRange(-0.3, len(ticks) - 0.7, padding=0)
            self._top = 0.0
        shown = {s.strategy: s for s in frame.strategies}
        units = np.arange(len(frame.unit_names) - 1, dtype=np.float64)
        top = 0.0
        for key in TRANSFERRED:
            state = shown.get(key)
            if state is None:
                self.change[key].setData([], [])
                self.cka[key].setData([], [])
                continue
            self.change[key].setData(units, state.weight_change[:-1])
            top = max(top, float(np.nanmax(state.weight_change[:-1])))
            if np.all(np.isnan(state.cka)):
                self.cka[key].setData([], [])
            else:
                self.cka[key].setData(units, state.cka)
        if top > self._top or top < 0.3 * self._top:  # grows at once, shrinks only by a lot (a new run)
            self._top = max(top, 1e-3)
            self.change_plot.setYRange(-0.03 * self._top, 1.1 * self._top, padding=0)  # frozen zeros stay visible
        label = "linear CKA" if math.isnan(frame.cka_epoch) else f"linear CKA at epoch {frame.cka_epoch:.3g}"
        if self.cka_plot.getAxis("left").labelText != label:
            self.cka_plot.setLabel("left", label)
            style_axis(self.cka_plot.getAxis("left"), self.styled.theme)  # the new text in the theme's size
        _sync_legend(self.row, [(self.change[s.strategy], s.label) for s in frame.strategies if s.strategy in
                                self.change])  # fmt: skip


class SweepPlots:
    """The k-sweep: validation accuracy, trainable parameters and time per step against k."""

    def __init__(self, styled: Styled) -> None:
        x = "k: layers trained (0 = linear probe)"
        self.row = PlotRow(styled, [
            ("k-sweep: accuracy", x, "accuracy", {"downsample": False}),
            ("Trainable parameters", x, "parameters", {"downsample": False, "log_y": True}),
            ("Time per training step", x, "ms per step", {"downsample": False}),
        ])  # fmt: skip
        self.acc_plot, self.params_plot, self.time_plot = self.row.plots
        self.acc_plot.setYRange(0, 1.04, padding=0)
        self.val = _curve(styled, "top_k", symbol="o", symbolSize=8)
        self.train = _curve(styled, "top_k", DASHED, 1.5, symbol="t", symbolSize=7)
        self.params = _curve(styled, "top_k", symbol="o", symbolSize=8)
        self.time = _curve(styled, "top_k", symbol="o", symbolSize=8)
        self.scratch = {name: _curve(styled, "scratch", DASHED, 1.5) for name in ("acc", "params", "time")}
        for plot, items in ((self.acc_plot, (self.val, self.train, self.scratch["acc"])),
                            (self.params_plot, (self.params, self.scratch["params"])),
                            (self.time_plot, (self.time, self.scratch["time"]))):  # fmt: skip
            for item in items:
                plot.addItem(item)
        self.row.key(self.val, "top-k, validation")
        self.row.key(self.train, "top-k, training")
        self.row.key(self.scratch["acc"], "from scratch (all layers, random start)")
        self.sweep: KSweep | None = None

    def show(self, sweep: KSweep) -> None:
        self.sweep = sweep
        n = sweep.n_feature_layers
        ticks = [[(k, f"{k}" + (" all" if k == n else "")) for k in range(n + 1)], []]
        for plot in self.row.plots:
            plot.getAxis("bottom").setTicks(ticks)
            plot.setXRange(-0.5, n + 0.5, padding=0)  # room for the last label, "n all"
        ks = sweep.ks.astype(np.float64)
        self.val.setData(ks, sweep.val_accuracy)
        self.train.setData(ks, sweep.train_accuracy)
        self.params.setData(ks, sweep.n_trainable.astype(np.float64))
        self.time.setData(ks, sweep.ms_per_step)
        span = np.array([-0.5, n + 0.5])
        done = not math.isnan(sweep.scratch_val_accuracy)
        for name, value in (("acc", sweep.scratch_val_accuracy), ("params", float(sweep.scratch_n_trainable)),
                            ("time", sweep.scratch_ms_per_step)):  # fmt: skip
            if done:
                self.scratch[name].setData(span, np.full(2, value))
            else:
                self.scratch[name].setData([], [])
        times = np.append(sweep.ms_per_step, sweep.scratch_ms_per_step if done else np.nan)
        if np.isfinite(times).any():
            self.time_plot.setYRange(0, 1.15 * float(np.nanmax(times)), padding=0)
        counts = np.append(sweep.n_trainable, sweep.scratch_n_trainable if done else 0).astype(np.float64)
        counts = counts[counts > 0]
        if counts.size:
            self.params_plot.setYRange(np.log10(counts.min()) - 0.3, np.log10(counts.max()) + 0.3, padding=0)

    def clear(self) -> None:
        self.sweep = None
        for item in (self.val, self.train, self.params, self.time, *self.scratch.values()):
            item.setData([], [])


class FilterMosaic:
    """First-layer 3x3 filters as image tiles: a block of rows for step 0, one for now, one for the change."""

    PER_ROW = 8

    def __init__(self, styled: Styled) -> None:
        self.plot = new_plot(styled, "First-layer 3×3 filters", "filter", "weights", legend=None, downsample=False)
        self.plot.showGrid(x=False, y=False)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.vb.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.grid = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(styled.theme.foreground, width=1))
        self.plot.addItem(self.grid)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("CET-D1"), interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        styled.styled_axis(self.colorbar.axis)
        self.blocks: list[np.ndarray] = []  # before, now, change: (C, 3, 3) each
        self._shape = (0, 0, 1.0)

    def show(self, before: np.ndarray, after: np.ndarray, label: str) -> None:
        self.blocks = [before, after, after - before]
        bound = float(max(np.abs(before).max(), np.abs(after).max(), 1e-6))
        change = float(np.abs(self.blocks[2]).max())
        # the change is drawn magnified by a power of ten (said on its row) so that small moves show
        gain = 10.0 ** max(0, math.floor(math.log10(bound / change))) if change > 0 else 1.0
        n = len(before)
        per = min(n, self.PER_ROW)
        rows = -(-n // per)
        tiles = np.zeros((3 * rows, per, 3, 3), dtype=np.float32)
        for b, block in enumerate(self.blocks):
            for i, filt in enumerate(block):
                tiles[b * rows + i // per, i % per] = filt * (gain if b == 2 else 1.0)
        mosaic = tiles.transpose(0, 2, 1, 3).reshape(3 * rows * 3, per * 3)  # (tile rows, 3, per, 3) -> pixels
        self.image.setImage(np.ascontiguousarray(mosaic), autoLevels=False, levels=(-bound, bound))
        self.colorbar.setLevels((-bound, bound))
        if self._shape != (rows, per, gain):
            self._shape = (rows, per, gain)
            h, w = 9 * rows, 3 * per
            xs = [(x, x) for x in range(0, w + 1, 3)]
            ys = [(y, y) for y in range(0, h + 1, 3)]
            seg_x = [v for x in xs for v in (x[0], x[1])] + [v for _ in ys for v in (0, w)]
            seg_y = [v for _ in xs for v in (0, h)] + [v for y in ys for v in (y[0], y[1])]
            self.grid.setData(seg_x, seg_y, connect="pairs")
            change_name = "change" if gain == 1 else f"change ×{gain:.0f}"
            left = [(3 * rows * (b + 0.5), name) for b, name in enumerate(("step 0", "now", change_name))]
            self.plot.getAxis("left").setTicks([left, []])
            self.plot.getAxis("bottom").setTicks([[(3 * i + 1.5, str(i + 1)) for i in range(per)], []])
            self.plot.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)
        title = f"Input-conv filters: {label}"
        if self.plot.titleLabel.text != title:
            self.plot.setTitle(title)

    def describe(self, x: float, y: float) -> str | None:
        rows, per, _ = self._shape
        if not self.blocks or not (0 <= x < 3 * per and 0 <= y < 9 * rows):
            return None
        block, tile_row = divmod(int(y // 3), rows)
        i = tile_row * per + int(x // 3)
        if i >= len(self.blocks[0]):
            return None
        r, c = int(y) % 3, int(x) % 3
        value = self.blocks[block][i, r, c]
        what = ("at step 0", "now", "change (now − step 0)")[block]
        size = np.linalg.norm(self.blocks[2][i]) / max(np.linalg.norm(self.blocks[0][i]), 1e-12)
        return (f"filter {i + 1}, weight [{r}, {c}] {what}: {value:+.4f}; this filter moved "
                f"‖ΔW‖/‖W₀‖ = {size:.3f}")  # fmt: skip
