"""Gate-level pieces every floating-point unit shares: unpack and classify an operand, normalize a
significand on the registered leading-zero counter and shifter, denormalize and round it to the
format (one incrementer over the packed exponent and fraction, so a carry out of the fraction
moves into the exponent by itself), and assemble the result with NaN, infinity and zero
overrides and the exception flags.

Exponents inside a unit are two's-complement buses of a width the unit derives from its own range
(:func:`exponent_width`); a *biased* exponent e means the number 2**(e - bias) -- so e <= 0 is below
the normal range.
"""
from __future__ import annotations

from dataclasses import dataclass

from gatesim.netlist import Netlist

from ..logic import Logic, Parts
from .spec import FloatSpec, check_options, float_spec


@dataclass
class Operand:
    """The nets of one unpacked operand."""

    bits: list  # the packed pattern, N bits
    sign: int
    exp: list  # E-bit effective exponent: the field, or 1 for zeros and subnormals
    sig: list  # P-bit significand, hidden bit on top (0 for zeros, and for subnormals under ftz)
    mag: list  # N-1 magnitude bits (exponent and fraction; a flushed subnormal reads 0)
    zero: int  # +-0 (and subnormals under ftz)
    sub: int  # subnormal (never under ftz)
    inf: int
    nan: int
    snan: int  # signaling NaN (fraction MSB clear)


def unpack(lg: Logic, sp: FloatSpec, bits: list, ftz: bool) -> Operand:
    """Split and classify an N-bit IEEE pattern (``sp.nan_only``: one NaN pattern per sign, no infinities)."""
    F, E = sp.F, sp.E
    frac, field, sign = bits[:F], bits[F : F + E], bits[F + E]
    field_zero = lg.is_zero(field)
    field_ones = lg.and_tree(field)
    frac_zero = lg.is_zero(frac)
    if sp.nan_only:
        nan = lg.AND(field_ones, lg.and_tree(frac))
        inf = snan = lg.c0
    else:
        inf = lg.AND(field_ones, frac_zero)
        nan = lg.ANDNOT(field_ones, frac_zero)
        snan = lg.ANDNOT(nan, frac[F - 1])
    hidden = lg.NOT(field_zero)
    if ftz:  # subnormals are zeros of their sign (denormals-are-zero)
        frac = lg.and_bus(hidden, frac)
        zero, sub = field_zero, lg.c0
    else:
        zero, sub = lg.AND(field_zero, frac_zero), lg.ANDNOT(field_zero, frac_zero)
    exp = [lg.OR(field[0], field_zero)] + list(field[1:])
    return Operand(list(bits), sign, exp, list(frac) + [hidden], list(frac) + list(field), zero, sub, inf, nan, snan)


def start_unit(design: str, fmt, rounding: str, ftz: bool, inputs: str, **choices):
    """(spec, netlist, Logic, Parts, operands): a unit's netlist with input ports ``inputs`` (e.g. "ab"),
    each N bits and unpacked; the options checked (one-line DesignError)."""
    sp = float_spec(design, fmt)
    check_options(design, rounding, ftz)
    net = Netlist(name=f"{design.replace('-', '_')}_{fmt.spec.replace('-', '_')}")
    lg = Logic(net)
    parts = Parts(lg, design, **choices)
    return sp, net, lg, parts, [unpack(lg, sp, net.input(p, sp.N), ftz) for p in inputs]


def exponent_width(lo: int, hi: int) -> int:
    """Bits of a two's-complement bus holding every integer in [lo, hi]."""
    return max(max(hi, 0).bit_length(), (-min(lo, 0) - 1).bit_length()) + 1


def normalize_input(lg: Logic, parts: Parts, op: Operand, ew: int, name: str):
    """(significand, exponent): a subnormal operand's significand shifted up to put its leading one on
    top, its ew-bit exponent lowered by as much (normal operands pass unchanged)."""
    lz, _ = parts.leading_zeros(op.sig, f"{name}_lzc")
    sig, _ = parts.shift(op.sig, lz, "left", f"{name}_normalize")
    exp, _ = parts.subtract(lg.extend(op.exp, ew), lz, f"{name}_exponent")
    return sig, exp


def round_decision(lg: Logic, rounding: str, sign, lsb, guard, sticky):
    """1 when the magnitude is rounded up (to the next representable number away from zero)."""
    if rounding == "rne":
        return lg.AND(guard, lg.OR(sticky, lsb))
    if rounding == "rtz":
        return lg.c0
    if rounding == "rdn":
        return lg.AND(sign, lg.OR(guard, sticky))
    if rounding == "rup":
        return lg.ANDNOT(lg.OR(guard, sticky), sign)
    return guard  # rmm


@dataclass
class Rounded:
    """A rounded result: N-1 magnitude bits, the datapath's flags, and (for ``lead="any"``) whether
    the significand was exactly zero (the caller decides that zero's sign)."""

    mag: list
    overflow: int
    underflow: int
    inexact: int
    zero: int


def round_pack(lg: Logic, parts: Parts, sp: FloatSpec, sign, exp: list, sig: list, sticky, *, rounding: str,
               ftz: bool, lead: str, exp_range: tuple[int, int], exact_tiny: bool = False, name: str = "round") -> Rounded:
    """Normalize, denormalize and round ``sig`` (W bits; its top bit weighs 2**(e - bias) for the biased
    exponent ``exp``, a two's-complement bus; ``sticky``: something nonzero lies below it) to the format.

    ``lead`` says where the leading one can be: ``"any"`` (leading-zero counter and a left shift,
    limited so the exponent stays >= 0), ``"top2"`` (bit W-1 or W-2: one multiplexer), ``"top1"``
    (normalized). ``exp_range`` bounds ``exp`` (known when the circuit is built): it decides which
    of the underflow and overflow paths exist. Tininess is detected after rounding; under ``ftz`` a
    tiny result is flushed to a zero of its sign (flags underflow and inexact). ``exact_tiny``: the unit
    never rounds below the normal range (an adder's small results are exact), so tininess needs no
    rounding look-ahead.
    """
    P, F, E = sp.P, sp.F, sp.E
    W = len(sig)
    ew = len(exp)
    lo, hi = exp_range
    zero = lg.c0
    # 1. normalize: e1 >= 1 with the top bit set, or e1 <= 0 (below the normal range)
    if lead == "any":
        lz, zero = parts.leading_zeros(sig, f"{name}_lzc")
        d, _ = parts.subtract(exp, lz, f"{name}_exp_minus_lz")  # exp - lz
        d_neg = d[-1]
        k = len(lz)
        # shift by lz, but no lower than exponent 0: L = min(lz, max(exp, 0)), e1 = exp - L
        if lo >= 0:
            amount = lg.mux_bus(d_neg, lz, exp[:k])
            e1 = lg.and_bus(lg.NOT(d_neg), d)
        else:
            exp_neg = exp[-1]
            amount = lg.mux_bus(d_neg, lz, lg.and_bus(lg.NOT(exp_neg), exp[:k]))
            e1 = lg.mux_bus(d_neg, d, lg.and_bus(exp_neg, exp))
        sig1, _ = parts.shift(sig, amount, "left", f"{name}_normalize")
        lo1 = min(lo, 0) if lo <= W else lo - W
    elif lead == "top2":
        top = sig[-1]
        sig1 = [lg.MUX(top, lo_, hi_) for lo_, hi_ in zip([lg.c0] + sig[:-1], sig)]
        e1, _ = parts.add(exp, lg.const_bus(-1, ew), top, f"{name}_exp_adjust")  # exp - 1 + top
        lo1 = lo - 1
    else:
        sig1, e1, lo1 = list(sig), list(exp), lo
    # 2. the p significand bits and a guard bit; everything lower is sticky
    if W >= P + 1:
        R = sig1[W - P - 1 :]
        st = lg.OR(lg.or_tree(sig1[: W - P - 1]), sticky)
    else:
        R = [lg.c0] * (P + 1 - W) + sig1
        st = sticky
    can_tiny = lo1 <= 0
    if can_tiny:
        e1_neg, e1_zero = e1[-1], lg.is_zero(e1)
        tiny_before = lg.OR(e1_neg, e1_zero)
        if exact_tiny:
            tiny = tiny_before
        else:  # tininess after rounding: an exponent-0 value that rounds up to 2**emin at p bits is not tiny
            up_p = round_decision(lg, rounding, sign, R[1], R[0], st)
            to_min_normal = lg.and_tree([e1_zero, up_p] + R[1:])
            tiny = lg.ANDNOT(tiny_before, to_min_normal)
    else:
        tiny_before = tiny = lg.c0
    # 3. denormalize below the normal range: shift right by 1 - e1, exponent 1
    if can_tiny and not ftz and lo1 >= 0:  # e1 is 0 or more: a shift by one at most
        st = lg.OR(st, lg.AND(tiny_before, R[0]))
        R = [lg.MUX(tiny_before, x, y) for x, y in zip(R, R[1:] + [lg.c0])]
    elif can_tiny and not ftz:
        t, _ = parts.subtract(lg.const_bus(1, ew), e1, f"{name}_denormal_distance")  # 1 - e1
        R, st_d = parts.shift(R, lg.and_bus(tiny_before, t), "right", f"{name}_denormalize")
        st = lg.OR(st, st_d)
    # 4. round: pack (exponent field - 1 + hidden bit, fraction) and add the rounding increment
    up = round_decision(lg, rounding, sign, R[1], R[0], st)
    inexact = lg.OR(R[0], st)
    M = R[1:]
    hidden = M[P - 1]
    field, _ = parts.add(e1, lg.const_bus(-1, ew), hidden, f"{name}_exp_field")  # e1 - 1 + hidden
    if can_tiny and not ftz:
        field = [lg.MUX(tiny_before, field[0], hidden)] + lg.and_bus(lg.NOT(tiny_before), field[1:])
    packed, _ = parts.increment(M[:F] + field, up, f"{name}_increment")
    mag = packed[: F + E]
    # 5. overflow: the exponent field reached all ones (a NaN pattern in a nan-only format) or beyond
    if hi >= sp.emax_field:
        beyond = lg.or_tree(packed[F + E : F + ew - 1])
        full = lg.and_tree(packed[: F + E] if sp.nan_only else packed[F : F + E])
        overflow = lg.OR(beyond, full)
        if can_tiny and ftz:
            overflow = lg.ANDNOT(overflow, tiny)
        to_inf = sp.overflow_value(0, rounding), sp.overflow_value(1, rounding)
        limit = [lg.MUX(sign, lg.const(to_inf[0] >> i & 1), lg.const(to_inf[1] >> i & 1)) for i in range(F + E)]
        mag = lg.mux_bus(overflow, mag, limit)
        inexact = lg.OR(inexact, overflow)
    else:
        overflow = lg.c0
    if ftz and can_tiny:  # flush to zero
        mag = lg.and_bus(lg.NOT(tiny), mag)
        return Rounded(mag, overflow, tiny, lg.OR(inexact, tiny), zero)
    return Rounded(mag, overflow, lg.AND(tiny, inexact), inexact, zero)


def finish(lg: Logic, sp: FloatSpec, net: Netlist, sign, r: Rounded, *, nan, invalid, inf=None, inf_sign=None,
           zero=None, zero_sign=None, divide_by_zero=None) -> None:
    """Drive the ``y`` and ``flags`` outputs: the canonical NaN where ``nan``, else an infinity of
    ``inf_sign`` where ``inf`` (the largest finite number in a nan-only format), else a zero of
    ``zero_sign`` where ``zero``, else the rounded datapath result. The datapath's flags count only
    when it supplies the result; ``invalid`` and ``divide_by_zero`` are the unit's own."""
    c0 = lg.c0
    inf = c0 if inf is None else inf
    zero = c0 if zero is None else zero
    inf_mag = sp.max_finite if sp.nan_only else sp.inf
    mag = []
    for i, m in enumerate(r.mag):
        v = lg.ANDNOT(m, zero)
        v = lg.MUX(inf, v, lg.const(inf_mag >> i & 1))
        mag.append(lg.MUX(nan, v, lg.const(sp.qnan >> i & 1)))
    s = lg.MUX(zero, sign, zero_sign if zero_sign is not None else c0)
    s = lg.MUX(inf, s, inf_sign if inf_sign is not None else c0)
    s = lg.ANDNOT(s, nan)
    special = lg.OR(nan, lg.OR(inf, zero))
    flags = [lg.ANDNOT(f, special) for f in (r.inexact, r.underflow, r.overflow)]
    flags += [divide_by_zero if divide_by_zero is not None else c0, invalid]
    net.output("y", mag + [s])
    net.output("flags", flags)
