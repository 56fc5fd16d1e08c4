"""Per-model rules (:mod:`gatesim.models.hf_rules`): Arguments no processor makes: inference sessions, prompts, labels, flattened patches."""
from __future__ import annotations

import torch

from ..hf_inputs import find
from . import config_rule, input_rule  # noqa: F401


def _gen(seed: int = 5) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _model_device(model) -> str:
    """The device type of the model's parameters ("cpu" where there are none, or no model)."""
    p = next(model.parameters(), None) if isinstance(model, torch.nn.Module) else None
    return p.device.type if p is not None else "cpu"


# ------------------------------------------------------------------------------------------------
# Pix2Struct: the image processor's variable-resolution patches
# ------------------------------------------------------------------------------------------------
@input_rule("pix2struct", "pix2struct_vision_model")
def pix2struct_patches(inp, model, batch, made):
    """Pix2Struct's encoder takes no pixels but the processor's ``flattened_patches``: (batch, patches,
    2 + patch_h * patch_w * channels), each row a patch's 1-based row and column index then its pixels, with an
    ``attention_mask`` of the real patches. Made here for a grid of 8 x 8 patches (within the row and column
    embeddings' ``seq_len``), of the configured patch width."""
    width = find(inp.config, "patch_embed_hidden_size", prefer="vision_config")
    side = min(8, int(find(inp.config, "seq_len", prefer="vision_config", default=8)))
    rows, cols = torch.meshgrid(torch.arange(1, side + 1), torch.arange(1, side + 1), indexing="ij")
    idx = torch.stack([rows.flatten(), cols.flatten()], dim=-1).float().expand(batch, -1, -1)
    pixels = torch.randn(batch, side * side, int(width), generator=_gen())
    return {"flattened_patches": torch.cat([idx, pixels], dim=-1),
            "attention_mask": torch.ones(batch, side * side)}


# ------------------------------------------------------------------------------------------------
# X-MOD: the language of each input (which of the per-language adapters it goes through)
# ------------------------------------------------------------------------------------------------
@input_rule("xmod")
def xmod_language(inp, model, batch, made):
    """X-MOD routes every layer's output through one adapter per language and needs to know the input's
    language: ``lang_ids`` (batch,) indexing ``config.languages``, else a ``default_language`` the library
    leaves None (a user sets it with ``set_default_language``). Each row here is in the configuration's
    default language, or its first."""
    langs = list(inp.config.languages)
    lang = inp.config.default_language
    return {"lang_ids": torch.full((batch,), langs.index(lang) if lang in langs else 0, dtype=torch.long)}


# ------------------------------------------------------------------------------------------------
# LXMERT: a detector's region features
# ------------------------------------------------------------------------------------------------
#: regions a detector gives an image (LXMERT's paper keeps the 36 most confident Faster R-CNN objects)
REGIONS = 36


def _region_boxes(batch: int, regions: int, dim: int = 4) -> torch.Tensor:
    """Normalized boxes (x0, y0, x1, y1 in 0..1, x0 <= x1, y0 <= y1); a wider ``dim`` repeats the pattern."""
    g = _gen(6)
    lo = torch.rand(batch, regions, 2, generator=g) / 2
    box = torch.cat([lo, lo + torch.rand(batch, regions, 2, generator=g) / 2], dim=-1)
    return box.repeat(1, 1, -(-dim // 4))[..., :dim]


@input_rule("lxmert")
def lxmert_regions(inp, model, batch, made):
    """LXMERT sees an image as a detector's region features, which no processor of the library makes:
    ``visual_feats`` (batch, regions, ``visual_feat_dim``) and their boxes ``visual_pos`` (batch, regions,
    ``visual_pos_dim``, normalized corners)."""
    c = inp.config
    return {"visual_feats": torch.randn(batch, REGIONS, c.visual_feat_dim, generator=_gen()),
            "visual_pos": _region_boxes(batch, REGIONS, c.visual_pos_dim),
            "visual_attention_mask": torch.ones(batch, REGIONS)}


# ------------------------------------------------------------------------------------------------
# FastSpeech 2: a training step's targets (the model's variance adaptor uses the true ones)
# ------------------------------------------------------------------------------------------------
@input_rule("fastspeech2_conformer", "fastspeech2_conformer_with_hifigan")
def fastspeech2_targets(inp, model, batch, made):
    """FastSpeech 2 trains on aligned targets and refuses to run in training mode without them: every
    token's ``duration_labels`` (frames it lasts, (batch, tokens)), its ``pitch_labels`` and ``energy_labels``
    ((batch, tokens, 1)), and the ``spectrogram_labels`` the durations add up to ((batch, frames,
    ``num_mel_bins``), -100 past a row's end). Durations of 1 to 3 frames here."""
    ids = made.get("input_ids")
    if not isinstance(ids, torch.Tensor):
        return {}
    g = _gen(7)
    tokens = ids.shape[1]
    dur = torch.randint(1, 4, (batch, tokens), generator=g)
    frames = dur.sum(dim=1)
    bins = int(find(inp.config, "num_mel_bins", prefer="model_config"))
    spec = torch.randn(batch, int(frames.max()), bins, generator=g)
    spec[torch.arange(spec.shape[1])[None, :] >= frames[:, None]] = -100.0
    return {"duration_labels": dur, "pitch_labels": torch.randn(batch, tokens, 1, generator=g),
            "energy_labels": torch.randn(batch, tokens, 1, generator=g), "spectrogram_labels": spec}


# ------------------------------------------------------------------------------------------------
# OmDet-Turbo: the detector's text prompt (the classes to find and the task sentence)
# ------------------------------------------------------------------------------------------------
#: classes an OmDet-Turbo prompt names per image
CLASSES = 4


def _sentences(config, rows: int, words: int, seed: int, prefer: str = "text_config") -> tuple:
    """Tokenizer-like rows: begin token, ``words`` word tokens, end token, then padding to the text tower's
    ``max_position_embeddings``; and their attention mask."""
    from ..hf_inputs import text_ids

    tc = getattr(config, prefer, None) or config
    width = int(getattr(tc, "max_position_embeddings", None) or words + 2)
    words = min(words, width - 2)
    pad = getattr(tc, "pad_token_id", None)
    ids = torch.full((rows, width), pad if isinstance(pad, int) else 0, dtype=torch.long)
    ids[:, 1:1 + words] = text_ids(config, (rows, words), seed=seed, prefer=prefer)
    for k, col in (("bos_token_id", 0), ("eos_token_id", 1 + words)):
        v = getattr(tc, k, None)
        ids[:, col] = v if isinstance(v, int) else ids[:, 1]
    mask = torch.zeros(rows, width, dtype=torch.long)
    mask[:, :words + 2] = 1
    return ids, mask


@input_rule("omdet-turbo")
def omdet_prompt(inp, model, batch, made):
    """OmDet-Turbo detects the classes its text prompt names, which its processor tokenizes apart from the
    image: ``classes_input_ids`` and mask (one row per class, ``classes_structure`` of them per image) and
    ``tasks_input_ids`` and mask (one task sentence per image), padded to the text tower's length."""
    cls_ids, cls_mask = _sentences(inp.config, batch * CLASSES, 2, seed=8)
    task_ids, task_mask = _sentences(inp.config, batch, 4 + 2 * CLASSES, seed=9)
    return {"classes_input_ids": cls_ids, "classes_attention_mask": cls_mask, "tasks_input_ids": task_ids,
            "tasks_attention_mask": task_mask, "classes_structure": torch.full((batch,), CLASSES, dtype=torch.long)}


# ------------------------------------------------------------------------------------------------
# RAG: the retrieved passages (no retriever is built from a configuration: it needs a document index)
# ------------------------------------------------------------------------------------------------
#: tokens of a retrieved passage placed before the question in a RAG context
PASSAGE = 32


@input_rule("rag")
def rag_context(inp, model, batch, made):
    """RAG generates from retrieved passages; its retriever needs a document index, so a model built from a
    configuration has none and must be given what the retriever returns: ``context_input_ids`` and mask
    (``n_docs`` rows per question, each a passage then the question, in the generator's vocabulary, at most
    ``max_combined_length`` tokens) and the passages' ``doc_scores`` (batch, ``n_docs``)."""
    from ..hf_inputs import text_ids

    ids = made.get("input_ids")
    if not isinstance(ids, torch.Tensor):
        return {}
    c = inp.config
    docs = int(c.n_docs)
    width = min(PASSAGE + ids.shape[1], int(getattr(c, "max_combined_length", None) or PASSAGE + ids.shape[1]))
    ctx = text_ids(c, (batch * docs, width), seed=10, prefer="generator")
    return {"context_input_ids": ctx, "context_attention_mask": torch.ones_like(ctx),
            "doc_scores": torch.randn(batch, docs, generator=_gen(11))}


# ------------------------------------------------------------------------------------------------
# Qwen2.5-Omni's Token2Wav: the talker's speech codes and a speaker's voice
# ------------------------------------------------------------------------------------------------
#: speech codes decoded, and frames of the speaker's reference mel spectrogram
CODES, REFERENCE_FRAMES = 32, 64


@input_rule("qwen2_5_omni_token2wav")
def token2wav_speech(inp, model, batch, made):
    """Token2Wav turns the talker's speech ``code`` (batch, codes; ids below the DiT's ``num_embeds``) into a
    waveform in a speaker's voice, given by two tensors Qwen2.5-Omni ships per speaker (its ``spk_dict``), which
    no processor makes: the speaker embedding ``conditioning`` (batch, ``enc_emb_dim``) and a reference mel
    spectrogram ``reference_mel`` (batch, frames, ``mel_dim``). The codes are kept within the DiT's
    positions (codes x ``repeats`` mel frames)."""
    dit = getattr(inp.config, "dit_config", None) or inp.config
    n = min(CODES, int(dit.max_position_embeddings) // int(dit.repeats))
    g = _gen(12)
    return {"code": torch.randint(0, int(dit.num_embeds), (batch, n), generator=g),
            "conditioning": torch.randn(batch, int(dit.enc_emb_dim), generator=g),
            "reference_mel": torch.randn(batch, REFERENCE_FRAMES, int(dit.mel_dim), generator=g),
            "input_ids": None}  # (the builder's text: the forward takes codes, not text)


# ------------------------------------------------------------------------------------------------
# PI0: a robot's camera images, instruction, state and the action chunk to learn
# ------------------------------------------------------------------------------------------------
#: camera images per sample (pi0 takes a base and two wrist cameras) and instruction tokens
CAMERAS, INSTRUCTION = 3, 16


@input_rule("pi0")
def pi0_episode(inp, model, batch, made):
    """PI0's main input is the robot's ``state``, which the builder does not know: a training sample, as its
    processor makes one, is the robot ``state`` (batch, ``max_state_dim``), the chunk of ``actions`` to learn
    (batch, ``chunk_size``, ``max_action_dim``; the flow-matching loss's target), the cameras' images
    ``pixel_values`` (batch, cameras, channels, height, width) with ``pixel_attention_mask`` (batch, cameras),
    and ``input_ids``: each camera's image tokens (the image processor's ``image_seq_length``), then the begin
    token and the instruction. The flow-matching ``timestep`` (batch,) is drawn here as the forward would draw it
    (Beta(``time_sampling_beta_alpha``, ``time_sampling_beta_beta``), scaled and offset): a training loop's
    random draw, not the model's arithmetic (the forward draws the noise itself)."""
    from torch.utils._python_dispatch import _disable_current_modes

    from ..hf_inputs import image_processor, make_images, text_ids

    c = inp.config
    vlm = c.vlm_config
    with _disable_current_modes():
        pv = make_images(inp.mt, c, batch * CAMERAS)["pixel_values"]
    per = getattr(image_processor(inp.mt), "image_seq_length", None) or \
        (vlm.vision_config.image_size // vlm.vision_config.patch_size) ** 2
    img = torch.full((batch, per * CAMERAS), int(vlm.image_token_id), dtype=torch.long)
    bos = torch.full((batch, 1), int(getattr(vlm.text_config, "bos_token_id", None) or 0), dtype=torch.long)
    ids = torch.cat([img, bos, text_ids(c, (batch, INSTRUCTION), seed=13, prefer="vlm_config")], dim=1)
    g = _gen(14)
    with _disable_current_modes(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(14)
        beta = torch.distributions.Beta(torch.tensor(float(c.time_sampling_beta_alpha)),
                                        torch.tensor(float(c.time_sampling_beta_beta))).sample((batch,))
    t = beta * c.time_sampling_scale + c.time_sampling_offset
    return {"state": torch.randn(batch, c.max_state_dim, generator=g), "timestep": t.float(),
            "actions": torch.randn(batch, c.chunk_size, c.max_action_dim, generator=g),
            "pixel_values": pv.reshape(batch, CAMERAS, *pv.shape[1:]),
            "pixel_attention_mask": torch.ones(batch, CAMERAS, dtype=torch.bool),
            "input_ids": ids, "attention_mask": torch.ones_like(ids)}


# ------------------------------------------------------------------------------------------------
# ESMFold2: a featurized protein (its featurizer is not part of the library)
# ------------------------------------------------------------------------------------------------
#: residues of the made-up protein chain
RESIDUES = 32
#: each residue's heavy atoms here (backbone N, CA, C, O and the side chain's CB): atomic numbers, names
_ATOMS = ((7, "N"), (6, "CA"), (6, "C"), (8, "O"), (6, "CB"))


@input_rule("esmfold2")
def esmfold2_protein(inp, model, batch, made):
    """ESMFold2's trunk takes a featurized complex, whose featurizer ships outside the library: per token
    (one protein chain of ``RESIDUES`` residues here) its indices (``token_index``, ``residue_index``), chain
    and entity ids (``asym_id``, ``sym_id``, ``entity_id``), ``mol_type`` (0, protein), ``res_type`` (an
    amino-acid type below ``num_res_types``), ``token_bonds`` (none between tokens) and ``attention_mask``; the
    ESMC language model's ``input_ids``; and ``atom_inputs``, each residue's reference atoms (positions,
    charges, atomic numbers, names as ``ord(c) - 32`` per character over ``max_chars``, the token each belongs
    to)."""
    from ..hf_inputs import text_ids

    c = inp.config
    mod = __import__(inp.cls.__module__, fromlist=["EsmFold2AtomInputs"])
    n, a = RESIDUES, len(_ATOMS)
    g = _gen(15)
    tok = torch.arange(n).expand(batch, n)
    zeros = torch.zeros(batch, n, dtype=torch.long)
    owner = torch.arange(n).repeat_interleave(a).expand(batch, -1)
    names = torch.zeros(a, int(c.max_chars), dtype=torch.long)
    for i, (_, name) in enumerate(_ATOMS):
        names[i, :len(name)] = torch.tensor([ord(ch) - 32 for ch in name[:int(c.max_chars)]])
    atoms = mod.EsmFold2AtomInputs(
        ref_pos=torch.randn(batch, n * a, 3, generator=g) * 10,
        ref_charge=torch.zeros(batch, n * a),
        atom_attention_mask=torch.ones(batch, n * a, dtype=torch.bool),
        ref_element=torch.tensor([z for z, _ in _ATOMS]).repeat(n).expand(batch, -1).clone(),
        ref_atom_name_chars=names.repeat(n, 1).expand(batch, -1, -1).clone(),
        ref_space_uid=owner.clone(), atom_to_token=owner.clone())
    out = {"token_index": tok.clone(), "residue_index": tok.clone(), "asym_id": zeros, "sym_id": zeros.clone(),
           "entity_id": zeros.clone(), "mol_type": zeros.clone(),
           "res_type": torch.randint(0, min(20, int(c.num_res_types)), (batch, n), generator=g),
           "token_bonds": torch.zeros(batch, n, n, 1), "attention_mask": torch.ones(batch, n, dtype=torch.long),
           "atom_inputs": atoms}
    if getattr(c, "esmc_config", None) is not None:
        out["input_ids"] = text_ids(c, (batch, n), seed=16, prefer="esmc_config")
    return out


# ------------------------------------------------------------------------------------------------
# SAM 2 video trackers: an inference session (made-up frames, one object prompted by a point)
# ------------------------------------------------------------------------------------------------
#: side in pixels of the made-up video frame, before the processor resizes it
VIDEO_SIDE = 256


@input_rule("sam2_video", "sam3_tracker_video", "edgetam_video")
def video_session(inp, model, batch, made):
    """A SAM 2 video tracker's forward takes an ``inference_session`` (the frames, the objects prompted, the
    memory of past frames), which its processor makes; streamed, as the library documents it:
    ``init_video_session()``, one object prompted by one positive point on frame 0
    (``add_inputs_to_inference_session`` with the frame's original size), then the forward given the processed
    ``frame`` (a made-up image), which it adds to the session and segments. The session lives on the model's
    device. (These forwards run under ``torch.inference_mode`` and keep the object scores only in evaluation
    mode: they count at the inference level, not as a training step.)"""
    import numpy as np
    import transformers
    from torch.utils._python_dispatch import _disable_current_modes

    name = {"sam3_tracker_video": "Sam3TrackerVideoProcessor"}.get(inp.mt, "Sam2VideoProcessor")
    proc_cls = getattr(transformers, name, None)
    if proc_cls is None:
        return {}
    image = np.random.default_rng(17).integers(0, 256, (VIDEO_SIDE, VIDEO_SIDE, 3), dtype=np.uint8)
    with _disable_current_modes():
        proc = proc_cls(image_processor=transformers.Sam2ImageProcessor(),
                        video_processor=transformers.Sam2VideoVideoProcessor())
        side = find(inp.config, "image_size", prefer="vision_config")
        if isinstance(side, int):  # the tracker's input size (the processors default to SAM 2's 1024)
            for p in (proc.image_processor, proc.video_processor):
                p.size = {"height": side, "width": side}
            proc.target_size = side
        frame = proc(images=image, return_tensors="pt")
        session = proc.init_video_session(inference_device=_model_device(model))
        proc.add_inputs_to_inference_session(session, frame_idx=0, obj_ids=1,
                                             input_points=[[[[VIDEO_SIDE // 2, VIDEO_SIDE // 2]]]],
                                             input_labels=[[[1]]], original_size=tuple(frame["original_sizes"][0]))
    return {"inference_session": session, "frame": frame["pixel_values"][0], "pixel_values": None}
