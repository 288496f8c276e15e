"""Your model: a network and data the user wrote, trained live, with its gradients, landscape and curvature.

``TAB`` is all the window needs to list the topic; ``view`` (imported only when the page is built)
holds :class:`YourModelTab`, and the modules beside it its three pages; its parameters are the lab's
(``explorer.lab.your_model.params``), and the user's file is loaded by the lab in the worker thread.
"""

from explorer.ui.topic import TabInfo

TAB = TabInfo(name="your_model", title="Your model", order=90, live=True, view="YourModelTab")
