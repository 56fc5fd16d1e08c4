"""The image tilings and connectors rules (gatesim.models.hf_rules.vision_tiles): each model type is counted as the
zoo coverage counts it (library defaults, two layers, a training step with AdamW) with zero uncounted ops, and
the repair its rule makes is checked; real checkpoints' configurations pass through unchanged. Skipped when
transformers is not installed (the optional zoo extra)."""
import importlib.util

import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")

from gatesim.models import count  # noqa: E402
from gatesim.models.hf_inputs import find  # noqa: E402
from gatesim.models.hf_rules import repair_config  # noqa: E402
from gatesim.models.hf_rules.vision_tiles import _fit_layers  # noqa: E402
from gatesim.models.zoo import load_zoo_model  # noqa: E402

HAS_TORCHVISION = importlib.util.find_spec("torchvision") is not None


def _image_tokens(cfg, x) -> int:
    tok = find(cfg, "image_token_id", "image_token_index")
    return int((x["input_ids"] == tok).sum())


def _vipllava(cfg, x):
    assert list(cfg.vision_feature_layer) == [-2, -3, -3, -3, 2]  # five layers read, all of a two-layer tower
    assert _image_tokens(cfg, x) == 576  # 336 / 14 = 24 a side


def _deepseek_hybrid(cfg, x):
    assert list(cfg.high_res_vision_config.global_attn_indexes) == [1]  # the last of two layers made global
    assert _image_tokens(cfg, x) == 196  # counted on the base model (the head has no get_image_features)


def _mllama(cfg, x):
    assert cfg.text_config.cross_attention_layers == [1]
    assert cfg.vision_config.intermediate_layers_indices == [1, 1, 1, 1, 1]
    assert x["pixel_values"].shape[2] == 4  # tiles: (batch, images, tiles, channels, height, width)


def _mllama_vision(cfg, x):
    assert cfg.intermediate_layers_indices == [1, 1, 1, 1, 1]


def _gemma3(cfg, x):
    assert cfg.mm_tokens_per_image == 196  # 224 / 16 = 14 patches a side, pooled by 1
    assert _image_tokens(cfg, x) == 196


def _pixel_shuffle(cfg, x):
    assert cfg.vision_config.image_size == 256  # 224 rounded up to a multiple of patch x factor
    assert tuple(x["pixel_values"].shape[-2:]) == (256, 256)  # also where the processor tiles at 364 or 512
    assert _image_tokens(cfg, x) == 16  # (256 / patch / factor) ** 2


def _idefics(cfg, x):
    assert x["pixel_values"].dim() == 5 and x["image_attention_mask"].shape == (*x["input_ids"].shape, 1)


def _llama4_vision(cfg, x):
    assert cfg.intermediate_size == cfg.hidden_size * 4  # the pixel-shuffled patches, 768 / 0.5 ** 2
    assert cfg.vision_output_dim == cfg.projector_output_dim


def _molmo2(cfg, x):
    assert cfg.adapter_config.vision_feature_layer == [1, 1]
    assert cfg.adapter_config.text_hidden_size == cfg.text_config.hidden_size
    assert _image_tokens(cfg, x) == x["image_token_pooling"].shape[0]


def _molmo2_adapter(cfg, x):
    idx = x["pooled_patches_idx"]
    assert idx.max() < x["image_features"].shape[0] * x["image_features"].shape[1]
    assert x["image_features"].shape[-1] == cfg.hidden_size * len(cfg.vision_feature_layer)


CASES = [("vipllava", _vipllava), ("deepseek_vl_hybrid", _deepseek_hybrid), ("mllama", _mllama),
         ("mllama_vision_model", _mllama_vision), ("gemma3", _gemma3), ("shieldgemma2", _gemma3),
         ("idefics3", _pixel_shuffle), ("smolvlm", _pixel_shuffle), ("modernvbert", _pixel_shuffle),
         ("idefics", _idefics), ("llama4_vision_model", _llama4_vision),
         pytest.param("molmo2", _molmo2, marks=pytest.mark.skipif(not HAS_TORCHVISION, reason="its processor needs torchvision")),
         pytest.param("molmo2_adapter", _molmo2_adapter,
                      marks=pytest.mark.skipif(not HAS_TORCHVISION, reason="its processor needs torchvision"))]


@pytest.mark.parametrize("mt, check", CASES)
def test_counts_with_zero_uncounted_ops(mt, check):
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if mt not in CONFIG_MAPPING:
        pytest.skip(f"this transformers has no {mt}")
    zm = load_zoo_model(f"hf:{mt}", layers=2, config_only=True)
    made = []

    def inputs(model, device):
        x = zm.make_inputs(model, device, zm.default_shape)
        made.append((model, device, x))
        return x

    r = count(zm.factory, inputs, optimizer="adamw")
    assert not r.uncounted
    model, device, x = made[-1]
    if device == "meta":  # counted on meta: the same inputs as real CPU tensors, to look at
        x = zm.make_inputs(model, "cpu", zm.default_shape)
    check(zm.make_inputs.config, x)


def test_layer_indices_moved_into_range_and_kept_in_number():
    assert _fit_layers((-2, -5, -8, -11, 6), -3, 2) == (-2, -3, -3, -3, 2)
    assert _fit_layers([24, 18], -3, 1) == [1, 1]
    assert _fit_layers(-2, -3, 2) == -2
    assert _fit_layers("full", -3, 2) == "full"  # not indices: left alone


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
