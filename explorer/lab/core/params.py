"""Declared parameters: one spec per parameter drives the form, the CLI's --set, the config and the caption.

A topic lists :class:`Param` objects next to the config they fill. The window turns them into a form
(bounded fields, tooltips), :meth:`Param.parse` checks a ``--set key=value`` the same way, and
:func:`config_from` builds the config from the form's values *by name*: a parameter fills the config
field named like its key, or the one its ``field`` names (a dotted path reaches into a nested config,
``name[]`` gathers the keys of the true booleans into a tuple). Nothing is mapped by hand, so the form,
the command line and the config cannot drift apart; a test checks every topic's defaults against its
config's. Qt-free: the lab and its tests use it without a window.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

C = TypeVar("C")

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Param:
    key: str
    label: str
    kind: str  # "float" | "int" | "bool" | "choice" | "text" (a file path, say: any one line)
    default: Any
    tip: str
    bounds: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()  # shown in the form; the CLI uses ``choices``
    group: str | None = None
    parent: str | None = None  # key of a bool param this one is nested under
    log: bool = False  # step a float multiplicatively (learning rates)
    in_caption: bool = False
    #: the config field this value fills: None for the field named like the key, "" for none (a display
    #: setting), "a.b" for field b of the nested config a, "name[]" for a tuple of the true booleans' keys
    field: str | None = None
    #: a choice's value in the config, one per choice (None: the choice's text itself)
    values: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        if self.values is not None and len(self.values) != len(self.choices):
            raise ValueError(f"{self.key}: one config value per choice, got {len(self.values)} for {self.choices}")
        self.validate(self.default)

    @property
    def target(self) -> str:
        """The config field path this parameter fills ("" for none)."""
        return self.key if self.field is None else self.field

    def config_value(self, value: Any) -> Any:
        """What the config gets for the form's ``value``: a choice's own value where it has one."""
        return value if self.values is None else self.values[self.choices.index(value)]

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise ValueError saying why."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.key} must be true or false, got {value!r}")
            return value
        if self.kind == "text":
            if not isinstance(value, str) or "\n" in value:
                raise ValueError(f"{self.key} must be one line of text, got {value!r:.40}")
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"{self.key} must be one of {', '.join(self.choices)}; got {value!r}")
            return value
        kind = "a whole number" if self.kind == "int" else "a number"
        if isinstance(value, (bool, str, bytes)) or not hasattr(value, "__float__"):
            raise ValueError(f"{self.key} must be {kind}, got {value!r:.40}")
        try:
            # a float's finiteness first: int(nan) and int(inf) raise, and float(10**400) overflows
            if isinstance(value, float) and not math.isfinite(value):
                raise OverflowError
            number = int(value) if self.kind == "int" else float(value)
        except (OverflowError, ValueError):
            raise ValueError(self._out_of_bounds(value)) from None
        if self.kind == "int" and number != value:
            raise ValueError(f"{self.key} must be {kind}, got {value!r:.40}")
        if self.bounds is not None and not self.bounds[0] <= number <= self.bounds[1]:
            raise ValueError(self._out_of_bounds(number))
        return number

    def _out_of_bounds(self, value: Any) -> str:
        """'must be between A and B, got X', with X shortened (a 400-digit number is not echoed whole)."""
        shown = f"{value:g}" if isinstance(value, float) else f"{value!s:.30}"
        if len(str(value)) > 30:
            shown += "…"
        if self.bounds is None:
            return f"{self.key} must be a finite number, got {shown}"
        lo, hi = self.bounds
        return f"{self.key} must be between {lo:g} and {hi:g}, got {shown}"

    def parse(self, text: str) -> Any:
        """Parse the text of ``--set key=text``; raise ValueError with a one-line reason."""
        text = text.strip()
        if self.kind == "bool":
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(f"{self.key} must be true or false, got {text!r}")
        if self.kind in ("choice", "text"):
            return self.validate(text)
        kind = "a whole number" if self.kind == "int" else "a number"
        if not text.isascii():  # int() reads Arabic-Indic and full-width digits; a shell user did not mean that
            raise ValueError(f"{self.key} must be {kind} in ASCII digits, got {text!r:.40}")
        try:
            number: float = int(text) if self.kind == "int" else float(text)
        except ValueError:
            if self.kind == "int" and _digits_only(text):  # more digits than Python converts (4300)
                raise ValueError(self._out_of_bounds(text)) from None
            raise ValueError(f"{self.key} must be {kind}, got {text!r:.40}") from None
        return self.validate(number)

    def describe(self) -> str:
        """One line for ``--list-params``."""
        if self.kind == "choice":
            allowed = "{" + ", ".join(self.choices) + "}"
        elif self.bounds is not None:
            allowed = f"[{self.bounds[0]:g}, {self.bounds[1]:g}]"
        elif self.kind == "text":
            allowed = "text"
        else:
            allowed = "true|false"
        return f"{self.key:<24} {allowed:<30} default {self.default!s:<10} {self.tip}"


def _digits_only(text: str) -> bool:
    return text.lstrip("+-").replace("_", "").isdigit()


def float_step(bounds: tuple[float, float] | None) -> float:
    if bounds is None:
        return 0.1
    return 10 ** math.floor(math.log10(max(bounds[1] - bounds[0], 1e-12)) - 2)


def defaults(params: Sequence[Param]) -> dict[str, Any]:
    return {p.key: p.default for p in params}


def config_from(cls: type[C], params: Sequence[Param], values: Mapping[str, Any], scope: str = "", **given: Any) -> C:
    """``cls`` built from the parameters whose field path starts with ``scope`` (e.g. "landscape" for
    "landscape.span"), each under its field's name; ``given`` adds what no parameter holds (the device).
    A nested config field is built the same way from the "field.sub" paths, starting from its default."""
    prefix = f"{scope}." if scope else ""
    fields: dict[str, Any] = {}
    nested: dict[str, list[Param]] = {}
    for p in params:
        path = _path_in(cls, p, prefix)
        if path is None:
            continue
        if path.endswith("[]"):
            if values[p.key]:
                fields[path[:-2]] = (*fields.get(path[:-2], ()), p.key)
            else:
                fields.setdefault(path[:-2], ())
        elif "." in path:
            nested.setdefault(path.split(".", 1)[0], []).append(p)
        else:
            fields[path] = p.config_value(values[p.key])
    for name, inner in nested.items():
        default = _field_default(cls, name)
        fields[name] = dataclasses.replace(default, **_fields_of(inner, values, f"{prefix}{name}."))
    return cls(**fields, **given)


def config_defaults(config: Any, params: Sequence[Param], scope: str = "") -> dict[str, tuple[Any, Any]]:
    """{parameter key: (the form's default as the config takes it, ``config``'s value)} for every parameter
    that fills a field of ``config`` (the lab's default config of that scope): equal pairs, or the form and
    the lab disagree."""
    prefix = f"{scope}." if scope else ""
    out: dict[str, tuple[Any, Any]] = {}
    for p in params:
        path = _path_in(type(config), p, prefix)
        if path is None:
            continue
        if path.endswith("[]"):
            out[p.key] = (p.default, p.key in getattr(config, path[:-2]))
            continue
        own = config
        for name in path.split("."):
            if not hasattr(own, name):
                raise KeyError(f"{type(own).__name__} has no field {name!r} (parameter {p.key!r})")
            own = getattr(own, name)
        out[p.key] = (p.config_value(p.default), own)
    return out


def _path_in(cls: type, param: Param, prefix: str) -> str | None:
    """``param``'s field path inside ``cls`` at ``prefix``, or None if it fills something else: no field,
    another scope, or a nested config that ``cls`` does not have (that of a sibling config)."""
    if not param.target or not param.target.startswith(prefix):
        return None
    path = param.target[len(prefix) :]
    if "." in path and path.split(".", 1)[0] not in {f.name for f in dataclasses.fields(cls)}:
        return None
    return path


def _fields_of(params: Sequence[Param], values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {p.target[len(prefix) :]: p.config_value(values[p.key]) for p in params}


def _field_default(cls: type, name: str) -> Any:
    """The default of dataclass field ``name`` (a KeyError names a field the config does not have)."""
    field = {f.name: f for f in dataclasses.fields(cls)}.get(name)
    if field is None:
        raise KeyError(f"{cls.__name__} has no field {name!r}")
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    if field.default is dataclasses.MISSING:
        raise KeyError(f"{cls.__name__}.{name} has no default")
    return field.default
