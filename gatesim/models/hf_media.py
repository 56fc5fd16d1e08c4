"""Media the way a transformers model type's own preprocessing makes them: its image processor and feature
extractor (found by model type, sized to the configuration), images, video clips and audio (real CPU tensors;
used by :mod:`gatesim.models.hf_inputs`)."""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from .hf_config import find


def _family(model_type: str) -> list[str]:
    """The model type and the parents a sub-model type shares a processor with (``glm4v_vision`` ->
    ``glm4v``)."""
    out = [model_type]
    stem = model_type
    changed = True
    while changed:
        changed = False
        for suffix in ("_model", "_vision", "_encoder", "_text", "_audio", "_ctc", "_tokenizer", "_decoder", "_moe",
                       "_thinker"):
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
                out.append(stem)
                changed = True
    return out


def image_processor(model_type: str):
    """A default instance of the model type's image processor (PIL or torchvision backend), or None."""
    from transformers.models.auto import image_processing_auto as ipa

    for mt in _family(model_type):
        names = ipa.IMAGE_PROCESSOR_MAPPING_NAMES.get(mt)
        if not names:
            continue
        if isinstance(names, dict):
            names = [names.get("pil"), names.get("torchvision"), *names.values()]
        elif isinstance(names, str):
            names = [names]
        for name in [n for n in names if n]:
            try:
                cls = ipa.get_image_processor_class_from_name(name)
                if cls is not None:
                    return cls()
            except Exception:
                continue
    return None


def feature_extractor(model_type: str, config=None):
    """A default instance of the model type's feature extractor, with the configuration's number of features
    (mel bins) where it names one, or None; ImportError when it exists but needs a package not installed."""
    from transformers.models.auto import feature_extraction_auto as fea

    bins = find(config, "num_mel_bins", "feature_size", "input_feat_per_channel", "n_mels", "num_mel_filters",
                prefer="audio_config") if config is not None else None
    missing = None
    for mt in _family(model_type):
        name = fea.FEATURE_EXTRACTOR_MAPPING_NAMES.get(mt)
        if not name:
            continue
        try:
            cls = fea.feature_extractor_class_from_name(name)
        except Exception:
            continue
        if cls is None:
            continue
        for kw in ([{"feature_size": bins}] if isinstance(bins, int) else []) + [{}]:
            try:
                fe = cls(**kw)
            except ImportError as e:  # a placeholder for an extractor whose backend (torchaudio) is missing
                missing = e
                continue
            except Exception:
                continue
            if not kw or getattr(fe, "feature_size", None) == bins:
                return fe
    if missing is not None:  # not raw samples in place of the features the model takes
        raise ImportError(" ".join(str(missing).split()))
    return None


def image_size(config) -> tuple[int, int, int]:
    """(channels, height, width) of the configuration's images (224 x 224 RGB when it names none)."""
    size = find(config, "image_size", "img_size", "input_size", prefer="vision_config", default=224)
    if isinstance(size, dict):
        size = size.get("height") or size.get("shortest_edge") or 224
    if isinstance(size, (list, tuple)):
        h, w = (int(size[0]), int(size[-1])) if len(size) >= 2 else (int(size[0]), int(size[0]))
    else:
        h = w = int(size)
    chans = find(config, "num_channels", "in_channels", "in_chans", prefer="vision_config", default=3)
    return int(chans) if isinstance(chans, int) else 3, h, w


def _patches_like(proc, config) -> None:
    """Make a patch processor's patches the vision tower's (Qwen3-VL's towers take 16-pixel patches; the
    Qwen2-VL processor they share defaults to 14)."""
    for attr, keys in (("patch_size", ("patch_size",)), ("merge_size", ("spatial_merge_size", "merge_size")),
                       ("temporal_patch_size", ("temporal_patch_size",))):
        v = find(config, *keys, prefer="vision_config")
        if isinstance(getattr(proc, attr, None), int) and isinstance(v, int) and v > 0:
            setattr(proc, attr, v)


_SIDES = ("height", "width", "shortest_edge", "longest_edge")


def _size_like(proc, side: int) -> None:
    """Make a processor's images the configuration's size (its defaults are its checkpoint's) and one tile."""
    for attr in ("size", "crop_size", "max_image_size"):  # max_image_size: Idefics3's tiles
        size = getattr(proc, attr, None)
        if isinstance(size, dict):
            setattr(proc, attr, {k: (side if k in _SIDES else v) for k, v in size.items()})
        elif dataclasses.is_dataclass(size) and not isinstance(size, type):  # transformers' SizeDict
            sides = {k: getattr(size, k, None) for k in _SIDES if getattr(size, k, None) is not None}
            if all(64 <= v <= 4096 for v in sides.values()):  # not pixel counts (Qwen2-VL) nor a patch (Inkling)
                setattr(proc, attr, dataclasses.replace(size, **{k: side for k in sides}))
    for flag in ("do_image_splitting", "do_pan_and_scan", "do_split_image"):
        if getattr(proc, flag, None):
            setattr(proc, flag, False)


def make_clip(config, batch: int) -> torch.Tensor:
    """``batch`` random video clips (batch, frames, channels, height, width) of the configuration's frame
    count (``num_frames``, ``frames_per_clip``; 8 when it names none) and image size."""
    c, h, w = image_size(config)
    t = find(config, "num_frames", "frames_per_clip", prefer="vision_config", default=8)
    t = int(t) if isinstance(t, int) and t > 0 else 8
    return torch.rand(batch, t, c, h, w, generator=torch.Generator().manual_seed(0))


def make_images(model_type: str, config, batch: int, hw: tuple[int, int] | None = None) -> dict[str, Any]:
    """Image inputs for ``batch`` random images: what the model type's image processor makes, or plain NCHW
    ``pixel_values`` of the configuration's size (also when the processor makes plain NCHW images of another
    size: the configuration decides the model's position embeddings)."""
    c, h, w = image_size(config)
    if hw:
        h, w = hw
    g = np.random.RandomState(0)
    proc = image_processor(model_type)
    if proc is not None:
        _size_like(proc, h)
    if proc is not None:
        _patches_like(proc, config)
    if proc is not None and c == 3:
        try:
            img = g.randint(0, 256, (h, w, 3), dtype=np.uint8)
            out = dict(proc(images=[img] * batch, return_tensors="pt"))
            pv = out.get("pixel_values")
            if isinstance(pv, torch.Tensor) and not (pv.dim() == 4 and tuple(pv.shape[-2:]) != (h, w)
                                                     and len(out) == 1):
                return out
        except Exception:
            pass
    return {"pixel_values": torch.from_numpy(g.rand(batch, c, h, w).astype(np.float32))}


def make_audio(model_type: str, config, batch: int, samples: int | None = None) -> dict[str, Any]:
    """Audio inputs for ``batch`` clips of noise (one second unless ``samples``): what the model type's feature
    extractor makes, or raw ``input_values`` when it has none."""
    fe = feature_extractor(model_type, config)
    rate = int(getattr(fe, "sampling_rate", None) or find(config, "sampling_rate", default=16000) or 16000)
    n = samples or rate
    wave = np.random.RandomState(0).randn(n).astype(np.float32) * 0.1
    if fe is not None:
        for kw in ({"sampling_rate": rate, "return_attention_mask": True}, {"sampling_rate": rate}, {}):
            try:
                out = fe([wave] * batch, return_tensors="pt", **kw)
                return dict(out)
            except Exception:
                continue
    return {"input_values": torch.from_numpy(np.stack([wave] * batch))}
