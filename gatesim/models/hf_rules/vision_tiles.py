"""Per-model rules (:mod:`gatesim.models.hf_rules`): Image tilings and connectors of multimodal models.

* the vision layers a connector reads (VipLlava, Molmo2, Mllama, DeepSeek-VL hybrid's global layer) and the
  text layers that read the image (Mllama's cross-attention), kept within a tower shrunk to the zoo's two
  layers;
* connector sizes the default configuration leaves at odds with its tower (Gemma 3's tokens per image, the
  pixel-shuffle grid of Idefics3 / SmolVLM / ModernVBERT / UltraVBERT, Llama 4's adapter widths, Molmo2's
  adapter width);
* inputs no processor makes as the model takes them (IDEFICS' images per sample and image attention mask,
  Molmo2's adapter alone: crops' features and pooling windows).
"""
from __future__ import annotations

from . import config_rule, fit_layers, input_rule, layer_count  # noqa: F401


# ------------------------------------------------------------------------------------------------
# vision layers a connector reads, beyond a tower with fewer layers
# ------------------------------------------------------------------------------------------------
@config_rule("vipllava")
def vipllava_feature_layers(config) -> None:
    """VipLlava's projector reads the hidden states of vision layers -2, -5, -8, -11 and 6 of its 24-layer
    CLIP tower: a tower with fewer layers (the zoo's two) has no such states. Each index is moved into the
    tower's range (the count, and so the projector, unchanged); a real checkpoint's indices already are."""
    depth = layer_count(getattr(config, "vision_config", None))
    if depth is not None:
        config.vision_feature_layer = fit_layers(config.vision_feature_layer, -(depth + 1), depth)  # embeddings first


@config_rule("molmo2")
def molmo2_feature_layers(config) -> None:
    """Molmo2's adapter pools the concatenated outputs of vision layers 24 and 18
    (``adapter_config.vision_feature_layer``, layer numbers: ``hidden_states[layer + 1]``): moved into the
    range of a vision tower with fewer layers."""
    adapter, depth = getattr(config, "adapter_config", None), layer_count(getattr(config, "vision_config", None))
    if adapter is not None and depth is not None:
        adapter.vision_feature_layer = fit_layers(adapter.vision_feature_layer, -(depth + 1), depth - 1)


@config_rule("mllama_vision_model")
def mllama_intermediate_layers(config) -> None:
    """Mllama's vision tower stacks the outputs of its local layers 3, 7, 15, 23 and 30 (of 32;
    ``intermediate_layers_indices``, numbered from the first layer's output) with its global output: moved
    into the range of a tower with fewer layers (the count, and so ``vision_output_dim``, unchanged)."""
    depth = layer_count(config)
    if depth is not None:
        config.intermediate_layers_indices = fit_layers(config.intermediate_layers_indices, -depth, depth - 1)


@config_rule("molmo2")
def molmo2_adapter_width(config) -> None:
    """Molmo2's adapter projects to ``adapter_config.text_hidden_size`` (3584 by default) features that are
    added to the text embeddings, ``text_config.hidden_size`` wide (4096 by default): the text's width."""
    adapter, text = getattr(config, "adapter_config", None), getattr(config, "text_config", None)
    width = getattr(text, "hidden_size", None)
    if adapter is not None and isinstance(width, int) and adapter.text_hidden_size != width:
        adapter.text_hidden_size = width


@config_rule("deepseek_vl_hybrid")
def deepseek_hybrid_global_layer(config) -> None:
    """DeepSeek-VL hybrid adds the output of its SAM tower's first global-attention layer
    (``high_res_vision_config.global_attn_indexes[0]``, layer 2 of 12) to the tower's last: a tower with
    fewer layers keeps the global layers it has, or makes its last layer global where it has none."""
    hr = getattr(config, "high_res_vision_config", None)
    depth = layer_count(hr)
    idx = getattr(hr, "global_attn_indexes", None)
    if depth is None or not isinstance(idx, (list, tuple)) or all(i < depth for i in idx):
        return
    hr.global_attn_indexes = type(idx)([i for i in idx if i < depth] or [depth - 1])


# ------------------------------------------------------------------------------------------------
# connectors fed what their tower makes
# ------------------------------------------------------------------------------------------------
@input_rule("molmo2_adapter")
def molmo2_adapter_inputs(inp, model, batch: int, made: dict) -> dict:
    """Molmo2's adapter alone takes the vision tower's concatenated layer outputs for every crop
    (``image_features``: crops x patches x width times the layers read) and the pooling windows over them
    (``pooled_patches_idx``: tokens x pool_h * pool_w indices into the flattened patches, -1 = padding),
    which no processor makes for it: the Molmo2 image processor's crops and windows of ``batch`` images of its
    default size, with random features (and no ``input_ids``: the text is not its)."""
    import torch

    from ..hf_inputs import image_processor, make_images

    proc = image_processor("molmo2")
    if proc is None:  # its backend (torchvision) is not installed
        return {}
    side = getattr(getattr(proc, "size", None), "height", None)
    imgs = make_images("molmo2", inp.config, batch, (side, side) if isinstance(side, int) else None)
    crops, patches = imgs["pixel_values"].shape[:2]
    width = inp.config.hidden_size * len(inp.config.vision_feature_layer)
    g = torch.Generator().manual_seed(5)
    return {"image_features": torch.randn(crops, patches, width, generator=g),
            "pooled_patches_idx": imgs["image_token_pooling"].long(), "input_ids": None}


@input_rule("idefics")
def idefics_images(inp, model, batch: int, made: dict) -> dict:
    """IDEFICS takes the images of each sample (``pixel_values``: batch x images x channels x height x width)
    and which images each token attends to (``image_attention_mask``: batch x tokens x images; its processor
    sets it from the ``<image>`` tokens): one image per sample, before the text, that every token attends
    to."""
    import torch

    pv, ids = made.get("pixel_values"), made.get("input_ids")
    if not isinstance(pv, torch.Tensor) or not isinstance(ids, torch.Tensor):
        return {}
    pv = pv.unsqueeze(1) if pv.dim() == 4 else pv
    return {"pixel_values": pv, "image_attention_mask": torch.ones(*ids.shape, pv.shape[1], dtype=torch.long)}


@config_rule("gemma3", "shieldgemma2")
def gemma3_tokens_per_image(config) -> None:
    """Gemma 3's projector average-pools the vision tower's patch grid (``image_size // patch_size`` a side)
    down to ``mm_tokens_per_image`` tokens with a kernel of the grid side over the tokens' side. The default
    configuration pairs the checkpoints' 256 tokens (their 896-pixel, 14-pixel-patch tower: 64 / 16 = 4) with
    the plain SigLIP default tower (224 / 16 = 14 patches a side, fewer than 16 tokens: a kernel of 0). Where
    the tokens' side does not divide the grid's, it becomes the largest side up to it that does."""
    v = getattr(config, "vision_config", None)
    tokens = getattr(config, "mm_tokens_per_image", None)
    size, patch = getattr(v, "image_size", None), getattr(v, "patch_size", None)
    if not all(isinstance(x, int) and x > 0 for x in (tokens, size, patch)):
        return
    grid, side = size // patch, int(tokens ** 0.5)
    if side * side == tokens and side <= grid and grid % side == 0:
        return
    side = max(d for d in range(1, min(side, grid) + 1) if grid % d == 0)
    config.mm_tokens_per_image = side * side


@config_rule("idefics3", "smolvlm", "modernvbert")
def pixel_shuffle_grid(config) -> None:
    """Idefics3's connector (SmolVLM's, ModernVBERT's; UltraVBERT's tower takes its processor's tile:
    :func:`.configs.ultravbert_tile_size`) pixel-shuffles the tower's square patch grid by
    ``scale_factor`` (``pixel_shuffle_factor``) a side, so the grid's side must be a multiple of it: the
    checkpoints' is (364 / 14 = 26 by 2, 512 / 16 = 32 by 4), the default configurations' is not (224 / 32 = 7
    by 2, 224 / 16 = 14 by 4). The tower's image size is rounded up to the next multiple of patch x factor."""
    v = getattr(config, "vision_config", None)
    factor = getattr(config, "scale_factor", None) or getattr(config, "pixel_shuffle_factor", None)
    size, patch = getattr(v, "image_size", None), getattr(v, "patch_size", None)
    if not all(isinstance(x, int) and x > 0 for x in (factor, size, patch)):
        return
    step = patch * factor
    if size % step:
        v.image_size = -(-size // step) * step


@config_rule("mllama")
def mllama_cross_attention_layers(config) -> None:
    """Mllama's text model attends to the image only in its cross-attention layers (``cross_attention_layers``:
    3, 8, ..., 38 of 40); a text model with fewer layers (the zoo's two) has none of them left, and the image
    would not reach the output. It keeps those it has, or makes its last layer the cross-attention one."""
    text = getattr(config, "text_config", None)
    depth, cross = layer_count(text), getattr(text, "cross_attention_layers", None)
    if depth is None or not isinstance(cross, (list, tuple)) or not cross or any(i < depth for i in cross):
        return
    text.cross_attention_layers = type(cross)([depth - 1])


@config_rule("llama4_vision_model")
def llama4_vision_adapter(config) -> None:
    """Llama 4's vision adapter pixel-shuffles the tower's patches (``hidden_size / pixel_shuffle_ratio**2``
    wide) into an MLP whose input is ``intermediate_size`` wide, and the multimodal projector takes the
    adapter's output (``projector_output_dim``) as ``vision_output_dim``. The checkpoints agree (1408 / 0.25 =
    5632; 4096 and 4096); the default configuration pairs their 5632 and 7680 with a 768-wide tower and a
    4096-wide adapter. Each is made what the other side gives."""
    ratio, hidden = getattr(config, "pixel_shuffle_ratio", None), getattr(config, "hidden_size", None)
    if isinstance(ratio, float) and ratio > 0 and isinstance(hidden, int):
        shuffled = int(hidden / ratio ** 2)
        if config.intermediate_size != shuffled:
            config.intermediate_size = shuffled
    out = getattr(config, "projector_output_dim", None)
    if isinstance(out, int) and config.vision_output_dim != out:
        config.vision_output_dim = out

