"""ALU circuit designs as gate-level netlists, found by name.

``circuits.build("ripple-carry-adder", width=24)`` returns a :class:`gatesim.Netlist`;
``circuits.designs()`` lists what is registered; ``circuits.register`` adds your own.
"""
from .registry import (ROLES, Design, build, build_role, cell, decoder, designs, get, load_plugins, reference,
                       register, stimulus)
from . import adders, comparators, shifters  # noqa: F401  (importing registers the designs)
from . import multipliers, dividers, roots  # noqa: F401
from . import floating  # noqa: F401
from .adders import (
    carry_lookahead_adder,
    full_adder,
    half_adder,
    kogge_stone_adder,
    ripple_carry_adder,
    subtractor,
)
from .comparators import magnitude_comparator
from .dividers import nonrestoring_divider, restoring_divider, srt_divider
from .multipliers import (
    array_multiplier,
    booth_encoder,
    booth_selector,
    booth_wallace_multiplier,
    dadda_multiplier,
    wallace_multiplier,
)
from .roots import digit_recurrence_sqrt, newton_raphson_sqrt
from .shifters import (
    crossbar_shifter,
    logarithmic_shifter,
    priority_leading_zero_counter,
    tree_leading_zero_counter,
)

__all__ = [
    "ROLES", "Design", "build", "build_role", "cell", "decoder", "designs", "get", "load_plugins", "reference",
    "register", "stimulus",
    "full_adder", "half_adder", "ripple_carry_adder", "subtractor", "kogge_stone_adder", "carry_lookahead_adder",
    "magnitude_comparator",
    "booth_wallace_multiplier", "array_multiplier", "wallace_multiplier", "dadda_multiplier",
    "booth_encoder", "booth_selector",
    "srt_divider", "restoring_divider", "nonrestoring_divider",
    "newton_raphson_sqrt", "digit_recurrence_sqrt",
    "logarithmic_shifter", "crossbar_shifter", "tree_leading_zero_counter", "priority_leading_zero_counter",
]
