"""Pretraining the source network once, and keeping its weights in the user's cache folder.

The source task is the ten digits drawn with the thin pen. The weights are saved under a hash of the
:class:`~explorer.lab.finetune.PretrainConfig`, written to a temporary file and renamed into place, so
a crash mid-write never leaves half a file under the real name. A file that cannot be read, belongs to
another config or does not fit the network is not trusted: the network is trained again and the file
replaced. A cache folder that cannot be written only costs the next start its pretraining.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from explorer.lab.core.protocol import Job, Progress
from explorer.lab.core.training import resolve_device
from explorer.lab.finetune.config import CACHE_FORMAT, PretrainConfig, Pretrained
from models import CNN, CNNConfig, build_net, glyphs

CACHE_ENV = "LOSS_EXPLORER_CACHE"
PROGRESS_EVERY = 20  # steps between two progress reports (and two chances to cancel)
N_SOURCE_VAL = 50  # held-out source images per digit


def cache_dir() -> Path:
    """$LOSS_EXPLORER_CACHE if set; else the platform's per-user cache folder + loss-explorer."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "loss-explorer" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "loss-explorer"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"  # XDG: relative means unset
    return base / "loss-explorer"


def cache_path(cfg: PretrainConfig) -> Path:
    return cache_dir() / "finetune" / f"pretrained-{cfg.cache_key()}.pt"


def net_config(cfg: PretrainConfig, n_classes: int) -> CNNConfig:
    """The architecture of source and target networks alike: residual, batch norm, ReLU, He init."""
    return CNNConfig(cfg.n_blocks, cfg.width, "relu", "batchnorm", "he", True, n_classes=n_classes)


def source_net(cfg: PretrainConfig, device: str | torch.device = "cpu") -> CNN:
    return build_net(net_config(cfg, 10), cfg.seed, device)  # type: ignore[return-value]


def _seeds(seed: int) -> tuple[int, int, int]:
    """Independent seeds for training images, held-out images and minibatch order."""
    a, b, c = np.random.SeedSequence([seed, 0xD161]).generate_state(3)
    return int(a), int(b), int(c)


def load_cached(path: Path, cfg: PretrainConfig) -> tuple[Pretrained | None, str]:
    """The cached result for ``cfg``, or None and why not ("" when there is simply no file yet)."""
    if not path.exists():
        return None, ""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if saved.get("format") != CACHE_FORMAT or saved.get("key") != cfg.cache_key():
            raise ValueError("it was saved for other settings")
        state = saved["state"]
        source_net(cfg).load_state_dict(state)  # strict: every tensor present, every shape right
        if not all(torch.isfinite(t).all() for t in state.values() if t.is_floating_point()):
            raise ValueError("it holds non-finite weights")
        pretrained = Pretrained(
            config=cfg,
            state=state,
            source_val_accuracy=float(saved["source_val_accuracy"]),
            history=saved["history"].numpy(),
            seconds=float(saved["seconds"]),
            from_cache=True,
        )
    except Exception as exc:  # any unreadable, foreign or damaged file: retrain, never crash
        return None, f"the cached weights could not be used ({type(exc).__name__}: {exc}); trained again"
    return pretrained, ""


def save_cached(path: Path, pretrained: Pretrained) -> str:
    """Write atomically (temporary file, then rename); return "" or why the cache was not written."""
    payload = {
        "format": CACHE_FORMAT,
        "key": pretrained.config.cache_key(),
        "config": asdict(pretrained.config),
        "state": pretrained.state,
        "source_val_accuracy": pretrained.source_val_accuracy,
        "history": torch.as_tensor(pretrained.history),
        "seconds": pretrained.seconds,
    }
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            torch.save(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        return f"the weights could not be cached in {path.parent} ({exc.strerror or exc})"
    return ""


def _lr_factor(step: int, steps: int) -> float:
    """Linear warm-up over the first 5% of the steps, then a cosine down to zero."""
    warm = max(1, steps // 20)
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1.0 + math.cos(math.pi * (step - warm) / max(1, steps - warm)))


def pretrain_job(cfg: PretrainConfig, device: str = "cpu") -> Job[Pretrained]:
    """Load from the cache, or train on the source task with Progress every few steps, then cache."""
    path = cache_path(cfg)
    cached, why = load_cached(path, cfg)
    if cached is not None:
        yield Progress(1.0, "Loaded the pretrained source network from the cache")
        return cached
    dev = resolve_device(device)
    train_seed, val_seed, batch_seed = _seeds(cfg.seed)
    X, y = glyphs(cfg.n_per_class, train_seed, noise=cfg.noise)
    Xv, yv = glyphs(N_SOURCE_VAL, val_seed, noise=cfg.noise)
    X, y = torch.as_tensor(X, device=dev), torch.as_tensor(y, device=dev)
    net = source_net(cfg, dev)
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: _lr_factor(s, cfg.steps))
    batches = torch.Generator().manual_seed(batch_seed)
    rows = torch.zeros(cfg.steps, 2, device=dev)  # minibatch loss, accuracy: one host copy per report
    started = time.perf_counter()
    net.train()
    for step in range(cfg.steps):
        idx = torch.randint(len(X), (min(cfg.batch_size, len(X)),), generator=batches).to(dev)
        logits = net(X[idx])
        loss = F.cross_entropy(logits, y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        rows[step, 0] = loss.detach()
        rows[step, 1] = (logits.argmax(dim=1) == y[idx]).float().mean()
        if (step + 1) % PROGRESS_EVERY == 0 or step + 1 == cfg.steps:
            recent = rows[max(0, step + 1 - PROGRESS_EVERY) : step + 1].mean(dim=0).cpu().numpy()
            if not np.isfinite(recent[0]):
                raise ValueError(f"pretraining diverged at step {step}: try a smaller learning rate")
            yield Progress(
                (step + 1) / cfg.steps,
                f"Pretraining on the digits (first time only): step {step + 1}/{cfg.steps}, "
                f"batch accuracy {recent[1]:.0%}",
            )
    net.eval()
    with torch.no_grad():
        val_accuracy = float((net(torch.as_tensor(Xv, device=dev)).argmax(dim=1).cpu().numpy() == yv).mean())
    steps = np.arange(cfg.steps, dtype=np.float64)[:, None]
    pretrained = Pretrained(
        config=cfg,
        state={k: v.detach().cpu().clone() for k, v in net.state_dict().items()},
        source_val_accuracy=val_accuracy,
        history=np.hstack([steps, rows.cpu().double().numpy()]),
        seconds=time.perf_counter() - started,
        from_cache=False,
    )
    note = save_cached(path, pretrained)
    notes = "; ".join(n for n in (why, note) if n)
    return replace(pretrained, note=notes)
