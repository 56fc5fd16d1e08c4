"""Per-model rules (:mod:`gatesim.models.hf_rules`): Configuration repairs: values a default configuration leaves None or inconsistent.

Also the input rules of the same long-tail models (placeholders their processors would lay out, audio aligned to
tokens, a modality the generic builder does not make, frames at the size the built tower states)."""
from __future__ import annotations

from . import config_rule, input_rule  # noqa: F401


@config_rule("deepseek_v2")
def deepseek_v2_routing(config):
    """DeepseekV2Config() describes DeepSeek-V2-Lite (64 routed experts, 2 shared) but leaves the routing None:
    ``num_experts_per_tok`` (the gate's top-k; V2-Lite and V2 both route each token to 6 experts) and, for
    ``group_limited_greedy``, ``n_group`` / ``topk_group`` (one group holding every expert: plain top-k)."""
    if getattr(config, "num_experts_per_tok", 0) is None:
        config.num_experts_per_tok = min(6, config.n_routed_experts)
    if getattr(config, "n_group", 0) is None:
        config.n_group = 1
    if getattr(config, "topk_group", 0) is None:
        config.topk_group = config.n_group


@config_rule("step3p5")
def step3p5_sliding_window(config):
    """Step 3.5/3.7's text model builds its sliding-window mask whatever its layer types, and the library
    default leaves ``sliding_window`` None (every layer full attention), which the mask builder rejects. With
    no sliding layer the window is never used: one as long as the model's context changes nothing."""
    if getattr(config, "sliding_window", 0) is None and "sliding_attention" not in (config.layer_types or []):
        config.sliding_window = config.max_position_embeddings


@config_rule("aria")
def aria_vision_patches(config):
    """AriaConfig() takes its vision tower from Idefics3VisionConfig's defaults (32-pixel patches of a 224-pixel
    image) while its projector's ``projector_patch_to_query_dict`` ({1225: 128, 4900: 256}) is Aria's table for
    14-pixel patches of its 490- and 980-pixel images: no image the tower can take gives a patch count the
    projector knows. When the tower's grid is not in the table, the tower takes Aria's 14-pixel patches and the
    largest image in the table (a real Aria configuration, 980 pixels in 14-pixel patches, is left alone)."""
    table = getattr(config, "projector_patch_to_query_dict", None) or {}
    vis = getattr(config, "vision_config", None)
    if not table or vis is None:
        return
    patches = {int(k) for k in table}
    if (vis.image_size // vis.patch_size) ** 2 in patches:
        return
    side = round(max(patches) ** 0.5)
    vis.patch_size = 14  # Aria's vision encoder (SigLIP-SO400M/14)
    vis.image_size = side * vis.patch_size


@input_rule("qwen2_audio")
def qwen2_audio_placeholders(inp, model, batch, made):
    """Qwen2-Audio's processor expands each audio's placeholder into one ``audio_token_id`` per encoder output
    frame; the model has no ``get_audio_features`` the generic builder could ask, and a lone placeholder sends
    it down its deprecated merge path (which needs the text mask). The ids get as many placeholders as the audio
    tower makes of the extractor's frames (its own ``_get_feat_extract_output_lengths``), then the text."""
    import torch

    ids, mask = made.get("input_ids"), made.get("feature_attention_mask")
    tok = getattr(inp.config, "audio_token_id", None)
    tower = next((m for m in model.modules() if hasattr(m, "_get_feat_extract_output_lengths")), None)
    if ids is None or mask is None or not isinstance(tok, int) or tower is None:
        return {}
    _, out_len = tower._get_feat_extract_output_lengths(mask.sum(-1).cpu())
    n = int(out_len.max())
    audio = torch.full((ids.shape[0], n), tok, dtype=ids.dtype, device=ids.device)
    return {"input_ids": torch.cat([audio, ids], dim=1)}


@input_rule("pe_audio_video", "pe_audio_video_encoder")
def pe_audio_video_media(inp, model, batch, made):
    """Perception Encoder audio-video models embed a clip's sound and frames together (the encoder needs both,
    the full model at least two of text, sound and frames), but the generic builder makes one modality: the
    missing one is made as for the model type's audio or video sub-model (the audio with its mask as
    ``padding_mask``, the frames of the video configuration's count and size, with their mask: every frame
    valid, as the video processor marks a full clip; without it the model aligns frames to sound by a test on
    lengths it makes from its hidden states)."""
    import torch

    from ..hf_inputs import VIDEOS, find, make_audio, make_clip

    out = {}
    if made.get("input_values") is None:
        audio = make_audio(inp.mt, inp.config, batch)
        if "attention_mask" in audio:
            audio["padding_mask"] = audio.pop("attention_mask")
        out.update(audio)
    if made.get(VIDEOS) is None:
        video = find(inp.config, "video_config", prefer="audio_video_config") or inp.config
        out[VIDEOS] = make_clip(video, batch)
    if made.get("padding_mask_videos") is None:
        frames = (out.get(VIDEOS) if out.get(VIDEOS) is not None else made[VIDEOS]).shape[1]
        out["padding_mask_videos"] = torch.ones(batch, frames, dtype=torch.long)
    return out


@input_rule("pe_video", "pe_video_encoder", "pe_audio_video", "pe_audio_video_encoder")
def pe_video_frame_size(inp, model, batch, made):
    """Perception Encoder video models embed each frame with a timm ViT (``vit_pe_core_large_patch14_336``)
    whose patch embedding takes only its own image size, which the timm configuration names in the
    architecture alone (no ``image_size`` the builder reads, so frames come at the 224-pixel default): the
    frames are resized to the size the built patch embedding states."""
    import torch.nn.functional as F

    frames = made.get("pixel_values_videos")
    embed = next((m for m in model.modules() if type(m).__name__ == "PatchEmbed" and hasattr(m, "img_size")), None)
    if frames is None or embed is None or tuple(frames.shape[-2:]) == tuple(embed.img_size):
        return {}
    lead = frames.shape[:-3]
    flat = frames.reshape(-1, *frames.shape[-3:])
    resized = F.interpolate(flat, size=tuple(embed.img_size), mode="bilinear", align_corners=False)
    return {"pixel_values_videos": resized.reshape(*lead, *resized.shape[-3:])}


@config_rule("ultravbert")
def ultravbert_tile_size(config):
    """UltraVBertConfig() takes SigLIP's default 224-pixel tower (14 x 14 patches of 16), which its connector
    cannot pixel-shuffle by ``pixel_shuffle_factor`` 4, and which is not the tile its image processor cuts
    (``max_image_size``: 512, UltraVBERT's SigLIP at 512 pixels). A tower whose patch grid the connector cannot
    merge takes the processor's tile size (a real configuration, 512 pixels, is left alone)."""
    from ..hf_inputs import image_processor

    vis, k = getattr(config, "vision_config", None), getattr(config, "pixel_shuffle_factor", None)
    if vis is None or not isinstance(k, int) or (vis.image_size // vis.patch_size) % k == 0:
        return
    tile = (getattr(image_processor(config.model_type), "max_image_size", None) or {}).get("longest_edge")
    if isinstance(tile, int) and (tile // vis.patch_size) % k == 0:
        vis.image_size = tile


@config_rule("dots3_note_vision_encoder", "glm_image_vision")
def flat_temporal_patch(config):
    """dots3's and GLM-Image's vision towers embed 2-D patches (a ``Conv2d`` over ``num_channels`` x
    ``patch_size`` squared values a row: one frame deep), but their image processors (Qwen2-VL's, GLM-Image's)
    default to ``temporal_patch_size`` 2, repeating an image into two frames and making rows twice as long, so
    the tower sees twice the patches its grid names. The configuration does not state the tower's temporal
    patch; it gets the one its patch embedding has, 1, which the processor is then made to use."""
    if getattr(config, "temporal_patch_size", None) is None:
        config.temporal_patch_size = 1


@input_rule("dots3_note")
def dots3_note_placeholders(inp, model, batch, made):
    """dots3's ``get_image_features`` is on its inner model only, and its audio tower's output count depends on
    the chunk lengths (no shape-only probe gives it), so the generic builder puts no placeholders in the ids
    and the features would be dropped. As its processor does, the ids get one ``image_token_id`` per token the
    vision merger makes (each image's patch grid over ``adapter_merge_size`` squared, the merger's window)
    and one ``audio_token_id`` per token the feature extractor counts (its ``num_audio_tokens``)."""
    import torch

    from ..hf_inputs import find

    ids = made.get("input_ids")
    if ids is None:
        return {}
    lead = []
    grid, tok = made.get("image_grid_thw"), find(inp.config, "image_token_id")
    merge = find(inp.config, "adapter_merge_size", prefer="vision_config")
    if grid is not None and isinstance(tok, int) and isinstance(merge, int) and not (ids == tok).any():
        lead.append((tok, (grid.prod(-1) // merge ** 2).tolist()))
    n_audio, tok = made.get("num_audio_tokens"), find(inp.config, "audio_token_id")
    if n_audio is not None and made.get("input_features") is not None and isinstance(tok, int) \
            and not (ids == tok).any():
        lead.append((tok, n_audio.tolist()))
    lead = [(t, ns) for t, ns in lead if len(ns) == ids.shape[0] and len(set(ns)) == 1]
    if not lead:
        return {}
    row = [t for t, ns in lead for _ in range(int(ns[0]))]
    return {"input_ids": torch.cat([torch.tensor(row, dtype=ids.dtype).expand(ids.shape[0], -1), ids], dim=1)}


def _conv_stride(model) -> int:
    """The total time stride of a Voxtral Realtime audio embedder's convolutions (read from the built ones)."""
    import torch

    emb = next((m for m in model.modules() if type(m).__name__ == "VoxtralRealtimeEmbedder"), None)
    stride = 1
    for conv in (emb.modules() if emb is not None else []):
        s = getattr(conv, "stride", None)
        if isinstance(s, tuple) and len(s) == 1 and isinstance(conv, torch.nn.Conv1d):
            stride *= s[0]
    return stride


@input_rule("voxtral_realtime")
def voxtral_realtime_aligned_audio(inp, model, batch, made):
    """Voxtral Realtime adds one audio embedding to each text token's (no placeholders): its processor (through
    mistral_common) cuts the audio so each token gets ``downsample_factor`` encoder frames, each made of
    ``stride`` mel frames by the embedder's strided convolution. The features are cut (or tiled) to that many
    frames for the ids made."""
    ids, feats = made.get("input_ids"), made.get("input_features")
    k = getattr(inp.config, "downsample_factor", None)
    if ids is None or feats is None or not isinstance(k, int):
        return {}
    frames = ids.shape[1] * k * _conv_stride(model)
    reps = -(-frames // feats.shape[-1])
    return {"input_features": feats.repeat(1, 1, reps)[..., :frames]}


@input_rule("voxtral_realtime_encoder")
def voxtral_realtime_encoder_mask(inp, model, batch, made):
    """The feature extractor's ``attention_mask`` is over its mel frames (and a frame short of them); the
    encoder's ``attention_mask`` is over its own positions (one per ``stride`` frames after its strided
    convolution). A whole clip is all valid: the encoder gets its own all-ones mask."""
    import torch

    feats = made.get("input_features")
    if feats is None or made.get("attention_mask") is None:
        return {}
    return {"attention_mask": torch.ones(feats.shape[0], -(-feats.shape[-1] // _conv_stride(model)),
                                         dtype=torch.long)}


@config_rule("qwen3_omni_moe_text")
def qwen3_omni_head_dim(config):
    """Qwen3-Omni's thinker text configuration defaults to 28 heads of a 2048 width with ``head_dim`` None, so
    the attention takes 2048 // 28 = 73-wide heads, odd, which no rotary embedding fits. The modeling code's
    default rotary sections ([24, 20, 20] frequencies, each rotating two dimensions) are for 128-wide heads,
    the released thinker's ``head_dim``: an unset head width that does not divide the width gets the one the
    sections cover, and the sections fitted to the broken width are dropped (refitted to the new one)."""
    import importlib
    import inspect
    import re

    from ..zoo import _SECTIONS, fit_rotary_sections

    heads = getattr(config, "num_attention_heads", None)
    if getattr(config, "head_dim", None) is not None or not heads or config.hidden_size % heads == 0:
        return
    modeling = importlib.import_module(type(config).__module__.replace(".configuration_", ".modeling_"))
    m = _SECTIONS.search(inspect.getsource(modeling))
    if not m:
        return
    config.head_dim = 2 * sum(int(x) for x in re.findall(r"\d+", m.group(1)))
    rp = config.rope_parameters
    if isinstance(rp, dict):
        rp.pop("mrope_section", None)
        rp.pop("partial_rotary_factor", None)
        fit_rotary_sections(config)


@input_rule("glm_image")
def glm_image_to_image(inp, model, batch, made):
    """GLM-Image generates an image from a prompt and source images: its processor lists every sample's source
    grids then the grid of the image to generate (``images_per_sample`` counts both), and writes each source
    image into the ids as ``image_start``, one ``image_token_id`` per patch the vision tower makes (its VQ
    tokenizer keeps the grid), ``image_end``. The generic builder gives the source grid alone (so no source is
    left to encode) and placeholders counted from that (the generic probe runs the tower on no source). Here each
    sample has one source image and generates one of the same grid, laid out as the processor's image-to-image
    prompt (the probe's placeholders are replaced)."""
    import torch

    from ..hf_inputs import find

    ids, grid = made.get("input_ids"), made.get("image_grid_thw")
    tok, start, end = (find(inp.config, k) for k in ("image_token_id", "image_start_token_id",
                                                       "image_end_token_id"))
    merge = find(inp.config, "spatial_merge_size", prefer="vision_config", default=1)
    if ids is None or grid is None or grid.shape[0] != ids.shape[0] or made.get("images_per_sample") is not None \
            or not all(isinstance(t, int) for t in (tok, start, end)):
        return {}
    ids = ids[:, ~(ids == tok).any(0)]  # the text the generic builder made, without its placeholders
    per = (grid.prod(-1) // merge ** 2).tolist()
    if len(set(per)) != 1:
        return {}
    row = torch.tensor([start] + [tok] * per[0] + [end], dtype=ids.dtype).expand(ids.shape[0], -1)
    grids = torch.stack([grid, grid], dim=1).reshape(-1, grid.shape[-1])  # each sample: source, then target
    return {"input_ids": torch.cat([row, ids], dim=1), "image_grid_thw": grids,
            "images_per_sample": torch.full((ids.shape[0],), 2, dtype=torch.long)}
