"""Per-model rules (:mod:`gatesim.models.hf_rules`): Image sizes and layouts a detector or dense model needs."""
from __future__ import annotations

import torch

from ..hf_inputs import make_images
from . import config_rule, input_rule  # noqa: F401


@input_rule("vilt")
def vilt_images(inp, model, batch, made):
    """ViLT reads text and an image together, but its configuration has no vision part and ``input_ids`` is its
    main input, so the builder makes text only: the image (``pixel_values`` and the ``pixel_mask`` of its
    valid pixels) is what ViLT's own image processor makes, at the configuration's ``image_size``."""
    if made.get("pixel_values") is not None:
        return {}
    return make_images(inp.mt, inp.config, batch)
