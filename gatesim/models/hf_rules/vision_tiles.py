"""Per-model rules (:mod:`gatesim.models.hf_rules`): Image tilings and connectors of multimodal models."""
from __future__ import annotations

from . import config_rule, input_rule  # noqa: F401
