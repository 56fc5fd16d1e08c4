"""Multimodal models whose media must reach placeholder tokens.

The builder puts in ``input_ids`` as many placeholders as the model's own feature method returns, and refuses
media that reach none (:meth:`gatesim.models.hf_inputs.HFInputs._check_placeholders`). These rules give the
models the media they are built for where the library default configuration leaves a tower out.
"""
from __future__ import annotations

from . import config_rule


@config_rule("gemma4", "gemma4_unified")
def gemma4_towers(config) -> None:
    """Gemma 4's default configuration has no vision nor audio tower (both optional, None), so the multimodal
    model counts as a text model. The library default (no ``architectures``: a real checkpoint names its own and
    keeps its towers, or their absence) gets the default vision and audio configurations, with no more layers
    than its text model has (the zoo's layer cut runs before the rules)."""
    if getattr(config, "architectures", None):
        return
    layers = getattr(getattr(config, "text_config", None), "num_hidden_layers", None)
    for key in ("vision_config", "audio_config"):
        cls = type(config).sub_configs.get(key)
        if getattr(config, key, None) is not None or cls is None:
            continue
        sub = cls()
        n = getattr(sub, "num_hidden_layers", None)
        if isinstance(layers, int) and isinstance(n, int) and n > layers:
            sub.num_hidden_layers = layers
        setattr(config, key, sub)
