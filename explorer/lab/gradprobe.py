"""Instrumented training of the networks in ``models``: gradient norms per layer, every step, cheaply.

Measuring gradient flow must not change what it measures or how fast it runs. ``GradFlowProbe``
keeps one small row of norms per step on the device and moves a frame's rows to the host in one copy;
``Trainee`` wraps a network, its optimizer, a probe and bounded histories, the unit both gradient-flow
experiments train side by side (plain and residual; He et al. 2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from explorer.lab.core.history import DecimatedHistory, RingBuffer
from explorer.lab.core.protocol import Diverged, check_finite
from explorer.lab.core.training import Optimizer, make_optimizer
from models import BlockNet

# log10 floor for a norm that is exactly zero: below the smallest float32 (1.4e-45), so any gradient
# that did not underflow in backward keeps its own colour
LOG_FLOOR = 1e-46


def hidden_ratio(weight_grad_norms: np.ndarray) -> np.ndarray:
    """First hidden block's weight-grad norm over the last one's, along the last axis.

    Index 0 and -1 are the input projection and the output head, whose scales are set by the data and
    the loss, not by depth, so they are left out.
    """
    norms = np.asarray(weight_grad_norms, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return norms[..., 1] / norms[..., -2]


UNDERFLOW = 1e-18  # a float32 norm below this may have lost squares to underflow: take it in float64


def exact_norm(tensor: torch.Tensor) -> torch.Tensor:
    """2-norm of one tensor without float32 underflow (see :class:`GradFlowProbe`), as a 0-d tensor."""
    if tensor.device.type != "cpu":
        return torch.linalg.vector_norm(tensor, dtype=torch.float64)
    norm = torch.linalg.vector_norm(tensor)
    return norm if norm.item() >= UNDERFLOW else torch.linalg.vector_norm(tensor, dtype=torch.float64)


def exact_norms(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """2-norms of ``tensors`` without float32 underflow, as 0-d tensors: one fused call for all."""
    if tensors[0].device.type != "cpu":
        return list(torch._foreach_norm(tensors, 2, dtype=torch.float64))
    norms = list(torch._foreach_norm(tensors))
    for i, norm in enumerate(norms):
        if norm.item() < UNDERFLOW:
            norms[i] = torch.linalg.vector_norm(tensors[i], dtype=torch.float64)
    return norms


class LossProbe:
    """Per-step loss and accuracy, kept on the device until a frame drains them: no host sync per step.

    What :class:`Trainee` needs from a probe. Nets whose gradient flow no view shows (the residual
    tab's six) use it alone: hooking every hidden state and norming every weight gradient cost those
    nets a fifth of their step on a CPU, for numbers nobody looked at.
    """

    n_layers = 0
    n_hidden = 0

    def __init__(self, net: BlockNet, capacity: int, width: int = 2) -> None:
        self.net = net
        p = next(net.parameters())
        self._rows = torch.zeros(capacity, width, device=p.device, dtype=torch.float64)
        self._count = 0

    def watch(self) -> None:
        """Call between forward and backward (nothing to hook here)."""

    def record(self, loss: torch.Tensor, accuracy: torch.Tensor) -> None:
        """Store this step's loss and accuracy (call after ``loss.backward()``)."""
        self._store(torch.stack([loss.detach(), accuracy]))

    def _store(self, row: torch.Tensor) -> None:
        if self._count == len(self._rows):  # a frame asked for more steps than the capacity: double it
            self._rows = torch.cat([self._rows, torch.zeros_like(self._rows)])
        self._rows[self._count].copy_(row)
        self._count += 1

    def _take(self) -> np.ndarray:
        rows = self._rows[: self._count].cpu().numpy()  # the one host sync of a frame
        self._count = 0
        return rows

    def drain(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Loss (k,), accuracy (k,), and no gradient norms: (k, 0) twice."""
        rows = self._take()
        empty = np.zeros((len(rows), 0))
        return rows[:, 0], rows[:, 1], empty, empty

    def close(self) -> None:
        """Nothing to let go of."""


class GradFlowProbe(LossProbe):
    """Per-step weight- and activation-gradient norms of every layer, kept on the device.

    The network's ``hidden_tap`` collects its hidden states h_0..h_L during the forward pass, and
    ``watch`` hooks them so that backward leaves ||dL/dh|| of each. After ``backward``, ``record``
    takes the weight-gradient norms with one fused ``torch._foreach_norm`` and stacks everything with
    the loss and accuracy straight into a row of a preallocated device buffer: no host sync.
    ``drain`` moves the rows to the host in one copy, once per frame.

    Small norms are accumulated in float64: in float32 the sum of squares underflows once the entries
    fall below ~1e-19, and a deep sigmoid stack's first layers get there while their float32 gradients
    (representable down to 1.4e-45) are still nonzero. On a GPU every norm is taken in float64 (the
    conversion is cheap there, a branch would sync); on the CPU, where reading a value costs nothing
    but converting every gradient to float64 costs ~7% of a small net's step, only norms that came
    out below ``UNDERFLOW`` in float32 are taken again in float64.
    """

    def __init__(self, net: BlockNet, capacity: int) -> None:
        groups = net.layer_weights()
        self._weights = [w for group in groups for w in group]
        # Layer of each weight tensor: a layer's norm is the root of its tensors' summed squares.
        self._layer_of = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
        self.n_layers = len(groups)
        self.n_hidden = net.n_blocks + 1  # stem output h_0, then each block output h_1..h_L
        self._hidden: list[torch.Tensor] = []
        self._act_norms: list[torch.Tensor] = []
        net.hidden_tap = self._hidden
        super().__init__(net, capacity, width=2 + len(self._weights) + self.n_hidden)

    def watch(self) -> None:
        """Call between forward and backward: take ||dL/dh|| of this pass's hidden states as they arrive.

        A tensor hook sees each dL/dh once, summed over all its uses (both paths of a residual block),
        while it is still in cache, and keeps nothing but a 0-d norm: no copy of the gradient is retained.
        The hook lives on the autograd graph, so the tap lets go of the tensors at once: holding them
        through backward stops the allocator from reusing their memory as backward frees the graph,
        which cost a 6-block CNN 10-15% of its step in fresh pages.
        """
        self._act_norms.clear()
        for h in self._hidden:
            h.register_hook(self._on_hidden_grad)
        self._hidden.clear()  # in place: the network's tap is this list

    def _on_hidden_grad(self, grad: torch.Tensor) -> None:
        self._act_norms.append(exact_norm(grad))

    def record(self, loss: torch.Tensor, accuracy: torch.Tensor) -> None:
        """Store this step's loss, accuracy and gradient norms (call after ``loss.backward()``)."""
        weight_norms = exact_norms([w.grad for w in self._weights])
        # Backward visits h_L first: reverse to put the input side first. One stack promotes the float32
        # and float64 norms alike, one copy puts them in the row.
        self._store(torch.stack([loss.detach(), accuracy, *weight_norms, *reversed(self._act_norms)]))

    def drain(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Loss (k,), accuracy (k,), weight-grad norms (k, n_layers), dL/dh norms (k, n_hidden)."""
        rows = self._take()
        n_w = len(self._weights)
        squares = rows[:, 2 : 2 + n_w] ** 2  # (k, n_weight_tensors)
        layer_sq = np.zeros((len(rows), self.n_layers))
        np.add.at(layer_sq.T, self._layer_of, squares.T)  # sum squares per layer: (k, n_layers)
        return rows[:, 0], rows[:, 1], np.sqrt(layer_sq), rows[:, 2 + n_w :]

    def close(self) -> None:
        self.net.hidden_tap = None


@dataclass(frozen=True)
class NetFlow:
    """One network's gradient flow and training curves at a frame."""

    layer_names: tuple[str, ...]  # input, block 1..L, output
    heatmap: np.ndarray  # (n_layers, k) float32 log10 weight-grad norm, oldest step first
    act_heatmap: np.ndarray  # (L + 1, k) float32 log10 ||dL/dh_l||, l = 0..L, oldest step first
    heatmap_steps: np.ndarray  # (k,) float64, the step of each heatmap column
    weight_grad_norms: np.ndarray  # (n_layers,) at this step, input layer first
    act_grad_norms: np.ndarray  # (L + 1,) ||dL/dh|| for the stem output h_0 and block outputs h_1..h_L
    grad_ratio: float  # first / last hidden block weight-grad norm
    act_grad_ratio: float  # ||dL/dh_0|| / ||dL/dh_L||: attenuation across the hidden blocks
    steps: np.ndarray  # (T,) float64, whole run, decimated
    losses: np.ndarray  # (T,) minibatch training loss
    accuracies: np.ndarray  # (T,) minibatch training accuracy
    grad_ratios: np.ndarray  # (T,) grad_ratio over training
    loss: float  # at the frame's step (the decimated curves may end a few steps earlier)
    accuracy: float


class Trainee:
    """A network being trained, with its optimizer, probe and bounded histories.

    ``explode_factor``: a minibatch loss above this many times the larger of the first loss and the
    chance level ln K counts as divergence. Saturating units (sigmoid, tanh) keep the loss finite at
    any learning rate, so a blown-up run would otherwise bounce at hundreds of nats for ever.
    ``gradients=False``: loss and accuracy only (a :class:`LossProbe`); the heatmaps stay empty.
    """

    def __init__(
        self,
        name: str,
        net: BlockNet,
        optimizer: Optimizer,
        lr: float,
        steps_per_frame: int,
        window: int = 200,
        history: int = 2048,
        explode_factor: float = math.inf,
        gradients: bool = True,
    ) -> None:
        self.name = name
        self.net = net
        self.optimizer = make_optimizer(optimizer, list(net.parameters()), lr)
        self.probe = (GradFlowProbe if gradients else LossProbe)(net, capacity=steps_per_frame)
        self.heat = RingBuffer(window, (self.probe.n_layers,), dtype=np.float32)
        self.act_heat = RingBuffer(window, (self.probe.n_hidden,), dtype=np.float32)
        self.heat_steps = RingBuffer(window)
        self.history = DecimatedHistory(history, 3)  # loss, accuracy, grad ratio
        self.weight_grad_norms = np.zeros(self.probe.n_layers)
        self.act_grad_norms = np.zeros(self.probe.n_hidden)
        self.loss = self.accuracy = math.nan
        self.explode_factor = explode_factor
        self.loss_ceiling = math.inf  # set from the first loss seen
        self._chance = math.nan  # ln K, from the logits' width

    def backward(self, X: torch.Tensor, y: torch.Tensor) -> None:
        """Loss and gradients at the current weights, recorded by the probe; no update yet."""
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.net(X)
        self._chance = math.log(logits.shape[1])
        loss = F.cross_entropy(logits, y)
        self.probe.watch()
        loss.backward()
        self.probe.record(loss, (logits.argmax(dim=1) == y).to(loss.dtype).mean())

    def update(self) -> None:
        self.optimizer.step()

    def drain(self, last_step: int) -> None:
        """Move the probe's rows (ending at ``last_step``) into the histories; Diverged on a bad loss."""
        losses, accs, weight_norms, act_norms = self.probe.drain()
        steps = np.arange(last_step - len(losses) + 1, last_step + 1)
        if math.isinf(self.loss_ceiling) and len(losses) and math.isfinite(losses[0]):
            self.loss_ceiling = self.explode_factor * max(float(losses[0]), self._chance)
        for step, loss in zip(steps, losses, strict=True):
            check_finite(int(step), **{f"{self.name} loss": float(loss)})
            if loss > self.loss_ceiling:
                raise Diverged(
                    int(step),
                    f"{self.name} loss rose to {loss:.3g} nats, more than {self.explode_factor:g}× both its first "
                    "value and chance level (ln K)",
                )
        ratios = hidden_ratio(weight_norms) if self.probe.n_layers else np.full(len(losses), math.nan)  # (k,)
        self.history.extend(steps, np.stack([losses, accs, ratios], axis=1))  # (k, 3)
        self.heat.extend(np.log10(np.maximum(weight_norms, LOG_FLOOR)))
        self.act_heat.extend(np.log10(np.maximum(act_norms, LOG_FLOOR)))
        self.heat_steps.extend(steps)
        self.weight_grad_norms, self.act_grad_norms = weight_norms[-1], act_norms[-1]
        self.loss, self.accuracy = float(losses[-1]), float(accs[-1])

    def flow(self) -> NetFlow:
        if not self.probe.n_layers:
            raise ValueError(f"{self.name} was trained without gradient norms (gradients=False): no flow to show")
        values = self.history.values()  # (T, 3)
        with np.errstate(divide="ignore", invalid="ignore"):
            act_ratio = float(self.act_grad_norms[0] / self.act_grad_norms[-1])
        # the latest step's numbers, not the history's last kept row, which thins out as the run grows
        return NetFlow(
            layer_names=tuple(self.net.layer_names()),
            heatmap=np.ascontiguousarray(self.heat.array().T),  # (k, n_layers) -> (n_layers, k)
            act_heatmap=np.ascontiguousarray(self.act_heat.array().T),  # (k, L + 1) -> (L + 1, k)
            heatmap_steps=self.heat_steps.array(),
            weight_grad_norms=self.weight_grad_norms.copy(),
            act_grad_norms=self.act_grad_norms.copy(),
            grad_ratio=float(hidden_ratio(self.weight_grad_norms)),
            act_grad_ratio=act_ratio,
            steps=self.history.steps(),
            losses=values[:, 0],
            accuracies=values[:, 1],
            grad_ratios=values[:, 2],
            loss=self.loss,
            accuracy=self.accuracy,
        )
