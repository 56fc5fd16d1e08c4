"""The exact model the FP units are verified against, checked against a second, independent
implementation of the same IEEE 754 definitions written with fractions.Fraction: a result is the
representable neighbour of the exact rational value that the rounding mode picks."""
import math
from fractions import Fraction

import numpy as np
import pytest

import circuits
from circuits.floating.reference import Exact
from circuits.floating.spec import DZ, NV, NX, OF, UF, FloatSpec
from gatesim.formats import get_format

NAN, INF = "nan", "inf"


def value(bits, sp, ftz):
    """Fraction, ('inf', sign) or ('nan', signaling) of a bit pattern; (zero: Fraction(0), sign)."""
    sign = bits >> (sp.N - 1) & 1
    field, frac = bits >> sp.F & sp.exp_ones, bits & sp.frac_mask
    if sp.nan_only and field == sp.exp_ones and frac == sp.frac_mask:
        return NAN, False
    if not sp.nan_only and field == sp.exp_ones:
        return (INF, sign) if frac == 0 else (NAN, frac >> (sp.F - 1) == 0)
    if field == 0:
        v = Fraction(0) if ftz else Fraction(frac, 1 << sp.F) * Fraction(2) ** sp.emin
    else:
        v = Fraction((1 << sp.F) | frac, 1 << sp.F) * Fraction(2) ** (field - sp.bias)
    return -v if sign else v, sign


def neighbours(x: Fraction, q: int):
    """The multiples of 2**q just below and above x >= 0."""
    ulp = Fraction(2) ** q
    lo = math.floor(x / ulp) * ulp
    return lo, (lo if lo == x else lo + ulp)


def pick(x, lo, hi, q, rounding, sign):
    if lo == hi:
        return lo
    if rounding == "rtz" or (rounding == "rdn" and not sign) or (rounding == "rup" and sign):
        return lo
    if rounding in ("rdn", "rup"):
        return hi
    mid = (lo + hi) / 2
    if x != mid:
        return lo if x < mid else hi
    if rounding == "rmm":
        return hi
    return lo if (lo / Fraction(2) ** q) % 2 == 0 else hi


def encode(mag: Fraction, sign, sp):
    if mag == 0:
        return sign << (sp.N - 1)
    e = math.floor(math.log2(mag))
    while Fraction(2) ** e > mag:
        e -= 1
    while Fraction(2) ** (e + 1) <= mag:
        e += 1
    if e < sp.emin:
        bits = int(mag / Fraction(2) ** (sp.emin - sp.F))
    else:
        bits = ((e + sp.bias) << sp.F) | int(mag / Fraction(2) ** (e - sp.F) - (1 << sp.F))
    return (sign << (sp.N - 1)) | bits


def round_fraction(v: Fraction, sign, sp, rounding, ftz):
    x = abs(v)
    e = math.floor(math.log2(x))
    while Fraction(2) ** e > x:
        e -= 1
    while Fraction(2) ** (e + 1) <= x:
        e += 1
    # tininess after rounding: rounded to p bits, unbounded exponent
    lo, hi = neighbours(x, e - sp.F)
    tiny = pick(x, lo, hi, e - sp.F, rounding, sign) < Fraction(2) ** sp.emin
    if tiny and ftz:
        return sign << (sp.N - 1), UF | NX
    q = max(e, sp.emin) - sp.F
    lo, hi = neighbours(x, q)
    r = pick(x, lo, hi, q, rounding, sign)
    max_finite = value(sp.max_finite, sp, False)[0]
    if r > max_finite:
        to_inf = rounding in ("rne", "rmm") or (rounding == "rup" and not sign) or (rounding == "rdn" and sign)
        mag = sp.inf if to_inf and not sp.nan_only else sp.max_finite
        return (sign << (sp.N - 1)) | mag, OF | NX
    flags = 0 if r == x else NX
    if tiny and r != x:
        flags |= UF
    return encode(r, sign, sp), flags


def fraction_op(op, sp, rounding, ftz, *bits):
    vals = [value(b, sp, ftz) for b in bits]
    rdn_sign = int(rounding == "rdn")
    if any(v[0] == NAN for v in vals):
        inv = any(v[1] for v in vals if v[0] == NAN)
        if op == "fma" and {vals[0][0], vals[1][0]} == {INF, 0}:
            inv = True
        return sp.qnan, NV if inv else 0
    inf = lambda s: ((s << (sp.N - 1)) | (sp.max_finite if sp.nan_only else sp.inf), 0)  # noqa: E731
    if op == "sqrt":
        (v, s), = vals
        if v == INF:
            return (sp.qnan, NV) if s else inf(0)
        if v == 0:
            return s << (sp.N - 1), 0
        if v < 0:
            return sp.qnan, NV
        # a root to 2p + 8 bits with a sticky remainder decides the rounding like the exact root
        k = 2 * sp.P + 8 + max(0, -math.floor(math.log2(v)))
        n = v * Fraction(4) ** k
        r = math.isqrt(math.floor(n))
        approx = Fraction(r, 2 ** k) + (Fraction(1, 2 ** (k + 1)) if r * r != n else 0)
        return round_fraction(approx, 0, sp, rounding, ftz)
    if op in ("add", "mul", "div"):
        (x, sx), (y, sy) = vals
        if op == "add":
            if x == INF or y == INF:
                if x == INF and y == INF and sx != sy:
                    return sp.qnan, NV
                return inf(sx if x == INF else sy)
            r = x + y
            if r == 0:
                return ((sx if sx == sy and x == 0 and y == 0 else rdn_sign) << (sp.N - 1)), 0
            return round_fraction(r, int(r < 0), sp, rounding, ftz)
        s = sx ^ sy
        if op == "mul":
            if INF in (x, y):
                return (sp.qnan, NV) if 0 in (x, y) else inf(s)
            if 0 in (x, y):
                return s << (sp.N - 1), 0
            return round_fraction(x * y, s, sp, rounding, ftz)
        if (x == 0 and y == 0) or (x == INF and y == INF):
            return sp.qnan, NV
        if x == INF:
            return inf(s)
        if y == INF or x == 0:
            return s << (sp.N - 1), 0
        if y == 0:
            return inf(s)[0], DZ
        return round_fraction(x / y, s, sp, rounding, ftz)
    (x, sx), (y, sy), (z, sz) = vals  # fma
    sp_ = sx ^ sy
    if INF in (x, y):
        if 0 in (x, y):
            return sp.qnan, NV
        if z == INF and sz != sp_:
            return sp.qnan, NV
        return inf(sp_)
    if z == INF:
        return inf(sz)
    r = x * y + z
    if r == 0:
        both_zero = (x == 0 or y == 0) and z == 0
        return ((sz if both_zero and sz == sp_ else rdn_sign) << (sp.N - 1)), 0
    return round_fraction(r, int(r < 0), sp, rounding, ftz)


CONFIGS = [("rne", False), ("rtz", False), ("rdn", False), ("rup", False), ("rmm", False), ("rne", True)]


@pytest.mark.parametrize("fmt", ["fp8-e4m3", "fp8-e5m2", "fp16", "e3m2", "e4m2fn"])
@pytest.mark.parametrize("op", ["add", "mul", "fma", "div", "sqrt"])
def test_exact_model_equals_fraction_model(op, fmt):
    f = get_format(fmt)
    sp = FloatSpec(f)
    rng = np.random.default_rng(len(op) * 31 + len(fmt))
    stim = circuits.stimulus({"add": "fp-adder", "mul": "fp-multiplier", "fma": "fp-fma", "div": "fp-divider",
                              "sqrt": "fp-sqrt"}[op], format=fmt)
    for rounding, ftz in CONFIGS:
        model = Exact(f, rounding, ftz)
        v = stim.random(400, rng)
        cols = [[int(x) for x in v[p]] for p in stim.ports]
        for args in zip(*cols):
            want = fraction_op(op, sp, rounding, ftz, *args)
            got = getattr(model, op)(*args)
            assert got == want, (op, fmt, rounding, ftz, [hex(a) for a in args], hex(got[0]), hex(want[0]), got[1], want[1])


def test_conversions_and_compare_against_fractions():
    rng = np.random.default_rng(5)
    for src, dst in [("fp32", "fp8-e4m3"), ("fp16", "fp8-e5m2"), ("fp32", "bf16"), ("fp8-e5m2", "fp16"), ("e6m9", "e3m2")]:
        ssp, dsp = FloatSpec(get_format(src)), FloatSpec(get_format(dst))
        for rounding, ftz in CONFIGS:
            model = Exact(get_format(dst), rounding, ftz)
            stim = circuits.stimulus("fp-convert", format=src, to=dst)
            for a in stim.random(400, rng)["a"]:
                a = int(a)
                x, s = value(a, ssp, ftz)
                if x == NAN:
                    want = dsp.qnan, NV if s else 0
                elif x == INF:
                    want = (s << (dsp.N - 1)) | (dsp.max_finite if dsp.nan_only else dsp.inf), 0
                elif x == 0:
                    want = s << (dsp.N - 1), 0
                else:
                    want = round_fraction(x, s, dsp, rounding, ftz)
                assert model.convert(a, get_format(src), get_format(dst)) == want, (src, dst, rounding, ftz, hex(a))
    sp = FloatSpec(get_format("fp8-e5m2"))
    model = Exact(get_format("fp8-e5m2"))
    for a in range(256):
        for b in range(256):
            x, y = value(a, sp, False)[0], value(b, sp, False)[0]
            lt, eq, un, mn, mx, fl = model.compare(a, b)
            if NAN in (x, y):
                assert (lt, eq, un) == (0, 0, 1)
                continue
            xv = float("inf") * (-1 if a >> 7 else 1) if x == INF else x
            yv = float("inf") * (-1 if b >> 7 else 1) if y == INF else y
            assert (lt, eq, un) == (int(xv < yv), int(xv == yv), 0)
            assert {mn, mx} <= {a, b} and (xv != yv or a == b or (mn, mx) == ((a, b) if a >> 7 else (b, a)))
