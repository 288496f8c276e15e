"""The saddle tab's command-line shorthands: ``optimizer=adam,newton`` and ``lr=0.05`` for every one enabled."""

from __future__ import annotations

from typing import Any

from explorer.lab.saddle import optim
from explorer.ui.params import Param
from explorer.ui.topic import Alias


def command_line_aliases(parameters: list[Param]) -> dict[str, Alias]:
    def only(text: str, values: dict[str, Any]) -> list[tuple[str, Any]]:
        chosen = [t.strip() for t in text.split(",") if t.strip()]
        if chosen == ["all"]:
            chosen = list(optim.NAMES)
        unknown = [c for c in chosen if c not in optim.NAMES]
        if unknown or not chosen:
            raise ValueError(f"optimizer must be 'all' or a comma list of {', '.join(optim.NAMES)}; got {text!r}")
        return [(n, n in chosen) for n in optim.NAMES]

    def rate(text: str, values: dict[str, Any]) -> list[tuple[str, Any]]:
        spec = next(p for p in parameters if p.key == "gd_lr")
        lr = spec.parse(text)
        return [(f"{n}_lr", lr) for n in optim.NAMES if values[n]]

    return {
        "optimizer": ("enable only these optimizers: a comma list, or all", only),
        "lr": ("set the learning rate of every enabled optimizer", rate),
    }
