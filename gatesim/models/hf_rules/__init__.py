"""Per-model rules for the long tail of transformers model types.

The generic builder (:mod:`gatesim.models.hf_inputs`) makes a model's inputs from its configuration,
processors and forward signature, and that is enough for most model types. Some need one more fact the
library does not state anywhere a program can read: a default configuration whose parts disagree (a top-k
size left None, convolution channels that do not chain), an image tiling only the processor's checkpoint
knows, an argument no processor makes (a video tracker's inference session, a detector's text prompt). Those
facts live here, one small rule per model type, in the manner of transformers' own
``ModelTester.prepare_config_and_inputs``:

* :data:`CONFIG` — ``rule(config) -> None``: repair a configuration in place before the model is built. A rule
  only fills what is missing or inconsistent (a value None, a size that cannot work), so a real checkpoint's
  configuration passes through unchanged.
* :data:`INPUTS` — ``rule(inp, model, batch, made) -> dict``: arguments to add to (or replace in) what the
  generic builder made (``inp`` is the :class:`~gatesim.models.hf_inputs.HFInputs`, ``made`` the inputs so
  far, real CPU tensors); only the names the forward takes are kept.

Rules are registered by model type with :func:`config_rule` and :func:`input_rule`; the modules below group
them by what they repair. Each rule has a test that counts the model type it names.
"""
from __future__ import annotations

from typing import Callable

#: model type -> rules repairing its configuration (in registration order)
CONFIG: dict[str, list[Callable]] = {}
#: model type -> rules adding to its inputs (in registration order)
INPUTS: dict[str, list[Callable]] = {}


def config_rule(*model_types: str):
    """Register ``rule(config)`` as a configuration repair for each model type named."""
    def register(fn):
        for mt in model_types:
            CONFIG.setdefault(mt, []).append(fn)
        return fn
    return register


def input_rule(*model_types: str):
    """Register ``rule(inp, model, batch, made) -> dict`` as an input rule for each model type named."""
    def register(fn):
        for mt in model_types:
            INPUTS.setdefault(mt, []).append(fn)
        return fn
    return register


def layer_count(cfg) -> int | None:
    """A (sub-)configuration's ``num_hidden_layers``, None where it has none."""
    d = getattr(cfg, "num_hidden_layers", None)
    return d if isinstance(d, int) and not isinstance(d, bool) and d > 0 else None


def fit_layers(layers, lo: int, hi: int):
    """``layers`` (an index into a tower's hidden states, or a list of them) with each moved into
    ``lo..hi``, the indices the shrunk tower has; the count is kept (the projector's width is the number of
    layers read times the tower's width)."""
    if isinstance(layers, int) and not isinstance(layers, bool):
        return max(lo, min(hi, layers))
    if isinstance(layers, (list, tuple)) and all(isinstance(i, int) for i in layers):
        return type(layers)(max(lo, min(hi, i)) for i in layers)
    return layers


def repair_config(config) -> list[str]:
    """Apply to ``config`` and to each of its sub-configurations the rules of its model type (a rule for
    ``llama4_vision_model`` also repairs the vision part of a ``llama4`` configuration); returns the names of
    the rules that changed something (a consistent configuration, a real checkpoint's, gives [])."""
    from ..hf_config import sub_configs

    done = []
    for cfg in sub_configs(config):
        for fn in CONFIG.get(getattr(cfg, "model_type", None) or "", []):
            before = repr(config.to_dict())
            fn(cfg)
            if repr(config.to_dict()) != before:
                done.append(fn.__name__)
    return done


def extra_inputs(inp, model, batch: int, made: dict) -> dict:
    """What the model type's input rules add to ``made``."""
    out: dict = {}
    for fn in INPUTS.get(inp.mt, []):
        out.update(fn(inp, model, batch, {**made, **out}))
    return out


from . import (  # noqa: E402,F401  (each module registers its rules)
    arguments,
    audio,
    configs,
    placeholders,
    towers,
    vision_sizes,
    vision_tiles,
)
