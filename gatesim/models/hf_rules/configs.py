"""Per-model rules (:mod:`gatesim.models.hf_rules`): Configuration repairs: values a default configuration leaves None or inconsistent."""
from __future__ import annotations

from . import config_rule, input_rule  # noqa: F401
