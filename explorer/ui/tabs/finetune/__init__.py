"""The fine-tuning tab (registered on import): view, network diagram, plots, parameters, readouts."""

from explorer.ui.tabs.finetune.view import FinetuneTab

__all__ = ["FinetuneTab"]
