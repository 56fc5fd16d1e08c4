"""Rules of :mod:`gatesim.models.hf_rules.arguments`: arguments no processor makes (flattened patches, language
ids, region features, a training step's targets, a detector's prompt, retrieved contexts). Each model type is
built from its library default with 2 layers (sizes cut down where the step runs on real CPU tensors) and
counted: a training step with zero uncounted ops. Skipped when transformers is not installed."""
import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")


def _load(mt, **small):
    """The zoo's model type with 2 layers; ``small``: {sub-config key or "": {attribute: value}}."""
    from gatesim.models.zoo import load_zoo_model

    try:
        zm = load_zoo_model(f"hf:{mt}", layers=2, config_only=True)
    except Exception as e:  # noqa: BLE001  (a transformers without this model type)
        pytest.skip(f"{mt}: {e}")
    cfg = zm.make_inputs.config
    for key, attrs in small.items():
        sub = getattr(cfg, key) if key else cfg
        for k, v in attrs.items():
            setattr(sub, k, v)
    return zm


def _count(zm, shape=None):
    from gatesim.models import count

    r = count(zm.factory, zm.inputs(shape), optimizer="adamw")
    assert dict(r.uncounted) == {}
    return r


def _made(zm, shape=None):
    """The inputs as real CPU tensors (no model: nothing probed)."""
    return zm.make_inputs(None, "cpu", tuple(shape or zm.default_shape))


def _pix2struct(x, cfg):
    vis = getattr(cfg, "vision_config", cfg)
    p = x["flattened_patches"]
    assert p.shape[-1] == 2 + vis.patch_embed_hidden_size  # row, column, then the patch's pixels
    assert x["attention_mask"].shape == p.shape[:2]


def _xmod(x, cfg):
    assert x["lang_ids"].tolist() == [cfg.languages.index(cfg.languages[0])] * x["input_ids"].shape[0]


def _lxmert(x, cfg):
    assert x["visual_feats"].shape[-1] == cfg.visual_feat_dim and x["visual_pos"].shape[-1] == cfg.visual_pos_dim
    box = x["visual_pos"]
    assert bool((box[..., 2:] >= box[..., :2]).all()) and bool((box >= 0).all() and (box <= 1).all())


def _fastspeech2(x, cfg):
    dur, spec = x["duration_labels"], x["spectrogram_labels"]
    assert dur.shape == x["input_ids"].shape and bool((dur > 0).all())
    assert spec.shape[1] == int(dur.sum(1).max())  # the frames the durations add up to
    assert x["pitch_labels"].shape == x["energy_labels"].shape == (*dur.shape, 1)


def _omdet(x, cfg):
    n = x["classes_structure"]
    assert x["classes_input_ids"].shape[0] == int(n.sum()) and n.shape[0] == x["pixel_values"].shape[0]
    assert x["tasks_input_ids"].shape[1] == cfg.text_config.max_position_embeddings


def _rag(x, cfg):
    b = x["input_ids"].shape[0]
    assert x["context_input_ids"].shape[0] == b * cfg.n_docs and x["doc_scores"].shape == (b, cfg.n_docs)
    assert x["context_input_ids"].shape[1] <= cfg.max_combined_length


_SPEECH = {"hidden_size": 32, "encoder_linear_units": 64, "decoder_linear_units": 64,
           "speech_decoder_postnet_units": 32, "speech_decoder_postnet_layers": 2, "duration_predictor_channels": 32,
           "energy_predictor_channels": 32, "pitch_predictor_channels": 32, "pitch_predictor_layers": 2}

CASES = {  # model type: (sizes cut down, main input shape, what the rule made)
    "pix2struct": ({}, None, _pix2struct),
    "pix2struct_vision_model": ({}, None, _pix2struct),
    "xmod": ({}, None, _xmod),
    "lxmert": ({}, None, _lxmert),
    # (the same rule as fastspeech2_conformer's, its mel bins found in the nested model configuration)
    "fastspeech2_conformer_with_hifigan": ({"model_config": _SPEECH, "vocoder_config": {
        "upsample_initial_channel": 16, "upsample_rates": [4, 4], "upsample_kernel_sizes": [8, 8],
        "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1]]}}, (1, 8), _fastspeech2),
    "omdet-turbo": ({"": {"num_queries": 20}, "backbone_config": {"img_size": 224}}, (1, 3, 224, 224), _omdet),
    "rag": ({}, (1, 16), _rag),
}


@pytest.mark.parametrize("mt", sorted(CASES))
def test_argument_rule_makes_the_step_count(mt):
    small, shape, check = CASES[mt]
    zm = _load(mt, **small)
    check(_made(zm, shape), zm.make_inputs.config)
    if mt == "omdet-turbo":
        pytest.importorskip("timm", reason="OmDet-Turbo's backbone is a timm model")
    _count(zm, shape)
