"""Per-model rules (:mod:`gatesim.models.hf_rules`): Vision towers fed patches, grids and position ids; convolutional parts whose channels do not chain."""
from __future__ import annotations

from . import config_rule, input_rule  # noqa: F401
