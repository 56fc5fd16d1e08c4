"""Inputs and configuration repairs that let transformers architectures count from their library defaults:
rotary sections that fit the head, placeholder token ids, and inputs for arguments no processor makes. Fast:
tiny configurations, no download. Skipped when transformers is not installed (the optional zoo extra)."""
import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")

from gatesim.models.zoo import fit_rotary_sections  # noqa: E402


def _glm_text(**kw):
    cfg_cls = getattr(transformers, "Glm4vTextConfig", None)
    if cfg_cls is None:
        pytest.skip("this transformers has no GLM-4V")
    return cfg_cls(**kw)


def test_rotary_sections_fit_the_default_head():
    cfg = _glm_text()  # head 128, sections [8, 12, 12]: 32 frequencies, the published share 0.5
    assert cfg.rope_parameters.get("partial_rotary_factor", 1.0) == 1.0
    assert fit_rotary_sections(cfg) == [8, 12, 12]
    assert cfg.rope_parameters["partial_rotary_factor"] == 0.5
    assert fit_rotary_sections(cfg) is None  # fitted once: nothing more to do


def test_rotary_sections_scaled_to_a_small_head_and_the_embedding_runs():
    from transformers.models.glm4v import modeling_glm4v as m

    cfg = _glm_text(hidden_size=32, num_attention_heads=2, num_key_value_heads=2, intermediate_size=64,
                    num_hidden_layers=1, vocab_size=64)
    head = 16  # 16 // 2 = 8 frequencies: [8, 12, 12] cannot fit, the share stays 1 and the sections shrink
    assert fit_rotary_sections(cfg) == [2, 3, 3]
    rot = m.Glm4vTextRotaryEmbedding(cfg)
    cos, sin = rot(torch.zeros(1, 5, head), torch.arange(5)[None])
    assert cos.shape[-1] == head


def test_rotary_sections_left_alone_when_they_fit_or_are_set():
    cfg = _glm_text()
    cfg.rope_parameters["mrope_section"] = [8, 12, 12]
    assert fit_rotary_sections(cfg) is None
    assert fit_rotary_sections(transformers.LlamaConfig()) is None  # no multimodal rotary sections at all


def _inputs(config_name, **kw):
    from gatesim.models.hf_inputs import HFInputs
    from gatesim.models.zoo import hf_model_class

    cfg_cls = getattr(transformers, config_name, None)
    if cfg_cls is None:
        pytest.skip(f"this transformers has no {config_name}")
    cfg = cfg_cls(**kw)
    cls = hf_model_class(cfg)
    return cfg, cls, HFInputs(cfg, cls, cfg.model_type)


def test_vocoder_gets_a_spectrogram_of_the_configured_bins_and_runs():
    cfg, cls, inp = _inputs("SpeechT5HifiGanConfig", model_in_dim=16, upsample_initial_channel=8,
                            upsample_rates=[2], upsample_kernel_sizes=[4], resblock_kernel_sizes=[3],
                            resblock_dilation_sizes=[[1]])
    with torch.device("meta"):
        model = cls._from_config(cfg)
    x = inp(model, "meta", inp.default_shape())
    assert set(x) == {"spectrogram"} and x["spectrogram"].shape[-1] == 16
    assert model(**x).shape[0] == x["spectrogram"].shape[0]  # the model takes it


def test_tower_fed_hidden_states_gets_them_at_its_width():
    cfg, cls, inp = _inputs("FlavaMultimodalConfig", hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=64)
    with torch.device("meta"):
        model = cls._from_config(cfg)
    x = inp(model, "meta", inp.default_shape())
    assert x["hidden_states"].shape[-1] == 32
    assert model(**x).last_hidden_state.shape[-1] == 32  # (its own [CLS] token added)


def test_features_made_when_the_extractor_gives_raw_samples():
    from gatesim.models import hf_inputs

    cfg, cls, inp = _inputs("Wav2Vec2BertConfig", hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                            intermediate_size=64, feature_projection_input_dim=24, output_hidden_size=32)
    assert inp.main == hf_inputs.AUDIO_FEATURES
    with torch.device("meta"):
        model = cls._from_config(cfg)
    x = inp(model, "meta", inp.default_shape())
    assert "input_values" not in x and x["input_features"].shape[-1] == 24  # (batch, frames, bins)
    model(**x)


def test_codec_decoder_latents_channels_first():
    from gatesim.models.hf_inputs import FRAMES, _latents

    class Fake:
        config = transformers.PretrainedConfig(hidden_size=48, latent_dim=8)

    assert tuple(_latents(Fake, 2, {})["latents"].shape) == (2, 48, FRAMES)


def test_probe_gives_a_frame_tower_its_frames_as_a_batch():
    # X-CLIP's vision tower takes frames as a batch of images (4-D), not the clip (5-D) its video siblings take
    cfg, cls, inp = _inputs("XCLIPVisionConfig", hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                            num_attention_heads=2, image_size=32, patch_size=16, num_frames=2, mit_hidden_size=32,
                            mit_intermediate_size=64, mit_num_hidden_layers=1, mit_num_attention_heads=2)
    with torch.device("meta"):
        model = cls._from_config(cfg)
    x = inp(model, "meta", inp.default_shape())
    assert inp._layout == {"rank": True} and x["pixel_values"].dim() == 4
    model(**x)


def test_probe_finds_the_image_size_the_tower_takes():
    from gatesim.models.hf_inputs import HFInputs

    cfg = transformers.ViTConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                 image_size=64, patch_size=16)
    with torch.device("meta"):
        model = transformers.ViTModel._from_config(cfg)
    told = transformers.ViTConfig(**{**cfg.to_dict(), "image_size": 32})  # a configuration naming 32 ...
    told.crop_size = 64  # ... and, elsewhere, the 64 pixels its tower takes
    inp = HFInputs(told, transformers.ViTModel, "vit")
    x = inp(model, "meta", (2,))  # batch only: the size is the builder's to choose
    assert inp._layout == {"hw": (64, 64)} and tuple(x["pixel_values"].shape[-2:]) == (64, 64)
    model(**x)
    fits = HFInputs(cfg, transformers.ViTModel, "vit")
    fits(model, "meta", (2,))
    assert fits._layout == {}  # what the configuration names fits: kept as made


def test_unset_placeholder_ids_get_free_vocabulary_ids():
    from gatesim.models.hf_inputs import special_ids
    from gatesim.models.zoo import set_placeholder_ids

    cfg_cls = getattr(transformers, "Blip2Config", None)
    if cfg_cls is None:
        pytest.skip("this transformers has no BLIP-2")
    cfg = cfg_cls()
    assert cfg.image_token_id is None  # the library default: the forward cannot find where the images go
    taken = special_ids(cfg)
    done = set_placeholder_ids(cfg)
    tok = cfg.image_token_id
    assert isinstance(tok, int) and tok not in taken and tok < cfg.text_config.vocab_size
    assert done and set(done.values()) == {tok}
    assert set_placeholder_ids(cfg) == {}  # set once
    assert set_placeholder_ids(transformers.LlamaConfig()) == {}  # text-only: nothing to place


def test_audio_mask_is_not_taken_for_the_text_mask():
    from gatesim.models.hf_inputs import HFInputs

    class Model(torch.nn.Module):  # a speech LM: text mask and audio mask are different arguments
        main_input_name = "input_ids"

        def forward(self, input_ids, input_features=None, attention_mask=None, feature_attention_mask=None):
            return input_ids

    cfg = transformers.PretrainedConfig(vocab_size=100, audio_config=transformers.PretrainedConfig(num_mel_bins=80))
    inp = HFInputs(cfg, Model, "whisper")  # Whisper's extractor makes input_features and an attention mask
    inp.wants_audio = True
    x = inp(None, "cpu", (1, 8))
    assert "attention_mask" not in x and x["feature_attention_mask"].shape[-1] == x["input_features"].shape[-1]


def test_probe_drops_an_extractor_mask_the_audio_tower_does_not_take():
    from gatesim.models.hf_inputs import HFInputs

    class Encoder(torch.nn.Module):  # takes a mask of its own making (Qwen2-Audio's encoder), not the extractor's
        main_input_name = "input_features"

        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(80, 4)

        def forward(self, input_features, attention_mask=None):
            if attention_mask is not None and attention_mask.dtype != torch.float32:
                raise RuntimeError("Expected attn_mask dtype to be bool or float")
            return self.proj(input_features.transpose(1, 2))

    cfg = transformers.PretrainedConfig(num_mel_bins=80)
    inp = HFInputs(cfg, Encoder, "whisper")
    with torch.device("meta"):
        model = Encoder()
    x = inp(model, "meta", inp.default_shape())
    assert inp._layout == {"no_audio_mask": True} and set(x) == {"input_features"}


def test_processor_resized_to_the_configuration_whatever_its_size_type():
    # transformers 5 keeps a processor's size in a SizeDict (a dataclass), not a dict
    import numpy as np

    from gatesim.models.hf_media import _size_like, image_processor

    proc = image_processor("vit")
    if proc is None:
        pytest.skip("no ViT image processor here")
    _size_like(proc, 64)
    out = proc(images=[np.zeros((100, 120, 3), dtype=np.uint8)], return_tensors="pt")
    assert tuple(out["pixel_values"].shape[-2:]) == (64, 64)


def test_processor_sizes_that_are_not_image_sides_are_left_alone():
    from gatesim.models.hf_media import _size_like, image_processor

    proc = image_processor("qwen2_vl")  # its edges are pixel counts (min / max pixels), not sides
    if proc is None or not hasattr(proc.size, "longest_edge"):
        pytest.skip("no Qwen2-VL image processor with a SizeDict here")
    before = (proc.size.shortest_edge, proc.size.longest_edge)
    _size_like(proc, 224)
    assert (proc.size.shortest_edge, proc.size.longest_edge) == before
