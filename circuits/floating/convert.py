"""``fp-convert``: conversions between formats -- float to float (narrowing rounds, widening is
exact), integer to float, float to integer. ``format`` is the source, ``to`` the target; integer
formats are two's complement (``int8`` ... ``int64``, ``intN``).

* float -> float: the source significand at the source exponent re-biased to the target's, then
  :func:`~circuits.floating.datapath.round_pack` in the target format. Source subnormals that the
  target represents as normal numbers are normalized on the ``leading_zero_counter`` and left
  ``shifter``; the others enter shifted by one place, below the normal range, and are rounded
  there. NaN -> the target's canonical NaN (invalid for a signaling NaN); infinities stay infinite
  (saturate in a nan-only target).
* int -> float: magnitude (conditional negation on the ``adder``), normalization, rounding.
* float -> int: the significand placed at the integer bit positions by the right ``shifter``
  (guard and sticky bits below), rounded by ``rounding`` on the ``adder``, negated if negative.
  NaN, infinities and out-of-range values saturate to the nearest representable integer (NaN to the
  largest) with the invalid flag, as RISC-V's fcvt does; inexact when rounded.
"""
from __future__ import annotations

from gatesim.errors import DesignError
from gatesim.formats import FormatError, NumberFormat, parse_format
from gatesim.netlist import Netlist

from ..logic import Logic, Parts
from ..registry import DEFAULT_DESIGNS as DEFAULTS
from ..registry import register
from .datapath import exponent_width, finish, round_decision, round_pack, unpack
from .reference import unit_decoder, unit_reference
from .spec import FloatSpec, check_options
from .stimulus import unit_vectors


@register("fp-convert", kind="float", sized_by="format", reference=unit_reference("convert"),
          vectors=unit_vectors("convert"), decode=unit_decoder("convert"))
def fp_convert(format: NumberFormat, to: str = "fp32", rounding: str = "rne", ftz: bool = False,
               adder: str = DEFAULTS["adder"], shifter: str = DEFAULTS["shifter"],
               leading_zero_counter: str = DEFAULTS["leading_zero_counter"]) -> Netlist:
    """Format conversion (float <-> float, int -> float, float -> int) with rounding; a -> y, flags."""
    design = "fp-convert"
    check_options(design, rounding, ftz)
    try:
        dst = parse_format(to)
    except FormatError as e:
        raise DesignError(f"{design}: to: {e}") from None
    src = format
    if not src.is_float and not dst.is_float:
        raise DesignError(f"{design}: {src.name} -> {dst.name} converts no floating-point format")
    net = Netlist(name=f"fp_convert_{src.spec}_to_{dst.spec}".replace("-", "_"))
    lg = Logic(net)
    parts = Parts(lg, design, adder=adder, shifter=shifter, leading_zero_counter=leading_zero_counter)
    a = net.input("a", src.bits)
    if not src.is_float:
        _int_to_float(lg, parts, net, a, src, FloatSpec(dst), rounding, ftz)
    elif not dst.is_float:
        _float_to_int(lg, parts, net, a, FloatSpec(src), dst.bits, rounding, ftz)
    else:
        _float_to_float(lg, parts, net, a, FloatSpec(src), FloatSpec(dst), rounding, ftz)
    return net


def _float_to_float(lg: Logic, parts: Parts, net, a, ssp: FloatSpec, dsp: FloatSpec, rounding, ftz):
    A = unpack(lg, ssp, a, ftz)
    shift = dsp.bias - ssp.bias
    normalize = not ftz and shift > 0  # source subnormals may be normal numbers of the target
    lo = (1 if normalize or ftz else 0) + shift
    hi = ssp.emax_field + shift
    W = ssp.P
    ew = exponent_width(min(lo - W, 0) - 2, max(hi, 2 - lo) + 2)
    if normalize:
        sig, field = A.sig, A.exp
    else:  # a subnormal enters one place up, at exponent field 0: below the normal range
        field = A.bits[ssp.F : ssp.F + ssp.E]
        sig = lg.mux_bus(A.sub, A.sig, [lg.c0] + A.sig[:-1])
    exp, _ = parts.add(lg.extend(field, ew), lg.const_bus(shift, ew), lg.c0, "exponent_rebias")
    r = round_pack(lg, parts, dsp, A.sign, exp, sig, lg.c0, rounding=rounding, ftz=ftz,
                   lead="any" if normalize else "top1", exp_range=(lo, hi))
    finish(lg, dsp, net, A.sign, r, nan=A.nan, invalid=A.snan, inf=A.inf, inf_sign=A.sign,
           zero=A.zero, zero_sign=A.sign)


def _int_to_float(lg: Logic, parts: Parts, net, a, src: NumberFormat, dsp: FloatSpec, rounding, ftz):
    n = src.bits
    sign = a[n - 1]
    magnitude, _ = parts.increment(lg.xor_bus(sign, a), sign, "magnitude")  # |a| < 2**n
    top = dsp.bias + n - 1  # biased exponent of bit n-1
    ew = exponent_width(top - n - 2, max(top, 2 - top + n) + 2)
    r = round_pack(lg, parts, dsp, sign, lg.const_bus(top, ew), magnitude, lg.c0, rounding=rounding, ftz=ftz,
                   lead="any", exp_range=(top, top))
    finish(lg, dsp, net, sign, r, nan=lg.c0, invalid=lg.c0, zero=r.zero, zero_sign=lg.c0)


def _float_to_int(lg: Logic, parts: Parts, net, a, ssp: FloatSpec, n: int, rounding, ftz):
    A = unpack(lg, ssp, a, ftz)
    P, c0 = ssp.P, lg.c0
    # V: the significand with its top bit at integer weight 2**n (position n+1), a guard bit at position 0
    V = ([c0] * (n + 2) + A.sig)[-(n + 2):]
    pre_sticky = lg.or_tree(A.sig[: max(P - n - 2, 0)])
    lo, hi = n + ssp.bias - ssp.emax_field, n + ssp.bias - 1  # shift = n - (e - bias)
    ew = exponent_width(min(lo, 0) - 1, max(hi, ssp.emax_field) + 1)
    s, _ = parts.subtract(lg.const_bus(n + ssp.bias, ew), lg.extend(A.exp, ew), "shift_distance")
    too_big = s[-1]  # the value is 2**(n+1) or more
    Vs, st = parts.shift(V, lg.and_bus(lg.NOT(too_big), s), "right", "align")
    sticky = lg.OR(st, pre_sticky)
    integer = Vs[1:]  # n+1 bits
    up = round_decision(lg, rounding, A.sign, integer[0], Vs[0], sticky)
    mag, carry = parts.increment(integer, up, "round")
    # out of range: above 2**(n-1) - 1, or above 2**(n-1) for a negative value
    big = lg.OR(carry, mag[n])
    over = lg.OR(too_big, lg.MUX(A.sign, lg.OR(big, mag[n - 1]), lg.OR(big, lg.AND(mag[n - 1], lg.or_tree(mag[: n - 1])))))
    value, _ = parts.increment(lg.xor_bus(A.sign, mag[:n]), A.sign, "negate")
    invalid = lg.OR(lg.OR(A.nan, A.inf), over)
    # saturation: NaN and positive overflow to 2**(n-1) - 1, negative overflow to -2**(n-1)
    low = lg.ANDNOT(A.sign, A.nan)  # the smallest integer, 100...0
    limit = [lg.NOT(low)] * (n - 1) + [low]
    y = lg.mux_bus(invalid, value, limit)
    inexact = lg.ANDNOT(lg.OR(Vs[0], sticky), invalid)
    net.output("y", y)
    net.output("flags", [inexact, c0, c0, c0, invalid])
