"""Declared parameters: one spec drives the form, the CLI's --set, validation and the caption.

A tab lists :class:`Param` objects; :class:`ParamPanel` turns them into a pyqtgraph ParameterTree
(bounded spin boxes, tooltips) and :meth:`Param.parse` checks a ``--set key=value`` the same way,
so the GUI and the command line can never accept different things.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PyQt6 import QtCore, QtWidgets
from pyqtgraph.parametertree import Parameter, ParameterTree

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Param:
    key: str
    label: str
    kind: str  # "float" | "int" | "bool" | "choice"
    default: Any
    tip: str
    bounds: tuple[float, float] | None = None
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()  # shown in the form; the CLI uses ``choices``
    group: str | None = None
    parent: str | None = None  # key of a bool param this one is nested under
    log: bool = False  # step a float multiplicatively (learning rates)
    in_caption: bool = False

    def __post_init__(self) -> None:
        self.validate(self.default)

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise ValueError saying why."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{self.key} must be true or false, got {value!r}")
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
        if self.kind == "choice":
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
        else:
            allowed = "true|false"
        return f"{self.key:<24} {allowed:<30} default {self.default!s:<10} {self.tip}"

    def tree_options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {"name": self.key, "title": self.label, "value": self.default, "tip": self.tip}
        if self.kind == "choice":
            labels = self.choice_labels or self.choices
            opts.update(type="list", limits=dict(zip(labels, self.choices, strict=True)))
        elif self.kind == "bool":
            opts.update(type="bool")
        else:
            # no limits in the spin box: it would clamp a typed -5 to the bound without a word; the panel
            # checks the bounds instead and marks the field (see ParamPanel._on_value_changed)
            opts.update(type=self.kind)
            if self.kind == "float":
                opts.update(dec=self.log, step=0.1 if self.log else _step(self.bounds), decimals=4)
        return opts


def _digits_only(text: str) -> bool:
    return text.lstrip("+-").replace("_", "").isdigit()


def _step(bounds: tuple[float, float] | None) -> float:
    if bounds is None:
        return 0.1
    return 10 ** math.floor(math.log10(max(bounds[1] - bounds[0], 1e-12)) - 2)


def defaults(params: Sequence[Param]) -> dict[str, Any]:
    return {p.key: p.default for p in params}


class ParamPanel(QtWidgets.QWidget):
    """A ParameterTree built from :class:`Param` specs; emits ``sig_changed(key, value)``."""

    sig_changed = QtCore.pyqtSignal(str, object)

    def __init__(self, params: Sequence[Param], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.specs = {p.key: p for p in params}
        self._params: dict[str, Parameter] = {}
        self._muted = False
        root = Parameter.create(name="parameters", type="group", children=[])
        groups: dict[str, Parameter] = {}
        for p in params:
            node = Parameter.create(**p.tree_options())
            if p.parent is not None:
                container = self._params[p.parent]
            elif p.group is not None:
                if p.group not in groups:
                    groups[p.group] = root.addChild(Parameter.create(name=p.group, type="group"))
                container = groups[p.group]
            else:
                container = root
            container.addChild(node)
            self._params[p.key] = node
            node.sigValueChanged.connect(self._on_value_changed)
        self.root = root
        self.tree = ParameterTree(showHeader=False)
        self.tree.setParameters(root, showTop=False)
        self.tree.setVerticalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        #: what the experiment runs with: a value out of bounds stays in its field, marked, and is not applied
        self._applied: dict[str, Any] = {key: node.value() for key, node in self._params.items()}
        self._problems: dict[str, str] = {}
        self.problem = QtWidgets.QLabel(wordWrap=True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.hide()
        layout.addWidget(self.problem)
        self._apply_tips()
        self._tie_event_proxies()

    def _tie_event_proxies(self) -> None:
        """Parent each editor's pyqtgraph ``EventProxy`` to its editor, so both go together.

        pyqtgraph keeps the proxy (an event filter on the editor) only as an attribute of the tree item;
        when the item's Python wrapper goes first, the editor can still send it an event while the window
        is torn down, and the rebuilt wrapper has no ``callback`` (an AttributeError in the event loop).
        """
        for node in self._params.values():
            for item in node.items:
                proxy, widget = getattr(item, "eventProxy", None), getattr(item, "widget", None)
                if isinstance(proxy, QtCore.QObject) and isinstance(widget, QtWidgets.QWidget):
                    proxy.setParent(widget)

    def _apply_tips(self) -> None:
        """pyqtgraph puts a tip on the editor only; the name column should explain itself too."""
        for key, node in self._params.items():
            for item in node.items:
                item.setToolTip(0, node.opts.get("tip") or self.specs[key].tip)

    def _on_value_changed(self, node: Parameter, value: Any) -> None:
        key = node.name()
        try:
            value = self.specs[key].validate(value)
        except ValueError as exc:
            self._mark(key, f"{exc} (not applied)")
            return
        self._mark(key, None)
        self._applied[key] = value
        if not self._muted:
            self.sig_changed.emit(key, value)

    def _mark(self, key: str, problem: str | None) -> None:
        """Show (or clear) why a field's value is not applied: a tinted field and a line under the form."""
        if problem is None:
            self._problems.pop(key, None)
        else:
            self._problems[key] = problem
        for item in self._params[key].items:
            widget = getattr(item, "widget", None)
            if isinstance(widget, QtWidgets.QWidget):
                widget.setStyleSheet("" if problem is None else "background: #ffd6d6; color: #600;")
        self.problem.setText("\n".join(self._problems.values()))
        self.problem.setVisible(bool(self._problems))

    def editor(self, key: str) -> QtWidgets.QWidget | None:
        """The field a person types ``key``'s value into (None while its row is not built)."""
        return next((item.widget for item in self._params[key].items if hasattr(item, "widget")), None)

    def problems(self) -> dict[str, str]:
        """Fields whose typed value is out of bounds or unreadable, and why."""
        return dict(self._problems)

    def values(self) -> dict[str, Any]:
        return dict(self._applied)

    def value(self, key: str) -> Any:
        return self._applied[key]

    def set_value(self, key: str, value: Any, *, quiet: bool = False) -> None:
        """Set a validated value; ``quiet`` suppresses ``sig_changed`` (for programmatic bulk updates)."""
        value = self.specs[key].validate(value)
        self._muted = quiet
        try:
            self._params[key].setValue(value)
        finally:
            self._muted = False

    def set_enabled(self, key: str, enabled: bool, reason: str = "") -> None:
        """Grey out a parameter and say why in its tooltip (e.g. natural gradient without a model)."""
        node = self._params[key]
        tip = self.specs[key].tip if enabled else f"{reason}"
        node.setOpts(enabled=enabled, tip=tip)
        for item in node.items:
            item.setToolTip(0, tip)
            item.setDisabled(not enabled)

    def is_enabled(self, key: str) -> bool:
        return bool(self._params[key].opts.get("enabled", True))
