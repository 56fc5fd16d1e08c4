"""Per-model rules (:mod:`gatesim.models.hf_rules`): Image sizes and layouts a detector or dense model needs, the
images (and image positions) of text-first image-text models whose configuration has no vision part, and the
configuration sizes such models need to fit together at two layers."""
from __future__ import annotations

import torch

from ..hf_inputs import _boxes, make_images, text_ids
from . import config_rule, fit_layers, input_rule  # noqa: F401


def _square(made: dict, side: int) -> dict:
    """``pixel_values`` (and ``pixel_mask``) of ``made`` remade ``side`` pixels square, or {} when they are."""
    pv = made.get("pixel_values")
    if not isinstance(pv, torch.Tensor) or tuple(pv.shape[-2:]) == (side, side):
        return {}
    out = {"pixel_values": torch.rand(*pv.shape[:-2], side, side, generator=torch.Generator().manual_seed(0))}
    if isinstance(made.get("pixel_mask"), torch.Tensor):
        out["pixel_mask"] = torch.ones(pv.shape[0], side, side, dtype=made["pixel_mask"].dtype)
    return out


@input_rule("vilt")
def vilt_images(inp, model, batch, made):
    """ViLT reads text and an image together, but its configuration has no vision part and ``input_ids`` is its
    main input, so the builder makes text only: the image (``pixel_values`` and the ``pixel_mask`` of its
    valid pixels) is what ViLT's own image processor makes, at the configuration's ``image_size``."""
    if made.get("pixel_values") is not None:
        return {}
    return make_images(inp.mt, inp.config, batch)


@input_rule("kosmos-2")
def kosmos2_image_positions(inp, model, batch, made):
    """Kosmos-2 writes its ``latent_query_num`` image features over as many text positions, which the processor
    marks in ``image_embeds_position_mask`` (after the first token: ``<s> <image> ... </image> text``); the
    library default leaves the mask None and the text model fails. The text gets that many leading positions
    and the mask marks them."""
    ids = made.get("input_ids")
    n = getattr(inp.config, "latent_query_num", None)
    if not isinstance(ids, torch.Tensor) or not isinstance(n, int) or made.get("image_embeds_position_mask") \
            is not None:
        return {}
    ids = torch.cat([ids[:, :1], text_ids(inp.config, (ids.shape[0], n), seed=5), ids[:, 1:]], dim=1)
    mask = torch.zeros_like(ids)
    mask[:, 1:1 + n] = 1
    return {"input_ids": ids, "image_embeds_position_mask": mask}


@input_rule("tvp")
def tvp_frames(inp, model, batch, made):
    """TVP grounds text in a video: its forward takes ``input_ids`` first and ``pixel_values`` as frames
    (batch, ``num_frames``, 3, ``max_img_size``, ``max_img_size``), the size its visual prompt pads to; the
    configuration has no vision part, so the builder made text only and the prompter got None."""
    if made.get("pixel_values") is not None:
        return {}
    c = inp.config
    side = int(c.max_img_size)
    frames = torch.rand(batch, int(c.num_frames), 3, side, side, generator=torch.Generator().manual_seed(0))
    return {"pixel_values": frames}


@input_rule("udop")
def udop_boxes_and_page(inp, model, batch, made):
    """UDOP's layout boxes are page fractions, floats in 0..1 (its relative bias averages them; the generic
    boxes are LayoutLM's 0..1000 integers), and it reads the page image with the text (``pixel_values`` of
    the configuration's ``image_size``: the builder made none, the configuration having no vision part)."""
    out = {}
    ids = made.get("input_ids")
    if isinstance(ids, torch.Tensor) and not (isinstance(made.get("bbox"), torch.Tensor)
                                              and made["bbox"].is_floating_point()):
        out["bbox"] = _boxes(ids.shape[0], ids.shape[1], floats=True)
    if made.get("pixel_values") is None:
        out.update(make_images(inp.mt, inp.config, batch))
    return out


@input_rule("groupvit")
def groupvit_two_pairs(inp, model, batch, made):
    """GroupViT's image and text projections end in batch normalization, which in training needs more than one
    value per channel; its main input is text, of batch 1 by default. The step gets two image-text pairs (the
    builder makes two images for the same reason where images are the main input)."""
    if batch >= 2:
        return {}
    out = {}
    ids = made.get("input_ids")
    if isinstance(ids, torch.Tensor):
        out["input_ids"] = torch.cat([ids, text_ids(inp.config, ids.shape, seed=6)])
        if isinstance(made.get("attention_mask"), torch.Tensor):
            out["attention_mask"] = torch.ones_like(out["input_ids"])
    out.update(make_images(inp.mt, inp.config, 2))
    return out


@input_rule("janus_vqgan")
def janus_vq_image_side(inp, model, batch, made):
    """Janus's image VQ-VAE quantizes to a fixed ``num_patches`` x ``num_patches`` grid of codes and its encoder
    halves the image at each resolution but the last (``len(channel_multiplier) - 1`` times), so it takes
    images of ``num_patches * 2**(levels - 1)`` pixels a side (512 for the default configuration), not the
    224 the builder defaults to (the configuration names no image size)."""
    c = inp.config
    side = int(c.num_patches) * 2 ** (len(c.channel_multiplier) - 1)
    pv = made.get("pixel_values")
    if isinstance(pv, torch.Tensor) and tuple(pv.shape[-2:]) == (side, side):
        return {}
    n = pv.shape[0] if isinstance(pv, torch.Tensor) else batch
    return {"pixel_values": torch.rand(n, int(c.in_channels), side, side, generator=torch.Generator().manual_seed(0))}


@input_rule("oneformer")
def oneformer_task_tokens(inp, model, batch, made):
    """OneFormer's image processor hands back the task as text (``["the task is panoptic"]``); the model takes it
    tokenized, as OneFormer's processor does: ``task_seq_len`` ids of the text encoder's vocabulary
    (``text_encoder_vocab_size``) per image."""
    if isinstance(made.get("task_inputs"), torch.Tensor):
        return {}
    c = inp.config
    ids = torch.randint(0, int(c.text_encoder_vocab_size), (batch, int(c.task_seq_len)),
                        generator=torch.Generator().manual_seed(7))
    return {"task_inputs": ids}


@config_rule("pp_doclayout_v2")
def pp_doclayout_class_lists(config):
    """PP-DocLayout-V2's detector keeps the boxes whose score passes their class's threshold and hands their
    classes, ranked by ``class_order``, to its reading-order head; both lists are None in the default
    configuration (a checkpoint's come with it). Filled per label (``num_labels``): the usual 0.5 threshold and
    the labels' own order."""
    n = int(config.num_labels)
    if getattr(config, "class_thresholds", None) is None:
        config.class_thresholds = [0.5] * n
    if getattr(config, "class_order", None) is None:
        config.class_order = list(range(n))


@input_rule("depth_pro")
def depth_pro_image_side(inp, model, batch, made):
    """Depth Pro cuts its image into ``patch_size`` patches at each of ``scaled_images_ratios``: the smallest
    ratio must still give one whole patch, so the image is ``patch_size / min(ratios)`` a side (1536 for the
    default configuration); the builder takes the 384 of the patch encoder's configuration (the meta probe
    finds 1536 only where the image processor installed names it)."""
    c = inp.config
    side = int(round(c.patch_size / min(c.scaled_images_ratios)))
    pv = made.get("pixel_values")
    if not isinstance(pv, torch.Tensor) or min(pv.shape[-2:]) >= side:
        return {}
    return _square(made, side)


@config_rule("depth_pro")
def depth_pro_hooks_in_range(config):
    """Depth Pro fuses the patch encoder's hidden states after the layers ``intermediate_hook_ids`` names (11 and
    5 of a 12-layer encoder); an encoder with fewer layers (the coverage script's two) has no such states.
    Hooks past the last layer move onto it, as many as before (the fusion stage is sized by their count)."""
    sub = getattr(config, "patch_model_config", None)
    n = getattr(sub, "num_hidden_layers", None)
    ids = getattr(config, "intermediate_hook_ids", None)
    if isinstance(n, int) and ids and any(i >= n for i in ids):
        config.intermediate_hook_ids = fit_layers(list(ids), 0, n - 1)


@config_rule("eomt", "eomt_dinov3")
def eomt_blocks_within_layers(config):
    """EoMT adds its queries before the last ``num_blocks`` layers (4 of 24 by default); an encoder with fewer
    layers than that (the coverage script's two) never adds them and its mask prediction mis-sizes. The
    query blocks are at most all the layers."""
    n, k = getattr(config, "num_hidden_layers", None), getattr(config, "num_blocks", None)
    if isinstance(n, int) and isinstance(k, int) and k > n:
        config.num_blocks = n


@input_rule("rf_detr")
def rf_detr_window_multiple(inp, model, batch, made):
    """RF-DETR's DINOv2 backbone splits the patch grid into ``num_windows`` x ``num_windows`` windows, so the
    image side must be a multiple of ``patch_size * num_windows`` (56 by default); the backbone's
    ``image_size`` (518, DINOv2's: 37 patches) is not. The image is rounded up to the next multiple (560 for
    the default configuration)."""
    b = inp.config.backbone_config
    step = int(b.patch_size) * max(1, int(getattr(b, "num_windows", 1) or 1))
    pv = made.get("pixel_values")
    if not isinstance(pv, torch.Tensor) or all(s % step == 0 for s in pv.shape[-2:]):
        return {}
    return _square(made, -(-max(pv.shape[-2:]) // step) * step)


@config_rule("lw_detr")
def lw_detr_one_level(config):
    """LW-DETR's default configuration has no projector scales (``projector_scale_factors`` empty), so its
    backbone's features reach the encoder at no level and the detector has nothing to attend to. Filled with
    one level (scale 1.0: the backbone's stride-16 map, as the smaller published models have), with the sizes
    the configuration derives from it."""
    if getattr(config, "projector_scale_factors", None):
        return
    config.projector_scale_factors = [1.0]
    config.projector_in_channels = [config.d_model]
    config.num_feature_levels = 1


@config_rule("deepseek_ocr2_vision")
def deepseek_ocr2_encoder_width(config):
    """DeepSeek-OCR-2's vision encoder reads the SAM tower's features (its neck's last ``downsample_channels``,
    896) joined to its learned queries, so its ``hidden_size`` must be that width (the published encoder is a
    Qwen2-0.5B, 896 wide); the default encoder configuration is 4096 wide and the join fails. The width is set
    to the SAM features' (the heads kept where they divide it)."""
    sam, enc = getattr(config, "sam_config", None), getattr(config, "encoder_config", None)
    chans = getattr(sam, "downsample_channels", None)
    if enc is None or not chans or enc.hidden_size == int(chans[-1]):
        return
    width = int(chans[-1])
    enc.hidden_size = width
    if width % enc.num_attention_heads:
        enc.num_attention_heads = next(h for h in range(width // 64 or 1, 0, -1) if width % h == 0)
    if enc.num_key_value_heads and enc.num_attention_heads % enc.num_key_value_heads:
        enc.num_key_value_heads = enc.num_attention_heads
