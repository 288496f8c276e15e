"""The FlashAttention lab: the sweep job, the online-softmax step-through and the IO model."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from explorer.lab.core.protocol import Progress, run_job
from explorer.lab.flash_attention import attention as lab


@pytest.fixture(autouse=True)
def one_cpu_thread() -> Iterator[None]:
    """One torch thread: on a busy 2-core machine OpenMP workers spin against each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def drive(job) -> tuple[list[Progress], lab.SweepResult]:
    progress: list[Progress] = []
    while True:
        try:
            progress.append(next(job))
        except StopIteration as stop:
            return progress, stop.value


# ------------------------------------------------------------------------------------------ sweep


@pytest.mark.slow  # ~6 s: the default sweep
def test_default_sweep_measures_every_point_and_reports_progress() -> None:
    from kernels import attention

    cfg = lab.SweepConfig()
    progress, result = drive(lab.sweep(cfg))
    points = len(cfg.methods) * len(cfg.n_values)
    assert len(progress) == points
    fractions = [p.fraction for p in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(p.message for p in progress)

    assert set(result.curves) == set(cfg.methods)
    assert not result.oom and not result.failed
    for method in ("naive", "tiled_torch", "sdpa"):
        curve = result.curves[method]
        np.testing.assert_array_equal(curve.n, cfg.n_values)
        assert np.all(curve.ms > 0) and np.all(curve.tflops > 0)
        assert np.nanmax(curve.max_abs_err) < 1e-4
    naive, tiled = result.curves["naive"], result.curves["tiled_torch"]
    assert np.all(np.diff(naive.peak_bytes) > 0)  # the N² buffers grow with N
    assert naive.peak_bytes[-1] >= 8 * tiled.peak_bytes[-1]

    flash = result.curves["flash"]
    if attention.interpreter_mode():
        assert result.interpreter
        np.testing.assert_array_equal(flash.n, [n for n in cfg.n_values if n <= lab.INTERPRETER_MAX_N])
        skipped = {(p.method, p.n): p.reason for p in result.skipped}
        assert set(skipped) == {("flash", n) for n in cfg.n_values if n > lab.INTERPRETER_MAX_N}
        assert all("interpreter" in reason for reason in skipped.values())
    assert np.nanmax(flash.max_abs_err) < 1e-4


def test_sweep_can_stop_at_any_progress_report() -> None:
    job = lab.sweep(lab.SweepConfig(methods=("naive", "sdpa"), n_values=(64, 128, 256)))
    first_two = list(itertools.islice(job, 2))
    job.close()
    assert [p.fraction for p in first_two] == pytest.approx([1 / 6, 2 / 6])


def test_out_of_memory_points_are_collected_and_larger_sizes_skipped(monkeypatch) -> None:
    from kernels import measure

    def exhausted(q, k, v, causal):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setitem(measure.METHODS, "naive", exhausted)
    result = run_job(lab.sweep(lab.SweepConfig(methods=("naive", "sdpa"), n_values=(64, 128))))
    assert [(p.method, p.n) for p in result.oom] == [("naive", 64)]
    assert [(p.method, p.n) for p in result.skipped] == [("naive", 128)]
    assert "out of memory already at N=64" in result.skipped[0].reason
    assert result.curves["naive"].n.size == 0
    np.testing.assert_array_equal(result.curves["sdpa"].n, [64, 128])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_cuda_sweep_without_a_gpu_is_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="no CUDA GPU"):
        lab.sweep(lab.SweepConfig(device="cuda"))


def test_bf16_flash_under_the_interpreter_is_a_reported_failure() -> None:
    from kernels import attention

    if not attention.interpreter_mode():
        pytest.skip("only the interpreter refuses bf16")
    result = run_job(lab.sweep(lab.SweepConfig(methods=("flash",), n_values=(32,), d=16, dtype="bfloat16")))
    assert [(p.method, p.n) for p in result.failed] == [("flash", 32)]
    assert "bf16" in result.failed[0].reason


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"n_values": (64, 100)}, "powers of two"),
        ({"methods": ("naive", "fast")}, "methods"),
        ({"methods": ()}, "at least one method"),
        ({"d": 8}, "d must be"),
        ({"dtype": "float64"}, "dtype"),
        ({"device": "tpu"}, "device"),
        ({"heads": 0}, "positive"),
        ({"mode": "bwd"}, "mode"),
    ],
)
def test_invalid_sweep_configs_are_refused(changes: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        lab.SweepConfig(**changes)


# ---------------------------------------------------------------------------------- online softmax


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize(("n", "block_m", "block_n"), [(16, 4, 4), (37, 8, 5), (64, 16, 16), (8, 2, 3)])
def test_step_through_ends_at_exact_attention(n: int, block_m: int, block_n: int, causal: bool) -> None:
    states = lab.online_softmax_steps(n, d=6, block_m=block_m, block_n=block_n, seed=3, causal=causal)
    q, k, v = lab.example_qkv(n, 6, seed=3)
    scores = q @ k.T / math.sqrt(6)
    if causal:
        scores = np.where(np.triu(np.ones((n, n), dtype=bool), 1), -np.inf, scores)
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    softmax_qk_v = (p / p.sum(axis=1, keepdims=True)) @ v  # the whole N x N matrix, written out here
    np.testing.assert_allclose(states[-1].output, softmax_qk_v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lab.exact_attention(q, k, v, causal), softmax_qk_v, rtol=1e-12, atol=1e-12)


def test_one_state_per_tile_in_loop_order() -> None:
    states = lab.online_softmax_steps(20, d=4, block_m=8, block_n=6, seed=0)
    assert [(s.query_block, s.key_block) for s in states] == [(i, j) for i in range(3) for j in range(4)]
    assert [s.step for s in states] == list(range(12))
    assert states[3].rows == (0, 8) and states[3].cols == (18, 20)  # short last key tile
    assert states[-1].rows == (16, 20)  # short last query tile
    assert [s.row_block_done for s in states] == [j == 3 for i in range(3) for j in range(4)]


def test_causal_step_through_skips_tiles_right_of_the_diagonal() -> None:
    states = lab.online_softmax_steps(16, d=4, block_m=4, block_n=4, seed=0, causal=True)
    assert [(s.query_block, s.key_block) for s in states] == [(i, j) for i in range(4) for j in range(i + 1)]
    diagonal = states[-1]
    assert np.isneginf(diagonal.scores[0, 1:]).all() and np.isfinite(np.diag(diagonal.scores)).all()


def test_running_statistics_are_those_of_the_keys_seen_so_far() -> None:
    n, d = 24, 5
    q, k, v = lab.example_qkv(n, d, seed=7)
    scores = q @ k.T / math.sqrt(d)
    for s in lab.online_softmax_steps(n, d=d, block_m=8, block_n=5, seed=7):
        (r0, r1), seen = s.rows, slice(0, s.cols[1])
        m = scores[r0:r1, seen].max(axis=1)
        l = np.exp(scores[r0:r1, seen] - m[:, None]).sum(axis=1)  # noqa: E741
        np.testing.assert_allclose(s.m, m, rtol=1e-12)
        np.testing.assert_allclose(s.l, l, rtol=1e-12)
        np.testing.assert_allclose(s.acc, np.exp(scores[r0:r1, seen] - m[:, None]) @ v[seen], rtol=1e-10)
        np.testing.assert_allclose(s.scores, scores[r0:r1, s.cols[0] : s.cols[1]], rtol=1e-12)
        if s.key_block == 0:
            assert not s.rescale.any()  # nothing accumulated yet: exp(-inf - m) = 0
        else:
            assert np.all((s.rescale > 0.0) & (s.rescale <= 1.0))
        assert not s.output[r1:].any()  # rows not reached yet are still empty


def test_finished_rows_never_change_again() -> None:
    states = lab.online_softmax_steps(32, d=4, block_m=8, block_n=8, seed=1)
    done = [s for s in states if s.row_block_done]
    for before, after in itertools.pairwise(done):
        r0, r1 = before.rows
        np.testing.assert_array_equal(after.output[r0:r1], before.output[r0:r1])


def test_step_through_is_seedable() -> None:
    a = lab.online_softmax_steps(16, seed=5)[-1].output
    b = lab.online_softmax_steps(16, seed=5)[-1].output
    c = lab.online_softmax_steps(16, seed=6)[-1].output
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n": 4}, "n must be"), ({"n": 65}, "n must be"), ({"block_m": 1}, "block"), ({"block_n": 17}, "block")],
)
def test_step_through_bounds(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        lab.online_softmax_steps(**kwargs)


# -------------------------------------------------------------------------------------- IO model


def test_standard_attention_traffic() -> None:
    assert lab.hbm_accesses_standard(1024, 64) == 4 * 1024 * 64 + 4 * 1024**2


def test_flash_traffic_counts_algorithm_1() -> None:
    # M = 4096 elements, d = 64: key tiles of 16 rows, N = 1024 gives 64 outer steps.
    n, d = 1024, 64
    assert lab.hbm_accesses_flash(n, d, 4096) == 3 * n * d + 2 * n + 64 * (3 * n * d + 4 * n)
    # An SRAM that holds everything: one outer step, O(N d) traffic.
    assert lab.hbm_accesses_flash(n, d, 10**9) == 6 * n * d + 6 * n


def test_flash_traffic_is_theta_n2_d2_over_m() -> None:
    # The constant is 12: about 4Nd/M outer steps, each moving 3Nd elements. Rounding the tile counts
    # up adds to it while there are few outer steps.
    for n, d, m in itertools.product((2048, 8192, 32768), (32, 64, 128), (16_384, 98_304)):
        outer_steps = 4 * n * d / m
        ratio = lab.hbm_accesses_flash(n, d, m) / (n * n * d * d / m)
        if outer_steps >= 8:
            assert 12 <= ratio <= 15, (n, d, m, ratio)
        if outer_steps >= 256:
            assert ratio == pytest.approx(12, abs=0.6), (n, d, m, ratio)
    assert lab.hbm_accesses_flash(8192, 64) < lab.hbm_accesses_standard(8192, 64) / 5
    assert lab.hbm_accesses_flash(4096, 64, 16_384) > lab.hbm_accesses_flash(4096, 64, 98_304)
