"""Fine-tuning costs on this machine: time per training step against k, and the pretraining wall time.

1. Time per step vs k: a top-k learner for every k (0 = linear probe .. all layers) and one from scratch,
   on the default target task, stepped in rounds of a few steps with the order rotating every round, so
   that load from other processes hits every k alike. Per k: the median and the lower quartile of the
   rounds' per-step times (the lower quartile is what the tab's k-sweep reports: other processes only
   add time). At torch's default thread count and at one thread, for the default batch and for 64.
2. Pretraining: the default source network trained from nothing (a fresh cache folder) at 2 threads
   and at 1 thread (the app leaves one core for drawing). Target: under 60 s on 2 cores.
3. The default live run (all six strategies to the end) and the default k-sweep, wall time.

Writes benchmarks/results/finetune-<machine>.json.

    python benchmarks/finetune.py [--rounds 30] [--steps 5] [--threads 2,1] [--skip-pretrain]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import asdict, replace

import numpy as np
import torch
from machine import write

from explorer.lab.core.protocol import run_job
from explorer.lab.finetune import finetune
from explorer.lab.finetune.finetune_train import Learner, target_task

PRETRAIN_TARGET_S = 60.0


def step_times(cfg: finetune.FinetuneConfig, pretrained: finetune.Pretrained, rounds: int, steps: int) -> dict:
    """Per k (and scratch): median and lower quartile over rounds of the mean time of ``steps`` steps."""
    device = torch.device("cpu")
    task = target_task(cfg, device)
    names = [*(f"k={k}" for k in range(cfg.n_feature_layers + 1)), "scratch"]
    learners = {
        name: Learner("scratch", cfg, pretrained, task, device, timed_steps=None)
        if name == "scratch"
        else Learner("top_k", cfg, pretrained, task, device, k=int(name[2:]), timed_steps=None)
        for name in names
    }
    generator = torch.Generator().manual_seed(0)
    batches = [torch.randint(len(task.x), (cfg.batch_size,), generator=generator) for _ in range(steps)]
    times: dict[str, list[float]] = {name: [] for name in names}
    for rnd in range(rounds + 2):  # two warm-up rounds: optimizer state, allocator
        order = names[rnd % len(names) :] + names[: rnd % len(names)]
        for name in order:
            learner = learners[name]
            started = time.perf_counter()
            for i, idx in enumerate(batches):
                learner.step(idx, i)
            if rnd >= 2:
                times[name].append((time.perf_counter() - started) / steps * 1e3)
    return {
        name: {
            "median_ms": statistics.median(t),
            "lower_quartile_ms": float(np.percentile(t, 25)),
            "trainable_parameters": learners[name].n_trainable(),
        }
        for name, t in times.items()
    }


def pretrain_seconds(cfg: finetune.PretrainConfig, threads: int) -> dict:
    """Wall time of the default pretraining from nothing, at ``threads`` torch threads."""
    torch.set_num_threads(threads)
    before = os.environ.get("LOSS_EXPLORER_CACHE")
    with tempfile.TemporaryDirectory() as folder:
        os.environ["LOSS_EXPLORER_CACHE"] = folder
        started = time.perf_counter()
        result = run_job(finetune.pretrain(cfg))
        seconds = time.perf_counter() - started
    if before is None:
        os.environ.pop("LOSS_EXPLORER_CACHE", None)
    else:
        os.environ["LOSS_EXPLORER_CACHE"] = before
    return {
        "threads": threads,
        "seconds": seconds,
        "target_seconds": PRETRAIN_TARGET_S,
        "source_val_accuracy": result.source_val_accuracy,
        "from_cache": result.from_cache,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--steps", type=int, default=5, help="steps per round")
    parser.add_argument("--threads", default=f"{torch.get_num_threads()},1")
    parser.add_argument("--skip-pretrain", action="store_true")
    args = parser.parse_args()
    threads = list(dict.fromkeys(int(t) for t in args.threads.split(",")))
    load_before = os.getloadavg()[0]
    cfg = finetune.FinetuneConfig()
    results: dict[str, object] = {"config": {k: v for k, v in asdict(cfg).items() if k != "pretrain"},
                                  "pretrain_config": asdict(cfg.pretrain)}  # fmt: skip
    if not args.skip_pretrain:
        results["pretraining"] = [pretrain_seconds(cfg.pretrain, n) for n in threads]
    torch.set_num_threads(threads[0])
    with tempfile.TemporaryDirectory() as folder:
        os.environ["LOSS_EXPLORER_CACHE"] = folder
        pretrained = run_job(finetune.pretrain(cfg.pretrain))
    per_k = {}
    for n in threads:
        torch.set_num_threads(n)
        for batch in (cfg.batch_size, 64):
            key = f"batch {batch}, {n} thread{'s' if n > 1 else ''}"
            per_k[key] = step_times(replace(cfg, batch_size=batch), pretrained, args.rounds, args.steps)
            print(key, {name: round(v["lower_quartile_ms"], 2) for name, v in per_k[key].items()}, flush=True)
    results["time_per_step_vs_k"] = per_k
    torch.set_num_threads(1)
    started = time.perf_counter()
    frames = list(finetune.run(cfg, pretrained))
    last = frames[-1] if frames else None
    live = time.perf_counter() - started
    started = time.perf_counter()
    sweep = run_job(finetune.k_sweep(cfg, pretrained))
    results["default_run_1_thread"] = {
        "live_run_seconds": live,
        "steps": last.step if last else 0,
        "val_accuracy": {s.strategy: float(s.val_accuracy[-1]) for s in (last.strategies if last else ())},
        "k_sweep_seconds": time.perf_counter() - started,
        "k_sweep_val_accuracy": sweep.val_accuracy.tolist(),
        "k_sweep_ms_per_step": sweep.ms_per_step.tolist(),
        "scratch_val_accuracy": sweep.scratch_val_accuracy,
    }
    results["load_average_1min"] = {"before": load_before, "after": os.getloadavg()[0]}
    results["env"] = {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    print(f"wrote {write('finetune', results)}")


if __name__ == "__main__":
    main()
