"""``fp-divider`` (a / b) and ``fp-sqrt`` (square root of a), correctly rounded.

Both first normalize subnormal operands (``leading_zero_counter`` and left ``shifter``, the
exponent lowered by the shift on the ``adder``; not needed under ``ftz``), so the registered
integer unit sees significands in [1, 2):

* divider -- the registered ``divider`` gives q = floor(A 2**(p+1) / B) (p + 2 bits, the leading one
  in one of the top two) and a sticky bit; the exponent is e_a - e_b + bias.
* square root -- the registered ``root`` with a run-time exponent parity (``odd_input``) gives
  r = floor(sqrt(A 2**(p+1+odd))) (p + 1 bits, normalized) and a sticky bit; the exponent is
  floor((e_a + bias) / 2).

Then :func:`~circuits.floating.datapath.round_pack` rounds (a quotient below the normal range is
denormalized on the right ``shifter``). x / 0 is an infinity with the divide-by-zero flag; 0 / 0,
inf / inf and the root of a negative number are invalid; sqrt(-0) = -0.
"""
from __future__ import annotations

from gatesim.formats import NumberFormat
from gatesim.netlist import Netlist

from ..registry import DEFAULT_DESIGNS as DEFAULTS
from ..registry import register
from .datapath import exponent_width, finish, normalize_input, round_pack, start_unit
from .reference import unit_decoder, unit_reference
from .stimulus import unit_vectors


@register("fp-divider", kind="float", sized_by="format", reference=unit_reference("div"),
          vectors=unit_vectors("div"), decode=unit_decoder("div"))
def fp_divider(format: NumberFormat, rounding: str = "rne", ftz: bool = False, divider: str = DEFAULTS["divider"],
               adder: str = DEFAULTS["adder"], shifter: str = DEFAULTS["shifter"],
               leading_zero_counter: str = DEFAULTS["leading_zero_counter"]) -> Netlist:
    """IEEE 754 divider: normalize subnormal operands, significand quotient on the named divider, round; a, b -> y, flags."""
    sp, net, lg, parts, (A, B) = start_unit("fp-divider", format, rounding, ftz, "ab", divider=divider, adder=adder,
                                        shifter=shifter, leading_zero_counter=leading_zero_counter)
    P, bias, emax = sp.P, sp.bias, sp.emax_field
    sign = lg.XOR(A.sign, B.sign)
    lo_in = 1 if ftz else 2 - P  # lowest exponent of a normalized operand
    lo, hi = lo_in - emax + bias, emax - lo_in + bias  # biased exponent of the quotient's top bit
    ew = exponent_width(lo - 2, max(hi + 2, 2 - lo, -lo_in + 1))
    if ftz:
        siga, ea, sigb, eb = A.sig, lg.extend(A.exp, ew), B.sig, lg.extend(B.exp, ew)
    else:
        siga, ea = normalize_input(lg, parts, A, ew, "a")
        sigb, eb = normalize_input(lg, parts, B, ew, "b")
    q, sticky = parts.divide(siga, sigb, "significand_divider")
    diff, _ = parts.subtract(ea, eb, "exponent_difference")
    exp, _ = parts.add(diff, lg.const_bus(bias, ew), lg.c0, "exponent_bias")
    r = round_pack(lg, parts, sp, sign, exp, q, sticky, rounding=rounding, ftz=ftz, lead="top2", exp_range=(lo, hi))
    nan = lg.OR(lg.OR(A.nan, B.nan), lg.OR(lg.AND(A.zero, B.zero), lg.AND(A.inf, B.inf)))
    finite_a = lg.NOT(lg.OR(A.inf, A.nan))
    finish(lg, sp, net, sign, r, nan=nan,
           invalid=lg.OR(lg.OR(A.snan, B.snan), lg.ANDNOT(lg.OR(lg.AND(A.zero, B.zero), lg.AND(A.inf, B.inf)),
                                                         lg.OR(A.nan, B.nan))),
           inf=lg.OR(A.inf, B.zero), inf_sign=sign, zero=lg.OR(A.zero, B.inf), zero_sign=sign,
           divide_by_zero=lg.AND(lg.ANDNOT(finite_a, A.zero), lg.ANDNOT(B.zero, B.nan)))
    return net


@register("fp-sqrt", kind="float", sized_by="format", reference=unit_reference("sqrt"),
          vectors=unit_vectors("sqrt"), decode=unit_decoder("sqrt"))
def fp_sqrt(format: NumberFormat, rounding: str = "rne", ftz: bool = False, root: str = DEFAULTS["root"],
            multiplier: str = DEFAULTS["multiplier"], adder: str = DEFAULTS["adder"], shifter: str = DEFAULTS["shifter"],
            leading_zero_counter: str = DEFAULTS["leading_zero_counter"]) -> Netlist:
    """IEEE 754 square root: normalize a subnormal operand, significand root (run-time exponent parity), round; a -> y, flags."""
    sp, net, lg, parts, (A,) = start_unit("fp-sqrt", format, rounding, ftz, "a", root=root, multiplier=multiplier,
                                      adder=adder, shifter=shifter, leading_zero_counter=leading_zero_counter)
    P, bias, emax = sp.P, sp.bias, sp.emax_field
    lo_in = 1 if ftz else 2 - P
    lo, hi = (lo_in + bias) // 2, (emax + bias) // 2
    ew = exponent_width(min(lo_in, lo) - 2, max(emax + bias, 2 - lo) + 2)
    sig, ea = (A.sig, lg.extend(A.exp, ew)) if ftz else normalize_input(lg, parts, A, ew, "a")
    odd = lg.NOT(ea[0]) if bias & 1 else ea[0]  # the unbiased exponent e_a - bias is odd
    root_bits, sticky = parts.root(sig, "significand_root", odd=odd)
    total, _ = parts.add(ea, lg.const_bus(bias, ew), lg.c0, "exponent_bias")
    exp = total[1:] + [total[-1]]  # floor((e_a + bias) / 2)
    r = round_pack(lg, parts, sp, lg.c0, exp, root_bits, sticky, rounding=rounding, ftz=ftz, lead="top1",
                   exp_range=(lo, hi))
    negative = lg.ANDNOT(A.sign, A.zero)
    finish(lg, sp, net, lg.c0, r, nan=lg.OR(A.nan, negative), invalid=lg.OR(A.snan, lg.ANDNOT(negative, A.nan)),
           inf=A.inf, inf_sign=lg.c0, zero=A.zero, zero_sign=A.sign)
    return net
