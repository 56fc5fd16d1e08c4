"""Per-model rules (:mod:`gatesim.models.hf_rules`): Arguments no processor makes: inference sessions, prompts, labels, flattened patches."""
from __future__ import annotations

from . import config_rule, input_rule  # noqa: F401
