"""The check each hf_rules test file runs on a model type (used by tests/models/test_hf_rules_*.py)."""
from __future__ import annotations

import importlib.util

import pytest
import torch


def counts_with_its_rule(model_type: str, check, needs: str | None = None, *, shape: tuple | None = None,
                         small: dict | None = None) -> None:
    """Count a training step of ``model_type`` (two layers, its library default configuration, the rules
    applied) with zero uncounted ops, then ``check(inputs, config)`` what its rules made. Skips where this
    transformers has no such model type or it needs the package ``needs``, not installed. ``shape``: the main
    input's shape (default: the builder's); ``small``: sizes cut down to keep a test fast, ``{sub-configuration
    key ("" for the top one): {attribute: value}}``."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    from gatesim.models import count
    from gatesim.models.zoo import load_zoo_model

    if model_type not in CONFIG_MAPPING:
        pytest.skip(f"this transformers has no {model_type}")
    if needs and importlib.util.find_spec(needs) is None:
        pytest.skip(f"{model_type} needs {needs}, not installed")
    zm = load_zoo_model(f"hf:{model_type}", layers=2, config_only=True)
    for key, attrs in (small or {}).items():
        cfg = getattr(zm.make_inputs.config, key) if key else zm.make_inputs.config
        for k, v in attrs.items():
            setattr(cfg, k, v)
    r = count(zm.factory, zm.inputs(shape), optimizer="adamw")
    assert not r.uncounted and r.bos(phase="forward").total() > 0 and r.bos(phase="backward").total() > 0
    counted = {k: real_values(v) for k, v in zm.make_inputs._made[0].items()}  # the inputs of the step counted
    with torch.device("meta"):
        model = zm.factory()
    try:
        made = zm.make_inputs(model, "cpu", tuple(shape or zm.default_shape))
    except ValueError as e:  # placeholders a tower counts only on real values: the counted step's inputs
        from gatesim.models.trace import needs_real_values

        if not needs_real_values(e):
            raise
        made = counted
    check(made, model.config)  # what the rule made


def real_values(t):
    """The values of a tensor the builder made under the counter's fake tensors (which propagate real ones)."""
    return getattr(t, "real_tensor", None) if type(t).__name__ == "FakeTensor" else t
