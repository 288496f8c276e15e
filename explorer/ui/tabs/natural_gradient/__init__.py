"""Natural gradient: steps measured by the Fisher metric, their invariance, and what the Fisher costs.

``TAB`` is all the window needs to list the topic; ``view`` (imported only when the page is built)
holds :class:`NaturalGradientTab`, and the modules beside it its pages and readouts; its parameters are
the lab's (``explorer.lab.natural_gradient.params``).
"""

from explorer.ui.topic import TabInfo

TAB = TabInfo(
    name="natural_gradient",
    title="Natural gradient",
    order=60,
    live=True,
    view="NaturalGradientTab",
    short="Natural grad.",
)
