"""Every tab's parameter specs through the CLI parser, as a hostile user would type them.

Valid draws are accepted (or refused by a constraint between parameters, in one line); anything else
is a UsageError: never another exception, never a value outside its spec.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer import cli
from explorer.ui.params import Param, defaults
from explorer.ui.topic import tab_classes

TABS = tab_classes()
SPECS = [(cls, p) for cls in TABS for p in cls.parameters()]

HOSTILE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["nan", "NaN", "inf", "-inf", "1e999", "-1e999", "", " ", "٣", "３", "0x10", "1_000", "\x00",
                     "true", "None", "1e-400", "2**31", "-0", "+0.0"]),
    st.integers(min_value=10**300, max_value=10**320).map(str),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)  # fmt: skip


def _valid_text(param: Param) -> st.SearchStrategy[str]:
    if param.kind == "bool":
        return st.sampled_from(["true", "false", "yes", "no", "1", "0", "on", "off"])
    if param.kind == "choice":
        return st.sampled_from(param.choices)
    if param.kind == "text":  # one line (a file name, say): the tab's check may still refuse it, in one line
        return st.text(max_size=30).filter(lambda text: "\n" not in text)
    assert param.bounds is not None
    lo, hi = param.bounds
    if param.kind == "int":
        return st.integers(min_value=int(lo), max_value=int(hi)).map(str)
    return st.floats(min_value=lo, max_value=hi).map(repr)


def _check(cls: type, texts: list[str]) -> list[tuple[str, object]] | None:
    try:
        pairs = cli.parse_assignments(cls, texts, defaults(cls.parameters()))
    except cli.UsageError as exc:
        assert "\n" not in str(exc)
        return None
    specs = {p.key: p for p in cls.parameters()}
    for key, value in pairs:
        assert specs[key].validate(value) == value  # inside its spec: bounds, type, finite
        if isinstance(value, float):
            assert math.isfinite(value)
    return pairs


@pytest.mark.parametrize(("cls", "param"), SPECS, ids=[f"{c.name}.{p.key}" for c, p in SPECS])
@given(data=st.data())
def test_any_text_for_any_parameter_is_accepted_in_bounds_or_refused(cls, param, data):
    _check(cls, [f"{param.key}={data.draw(HOSTILE)}"])
    valid = data.draw(_valid_text(param))
    pairs = _check(cls, [f"{param.key}={valid}"])
    if pairs is not None:
        assert dict(pairs)[param.key] == param.parse(valid)


@pytest.mark.parametrize("cls", TABS, ids=[c.name for c in TABS])
@given(data=st.data())
def test_random_valid_configurations_parse_the_same_in_any_order(cls, data):
    params = data.draw(st.lists(st.sampled_from(cls.parameters()), min_size=1, max_size=6, unique_by=lambda p: p.key))
    texts = [f"{p.key}={data.draw(_valid_text(p))}" for p in params]
    shuffled = data.draw(st.permutations(texts))
    assert _check(cls, texts) == _check(cls, list(shuffled))


@given(data=st.data())
def test_valid_fine_tuning_settings_make_a_lab_config(data):
    from explorer.lab.finetune.params import finetune_config

    cls = next(c for c in TABS if c.name == "finetune")
    params = data.draw(st.lists(st.sampled_from(cls.parameters()), min_size=1, max_size=8, unique_by=lambda p: p.key))
    pairs = _check(cls, [f"{p.key}={data.draw(_valid_text(p))}" for p in params])
    if pairs is None:
        return
    values = {**defaults(cls.parameters()), **dict(pairs)}
    finetune_config(values, "cpu")  # what the CLI accepted, the lab accepts: no late surprise
