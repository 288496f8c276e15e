"""Choose Triton's interpreter before Triton is imported, whoever imports it first.

Without CUDA the Triton kernel can only run under Triton's interpreter, and ``TRITON_INTERPRET=1``
must be set before ``triton`` itself is imported: Triton's own library functions (``tl.max``,
``tl.sum``...) are decorated at import, and decorated for the compiler they cannot run in the
interpreter ("Cannot call @triton.jit'd outside of the scope of a kernel"). Torch imports Triton on
its own, lazily (an optimizer's first ``step`` does, through ``torch._dynamo``), so a model trained in
another tab before this package is used would otherwise leave the kernel broken.

:func:`install` puts a finder in front of the import system that makes the choice at the moment
``triton`` is first imported. It imports nothing heavy itself, so the app can call it at start-up.
A value of ``TRITON_INTERPRET`` the user set is left alone.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
from importlib.machinery import ModuleSpec


def decide() -> None:
    """Set ``TRITON_INTERPRET=1`` unless torch sees a CUDA device (or the user chose already)."""
    if "TRITON_INTERPRET" in os.environ:
        return
    try:
        import torch

        cuda = bool(torch.cuda.is_available())
    except Exception:  # torch missing or half-imported: the interpreter is the mode that works anywhere
        cuda = False
    if not cuda:
        os.environ["TRITON_INTERPRET"] = "1"


class _DecideBeforeTriton(importlib.abc.MetaPathFinder):
    """Finds nothing; on the first ``import triton`` it decides the mode, then leaves the import system."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if name == "triton":
            uninstall()
            decide()
        return None


_FINDER = _DecideBeforeTriton()


def install() -> None:
    """Decide the mode when Triton is first imported (now, if it already was: too late to change it)."""
    if "triton" in sys.modules:
        return
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
