"""The measured sweep beside the paper's IO model: peak memory, HBM accesses, time and TFLOP/s against N.

Points arrive one by one while the sweep runs (the job's partial results); a method that ran out of
memory gets a vertical line at that N, and the table underneath says how exact each method was.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from explorer.lab.flash_attention.attention import (
    INTERPRETER_MAX_N,
    METHODS,
    IOModel,
    MissingPoint,
    SweepConfig,
    SweepResult,
)
from explorer.ui.tabs.flash_attention.text import (
    METHOD_LABELS,
    MIB,
    WARN,
    button,
    mib,
    n_ticks,
    short_n,
)
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.legended import StripLegend
from explorer.ui.widgets.plots import HoverReadout, Styled, new_plot
from explorer.ui.widgets.table import ReadOnlyTable

QUANTITIES = ("memory", "time", "throughput")
#: a symbol per method as well as a colour: two of the methods get neighbouring blues in presentation mode
SYMBOLS = {"naive": "o", "tiled_torch": "s", "flash": "t", "sdpa": "d"}
ITEMSIZE = {"float32": 4, "float16": 2, "bfloat16": 2}
_DASH = QtCore.Qt.PenStyle.DashLine
_DOT = QtCore.Qt.PenStyle.DotLine


class SweepView(QtWidgets.QWidget):
    """Four log-log plots (memory, IO model, time, throughput), a status line and an exactness table."""

    sig_measure = QtCore.pyqtSignal()

    def __init__(self, styled: Styled, hover: QtWidgets.QLabel) -> None:
        super().__init__()
        self.styled = styled
        self.result: SweepResult | None = None
        self.io: IOModel | None = None
        self.status = selectable_label("The sweep starts when the tab opens; Measure again runs it with new settings.")
        self.measure_button = button("Measure again", "Sweep N for every chosen method (progress and Cancel below)")
        self.measure_button.clicked.connect(self.sig_measure)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.measure_button, 0, QtCore.Qt.AlignmentFlag.AlignTop)

        self.view = pg.GraphicsLayoutWidget()
        options = {"log_x": True, "log_y": True, "downsample": False, "legend": None}
        # short titles: a title's width is its plot's minimum width, and presentation fonts are 1.5x
        self.memory = new_plot(styled, "Peak memory (measured)", "sequence length N", "peak memory (MiB)", **options)
        self.io_plot = new_plot(styled, "HBM accesses: IO model (Thm 2)", "sequence length N",
                                "accesses (elements)", **options)  # fmt: skip
        self.time = new_plot(styled, "Time per call (measured)", "sequence length N", "time (ms)", **options)
        self.throughput = new_plot(styled, "Throughput (measured)", "sequence length N", "TFLOP/s", **options)
        for (row, col), plot in zip(((0, 0), (0, 1), (1, 0), (1, 1)), self.plots(), strict=True):
            self.view.addItem(plot, row=row, col=col)
            plot.hideButtons()  # the autorange "A" would sit on the data in every export
        # one legend for all four, under them: the methods on its first line, the IO model on its second
        self.legend = styled.styled_legend(StripLegend(colCount=4, frame=False))
        self.view.addItem(self.legend, row=2, col=0, colspan=2)
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        for quantity, plot in zip(QUANTITIES, (self.memory, self.time, self.throughput), strict=True):
            for method in METHODS:
                item = styled.keyed(pg.PlotDataItem(symbol=SYMBOLS[method]), method, 2.0)
                plot.addItem(item)
                self.curves[(quantity, method)] = item
        for method in METHODS:
            self.legend.addItem(self.curves[("memory", method)], METHOD_LABELS[method])
        self.oom_lines: dict[str, pg.InfiniteLine] = {}
        for method in METHODS:
            line = pg.InfiniteLine(angle=90, label="", labelOpts={"position": 0.9, "anchors": [(1, 0), (1, 0)]})
            line.setVisible(False)
            styled.styled_text(line.label, colour=False)  # in its method's colour: see restyle
            self.memory.addItem(line)
            self.oom_lines[method] = line
        self.io_curves = {
            "standard": styled.keyed(pg.PlotDataItem(), "naive", 2.0),
            "flash": styled.keyed(pg.PlotDataItem(), "flash", 2.5),
            "flash_small": styled.keyed(pg.PlotDataItem(), "flash", 1.5, _DASH),
            "flash_large": styled.keyed(pg.PlotDataItem(), "flash", 1.5, _DOT),
        }
        for key, item in self.io_curves.items():
            self.io_plot.addItem(item)
            self.legend.addItem(item, key)
        self.table = ReadOnlyTable(["Method", "N measured", "peak at largest N", "time there",
                                    "max |O − O_ref| (fp32 naive)", "what happened"])  # fmt: skip
        self.table.setWordWrap(False)  # one line a row: the full reasons are in the last cell's tooltip
        self.table.setRowCount(len(METHODS))
        self.readouts = [
            HoverReadout(self.memory, lambda x, y: self._describe_point("memory", x, y), hover),
            HoverReadout(self.time, lambda x, y: self._describe_point("time", x, y), hover),
            HoverReadout(self.throughput, lambda x, y: self._describe_point("throughput", x, y), hover),
            HoverReadout(self.io_plot, self._describe_io, hover),
        ]
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.table)
        self._fill_table()
        self.restyle()

    def restyle(self) -> None:
        """The out-of-memory lines follow the theme (they are not curves the styled registry re-pens)."""
        theme = self.styled.theme
        for method, line in self.oom_lines.items():
            line.setPen(theme.pen(method, 1.5, _DOT))
            line.label.setColor(theme.color(method))

    def plots(self) -> tuple[pg.PlotItem, ...]:
        return self.memory, self.io_plot, self.time, self.throughput

    def _rename(self, item: pg.GraphicsObject, text: str) -> None:
        """Change a legend entry's text, only when it differs (text layout is the costly part)."""
        for sample, entry in self.legend.items:
            if sample.item is item and entry.text != text:
                entry.setText(text)

    # --- drawing ------------------------------------------------------------------------------
    def show_result(self, result: SweepResult, complete: bool) -> None:
        """Draw every point measured so far; ``complete`` is False while the sweep is still running."""
        self.result = result
        cfg = result.config
        for method in METHODS:
            curve = result.curves.get(method)
            n = curve.n if curve is not None else np.empty(0)
            shown = {
                "memory": curve.peak_bytes / MIB if curve is not None else n,
                "time": curve.ms if curve is not None else n,
                "throughput": curve.tflops if curve is not None else n,
            }
            for quantity in QUANTITIES:
                y = shown[quantity]
                keep = np.isfinite(y) & (y > 0)  # a log axis has no place for 0
                self.curves[(quantity, method)].setData(n[keep], y[keep])
            oom = [p for p in result.oom if p.method == method]
            line = self.oom_lines[method]
            line.setVisible(bool(oom))
            if oom:
                line.setPos(math.log10(oom[0].n))
                line.label.setFormat(f"{METHOD_LABELS[method]}: out of memory at N = {short_n(oom[0].n)}")
        names = {m: METHOD_LABELS[m] + ("" if m in cfg.methods else " (off)") for m in METHODS}
        if result.interpreter and "flash" in cfg.methods:
            names["flash"] += " (interpreted)"
        for method in METHODS:
            self._rename(self.curves[("memory", method)], names[method])
        for plot in (self.memory, self.time, self.throughput):
            plot.enableAutoRange()
            plot.getAxis("bottom").setTicks(n_ticks(cfg.n_values))
        self._fill_table()
        self.status.setText(self._status_text(result, complete))

    def show_io(self, io: IOModel, small: IOModel, large: IOModel, sram_kib: int) -> None:
        """The IO model at on-chip memory M, and (thin) at M / 4 and 4 M: how M moves the flash curve."""
        self.io = io
        self.io_curves["standard"].setData(io.n, io.standard)
        self.io_curves["flash"].setData(io.n, io.flash)
        self.io_curves["flash_small"].setData(small.n, small.flash)
        self.io_curves["flash_large"].setData(large.n, large.flash)
        names = {
            "standard": "standard Θ(Nd + N²)",
            "flash": f"flash Θ(N²d²/M), M = {sram_kib} KiB",
            "flash_small": "M / 4",
            "flash_large": "4 M",
        }
        for key, item in self.io_curves.items():
            self._rename(item, names[key])
        self.io_plot.getAxis("bottom").setTicks(n_ticks(io.n))
        self.io_plot.enableAutoRange()

    def show_note(self, html: str) -> None:
        """A line under the status (settings changed, cancelled, refused) until the next result."""
        base = self._status_text(self.result, True) if self.result is not None else ""
        self.status.setText(f"{base}<br>{html}" if base else html)

    # --- text ---------------------------------------------------------------------------------
    def _status_text(self, result: SweepResult, complete: bool) -> str:
        cfg = result.config
        n = sorted(cfg.n_values)
        mode = "forward + backward" if cfg.mode == "fwd_bwd" else "forward"
        head = "Measured" if complete else "Measuring…"
        flops = _flops(cfg)
        text = (
            f"<b>{head}</b> on {result.device_name}: {cfg.dtype}, d = {cfg.d}, B·H = {cfg.batch * cfg.heads}, "
            f"{mode}{', causal' if cfg.causal else ''}, N = {short_n(n[0])} … {short_n(n[-1])}, "
            f"TFLOP/s = {flops} / time."
        )
        if result.interpreter:
            text += (
                f"<br><b style='color:{WARN}'>Triton interpreter (CPU): one program at a time, sizes capped at "
                f"N = {INTERPRETER_MAX_N}</b> — its time is not representative, its memory counts torch's "
                "allocations only."
            )
        for p in result.oom:
            text += (
                f"<br><b>{METHOD_LABELS[p.method]} ran out of memory at N = {short_n(p.n)}</b>: its N × N "
                f"matrices need {mib(2 * cfg.batch * cfg.heads * p.n**2 * ITEMSIZE[cfg.dtype])}."
            )
        return text

    def _fill_table(self) -> None:
        result = self.result
        for row, method in enumerate(METHODS):
            curve = result.curves.get(method) if result is not None else None
            if result is None or curve is None:
                cells = [METHOD_LABELS[method], "—", "—", "—", "—", "not measured" if result is None else "off"]
                self.table.set_row(row, cells, tip="")
                continue
            k = len(curve.n)
            errors = curve.max_abs_err[np.isfinite(curve.max_abs_err)]
            error = f"{errors.max():.2g}" if errors.size else "— (reference too large)"
            if method == "naive" and result.config.dtype == "float32" and errors.size:
                error += " (the reference itself)"
            happened, tip = _what_happened(method, result)
            cells = [
                METHOD_LABELS[method],
                f"{short_n(curve.n[0])} … {short_n(curve.n[-1])}" if k else "none",
                mib(curve.peak_bytes[-1]) if k else "—",
                _duration(curve.ms[-1]) if k else "—",
                error if k else "—",
                happened,
            ]
            self.table.set_row(row, cells, tip=tip)
        self.table.resizeRowsToContents()
        self.table.fit_height()

    # --- hover --------------------------------------------------------------------------------
    def _describe_point(self, quantity: str, x: float, y: float) -> str | None:
        if self.result is None:
            return None
        cfg = self.result.config
        best, text = math.inf, None
        for method, curve in self.result.curves.items():
            values = {"memory": curve.peak_bytes / MIB, "time": curve.ms, "throughput": curve.tflops}[quantity]
            ok = np.isfinite(values) & (values > 0)
            if not ok.any():
                continue
            distance = np.hypot(np.log10(curve.n[ok]) - x, np.log10(values[ok]) - y)
            j = int(np.argmin(distance))
            if distance[j] >= best:
                continue
            best = float(distance[j])
            i = np.flatnonzero(ok)[j]
            n = int(curve.n[i])
            head = f"{METHOD_LABELS[method]}, N = {n:,}: "
            if quantity == "memory":
                bh, size = cfg.batch * cfg.heads, ITEMSIZE[cfg.dtype]
                text = (
                    f"{head}peak {mib(curve.peak_bytes[i])} measured.  Naive's N² term: 2·B·H·N²·bytes = "
                    f"2·{bh}·{n}²·{size} B = {mib(2 * bh * n * n * size)} (scores and probabilities)"
                )
            else:
                text = (
                    f"{head}{_duration(curve.ms[i])} per call, {curve.tflops[i]:.3g} TFLOP/s = FLOPs / time, "
                    f"FLOPs = {_flops(cfg)} = {_flop_count(cfg, n):.3g}"
                )
        return text

    def _describe_io(self, x: float, y: float) -> str | None:
        io = self.io
        if io is None or not len(io.n):
            return None
        i = int(np.argmin(np.abs(np.log10(io.n) - x)))
        n, d, m = int(io.n[i]), io.d, io.sram_elements
        return (
            f"N = {n:,}, d = {d}, M = {m:,} elements:  standard 4Nd + 4N² = {io.standard[i]:.3g};  "
            f"FlashAttention 3Nd + 2N + T_c(3Nd + 4N) = {io.flash[i]:.3g} with T_c = ⌈N / ⌈M/4d⌉⌉ = "
            f"{io.outer_steps[i]:.0f};  {io.standard[i] / io.flash[i]:.3g}× fewer"
        )


def _flops(cfg: SweepConfig) -> str:
    """The FLOP count behind TFLOP/s: two N x N x d matmuls, the backward 2.5x more, causal half."""
    return "4·B·H·N²·d" + (" × 3.5" if cfg.mode == "fwd_bwd" else "") + (" / 2" if cfg.causal else "")


def _flop_count(cfg: SweepConfig, n: int) -> float:
    return (
        4.0 * cfg.batch * cfg.heads * n * n * cfg.d * (3.5 if cfg.mode == "fwd_bwd" else 1.0) / (2 if cfg.causal else 1)
    )


def _duration(ms: float) -> str:
    return f"{ms / 1e3:.3g} s" if ms >= 1e3 else f"{ms:.3g} ms"


def _what_happened(method: str, result: SweepResult) -> tuple[str, str]:
    """A short cell text and the full reasons (tooltip) for the points a method has no measurement of."""
    missing: list[MissingPoint] = [p for p in (*result.oom, *result.failed, *result.skipped) if p.method == method]
    if not missing:
        return "measured at every N", ""
    first = min(missing, key=lambda p: p.n)
    if first in result.oom:
        short = f"out of memory at N = {short_n(first.n)}"
    elif first in result.failed:
        short = f"failed at N = {short_n(first.n)}: {first.reason}"
    elif "interpreter" in first.reason:
        short = f"interpreter: N ≤ {INTERPRETER_MAX_N}"
    else:
        short = f"from N = {short_n(first.n)}: {first.reason}"
    return short, "\n".join(f"N = {p.n}: {p.reason}" for p in sorted(missing, key=lambda p: p.n))
