"""``fp-multiplier`` (a * b) and ``fp-fma`` (a * b + c with one rounding).

Multiplier: the p x p significand product on the registered ``multiplier`` (its final adder is the
unit's ``adder``), the exponent sum on the ``adder``, then
:func:`~circuits.floating.datapath.round_pack`: a product of a subnormal operand is normalized by
the ``leading_zero_counter`` and the left ``shifter``, a product below the normal range is
denormalized by the right ``shifter`` (with ``ftz`` the product of normal operands lies in [1, 4) and
one multiplexer normalizes it).

FMA (single path): the 2p-bit product sits at bits [2, 2p+1] of a 3p + 4 bit field; c's significand
enters at the top of the field (bits [2p+4, 3p+3]) and is shifted right by
d = e_a + e_b - bias + p + 3 - e_c on the right ``shifter`` (bits shifted out of the field go to a
sticky bit below it). When c is so large that d < 0, it stays on top and the product, two or more
bits below c's last bit, acts only through its sign and its being nonzero, which is all the rounding
needs. The field is added to or subtracted from on the ``adder`` (3p + 6 bits), negated when the
difference is negative, normalized by the ``leading_zero_counter`` and left ``shifter``, and rounded
once. A zero product returns c exactly; 0 * inf + c is invalid even when c is a quiet NaN.
"""
from __future__ import annotations

from gatesim.formats import NumberFormat
from gatesim.netlist import Netlist

from ..registry import DEFAULT_DESIGNS as DEFAULTS
from ..registry import register
from .datapath import Rounded, exponent_width, finish, round_pack, start_unit
from .reference import unit_decoder, unit_reference
from .stimulus import unit_vectors


@register("fp-multiplier", kind="float", sized_by="format", reference=unit_reference("mul"),
          vectors=unit_vectors("mul"), decode=unit_decoder("mul"))
def fp_multiplier(format: NumberFormat, rounding: str = "rne", ftz: bool = False,
                  multiplier: str = DEFAULTS["multiplier"], adder: str = DEFAULTS["adder"],
                  shifter: str = DEFAULTS["shifter"], leading_zero_counter: str = DEFAULTS["leading_zero_counter"]) -> Netlist:
    """IEEE 754 multiplier: significand product on the named multiplier, exponent sum, normalize, round; a, b -> y, flags."""
    sp, net, lg, parts, (A, B) = start_unit("fp-multiplier", format, rounding, ftz, "ab", multiplier=multiplier, adder=adder,
                                        shifter=shifter, leading_zero_counter=leading_zero_counter)
    P, bias = sp.P, sp.bias
    sign = lg.XOR(A.sign, B.sign)
    product = parts.multiply(A.sig, B.sig, "significand_multiplier")  # 2p bits, top bit weighs 2
    lo, hi = 3 - bias, 2 * sp.emax_field + 1 - bias  # biased exponent of the product's top bit
    ew = exponent_width(lo - 2 * P - 2, max(hi + 2, 2 - lo))
    total, _ = parts.add(lg.extend(A.exp, ew), lg.extend(B.exp, ew), lg.c0, "exponent_adder")
    exp, _ = parts.add(total, lg.const_bus(1 - bias, ew), lg.c0, "exponent_bias")
    r = round_pack(lg, parts, sp, sign, exp, product, lg.c0, rounding=rounding, ftz=ftz,
                   lead="top2" if ftz else "any", exp_range=(lo, hi))
    inf_zero = lg.OR(lg.AND(A.inf, B.zero), lg.AND(B.inf, A.zero))
    finish(lg, sp, net, sign, r,
           nan=lg.OR(lg.OR(A.nan, B.nan), inf_zero), invalid=lg.OR(lg.OR(A.snan, B.snan), inf_zero),
           inf=lg.OR(A.inf, B.inf), inf_sign=sign, zero=lg.OR(A.zero, B.zero), zero_sign=sign)
    return net


@register("fp-fma", kind="float", sized_by="format", reference=unit_reference("fma"),
          vectors=unit_vectors("fma"), decode=unit_decoder("fma"))
def fp_fma(format: NumberFormat, rounding: str = "rne", ftz: bool = False, multiplier: str = DEFAULTS["multiplier"],
           adder: str = DEFAULTS["adder"], shifter: str = DEFAULTS["shifter"],
           leading_zero_counter: str = DEFAULTS["leading_zero_counter"]) -> Netlist:
    """IEEE 754 fused multiply-add a*b + c, one rounding: product, aligned addend, add, normalize, round; a, b, c -> y, flags."""
    sp, net, lg, parts, (A, B, C) = start_unit("fp-fma", format, rounding, ftz, "abc", multiplier=multiplier, adder=adder,
                                           shifter=shifter, leading_zero_counter=leading_zero_counter)
    P, bias, emax = sp.P, sp.bias, sp.emax_field
    W = 3 * P + 4
    c0 = lg.c0
    psign = lg.XOR(A.sign, B.sign)
    sub = lg.XOR(psign, C.sign)
    product = parts.multiply(A.sig, B.sig, "significand_multiplier")
    # exponents: e_hi weighs field bit W-1 when c is not above the product
    hi_lo, hi_hi = 2 - bias + P + 3, 2 * emax - bias + P + 3
    lo, hi = min(hi_lo, 1) + 1, max(hi_hi, emax) + 1  # exponent of the sum's top bit
    ew = exponent_width(min(lo - W - 4, hi_lo - emax, 1 - hi), max(hi + 2, hi_hi, 2 - lo))
    total, _ = parts.add(lg.extend(A.exp, ew), lg.extend(B.exp, ew), c0, "exponent_adder")
    e_hi, _ = parts.add(total, lg.const_bus(P + 3 - bias, ew), c0, "exponent_bias")
    ec = lg.extend(C.exp, ew)
    d, _ = parts.subtract(e_hi, ec, "alignment_distance")  # e_hi - e_c
    above = lg.ANDNOT(d[-1], C.zero)  # c lies above the field: it stays on top
    e_top = lg.mux_bus(above, e_hi, ec)
    c_field, c_sticky = parts.shift([c0] * (W - P) + C.sig, lg.and_bus(lg.NOT(d[-1]), d), "right", "align")
    p_field = [c0, c0] + product + [c0] * (W - 2 * P - 2)
    x = lg.extend([c0] + p_field, W + 2)
    y = lg.extend([c_sticky] + c_field, W + 2)
    s, _ = parts.add(x, lg.xor_bus(sub, y), sub, "significand_adder")  # p +- c, two's complement
    neg = lg.AND(sub, s[-1])
    magnitude, _ = parts.increment(lg.xor_bus(neg, s), neg, "negate")
    sign = lg.MUX(neg, psign, C.sign)
    exp, _ = parts.increment(e_top, lg.c1, "exponent")
    r = round_pack(lg, parts, sp, sign, exp, magnitude, c0, rounding=rounding, ftz=ftz, lead="any", exp_range=(lo, hi))
    # a zero product: the result is c itself (or a zero, by the sign rules, when c is zero too)
    pz = lg.OR(A.zero, B.zero)
    pass_c = lg.ANDNOT(pz, C.zero)
    keep = lg.NOT(pass_c)
    r = Rounded(lg.mux_bus(pass_c, r.mag, C.mag), lg.AND(r.overflow, keep), lg.AND(r.underflow, keep),
                lg.AND(r.inexact, keep), r.zero)
    sign = lg.MUX(pass_c, sign, C.sign)
    rdn = lg.const(rounding == "rdn")
    inf_zero = lg.OR(lg.AND(A.inf, B.zero), lg.AND(B.inf, A.zero))
    inf_p = lg.OR(A.inf, B.inf)
    any_nan = lg.OR(lg.OR(A.nan, B.nan), C.nan)
    clash = lg.ANDNOT(lg.AND(lg.AND(inf_p, C.inf), sub), any_nan)  # inf - inf
    bad = lg.OR(inf_zero, clash)
    finish(lg, sp, net, sign, r,
           nan=lg.OR(any_nan, bad),
           invalid=lg.OR(lg.OR(lg.OR(A.snan, B.snan), C.snan), bad),
           inf=lg.OR(inf_p, C.inf), inf_sign=lg.MUX(inf_p, C.sign, psign),
           zero=lg.MUX(pz, r.zero, C.zero), zero_sign=lg.MUX(lg.AND(pz, lg.NOT(sub)), rdn, C.sign))
    return net
