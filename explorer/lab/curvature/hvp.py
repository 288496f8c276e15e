"""Exact Hessian-vector products of a model's loss on one batch (Pearlmutter 1994), by double backward.

The gradient g(theta) is taken once with ``create_graph=True``; every product H v = d(g . v)/d(theta)
is then one more backward pass through that saved graph, about the cost of a second backward (no new
forward). The model is never touched: its parameters enter as detached leaf copies through
``torch.func.functional_call`` (so no ``.grad`` is left on them and none is changed), and its buffers
as clones (so a batch-norm layer in train mode updates the clones' running statistics, not the model's).

Products run with denormal floats flushed to zero: a confident classifier's second derivatives
p (1 - p) underflow into denormals, which x86 CPUs compute ~3x slower, for terms 1e-30 below the rest.

Caution: the Hessian is that of the model *in its current mode*; put batch-norm nets in eval mode for
the curvature of the deployed function. Parameters with ``requires_grad=False`` are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class Block:
    """A group of parameters whose own Hessian block is asked for: flat positions [start, stop)."""

    name: str
    indices: tuple[int, ...]  # positions in LossHessian.names
    start: int
    stop: int


def _flushing_denormals() -> bool:
    # No getter exists: a denormal survives a multiplication only while flushing is off.
    return bool((torch.full((1,), 1e-39, dtype=torch.float32) * 1.0).item() == 0.0)


@contextmanager
def denormals_flushed() -> Iterator[None]:
    """Flush denormals to zero inside the block (on CPUs that can), then restore the caller's setting."""
    was = _flushing_denormals()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was)


def check_batch(batch: object) -> Batch:
    """``batch`` as (inputs, targets), or ValueError naming what is wrong with it."""
    if not isinstance(batch, Sequence) or len(batch) != 2:
        raise ValueError("batch must be a pair (inputs, targets)")
    inputs, targets = batch
    for name, t in (("inputs", inputs), ("targets", targets)):
        if not isinstance(t, torch.Tensor):
            raise ValueError(f"batch {name} must be a tensor, got {type(t).__name__}")
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise ValueError(f"batch {name} must be finite")
    return inputs, targets


def model_blocks(model: nn.Module) -> list[tuple[str, list[str]]]:
    """(block name, its parameter names) for every direct child module that has parameters.

    A pure container (ModuleList, ModuleDict) is not a block of its own: its children are, so a net
    of ``stem``, ``blocks`` (a ModuleList) and ``head`` has blocks ``stem``, ``blocks.0``, ... ``head``.
    A parameter held by the model itself is a block alone, named like the parameter.
    """
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    found: list[tuple[str, list[str]]] = []

    def visit(prefix: str, module: nn.Module) -> None:
        for child_name, child in module.named_children():
            full = f"{prefix}{child_name}"
            if isinstance(child, nn.ModuleList | nn.ModuleDict):
                visit(full + ".", child)
                continue
            own = [n for n in names if n.startswith(full + ".")]
            if own:
                found.append((full, own))

    visit("", model)
    in_children = {n for _, own in found for n in own}
    return [(n, [n]) for n in names if n not in in_children] + found


class LossHessian:
    """The Hessian of ``loss_fn(model(inputs), targets)`` w.r.t. the trainable parameters, as an operator.

    Vectors are flat (n,) tensors in ``named_parameters`` order, in ``self.dtype`` on ``self.device``.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, batch: object, dtype: torch.dtype | None = None) -> None:
        inputs, targets = check_batch(batch)
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if not named:
            raise ValueError("model has no trainable parameters")
        if dtype is not None and not dtype.is_floating_point:
            raise ValueError(f"dtype must be a floating-point dtype, got {dtype}")
        self.dtype = dtype or named[0][1].dtype
        self.device = named[0][1].device
        self.model = model
        self.names = [n for n, _ in named]
        self.shapes = [p.shape for _, p in named]
        self.sizes = [p.numel() for _, p in named]
        self.size = sum(self.sizes)
        for n, p in named:
            if not torch.isfinite(p).all():
                raise ValueError(f"model parameter {n} is not finite")
        self.leaves = [p.detach().to(self.dtype).requires_grad_(True) for _, p in named]
        buffers = {
            n: b.detach().to(self.dtype).clone() if b.is_floating_point() else b.detach().clone()
            for n, b in model.named_buffers()
        }
        cast = [t.to(self.dtype) if t.is_floating_point() else t for t in (inputs, targets)]
        weights = {**dict(zip(self.names, self.leaves, strict=True)), **buffers}
        with torch.enable_grad(), denormals_flushed():
            outputs = torch.func.functional_call(model, weights, (cast[0],))
            loss = loss_fn(outputs, cast[1])
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                raise ValueError("loss_fn must return a scalar tensor")
            if not torch.isfinite(loss):
                raise ValueError(f"the loss on this batch is not finite ({loss.item()})")
            self.loss = float(loss.detach())
            self.grads = torch.autograd.grad(
                loss, self.leaves, create_graph=True, allow_unused=True, materialize_grads=True
            )
        self.gradient = torch.cat([g.detach().reshape(-1) for g in self.grads])  # (n,)
        bounds = torch.tensor([0, *self.sizes]).cumsum(0).tolist()
        self.blocks = []
        position = {n: i for i, n in enumerate(self.names)}
        for block_name, members in model_blocks(model):
            indices = tuple(position[m] for m in members)
            if indices != tuple(range(indices[0], indices[-1] + 1)):
                raise ValueError(f"block {block_name}'s parameters are not contiguous in named_parameters")
            self.blocks.append(Block(block_name, indices, bounds[indices[0]], bounds[indices[-1] + 1]))

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """H v for a flat (n,) vector."""
        return self._product(v, tuple(range(len(self.names))))

    def block_matvec(self, block: Block) -> Callable[[torch.Tensor], torch.Tensor]:
        """v_b -> H_bb v_b: the Hessian block of ``block``'s own parameters, on (stop - start,) vectors."""
        return lambda v: self._product(v, block.indices)

    def _product(self, v: torch.Tensor, indices: tuple[int, ...]) -> torch.Tensor:
        pieces = torch.split(v.to(self.dtype), [self.sizes[i] for i in indices])
        live = [(i, piece) for i, piece in zip(indices, pieces, strict=True) if self.grads[i].requires_grad]
        if not live:  # every gradient is constant here: no curvature at all
            return torch.zeros(len(v), dtype=self.dtype, device=self.device)
        with denormals_flushed():
            products = torch.autograd.grad(
                [self.grads[i] for i, _ in live],
                [self.leaves[i] for i in indices],
                grad_outputs=[piece.view(self.shapes[i]) for i, piece in live],
                retain_graph=True,
                allow_unused=True,
                materialize_grads=True,
            )
        return torch.cat([p.reshape(-1) for p in products])  # (sum of the blocks' sizes,)
