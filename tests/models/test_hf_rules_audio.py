"""The audio and speech rules of :mod:`gatesim.models.hf_rules.audio` (and the model types fed embeddings): each
model type named counts a training step, two layers, from its library default configuration, with zero uncounted
ops, fed what its rule makes. Skipped when transformers is not installed (the optional zoo extra)."""
import pytest
import torch

transformers = pytest.importorskip("transformers", reason="transformers is not installed (the optional zoo extra)")


def _kyutai(x, c):
    ids = x["input_ids"]  # a text stream and a stream per codebook, each code within its codebook
    assert ids.dim() == 3 and ids.shape[-1] == 1 + c.num_codebooks
    assert int(ids[..., 1:].max()) < c.codebook_vocab_size and int(ids[..., 0].max()) < c.vocab_size


def _dia(x, c):
    dec = x["decoder_input_ids"]
    assert dec.dim() == 3 and dec.shape[-1] == c.decoder_config.num_channels
    assert int(dec.max()) < c.decoder_config.vocab_size


def _inkling(x, c):
    codes = x["audio_input_ids"]
    assert codes.shape[-1] == c.n_mel_bins and int(codes.max()) < c.mel_vocab_size


def _jev(x, c):
    from transformers.decision import Question

    starts = torch.tensor([c.offsets[t] for t in Question.questions_types])[x["question_type_ids"][0]]
    assert bool(((starts + x["num_options"][0]) <= c.num_verbalizers).all())  # each question within the head
    assert 1 <= int(x["marks"].min()) and int(x["marks"].max()) <= x["input_ids"].shape[1]
    assert sorted(x["question_type_ids"][0].tolist()) == list(range(len(Question.questions_types)))


def _qformer(x, c):
    assert x["encoder_hidden_states"].shape[-1] == c.encoder_hidden_size


def _code_predictor(x, c):
    assert "input_ids" not in x and x["inputs_embeds"].shape[-1] == c.hidden_size


def _glimmer(x, c):
    assert x["noise_embeds"].shape[1:] == (c.block_size, c.hidden_size)
    assert x["context_hidden_states"].shape[-1] == c.hidden_size * len(c.target_layer_ids)


def _word_timestamp(x, c):
    assert set(x) == {"inputs_embeds"} and x["inputs_embeds"].shape[-1] == c.hidden_size


def _nemo(x, c):
    sub = c.audio_config.subsampling_factor
    frames = x["input_features"].shape[1]
    assert frames % sub == 0 and x["input_features_mask"].shape[1] == frames  # padded as its processor does
    assert int((x["input_ids"] == c.audio_token_id).sum()) == frames // sub  # a placeholder per audio token


def _speech_encdec(x, c):
    assert x["input_values"].shape == (1, 16000) and "decoder_input_ids" in x


CASES = {"kyutai_speech_to_text": _kyutai, "dia": _dia, "inkling_audio": _inkling, "jev": _jev,
         "blip_2_qformer": _qformer, "qwen3_omni_moe_talker_code_predictor": _code_predictor,
         "muse_glimmer_assistant": _glimmer, "nemotron3_5_transcribe_word_timestamp": _word_timestamp,
         "nemo_speechlm": _nemo, "speech-encoder-decoder": _speech_encdec}


@pytest.mark.parametrize("model_type", sorted(CASES))
def test_model_type_counts_with_its_rule(model_type):
    from hf_rules_check import counts_with_its_rule

    counts_with_its_rule(model_type, CASES[model_type])
