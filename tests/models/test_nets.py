"""The plain/residual MLP and CNN: shapes, block structure, seeding and initialization scales."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import pytest
import torch
from torch import nn

from models import CNN, MLP, Block, CNNConfig, MLPConfig, build_net
from models.cnn import stage_sizes


def test_mlp_layers_are_input_blocks_output() -> None:
    net = build_net(MLPConfig(n_layers=5, width=8))
    assert len(net.blocks) == 5 and all(isinstance(b, Block) for b in net.blocks)
    assert net.layers() == [net.stem, *net.blocks, net.head]
    assert net.layer_names() == ["input", "block 1", "block 2", "block 3", "block 4", "block 5", "output"]
    assert [tuple(w.shape) for ws in net.layer_weights() for w in ws] == [(8, 2)] + [(8, 8)] * 5 + [(2, 8)]
    assert net(torch.randn(7, 2)).shape == (7, 2)


def test_residual_block_adds_its_branch_to_its_input() -> None:
    net = build_net(MLPConfig(n_layers=3, width=8, residual=True))
    x = torch.randn(4, 8)
    block = net.blocks[1]
    torch.testing.assert_close(block(x), x + block.branch(x), rtol=0, atol=0)
    plain = build_net(MLPConfig(n_layers=3, width=8))
    torch.testing.assert_close(plain.blocks[1](x), plain.blocks[1].branch(x), rtol=0, atol=0)
    assert plain.blocks[1].shortcut is None


def test_plain_and_residual_mlp_share_weights_for_a_seed() -> None:
    plain = build_net(MLPConfig(n_layers=4, width=8), seed=3)
    residual = build_net(MLPConfig(n_layers=4, width=8, residual=True), seed=3)
    for (n1, p1), (n2, p2) in zip(plain.named_parameters(), residual.named_parameters(), strict=True):
        assert n1 == n2
        assert torch.equal(p1, p2)


def test_construction_is_seeded_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = MLP(MLPConfig(n_layers=3, width=8), seed=1)
    b = CNN(CNNConfig(n_layers=3, width=4), seed=1)
    assert torch.equal(torch.rand(3), expected)  # no draws from the global generator
    again = MLP(MLPConfig(n_layers=3, width=8), seed=1)
    other = MLP(MLPConfig(n_layers=3, width=8), seed=2)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), again.parameters(), strict=True))
    assert not torch.equal(a.stem.weight, other.stem.weight)
    assert all(p.device.type == "cpu" for p in b.parameters())


def test_cnn_stages_and_projections() -> None:
    assert stage_sizes(7) == [3, 2, 2] and stage_sizes(2) == [1, 1] and sum(stage_sizes(60)) == 60
    residual = build_net(CNNConfig(n_layers=6, width=4, residual=True))
    projections = [i for i, b in enumerate(residual.blocks) if isinstance(b.shortcut, nn.Conv2d)]
    assert projections == [2, 4]  # first block of stages 2 and 3
    x = torch.randn(3, 1, 16, 16)
    assert residual(x).shape == (3, 10)
    h = residual.stem(x)
    for block in residual.blocks:
        h = block(h)
    assert h.shape == (3, 16, 4, 4)  # 4 * width channels at 4x4
    plain = build_net(CNNConfig(n_layers=6, width=4))
    assert all(b.shortcut is None for b in plain.blocks)
    assert plain(x).shape == (3, 10)


@pytest.mark.parametrize(
    ("activation", "norm", "init", "residual"),
    [
        *itertools.product(
            ["sigmoid", "tanh", "relu", "gelu"], ["none", "batchnorm", "layernorm"], ["default", "orthogonal"], [True]
        ),
        ("relu", "none", "xavier", False),
        ("relu", "none", "he", False),
    ],
)
def test_every_combination_builds_and_runs(activation: str, norm: str, init: str, residual: bool) -> None:
    mlp = build_net(MLPConfig(3, 8, activation, norm, init, residual))
    cnn = build_net(CNNConfig(3, 4, activation, norm, init, residual))
    assert torch.isfinite(mlp(torch.randn(5, 2))).all()
    assert torch.isfinite(cnn(torch.randn(5, 1, 16, 16))).all()


def test_initialization_scales() -> None:
    width = 256
    he = build_net(MLPConfig(2, width, "relu", init="he")).blocks[0].branch[2]
    assert he.weight.std().item() == pytest.approx(math.sqrt(2 / width), rel=0.05)
    assert torch.count_nonzero(he.bias) == 0
    xavier = build_net(MLPConfig(2, width, init="xavier")).blocks[0].branch[2]
    assert xavier.weight.std().item() == pytest.approx(math.sqrt(2 / (2 * width)), rel=0.05)
    default = build_net(MLPConfig(2, width)).blocks[0].branch[2]
    assert default.weight.abs().max().item() <= 1 / math.sqrt(width)
    ortho = build_net(MLPConfig(2, width, "tanh", init="orthogonal")).blocks[0].branch[2].weight
    gain = nn.init.calculate_gain("tanh")
    torch.testing.assert_close(ortho @ ortho.T, gain**2 * torch.eye(width), atol=1e-4, rtol=0)


def test_batchnorm_state_is_fresh_after_materialization() -> None:
    net = build_net(MLPConfig(2, 8, norm="batchnorm"))
    bn = net.blocks[0].branch[0]
    assert isinstance(bn, nn.BatchNorm1d)
    assert torch.equal(bn.running_mean, torch.zeros(8)) and torch.equal(bn.running_var, torch.ones(8))
    assert bn.num_batches_tracked.item() == 0


def test_hidden_tap_collects_states_only_when_building_a_graph() -> None:
    net = build_net(MLPConfig(3, 8))
    tap: list[torch.Tensor] = []
    net.hidden_tap = tap
    net(torch.randn(4, 2))
    assert [tuple(h.shape) for h in tap] == [(4, 8)] * 4  # h_0 .. h_3
    with torch.no_grad():
        net(torch.randn(9, 2))
    assert len(tap) == 4 and tap[0].shape == (4, 8)


@pytest.mark.parametrize(
    "bad",
    [
        lambda: MLPConfig(n_layers=0),
        lambda: MLPConfig(n_layers=201),
        lambda: CNNConfig(n_layers=61),
        lambda: MLPConfig(activation="swish"),  # type: ignore[arg-type]
        lambda: MLPConfig(norm="groupnorm"),  # type: ignore[arg-type]
        lambda: CNNConfig(init="lecun"),  # type: ignore[arg-type]
    ],
)
def test_configs_reject_bad_values(bad: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        bad()


def test_deepest_nets_build() -> None:
    assert build_net(MLPConfig(200, 4)).n_blocks == 200
    assert build_net(CNNConfig(60, 2)).n_blocks == 60
