"""Inputs for a transformers model, built from its configuration and its ``forward`` signature.

A model is fed what it needs, the way its processor would feed it, with no download:

* token ids (``input_ids``: random ids of the vocabulary, never a special token), and ``decoder_input_ids``
  for encoder-decoders; layout models get valid ``bbox`` boxes;
* images through the model type's own image processor (its defaults: ``pixel_values`` in the layout the
  model takes, with ``image_grid_thw``, ``pixel_attention_mask``, ``image_sizes``... where it makes them),
  sized from the configuration (``image_size``, ``num_channels``) when the model takes plain NCHW images;
* video clips of the configuration's frame count and image size (``pixel_values_videos``, batch x frames x
  channels x height x width) for video models;
* audio through the model type's feature extractor (``input_features`` / ``input_values`` of one second of
  noise at its sampling rate, with the masks it makes);
* a multimodal model's placeholders: as many image (or audio) tokens in ``input_ids`` as its vision (audio)
  tower returns features for the images made above (counted on the model itself, before counting starts),
  between the vision start/end tokens where the configuration has them;
* any other required argument the signature names that these cover (a vision tower's ``hidden_states`` and
  ``grid_thw`` are the patches and grid its processor makes), and those no processor makes, from the small
  table :data:`ARGUMENTS` keyed by argument name (a vocoder's ``spectrogram``, a codec decoder's ``latents``,
  mel ``input_features`` where the extractor makes raw samples, a tower's ``hidden_states``, a Q-Former's
  ``qformer_input_ids`` / ``query_embeds``, SegGPT's prompt), sized from the configuration.

Where what is made does not fit the model (its processor's defaults are a checkpoint's, not the default
configuration's), a probe on meta tensors, where a forward is free, tries the other image rank, the image
sizes the configuration and processor name, and an audio tower without its extractor's mask, and keeps the
first the model takes (:meth:`HFInputs._alternatives`).

What a model type needs beyond this (a default configuration whose parts disagree, a tiling only its processor
knows, an argument no processor makes) is one of the per-model rules of :mod:`gatesim.models.hf_rules`, applied
after the above.

The result is a dict of keyword tensors for :func:`gatesim.models.count` (``inputs=f(model, device)``).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import torch

from .hf_config import (  # noqa: F401  (re-exported: the rules and the zoo read them here)
    AUDIO_FEATURES,
    AUDIO_VALUES,
    PIXELS,
    TEXT,
    VIDEOS,
    find,
    parameters,
    special_ids,
    sub_configs,
    text_ids,
    vocab_size,
)
from .hf_media import (  # noqa: F401
    _SIDES,
    feature_extractor,
    image_processor,
    image_size,
    make_audio,
    make_clip,
    make_images,
)


# ------------------------------------------------------------------------------------------------
# the input builder
# ------------------------------------------------------------------------------------------------
def _count_features(out) -> int:
    """Tokens in what ``get_image_features`` / ``get_audio_features`` returned (numel / width, summed)."""
    if hasattr(out, "pooler_output") and getattr(out, "pooler_output", None) is not None:
        out = out.pooler_output
    elif hasattr(out, "last_hidden_state") and not isinstance(out, torch.Tensor):
        out = out.last_hidden_state
    if isinstance(out, torch.Tensor):
        return int(out.numel() // out.shape[-1]) if out.dim() > 1 else int(out.shape[0])
    if isinstance(out, (list, tuple)):
        return sum(_count_features(o) for o in out if o is not None)
    raise TypeError(f"cannot count features in {type(out).__name__}")


#: names a model gives the audio feature extractor's attention mask
_AUDIO_MASKS = ("input_features_mask", "feature_attention_mask", "audio_attention_mask", "input_features_attention_mask")


class HFInputs:
    """``make_inputs(model, device, shape)`` for a transformers model: see the module docstring."""

    def __init__(self, config, cls, model_type: str):
        self.config, self.cls, self.mt = config, cls, model_type
        self.main = getattr(cls, "main_input_name", TEXT)
        if isinstance(self.main, (list, tuple)):
            self.main = self.main[0]
        self.params, self.required = parameters(cls)
        if self.main not in self.params and any(k in self.params for k in (TEXT, PIXELS, AUDIO_VALUES, AUDIO_FEATURES)):
            self.main = next(k for k in (TEXT, PIXELS, AUDIO_FEATURES, AUDIO_VALUES) if k in self.params)
        self.encdec = bool(getattr(config, "is_encoder_decoder", False))
        names = set(self.params) | {self.main}
        multimodal = [k for k in ("vision_config", "audio_config", "speech_config", "image_config")
                      if getattr(config, k, None) is not None]
        audio_cfg = any(k in multimodal for k in ("audio_config", "speech_config"))
        self.wants_text = TEXT in self.required or self.main == TEXT or (TEXT in names and bool(multimodal))
        self.wants_images = self.main == PIXELS or PIXELS in self.required or (
            PIXELS in names and any(k in multimodal for k in ("vision_config", "image_config")))
        self.wants_audio = self.main in (AUDIO_VALUES, AUDIO_FEATURES) or any(
            a in self.required for a in (AUDIO_VALUES, AUDIO_FEATURES)) or (
            AUDIO_FEATURES in names and audio_cfg)
        self.patch_tower = "grid_thw" in self.required

    # -- shapes --------------------------------------------------------------------------------
    def max_positions(self) -> int | None:
        v = find(self.config, "max_position_embeddings", "n_positions", "max_seq_len", "max_sequence_length",
                 prefer="text_config")
        return v if isinstance(v, int) and v >= 8 else None

    def default_shape(self) -> tuple:
        if self.main == PIXELS or self.patch_tower:  # two images: batch norm in training needs two values
            c, h, w = image_size(self.config)
            return (2, c, h, w)
        if self.main == AUDIO_VALUES:
            return (1, int(find(self.config, "sampling_rate", default=16000) or 16000))
        if self.main == AUDIO_FEATURES:
            return (1,)
        seq, mp = 128, self.max_positions()
        if mp is not None and mp < seq:
            seq = mp
        return (1, seq)

    # -- building ------------------------------------------------------------------------------
    def __call__(self, model, device, shape) -> dict:
        x = self._build(model, device, shape)
        made = self._made
        if self._layout is None and isinstance(model, torch.nn.Module) and self._alternatives(x):
            self._layout = self._fit(model, device, shape, x)
            if self._layout:
                x = self._build(model, device, shape)
                made = self._made
        self._check_placeholders(*made)
        return x

    # -- inputs the model takes ----------------------------------------------------------------
    _layout: dict | None = None  #: the layout the meta probe chose ({} = as made)
    #: the last inputs built (CPU tensors) and why a feature method failed, by medium
    _made: tuple[dict, dict] = ({}, {})

    def _alternatives(self, x: dict) -> list[dict]:
        """Other layouts to try: images of the other rank (a tower given its processor's 5-D stack of one
        image's tiles takes 4-D, and the reverse), of each image size the configuration and processor name (a
        336- or 1024-pixel tower behind a 224- or 384-pixel default), and an audio tower with no mask (one that
        takes a mask of its own making, not its extractor's)."""
        alts: list[dict] = []
        media = x.get(PIXELS, x.get(VIDEOS))
        if isinstance(media, torch.Tensor):
            sizes = [s for s in self._image_sizes() if s != tuple(media.shape[-2:])]
            alts += [{"rank": True}] + [{"hw": s} for s in sizes] + [{"hw": s, "rank": True} for s in sizes]
        if not self.wants_text and "attention_mask" in x and (AUDIO_FEATURES in x or AUDIO_VALUES in x):
            alts.append({"no_audio_mask": True})
        return alts

    #: ``factory()`` building the model (on the current default device): the layout probe builds a meta copy of a
    #: model counted on fake or real tensors with it (bf16 autocast starts on fake tensors); None: no probe there
    factory = None

    def _fit(self, model, device, shape, x) -> dict:
        """The first of :meth:`_alternatives` the model takes where what was made fails, tried on meta tensors
        where it is free: on the model itself where it is on meta, else on a meta copy from :attr:`factory`, run
        outside the counter's fake tensors and autocast (the layout a model takes does not depend on where or in
        which precision it runs). {} keeps the inputs as made (also where the model cannot run on meta at all:
        the counter's fallbacks decide then)."""
        from torch.utils._python_dispatch import _disable_current_modes

        if next((p.device.type for p in model.parameters()), None) == "meta":
            return self._fit_on(model, device, shape, x)
        if self.factory is None:
            return {}
        with _disable_current_modes(), torch.autocast("cpu", enabled=False):
            try:
                with torch.device("meta"):
                    probe = self.factory()
                probe.train(model.training)
                return self._fit_on(probe, "meta", shape, self._build(probe, "meta", shape))
            except Exception:
                return {}
            finally:
                self._layout = None

    def _fit_on(self, model, device, shape, x) -> dict:
        """:meth:`_fit` on a model on meta."""
        err = _runs(model, x)
        if err is None or _meta_only(err):
            return {}
        for alt in self._alternatives(x):
            self._layout = alt
            try:
                err = _runs(model, self._build(model, device, shape))
                if err is None or _meta_only(err):  # it takes them (and needs values: the fallbacks give them)
                    return alt
            except Exception:
                continue
        return {}

    def _image_sizes(self) -> list[tuple[int, int]]:
        """Square image sizes the configurations and the processor name, largest first."""
        out = set()
        for c in sub_configs(self.config):
            for k in ("image_size", "img_size", "input_size", "crop_size", "vision_image_size"):
                v = getattr(c, k, None)
                v = v[0] if isinstance(v, (list, tuple)) and v else v
                if isinstance(v, int) and 32 <= v <= 2048:
                    out.add(v)
        size = getattr(image_processor(self.mt), "size", None)
        size = dataclasses.asdict(size) if dataclasses.is_dataclass(size) and not isinstance(size, type) else size
        for k, v in (size or {}).items() if isinstance(size, dict) else []:
            if k in _SIDES and isinstance(v, int) and 32 <= v <= 2048:
                out.add(v)
        return [(v, v) for v in sorted(out, reverse=True)]

    def _build(self, model, device, shape) -> dict:
        from torch.utils._python_dispatch import _disable_current_modes

        from .hf_rules import extra_inputs

        shape = tuple(shape)
        with _disable_current_modes():  # processors run for real, outside the counter's fake or meta tensors
            out = self._media(shape)
        b = shape[0]
        failed: dict[str, BaseException] = {}
        if self.wants_text:
            seq = shape[1] if self.main == TEXT and len(shape) >= 2 else 32
            out[TEXT] = self._text(model, b, seq, out, failed)
            if "bbox" in self.params:
                out["bbox"] = _boxes(b, out[TEXT].shape[1], getattr(self.config, "dim_bbox", 4) or 4,
                                     floats=self.mt == "bros")
            if "mm_token_type_ids" in self.params:  # 1 marks an image token, 2 a video one, 3 an audio one
                types = torch.zeros_like(out[TEXT])
                for i, kind in enumerate(("image", "video", "audio"), 1):
                    tok = self._placeholder_id(kind)
                    if isinstance(tok, int):
                        types[out[TEXT] == tok] = i
                out["mm_token_type_ids"] = types
        if self.encdec and "decoder_input_ids" in self.params and "decoder_input_ids" not in out:
            dec = shape[1] if self.main == TEXT and len(shape) >= 2 else 16
            mt = find(self.config, "max_target_positions", prefer="decoder")
            if isinstance(mt, int) and mt >= 4:
                dec = min(dec, mt)
            out["decoder_input_ids"] = text_ids(self.config, (b, dec), seed=1, prefer="decoder")
        for name in dict.fromkeys([self.main] + self.required):
            if out.get(name) is None and name in ARGUMENTS:
                out.update(ARGUMENTS[name](self, b, out))
        out.update(extra_inputs(self, model, b, out))  # the model type's own rules (gatesim.models.hf_rules)
        keep = {k: v for k, v in out.items() if v is not None and (k in self.params or k == self.main)}
        if not any(isinstance(v, torch.Tensor) for v in keep.values()):
            raise ValueError(f"{self.cls.__name__}: no input this builder knows in {sorted(self.params)}")
        self._made = (keep, failed)
        return {k: _to(v, device) for k, v in keep.items()}

    def _media(self, shape: tuple) -> dict:
        """Series, images and audio (real CPU tensors)."""
        b = shape[0]
        out: dict[str, Any] = self._series(b) if self.main in ("past_values", "states") else {}
        if self.main == "inputs" and isinstance(getattr(self.config, "vocab_size", None), int):
            out["inputs"] = text_ids(self.config, (b, shape[1] if len(shape) > 1 else 32))  # Perceiver's text
        if self.main == VIDEOS or VIDEOS in self.required:
            out[VIDEOS] = make_clip(self.config, b)
        fit = self._layout or {}
        if self.wants_images or self.patch_tower:
            hw = tuple(shape[-2:]) if self.main == PIXELS and len(shape) == 4 else fit.get("hw")
            imgs = make_images(self.mt, self.config, b, hw)
            if self.main == PIXELS and len(shape) == 4 and imgs["pixel_values"].dim() == 4 and len(imgs) == 1:
                imgs = {"pixel_values": torch.rand(shape, generator=torch.Generator().manual_seed(0))}
            if self.patch_tower:  # a vision tower that takes the processor's patches and grid
                key = "hidden_states" if "hidden_states" in self.params else PIXELS
                out[key] = imgs.pop("pixel_values")
                out["grid_thw"] = imgs.pop("image_grid_thw", None)
            frames = find(self.config, "num_frames", prefer="vision_config")
            pv = imgs.get(PIXELS)
            if isinstance(frames, int) and not self.patch_tower and isinstance(pv, torch.Tensor) and (
                    pv.dim() == 4 or (pv.dim() == 5 and pv.shape[1] != frames)):
                imgs[PIXELS] = make_clip(self.config, b)  # a video model's frames (VideoMAE, ViViT, X-CLIP)
            pv = imgs.get(PIXELS)
            if fit.get("hw") and isinstance(pv, torch.Tensor) and tuple(pv.shape[-2:]) != fit["hw"]:
                imgs[PIXELS] = torch.rand(*pv.shape[:-2], *fit["hw"])  # a processor that keeps its own size
            if fit.get("rank") and isinstance(imgs.get(PIXELS), torch.Tensor):
                pv = imgs[PIXELS]
                imgs[PIXELS] = pv.flatten(0, 1) if pv.dim() == 5 else pv.unsqueeze(1)
            out.update(imgs)
        if self.wants_audio:
            samples = shape[1] if self.main == AUDIO_VALUES and len(shape) == 2 else None
            audio = make_audio(self.mt, self.config, b, samples)
            if "attention_mask" in audio:  # the audio's mask, under the name the model gives it
                name = next((k for k in _AUDIO_MASKS if k in self.params), None)
                if name:
                    audio[name] = audio.pop("attention_mask")
                elif self.wants_text:  # the text's mask is another (the text made below has none: all valid)
                    audio.pop("attention_mask")
            if fit.get("no_audio_mask"):
                audio.pop("attention_mask", None)
            out.update(audio)
            if AUDIO_FEATURES not in out and (self.main == AUDIO_FEATURES or AUDIO_FEATURES in self.required):
                out.update(ARGUMENTS[AUDIO_FEATURES](self, b, out))  # its extractor makes raw samples, not features
                out.pop(AUDIO_VALUES, None)
                out.pop("attention_mask", None)
            if self.main == AUDIO_VALUES and AUDIO_VALUES not in out and AUDIO_FEATURES in out \
                    and AUDIO_FEATURES not in self.params:
                out[AUDIO_VALUES] = out.pop(AUDIO_FEATURES)
        return out

    def _series(self, b: int) -> dict:
        """Time series (``past_values`` with their time features and masks, ``future_values`` for the loss) and
        reinforcement-learning trajectories (states, actions, rewards, returns to go), sized from the
        configuration."""
        c, g = self.config, torch.Generator().manual_seed(0)
        rand = lambda *shape: torch.randn(*shape, generator=g)  # noqa: E731
        if self.main == "states":
            t = int(getattr(c, "max_length", None) or 20)
            return {"states": rand(b, t, c.state_dim), "actions": rand(b, t, c.act_dim), "rewards": rand(b, t, 1),
                    "returns_to_go": rand(b, t, 1), "timesteps": torch.zeros(b, t, dtype=torch.long),
                    "attention_mask": torch.ones(b, t, dtype=torch.long)}
        ctx = int(getattr(c, "context_length", None) or 64)
        chans = getattr(c, "input_size", None) or getattr(c, "num_input_channels", None) or 1
        if "past_time_features" in self.params:  # the encoder-decoder forecasters (lags before the context)
            lags = max(getattr(c, "lags_sequence", None) or [0])
            n, pred, feats = ctx + lags, int(getattr(c, "prediction_length", None) or ctx), c.num_time_features
            vals = (lambda k: rand(b, k)) if chans == 1 else (lambda k: rand(b, k, chans))
            out = {"past_values": vals(n), "past_time_features": rand(b, n, feats),
                   "future_values": vals(pred), "future_time_features": rand(b, pred, feats)}
            out["past_observed_mask"] = torch.ones_like(out["past_values"])
            if getattr(c, "num_static_categorical_features", 0):
                out["static_categorical_features"] = torch.zeros(b, c.num_static_categorical_features, dtype=torch.long)
            if getattr(c, "num_static_real_features", 0):
                out["static_real_features"] = rand(b, c.num_static_real_features)
            return out
        if "freq" in self.params or "past_values_padding" in self.params:  # TimesFM: one series per row
            return {"past_values": rand(b, ctx), "past_values_padding": torch.zeros(b, ctx),
                    "freq": torch.zeros(b, 1, dtype=torch.long)}
        return {"past_values": rand(b, ctx, chans)}  # PatchTST, PatchTSMixer: (batch, time, channels)

    def _text(self, model, batch: int, seq: int, media: dict, failed: dict | None = None) -> torch.Tensor:
        """Token ids: the placeholders of the images, videos and audio made above, then ``seq`` text tokens
        (``failed``: kind -> why its feature method failed, where none counted)."""
        ids = text_ids(self.config, (batch, seq))
        parts = []
        for kind, key, fn in self._media_kinds(media):
            tok = self._placeholder_id(kind)
            owners = [o for o in (model, getattr(model, "model", None)) if hasattr(o, fn)]  # a head, its base model
            if not isinstance(tok, int) or not owners:
                if isinstance(tok, int) and failed is not None:
                    failed[kind] = AttributeError(f"{type(model).__name__} has no {fn}")
                continue
            why: list = []
            n = next((c for c in (self._placeholders(o, fn, media, key, batch, why) for o in owners) if c > 0),
                     0) // batch
            if n <= 0:
                if why and failed is not None:
                    failed[kind] = why[-1]
                continue
            row = [tok] * n
            audio = kind == "audio"
            start = find(self.config, "audio_start_token_id" if audio else "vision_start_token_id",
                         "boa_token_id" if audio else "boi_token_id")
            end = find(self.config, "audio_end_token_id" if audio else "vision_end_token_id",
                       "eoa_token_id" if audio else "eoi_token_id", "eoa_token_index" if audio else "eoi_token_index")
            if isinstance(start, int):
                row = [start] + row
            if isinstance(end, int):
                row = row + [end]
            parts.append(torch.tensor(row, dtype=torch.long).expand(batch, -1))
        return torch.cat(parts + [ids], dim=1) if parts else ids

    def _placeholder_id(self, kind: str):
        """The configuration's placeholder token id for ``kind`` (image, video, audio), or None."""
        return find(self.config, f"{kind}_token_id", f"{kind}_token_index")

    def _media_kinds(self, media: dict) -> list[tuple[str, str, str]]:
        """(kind, media key, feature method) of each medium in ``media``: images (``pixel_values``; a video
        model's clips where the configuration names a video placeholder and no image one), videos, audio."""
        out = []
        if isinstance(media.get(PIXELS), torch.Tensor):
            video = self._placeholder_id("image") is None and self._placeholder_id("video") is not None
            out.append(("video", PIXELS, "get_video_features") if video else ("image", PIXELS, "get_image_features"))
        if isinstance(media.get(VIDEOS), torch.Tensor):
            out.append(("video", VIDEOS, "get_video_features"))
        key = next((k for k in (AUDIO_FEATURES, AUDIO_VALUES) if isinstance(media.get(k), torch.Tensor)), None)
        if key:
            out.append(("audio", key, "get_audio_features"))
        return out

    def _check_placeholders(self, x: dict, failed: dict) -> None:
        """A ValueError where media reach no token: the model takes ``input_ids``, its configuration names a
        placeholder id for a medium given, and the ids hold none of it (the forward would count the tower but
        place its features nowhere: a silently wrong count, as transformers' own check is off while counting).
        Model types whose forward places media by other means are exempt (:data:`NO_PLACEHOLDERS`)."""
        from torch.utils._python_dispatch import _disable_current_modes

        ids = x.get(TEXT)
        ids = getattr(ids, "real_tensor", None) if type(ids).__name__ == "FakeTensor" else ids  # made on fake ones
        if not isinstance(ids, torch.Tensor) or ids.device.type == "meta" or self.mt in NO_PLACEHOLDERS:
            return
        for kind, _, _ in self._media_kinds(x):
            tok = self._placeholder_id(kind)
            with _disable_current_modes():
                missing = isinstance(tok, int) and not bool((ids == tok).any())
            if missing:
                n, e = ids.shape[0], failed.get(kind)  # the builder makes one of each medium a row
                why = f" ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})" if e is not None else ""
                raise ValueError(f"{self.cls.__name__} ({self.mt}): {n} {kind}{'s' if n != 1 else ''} given but "
                                 f"input_ids hold no {kind} placeholder ({kind}_token_id {tok}): its features would "
                                 f"reach no token{why}") from e  # a failure on meta: the counter tries fake, cpu

    def _placeholders(self, model, fn: str, media: dict, key, batch: int = 1, why: list | None = None) -> int:
        """How many feature tokens the model's own ``get_image_features`` / ``get_video_features`` /
        ``get_audio_features`` returns for the media (run on the model's device before counting; shapes only on
        meta and fake tensors); 0 where it fails."""
        method = getattr(model, fn)
        params, required = parameters(type("_", (), {"forward": method}))
        kw = {k: v for k, v in media.items() if k in params or k == key}
        for name in required:  # what no processor makes (a Q-Former's instruction)
            if name not in kw and name in ARGUMENTS:
                kw.update({k: v for k, v in ARGUMENTS[name](self, batch, media).items() if k == name})
        dev = next((p.device for p in model.parameters()), torch.device("cpu"))
        kw = {k: (v.to(dev) if isinstance(v, torch.Tensor) and dev.type == "meta" else v) for k, v in kw.items()}
        try:
            with torch.no_grad():
                return _count_features(method(**kw))
        except Exception as e:
            if why is not None:
                why.append(e)
            return 0


#: model types whose forward places its media without placeholder tokens in ``input_ids``, though the configuration
#: names one (each with where its code shows it)
NO_PLACEHOLDERS: dict[str, str] = {
    "mllama": "the images reach the text through cross-attention layers (cross_attention_states); "
              "modeling_mllama.py never reads image_token_id (the processor only derives cross_attention_mask from it)",
}


# ------------------------------------------------------------------------------------------------
# arguments no processor makes: what a model takes in place of raw media (a vocoder's spectrogram, a codec
# decoder's latents, a tower fed another tower's hidden states), sized from the configuration
# ------------------------------------------------------------------------------------------------
FRAMES = 64  #: time steps of a made-up spectrogram or latent sequence (a multiple of the usual subsampling)


def _rand(*shape) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(3))


def _width(inp, *names, default=None) -> int | None:
    v = find(inp.config, *names)
    return int(v) if isinstance(v, int) and not isinstance(v, bool) and v > 0 else default


def _frames(inp) -> int:
    sub = _width(inp, "subsampling_factor", default=1)
    return -(-FRAMES // sub) * sub


def _features(inp, b: int, made: dict) -> dict:
    """Log-mel-like features, (batch, frames, bins), where the model type's extractor makes raw samples (or none
    is known): the bins are the configuration's."""
    bins = _width(inp, "num_mel_bins", "feature_projection_input_dim", "input_feat_size", "feature_size",
                  "n_mels", "input_dim", default=80)
    return {AUDIO_FEATURES: _rand(b, _frames(inp), bins)}


def _spectrogram(inp, b: int, made: dict) -> dict:
    """A vocoder's mel spectrogram: (batch, frames, bins)."""
    return {"spectrogram": _rand(b, FRAMES, _width(inp, "model_in_dim", "num_mel_bins", default=80))}


def _audio_mel(inp, b: int, made: dict) -> dict:
    """Gemma 3n's audio tower: mel frames (batch, frames, bins) and their padding mask (True = padding)."""
    n = _frames(inp)
    return {"audio_mel": _rand(b, n, _width(inp, "input_feat_size", "num_mel_bins", default=128)),
            "audio_mel_mask": torch.zeros(b, n, dtype=torch.bool)}


def _latents(inp, b: int, made: dict) -> dict:
    """A codec decoder's latents, channels first: (batch, latent width, frames)."""
    return {"latents": _rand(b, _width(inp, "hidden_size", "latent_dim", default=64), FRAMES)}


def _hidden_states(inp, b: int, made: dict) -> dict:
    """What a tower takes in place of its media: a convolutional codec's audio (encoder: channels x samples)
    or latents (decoder: width x frames), channels first; an audio tower's mel frames (``input_size`` wide,
    with a ``mask`` of the valid ones); else another tower's hidden states (batch, tokens, hidden size)."""
    chans = getattr(inp.config, "channels", None)
    if isinstance(chans, int) and not isinstance(chans, bool):
        if "Decoder" in inp.cls.__name__:
            return {"hidden_states": _rand(b, _width(inp, "hidden_size", default=64), FRAMES)}
        return {"hidden_states": _rand(b, chans, int(find(inp.config, "sampling_rate", default=16000)))}
    feats = getattr(inp.config, "input_size", None)
    if isinstance(feats, int) and "mask" in inp.params:
        n = _frames(inp)
        return {"hidden_states": _rand(b, n, feats), "mask": torch.ones(b, n, dtype=torch.bool)}
    return {"hidden_states": _rand(b, 32, _width(inp, "hidden_size", "d_model", "embed_dim", default=64))}


def _inputs_embeds(inp, b: int, made: dict) -> dict:
    """A model fed embeddings, not token ids (a draft model, a head on another model's states): (batch, tokens of
    the default shape, hidden size)."""
    shape = inp.default_shape()
    seq = shape[1] if len(shape) > 1 else 32
    return {"inputs_embeds": _rand(b, seq, _width(inp, "hidden_size", "d_model", "embed_dim", default=64))}


def _qformer_ids(inp, b: int, made: dict) -> dict:
    """InstructBLIP's Q-Former instruction: token ids of the Q-Former's vocabulary."""
    return {"qformer_input_ids": text_ids(inp.config, (b, 16), seed=4, prefer="qformer_config")}


def _query_embeds(inp, b: int, made: dict) -> dict:
    """A Q-Former's learned queries: (batch, queries, hidden size)."""
    n = _width(inp, "num_query_tokens", default=32)
    return {"query_embeds": _rand(b, n, _width(inp, "hidden_size", default=64))}


def _prompt(inp, b: int, made: dict) -> dict:
    """SegGPT's in-context prompt: an image and its mask, shaped like the input image."""
    pv = made.get(PIXELS)
    if not isinstance(pv, torch.Tensor):
        return {}
    return {"prompt_pixel_values": _rand(*pv.shape), "prompt_masks": _rand(*pv.shape)}


#: argument name -> builder(HFInputs, batch, inputs made so far) of the tensors that go with it, for a forward
#: that requires it
ARGUMENTS = {AUDIO_FEATURES: _features, "spectrogram": _spectrogram, "audio_mel": _audio_mel, "latents": _latents,
             "hidden_states": _hidden_states, "qformer_input_ids": _qformer_ids, "query_embeds": _query_embeds,
             "prompt_pixel_values": _prompt, "prompt_masks": _prompt, "inputs_embeds": _inputs_embeds}


def _to(v, device):
    """``v`` on ``device``: a tensor, or the tensors of a dataclass bundling them (ESMFold2's atom inputs)."""
    if isinstance(v, torch.Tensor):
        return v.to(device)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return dataclasses.replace(v, **{f.name: getattr(v, f.name).to(device) for f in dataclasses.fields(v)
                                         if f.init and isinstance(getattr(v, f.name), torch.Tensor)})
    return v


def _meta_only(err: str) -> bool:
    """An error only meta tensors cause (a value asked of them)."""
    return any(w in err for w in ("meta tensor", ".item()", "data-dependent", "_local_scalar", "nonzero"))


def _runs(model, x: dict) -> str | None:
    """None if ``model(**x)`` runs (no gradients), else its error's first line."""
    try:
        with torch.no_grad():
            model(**x)
        return None
    except Exception as e:
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def _boxes(batch: int, seq: int, dim: int = 4, floats: bool = False) -> torch.Tensor:
    """Valid layout boxes (x0 <= x1, y0 <= y1) on a 0..1000 grid (0..1 floats where ``floats``)."""
    g = torch.Generator().manual_seed(2)
    lo = torch.randint(0, 500, (batch, seq, 2), generator=g)
    hi = lo + torch.randint(1, 500, (batch, seq, 2), generator=g)
    box = torch.cat([lo, hi], dim=-1)
    if dim == 8:
        box = torch.cat([box[..., [0, 1]], box[..., [2, 1]], box[..., [2, 3]], box[..., [0, 3]]], dim=-1)
    return box.float() / 1000 if floats else box
