"""The online softmax on a small example, one (query tile, key tile) at a time.

Left, the score matrix as a grid of tiles: tiles already folded in are veiled, the current one is
outlined, the rest is not computed yet. To its right, sharing the rows: the running max m and
denominator ℓ of every row reached (with their values after all keys, dashed), the output so far,
and how far each row still is from softmax(Q Kᵀ / √d) V.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.lab.flash_attention.attention_steps import StepThroughFrame
from explorer.ui.tabs.flash_attention.text import WARN, button
from explorer.ui.widgets.fit import Cell, FlowGrid
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.legended import StripLegend
from explorer.ui.widgets.logaxis import decade_ticks
from explorer.ui.widgets.plots import HeatmapPanel, HoverReadout, Styled, new_plot

_ERROR_FLOOR = 1e-17  # exact zeros still need a place on the log axis
_EPS = float(np.finfo(np.float64).eps)


class StepView(QtWidgets.QWidget):
    """The tile grid, m, ℓ, output and error per row; Previous / Next / a slider ask the tab to jump."""

    sig_jump = QtCore.pyqtSignal(int)

    def __init__(self, styled: Styled, hover: QtWidgets.QLabel) -> None:
        super().__init__()
        self.styled = styled
        self.frame: StepThroughFrame | None = None
        self._shape: tuple[int, int, int] | None = None
        self.view = pg.GraphicsLayoutWidget()
        self.scores_plot = new_plot(styled, "Scores S = QKᵀ/√d by tiles", "key j", "query row i",
                                    legend=None, downsample=False)  # fmt: skip
        # the plots right of the scores share its rows and its row axis (hidden on them: room for five plots)
        self.m_plot = new_plot(styled, "Running max m", "m", "i", legend=None, downsample=False)
        self.l_plot = new_plot(styled, "Denominator ℓ", "ℓ", "i", legend=None, downsample=False)
        self.out_plot = new_plot(styled, "Output O", "feature c", "i", legend=None, downsample=False)
        self.err_plot = new_plot(styled, "Row error", "max |O − exact|", "i", log_x=True, legend=None,
                                 downsample=False)  # fmt: skip
        plots = (self.scores_plot, self.m_plot, self.l_plot, self.out_plot, self.err_plot)
        self.plots = plots
        for plot in plots:
            plot.invertY(True)  # row 0 at the top, as in the matrix
            plot.vb.setMouseEnabled(x=False, y=False)
            if plot is not self.scores_plot:
                plot.setYLink(self.scores_plot)  # one row, one height, across the figure
        self.scores_plot.showGrid(x=False, y=False)  # the tile grid is drawn instead
        self.scores = HeatmapPanel(styled, self.scores_plot, colormap="CET-D1")
        self.output = HeatmapPanel(styled, self.out_plot, colormap="viridis")
        self.veil = pg.ImageItem(axisOrder="row-major")  # over tiles already folded in and discarded
        self.grid = pg.PlotDataItem(connect="pairs")
        self.tile = pg.PlotDataItem()  # outline of the tile in SRAM now
        for item, z in ((self.veil, 1), (self.grid, 2), (self.tile, 3)):
            item.setZValue(z)
            self.scores_plot.addItem(item)
        self.row_bands: list[pg.PlotDataItem] = []  # the query tiles' edges, across the plots beside
        for plot in plots[1:]:
            band = pg.PlotDataItem(connect="pairs")
            band.setZValue(0)
            plot.addItem(band, ignoreBounds=True)  # lines as wide as any x range: not part of autorange
            self.row_bands.append(band)
        self.finals: dict[str, pg.PlotDataItem] = {}
        self.reached: dict[str, pg.ScatterPlotItem] = {}
        self.current: dict[str, pg.ScatterPlotItem] = {}
        for name, plot in (("m", self.m_plot), ("l", self.l_plot), ("error", self.err_plot)):
            if name != "error":  # rings at the exact m and ℓ: a running value lands in its ring when done
                self.finals[name] = pg.ScatterPlotItem(size=17, symbol="o")
                self.finals[name].setZValue(1)
                plot.addItem(self.finals[name])
            # scatter items are not log-aware: the error plot gets its x in log₁₀ units
            self.reached[name] = pg.ScatterPlotItem(size=9, symbol="o")
            self.current[name] = pg.ScatterPlotItem(size=13, symbol="o")
            for item, z in ((self.reached[name], 2), (self.current[name], 3)):
                item.setZValue(z)
                plot.addItem(item)
        self.eps_line = pg.InfiniteLine(pos=math.log10(_EPS), angle=90, label="float64 ε",
                                        labelOpts={"position": 0.97, "anchors": [(0, 1), (0, 1)]})  # fmt: skip
        styled.styled_text(self.eps_line.label)
        self.err_plot.addItem(self.eps_line)
        self.err_plot.setXRange(math.log10(_ERROR_FLOOR) - 1.0, 1.5, padding=0)
        self.err_plot.getAxis("bottom").setTicks(decade_ticks((-16, -8, 0)))  # ≈ float64 ε, √ε and 1
        self.legend = styled.styled_legend(StripLegend(colCount=4, frame=False))
        self.legend.addItem(self.tile, "tile in SRAM now")
        self.legend.addItem(self.current["m"], "its query rows")
        self.legend.addItem(self.reached["m"], "rows reached before")
        self.legend.addItem(self.finals["m"], "value after all keys (exact)")
        # all five in a row where the width holds them, else the scores, m and ℓ above the output and error
        cells = [Cell(plot, stretch) for plot, stretch in zip(plots, (5, 2, 2, 2, 2), strict=True)]
        self.flow = FlowGrid(self.view, self.view.ci, cells, (5, 3, 2), footer=self.legend, on_place=self._row_axes)

        self.readout = selectable_label()
        self.restyle()
        self.previous = button("◀ Previous", "Back one tile")
        self.next = button("Next ▶", "Fold in the next tile (Space plays them all)")
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setTracking(False)  # jump when the handle is let go, not on every pixel
        self.slider.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        self.slider.setToolTip("Drag to any step of the algorithm")
        self.slider.setProperty("chrome", True)  # a control: not in exported pictures and recordings
        self.position = selectable_label("step 0 of 0", wrap=False)
        self.previous.clicked.connect(lambda: self._jump(-1))
        self.next.clicked.connect(lambda: self._jump(+1))
        self.slider.valueChanged.connect(self.sig_jump)
        bar = QtWidgets.QHBoxLayout()
        for widget in (self.previous, self.next):
            bar.addWidget(widget)
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.position)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.readout)
        layout.addLayout(bar)
        self.readouts = [
            HoverReadout(self.scores_plot, self._describe_score, hover),
            HoverReadout(self.out_plot, self._describe_output, hover),
            *(HoverReadout(p, lambda x, y: self._describe_row(y), hover) for p in plots[1:3] + plots[4:]),
        ]

    def _row_axes(self, columns: int) -> None:
        """The row axis on the first plot of each row of the figure only: the others share its rows."""
        for index, plot in enumerate(self.plots):
            plot.showAxis("left", index % columns == 0)

    def restyle(self) -> None:
        """Pens that follow the theme but are not one method's series."""
        theme = self.styled.theme
        grid = pg.mkPen(theme.muted(160), width=theme.pen_scale)
        grid.setCosmetic(True)
        self.grid.setPen(grid)
        for band in self.row_bands:
            band.setPen(grid)
        self.tile.setPen(pg.mkPen(WARN, width=3 * theme.pen_scale))
        # markers as large as the theme asks, but no taller than a row once N passes 16
        scale = theme.font_scale * min(1.0, 16 / self._shape[0]) if self._shape is not None else theme.font_scale
        for item in self.finals.values():
            item.setPen(pg.mkPen(theme.foreground, width=1.2 * theme.pen_scale))
            item.setBrush(pg.mkBrush(None))
            item.setSize(17 * scale)
        for name in self.current:
            self.current[name].setSize(13 * scale)
            self.reached[name].setSize(9 * scale)
            self.current[name].setBrush(pg.mkBrush(WARN))
            self.reached[name].setBrush(pg.mkBrush(theme.muted(200)))
            self.reached[name].setPen(pg.mkPen(None))
            self.current[name].setPen(pg.mkPen(theme.foreground, width=theme.pen_scale))
        self.eps_line.setPen(pg.mkPen(theme.muted(160), width=theme.pen_scale, style=QtCore.Qt.PenStyle.DotLine))
        if self.frame is not None:
            self._draw_veil(self.frame)
        # three lines of the readout in the font in use: the figure does not jump as the text grows
        self.readout.setMinimumHeight(3 * self.readout.fontMetrics().lineSpacing())

    # --- drawing ------------------------------------------------------------------------------
    def show_frame(self, frame: StepThroughFrame) -> None:
        self.frame = frame
        cfg = frame.config
        n = cfg.n
        if self._shape != (n, cfg.d, frame.n_steps):
            self._new_example(frame)
        shown = np.where(frame.computed & np.isfinite(frame.scores), frame.scores, np.nan).astype(np.float32)
        self.scores.image.setImage(shown, autoLevels=False)
        self._draw_veil(frame)
        state = frame.state
        if state is None:
            self.tile.setData([], [])
        else:
            (r0, r1), (c0, c1) = state.rows, state.cols
            self.tile.setData([c0, c1, c1, c0, c0], [r0, r0, r1, r1, r0])
        self.output.image.setImage(frame.output.astype(np.float32), autoLevels=False)
        rows = np.arange(n) + 0.5
        reached = np.isfinite(frame.m)
        now = np.zeros(n, dtype=bool)
        if state is not None:
            now[state.rows[0] : state.rows[1]] = True
        error = np.maximum(frame.row_error, _ERROR_FLOOR)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_error = np.log10(error)  # the scatter's x on a log axis, in log₁₀ units
        for name, values in (("m", frame.m), ("l", frame.l), ("error", log_error)):
            self.reached[name].setData(values[reached & ~now], rows[reached & ~now])
            self.current[name].setData(values[now], rows[now])
        self.slider.blockSignals(True)
        self.slider.setValue(frame.step)
        self.slider.blockSignals(False)
        self.position.setText(f"step {frame.step} of {frame.n_steps}")
        self.previous.setEnabled(frame.step > 0)
        self.next.setEnabled(frame.step < frame.n_steps)
        self.readout.setText(_explain(frame))

    def _new_example(self, frame: StepThroughFrame) -> None:
        """A new example (size, tiles or seed): scales, grid and reference values change once."""
        cfg = frame.config
        n, d = cfg.n, cfg.d
        self._shape = (n, d, frame.n_steps)
        finite = frame.scores[np.isfinite(frame.scores)]
        bound = float(np.abs(finite).max())
        centres = np.arange(n) + 0.5
        # no colour-bar labels: the titles name both scales, and a bar's label read as the next plot's y label
        self.scores.set_field(centres, centres, np.zeros((n, n), np.float32), "", frame.scores)
        self.scores.image.setLevels((-bound, bound))
        self.scores.colorbar.setLevels((-bound, bound))
        low, high = float(frame.exact.min()), float(frame.exact.max())
        self.output.set_field(np.arange(d) + 0.5, centres, frame.exact.astype(np.float32), "", frame.exact)
        self.output.image.setLevels((low, high))
        self.output.colorbar.setLevels((low, high))
        self.scores_plot.setRange(xRange=(0, n), yRange=(0, n), padding=0)
        self.out_plot.setXRange(0, d, padding=0)
        xs, ys = [], []
        for r in frame.row_edges:
            xs += [0, n]
            ys += [r, r]
        for c in frame.col_edges:
            xs += [c, c]
            ys += [0, n]
        self.grid.setData(np.array(xs, float), np.array(ys, float), connect="pairs")
        for band in self.row_bands:  # wide enough for any x range the plots show (log₁₀ units on the error's)
            edges = np.repeat(frame.row_edges.astype(float), 2)
            band.setData(np.tile([-1e3, 1e3], len(frame.row_edges)), edges, connect="pairs")
            band.setDownsampling(ds=1, auto=False)
            band.setClipToView(False)
        self.finals["m"].setData(frame.final_m, centres)
        self.finals["l"].setData(frame.final_l, centres)
        # ticks on the first row and key of each tile, at the middle of that row / column
        self.scores_plot.getAxis("left").setTicks([[(r + 0.5, str(r)) for r in frame.row_edges[:-1]], []])
        self.scores_plot.getAxis("bottom").setTicks([[(c + 0.5, str(c)) for c in frame.col_edges[:-1]], []])
        self.out_plot.getAxis("bottom").setTicks([[(c + 0.5, str(c)) for c in range(d)]] if d <= 8 else None)
        self.m_plot.enableAutoRange(axis="x")
        self.l_plot.enableAutoRange(axis="x")
        self.slider.blockSignals(True)
        self.slider.setRange(0, frame.n_steps)
        self.slider.blockSignals(False)
        self.restyle()  # marker sizes follow N

    def _draw_veil(self, frame: StepThroughFrame) -> None:
        veil = np.zeros((*frame.computed.shape, 4), dtype=np.uint8)
        used = frame.computed.copy()
        if frame.state is not None:
            (r0, r1), (c0, c1) = frame.state.rows, frame.state.cols
            used[r0:r1, c0:c1] = False
        colour = self.styled.theme.background
        veil[used] = (colour.red(), colour.green(), colour.blue(), 165)
        self.veil.setImage(veil, autoLevels=False)
        self.veil.setRect(QtCore.QRectF(0, 0, frame.config.n, frame.config.n))

    def _jump(self, delta: int) -> None:
        if self.frame is not None:
            self.sig_jump.emit(min(max(self.frame.step + delta, 0), self.frame.n_steps))

    # --- hover --------------------------------------------------------------------------------
    def _row(self, y: float) -> int | None:
        if self.frame is None or not 0 <= y < self.frame.config.n:
            return None
        return int(y)

    def _row_text(self, i: int) -> str:
        f = self.frame
        assert f is not None
        if not np.isfinite(f.m[i]):
            now = "not reached yet"
        else:
            now = f"m = {f.m[i]:.4g}, ℓ = {f.l[i]:.4g}, error {f.row_error[i]:.2g}"
        return f"row {i}: {now} (after all keys: m = {f.final_m[i]:.4g}, ℓ = Σⱼ exp(Sᵢⱼ − m) = {f.final_l[i]:.4g})"

    def _describe_row(self, y: float) -> str | None:
        i = self._row(y)
        return None if i is None else self._row_text(i)

    def _describe_score(self, x: float, y: float) -> str | None:
        i = self._row(y)
        if i is None or not 0 <= x < self.frame.config.n:
            return None
        j = int(x)
        s = self.frame.scores[i, j]
        if not np.isfinite(s):
            what = f"S[{i}, {j}] is masked: key {j} comes after query {i} (causal)"
        elif self.frame.computed[i, j]:
            what = f"S[{i}, {j}] = qᵢ·kⱼ / √d = {s:.4g}"
        else:
            what = f"S[{i}, {j}] not computed yet (it will be {s:.4g})"
        return f"{what};  {self._row_text(i)}"

    def _describe_output(self, x: float, y: float) -> str | None:
        i = self._row(y)
        if i is None or not 0 <= x < self.frame.config.d:
            return None
        c = int(x)
        o = self.frame.output[i, c]
        value = f"{o:.6g}" if np.isfinite(o) else "not reached"
        return f"O[{i}, {c}] = {value};  softmax(QKᵀ/√d)V[{i}, {c}] = {self.frame.exact[i, c]:.6g}"


def _explain(frame: StepThroughFrame) -> str:
    """What the algorithm just did, with this step's numbers, in the paper's notation."""
    cfg = frame.config
    if frame.state is None:
        return (
            f"<b>Step 0 of {frame.n_steps}.</b> Nothing is computed yet. Each query tile (B<sub>r</sub> = "
            f"{cfg.block_m} rows of Q) walks the key tiles (B<sub>c</sub> = {cfg.block_n} keys) left to right, keeping "
            "per row a running max m, a denominator ℓ and an unnormalized output; the N × N score matrix never "
            "exists in full. <b>Next</b> (or Space) folds in one tile."
        )
    s = frame.state
    (r0, r1), (c0, c1) = s.rows, s.cols
    text = f"<b>Step {frame.step} of {frame.n_steps}: query tile {s.query_block} (rows {r0}–{r1 - 1}) × key tile "
    text += f"{s.key_block} (keys {c0}–{c1 - 1}).</b> "
    if s.key_block == 0:
        text += "First key tile of these rows: m = rowmax S, ℓ = Σⱼ exp(S − m), acc = exp(S − m) V. "
    elif not np.any(s.rescale < 1.0):
        text += "No score in this tile beats the running max m: ℓ and acc carry over unscaled, and the tile adds "
        text += "Σⱼ exp(S − m) and exp(S − m) V. "
    else:
        moved = int(np.sum(s.rescale < 1.0))
        text += (
            f"m ← max(m, rowmax S): it grew in {moved} of {r1 - r0} rows, so ℓ and acc were rescaled by "
            f"exp(m<sub>old</sub> − m) ∈ [{s.rescale.min():.3g}, {s.rescale.max():.3g}] before the tile added "
            "Σⱼ exp(S − m) and exp(S − m) V. "
        )
    if s.row_block_done:
        error = float(np.nanmax(frame.row_error[r0:r1]))
        text += f"Rows {r0}–{r1 - 1} are final: O = acc / ℓ, max error there {error:.2g}."
    if frame.finished:
        text += (
            f"<br><b>Done: O = softmax(QKᵀ/√d)V to max |ΔO| = {frame.max_abs_diff:.2g}</b> (float64), with only one "
            f"{r1 - r0} × {c1 - c0} tile of S in memory at a time."
        )
    return text
