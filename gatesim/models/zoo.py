"""Models from the zoos people use, by one spec: ``hf:NAME``, ``torchvision:NAME``, ``timm:NAME``.

* ``hf:llama`` (a model type: the library's default configuration), ``hf:path/to/config.json`` (or a folder
  holding one), ``hf:org/name`` (its configuration from the Hugging Face cache, or downloaded unless
  ``config_only``). Never weights: the model is built from the configuration (on meta tensors it costs
  nothing). The class is the configuration's ``architectures[0]`` or the first task head that exists for the
  model type (causal LM, masked LM, seq2seq LM, image / audio classification, CTC, speech seq2seq, base model).
* ``torchvision:resnet50`` (``torchvision.models.get_model(name, weights=None)``; detection models get
  synthetic targets and return the sum of their losses when training).
* ``timm:convnext_tiny`` (``timm.create_model(name, pretrained=False)``).

Each needs its package (the optional ``zoo`` extra: transformers, timm, torchvision); a missing or broken one
is a clear :class:`ZooError`. :func:`load_zoo_model` returns a :class:`ZooModel`: a factory, an input builder
for a shape and the default shape.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from .report import CountingError

ZOOS = ("hf", "torchvision", "timm")
_PACKAGES = {"hf": "transformers", "torchvision": "torchvision", "timm": "timm"}


class ZooError(CountingError):
    """A zoo spec cannot be resolved: unknown name, missing package, unreachable configuration."""


@dataclass
class ZooModel:
    """A zoo model: ``factory()`` builds it (on the current default device), ``make_inputs(model, device,
    shape)`` builds its inputs (a tuple of tensors or a dict of keyword tensors) for a main-input ``shape``."""

    spec: str
    factory: Callable[[], nn.Module]
    make_inputs: Callable[[nn.Module, str, tuple], Any]
    default_shape: tuple
    task: str = ""
    notes: list = field(default_factory=list)

    def inputs(self, shape: tuple | None = None):
        """An ``inputs`` argument for :func:`gatesim.models.count`: ``f(model, device)``."""
        shape = tuple(shape) if shape else self.default_shape
        return lambda model, device: self.make_inputs(model, device, shape)


def is_zoo_spec(spec: str) -> bool:
    return isinstance(spec, str) and spec.split(":", 1)[0] in ZOOS and ":" in spec


def zoo_status(zoo: str) -> tuple[bool, str]:
    """(usable, why not) for a zoo: its package imports here (torchvision beside a torch it was not built for
    fails to import its operators)."""
    pkg = _PACKAGES[zoo]
    try:
        __import__(pkg)
        if zoo == "timm":
            import torchvision  # noqa: F401  (timm needs it)
    except Exception as e:  # ImportError, or RuntimeError "operator torchvision::nms does not exist"
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        hint = "pip install 'gatesim[zoo]'" if zoo == "hf" else \
            "install the torchvision (and timm) built for the installed torch, e.g. torch==2.14.1 torchvision==0.29.1"
        return False, f"{pkg} is not usable here ({type(e).__name__}: {msg}); {hint}"
    return True, ""


def load_zoo_model(spec: str, *, config_only: bool = False, layers: int | None = None) -> ZooModel:
    """Resolve ``hf:...``, ``torchvision:...`` or ``timm:...``; ``layers`` shrinks a transformers model to that
    many layers (the coverage script's two-layer models)."""
    zoo, _, name = spec.partition(":")
    if zoo not in ZOOS or not name:
        raise ZooError(f"a zoo spec is hf:NAME, torchvision:NAME or timm:NAME; got {spec!r}")
    ok, why = zoo_status(zoo)
    if not ok:
        raise ZooError(f"{spec}: {why}")
    if zoo == "hf":
        return _hf(spec, name, config_only, layers)
    if zoo == "torchvision":
        return _torchvision(spec, name)
    return _timm(spec, name)


# ------------------------------------------------------------------------------------------------
# Hugging Face transformers
# ------------------------------------------------------------------------------------------------
#: task heads tried in order when a configuration names no architecture
HF_TASKS = ("CAUSAL_LM", "MASKED_LM", "SEQ_TO_SEQ_CAUSAL_LM", "IMAGE_CLASSIFICATION", "AUDIO_CLASSIFICATION", "CTC",
            "SPEECH_SEQ_2_SEQ", "IMAGE_TEXT_TO_TEXT", "MULTIMODAL_LM", "")
_LAYER_KEYS = ("num_hidden_layers", "num_layers", "n_layer", "n_layers", "encoder_layers", "decoder_layers",
               "num_decoder_layers", "num_encoder_layers", "decoder_num_layers",
               "folding_trunk_num_hidden_layers")


def hf_config(name: str, config_only: bool = False):
    """A transformers configuration from a model type, a config.json (or its folder) or a hub name."""
    from transformers import AutoConfig
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    path = Path(name)
    if path.is_dir() and (path / "config.json").is_file():
        path = path / "config.json"
    if path.suffix == ".json" or path.is_file():
        if not path.is_file():
            raise ZooError(f"hf:{name}: no such file")
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise ZooError(f"hf:{name}: cannot read the configuration: {e}") from None
        mt = data.get("model_type") if isinstance(data, dict) else None
        if mt not in CONFIG_MAPPING:
            raise ZooError(f"hf:{name}: model_type {mt!r} is not one this transformers knows")
        return CONFIG_MAPPING[mt].from_dict(data)
    if name in CONFIG_MAPPING:
        return CONFIG_MAPPING[name]()
    try:
        return AutoConfig.from_pretrained(name, local_files_only=config_only)
    except Exception as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        how = "not in the local Hugging Face cache" if config_only else "cannot be fetched (offline?)"
        raise ZooError(f"hf:{name}: its configuration is {how}: {msg}. Give a model type (hf:llama, the library's "
                       f"defaults) or a config.json on disk (hf:path/to/config.json)") from None


def hf_model_class(config):
    """The class to build: the configuration's ``architectures[0]``, else the first task head of
    :data:`HF_TASKS` the model type has, else any other auto mapping's class for it, else the class named
    after the configuration's (``AlignTextConfig`` -> ``AlignTextModel``: sub-model types no auto mapping lists)."""
    import transformers
    from transformers.models.auto import modeling_auto

    for arch in getattr(config, "architectures", None) or []:
        cls = getattr(transformers, arch, None)
        if cls is not None:
            return cls
    mt = config.model_type
    tasks = list(HF_TASKS)
    if getattr(config, "is_encoder_decoder", False):  # the whole model, not its decoder as a causal LM
        tasks = ["SEQ_TO_SEQ_CAUSAL_LM", "SPEECH_SEQ_2_SEQ"] + tasks
    elif sum(getattr(config, k, None) is not None for k in ("text_config", "vision_config", "audio_config")) >= 2:
        tasks = ["IMAGE_TEXT_TO_TEXT", "MULTIMODAL_LM", "CAUSAL_LM", ""] + tasks  # both towers, not one
    first = [f"MODEL_FOR_{t}_MAPPING_NAMES" if t else "MODEL_MAPPING_NAMES" for t in dict.fromkeys(tasks)]
    rest = sorted(n for n in dir(modeling_auto) if n.startswith("MODEL_FOR_") and n.endswith("_MAPPING_NAMES")
                  and n not in first)
    names = []
    for mapping in first + rest:
        cls_name = getattr(modeling_auto, mapping, {}).get(mt)
        names += list(cls_name) if isinstance(cls_name, (list, tuple)) else [cls_name]
    stem = type(config).__name__.removesuffix("Config")
    names += [stem + "Model", stem + "ForCausalLM", stem]
    for cls_name in names:
        cls = getattr(transformers, cls_name, None) if cls_name else None
        if isinstance(cls, type) and hasattr(cls, "_from_config") and \
                getattr(cls.forward, "__name__", "") != "_forward_unimplemented":  # a tokenizer / VQ wrapper
            return cls
    raise ZooError(f"hf: no model class for model type {mt!r}")


def _shrink(config, layers: int) -> None:
    """Cut every layer count above ``layers`` down to it, with the per-layer lists that go with it
    (``layer_types``...): hierarchical models (ConvNeXt, Swin: their "layers" are stages) keep theirs."""
    from .hf_inputs import sub_configs

    for cfg in sub_configs(config):
        if isinstance(getattr(cfg, "depths", None), (list, tuple)):
            continue
        for key in _LAYER_KEYS:
            v = getattr(cfg, key, None)
            if isinstance(v, int) and not isinstance(v, bool) and v > layers:
                if _shrink_backbone(cfg, v, layers):
                    continue
                try:
                    setattr(cfg, key, layers)
                except NotImplementedError:  # a derived count (Funnel's blocks, ProphetNet's stacks): kept whole
                    continue
                for k, lst in list(vars(cfg).items()):
                    if isinstance(lst, (list, tuple)) and len(lst) == v and ("layer" in k or "type" in k):
                        setattr(cfg, k, type(lst)(lst[:layers]))


def _shrink_backbone(cfg, depth: int, layers: int) -> bool:
    """A backbone whose layers are its stages (DINOv2 in Depth Anything, ViTPose): as many layers as the
    stages it outputs (at least ``layers``), the outputs moved to the last ones; False if ``cfg`` is no such
    backbone."""
    names, outs = getattr(cfg, "stage_names", None), getattr(cfg, "out_indices", None)
    if not isinstance(names, (list, tuple)) or len(names) != depth + 1 or not outs:
        return False
    keep = max(layers, len(outs))
    cfg.num_hidden_layers = keep
    cfg.stage_names = ["stem"] + [f"stage{i}" for i in range(1, keep + 1)]
    cfg.out_indices = list(range(keep - len(outs) + 1, keep + 1))  # the setter aligns out_features
    return True


_SECTIONS = re.compile(r'rope_parameters\.get\(\s*"mrope_section"\s*,\s*\[([\d,\s]+)\]')


def fit_rotary_sections(cfg) -> list | None:
    """Make multimodal rotary sections fit the rotary dimension (GLM-4V's text towers: the modeling code's
    default ``mrope_section`` [8, 12, 12] covers 2 x 32 = 64 of the head's 128 dimensions, as the published
    checkpoints' ``partial_rotary_factor`` 0.5 does, but the default configuration rotates all 128). The
    rotary share (``partial_rotary_factor``) is set so the sections cover it; where no share up to 1 does, the
    sections are scaled to the rotary dimension. Returns the sections used, None if ``cfg`` needs nothing."""
    import importlib.util

    rp = getattr(cfg, "rope_parameters", None)
    if not isinstance(rp, dict) or "mrope_section" in rp:
        return None
    spec = importlib.util.find_spec(type(cfg).__module__.replace(".configuration_", ".modeling_"))
    try:
        m = _SECTIONS.search(Path(spec.origin).read_text()) if spec and spec.origin else None
    except OSError:
        m = None
    if not m:
        return None
    sections = [int(x) for x in m.group(1).split(",") if x.strip()]
    heads = getattr(cfg, "num_attention_heads", None)
    head = getattr(cfg, "head_dim", None) or (cfg.hidden_size // heads if heads else None)
    if not isinstance(head, int) or not sections:
        return None
    share = rp.get("partial_rotary_factor", getattr(cfg, "partial_rotary_factor", None) or 1.0)
    entries = (int(head * share) + 1) // 2  # the rotary frequencies: arange(0, dim, 2)
    if sum(sections) == entries:
        return None
    if 2 * sum(sections) <= head:
        rp["partial_rotary_factor"] = 2 * sum(sections) / head
        return sections
    total = sum(sections)
    sections = [s * entries // total for s in sections]
    sections[-1] += entries - sum(sections)
    rp["mrope_section"] = sections
    return sections


_PLACEHOLDERS = ("image_token_id", "image_token_index", "audio_token_id", "audio_token_index", "video_token_id",
                 "video_token_index")


def set_placeholder_ids(config) -> dict:
    """Give a multimodal configuration the placeholder token ids its defaults leave None (BLIP-2, InstructBLIP,
    Voxtral, Qwen2-Audio: the published checkpoints add them to the vocabulary; without one the forward cannot
    find where the images or audio go): the last ids of the text vocabulary that are no other special token.
    Returns {attribute: id set}."""
    from .hf_inputs import special_ids, vocab_size

    if not any(getattr(config, k, None) is not None for k in ("vision_config", "audio_config", "qformer_config")):
        return {}
    taken, vocab, done = special_ids(config), vocab_size(config), {}
    free = (i for i in range(vocab - 1, 0, -1) if i not in taken)
    for key in _PLACEHOLDERS:
        kind = key.split("_")[0]
        if key not in vars(config) and not hasattr(type(config), key):
            continue
        if getattr(config, key, 0) is not None or (kind != "image" and getattr(config, f"{kind}_config", None) is None
                                                   and kind != "video"):
            continue
        if kind == "video" and getattr(config, "video_config", None) is None and "video" not in config.model_type:
            continue
        try:
            setattr(config, key, next(free))
        except (AttributeError, StopIteration):
            continue
        done[key] = getattr(config, key)
    return done


class _NoChecks:
    """Forward hooks that switch transformers' runtime checks off during a forward (``torch_compilable_check``:
    they only validate, and on meta tensors they would ask for values; TRANSFORMERS_DISABLE_TORCH_CHECK)."""

    def __init__(self):
        self.saved: list = []

    def pre(self, module, args):
        import os

        self.saved.append(os.environ.get("TRANSFORMERS_DISABLE_TORCH_CHECK"))
        os.environ["TRANSFORMERS_DISABLE_TORCH_CHECK"] = "1"

    def post(self, module, args, out):
        import os

        old = self.saved.pop() if self.saved else None
        if old is None:
            os.environ.pop("TRANSFORMERS_DISABLE_TORCH_CHECK", None)
        else:
            os.environ["TRANSFORMERS_DISABLE_TORCH_CHECK"] = old


def _hf(spec: str, name: str, config_only: bool, layers: int | None) -> ZooModel:
    from .hf_inputs import HFInputs, sub_configs
    from .hf_rules import repair_config

    config = hf_config(name, config_only)
    if layers:
        _shrink(config, layers)
    for cfg in sub_configs(config):  # a training step keeps no cache (nor do the text models inside a multimodal one)
        if hasattr(cfg, "use_cache"):
            cfg.use_cache = False
        fit_rotary_sections(cfg)
    set_placeholder_ids(config)
    repaired = repair_config(config)
    cls = hf_model_class(config)
    inputs = HFInputs(config, cls, getattr(config, "model_type", name))

    def factory():
        try:
            model = cls._from_config(config)
        except Exception as e:
            raise ZooError(f"{spec}: building {cls.__name__} from its configuration failed: {type(e).__name__}: "
                           f"{str(e).splitlines()[0] if str(e) else ''}") from e
        hooks = _NoChecks()
        model.register_forward_pre_hook(hooks.pre)
        model.register_forward_hook(hooks.post, always_call=True)
        return model

    inputs.factory = factory  # the layout probe's meta copy where the step runs on fake or real tensors
    notes = [f"configuration repaired by gatesim.models.hf_rules: {', '.join(dict.fromkeys(repaired))}"] \
        if repaired else []
    return ZooModel(spec, factory, inputs, inputs.default_shape(), task=cls.__name__, notes=notes)


# ------------------------------------------------------------------------------------------------
# torchvision and timm
# ------------------------------------------------------------------------------------------------
class DetectionStep(nn.Module):
    """A torchvision detection model with synthetic targets (one box per image): training returns the sum of
    its losses, evaluation its detections."""

    def __init__(self, model: nn.Module, keypoints: int = 0, masks: bool = False):
        super().__init__()
        self.model = model
        self.keypoints = keypoints
        self.masks = masks

    def forward(self, images):
        imgs = list(images)
        if not self.training:
            return self.model(imgs)
        targets = []
        for img in imgs:
            h, w = img.shape[-2:]
            t = {"boxes": torch.tensor([[w * 0.1, h * 0.1, w * 0.6, h * 0.7]], device=img.device),
                 "labels": torch.ones(1, dtype=torch.long, device=img.device)}
            if self.masks:
                t["masks"] = torch.zeros(1, h, w, dtype=torch.uint8, device=img.device)
            if self.keypoints:
                kp = torch.zeros(1, self.keypoints, 3, device=img.device)
                kp[..., 0], kp[..., 1], kp[..., 2] = w * 0.3, h * 0.3, 1
                t["keypoints"] = kp
            targets.append(t)
        losses = self.model(imgs, targets)
        return sum(losses.values())


def _torchvision(spec: str, name: str) -> ZooModel:
    import torchvision

    models = torchvision.models
    if name not in models.list_models():
        raise ZooError(f"{spec}: torchvision has no model {name!r}")
    kind = "classification"
    for sub in ("detection", "segmentation", "video", "optical_flow", "quantization"):
        if name in models.list_models(module=getattr(models, sub)):
            kind = sub
    if kind in ("optical_flow", "quantization"):
        raise ZooError(f"{spec}: torchvision {kind} models are not supported (two-image inputs / prequantized)")

    def factory():
        kw = {"weights": None}
        if kind == "detection":
            kw["weights_backbone"] = None
            m = models.get_model(name, **kw)
            return DetectionStep(m, keypoints=17 if "keypoint" in name else 0, masks="mask" in name)
        if kind == "segmentation":
            kw["weights_backbone"] = None
            kw["aux_loss"] = False
        return models.get_model(name, **kw)

    # batch 2: batch norm on a pooled 1x1 map (segmentation heads) needs more than one value per channel
    if kind == "video":
        shape = (2, 3, *_video_clip(models, name))
    elif name.startswith("inception"):
        shape = (2, 3, 299, 299)
    else:
        shape = (2, 3, 224, 224)

    def make_inputs(model, device, shp):
        return (torch.rand(shp, generator=torch.Generator().manual_seed(0)).to(device),)

    return ZooModel(spec, factory, make_inputs, shape, task=kind)


def _video_clip(models, name: str) -> tuple:
    """(frames, height, width) a torchvision video architecture takes: its weights' crop size and at least its
    minimum number of frames (MViT's position encoding is sized for 16 x 224 x 224; S3D pools 7 x 7 at the end),
    16 x 112 x 112 when its weights say nothing."""
    try:
        w = list(models.get_model_weights(name))[0]
        crop = (getattr(w.transforms, "keywords", None) or {}).get("crop_size", (112, 112))
        crop = (crop, crop) if isinstance(crop, int) else tuple(crop)
        return (max(16, int(w.meta.get("min_temporal_size", 1))), *crop)
    except Exception:
        return 16, 112, 112


def _timm(spec: str, name: str) -> ZooModel:
    import timm

    if name not in timm.list_models():
        raise ZooError(f"{spec}: timm has no model {name!r}")

    def factory():
        return timm.create_model(name, pretrained=False)

    cfg = timm.get_pretrained_cfg(name)
    size = tuple(getattr(cfg, "input_size", None) or (3, 224, 224)) if cfg is not None else (3, 224, 224)

    def make_inputs(model, device, shp):
        return (torch.randn(shp, generator=torch.Generator().manual_seed(0)).to(device),)

    return ZooModel(spec, factory, make_inputs, (2, *size), task="timm")
