"""The parameter form: a pyqtgraph ParameterTree built from the topic's :class:`Param` specs.

The specs themselves live in the lab (``explorer.lab.core.params``), next to the configs they fill;
the form checks each typed value against its spec and marks it instead of clamping.

The form never cuts a name or a value and never scrolls sideways: it asks the side panel for the width
its names and fields need at the fonts in use (:meth:`ParamPanel.minimumSizeHint`), and a choice with
long labels (a view's "1 · Measured: memory, IO and time as N grows") takes the row under its name, the
whole width of the form, rather than widening the value column for every field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PyQt6 import QtCore, QtGui, QtWidgets
from pyqtgraph.parametertree import Parameter, ParameterTree
from pyqtgraph.parametertree.parameterTypes import ListParameterItem

from explorer.lab.core.params import Param, defaults, float_step
from explorer.ui.theme import inherit_fonts, style_parameter_tree

__all__ = ["Param", "ParamPanel", "defaults", "tree_options"]

#: a choice whose longest label has more characters than this gets the row under its name
WIDE_CHOICE = 24
#: room around a name in its column (the item's text margins), in pixels
_NAME_MARGIN = 10
#: the field's row: the field, the layout's spacing and pyqtgraph's 20-pixel reset button
_RESET_BUTTON = 2 + 20


class _WideChoiceItem(ListParameterItem):
    """A choice with long labels: its field takes the row under its name, as wide as the form."""

    def makeWidget(self) -> QtWidgets.QWidget:
        widget = super().makeWidget()
        self.asSubItem = True  # read by WidgetParameterItem right after makeWidget
        self.hideWidget = False  # the field itself, always: a label in the name's row would be cut
        return widget

    def treeWidgetChanged(self) -> None:
        super().treeWidgetChanged()
        self.setExpanded(True)  # the field's row shows


def _forget_size_hints(combo: QtWidgets.QComboBox) -> None:
    """Make ``combo`` measure its size hints afresh, at the font it has now.

    On a font change Qt drops a combo box's cached size hint but keeps its minimum size hint, and a
    tree row holding the box (a wide choice's own row) is at least that tall: a box measured once in
    presentation mode (32 px) kept its row 32 px high in normal mode (24 px). A style change drops both.
    """
    QtWidgets.QApplication.sendEvent(combo, QtCore.QEvent(QtCore.QEvent.Type.StyleChange))


def _is_wide(param: Param) -> bool:
    labels = param.choice_labels or param.choices or ()
    return param.kind == "choice" and max((len(str(label)) for label in labels), default=0) > WIDE_CHOICE


def tree_options(param: Param) -> dict[str, Any]:
    opts: dict[str, Any] = {"name": param.key, "title": param.label, "value": param.default, "tip": param.tip}
    if param.kind == "choice":
        labels = param.choice_labels or param.choices
        opts.update(type="list", limits=dict(zip(labels, param.choices, strict=True)))
    elif param.kind == "bool":
        opts.update(type="bool")
    elif param.kind == "text":
        opts.update(type="str")
    else:
        # no limits in the spin box: it would clamp a typed -5 to the bound without a word; the panel
        # checks the bounds instead and marks the field (see ParamPanel._on_value_changed)
        opts.update(type=param.kind)
        if param.kind == "float":
            opts.update(dec=param.log, step=0.1 if param.log else float_step(param.bounds), decimals=4)
    return opts


class ParamPanel(QtWidgets.QWidget):
    """A ParameterTree built from :class:`Param` specs; emits ``sig_changed(key, value)``."""

    sig_changed = QtCore.pyqtSignal(str, object)

    def __init__(self, params: Sequence[Param], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.specs = {p.key: p for p in params}
        self._params: dict[str, Parameter] = {}
        self._muted = False
        self._refit_queued = False
        root = Parameter.create(name="parameters", type="group", children=[])
        groups: dict[str, Parameter] = {}
        for p in params:
            node = Parameter.create(**tree_options(p))
            if _is_wide(p):
                node.itemClass = _WideChoiceItem
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
        # the names' column is as wide as the longest name (see refit); the fields take the rest
        self.tree.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Fixed)
        self.tree.header().setStretchLastSection(True)
        self.tree.installEventFilter(self)
        for editor in self._editors():
            if isinstance(editor, QtWidgets.QComboBox):
                editor.setMaximumHeight(16777215)  # pyqtgraph's 20 px cut presentation-size text
        # a field on its own row is sized from its own size hint, which follows its font only once the
        # field itself has had the font change (after the tree, or before: the order is Qt's); a choice's
        # minimum size hint needs dropping at each font change (see _forget_size_hints)
        for item in self._items():
            widget = getattr(item, "widget", None)
            if getattr(item, "asSubItem", False) or isinstance(widget, QtWidgets.QComboBox):
                widget.installEventFilter(self)
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
        self.refit()

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

    # --- width: no name or value cut, no sideways scrolling ---------------------------------------
    def _items(self) -> list[QtWidgets.QTreeWidgetItem]:
        return [item for node in self._params.values() for item in node.items]

    def _editors(self) -> list[QtWidgets.QWidget]:
        return [item.widget for item in self._items() if isinstance(getattr(item, "widget", None), QtWidgets.QWidget)]

    def _shown(self) -> list[QtWidgets.QTreeWidgetItem]:
        """Every row of the tree not hidden by its parameter (collapsed groups' rows count: they open)."""
        return [item for item in self.tree.listAllItems() if not item.isHidden() and item.treeWidget() is self.tree]

    def _indent(self, item: QtWidgets.QTreeWidgetItem) -> int:
        """Where ``item``'s text starts in the first column: one indentation per ancestor (the first is the
        form's own hidden top item: top-level rows are not indented, its children are)."""
        depth, parent = 0, item.parent()
        while parent is not None:
            depth += 1
            parent = parent.parent()
        return self.tree.indentation() * depth

    def _name_width(self, item: QtWidgets.QTreeWidgetItem) -> int:
        return self._indent(item) + QtGui.QFontMetrics(item.font(0)).horizontalAdvance(item.text(0)) + _NAME_MARGIN

    def widths(self) -> tuple[int, int]:
        """(the names' column, the whole tree) in pixels, for the fonts in use."""
        names = fields = spanned = 0
        for item in self._shown():
            widget, sub = getattr(item, "widget", None), getattr(item, "subItem", None)
            if item.text(0) and item.isFirstColumnSpanned():  # a group's title runs across both columns
                spanned = max(spanned, self._name_width(item))
            elif item.text(0):
                names = max(names, self._name_width(item))
            if not isinstance(widget, QtWidgets.QWidget):
                continue
            if getattr(item, "asSubItem", False) and sub is not None:
                spanned = max(spanned, self._indent(sub) + widget.sizeHint().width() + 4)
                fields = max(fields, _RESET_BUTTON)
            else:
                fields = max(fields, widget.sizeHint().width() + _RESET_BUTTON)
        tree = self.tree
        chrome = tree.verticalScrollBar().sizeHint().width() + 2 * tree.frameWidth() + 2
        return names, max(names + fields, spanned) + chrome

    def refit(self) -> None:
        """Names' column to the longest name, rows to the fonts in use, and the form's width asked again."""
        names, _ = self.widths()
        if self.tree.columnWidth(0) != names:
            self.tree.setColumnWidth(0, names)
        for item in self._items():  # a field on its own row: pyqtgraph sizes that row once, at the first font
            widget, sub = getattr(item, "widget", None), getattr(item, "subItem", None)
            if getattr(item, "asSubItem", False) and sub is not None and isinstance(widget, QtWidgets.QWidget):
                hint = widget.sizeHint()
                if sub.sizeHint(0).height() != hint.height():
                    sub.setSizeHint(0, hint)
        if self._stale_rows():
            self.tree.doItemsLayout()
        self.updateGeometry()

    def _stale_rows(self) -> bool:
        """Whether a row is not as tall as it asks to be now.

        A tree view measures a row once and keeps that height: a row whose size hint, or whose field's,
        changed since (a new font; a hidden tree's rows) keeps its old height until the rows are laid out.
        """
        tree = self.tree
        for item in tree.listAllItems():
            height = tree.visualItemRect(item).height()  # 0: a row not laid out (a collapsed group's)
            if height and height != tree.indexRowSizeHint(tree.indexFromItem(item, 0)):
                return True
        return False

    def restyle(self) -> None:
        """Fonts, group titles, row heights and widths for the application's font now (after a theme change)."""
        inherit_fonts(self)
        for editor in self._editors():
            if isinstance(editor, QtWidgets.QComboBox):
                _forget_size_hints(editor)
        for label in self.tree.findChildren(QtWidgets.QLabel):
            # Qt drops a label's cached size hints on a font change only once it was given a text, and
            # setText("") on an empty label is a no-op: an empty text field's label ("model file" before
            # one is chosen) kept its presentation height (24 px, not 21) and with it its row's
            label.setIndent(label.indent())  # drops the hints (and asks the layout again)
        style_parameter_tree(self.tree)
        self.refit()

    def minimumSizeHint(self) -> QtCore.QSize:
        hint = super().minimumSizeHint()
        return QtCore.QSize(max(hint.width(), self.widths()[1]), hint.height())

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.FontChange and isinstance(watched, QtWidgets.QComboBox):
            _forget_size_hints(watched)
        refits = (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange, QtCore.QEvent.Type.Show)
        refit = event.type() in refits and (watched is self.tree or event.type() != QtCore.QEvent.Type.Show)
        if refit and not self._refit_queued:
            # after pyqtgraph and the theme have resized the rows for the new font; once for a burst of
            # events (a theme change sends one to every field)
            self._refit_queued = True
            QtCore.QTimer.singleShot(0, self._queued_refit)
        return False

    def _queued_refit(self) -> None:
        self._refit_queued = False
        self.refit()

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
