"""``fp-adder``: IEEE 754 addition a + b, correctly rounded.

Subtraction is this unit with b's sign bit flipped (one inverter on ``b``'s top bit: a - b = a + (-b)
in every rounding mode and for every NaN, infinity and zero), so no separate subtractor is built.

Datapath (single path): unpack; order the operands by magnitude on the registered ``comparator``
(swap multiplexers); exponent difference on the ``adder``; align the smaller significand on the
right-``shifter`` (two guard bits, the shifted-out bits ORed into a sticky bit); add or subtract
(effective operation = sign a XOR sign b) on the ``adder``, p + 4 bits; normalize with the
``leading_zero_counter`` and the left ``shifter`` (the shift stops where the exponent would leave
the normal range, which yields subnormal results); round and pack
(:func:`~circuits.floating.datapath.round_pack`). Exact cancellation gives +0 (-0 when rounding
down); inf - inf is the invalid operation.
"""
from __future__ import annotations

from gatesim.formats import NumberFormat
from gatesim.netlist import Netlist

from ..registry import DEFAULT_DESIGNS as DEFAULTS
from ..registry import register
from .datapath import exponent_width, finish, round_pack, start_unit
from .reference import unit_decoder, unit_reference
from .stimulus import unit_vectors


@register("fp-adder", kind="float", sized_by="format", reference=unit_reference("add"),
          vectors=unit_vectors("add"), decode=unit_decoder("add"))
def fp_adder(format: NumberFormat, rounding: str = "rne", ftz: bool = False, adder: str = DEFAULTS["adder"],
             comparator: str = DEFAULTS["comparator"], shifter: str = DEFAULTS["shifter"],
             leading_zero_counter: str = DEFAULTS["leading_zero_counter"]) -> Netlist:
    """IEEE 754 adder (a - b: flip b's sign): compare-and-swap, align, add, normalize, round; packed a, b -> y, flags."""
    sp, net, lg, parts, (A, B) = start_unit("fp-adder", format, rounding, ftz, "ab", adder=adder, comparator=comparator,
                                            shifter=shifter, leading_zero_counter=leading_zero_counter)
    P = sp.P
    # the larger magnitude first (its sign is the result's)
    swap, _, _ = parts.compare(A.mag, B.mag, "magnitude_compare")
    big_e, small_e = lg.mux_bus(swap, A.exp, B.exp), lg.mux_bus(swap, B.exp, A.exp)
    big_m, small_m = lg.mux_bus(swap, A.sig, B.sig), lg.mux_bus(swap, B.sig, A.sig)
    sign = lg.MUX(swap, A.sign, B.sign)
    sub = lg.XOR(A.sign, B.sign)
    d, _ = parts.subtract(big_e, small_e, "exponent_difference")  # >= 0
    aligned, sticky = parts.shift([lg.c0, lg.c0] + small_m, d, "right", "align")
    small_x = lg.extend([sticky] + aligned, P + 4)  # sticky, round, guard, significand
    big_x = lg.extend([lg.c0] * 3 + big_m, P + 4)
    total, _ = parts.add(big_x, lg.xor_bus(sub, small_x), sub, "significand_adder")  # |big| +- |small| >= 0
    lo, hi = 2, sp.emax_field + 1  # biased exponent of the sum's top bit (weight 2 * big)
    ew = exponent_width(lo - (P + 4), hi + 2)
    exp, _ = parts.increment(lg.extend(big_e, ew), lg.c1, "exponent")
    # a sum below the normal range is exact (both operands are multiples of the smallest subnormal)
    r = round_pack(lg, parts, sp, sign, exp, total, lg.c0, rounding=rounding, ftz=ftz, lead="any", exp_range=(lo, hi),
                   exact_tiny=True)
    inf_clash = lg.AND(lg.AND(A.inf, B.inf), sub)
    finish(lg, sp, net, sign, r,
           nan=lg.OR(lg.OR(A.nan, B.nan), inf_clash),
           invalid=lg.OR(lg.OR(A.snan, B.snan), inf_clash),
           inf=lg.OR(A.inf, B.inf), inf_sign=lg.MUX(A.inf, B.sign, A.sign),
           # an exact zero: +0, or -0 when rounding down, unless both operands are zeros of one sign
           zero=r.zero, zero_sign=lg.MUX(sub, A.sign, lg.const(rounding == "rdn")))
    return net
