"""A small zoo of transformers architectures built from configurations only (no weights, no download): each counts
a training step with AdamW with zero uncounted ops, in fp32 and under bf16 autocast. Skipped when transformers
is not installed (``pip install -e ".[zoo]"``)."""
import json

import pytest
from click.testing import CliRunner

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")

from gatesim.models import count  # noqa: E402
from gatesim.models.zoo import load_zoo_model  # noqa: E402

TINY = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, vocab_size=128,
            max_position_embeddings=64)

#: model type -> configuration overrides; each stands for a family of failures the counter once had
CONFIGS = {
    "llama": dict(TINY, num_key_value_heads=2),  # decoder-only, rotary, RMSNorm, SiLU gates
    "roberta": dict(TINY, max_position_embeddings=70),  # int32 cumulative sum for the position ids
    "bart": dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4, decoder_attention_heads=4,
                 encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=128, max_position_embeddings=64),  # .item()
    "mixtral": dict(TINY, num_key_value_heads=2, num_local_experts=4, num_experts_per_tok=2),  # grouped expert mm
    "gemma2": dict(TINY, num_key_value_heads=2, head_dim=8),  # bitwise_and of masks, soft-capping
    "vit": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4, image_size=32,
                patch_size=8),
    # time series: past values sized from the configuration (channels last), with the lags and time features
    # the encoder-decoder forecasters take and the future values their loss needs
    "patchtst": dict(d_model=16, num_hidden_layers=1, num_attention_heads=2, ffn_dim=32, context_length=32,
                     num_input_channels=2, patch_length=8, patch_stride=8),
    "time_series_transformer": dict(d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                                    decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                                    context_length=8, prediction_length=4),
}
#: models whose main input is not token ids (their default input comes from the configuration)
NOT_TEXT = {"vit", "patchtst", "time_series_transformer"}


def _spec(tmp_path, mt):
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    cfg = CONFIG_MAPPING[mt](**CONFIGS[mt])
    path = tmp_path / f"{mt}.json"
    cfg.to_json_file(str(path))
    return f"hf:{path}"


@pytest.mark.parametrize("mt", sorted(CONFIGS))
def test_tiny_transformers_count_with_no_uncounted_ops(tmp_path, mt):
    zm = load_zoo_model(_spec(tmp_path, mt))
    shape = None if mt in NOT_TEXT else (2, 16)
    r = count(zm.factory, zm.inputs(shape), optimizer="adamw", strict=True)
    assert r.phases == ("forward", "loss", "backward", "optimizer")
    assert r.flops(phase="forward") > 0 and r.bytes(phase="optimizer") > 0
    if mt == "bart":
        assert r.device != "meta" and r.attempts  # fell back for .item()
    half = count(zm.factory, zm.inputs(shape), optimizer="adamw", strict=True, amp="bf16")
    by = half.bos_by_format()
    assert by["bf16"].mul > 0 and by["fp32"].add > 0  # products in bf16, sums in fp32


def test_roberta_prices_with_the_default_table(tmp_path):
    from gatesim.cli import cli

    res = CliRunner().invoke(cli, ["estimate", _spec(tmp_path, "roberta"), "--input-shape", "2,16", "--json",
                                   "--totals-only"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output[res.output.index("{"):])
    assert d["total"]["tos"] > 0 and d["uncounted"] == {}
    assert "int32" in d["by_format"]  # the position ids' cumulative sum, priced on an int32 adder


def test_zoo_specs_fail_clearly(tmp_path):
    from gatesim.cli import cli

    run = lambda *a: CliRunner().invoke(cli, ["estimate", *a])  # noqa: E731
    res = run("hf:no-such-org/no-such-model-xyz", "--config-only", "--input-shape", "1,8")
    assert res.exit_code == 2 and "hf:llama" in res.output and "Traceback" not in res.output
    bad = tmp_path / "c.json"
    bad.write_text('{"model_type": "not-a-type"}')
    res = run(f"hf:{bad}")
    assert res.exit_code == 2 and "not-a-type" in res.output


def test_nested_text_models_keep_no_cache(tmp_path):
    # a cache made inside a multimodal model's language model (MiniCPM-V's hybrid attention asked it for a
    # sequence length it cannot give) has no place in a training step
    from transformers import LlavaConfig

    cfg = LlavaConfig(text_config=dict(model_type="llama", **TINY), vision_config=dict(
        model_type="clip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=4, image_size=32, patch_size=8))
    path = tmp_path / "llava.json"
    cfg.to_json_file(str(path))
    model = load_zoo_model(f"hf:{path}").factory()
    assert model.config.text_config.use_cache is False


def test_a_shrunk_backbone_keeps_the_stages_its_head_reads():
    # Depth Anything's neck reads four DINOv2 stages (9..12 of 12): two layers would leave it none
    import torch

    zm = load_zoo_model("hf:depth_anything", layers=2)
    with torch.device("meta"):
        model = zm.factory()
    assert model.config.backbone_config.out_indices == [1, 2, 3, 4]
    assert len(model.backbone.encoder.layer) == 4
    r = count(zm.factory, zm.inputs((1, 3, 56, 56)), optimizer="adamw", strict=True)
    assert r.device == "meta" and r.flops(module="model.head") > 0


def test_sub_model_types_find_their_family_processor():
    from gatesim.models.hf_inputs import image_processor

    # a mixture-of-experts or "thinker" variant shares its base model's image processor
    assert image_processor("qwen3_vl_moe") is not None and image_processor("qwen3_vl_moe_vision") is not None


@pytest.mark.parametrize("mt, key", [("videoprism_vision_model", "pixel_values_videos"), ("timesformer", "pixel_values")])
def test_video_models_get_clips_of_their_configured_frames(mt, key):
    zm = load_zoo_model(f"hf:{mt}", layers=2)
    cfg = zm.make_inputs.config
    x = zm.make_inputs(None, "cpu", zm.default_shape)
    assert tuple(x[key].shape[1:]) == (cfg.num_frames, 3, cfg.image_size, cfg.image_size)
    r = count(zm.factory, zm.inputs(), optimizer="adamw", strict=True)
    assert r.device == "meta" and r.flops(phase="forward") > 0


def test_a_feature_extractor_whose_backend_is_missing_says_so():
    # raw samples in place of the mel features the model takes would fail later with a shape error
    import importlib.util

    from gatesim.models.hf_inputs import feature_extractor

    if importlib.util.find_spec("torchaudio") is not None:
        pytest.skip("torchaudio is installed here")
    if "fun_asr_nano" not in transformers.models.auto.feature_extraction_auto.FEATURE_EXTRACTOR_MAPPING_NAMES:
        pytest.skip("this transformers has no FunASR-Nano feature extractor")
    with pytest.raises(ImportError, match="torchaudio"):
        feature_extractor("fun_asr_nano_encoder")


def test_a_shared_patch_processor_makes_the_towers_own_patches():
    # Qwen3-VL's tower takes 16-pixel patches; the Qwen2-VL processor it shares defaults to 14 (1176 values)
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from gatesim.models.hf_inputs import make_images

    if "qwen3_vl_vision" not in CONFIG_MAPPING:
        pytest.skip("this transformers has no Qwen3-VL")
    cfg = CONFIG_MAPPING["qwen3_vl_vision"]()
    imgs = make_images("qwen3_vl_vision", cfg, 1)
    grid = imgs["image_grid_thw"][0]
    assert imgs["pixel_values"].shape == (int(grid.prod()), 3 * cfg.temporal_patch_size * cfg.patch_size ** 2)


def test_a_layer_count_the_configuration_derives_is_left_whole():
    # ProphetNet refuses num_hidden_layers (it derives it from its encoder and decoder counts, which shrink)
    zm = load_zoo_model("hf:prophetnet", layers=2)
    cfg = zm.make_inputs.config
    assert cfg.num_encoder_layers == 2 and cfg.num_decoder_layers == 2
