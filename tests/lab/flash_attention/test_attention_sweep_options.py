"""The sweep's partial results, seed, per-method N caps and the CPU memory guard for naive attention."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from explorer.lab.core.protocol import run_job
from explorer.lab.flash_attention import attention as lab


@pytest.fixture(autouse=True)
def one_cpu_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_every_progress_carries_the_result_so_far() -> None:
    job = lab.sweep(lab.SweepConfig(methods=("naive", "sdpa"), n_values=(32, 64), d=16))
    partials = []
    while True:
        try:
            partials.append(next(job).partial)
        except StopIteration as stop:
            result = stop.value
            break
    assert [len(p.measurements) for p in partials] == [1, 2, 3, 4]
    assert [m.n for m in partials[1].measurements] == [32, 32]
    np.testing.assert_array_equal(partials[0].curves["naive"].n, [32])
    assert partials[0].curves["sdpa"].n.size == 0
    assert partials[-1].measurements == result.measurements
    assert partials[0].device_name == result.device_name and partials[0].config is result.config


def test_the_seed_reaches_the_measurement(monkeypatch) -> None:
    from kernels import attention

    seen = []

    def measure(*args, **kwargs):
        seen.append(kwargs["seed"])
        return real(*args, **kwargs)

    real = attention.measure
    monkeypatch.setattr(attention, "measure", measure)
    run_job(lab.sweep(lab.SweepConfig(methods=("naive", "sdpa"), n_values=(32,), d=16, seed=11)))
    assert seen == [11, 11]


def test_a_method_can_be_capped_below_the_largest_n() -> None:
    cfg = lab.SweepConfig(
        methods=("naive", "tiled_torch"), n_values=(32, 64), d=16, max_n_by_method={"tiled_torch": 32}
    )
    result = run_job(lab.sweep(cfg))
    np.testing.assert_array_equal(result.curves["tiled_torch"].n, [32])
    np.testing.assert_array_equal(result.curves["naive"].n, [32, 64])
    assert [(p.method, p.n) for p in result.skipped] == [("tiled_torch", 64)]
    assert "up to N=32" in result.skipped[0].reason
    with pytest.raises(ValueError, match="max_n_by_method"):
        lab.SweepConfig(max_n_by_method={"fast": 64})


def test_naive_is_not_run_where_its_matrices_would_take_half_the_ram(monkeypatch) -> None:
    monkeypatch.setattr(lab, "_physical_memory_bytes", lambda: 2**20)  # a 1 MiB machine
    cfg = lab.SweepConfig(methods=("naive",), n_values=(64, 256, 512), d=16)  # 2·N²·4 B: 32 KiB, 512 KiB, 2 MiB
    result = run_job(lab.sweep(cfg))
    np.testing.assert_array_equal(result.curves["naive"].n, [64, 256])  # 512 KiB is half: still run
    [skipped] = result.skipped
    assert skipped.n == 512 and "need 2 MiB, more than half of this machine's 1 MiB of RAM" in skipped.reason
    assert not result.oom


def test_the_interpreted_kernel_notes_its_caveat() -> None:
    from kernels import attention

    if not attention.interpreter_mode():
        pytest.skip("only the interpreted kernel carries the note")
    result = run_job(lab.sweep(lab.SweepConfig(methods=("flash",), n_values=(32,), d=16)))
    assert "interpreter" in result.curves["flash"].note
