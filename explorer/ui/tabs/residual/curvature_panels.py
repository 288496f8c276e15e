"""The residual tab's curvature panels: the top Hessian eigenvalue of every net over training, and, for
the plain and residual net of one depth, the spectral density and each block's top eigenvalue at the end.

A sharp minimum has a large top eigenvalue; a plain deep net's loss bends far more sharply than its
residual twin's (Li et al. 2018 see the same in their landscapes), and its block curvature piles up at
the ends of the stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg

from explorer.ui.tabs.residual.cells import KINDS, set_title
from explorer.ui.tabs.residual.training_panels import DEPTH_PENS, slots
from explorer.ui.theme import Theme
from explorer.ui.topic import Table
from explorer.ui.widgets.legended import LegendedPlot
from explorer.ui.widgets.plots import GrowOnlyRange, Styled

if TYPE_CHECKING:
    from explorer.lab.residual.curvature_pair import CurvaturePair
    from explorer.lab.residual.residual import ResidualFrame

_FLOOR = 1e-12  # log-axis floor: an eigenvalue of zero (or below) still draws
_BAR = 0.4  # width of one net's bar; the pair of a block spans 0.8


def block_label(name: str) -> str:
    """Block "blocks.3" -> "4" (blocks count from 1, input to output); "stem", "head" stay."""
    return str(int(name.split(".")[1]) + 1) if name.startswith("blocks.") else name


class CurvaturePanels:
    """Top eigenvalue over training (every depth), spectral density and per-block bars (one depth)."""

    def __init__(self, styled: Styled) -> None:
        self.styled = styled
        self.sharpness = LegendedPlot(styled, "Top Hessian eigenvalue over training", "step",
                                      "λ_max of the minibatch loss Hessian", columns=3, log_y=True)  # fmt: skip
        self.sharpness_curves = {kind: [pg.PlotDataItem(symbol="o", symbolSize=5) for _ in DEPTH_PENS]
                                 for kind in KINDS}  # fmt: skip
        for kind, curves in self.sharpness_curves.items():
            for item, (style, width) in zip(curves, DEPTH_PENS, strict=True):
                styled.keyed(item, kind, width, style)
                self.sharpness.add(item)
        self.sharpness_range = GrowOnlyRange(self.sharpness.plot, log=True)
        self.density = LegendedPlot(styled, "Hessian spectral density", "eigenvalue λ", "density (1 / λ)",
                                    columns=2, log_y=True, downsample=False)  # fmt: skip
        self.density_curves = {kind: styled.keyed(pg.PlotDataItem(), kind, 2.0) for kind in KINDS}
        for kind, item in self.density_curves.items():
            self.density.add(item, kind)
        self.blocks = LegendedPlot(styled, "Top eigenvalue of each block's Hessian", "block (input → output)",
                                   "λ_max of the block", columns=2, log_y=True, downsample=False)  # fmt: skip
        # pre-logged heights on a log-mode plot: BarGraphItem has no log mode of its own, the axis labels decades
        self.bars = {kind: styled.keyed(pg.BarGraphItem(x=[], height=[], width=_BAR), kind) for kind in KINDS}
        for kind, item in self.bars.items():
            self.blocks.add(item, kind)
        self.pair: CurvaturePair | None = None
        self._legend_names: list[str] = []

    def restyle(self, theme: Theme) -> None:
        for panel in (self.sharpness, self.density, self.blocks):
            panel.legend.update()
            panel.fit_legend()

    def new_run(self) -> None:
        self.sharpness_range.reset()
        self.clear()

    def clear(self) -> None:
        """No analysis of these nets yet: empty density and bars."""
        self.pair = None
        for item in self.density_curves.values():
            item.setData([], [])
        for item in self.bars.values():
            item.setOpts(x=[], height=[], y0=0)
        set_title(self.density.plot, "Hessian spectral density")
        set_title(self.blocks.plot, "Top eigenvalue of each block's Hessian")

    # --- over training ---------------------------------------------------------------------------
    def show_frame(self, frame: ResidualFrame, every: int) -> None:
        order = slots(frame.depths)
        tracked = [np.isfinite(frame.plain_top[frame.depths.index(d)]).any() for d in order]  # NaN rows: untracked
        for kind, tops in (("plain", frame.plain_top), ("residual", frame.residual_top)):
            for slot, item in enumerate(self.sharpness_curves[kind]):
                if slot < len(order) and tracked[slot]:
                    values = tops[frame.depths.index(order[slot])]
                    item.setData(frame.curvature_steps, np.maximum(values, _FLOOR))
                else:
                    item.setData([], [])
        if frame.curvature_steps.size:
            self.sharpness_range.include(np.maximum(frame.plain_top, _FLOOR), np.maximum(frame.residual_top, _FLOOR))
        shown = [(slot, d) for slot, d in enumerate(order) if tracked[slot]]
        names = [f"{kind} {d}" for kind in KINDS for _, d in shown]
        if names != self._legend_names:
            self._legend_names = names
            self.sharpness.legend.clear()
            for kind in KINDS:
                for slot, d in shown:
                    self.sharpness.legend.addItem(self.sharpness_curves[kind][slot], f"{kind} {d}")
            self.sharpness.fit_legend()
        title = "Top Hessian eigenvalue: off" if every == 0 else f"Top Hessian eigenvalue, every {every} steps"
        set_title(self.sharpness.plot, title)

    # --- at one checkpoint ---------------------------------------------------------------------
    def show(self, pair: CurvaturePair) -> None:
        self.pair = pair
        nets = {"plain": pair.plain, "residual": pair.residual}
        for kind, net in nets.items():
            if net.density.size:
                floor = 1e-6 * float(net.density.max())  # the tails fall to 0: keep six decades in view
                self.density_curves[kind].setData(net.grid, np.maximum(net.density, floor))
        set_title(self.density.plot, f"Hessian spectral density, {pair.depth} blocks, step {pair.step}")
        logged = {k: np.log10(np.maximum(n.block_tops, _FLOOR)) for k, n in nets.items() if n.block_tops.size}
        if logged:
            low = np.floor(min(float(v.min()) for v in logged.values())) - 0.5  # bars rise from below the lowest
            for i, kind in enumerate(KINDS):
                if kind in logged:
                    x = np.arange(len(logged[kind]), dtype=float) + (i - 0.5) * _BAR
                    self.bars[kind].setOpts(x=x, height=logged[kind] - low, y0=low, width=_BAR)
            names = next(n.block_names for n in nets.values() if n.block_names)
            ticks = [(i, block_label(name)) for i, name in enumerate(names)]
            step = max(1, len(ticks) // 12)  # a 56-block net: a label every few blocks
            last = len(ticks) - 1  # "head": always named, so a label just before it would overlap
            shown = [t for t in ticks if (t[0] % step == 0 and last - t[0] >= max(1, step // 2)) or t[0] == last]
            self.blocks.plot.getAxis("bottom").setTicks([shown, ticks])
            # room beside the end bars: an axis with a grid drops a label whose text runs past the plot, and
            # the ends are "stem" and "head"
            pad = max(0.8, 0.06 * len(names))
            self.blocks.plot.setXRange(-pad, len(names) - 1 + pad, padding=0)
            self.blocks.plot.enableAutoRange(axis="y")
        set_title(self.blocks.plot, f"Top eigenvalue of each block's Hessian, {pair.depth} blocks")

    # --- text ------------------------------------------------------------------------------------
    def describe_sharpness(self, frame: ResidualFrame, x: float) -> str | None:
        if frame.curvature_steps.size == 0:
            return None
        k = int(np.abs(frame.curvature_steps - x).argmin())
        parts = [f"{kind} {d}: {tops[i, k]:.4g}" for kind, tops in (("plain", frame.plain_top),
                 ("residual", frame.residual_top)) for i, d in enumerate(frame.depths)
                 if np.isfinite(tops[i]).any()]  # fmt: skip
        return f"step {int(frame.curvature_steps[k])}, top Hessian eigenvalue — " + ", ".join(parts)

    def describe_blocks(self, x: float) -> str | None:
        pair = self.pair
        if pair is None or not pair.plain.block_names:
            return None
        b = round(x)
        if not 0 <= b < len(pair.plain.block_names):
            return None
        name = block_label(pair.plain.block_names[b])
        values = [f"{kind} {net.block_tops[b]:.4g}" for kind, net in (("plain", pair.plain),
                  ("residual", pair.residual)) if net.block_tops.size > b]  # fmt: skip
        return f"block {name}: top eigenvalue of its own Hessian — " + ", ".join(values)

    @staticmethod
    def frame_tables(frame: ResidualFrame) -> dict[str, Table]:
        table: Table = {"step": frame.curvature_steps}
        for kind, tops in (("plain", frame.plain_top), ("residual", frame.residual_top)):
            for i, d in enumerate(frame.depths):
                table[f"{kind}_{d}_top_eigenvalue"] = tops[i]
        return {"curvature": table}

    def tables(self) -> dict[str, Table]:
        pair = self.pair
        if pair is None:
            return {}
        nets = (("plain", pair.plain), ("residual", pair.residual))
        tables: dict[str, Table] = {"top_eigenvalue": {f"{k}_{pair.depth}": [n.top] for k, n in nets}}
        if pair.plain.block_names:
            blocks: Table = {"block": [block_label(n) for n in pair.plain.block_names]}
            for kind, net in nets:
                blocks[f"{kind}_{pair.depth}_top_eigenvalue"] = net.block_tops
            tables["block_curvature"] = blocks
        if pair.plain.density.size and pair.residual.density.size:
            density: Table = {}
            for kind, net in nets:
                density[f"{kind}_{pair.depth}_eigenvalue"] = net.grid
                density[f"{kind}_{pair.depth}_density"] = net.density
            tables["spectral_density"] = density
        return tables
