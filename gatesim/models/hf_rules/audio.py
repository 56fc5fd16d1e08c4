"""Per-model rules (:mod:`gatesim.models.hf_rules`): Audio and speech models: frame counts, token streams, sub-model inputs."""
from __future__ import annotations

from . import config_rule, input_rule  # noqa: F401
