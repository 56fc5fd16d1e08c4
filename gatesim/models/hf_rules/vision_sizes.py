"""Per-model rules (:mod:`gatesim.models.hf_rules`): Image sizes and layouts a detector or dense model needs."""
from __future__ import annotations

from . import config_rule, input_rule  # noqa: F401
