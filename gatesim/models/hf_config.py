"""Reading a transformers configuration: nested sub-configurations, attributes by name, special token ids, random
token ids of the text vocabulary, and a forward's parameters (used by :mod:`gatesim.models.hf_inputs`)."""
from __future__ import annotations

import inspect

import torch

#: configuration attributes that hold a token id the text must not contain by accident
_SPECIAL = ("_token_id", "_token_index", "_token_ids")
#: the main inputs a shape describes, and what else a signature may require that we can build
TEXT, PIXELS, AUDIO_VALUES, AUDIO_FEATURES = "input_ids", "pixel_values", "input_values", "input_features"
VIDEOS = "pixel_values_videos"


def sub_configs(config) -> list:
    """The configuration and its nested ones (text, vision, audio, encoder, decoder...), outermost first."""
    out, todo = [], [config]
    while todo:
        c = todo.pop(0)
        if c is None or any(c is o for o in out):
            continue
        out.append(c)
        for k, v in vars(c).items():
            if k.endswith("_config") or k in ("encoder", "decoder", "question_encoder", "generator"):
                if hasattr(v, "to_dict"):
                    todo.append(v)
    return out


def find(config, *names, prefer: str = "", default=None):
    """The first attribute of ``names`` set in the configuration or a nested one (``prefer``: a nested
    configuration key such as ``"vision_config"`` searched first)."""
    cfgs = sub_configs(config)
    first = getattr(config, prefer, None) if prefer else None
    if first is not None:
        cfgs = [first] + [c for c in cfgs if c is not first]
    for c in cfgs:
        for n in names:
            v = getattr(c, n, None)
            if v is not None:
                return v
    return default


def special_ids(config) -> set[int]:
    ids: set[int] = set()
    for c in sub_configs(config):
        for k, v in vars(c).items():
            if k.endswith(_SPECIAL):
                for x in (v if isinstance(v, (list, tuple)) else [v]):
                    if isinstance(x, int) and not isinstance(x, bool):
                        ids.add(x)
    return ids


def vocab_size(config, prefer: str = "text_config") -> int:
    v = find(config, "vocab_size", prefer=prefer)
    return int(v) if isinstance(v, int) and v > 1 else 2


def text_ids(config, shape, seed: int = 0, prefer: str = "text_config") -> torch.Tensor:
    """Random token ids of ``shape`` from the vocabulary, avoiding every special token of the configuration."""
    vocab = vocab_size(config, prefer)
    avoid = special_ids(config)
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, tuple(shape), generator=g)
    if avoid:
        ok = [i for i in range(min(vocab, 4096)) if i not in avoid] or [0]
        bad = torch.isin(ids, torch.tensor(sorted(avoid)))
        ids[bad] = torch.tensor(ok)[torch.randint(0, len(ok), (int(bad.sum()),), generator=g)]
    return ids


def parameters(model_or_cls) -> tuple[dict, list[str]]:
    """(``forward``'s parameters by name, the names it requires)."""
    try:
        params = dict(inspect.signature(model_or_cls.forward).parameters)
    except (TypeError, ValueError):
        return {}, []
    params.pop("self", None)
    required = [n for n, p in params.items() if p.default is inspect.Parameter.empty
                and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    return params, required
