"""The vision-tower and channel rules of :mod:`gatesim.models.hf_rules.towers`: each model type named counts a
training step, two layers, from its library default configuration, with zero uncounted ops, fed what its rule
makes (or built from what its rule repaired); and each configuration rule leaves a consistent configuration as
it is. Skipped when transformers is not installed (the optional zoo extra)."""
import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")

from hf_rules_check import counts_with_its_rule  # noqa: E402


def _clap(x, c):
    audio = getattr(c, "audio_config", c)
    assert not audio.enable_fusion  # the unfused default: one mel channel, not the fused model's four
    assert x["input_features"].shape[1] == audio.patch_embed_input_channels == 1


def _edgetam(x, c):
    assert c.vision_config.backbone_config.architecture == "repvit_m1"


def _uvdoc(x, c):
    bb = c.backbone_config
    assert bb.out_indices == list(range(1, len(bb.stage_configs) + 1))  # every bridge the head fuses


def _glm_ocr(x, c):
    merge = c.vision_config.spatial_merge_size
    grid = x["image_grid_thw"]
    assert x["pixel_values"].shape[0] == int(grid.prod(-1).sum())  # the processor's patches
    assert int((x["input_ids"] == c.image_token_id).sum()) == int(grid.prod(-1).sum()) // merge ** 2
    assert bool((x["mm_token_type_ids"] == (x["input_ids"] == c.image_token_id)).all())


def _patch_tower(x, c):
    assert x["hidden_states"].shape[0] == int(x["grid_thw"].prod(-1).sum()) and "input_ids" not in x


def _gemma4_vision(x, c):
    pos = x["pixel_position_ids"]
    assert pos.shape == (*x["pixel_values"].shape[:2], 2)


def _gemma4_assistant(x, c):
    tc = c.get_text_config()
    assert tc.num_kv_shared_layers == tc.num_hidden_layers == 2
    assert x["inputs_embeds"].shape[-1] == 2 * c.backbone_hidden_size and "input_ids" not in x
    assert set(x["shared_kv_states"]) == {"full_attention", "sliding_attention"}
    k, v = x["shared_kv_states"]["sliding_attention"]
    assert k.shape == v.shape and k.shape[1] == tc.per_layer_config[0].num_key_value_heads


def _video_llama_3(x, c):
    assert x["merge_sizes"].shape[0] == x["grid_thw"].shape[0]


def _inkling(x, c):
    assert x["pixel_values"].shape[1:] == (c.temporal_patch_size, c.patch_size, c.patch_size, c.num_channels)


def _paddleocr(x, c):
    pv = x["pixel_values"]
    assert pv.dim() == 5 and pv.shape[0] == 1 and pv.shape[1] == int(x["grid_thw"].prod(-1).sum())


def _pp_ocrv6_small_det(x, c):
    bb = c.backbone_config  # the detection network: every stage halves the image, all four feed the neck
    assert all(stage[0][3] in (1, 2) for stage in bb.block_configs) and len(bb.out_indices) == 4
    assert list(c.layer_list_out_channels) == [bb.stage_out_channels[i - 1] for i in bb.out_indices]


CASES = {"clap": _clap, "clap_audio_model": _clap, "edgetam": _edgetam, "uvdoc": _uvdoc, "glm_ocr": _glm_ocr,
         "glm_ocr_vision": _patch_tower, "gemma4_vision": _gemma4_vision,
         "gemma4_unified_assistant": _gemma4_assistant, "video_llama_3_vision": _video_llama_3,
         "inkling_vision": _inkling, "paddleocr_vl_vision": _paddleocr, "pp_ocrv6_small_det": _pp_ocrv6_small_det}
#: the packages a model type's backbone or processor needs beyond transformers
NEEDS = {"edgetam": "timm", "inkling_vision": "torchvision"}


@pytest.mark.parametrize("model_type", sorted(CASES))
def test_model_type_counts_with_its_rule(model_type):
    counts_with_its_rule(model_type, CASES[model_type], NEEDS.get(model_type))


def _config(name, **kw):
    cls = getattr(transformers, name, None)
    if cls is None:
        pytest.skip(f"this transformers has no {name}")
    return cls(**kw)


def test_edgetam_backbone_left_alone_when_spelt_right():
    from gatesim.models.hf_rules import repair_config

    c = _config("EdgeTamVisionConfig")
    assert c.backbone_config.architecture != "repvit_m1"  # the library default: the misspelt key
    repair_config(c)
    assert c.backbone_config.architecture == "repvit_m1"
    c.backbone_config.architecture = "repvit_m1_1"  # a checkpoint's own choice (no misspelt key read then)
    del c.backbone_config.archirecture
    repair_config(c)
    assert c.backbone_config.architecture == "repvit_m1_1"


def test_uvdoc_outputs_left_alone_when_they_make_the_head_channels():
    from gatesim.models.hf_rules import repair_config

    c = _config("UVDocConfig")
    c.bridge_connector = [128, 128]
    c.backbone_config.stage_configs = c.backbone_config.stage_configs[:1]  # one stage: its output is all of them
    c.backbone_config.set_output_features_output_indices(out_indices=[1], out_features=None)
    repair_config(c)
    assert c.backbone_config.out_indices == [1]
    c = _config("UVDocConfig", bridge_connector=[100, 128])  # no choice of stages makes 600: left as it is
    before = list(c.backbone_config.out_indices)
    repair_config(c)
    assert c.backbone_config.out_indices == before


def test_clap_fused_configuration_keeps_the_four_mel_features():
    from gatesim.models.hf_inputs import HFInputs
    from gatesim.models.hf_rules.towers import clap_unfused_features

    c = _config("ClapAudioConfig", enable_fusion=True)
    inp = HFInputs(c, transformers.ClapAudioModel, c.model_type)
    assert clap_unfused_features(inp, None, 1, {"input_features": torch.zeros(1, 4, 8, 8)}) == {}


def test_gemma4_assistant_shared_layers_left_alone_within_the_layers():
    from gatesim.models.hf_rules.towers import gemma4_assistant_shared_layers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if "gemma4_unified_assistant" not in CONFIG_MAPPING:
        pytest.skip("this transformers has no Gemma 4 assistant")
    c = CONFIG_MAPPING["gemma4_unified_assistant"]()
    n = c.text_config.num_hidden_layers
    assert c.text_config.num_kv_shared_layers == n
    gemma4_assistant_shared_layers(c)
    assert c.text_config.num_kv_shared_layers == n


def test_pp_ocrv6_small_det_backbone_left_alone_when_it_feeds_the_neck():
    from gatesim.models.hf_rules import repair_config
    from gatesim.models.hf_rules.towers import LCNETV4_SMALL_DET
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    if "pp_ocrv6_small_det" not in CONFIG_MAPPING:
        pytest.skip("this transformers has no PP-OCRv6 small detector")
    c = CONFIG_MAPPING["pp_ocrv6_small_det"]()
    repair_config(c)
    assert c.backbone_config.block_configs == LCNETV4_SMALL_DET["block_configs"]
    assert c.layer_list_out_channels == [48, 96, 192, 384]
    bb = CONFIG_MAPPING["pp_lcnet_v4"](out_indices=[1, 2, 3, 4])  # a checkpoint's own, whatever its strides
    c = CONFIG_MAPPING["pp_ocrv6_small_det"](backbone_config=bb, layer_list_out_channels=bb.stage_out_channels)
    repair_config(c)
    assert c.backbone_config is bb and c.layer_list_out_channels == bb.stage_out_channels
