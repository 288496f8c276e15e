"""Saddle points: optimizers racing across 2-D surfaces, their critical points found and classified.

``TAB`` is all the window needs to list the topic; ``view`` (imported only when the page is built)
holds :class:`SaddleTab`; its parameters are the lab's (``explorer.lab.saddle.params``).
"""

from explorer.ui.topic import TabInfo

TAB = TabInfo(name="saddle", title="Saddle points", order=50, live=True, view="SaddleTab", short="Saddles")
