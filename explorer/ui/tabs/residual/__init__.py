"""Residual networks: plain and residual nets at several depths, their block ratios, boundaries and landscapes.

``TAB`` is all the window needs to list the topic; ``view`` (imported only when the page is built)
holds :class:`ResidualTab`, and the modules beside it its panels, parameters and readouts.
"""

from explorer.ui.topic import TabInfo

TAB = TabInfo(name="residual", title="Residual networks", order=10, live=True, view="ResidualTab", short="ResNets")
