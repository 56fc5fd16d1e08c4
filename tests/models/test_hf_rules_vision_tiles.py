"""The image tilings and connectors rules (gatesim.models.hf_rules.vision_tiles): each model type is counted as the
zoo coverage counts it (library defaults, two layers, a training step with AdamW) with zero uncounted ops, and
the repair its rule makes is checked; real checkpoints' configurations pass through unchanged. Skipped when
transformers is not installed (the optional zoo extra)."""
import pytest

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")

from gatesim.models.hf_inputs import find  # noqa: E402
from gatesim.models.hf_rules import repair_config  # noqa: E402
from gatesim.models.hf_rules import fit_layers  # noqa: E402

from hf_rules_check import counts_with_its_rule  # noqa: E402


def _image_tokens(cfg, x) -> int:
    tok = find(cfg, "image_token_id", "image_token_index")
    return int((x["input_ids"] == tok).sum())


def _vipllava(x, cfg):
    assert list(cfg.vision_feature_layer) == [-2, -3, -3, -3, 2]  # five layers read, all of a two-layer tower
    assert _image_tokens(cfg, x) == 576  # 336 / 14 = 24 a side


def _deepseek_hybrid(x, cfg):
    assert list(cfg.high_res_vision_config.global_attn_indexes) == [1]  # the last of two layers made global
    assert _image_tokens(cfg, x) == 196  # counted on the base model (the head has no get_image_features)


def _mllama(x, cfg):
    assert cfg.text_config.cross_attention_layers == [1]
    assert cfg.vision_config.intermediate_layers_indices == [1, 1, 1, 1, 1]
    assert x["pixel_values"].shape[2] == 4  # tiles: (batch, images, tiles, channels, height, width)


def _mllama_vision(x, cfg):
    assert cfg.intermediate_layers_indices == [1, 1, 1, 1, 1]


def _gemma3(x, cfg):
    assert cfg.mm_tokens_per_image == 196  # 224 / 16 = 14 patches a side, pooled by 1
    assert _image_tokens(cfg, x) == 196


def _pixel_shuffle(x, cfg):
    assert cfg.vision_config.image_size == 256  # 224 rounded up to a multiple of patch x factor
    assert tuple(x["pixel_values"].shape[-2:]) == (256, 256)  # also where the processor tiles at 364 or 512
    v, factor = cfg.vision_config, getattr(cfg, "scale_factor", None) or cfg.pixel_shuffle_factor
    assert (v.image_size // v.patch_size) % factor == 0  # the grid the connector shuffles


def _idefics(x, cfg):
    assert x["pixel_values"].dim() == 5 and x["image_attention_mask"].shape == (*x["input_ids"].shape, 1)


def _llama4_vision(x, cfg):
    assert cfg.intermediate_size == cfg.hidden_size * 4  # the pixel-shuffled patches, 768 / 0.5 ** 2
    assert cfg.vision_output_dim == cfg.projector_output_dim


def _molmo2(x, cfg):
    assert cfg.adapter_config.vision_feature_layer == [1, 1]
    assert cfg.adapter_config.text_hidden_size == cfg.text_config.hidden_size
    assert x["image_token_pooling"].shape[-1] == 4  # 2 x 2 pooling windows


def _molmo2_adapter(x, cfg):
    idx = x["pooled_patches_idx"]
    assert idx.max() < x["image_features"].shape[0] * x["image_features"].shape[1]
    assert x["image_features"].shape[-1] == cfg.hidden_size * len(cfg.vision_feature_layer)


CASES = [("vipllava", _vipllava, None), ("deepseek_vl_hybrid", _deepseek_hybrid, None), ("mllama", _mllama, None),
         ("mllama_vision_model", _mllama_vision, None), ("gemma3", _gemma3, None), ("shieldgemma2", _gemma3, None),
         ("idefics3", _pixel_shuffle, None), ("smolvlm", _pixel_shuffle, None), ("modernvbert", _pixel_shuffle, None),
         ("idefics", _idefics, None), ("llama4_vision_model", _llama4_vision, None),
         ("molmo2", _molmo2, "torchvision"), ("molmo2_adapter", _molmo2_adapter, "torchvision")]


@pytest.mark.parametrize("mt, check, needs", CASES)
def test_counts_with_zero_uncounted_ops(mt, check, needs):
    counts_with_its_rule(mt, check, needs)


def test_layer_indices_moved_into_range_and_kept_in_number():
    assert fit_layers((-2, -5, -8, -11, 6), -3, 2) == (-2, -3, -3, -3, 2)
    assert fit_layers([24, 18], -3, 1) == [1, 1]
    assert fit_layers(-2, -3, 2) == -2
    assert fit_layers("full", -3, 2) == "full"  # not indices: left alone


def test_checkpoint_configurations_pass_through_unchanged():
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING as M

    if not all(k in M for k in ("vipllava", "gemma3", "idefics3", "llama4", "mllama")):
        pytest.skip("this transformers lacks one of the model types")
    vip = M["vipllava"]()  # the real tower: 24 layers, the indices its projector was trained with
    gem = M["gemma3"](vision_config=dict(model_type="siglip_vision_model", image_size=896, patch_size=14))
    ide = M["idefics3"](vision_config=dict(image_size=364, patch_size=14))
    l4 = M["llama4"](vision_config=dict(hidden_size=1408, vision_output_dim=4096))
    ml = M["mllama"]()
    before = [c.to_dict() for c in (vip, gem, ide, l4, ml)]
    for c in (vip, gem, ide, l4, ml):
        repair_config(c)
    assert [c.to_dict() for c in (vip, gem, ide, l4, ml)] == before
