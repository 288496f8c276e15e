"""Natural gradient: steps measured by the Fisher metric, their invariance, and what the Fisher costs.

``view`` is the registered tab; each of its three views (invariance, race, cost) is a page of its own.
"""

from explorer.ui.tabs.natural_gradient.view import NaturalGradientTab

__all__ = ["NaturalGradientTab"]
