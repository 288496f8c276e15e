"""The pretrained-weights cache: keyed by config, written atomically, never trusted when damaged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from explorer.lab.core.protocol import run_job
from explorer.lab.finetune import finetune
from explorer.lab.finetune.finetune_pretrain import cache_dir, cache_path, load_cached

SOURCE = finetune.PretrainConfig(n_blocks=4, width=4, n_per_class=10, steps=20, batch_size=32)


def test_first_run_trains_with_progress_then_loads_the_same_weights(cache, drive):
    reports, first = drive(finetune.pretrain(SOURCE))
    assert not first.from_cache and first.note == ""
    assert [r.fraction for r in reports] == [1.0] and "Pretraining" in reports[0].message  # 20 steps: one report
    assert cache_path(SOURCE).parent == cache / "finetune" and cache_path(SOURCE).exists()
    assert not [p for p in cache_path(SOURCE).parent.iterdir() if p.suffix == ".part"]  # no temporary left
    assert first.history.shape == (20, 3) and 0.0 <= first.source_val_accuracy <= 1.0
    reports, second = drive(finetune.pretrain(SOURCE))
    assert second.from_cache and "cache" in reports[-1].message
    assert all(torch.equal(first.state[k], second.state[k]) for k in first.state)
    assert second.source_val_accuracy == first.source_val_accuracy


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other_settings", "wrong_shapes", "nan"])
def test_a_damaged_cache_file_is_retrained_and_replaced(cache, damage):
    first = run_job(finetune.pretrain(SOURCE))
    path = cache_path(SOURCE)
    if damage == "garbage":
        path.write_bytes(b"not a torch file at all")
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:200])  # a write that stopped half-way
    else:
        saved = torch.load(path, weights_only=True)
        if damage == "other_settings":
            saved["key"] = "0" * 20
        elif damage == "wrong_shapes":
            saved["state"]["stem.weight"] = torch.zeros(2, 1, 3, 3)
        else:
            saved["state"]["stem.weight"][0, 0, 0, 0] = float("nan")
        torch.save(saved, path)
    assert load_cached(path, SOURCE)[0] is None
    again = run_job(finetune.pretrain(SOURCE))
    assert not again.from_cache and "trained again" in again.note
    assert all(torch.equal(first.state[k], again.state[k]) for k in first.state)  # seeded: the same network
    assert run_job(finetune.pretrain(SOURCE)).from_cache  # the file was replaced by a good one


def test_an_unwritable_cache_folder_costs_only_the_cache(cache):
    cache.mkdir()
    (cache / "finetune").write_text("a file where the folder should be")
    result = run_job(finetune.pretrain(SOURCE))
    assert not result.from_cache and "could not be cached" in result.note


def test_cache_folder_follows_the_override_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("LOSS_EXPLORER_CACHE", str(tmp_path / "here"))
    assert cache_dir() == tmp_path / "here" and finetune.cache_dir() == tmp_path / "here"
    monkeypatch.delenv("LOSS_EXPLORER_CACHE")
    if os.name == "posix" and os.uname().sysname == "Linux":
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert cache_dir() == tmp_path / "xdg" / "loss-explorer"
        monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # the spec says: ignore it
        assert cache_dir() == Path.home() / ".cache" / "loss-explorer"
