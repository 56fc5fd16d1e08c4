"""Per-model rules (:mod:`gatesim.models.hf_rules`): Vision towers fed patches, grids and position ids;
convolutional parts whose channels do not chain.

* inputs: CLAP's unfused features, GLM-OCR's patches (GLM-4.6V's processor), VideoLLaMA3's merge sizes, Gemma 4's
  patch positions, Inkling's and PaddleOCR-VL's 5-D patch stacks, Gemma 4's assistant fed its target's state;
* configurations: EdgeTAM's misspelt backbone, UVDoc's fused bridges, PP-OCRv6 small's detection backbone,
  Gemma 4's assistant's shared-layer count."""
from __future__ import annotations

import torch

from . import config_rule, input_rule  # noqa: F401


def _sub(config, name: str):
    """The sub-configuration ``name`` of a composite configuration, or the configuration itself (a tower's)."""
    return getattr(config, name, None) or config


# ------------------------------------------------------------------------------------------------
# CLAP: the feature extractor's default is the fused model's four-mel stack
# ------------------------------------------------------------------------------------------------
@input_rule("clap", "clap_audio_model")
def clap_unfused_features(inp, model, batch, made):
    """``ClapFeatureExtractor`` defaults to ``truncation="fusion"``: four mel channels (the whole clip and three
    crops) for a fused model, while ``ClapAudioConfig`` defaults to ``enable_fusion=False``, whose patch
    embedding takes ``patch_embed_input_channels`` (one) channel. An unfused checkpoint's processor truncates
    with ``"rand_trunc"``: its features are made that way here (a fused configuration keeps the default)."""
    from ..hf_inputs import feature_extractor

    audio = _sub(inp.config, "audio_config")
    if getattr(audio, "enable_fusion", True) or "input_features" not in made:
        return {}
    import numpy as np

    fe = feature_extractor(inp.mt, inp.config)
    rate = int(fe.sampling_rate)
    wave = np.random.RandomState(0).randn(rate).astype(np.float32) * 0.1
    out = fe([wave] * batch, sampling_rate=rate, truncation="rand_trunc", return_tensors="pt")
    return {"input_features": out["input_features"], "is_longer": out["is_longer"]}


# ------------------------------------------------------------------------------------------------
# EdgeTAM: the default backbone's architecture is misspelt
# ------------------------------------------------------------------------------------------------
@config_rule("edgetam_vision_model")
def edgetam_backbone_architecture(config):
    """``EdgeTamVisionConfig``'s default backbone names ``repvit_m1`` under the misspelt key ``archirecture``, so
    the timm wrapper keeps its own default ``architecture`` (resnet50, channels 256 to 2048) while
    ``backbone_channel_list`` is RepViT-M1's (384, 192, 96, 48): the neck's convolutions do not take the
    backbone's features. The misspelt key's architecture is put where the wrapper reads it (a checkpoint's
    configuration, which spells it right, passes through unchanged)."""
    bb = getattr(config, "backbone_config", None)
    meant = getattr(bb, "archirecture", None)
    if isinstance(meant, str) and getattr(bb, "architecture", None) != meant:
        bb.architecture = meant


# ------------------------------------------------------------------------------------------------
# UVDoc: the head fuses every bridge, the default backbone outputs the last
# ------------------------------------------------------------------------------------------------
@config_rule("uvdoc")
def uvdoc_fused_bridges(config):
    """UVDoc's head concatenates the outputs of all the backbone's bridge stages (its ``bridge_connector``
    convolution takes ``bridge_connector[0]`` channels per stage), but ``UVDocBackboneConfig`` left without
    ``out_features`` outputs only the last stage: the connector gets one stage's channels. Where the stages
    output do not make the channels the head takes and all of them do, the backbone outputs all of them."""
    bb = getattr(config, "backbone_config", None)
    stages = getattr(bb, "stage_configs", None)
    head = getattr(config, "bridge_connector", None)
    if not stages or not head or not getattr(bb, "out_indices", None):
        return
    width = [blocks[-1][0] for blocks in stages]  # each bridge block keeps its channels
    want = head[0] * len(stages)
    if sum(width[i - 1] for i in bb.out_indices if i >= 1) != want and sum(width) == want:
        bb.set_output_features_output_indices(out_indices=list(range(1, len(stages) + 1)), out_features=None)


# ------------------------------------------------------------------------------------------------
# patch towers whose processor is registered under another model type
# ------------------------------------------------------------------------------------------------
def _patch_images(inp, model, batch: int, made: dict, processor_type: str) -> dict:
    """The images ``processor_type``'s image processor makes (sized and patched like the configuration's
    tower): a patch tower gets its patches and ``grid_thw``; a whole model also gets its text remade with one
    placeholder per merged patch, between the image's start and end tokens, as the processor expands them (the
    builder made the text before the images were known)."""
    from ..hf_inputs import PIXELS, TEXT, find, make_images, text_ids

    imgs = make_images(processor_type, inp.config, batch)
    grid = imgs.get("image_grid_thw")
    if grid is None:
        return {}
    if inp.patch_tower:
        key = "hidden_states" if "hidden_states" in inp.params else PIXELS
        return {key: imgs["pixel_values"], "grid_thw": grid, **({} if TEXT in inp.params else {TEXT: None})}
    out = {PIXELS: imgs["pixel_values"], "image_grid_thw": grid}
    tok = find(inp.config, "image_token_id", "image_token_index")
    if TEXT in made and isinstance(tok, int):
        merge = find(inp.config, "spatial_merge_size", "merge_size", prefer="vision_config", default=1) or 1
        n = int(grid.prod(-1).sum()) // (merge * merge) // batch
        start = find(inp.config, "image_start_token_id", "vision_start_token_id")
        end = find(inp.config, "image_end_token_id", "vision_end_token_id")
        row = ([start] if isinstance(start, int) else []) + [tok] * n + ([end] if isinstance(end, int) else [])
        seq = int((made[TEXT][0] != tok).sum())
        out[TEXT] = torch.cat([torch.tensor(row).expand(batch, -1), text_ids(inp.config, (batch, seq))], dim=1)
        if "mm_token_type_ids" in made:
            out["mm_token_type_ids"] = (out[TEXT] == tok).long()
    return out


@input_rule("glm_ocr", "glm_ocr_vision")
def glm_ocr_patches(inp, model, batch, made):
    """GLM-OCR has no image processor of its own in the auto mappings: its checkpoint's processor is GLM-4.6V's
    (14-pixel patches, two frames, 2 x 2 merge), whose patches and ``image_grid_thw`` the tower takes; without
    them the builder makes plain NCHW images and no grid."""
    return _patch_images(inp, model, batch, made, "glm46v")


@input_rule("video_llama_3_vision")
def video_llama_3_merge_sizes(inp, model, batch, made):
    """VideoLLaMA3's vision tower takes, besides the patches and ``grid_thw``, each image's ``merge_sizes`` (the
    processor's ``image_merge_sizes``: images and videos are merged by different factors). They come from the
    same processor call as the patches the builder gave the tower."""
    from ..hf_inputs import make_images

    imgs = make_images(inp.mt, inp.config, batch)
    sizes = imgs.get("image_merge_sizes")
    if sizes is None or made.get("grid_thw") is None or len(sizes) != len(made["grid_thw"]):
        return {}
    return {"merge_sizes": sizes}


@input_rule("gemma4_vision")
def gemma4_pixel_positions(inp, model, batch, made):
    """Gemma 4's vision tower takes each patch's (x, y) position as ``pixel_position_ids``; its image processor
    makes them, with the patches, under the name the whole model takes (``image_position_ids``)."""
    pos = made.get("image_position_ids")
    return {} if pos is None else {"pixel_position_ids": pos}


# ------------------------------------------------------------------------------------------------
# Gemma 4's drafting assistant: every layer reads the target model's keys and values
# ------------------------------------------------------------------------------------------------
@config_rule("gemma4_unified_assistant")
def gemma4_assistant_shared_layers(config):
    """Every layer of Gemma 4's assistant reuses the target model's keys and values (``num_kv_shared_layers``
    is its layer count: it has no key or value projections). A shared-layer count above the layer count (the
    layers cut, the count kept) makes the configuration look for producing layers that do not exist; it is set
    to the layer count."""
    tc = getattr(config, "text_config", None)
    n, shared = getattr(tc, "num_hidden_layers", None), getattr(tc, "num_kv_shared_layers", None)
    if isinstance(n, int) and isinstance(shared, int) and shared > n:
        tc.num_kv_shared_layers = n


@input_rule("gemma4_unified_assistant")
def gemma4_assistant_target_states(inp, model, batch, made):
    """The assistant drafts from its target model's state, not from token ids (it ignores ``input_ids``): it
    takes ``inputs_embeds`` of twice the target's width (the target's last hidden state beside the token's
    embedding, ``backbone_hidden_size``) and ``shared_kv_states``, the keys and values of the target's last layer
    of each attention type, shaped as the assistant's layers of that type read them (their key-value heads
    and head size). Both are made for a target context as long as the text the builder made."""
    from ..hf_inputs import TEXT

    tc = inp.config.get_text_config()
    width = getattr(inp.config, "backbone_hidden_size", None)
    types = getattr(tc, "layer_types", None)
    if not isinstance(width, int) or not types or TEXT not in made:
        return {}
    seq = made[TEXT].shape[1]
    g = torch.Generator().manual_seed(0)
    states = {}
    for kind in ("full_attention", "sliding_attention"):  # the masks read both (a kind no layer has: its length)
        layer = tc.per_layer_config[types.index(kind) if kind in types else 0]
        shape = (batch, layer.num_key_value_heads, seq, layer.head_dim)
        states[kind] = (torch.randn(shape, generator=g), torch.randn(shape, generator=g))
    return {"inputs_embeds": torch.randn(batch, seq, 2 * width, generator=g), "shared_kv_states": states,
            TEXT: None}


# ------------------------------------------------------------------------------------------------
# towers fed 5-D patch stacks
# ------------------------------------------------------------------------------------------------
@input_rule("inkling_vision")
def inkling_patches(inp, model, batch, made):
    """Inkling's vision tower folds (patches, frames, height, width, channels) stacks: what its image processor
    (registered under ``inkling_mm_model``, not this tower's type) makes, one 40-pixel patch repeated over the
    two frames. The builder finds no processor for the tower and gives NCHW images."""
    from ..hf_inputs import PIXELS, make_images

    pv = make_images("inkling_mm_model", inp.config, batch).get(PIXELS)
    p, t = getattr(inp.config, "patch_size", None), getattr(inp.config, "temporal_patch_size", None)
    if pv is None or pv.dim() != 5 or tuple(pv.shape[1:4]) != (t, p, p):
        return {}
    return {PIXELS: pv}


@input_rule("paddleocr_vl_vision")
def paddleocr_vl_patch_sequence(inp, model, batch, made):
    """PaddleOCR-VL's vision tower takes (batch, patches, channels, patch, patch): the whole model puts all its
    images' patches (the processor's (patches, channels, patch, patch)) in one sequence (``unsqueeze(0)``)
    and passes their ``image_grid_thw`` as ``grid_thw``, which the tower's position embeddings need."""
    from ..hf_inputs import PIXELS

    pv, grid = made.get(PIXELS), made.get("image_grid_thw")
    if pv is None or grid is None or pv.dim() != 4:
        return {}
    return {PIXELS: pv.unsqueeze(0), "grid_thw": grid}


# ------------------------------------------------------------------------------------------------
# PP-OCRv6 small detection: the default backbone is the recognition network
# ------------------------------------------------------------------------------------------------
#: PP-LCNetV4's small *detection* network, as PaddleOCR defines it (``NET_CONFIG_DET["small"]`` of
#: ppocr/modeling/backbones/rec_lcnetv4.py): a 24/48-channel stem (stride 4), then four stages each halving the
#: image, 48, 96, 192 and 384 channels; rows are (kernel, in, out, stride, squeeze-excitation)
LCNETV4_SMALL_DET = dict(
    stem_channels=[3, 24, 48],
    block_configs=[[[3, 48, 48, 1, True], [3, 48, 48, 1, False]],
                   [[3, 48, 96, 2, False], [3, 96, 96, 1, True], [3, 96, 96, 1, False]],
                   [[3, 96, 192, 2, False], [3, 192, 192, 1, True], [3, 192, 192, 1, False],
                    [3, 192, 192, 1, True], [3, 192, 192, 1, False]],
                   [[3, 192, 384, 2, False], [3, 384, 384, 1, True], [3, 384, 384, 1, False]]])


@config_rule("pp_ocrv6_small_det")
def pp_ocrv6_small_det_backbone(config):
    """``PPOCRV6SmallDetConfig`` left without a backbone gets ``PPLCNetV4Config()``, PP-LCNetV4's small
    *recognition* network (text-line strides (2, 1), only its last stage output), while its neck fuses four
    levels, each twice the next's resolution, taking ``layer_list_out_channels`` (PP-OCRv5 mobile's projected
    channels, which v6's model has no projection for) straight from the backbone. Such a configuration gets
    PP-LCNetV4's small *detection* network (:data:`LCNETV4_SMALL_DET`) with its four stages output, and the
    neck takes their channels. A configuration whose backbone already feeds the neck passes unchanged."""
    bb = getattr(config, "backbone_config", None)
    if getattr(bb, "model_type", None) != "pp_lcnet_v4" or not getattr(bb, "block_configs", None):
        return
    text_line = any(isinstance(b[3], (list, tuple)) for stage in bb.block_configs for b in stage)
    fed = [bb.stage_out_channels[i - 1] for i in bb.out_indices]
    if not text_line or list(config.layer_list_out_channels) == fed:
        return
    keep = {k: getattr(bb, k) for k in ("scale", "reduction", "hidden_act", "num_channels", "stem_strides",
                                        "stem_type", "use_learnable_affine_block")}
    stages = len(LCNETV4_SMALL_DET["block_configs"])
    config.backbone_config = type(bb)(**keep, **LCNETV4_SMALL_DET, out_indices=list(range(1, stages + 1)))
    config.layer_list_out_channels = list(config.backbone_config.stage_out_channels)
