"""The configuration repairs and input rules of gatesim.models.hf_rules.configs: library default configurations
whose parts disagree (a top-k left None, a head width that does not divide, a vision tower whose patch grid its
projector does not know) and inputs no processor here makes (placeholders, aligned audio, missing modalities).
Each counted model type runs its real two-layer training step with zero uncounted ops. Skipped when transformers
is not installed (the optional zoo extra)."""
import pytest

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")

from hf_rules_check import counts_with_its_rule  # noqa: E402

from gatesim.models.hf_rules import configs as rules  # noqa: E402


def _config(model_type, **kw):
    from transformers import AutoConfig

    try:
        return AutoConfig.for_model(model_type, **kw)
    except (ValueError, KeyError):
        pytest.skip(f"this transformers has no {model_type}")


# ------------------------------------------------------------------------------------------------
# configuration repairs: what the default gets, and that a real checkpoint's values pass through
# ------------------------------------------------------------------------------------------------
def test_deepseek_v2_routing_filled_and_real_values_kept():
    cfg = _config("deepseek_v2")
    assert cfg.num_experts_per_tok is None
    rules.deepseek_v2_routing(cfg)
    assert (cfg.num_experts_per_tok, cfg.n_group, cfg.topk_group) == (6, 1, 1)
    real = _config("deepseek_v2", num_experts_per_tok=8, n_group=8, topk_group=3)
    rules.deepseek_v2_routing(real)
    assert (real.num_experts_per_tok, real.n_group, real.topk_group) == (8, 8, 3)


def test_step3p5_window_only_when_no_layer_slides():
    cfg = _config("step3p5")
    rules.step3p5_sliding_window(cfg)
    assert cfg.sliding_window == cfg.max_position_embeddings
    sliding = _config("step3p5", num_hidden_layers=2, layer_types=["sliding_attention", "full_attention"])
    rules.step3p5_sliding_window(sliding)
    assert sliding.sliding_window is None  # a window that matters is not invented


def test_aria_tower_grid_is_in_the_projector_table():
    cfg = _config("aria")
    table = {int(k) for k in cfg.projector_patch_to_query_dict}
    rules.aria_vision_patches(cfg)
    v = cfg.vision_config
    assert (v.patch_size, v.image_size) == (14, 980) and (v.image_size // v.patch_size) ** 2 in table
    v.image_size, v.patch_size = 490, 14  # Aria's smaller image: already in the table, left alone
    rules.aria_vision_patches(cfg)
    assert (v.image_size, v.patch_size) == (490, 14)


def test_ultravbert_tower_takes_the_processor_tile():
    from gatesim.models.hf_inputs import image_processor

    cfg = _config("ultravbert")
    if image_processor("ultravbert") is None:
        pytest.skip("UltraVBERT's image processor needs a backend (torchvision or PIL) not installed")
    rules.ultravbert_tile_size(cfg)
    v = cfg.vision_config
    assert v.image_size == 512 and (v.image_size // v.patch_size) % cfg.pixel_shuffle_factor == 0


def test_qwen3_omni_heads_fit_the_rotary_sections():
    cfg = _config("qwen3_omni_moe_thinker").text_config
    assert cfg.hidden_size % cfg.num_attention_heads  # the default's width does not divide into its heads
    rules.qwen3_omni_head_dim(cfg)
    assert cfg.head_dim == 2 * (24 + 20 + 20)  # the modeling code's default sections
    kept = _config("qwen3_omni_moe_thinker").text_config
    kept.head_dim = 96
    rules.qwen3_omni_head_dim(kept)
    assert kept.head_dim == 96


# ------------------------------------------------------------------------------------------------
# counted steps: each model type's two-layer step, then what its rule made
# ------------------------------------------------------------------------------------------------
def _routing(x, c):
    assert c.num_experts_per_tok == 6


def _window(x, c):
    tc = c.get_text_config()
    assert tc.sliding_window == tc.max_position_embeddings


def _flat_patches(x, c):
    v = getattr(c, "vision_config", c)
    chans = getattr(v, "in_channels", None) or getattr(v, "num_channels", 3)
    grid = x.get("grid_thw", x.get("image_grid_thw"))
    assert x["pixel_values"].shape[1] == chans * v.patch_size ** 2  # one frame deep (the default processor: 2)
    assert x["pixel_values"].shape[0] == int(grid.prod(-1).sum())  # as many rows as the grid names


def _aligned_audio(x, c):
    assert x["input_features"].shape[-1] == x["input_ids"].shape[1] * c.downsample_factor * 2  # stride-2 stem


def _encoder_mask(x, c):
    assert x["attention_mask"].shape[-1] == -(-x["input_features"].shape[-1] // 2)


def _qwen2_audio(x, c):
    frames = int(x["feature_attention_mask"].sum())
    assert int((x["input_ids"] == c.audio_token_id).sum()) == ((frames - 1) // 2 + 1 - 2) // 2 + 1


def _tile(x, c):
    assert x["pixel_values"].shape[-1] == c.vision_config.image_size == 512


def _aria(x, c):
    v = c.vision_config
    assert x["pixel_values"].shape[-1] == v.image_size and (v.image_size // v.patch_size) ** 2 in {
        int(k) for k in c.projector_patch_to_query_dict}


def _dots3(x, c):
    _flat_patches(x, c)
    merge = c.vision_config.adapter_merge_size
    assert int((x["input_ids"] == c.image_token_id).sum()) == int(x["image_grid_thw"].prod(-1).sum()) // merge ** 2
    assert int((x["input_ids"] == c.audio_token_id).sum()) > 0


def _omni(x, c):
    assert c.text_config.head_dim == 128


def _glm_image(x, c):
    grids = x["image_grid_thw"]
    assert grids.shape[0] == 2 * x["input_ids"].shape[0] and x["images_per_sample"].tolist() == [2]
    assert int((x["input_ids"] == c.image_token_id).sum()) == int(grids[0].prod())  # the source image only


def _pe_frames(x, c):
    assert x["pixel_values_videos"].shape[-1] == 336  # vit_pe_core_large_patch14_336


def _pe_both(x, c):
    _pe_frames(x, c)
    assert x["input_values"].dim() == 3 and x["padding_mask_videos"].shape == x["pixel_values_videos"].shape[:2]


CASES = {"deepseek_v2": _routing, "step3p5": _window, "step3p7": _window, "glm_image_vision": _flat_patches,
         "dots3_note_vision_encoder": _flat_patches, "voxtral_realtime": _aligned_audio,
         "voxtral_realtime_encoder": _encoder_mask, "qwen2_audio": _qwen2_audio, "ultravbert": _tile,
         "aria": _aria, "dots3_note": _dots3, "glm_image": _glm_image, "qwen3_omni_moe_thinker": _omni,
         "pe_video": _pe_frames, "pe_video_encoder": _pe_frames, "pe_audio_video": _pe_both,
         "pe_audio_video_encoder": _pe_both}
#: the slower ones (4 to 20 s each; the Qwen3-Omni repair is also checked above): pytest --run-slow
SLOW = {"qwen3_omni_moe_thinker", "pe_video", "pe_video_encoder", "pe_audio_video", "pe_audio_video_encoder"}
#: what a model type needs beyond transformers (the timm tower; the image processor's backend)
NEEDS = {"pe_video": "timm", "pe_video_encoder": "timm", "pe_audio_video": "timm", "pe_audio_video_encoder": "timm",
         "ultravbert": "torchvision"}


@pytest.mark.parametrize("model_type", [pytest.param(m, marks=pytest.mark.slow) if m in SLOW else m for m in CASES])
def test_model_type_counts_with_its_rule(model_type):
    counts_with_its_rule(model_type, CASES[model_type], NEEDS.get(model_type))


def test_the_loader_says_which_rules_repaired_the_configuration():
    """A user counting hf:deepseek_v2 is told the configuration was changed, and by which rule (the estimate's
    notes carry it); a model type no rule touches gets no such note."""
    from gatesim.models.zoo import load_zoo_model

    zm = load_zoo_model("hf:deepseek_v2", layers=2, config_only=True)
    assert zm.notes == ["configuration repaired by gatesim.models.hf_rules: deepseek_v2_routing"]
    assert load_zoo_model("hf:bert", layers=2, config_only=True).notes == []


def test_a_rule_that_changes_nothing_is_not_reported():
    from gatesim.models.hf_rules import repair_config

    cfg = _config("deepseek_v2")
    assert repair_config(cfg) == ["deepseek_v2_routing"]
    assert repair_config(cfg) == []  # now consistent: the rule runs and leaves it alone
