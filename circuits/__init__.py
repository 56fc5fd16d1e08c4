"""ALU circuit designs as gate-level netlists, found by name.

``circuits.build("ripple-carry-adder", width=24)`` returns a :class:`gatesim.Netlist`;
``circuits.designs()`` lists what is registered; ``circuits.register`` adds your own.
"""
from .registry import Design, build, cell, designs, get, load_plugins, reference, register
from . import adders, comparators  # noqa: F401  (importing registers the designs)
from .adders import (
    carry_lookahead_adder,
    full_adder,
    half_adder,
    kogge_stone_adder,
    ripple_carry_adder,
    subtractor,
)
from .comparators import magnitude_comparator

__all__ = [
    "Design", "build", "cell", "designs", "get", "load_plugins", "reference", "register",
    "full_adder", "half_adder", "ripple_carry_adder", "subtractor", "kogge_stone_adder", "carry_lookahead_adder",
    "magnitude_comparator",
]
