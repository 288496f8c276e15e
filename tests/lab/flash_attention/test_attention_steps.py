"""The online softmax as a live experiment (frames per tile, jumps), and the IO model over a range of N."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pytest

from explorer.lab.flash_attention import attention, attention_steps
from explorer.lab.flash_attention.attention_steps import StepThroughConfig


def _softmax_qk_v(n: int, d: int, seed: int, causal: bool) -> np.ndarray:
    q, k, v = attention.example_qkv(n, d, seed)
    scores = q @ k.T / math.sqrt(d)
    if causal:
        scores = np.where(np.triu(np.ones((n, n), dtype=bool), 1), -np.inf, scores)
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (p / p.sum(axis=1, keepdims=True)) @ v


@pytest.mark.parametrize("causal", [False, True])
def test_frames_walk_every_tile_and_end_at_softmax_qk_v(causal: bool) -> None:
    cfg = StepThroughConfig(n=14, d=3, block_m=4, block_n=5, causal=causal, seed=2)
    frames = list(attention_steps.run(cfg))
    assert [f.step for f in frames] == list(range(len(frames)))
    assert frames[-1].n_steps == len(frames) - 1 == attention_steps.tile_count(cfg)
    first, last = frames[0], frames[-1]
    assert first.state is None and not first.computed.any() and np.isnan(first.output).all()
    assert np.isnan(first.m).all() and math.isnan(first.max_abs_diff) and not first.finished
    assert last.finished and last.row_done.all()
    np.testing.assert_allclose(last.output, _softmax_qk_v(14, 3, 2, causal), rtol=1e-12, atol=1e-14)
    assert last.max_abs_diff < 1e-14
    np.testing.assert_allclose(last.m, last.final_m, rtol=1e-12)
    np.testing.assert_allclose(last.l, last.final_l, rtol=1e-12)
    visible = np.isfinite(last.scores)
    assert (last.computed | ~visible).all()  # every visible score was computed, each in its tile
    for before, after in itertools.pairwise(frames):
        (r0, r1), (c0, c1) = after.state.rows, after.state.cols
        grown = after.computed & ~before.computed
        assert grown[r0:r1, c0:c1].all() and grown.sum() == (r1 - r0) * (c1 - c0)
    np.testing.assert_array_equal(last.row_edges, [0, 4, 8, 12, 14])
    np.testing.assert_array_equal(last.col_edges, [0, 5, 10, 14])


def test_rows_are_exact_once_their_query_tile_is_done() -> None:
    for frame in attention_steps.run(StepThroughConfig(n=16, d=4, block_m=4, block_n=4, seed=1)):
        done = frame.row_done
        assert np.all(frame.row_error[done] < 1e-14)
        reached = np.isfinite(frame.m)
        assert np.all(done <= reached) and np.isnan(frame.row_error[~reached]).all()


def test_a_jump_starts_where_a_run_from_zero_would_be() -> None:
    cfg = StepThroughConfig(n=12, d=2, block_m=3, block_n=4, seed=5)
    frames = list(attention_steps.run(cfg))
    jumped = list(attention_steps.run(cfg, start=5))
    assert [f.step for f in jumped] == list(range(5, len(frames)))
    for a, b in zip(frames[5:], jumped, strict=True):
        np.testing.assert_array_equal(a.output, b.output)
        np.testing.assert_array_equal(a.computed, b.computed)
        np.testing.assert_array_equal(a.m, b.m)
    assert [f.step for f in attention_steps.run(cfg, start=999)] == [len(frames) - 1]
    assert next(attention_steps.run(cfg, start=-3)).step == 0


def test_io_model_matches_the_per_n_counts() -> None:
    n_values = (128, 1024, 8192)
    io = attention.io_model(n_values, 64, 16_384)
    np.testing.assert_array_equal(io.n, n_values)
    assert list(io.standard) == [attention.hbm_accesses_standard(n, 64) for n in n_values]
    assert list(io.flash) == [attention.hbm_accesses_flash(n, 64, 16_384) for n in n_values]
    assert list(io.outer_steps) == [math.ceil(n / 64) for n in n_values]  # B_c = 16384 / (4·64) = 64 keys
    assert io.flash[-1] < io.standard[-1]
    a100 = attention.io_model(n_values, 64)  # 192 KiB of SRAM: about 7x less traffic at N = 8192
    assert a100.flash[-1] < a100.standard[-1] / 5
    assert np.all(attention.io_model(n_values, 64, 4 * 16_384).flash <= io.flash)  # more SRAM, less traffic
    with pytest.raises(ValueError, match="sram_elements"):
        attention.io_model(n_values, 64, 0)


def test_the_step_through_needs_no_torch() -> None:
    probe = (
        "import sys\n"
        "from explorer.lab.flash_attention.attention_steps import StepThroughConfig, run\n"
        "frames = list(run(StepThroughConfig()))\n"
        "print(frames[-1].max_abs_diff < 1e-14, 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ["True", "False"]
