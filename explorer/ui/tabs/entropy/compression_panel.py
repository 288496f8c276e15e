"""Huffman coding of p: the code table with H ≤ L < H + 1, and a sampled message whose bits per symbol
settle on L (a plot over the message length, and the first symbols with their codewords)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from explorer.lab.entropy import information
from explorer.ui.tabs.entropy.formatting import bits, decade_ticks, num
from explorer.ui.theme import Theme
from explorer.ui.widgets.label import selectable_label
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import Styled
from explorer.ui.widgets.table import ReadOnlyTable

# series keys (their colours stay apart in both palettes): the code's spending, its average length L;
# H(p) takes p's own colour
_CODE, _MEAN_LENGTH = "huffman", "mean_bits"
_RIGHT = QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter


class CompressionPanel:
    """``panel``: bits per symbol so far against m (log axis); ``side``: the code table and its sums."""

    def __init__(self, styled: Styled) -> None:
        self.compression: information.Compression | None = None
        self.panel = LegendedPlot(styled, "Huffman-coded message", "symbols sent m", "bits per symbol so far",
                                  log_x=True)  # fmt: skip
        self.code_curve = styled.keyed(pg.PlotDataItem(), _CODE)
        self.code_h = styled.keyed(pg.PlotDataItem(), "p", 2.0, QtCore.Qt.PenStyle.DashLine)
        # L wide and underneath: when every codeword has L bits the sampled curve runs exactly on it
        self.code_l = styled.keyed(pg.PlotDataItem(), _MEAN_LENGTH, 3.5)
        self.code_curve.setZValue(5)
        self.panel.add(self.code_curve, "bits sent / m")
        self.panel.add(self.code_h, "H(p)")
        self.panel.add(self.code_l, "L = Σ pᵢ ℓᵢ")
        self.panel.plot.vb.setMouseEnabled(x=False, y=False)

        self.summary = selectable_label(rich=True)
        self.message_label = selectable_label(rich=True)
        tips = (
            "symbol (outcome) index",
            "its probability under p",
            "Huffman codeword: no codeword is the start of another, so a message needs no separators",
            "its surprise in bits, the ideal length: Huffman's lengths are within 1 bit of it on average",
        )
        self.table = ReadOnlyTable(["i", "pᵢ", "code", "−log₂ pᵢ"], tips=tips, stretch=None)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)  # codewords keep their full length; the surprise column gives way
        self.side = QtWidgets.QWidget()
        side_layout = QtWidgets.QVBoxLayout(self.side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QtWidgets.QLabel("<b>Huffman code for p</b>"))
        side_layout.addWidget(self.summary)
        side_layout.addWidget(self.message_label)
        side_layout.addWidget(self.table, 1)

    def restyle(self, theme: Theme) -> None:
        self._mono_codewords()

    def _mono_codewords(self) -> None:
        """Codewords in a fixed-width font of the table's (theme's) size, so their lengths line up."""
        mono = QtGui.QFont(self.table.font())
        mono.setFamilies(["DejaVu Sans Mono", "Menlo", "Consolas", "monospace"])
        mono.setStyleHint(QtGui.QFont.StyleHint.TypeWriter)
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 2)
            if item is not None:
                item.setFont(mono)

    # --- drawing -------------------------------------------------------------------------------
    def draw(self, p: np.ndarray, c: information.Compression, seed: int) -> None:
        self.compression = c
        self._draw_message(c)
        self._fill_code_table(p, c)
        self._write_message(c, seed)

    def _draw_message(self, c: information.Compression) -> None:
        n = c.message.size
        m = np.arange(1, n + 1, dtype=float)
        self.code_curve.setData(m, c.cumulative_bits_per_symbol)
        self.code_h.setData([1, max(n, 2)], [c.entropy] * 2)
        self.code_l.setData([1, max(n, 2)], [c.average_length] * 2)
        low = min(c.entropy, float(c.cumulative_bits_per_symbol.min()))
        high = max(c.average_length, float(c.cumulative_bits_per_symbol.max()))
        span = max(high - low, 0.5)
        plot = self.panel.plot
        plot.setXRange(0, math.log10(max(n, 2)), padding=0.06)  # room for the last decade's label at n = 10ᵏ
        plot.setYRange(max(0.0, low - 0.1 * span), high + 0.1 * span, padding=0.02)
        plot.getAxis("bottom").setTicks(decade_ticks(n))
        plot.setTitle(f"{c.actual_bits:,} bits; n·H(p) = {c.entropy_bits:,.0f}")

    def _fill_code_table(self, p: np.ndarray, c: information.Compression) -> None:
        k = p.size
        if self.table.rowCount() != k:
            self.table.clearContents()
            self.table.setRowCount(k)
            for row in range(k):
                self.table.set_row(row, [""] * 4, align=_RIGHT)
                self.table.item(row, 2).setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            self._mono_codewords()
        for i in range(k):
            surprise = -math.log2(p[i]) if p[i] > 0 else math.inf
            self.table.set_row(i, [str(i), f"{p[i]:.4f}", c.code.get(i, "—"), num(surprise, 2)])
            word = c.code.get(i)
            tip = f"{len(word)} bits for outcome {i}" if word else "probability 0: never sent, so it gets no codeword"
            self.table.item(i, 2).setToolTip(tip)
        bound = f"H(p) = {num(c.entropy)} ≤ L &lt; H(p) + 1 = {num(c.entropy + 1)} (Shannon)"
        if len(c.code) == 1:  # a certain outcome: no information, but a prefix code still spends one bit
            bound = "H(p) = 0: nothing to say, yet a code still spends 1 bit per symbol (L = H + 1)"
        self.summary.setText(f"Average length L = Σ pᵢ ℓᵢ = <b>{bits(c.average_length)}</b> per symbol;<br>{bound}")

    def _write_message(self, c: information.Compression, seed: int) -> None:
        n, shown = c.message.size, 6
        more = " …" if n > shown else ""
        symbols = " ".join(str(s) for s in c.message[:shown]) + more
        words = " ".join(c.code[int(s)] for s in c.message[:shown]) + more
        check = "decoded back exactly" if c.round_trip else "did NOT decode back"
        self.message_label.setText(
            f"<b>Message</b> of n = {n:,} symbols (seed {seed}): <b>{c.actual_bits:,} bits</b> = "
            f"{num(c.actual_bits / n)} per symbol; n·H(p) = {c.entropy_bits:,.1f}, "
            f"n·L = {c.expected_bits:,.1f}; "
            f"{check}.<br><tt>{symbols}<br>→ {words}</tt>"
        )

    # --- hover ---------------------------------------------------------------------------------
    def describe_message(self, x: float, y: float) -> str | None:
        c = self.compression
        if c is None:
            return None
        m = int(np.clip(round(10**x), 1, c.message.size))
        used = c.cumulative_bits_per_symbol[m - 1] * m
        return (f"after m = {m:,} symbols: {used:,.0f} bits sent = {bits(used / m)} per symbol; "
                f"the code's average is L = {num(c.average_length)}, the bound H(p) = {num(c.entropy)}")  # fmt: skip
