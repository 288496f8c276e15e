"""Entropy: an editable distribution, cross-entropy and KL, Huffman compression, and a decision-tree split.

Nothing trains here: every edit (a dragged bar, a preset, a typed vector, a moved threshold) calls a
few cheap functions of ``explorer.lab.entropy.information`` and ``explorer.lab.entropy.decision_split`` and redraws.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from explorer.lab.entropy import information, params
from explorer.lab.entropy.params import COINS, FEATURE_NAMES, FEATURES, SHAPES
from explorer.ui.tabs.entropy.bars import lift
from explorer.ui.tabs.entropy.compression_panel import CompressionPanel
from explorer.ui.tabs.entropy.formatting import bits, num
from explorer.ui.tabs.entropy.information_panels import InformationPanels
from explorer.ui.tabs.entropy.split_panels import SplitPanels
from explorer.ui.tabs.entropy.tables import entropy_tables, split_tables
from explorer.ui.theme import Theme
from explorer.ui.topic import Table, TopicTab, register
from explorer.ui.widgets.fit import Cell, FlowGrid
from explorer.ui.widgets.label import hold_two_lines, selectable_label
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import HoverReadout


@register
class EntropyTab(TopicTab):
    minimum_height = 560  # two rows of plots; the page scrolls below this
    summary = "Drag the bars of p or q: entropy, cross-entropy, KL and the Huffman code follow at once."

    specs = params.PARAMS

    @classmethod
    def check_values(cls, values: dict[str, Any], given: set[str]) -> None:
        params.check_values(values, given)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.p: np.ndarray | None = None
        self.q: np.ndarray | None = None
        self.info: information.PairSummary | None = None  # every number the information plots show
        self.compression: information.Compression | None = None
        self._error = False
        self.view = pg.GraphicsLayoutWidget()
        self.info_plots = InformationPanels(self.styled)
        self.code_plots = CompressionPanel(self.styled)
        self.split_plots = SplitPanels(self.styled)
        info, split = self.info_plots, self.split_plots
        # three a row where the width holds them, else two or one: the plots never squeeze; the point set
        # needs the height more than the bars (row stretch 5 against 4)
        cells = (
            Cell(info.pq_panel, 4, 4), Cell(info.ce_panel, 3, 4), Cell(info.binary_panel, 3, 4),
            Cell(self.code_plots.panel, 3, 5), Cell(split.split_panel, 4, 5), Cell(split.gain_panel, 3, 5),
        )  # fmt: skip
        self.flow = FlowGrid(self.view, self.view.ci, cells, (3, 2, 1))
        info.p_bars.sig_drag.connect(lambda i, h, done: self._on_drag("p", i, h))
        info.q_bars.sig_drag.connect(lambda i, h, done: self._on_drag("q", i, h))
        for line in split.lines():
            line.sigPositionChanged.connect(self._on_line_moved)
        self._build_widgets()
        self._restyle_fixed()

    def _build_widgets(self) -> None:
        self.p_edit = QtWidgets.QLineEdit()
        self.q_edit = QtWidgets.QLineEdit()
        for edit, which in ((self.p_edit, "p"), (self.q_edit, "q")):
            edit.setPlaceholderText("weights, e.g. 4 2 1 1")
            edit.setToolTip(f"Type {which} as 2 to 32 non-negative weights separated by spaces or commas and "
                            "press Enter; they are divided by their sum")  # fmt: skip
        self.p_edit.returnPressed.connect(lambda: self._on_typed("p"))
        self.q_edit.returnPressed.connect(lambda: self._on_typed("q"))
        typing = QtWidgets.QHBoxLayout()
        for text, edit in (("p =", self.p_edit), ("q =", self.q_edit)):
            typing.addWidget(QtWidgets.QLabel(text))
            typing.addWidget(edit, 1)

        self.entropy_label, self.cross_label, self.split_label = (selectable_label(rich=True) for _ in range(3))

        self.hover = selectable_label("Hover over a plot to read its numbers and their formulas.")
        info, split = self.info_plots, self.split_plots
        self.readouts = [
            HoverReadout(info.pq_panel.plot, info.describe_bar, self.hover),
            HoverReadout(info.ce_panel.plot, info.describe_cross, self.hover),
            HoverReadout(info.binary_panel.plot, info.describe_binary, self.hover),
            HoverReadout(self.code_plots.panel.plot, self.code_plots.describe_message, self.hover),
            HoverReadout(split.split_panel.plot, split.describe_point, self.hover),
            HoverReadout(split.gain_panel.plot, split.describe_gain, self.hover),
        ]
        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.view, 1)
        left_layout.addLayout(typing)
        left_layout.addWidget(self.hover)
        # the formulas with their numbers in a column beside the plots, in the order of the plots' rows:
        # under the plots they would take the height the point set needs on a projector
        side = QtWidgets.QWidget()
        side.setMinimumWidth(230)
        side.setMaximumWidth(340)
        side_layout = QtWidgets.QVBoxLayout(side)
        side_layout.setContentsMargins(4, 0, 0, 0)
        side_layout.addWidget(self.entropy_label)
        side_layout.addWidget(self.cross_label)
        side_layout.addWidget(self.code_plots.side, 1)
        side_layout.addWidget(self.split_label)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(left, 1)
        layout.addWidget(side)

    def _panels(self) -> tuple[LegendedPlot, ...]:
        return (*self.info_plots.panels(), self.code_plots.panel, *self.split_plots.panels())

    # --- theme: what is not one series of a method ---------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        super().apply_theme(theme)
        self._restyle_fixed()

    def _restyle_fixed(self) -> None:
        theme = self.styled.theme
        for part in (self.info_plots, self.code_plots, self.split_plots):
            part.restyle(theme)
        for panel in self._panels():
            panel.legend.update()
            panel.fit_legend()
        hold_two_lines(self.hover)

    # --- state ---------------------------------------------------------------------------------
    def _from_preset(self, which: str, k: int) -> np.ndarray:
        values = self.values()
        kind = values[f"{which}_preset"]
        if kind == "custom":
            current = self.p if which == "p" else self.q
            return current if current is not None and current.size == k else information.presets("uniform", k)
        shape = values[f"{which}_{SHAPES[kind]}"] if kind in SHAPES else None
        return information.presets(kind, k, shape)

    def _ensure(self) -> None:
        """Build everything from the parameters the first time it is needed (shown or exported)."""
        if self.p is None and self.panel is not None:
            self._rebuild_distributions()
            self._refresh_split()

    def _rebuild_distributions(self) -> None:
        assert self.panel is not None
        if any(self.panel.value(f"{w}_preset") in COINS for w in "pq"):  # a coin has two outcomes
            self.panel.set_value("outcomes", 2, quiet=True)
        k = self.panel.value("outcomes")
        self.p = self._from_preset("p", k)
        self.q = self._from_preset("q", k)
        self._refresh_information()

    def start_jobs(self) -> None:
        self._ensure()

    def on_param_changed(self, key: str, value: Any) -> bool:
        """Everything redraws at once; there is no experiment to restart."""
        try:
            if self.p is None:  # not built yet (a --set before the first show): build from all values
                self._ensure()
            else:
                self._apply(key, value)
        except ValueError as exc:
            self._complain(str(exc))
            return False
        self._clear_complaint()
        return False

    def _apply(self, key: str, value: Any) -> None:
        assert self.panel is not None
        if key == "outcomes":
            for which in "pq":  # more outcomes than a coin has: the coin becomes uniform
                if value != 2 and self.panel.value(f"{which}_preset") in COINS:
                    self.panel.set_value(f"{which}_preset", "uniform", quiet=True)
            self._rebuild_distributions()
        elif key.startswith(("p_", "q_")):
            which, kind = key[0], self.panel.value(f"{key[0]}_preset")
            if kind in COINS and self.panel.value("outcomes") != 2:
                self._rebuild_distributions()
            elif key.endswith("_preset") or SHAPES.get(kind) == key[2:]:
                self._set_distribution(which, self._from_preset(which, self.panel.value("outcomes")))
        elif key == "message_length":
            self._refresh_information()
        elif key == "seed":
            self._refresh_information()
            self._refresh_split()
        elif key == "threshold":
            self._refresh_threshold(float(value))
        elif key.startswith("split_"):
            self._refresh_split()

    def _set_distribution(self, which: str, dist: np.ndarray) -> None:
        if which == "p":
            self.p = dist
        else:
            self.q = dist
        self._refresh_information()

    def _complain(self, text: str) -> None:
        self._error = True
        self.sig_message.emit(text)

    def _clear_complaint(self) -> None:
        if self._error:  # an empty message clears the banner
            self._error = False
            self.sig_message.emit("")

    # --- edits ---------------------------------------------------------------------------------
    def _on_drag(self, which: str, index: int, height: float) -> None:
        current = self.p if which == "p" else self.q
        if current is None or self.panel is None or index >= current.size:
            return
        try:
            new = lift(current, index, height)
        except ValueError as exc:
            self._complain(str(exc))
            return
        self.panel.set_value(f"{which}_preset", "custom", quiet=True)
        self._set_distribution(which, new)
        self._clear_complaint()

    def set_bar(self, which: str, index: int, height: float) -> None:
        """What dragging bar ``index`` of p or q to ``height`` does, without the mouse."""
        self._on_drag(which, index, height)

    def _on_typed(self, which: str) -> None:
        edit = self.p_edit if which == "p" else self.q_edit
        try:
            dist = self.parse_weights(edit.text())
        except ValueError as exc:
            self._complain(f"{which}: {exc}")
            return
        assert self.panel is not None
        k = dist.size
        self.panel.set_value(f"{which}_preset", "custom", quiet=True)
        if k != self.panel.value("outcomes"):
            other = "q" if which == "p" else "p"
            if self.panel.value(f"{other}_preset") in COINS:
                self.panel.set_value(f"{other}_preset", "uniform", quiet=True)
            self.panel.set_value("outcomes", k, quiet=True)
            if other == "q":
                self.q = self._from_preset("q", k)
            else:
                self.p = self._from_preset("p", k)
        self._set_distribution(which, dist)
        self._clear_complaint()

    @staticmethod
    def parse_weights(text: str) -> np.ndarray:
        """'4 2 1 1' or '0.5, 0.25, 0.125, 0.125' -> a distribution; ValueError says what is wrong."""
        parts = [t for t in re.split(r"[\s,;]+", text.strip().strip("[]()")) if t]
        try:
            weights = np.array([float(t) for t in parts])
        except ValueError:
            raise ValueError(f"could not read {text!r}: type numbers separated by spaces or commas") from None
        lo, hi = information.MIN_OUTCOMES, information.MAX_OUTCOMES
        if not lo <= weights.size <= hi:
            raise ValueError(f"need {lo} to {hi} weights, got {weights.size}")
        return information.normalize(weights)

    def _on_line_moved(self, line: pg.InfiniteLine) -> None:
        if self.split_plots.syncing or self.panel is None:
            return
        value = float(np.clip(round(line.value(), 4), -6.0, 6.0))
        self.panel.set_value("threshold", value, quiet=True)
        self._refresh_threshold(value)

    # --- computing and drawing -----------------------------------------------------------------
    def _refresh_information(self) -> None:
        p, q = self.p, self.q
        assert p is not None and q is not None
        values = self.values()
        compression = information.compress(p, values["message_length"], values["seed"])
        info = information.summarize(p, q)
        self.info, self.compression = info, compression
        self.info_plots.draw(p, q, info)
        self.code_plots.draw(p, compression, values["seed"])
        for edit, dist in ((self.p_edit, p), (self.q_edit, q)):
            if not edit.hasFocus():
                edit.setText(" ".join(num(v, 4) for v in dist))
                edit.setCursorPosition(0)  # show the first outcomes
        self._write_information(info)

    def _write_information(self, info: information.PairSummary) -> None:
        pq, qp = info.pq, info.qp
        self.entropy_label.setText(
            f"<b>Entropy</b> H(p) = −Σ p log₂ p = <b>{bits(info.entropy)}</b> = {num(info.entropy_nats)} nats, "
            f"at most log₂ {info.k} = {bits(info.max_entropy)} (uniform)"
        )
        kl = f"{num(pq.kl)}" if math.isfinite(pq.kl) else "∞ (q = 0 where p &gt; 0)"
        self.cross_label.setText(
            f"<b>Cross-entropy</b> H(p, q) = −Σ p log₂ q = <b>{bits(pq.cross_entropy)}</b> "
            f"= H(p) {num(pq.entropy)} + KL(p‖q) {kl} ({num(info.cross_entropy_nats)} nats: the classifier's loss). "
            f"KL(q‖p) = {num(qp.kl)} ≠ KL(p‖q)"
        )

    def _refresh_split(self) -> None:
        values = self.values()
        blobs = params.point_set(values)
        points, labels = blobs.draw()
        self.split_plots.set_points(points, labels, blobs.num_classes)
        self._refresh_threshold(values["threshold"])

    def _refresh_threshold(self, threshold: float) -> None:
        plots = self.split_plots
        j = FEATURES.index(self.values()["split_feature"])
        split = plots.set_threshold(j, threshold)
        if split is None or plots.best is None:
            return
        name, best = FEATURE_NAMES[j], plots.best
        scan = best.scans[j]
        n = split.left_count + split.right_count
        self.split_label.setText(
            f"<b>Split</b> {name} ≤ {num(threshold, 2)}: IG = H(parent) − Σ (nᵢ/n) H(childᵢ) "
            f"= {num(split.parent_entropy)} − ({split.left_count}/{n}·{num(split.left_entropy)} + "
            f"{split.right_count}/{n}·{num(split.right_entropy)}) = <b>{bits(split.gain)}</b>; "
            f"best {name} ≤ {num(scan.best_threshold)} ({bits(scan.best_gain)}), over both features "
            f"{FEATURE_NAMES[best.feature]} ≤ {num(best.threshold)} ({bits(best.gain)})"
        )

    # --- export ---------------------------------------------------------------------------------
    def plots(self) -> dict[str, pg.GraphicsItem]:
        self._ensure()
        info, split = self.info_plots, self.split_plots
        return {
            "figure": self.view.ci,
            "distributions": info.pq_panel,
            "cross_entropy": info.ce_panel,
            "binary_entropy": info.binary_panel,
            "compression": self.code_plots.panel,
            "split": split.split_panel,
            "gain": split.gain_panel,
        }

    def tables(self) -> dict[str, Table]:
        self._ensure()
        if self.p is None or self.q is None or self.info is None or self.compression is None:
            return {}
        tables = entropy_tables(self.p, self.q, self.info, self.compression)
        tables.update(split_tables(self.split_plots))
        return tables
