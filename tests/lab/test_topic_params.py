"""Every topic's parameter specs against its configs: each spec fills one config field, by name, and the
form's default is the lab's default. A parameter is written once; this is what keeps it so."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import explorer.lab
from explorer.lab.core.params import config_defaults, config_from, defaults


def _params_module(topic: str):
    return importlib.import_module(f"explorer.lab.{topic}.params")


TOPICS = sorted(
    info.name
    for info in pkgutil.iter_modules(explorer.lab.__path__)
    if info.ispkg
    and importlib.util.find_spec(f"explorer.lab.{info.name}.params") is not None
    and hasattr(_params_module(info.name), "PARAMS")  # not core's own module of the Param class
)


def test_the_topics_with_forms_have_specs() -> None:
    every_tab = ("residual", "vanishing", "flash_attention", "finetune", "saddle", "natural_gradient", "entropy",
                 "label_smoothing", "your_model")  # fmt: skip
    assert set(TOPICS) == set(every_tab)


@pytest.mark.parametrize("topic", TOPICS)
def test_every_spec_fills_one_field_and_its_default_is_the_labs(topic: str) -> None:
    module = _params_module(topic)
    placed: dict[str, list[str]] = {}
    for scope, config in module.configs().items():
        pairs = config_defaults(config, module.PARAMS, scope)
        drift = {key: pair for key, pair in pairs.items() if pair[0] != pair[1]}
        assert not drift, f"{topic}: form default vs {type(config).__name__} default: {drift}"
        for key in pairs:
            placed.setdefault(key, []).append(scope or type(config).__name__)
        built = config_from(type(config), module.PARAMS, defaults(module.PARAMS), scope)
        assert all(getattr(built, name) == getattr(config, name) for name in _filled(module.PARAMS, scope, built))
    fills = {p.key for p in module.PARAMS if p.target}
    assert set(placed) == fills, f"{topic}: specs that fill no config: {sorted(fills - set(placed))}"
    assert all(len(scopes) == 1 for scopes in placed.values()), f"{topic}: filled twice: {placed}"


def _filled(params, scope: str, config) -> set[str]:
    prefix = f"{scope}." if scope else ""
    names = {f for f in type(config).__dataclass_fields__}
    heads = {p.target[len(prefix) :].split(".")[0].removesuffix("[]") for p in params if p.target.startswith(prefix)}
    return heads & names
