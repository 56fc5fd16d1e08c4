"""Rules of :mod:`gatesim.models.hf_rules.arguments`: arguments no processor makes (flattened patches, language
ids, region features, a training step's targets, a detector's prompt, retrieved contexts). Each model type is
built from its library default with 2 layers (sizes cut down where the step runs on real CPU tensors) and
counted: a training step with zero uncounted ops. Skipped when transformers is not installed."""
import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")

from hf_rules_check import counts_with_its_rule  # noqa: E402


def _load(mt):
    from gatesim.models.zoo import load_zoo_model

    try:
        return load_zoo_model(f"hf:{mt}", layers=2, config_only=True)
    except Exception as e:  # noqa: BLE001  (a transformers without this model type)
        pytest.skip(f"{mt}: {e}")


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


def _pi0(x, cfg):
    from gatesim.models.hf_rules.arguments import CAMERAS

    b = x["state"].shape[0]
    assert x["pixel_values"].shape[:2] == x["pixel_attention_mask"].shape == (b, CAMERAS)
    assert x["actions"].shape == (b, cfg.chunk_size, cfg.max_action_dim)
    per = (cfg.vlm_config.vision_config.image_size // cfg.vlm_config.vision_config.patch_size) ** 2
    assert int((x["input_ids"] == cfg.vlm_config.image_token_id).sum()) == b * CAMERAS * per  # every camera's tokens
    t = x["timestep"]
    assert bool((t >= cfg.time_sampling_offset).all() and (t <= cfg.time_sampling_offset + cfg.time_sampling_scale).all())


def _esmfold2(x, cfg):
    atoms = x["atom_inputs"]
    n = x["attention_mask"].shape[1]
    assert int(atoms.atom_to_token.max()) == n - 1 and atoms.ref_pos.shape[1] == atoms.atom_to_token.shape[1]
    assert atoms.ref_atom_name_chars.shape[-1] == cfg.max_chars and int(atoms.ref_atom_name_chars.max()) < cfg.char_vocab_size
    assert int(atoms.ref_element.max()) < cfg.max_atomic_number and int(x["res_type"].max()) < cfg.num_res_types


def _token2wav(x, cfg):
    dit = cfg.dit_config
    assert set(x) == {"code", "conditioning", "reference_mel"}
    assert int(x["code"].max()) < dit.num_embeds and x["code"].shape[1] * dit.repeats <= dit.max_position_embeddings
    assert x["conditioning"].shape[-1] == dit.enc_emb_dim and x["reference_mel"].shape[-1] == dit.mel_dim


_SPEECH = {"hidden_size": 32, "encoder_linear_units": 64, "decoder_linear_units": 64,
           "speech_decoder_postnet_units": 32, "speech_decoder_postnet_layers": 2, "duration_predictor_channels": 32,
           "energy_predictor_channels": 32, "pitch_predictor_channels": 32, "pitch_predictor_layers": 2}

CASES = {  # model type: (sizes cut down, main input shape, what the rule made)
    "pix2struct": ({}, None, _pix2struct),
    "pix2struct_vision_model": ({}, None, _pix2struct),
    "xmod": ({}, None, _xmod),
    "lxmert": ({}, None, _lxmert),
    # (the same rule as fastspeech2_conformer_with_hifigan's, without the vocoder)
    "fastspeech2_conformer": ({"": _SPEECH}, (1, 8), _fastspeech2),
    "omdet-turbo": ({"": {"num_queries": 20}, "backbone_config": {"img_size": 224}}, (1, 3, 224, 224), _omdet),
    "rag": ({}, (1, 16), _rag),
    "pi0": ({}, None, _pi0),
    "esmfold2": ({"": {"num_loops": 1}}, None, _esmfold2),  # (the trunk run twice, not 11 times)
    "qwen2_5_omni_token2wav": ({"dit_config": {"hidden_size": 64, "num_attention_heads": 2, "head_dim": 32},
                                "bigvgan_config": {"upsample_initial_channel": 32, "upsample_rates": [2, 2],
                                                   "upsample_kernel_sizes": [4, 4], "resblock_kernel_sizes": [3],
                                                   "resblock_dilation_sizes": [[1, 3, 5]]}}, None, _token2wav),
}


@pytest.mark.parametrize("mt", sorted(CASES))
def test_argument_rule_makes_the_step_count(mt):
    small, shape, check = CASES[mt]
    counts_with_its_rule(mt, check, needs="timm" if mt == "omdet-turbo" else None, shape=shape, small=small)


# -- the fake-tensor fixes these model types needed ------------------------------------------------
class _Masked(torch.nn.Module):
    """FastSpeech 2's loss: parameter-made frames selected by a (batch, frames, 1) mask of the inputs."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(4, 8)

    def forward(self, x, mask):
        return self.proj(x).masked_select(mask).sum(0, keepdim=True)


class _Rejection(torch.nn.Module):
    """trunc_normal_'s rejection loop and an overflow guard, both on values the parameters decide."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(4, 4)

    def forward(self, x):
        y = self.proj(x)
        while (y.abs() > 1e9).any():
            y = torch.where(y.abs() > 1e9, torch.zeros_like(y), y)
        if not torch.isfinite(y).all():
            y = y.clamp(-1e4, 1e4)
        return y


def test_fake_masked_select_counts_the_mask_broadcast_to_the_input():
    from gatesim.models import count

    x = torch.randn(1, 6, 4)
    mask = torch.zeros(1, 6, 1, dtype=torch.bool)
    mask[:, :4] = True  # 4 frames of 8 features kept: 32 elements
    fake = count(_Masked(), {"x": x, "mask": mask}, device="fake", level="inference")
    cpu = count(_Masked(), {"x": x, "mask": mask}, device="cpu", level="inference")
    assert fake.device == "fake" and fake.flops() == cpu.flops() and fake.total == cpu.total


def test_fake_any_and_all_of_parameter_values_take_the_usual_case():
    from gatesim.models import count

    r = count(_Rejection(), {"x": torch.randn(2, 4)}, device="fake", optimizer="adamw")
    assert r.device == "fake" and dict(r.uncounted) == {}
    assert any("aten.any x1" in n and "aten.all x1" in n for n in r.notes)


@pytest.mark.parametrize("mt", ["sam2_video", "edgetam_video"])
def test_video_tracker_session_runs_the_forward_which_is_inference_only(mt):
    # the session the processor makes (one object prompted on a streamed frame) is what the forward needs; the
    # forward itself runs under torch.inference_mode, so these trackers cannot count as a training step
    try:
        import torchvision  # noqa: F401  (the SAM 2 processors' backend)
    except Exception as e:  # noqa: BLE001  (absent, or built for another torch)
        pytest.skip(f"torchvision is not usable here: {type(e).__name__}")
    zm = _load(mt)
    with torch.device("meta"):
        model = zm.factory()
    model.eval()
    x = zm.make_inputs(model, "meta", zm.default_shape)
    assert set(x) == {"inference_session", "frame"} and x["inference_session"].get_obj_num() == 1
    out = model(**x)
    assert out.object_ids == [1] and out.pred_masks.shape[:2] == (1, 1)
    assert torch.is_inference(out.pred_masks) and not out.pred_masks.requires_grad
