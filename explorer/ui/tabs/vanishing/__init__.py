"""VGG vs ResNet: vanishing gradients in a plain net and their absence in its residual twin.

``TAB`` is all the window needs to list the topic; ``view`` (imported only when the page is built)
holds :class:`VanishingTab`, and the modules beside it its panels, parameters and readouts.
"""

from explorer.ui.topic import TabInfo

TAB = TabInfo(name="vanishing", title="VGG vs ResNet", order=20, live=True, view="VanishingTab")
