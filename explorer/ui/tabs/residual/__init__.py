"""Residual networks: the view is a package of its parameters, its landscape panels and the tab itself."""

from explorer.ui.tabs.residual.view import ResidualTab

__all__ = ["ResidualTab"]
