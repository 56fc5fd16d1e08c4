"""``fp-compare``: IEEE 754 comparisons, minimum and maximum of two numbers.

Outputs: ``lt`` (a < b), ``eq`` (a == b; +0 == -0), ``unordered`` (a or b is a NaN; then lt = eq = 0),
``min`` / ``max`` -- IEEE 754-2019 minimumNumber / maximumNumber (a NaN loses to a number, the
canonical NaN when both are NaNs, -0 < +0: what numpy's fmin/fmax, torch.fmin/fmax and RISC-V's
fmin/fmax compute) -- and ``flags``: invalid for a signaling NaN operand (quiet comparisons), or
for any NaN with ``signaling=True`` (compareSignalingLess, C's ``<``). Under ``ftz`` subnormal
operands compare, and come out of min/max, as zeros of their sign.

Datapath: the registered ``comparator`` on the two magnitudes (exponent and fraction fields), sign
logic, two N-bit multiplexers.
"""
from __future__ import annotations

from gatesim.errors import DesignError
from gatesim.formats import NumberFormat
from gatesim.netlist import Netlist

from ..registry import DEFAULT_DESIGNS as DEFAULTS
from ..registry import register
from .datapath import start_unit
from .reference import unit_decoder, unit_reference
from .stimulus import unit_vectors


@register("fp-compare", kind="float", sized_by="format", reference=unit_reference("compare"),
          vectors=unit_vectors("compare"), decode=unit_decoder("compare"))
def fp_compare(format: NumberFormat, ftz: bool = False, signaling: bool = False,
               comparator: str = DEFAULTS["comparator"]) -> Netlist:
    """IEEE 754 comparator: lt, eq, unordered, minimumNumber, maximumNumber; a, b -> lt, eq, unordered, min, max, flags."""
    if not isinstance(signaling, bool):
        raise DesignError(f"fp-compare: signaling must be True or False, got {signaling!r}")
    sp, net, lg, parts, (A, B) = start_unit("fp-compare", format, "rne", ftz, "ab", comparator=comparator)
    mlt, meq, mgt = parts.compare(A.mag, B.mag, "magnitude_compare")
    sa, sb = A.sign, B.sign
    unordered = lg.OR(A.nan, B.nan)
    both_zero = lg.AND(A.zero, B.zero)
    # a below b in the order with -0 < +0 (NaNs aside)
    below = lg.OR(lg.ANDNOT(sa, sb), lg.OR(lg.AND(lg.NOR(sa, sb), mlt), lg.AND(lg.AND(sa, sb), mgt)))
    lt = lg.ANDNOT(lg.ANDNOT(below, both_zero), unordered)
    eq = lg.ANDNOT(lg.OR(both_zero, lg.AND(lg.XNOR(sa, sb), meq)), unordered)
    a_bits, b_bits = A.mag + [sa], B.mag + [sb]
    qnan = lg.const_bus(sp.qnan, sp.N)
    b_nan_only = lg.ANDNOT(B.nan, A.nan)
    min_is_a = lg.OR(b_nan_only, lg.ANDNOT(below, unordered))
    max_is_a = lg.OR(b_nan_only, lg.NOR(below, unordered))
    both_nan = lg.AND(A.nan, B.nan)
    mn = lg.mux_bus(both_nan, lg.mux_bus(min_is_a, b_bits, a_bits), qnan)
    mx = lg.mux_bus(both_nan, lg.mux_bus(max_is_a, b_bits, a_bits), qnan)
    invalid = lg.OR(lg.OR(A.snan, B.snan), unordered if signaling else lg.c0)
    net.output("lt", lt)
    net.output("eq", eq)
    net.output("unordered", unordered)
    net.output("min", mn)
    net.output("max", mx)
    net.output("flags", [lg.c0] * 4 + [invalid])
    return net
