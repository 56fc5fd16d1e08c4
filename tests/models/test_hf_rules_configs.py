"""The configuration repairs and input rules of gatesim.models.hf_rules.configs: library default configurations
whose parts disagree (a top-k left None, a head width that does not divide, a vision tower whose patch grid its
projector does not know) and inputs no processor here makes (placeholders, aligned audio, missing modalities).
Each counted model type runs its real two-layer training step with zero uncounted ops. Skipped when transformers
is not installed (the optional zoo extra)."""
import warnings

import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")

from gatesim.models.hf_rules import configs as rules  # noqa: E402


def _config(model_type, **kw):
    from transformers import AutoConfig

    try:
        return AutoConfig.for_model(model_type, **kw)
    except (ValueError, KeyError):
        pytest.skip(f"this transformers has no {model_type}")


def _count(model_type):
    """The coverage script's step: the default configuration at two layers, AdamW, zero uncounted ops."""
    from gatesim.models import count
    from gatesim.models.zoo import load_zoo_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            zm = load_zoo_model(f"hf:{model_type}", layers=2, config_only=True)
        except Exception as e:  # noqa: BLE001  (a transformers without the model type)
            pytest.skip(f"{model_type}: {e}")
        report = count(zm.factory, zm.inputs(), optimizer="adamw")
    assert not report.uncounted, report.uncounted
    assert report.flops("forward") > 0 and report.flops("backward") > 0
    return zm, report


def _inputs(zm):
    """The inputs the step got, built for a meta copy of the model (real CPU tensors)."""
    with torch.device("meta"):
        model = zm.factory()
    return zm.make_inputs(model, "cpu", zm.default_shape)


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
# counted steps (the cheap ones; the whole list is in the slow test below)
# ------------------------------------------------------------------------------------------------
def test_deepseek_v2_counts_with_its_routing():
    zm, report = _count("deepseek_v2")
    assert report.device in ("meta", "fake")


def test_flat_patches_give_rows_the_tower_embeds():
    zm, _ = _count("glm_image_vision")
    x = _inputs(zm)
    v = zm.make_inputs.config
    chans = getattr(v, "in_channels", None) or getattr(v, "num_channels", 3)
    assert x["pixel_values"].shape[1] == chans * v.patch_size ** 2  # one frame deep (the default processor: 2)
    assert x["pixel_values"].shape[0] == int(x["grid_thw"].prod(-1).sum())


def test_voxtral_realtime_features_aligned_to_the_tokens():
    zm, _ = _count("voxtral_realtime")
    x = _inputs(zm)
    cfg = zm.make_inputs.config
    assert x["input_features"].shape[-1] == x["input_ids"].shape[1] * cfg.downsample_factor * 2


def test_qwen2_audio_placeholders_match_the_encoder_frames():
    zm, _ = _count("qwen2_audio")
    x = _inputs(zm)
    n = int((x["input_ids"] == zm.make_inputs.config.audio_token_id).sum())
    frames = int(x["feature_attention_mask"].sum())
    assert n == ((frames - 1) // 2 + 1 - 2) // 2 + 1  # two stride-2 stages


# ------------------------------------------------------------------------------------------------
# every model type the module repairs, counted (minutes): pytest --run-slow
# ------------------------------------------------------------------------------------------------
ALL = ["deepseek_v2", "step3p5", "step3p7", "aria", "qwen2_audio", "qwen3_omni_moe_thinker", "ultravbert",
       "voxtral_realtime", "voxtral_realtime_encoder", "dots3_note", "dots3_note_vision_encoder",
       "glm_image", "glm_image_vision", "pe_video", "pe_video_encoder", "pe_audio_video", "pe_audio_video_encoder"]


#: model types whose build or inputs need a package the test environment may lack
NEEDS = {"pe_video": "timm", "pe_video_encoder": "timm", "pe_audio_video": "timm", "pe_audio_video_encoder": "timm"}


@pytest.mark.slow
@pytest.mark.parametrize("model_type", ALL)
def test_every_repaired_model_type_counts(model_type):
    from gatesim.models.hf_inputs import image_processor

    if model_type in NEEDS:
        pytest.importorskip(NEEDS[model_type])
    if model_type == "ultravbert" and image_processor(model_type) is None:
        pytest.skip("UltraVBERT's image processor needs a backend (torchvision or PIL) not installed")
    _count(model_type)
