"""Fixes that let more transformers architectures count from their library defaults: configuration repairs
(rotary sections that fit the head) and inputs built for arguments the generic builder once left out. Fast:
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
