"""Multimodal models whose media must reach placeholder tokens.

The builder puts in ``input_ids`` as many placeholders as the model's own feature method returns, and refuses
media that reach none (:meth:`gatesim.models.hf_inputs.HFInputs._check_placeholders`). These rules give the
models the media they are built for where the library default configuration leaves a tower out.
"""
from __future__ import annotations

import torch

from . import config_rule, input_rule


@config_rule("gemma4", "gemma4_unified")
def gemma4_towers(config) -> None:
    """Gemma 4's default configuration has no vision nor audio tower (both optional, None), so the multimodal
    model counts as a text model. The library default (no ``architectures``: a real checkpoint names its own and
    keeps its towers, or their absence) gets the default vision and audio configurations, with no more layers
    than its text model has (the zoo's layer cut runs before the rules)."""
    from ..zoo import _shrink

    if getattr(config, "architectures", None):
        return
    layers = getattr(getattr(config, "text_config", None), "num_hidden_layers", None)
    for key in ("vision_config", "audio_config"):
        cls = type(config).sub_configs.get(key)
        if getattr(config, key, None) is not None or cls is None:
            continue
        sub = cls()
        if isinstance(layers, int):
            _shrink(sub, layers)
        setattr(config, key, sub)


#: frames of an InstructBLIP-Video clip: its processor's fixed count ("InstructBLIP works with 4 frames only",
#: processing_instructblipvideo.py; generate() makes num_query_tokens x 4 placeholders); no configuration names it
INSTRUCTBLIP_VIDEO_FRAMES = 4


@input_rule("instructblipvideo")
def instructblip_video_clips(inp, model, batch: int, made: dict) -> dict:
    """InstructBLIP-Video takes clips (batch, frames, channels, height, width) of 4 frames, its video tokens
    first: the builder's images are single frames. A clip of the builder's image size and as many video
    placeholders, before the text, as the model's ``get_video_features`` returns for it."""
    pv, ids = made.get("pixel_values"), made.get("input_ids")
    tok = inp._placeholder_id("video")
    if not isinstance(pv, torch.Tensor) or not isinstance(ids, torch.Tensor) or not isinstance(tok, int):
        return {}
    clip = torch.rand(batch, INSTRUCTBLIP_VIDEO_FRAMES, *pv.shape[-3:], generator=torch.Generator().manual_seed(0))
    n = inp._placeholders(model, "get_video_features", {**made, "pixel_values": clip}, "pixel_values", batch) // batch
    if n <= 0:
        return {}  # the builder's own (the placeholder check says where they are missing)
    text = ids[:, (ids != tok).all(dim=0)]
    return {"pixel_values": clip, "input_ids": torch.cat([torch.full((batch, n), tok, dtype=ids.dtype), text], dim=1)}
