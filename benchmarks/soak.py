"""Soak: many steps of every live tab's lab experiment, and the saddle tab's restart loop, watching memory.

A live tab may run for a whole lecture. Anything that grows per step (a history kept whole, a cache
keyed by step) or per restart (a landscape kept by a closure) shows here as resident memory that keeps
rising after the warm-up. Target: < 5% growth from the end of the warm-up (10% of the steps) to the end.

    nice -n 19 python benchmarks/soak.py                  # 10,000 steps each, 300 saddle restarts
    nice -n 19 python benchmarks/soak.py --steps 200 --restarts 20 --only saddle   # a quick check

Writes benchmarks/results/soak-<machine>.json (unless --no-write).
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from machine import write

GROWTH_TARGET = 0.05


def rss_bytes() -> int:
    """Resident set size now (not the peak: a leak is what stays)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _settled_rss() -> int:
    gc.collect()
    return rss_bytes()


def residual(steps: int) -> Iterator[Any]:
    from explorer.lab.residual import residual as lab

    return lab.run(lab.ResidualConfig(steps=steps, device="cpu"))


def vanishing(steps: int) -> Iterator[Any]:
    from explorer.lab.vanishing import gradflow

    return gradflow.run(gradflow.GradFlowConfig(device="cpu"))  # runs until stopped


def saddle(steps: int) -> Iterator[Any]:
    from explorer.lab.saddle import saddle as lab

    return lab.run(lab.SaddleConfig(steps=steps))


def natural_gradient(steps: int) -> Iterator[Any]:
    from explorer.lab.natural_gradient import fisher_race

    return fisher_race.run(fisher_race.RaceConfig(max_steps=steps, device="cpu"))


def finetune(steps: int) -> Iterator[Any]:
    from explorer.lab.finetune import finetune as lab

    pretrain = lab.PretrainConfig(steps=100)  # the source network is not what is soaked
    job = lab.pretrain(pretrain, "cpu")
    while True:
        try:
            next(job)
        except StopIteration as done:
            pretrained = done.value
            break
    # 6 classes x 5 images, batch 16: 2 steps an epoch
    cfg = lab.FinetuneConfig(pretrain=pretrain, epochs=math.ceil(steps / 2) + 1, device="cpu")
    return lab.run(cfg, pretrained)


def label_smoothing(steps: int) -> Iterator[Any]:
    from explorer.lab.label_smoothing import smoothing

    return smoothing.run(smoothing.SmoothingConfig(steps=steps, device="cpu"))


EXPERIMENTS: dict[str, Callable[[int], Iterator[Any]]] = {
    "residual": residual,
    "vanishing": vanishing,
    "saddle": saddle,
    "natural_gradient": natural_gradient,
    "finetune": finetune,
    "label_smoothing": label_smoothing,
}


def soak(name: str, steps: int) -> dict[str, Any]:
    """Run one experiment to ``steps``; RSS after the warm-up (10% of the steps) and at the end."""
    warm_at = max(1, steps // 10)
    frames = EXPERIMENTS[name](steps)
    warm_rss = None
    last_step = 0
    start = time.perf_counter()
    try:
        for frame in frames:
            last_step = int(frame.step)
            if warm_rss is None and last_step >= warm_at:
                warm_rss = _settled_rss()
            if last_step >= steps:
                break
    finally:
        frames.close()
    seconds = time.perf_counter() - start
    end_rss = _settled_rss()
    warm_rss = warm_rss or end_rss  # a run that ended before its warm-up: nothing to compare
    return {
        "steps": last_step,
        "seconds": round(seconds, 2),
        "rss_after_warmup_mb": round(warm_rss / 2**20, 2),
        "rss_end_mb": round(end_rss / 2**20, 2),
        "growth": round((end_rss - warm_rss) / warm_rss, 4),
    }


def saddle_restarts(restarts: int, frames_each: int = 20) -> dict[str, Any]:
    """Restart the saddle experiment as the R key does; memory per restart after the first 10%."""
    from explorer.lab.saddle import saddle as lab

    cfg = lab.SaddleConfig(steps=2 * frames_each)
    warm_at = max(1, restarts // 10)
    warm_rss = None
    for i in range(restarts):
        frames = lab.run(cfg)
        for _, _frame in zip(range(frames_each), frames, strict=False):
            pass
        frames.close()
        if i + 1 == warm_at:
            warm_rss = _settled_rss()
    end_rss = _settled_rss()
    warm_rss = warm_rss or end_rss
    counted = max(1, restarts - warm_at)
    return {
        "restarts": restarts,
        "rss_after_warmup_mb": round(warm_rss / 2**20, 2),
        "rss_end_mb": round(end_rss / 2**20, 2),
        "growth": round((end_rss - warm_rss) / warm_rss, 4),
        "mb_per_restart": round((end_rss - warm_rss) / 2**20 / counted, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="steps of each experiment (default 10000)")
    parser.add_argument("--restarts", type=int, default=300, help="saddle restarts (default 300)")
    parser.add_argument("--only", choices=list(EXPERIMENTS), action="append", help="soak only these (repeatable)")
    parser.add_argument("--no-write", action="store_true", help="print the results, do not store them")
    args = parser.parse_args()
    if args.steps < 10 or args.restarts < 1:
        parser.error("--steps must be at least 10 and --restarts at least 1")

    import torch

    torch.set_num_threads(1)
    results: dict[str, Any] = {"steps": args.steps, "growth_target": GROWTH_TARGET, "experiments": {}}
    for name in args.only or list(EXPERIMENTS):
        results["experiments"][name] = row = soak(name, args.steps)
        print(f"{name:<18} {row['steps']:>6} steps {row['seconds']:>8.1f} s  RSS {row['rss_after_warmup_mb']:.1f}"
              f" -> {row['rss_end_mb']:.1f} MB ({row['growth']:+.1%})", flush=True)  # fmt: skip
    if not args.only or "saddle" in args.only:
        results["saddle_restarts"] = row = saddle_restarts(args.restarts)
        print(f"{'saddle restarts':<18} {row['restarts']:>6} x     RSS {row['rss_after_warmup_mb']:.1f} -> "
              f"{row['rss_end_mb']:.1f} MB ({row['mb_per_restart']:+.3f} MB a restart)", flush=True)  # fmt: skip
    rows = [*results["experiments"].values(), results.get("saddle_restarts", {"growth": 0.0})]
    results["within_target"] = all(row["growth"] < GROWTH_TARGET for row in rows)
    if not args.no_write:
        print(write("soak", results))
    return 0 if results["within_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
