"""Parameter specs fill configs by name: plain fields, choices with values, nested configs, scopes, sets."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from explorer.lab.core.params import Param, config_defaults, config_from, defaults


@dataclass(frozen=True)
class Inner:
    depth: int = 2
    width: int = 8


@dataclass(frozen=True)
class Outer:
    inner: Inner = field(default_factory=Inner)
    lr: float = 0.1
    sizes: tuple[int, ...] = (1, 2)
    chosen: tuple[str, ...] = ("a",)
    device: str = "cpu"


@dataclass(frozen=True)
class Sibling:
    seed: int = 0


PARAMS = (
    Param("lr", "rate", "float", 0.1, "", bounds=(0.0, 1.0)),
    Param("depth", "depth", "int", 2, "", bounds=(1, 9), field="inner.depth"),
    Param("sizes", "sizes", "choice", "1,2", "", choices=("1,2", "4"), values=((1, 2), (4,))),
    Param("a", "a", "bool", True, "", field="chosen[]"),
    Param("b", "b", "bool", False, "", field="chosen[]"),
    Param("sibling_seed", "seed", "int", 0, "", bounds=(0, 9), field="sibling.seed"),
    Param("view", "view", "choice", "x", "", choices=("x", "y"), field=""),
)


def test_a_config_is_built_by_name_with_nested_fields_choice_values_and_sets() -> None:
    values = {**defaults(PARAMS), "lr": 0.5, "depth": 7, "sizes": "4", "a": False, "b": True}
    cfg = config_from(Outer, PARAMS, values, device="cuda")
    assert cfg == Outer(inner=Inner(depth=7, width=8), lr=0.5, sizes=(4,), chosen=("b",), device="cuda")
    assert config_from(Sibling, PARAMS, {**values, "sibling_seed": 3}, scope="sibling") == Sibling(seed=3)
    assert config_from(Outer, PARAMS, {**values, "b": False}).chosen == ()


def test_the_defaults_pair_each_parameter_with_the_config_field_it_fills() -> None:
    pairs = config_defaults(Outer(), PARAMS)
    assert set(pairs) == {"lr", "depth", "sizes", "a", "b"}  # not the sibling's, not the display setting
    assert all(form == lab for form, lab in pairs.values())
    drifted = config_defaults(Outer(lr=0.2, inner=Inner(depth=3)), PARAMS)
    assert drifted["lr"] == (0.1, 0.2) and drifted["depth"] == (2, 3)


def test_a_parameter_naming_a_field_the_config_lacks_is_an_error() -> None:
    typo = (Param("lr_typo", "rate", "float", 0.1, "", bounds=(0.0, 1.0)),)
    with pytest.raises(TypeError, match="lr_typo"):
        config_from(Outer, typo, defaults(typo))
    nested = (Param("d", "d", "int", 1, "", bounds=(0, 9), field="inner.nope"),)
    with pytest.raises(KeyError, match="nope"):
        config_defaults(Outer(), nested)


def test_a_choice_needs_one_value_per_choice() -> None:
    with pytest.raises(ValueError, match="one config value per choice"):
        Param("s", "s", "choice", "a", "", choices=("a", "b"), values=(1,))


def test_a_text_parameter_takes_one_line() -> None:
    path = Param("model", "model file", "text", "", "")
    assert path.parse("  my_net.py ") == "my_net.py" and path.validate("") == ""
    with pytest.raises(ValueError, match="one line"):
        path.validate("a\nb")
    with pytest.raises(ValueError, match="one line"):
        path.validate(3)
    assert "text" in path.describe()
