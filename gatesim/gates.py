"""The primitive gate set: codes, pin names, arities and logic functions.

Every gate has one output. Input pins are ordered; the pin names follow Yosys's
internal gate cells (``$_AND_`` has pins A, B and output Y), so a netlist exports
to Verilog gate for gate. ``MUX2`` selects ``B`` when ``S`` is 1, like ``$_MUX_``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class GateType:
    """One primitive gate: numeric code used by the kernels, its input pins and logic."""

    name: str
    code: int
    pins: tuple[str, ...]
    yosys: str | None
    function: Callable[..., int]
    description: str

    @property
    def arity(self) -> int:
        return len(self.pins)


def _n(x: int) -> int:
    return x ^ 1


_GATES = [
    # sources (no inputs): primary input bits and constants
    GateType("INPUT", 0, (), None, lambda: 0, "primary input bit"),
    GateType("CONST0", 1, (), None, lambda: 0, "constant 0"),
    GateType("CONST1", 2, (), None, lambda: 1, "constant 1"),
    GateType("BUF", 3, ("A",), "$_BUF_", lambda a: a, "Y = A"),
    GateType("NOT", 4, ("A",), "$_NOT_", lambda a: _n(a), "Y = ~A"),
    GateType("AND2", 5, ("A", "B"), "$_AND_", lambda a, b: a & b, "Y = A & B"),
    GateType("OR2", 6, ("A", "B"), "$_OR_", lambda a, b: a | b, "Y = A | B"),
    GateType("NAND2", 7, ("A", "B"), "$_NAND_", lambda a, b: _n(a & b), "Y = ~(A & B)"),
    GateType("NOR2", 8, ("A", "B"), "$_NOR_", lambda a, b: _n(a | b), "Y = ~(A | B)"),
    GateType("XOR2", 9, ("A", "B"), "$_XOR_", lambda a, b: a ^ b, "Y = A ^ B"),
    GateType("XNOR2", 10, ("A", "B"), "$_XNOR_", lambda a, b: _n(a ^ b), "Y = ~(A ^ B)"),
    GateType("ANDNOT2", 11, ("A", "B"), "$_ANDNOT_", lambda a, b: a & _n(b), "Y = A & ~B"),
    GateType("ORNOT2", 12, ("A", "B"), "$_ORNOT_", lambda a, b: a | _n(b), "Y = A | ~B"),
    GateType("MUX2", 13, ("A", "B", "S"), "$_MUX_", lambda a, b, s: b if s else a, "Y = S ? B : A"),
    GateType("NMUX2", 14, ("A", "B", "S"), "$_NMUX_", lambda a, b, s: _n(b if s else a), "Y = ~(S ? B : A)"),
    GateType("AOI21", 15, ("A", "B", "C"), "$_AOI3_", lambda a, b, c: _n((a & b) | c), "Y = ~((A & B) | C)"),
    GateType("OAI21", 16, ("A", "B", "C"), "$_OAI3_", lambda a, b, c: _n((a | b) & c), "Y = ~((A | B) & C)"),
    GateType("AOI22", 17, ("A", "B", "C", "D"), "$_AOI4_", lambda a, b, c, d: _n((a & b) | (c & d)), "Y = ~((A & B) | (C & D))"),
    GateType("OAI22", 18, ("A", "B", "C", "D"), "$_OAI4_", lambda a, b, c, d: _n((a | b) & (c | d)), "Y = ~((A | B) & (C | D))"),
]

GATES: dict[str, GateType] = {g.name: g for g in _GATES}
GATE_NAMES: tuple[str, ...] = tuple(g.name for g in _GATES)
SOURCE_GATES = frozenset({"INPUT", "CONST0", "CONST1"})
LOGIC_GATES: tuple[str, ...] = tuple(g.name for g in _GATES if g.name not in SOURCE_GATES)
MAX_ARITY = max(g.arity for g in _GATES)

INPUT, CONST0, CONST1 = 0, 1, 2

# Each logic gate over operands that support ``&``, ``|``, ``^`` and ``~`` bitwise (numpy bool or uint64
# arrays, 64-bit words, hardware description wires): for evaluators and exporters outside the kernels.
BITWISE: dict[str, Callable] = {
    "BUF": lambda a: a, "NOT": lambda a: ~a, "AND2": lambda a, b: a & b, "OR2": lambda a, b: a | b,
    "NAND2": lambda a, b: ~(a & b), "NOR2": lambda a, b: ~(a | b), "XOR2": lambda a, b: a ^ b,
    "XNOR2": lambda a, b: ~(a ^ b), "ANDNOT2": lambda a, b: a & ~b, "ORNOT2": lambda a, b: a | ~b,
    "MUX2": lambda a, b, s: (a & ~s) | (b & s), "NMUX2": lambda a, b, s: ~((a & ~s) | (b & s)),
    "AOI21": lambda a, b, c: ~((a & b) | c), "OAI21": lambda a, b, c: ~((a | b) & c),
    "AOI22": lambda a, b, c, d: ~((a & b) | (c & d)), "OAI22": lambda a, b, c, d: ~((a | b) & (c | d)),
}
