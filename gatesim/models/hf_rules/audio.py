"""Per-model rules (:mod:`gatesim.models.hf_rules`): Audio and speech models: frame counts, token streams, sub-model inputs.

Also the sub-models fed another model's states (BLIP-2's Q-Former alone, Qwen3-Omni's code predictor, Muse
Glimmer's draft model) and JEV's decision head, which share the cause: an argument no processor makes."""
from __future__ import annotations

import torch

from ..hf_inputs import FRAMES, TEXT, _rand, find, text_ids
from . import config_rule, input_rule  # noqa: F401


def _codes(shape, high: int, seed: int) -> torch.Tensor:
    """Random audio codec codes in ``[0, high)``."""
    return torch.randint(0, max(int(high), 1), tuple(shape), generator=torch.Generator().manual_seed(seed))


@input_rule("kyutai_speech_to_text")
def kyutai_streams(inp, model, batch, made):
    """Kyutai STT reads one text stream and ``num_codebooks`` audio codebook streams per step: ``input_ids`` is
    (batch, steps, 1 + num_codebooks), the text token first, then a code of each codebook (``codebook_vocab_size``
    codes; the embedding offsets each stream into its own rows). The builder's 2-D text ids have no codebook axis."""
    ids = made.get(TEXT)
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2:
        return {}
    c = inp.config
    audio = _codes((*ids.shape, c.num_codebooks), c.codebook_vocab_size, seed=5)
    return {TEXT: torch.cat([ids.unsqueeze(-1), audio], dim=-1)}


@input_rule("dia")
def dia_channels(inp, model, batch, made):
    """Dia's decoder reads ``num_channels`` (9) delayed codec channels per step: ``decoder_input_ids`` is (batch,
    steps, channels) of the decoder's codes (a 2-D tensor is taken as batch x channels rows, which the builder's
    (batch, steps) ids are not)."""
    dec = made.get("decoder_input_ids")
    if not isinstance(dec, torch.Tensor) or dec.dim() != 2:
        return {}
    chans = find(inp.config, "num_channels", prefer="decoder_config")
    return {"decoder_input_ids": text_ids(inp.config, (*dec.shape, chans), seed=1, prefer="decoder_config")}


@input_rule("inkling_audio")
def inkling_mel_codes(inp, model, batch, made):
    """Inkling's audio tower takes quantized mel frames, ``audio_input_ids`` (audios, frames, ``n_mel_bins``): per
    bin a code of ``mel_vocab_size`` (each bin embedded in its own rows, summed); no extractor makes them."""
    c = inp.config
    return {"audio_input_ids": _codes((batch, FRAMES, c.num_codebooks), c.codebook_size, seed=6)}


@input_rule("jev")
def jev_questions(inp, model, batch, made):
    """JEV scores the questions of one prompt: ``marks`` (1, questions) the positions of each question's
    ``<|mark|>`` token (the head reads the token before), ``question_type_ids`` indices into
    ``Question.questions_types``, ``num_options`` how many head rows each question scores from its type's
    ``offsets`` row on. One question of each type here, with every option its type's rows allow."""
    from transformers.decision import Question

    ids = made.get(TEXT)
    if not isinstance(ids, torch.Tensor):
        return {}
    c, types = inp.config, list(Question.questions_types)
    starts = sorted(set(c.offsets.values())) + [c.num_verbalizers]
    rows = [starts[starts.index(c.offsets[t]) + 1] - c.offsets[t] for t in types]  # the rows of each type
    seq, n = ids.shape[-1], len(types)
    marks = [seq * (i + 1) // n for i in range(n)]  # in 1..seq: the last question's mark ends the prompt
    return {"marks": torch.tensor([marks]), "num_options": torch.tensor([rows]),
            "question_type_ids": torch.arange(n)[None]}


@input_rule("blip_2_qformer")
def qformer_image_features(inp, model, batch, made):
    """BLIP-2's Q-Former alone: its cross-attention layers read the vision tower's features,
    ``encoder_hidden_states`` (batch, image tokens, ``encoder_hidden_size``), which its forward does not require
    but cannot run without. The image tokens are those of the vision tower BLIP-2's configuration defaults to
    (224-pixel images in 14-pixel patches and a class token: 257)."""
    q = made.get("query_embeds")
    if not isinstance(q, torch.Tensor):
        return {}
    from transformers import Blip2VisionConfig

    v = Blip2VisionConfig()
    tokens = (v.image_size // v.patch_size) ** 2 + 1
    return {"encoder_hidden_states": _rand(batch, tokens, inp.config.encoder_hidden_size)}


@input_rule("qwen3_omni_moe_talker_code_predictor")
def code_predictor_embeds(inp, model, batch, made):
    """Qwen3-Omni's code predictor (the talker's multi-codebook head) is fed the talker's embeddings and refuses
    token ids: ``inputs_embeds`` (batch, tokens, hidden size) in place of ``input_ids``."""
    from ..hf_inputs import ARGUMENTS

    return {TEXT: None, **ARGUMENTS["inputs_embeds"](inp, batch, made)}


@input_rule("muse_glimmer_assistant")
def glimmer_draft_inputs(inp, model, batch, made):
    """Muse Glimmer's assistant (a block-diffusion draft model) denoises ``noise_embeds`` (batch, ``block_size``,
    hidden size) given ``context_hidden_states``: the target model's states at ``target_layer_ids``, concatenated
    (batch, accepted tokens, hidden size x layers). 32 accepted tokens here."""
    c = inp.config
    return {"noise_embeds": _rand(batch, c.block_size, c.hidden_size),
            "context_hidden_states": _rand(batch, 32, c.hidden_size * len(c.target_layer_ids))}


@input_rule("nemo_speechlm")
def whole_audio_tokens(inp, model, batch, made):
    """Nemotron 3.5 Transcribe's audio tower stacks ``subsampling_factor`` spectrogram frames into one audio token
    and takes only whole tokens: its processor pads ``input_features`` and ``input_features_mask`` on the right to a
    multiple of it (the feature extractor alone gives one second as 101 frames). Padded here likewise, and the
    text given one ``audio_token_id`` placeholder per audio token, as many as the tower's own
    ``_get_feat_extract_output_lengths`` gives for the mask (its features are picked out by the mask's values,
    which meta tensors do not have)."""
    feats, mask = made.get("input_features"), made.get("input_features_mask")
    sub = find(inp.config, "subsampling_factor", prefer="audio_config")
    if not isinstance(feats, torch.Tensor) or not isinstance(mask, torch.Tensor) or not isinstance(sub, int) \
            or feats.shape[1] % sub == 0:
        return {}
    pad = -feats.shape[1] % sub
    out = {"input_features": torch.nn.functional.pad(feats, (0, 0, 0, pad)),
           "input_features_mask": torch.nn.functional.pad(mask, (0, pad))}
    ids, tower = made.get(TEXT), getattr(getattr(model, "model", model), "audio_tower", None)
    if isinstance(ids, torch.Tensor) and tower is not None:
        _, tokens = tower._get_feat_extract_output_lengths(out["input_features_mask"].sum(-1).long())
        n = int(tokens.max())
        tok = inp.config.audio_token_id
        text = ids[:, int((ids[0] == tok).sum()):]  # the text the builder made, after any placeholders it counted
        out[TEXT] = torch.cat([torch.full((batch, n), tok, dtype=ids.dtype), text], dim=1)
    return out


@input_rule("speech-encoder-decoder")
def speech_encoder_audio(inp, model, batch, made):
    """A speech encoder-decoder's main input is a generic ``inputs`` its forward does not read: the encoder takes
    ``input_values`` or ``input_features``, whichever its own feature extractor makes (one second of audio, by the
    encoder's model type: raw samples for the default Wav2Vec2 encoder)."""
    from torch.utils._python_dispatch import _disable_current_modes

    from ..hf_inputs import AUDIO_FEATURES, AUDIO_VALUES, make_audio

    enc = inp.config.encoder
    with _disable_current_modes():  # the extractor runs for real, outside the counter's fake or meta tensors
        audio = make_audio(enc.model_type, enc, batch)
    return {k: v for k, v in audio.items() if k in (AUDIO_VALUES, AUDIO_FEATURES, "attention_mask")}
