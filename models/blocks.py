"""A network as stem -> hidden blocks -> head, where each block is F(x) or x + F(x).

He et al. (2016), "Deep Residual Learning for Image Recognition": a residual block adds its input
back, h = x + F(x), so the gradient reaching x has an identity path that no product of small
Jacobians can shrink. The same branch F without the addition is a plain (VGG-style) layer, which is
what lets one config build both networks and compare them with nothing else changed. Branches use
the pre-activation order norm -> activation -> weights (He et al. 2016, "Identity Mappings in Deep
Residual Networks") so that nothing squashes the sum x + F(x).
"""

from __future__ import annotations

import torch
from torch import nn

from models.layers import Activation, Init, init_parameters


class Block(nn.Module):
    """One hidden block: ``branch`` is F; with ``residual`` the output is ``shortcut(x) + F(x)``.

    ``shortcut`` is the identity, or a projection where F changes the shape (He et al. 2016, option B).
    A plain block has no shortcut at all, so plain and residual nets differ only in the addition and
    in those few projections.
    """

    def __init__(self, branch: nn.Module, residual: bool, projection: nn.Module | None = None) -> None:
        super().__init__()
        self.branch = branch
        self.residual = residual
        if not residual:
            projection = None  # a plain block has no second path, so no projection weights either
        elif projection is None:
            projection = nn.Identity()
        self.shortcut = projection

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.branch(x)
        return self.shortcut(x) + f if self.shortcut is not None else f

    def branch_weights(self) -> list[torch.Tensor]:
        """The weight matrices/kernels of F, in order (biases and norm scales left out)."""
        return [p for p in self.branch.parameters() if p.ndim > 1]


class BlockNet(nn.Module):
    """Common shape of the MLP and the CNN: ``stem``, ``blocks`` (a ModuleList of Block), ``head``.

    ``layers()`` lists them input first, the order every per-layer array in the lab uses.
    Subclasses build their modules inside ``torch.device("meta")`` and call ``_materialize`` so
    construction never touches the global random state: the seed alone decides the weights.
    """

    stem: nn.Module
    blocks: nn.ModuleList
    head: nn.Module
    # When a list, a forward pass that builds a graph leaves its hidden states in it: h_0 (stem
    # output), then h_1..h_L (block outputs). Instrumentation reads dL/dh from them without the cost
    # of a module hook per block; passes under no_grad leave it alone.
    hidden_tap: list[torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        tap = self.hidden_tap if h.requires_grad else None
        if tap is not None:
            tap.clear()
            tap.append(h)
        for block in self.blocks:
            h = block(h)
            if tap is not None:
                tap.append(h)
        return self.head(h)

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def layers(self) -> list[nn.Module]:
        """Input projection, hidden blocks, output head: the rows of a gradient-flow heatmap."""
        return [self.stem, *self.blocks, self.head]

    def layer_names(self) -> list[str]:
        return ["input", *(f"block {i + 1}" for i in range(self.n_blocks)), "output"]

    def layer_weights(self) -> list[list[torch.Tensor]]:
        """Weights (ndim > 1) of each layer; a block contributes its branch only, not a projection."""
        return [
            [p for p in self.stem.parameters() if p.ndim > 1],
            *(block.branch_weights() for block in self.blocks),
            [p for p in self.head.parameters() if p.ndim > 1],
        ]

    def _materialize(self, init: Init, activation: Activation, seed: int) -> None:
        # Modules were created on the meta device (no memory, no random draws); give them CPU
        # storage, then fill every tensor from the seeded generator.
        self.to_empty(device="cpu")
        init_parameters(self, init, activation, seed)
