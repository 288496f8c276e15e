"""Fine-tuning: a pretrained CNN adapted to a new task six ways, frozen and trainable layers shown live.

``TAB`` is all the window needs to list the topic; ``view`` (imported only when the page is built)
holds :class:`FinetuneTab`, and the modules beside it its panels, parameters and readouts.
"""

from explorer.ui.topic import TabInfo

TAB = TabInfo(name="finetune", title="Fine-tuning", order=40, live=True, view="FinetuneTab", short="Fine-tune")
