"""Reference models of the floating-point units.

* **Exact model** (:func:`exact`): every finite operand is a dyadic rational m * 2**e held as Python
  integers, so sums and products are exact; quotients and roots are computed to at least p + 3
  bits with the remainder kept as a sticky bit, which decides every rounding exactly (the same
  answers as :mod:`fractions`, an order of magnitude faster). One :func:`round_pack` rounds every
  result: IEEE 754 rounding to the format (five modes), gradual underflow, tininess detected after
  rounding, overflow to infinity or the largest finite number, the ``flags`` of
  :data:`~circuits.floating.spec.FLAGS`, and flush-to-zero.
* **Platform model** (:func:`platform`): the same operation in the platform's own arithmetic --
  numpy float16/float32/float64, torch bfloat16, float8_e4m3fn and float8_e5m2 -- where the
  platform has the format and computes the operation correctly rounded (round to nearest even,
  subnormals kept): add, mul, div, sqrt, comparisons and conversions. fp8 operations run in float32
  and round once to fp8; with 24 >= 2p + 2 bits that double rounding is innocuous for +, -, *, /
  and sqrt (Figueroa 1995). NaNs come back as the canonical quiet NaN.

The registered reference of each unit (:func:`unit_reference`) takes ``y`` from the platform where
it exists and from the exact model elsewhere (round toward zero, flush-to-zero, FMA, custom
formats...), and ``flags`` from the exact model always. The tests check the two models agree
wherever both exist, and check the exact model against a plain :class:`fractions.Fraction`
implementation of the same definitions.
"""
from __future__ import annotations

import math

import numpy as np

from gatesim.formats import INF, QNAN, SNAN, ZERO, NumberFormat, float_parts

from .spec import DZ, NV, NX, OF, UF, FloatSpec


def _round_int(m: int, sh: int, sign: int, rounding: str):
    """m / 2**sh rounded to an integer by ``rounding`` (sh > 0); returns (integer, inexact)."""
    kept = m >> sh
    rem = m & ((1 << sh) - 1)
    if not rem:
        return kept, False
    half = 1 << (sh - 1)
    if rounding == "rne":
        up = rem > half or (rem == half and kept & 1)
    elif rounding == "rtz":
        up = False
    elif rounding == "rdn":
        up = bool(sign)
    elif rounding == "rup":
        up = not sign
    else:  # rmm
        up = rem >= half
    return kept + up, True


def round_pack(sign: int, m: int, e: int, sticky: bool, sp: FloatSpec, rounding: str, ftz: bool):
    """Bits and flags of the value (-1)**sign * (m + d) * 2**e, d = 0, or some d in (0, 1) when ``sticky``
    (then m must carry at least p + 2 bits: the remainder only has to decide the rounding).
    m must be nonzero or sticky set (exact zeros take their sign from the caller's rules)."""
    if sticky:
        m, e = 2 * m + 1, e - 1
    top = e + m.bit_length() - 1  # exponent of the leading one
    # tininess after rounding: the value rounded to p bits with an unbounded exponent is below 2**emin
    # (only a value in [2**(emin-1), 2**emin) can round up out of it)
    q = top - sp.F
    if top != sp.emin - 1 or q < e:
        tiny = top < sp.emin
    else:
        k, _ = _round_int(m, q - e, sign, rounding)
        tiny = q + k.bit_length() - 1 < sp.emin
    if tiny and ftz:
        return sign << (sp.N - 1), UF | NX
    lsb = max(q, sp.emin - sp.F)
    if lsb > e:
        kept, inexact = _round_int(m, lsb - e, sign, rounding)
    else:
        kept, inexact = m << (e - lsb), False
    if kept >> sp.P:  # rounding carried into a new binade
        kept >>= 1
        lsb += 1
    flags = NX if inexact else 0
    if tiny and inexact:
        flags |= UF
    if kept >> sp.F:
        field = lsb + sp.F + sp.bias
        mag = (field << sp.F) | (kept & sp.frac_mask)
        if field > sp.emax_field or mag > sp.max_finite:
            return (sign << (sp.N - 1)) | sp.overflow_value(sign, rounding), OF | NX
    else:
        mag = kept  # subnormal (or zero when it rounded away)
    return (sign << (sp.N - 1)) | mag, flags


class Exact:
    """The exact model of one unit configuration: format, rounding, flush-to-zero."""

    def __init__(self, fmt: NumberFormat, rounding: str = "rne", ftz: bool = False):
        self.sp = FloatSpec(fmt)
        self.rounding = rounding
        self.ftz = ftz

    # -- helpers -----------------------------------------------------------------------------------
    def _parts(self, *operands):
        """(kind, sign, significand, exponent) of each operand bit pattern, subnormals flushed under ftz."""
        return [float_parts(x, self.sp.fmt, self.ftz) for x in operands]

    def _nan(self, *kinds):
        return self.sp.qnan, (NV if SNAN in kinds else 0)

    def _inf(self, sign):
        sp = self.sp
        return (sign << (sp.N - 1)) | (sp.max_finite if sp.nan_only else sp.inf)

    def _zero(self, sign):
        return sign << (self.sp.N - 1)

    def _sum(self, sa, ma, ea, sb, mb, eb):
        """Round the exact sum of two finite values (either may be zero). An exact zero is +0 (-0 when
        rounding down), or the operands' sign when both are zeros of one sign."""
        e = min(ea, eb)
        s = (-ma if sa else ma) * (1 << (ea - e)) + (-mb if sb else mb) * (1 << (eb - e))
        if s == 0:
            return self._zero(sa if sa == sb and ma == 0 and mb == 0 else int(self.rounding == "rdn")), 0
        return round_pack(int(s < 0), abs(s), e, False, self.sp, self.rounding, self.ftz)

    # -- operations (bit patterns in, (bits, flags) out) -----------------------------------------
    def add(self, a: int, b: int):
        sp = self.sp
        (ka, sa, ma, ea), (kb, sb, mb, eb) = self._parts(a, b)
        if ka >= QNAN or kb >= QNAN:
            return self._nan(ka, kb)
        if ka == INF or kb == INF:
            if ka == kb and sa != sb:
                return sp.qnan, NV
            return self._inf(sa if ka == INF else sb), 0
        return self._sum(sa, ma, ea, sb, mb, eb)

    def mul(self, a: int, b: int):
        sp = self.sp
        (ka, sa, ma, ea), (kb, sb, mb, eb) = self._parts(a, b)
        if ka >= QNAN or kb >= QNAN:
            return self._nan(ka, kb)
        s = sa ^ sb
        if (ka == INF and kb == ZERO) or (kb == INF and ka == ZERO):
            return sp.qnan, NV
        if ka == INF or kb == INF:
            return self._inf(s), 0
        if ka == ZERO or kb == ZERO:
            return self._zero(s), 0
        return round_pack(s, ma * mb, ea + eb, False, sp, self.rounding, self.ftz)

    def fma(self, a: int, b: int, c: int):
        """a * b + c with one rounding."""
        sp = self.sp
        (ka, sa, ma, ea), (kb, sb, mb, eb), (kc, sc, mc, ec) = self._parts(a, b, c)
        inf_times_zero = (ka == INF and kb == ZERO) or (kb == INF and ka == ZERO)
        if ka >= QNAN or kb >= QNAN or kc >= QNAN:
            bits, flags = self._nan(ka, kb, kc)
            return bits, flags | (NV if inf_times_zero else 0)
        if inf_times_zero:
            return sp.qnan, NV
        sp_ = sa ^ sb
        if ka == INF or kb == INF:
            if kc == INF and sc != sp_:
                return sp.qnan, NV
            return self._inf(sp_), 0
        if kc == INF:
            return self._inf(sc), 0
        return self._sum(sp_, ma * mb, ea + eb, sc, mc, ec)

    def div(self, a: int, b: int):
        sp = self.sp
        (ka, sa, ma, ea), (kb, sb, mb, eb) = self._parts(a, b)
        if ka >= QNAN or kb >= QNAN:
            return self._nan(ka, kb)
        s = sa ^ sb
        if (ka == ZERO and kb == ZERO) or (ka == INF and kb == INF):
            return sp.qnan, NV
        if ka == INF:
            return self._inf(s), 0
        if kb == INF or ka == ZERO:
            return self._zero(s), 0
        if kb == ZERO:
            return self._inf(s), DZ
        shift = max(0, sp.P + 3 + mb.bit_length() - ma.bit_length())
        q, r = divmod(ma << shift, mb)
        return round_pack(s, q, ea - eb - shift, r != 0, sp, self.rounding, self.ftz)

    def sqrt(self, a: int):
        sp = self.sp
        ((ka, sa, ma, ea),) = self._parts(a)
        if ka >= QNAN:
            return self._nan(ka)
        if ka == ZERO:
            return self._zero(sa), 0
        if sa:
            return sp.qnan, NV
        if ka == INF:
            return self._inf(0), 0
        if ea & 1:
            ma, ea = ma << 1, ea - 1
        s = max(0, (2 * sp.P + 7 - ma.bit_length()) // 2)
        n = ma << (2 * s)
        r = math.isqrt(n)
        return round_pack(0, r, (ea - 2 * s) // 2, r * r != n, sp, self.rounding, self.ftz)

    def compare(self, a: int, b: int, signaling: bool = False):
        """(lt, eq, unordered, min, max, flags): IEEE compareQuietLess / compareQuietEqual (with
        ``signaling``, invalid on any NaN, as compareSignalingLess), and minimumNumber / maximumNumber
        (a NaN loses to a number, -0 < +0)."""
        sp = self.sp
        (ka, sa, ma, ea), (kb, sb, mb, eb) = self._parts(a, b)
        nan_a, nan_b = ka >= QNAN, kb >= QNAN
        flags = NV if (SNAN in (ka, kb) or (signaling and (nan_a or nan_b))) else 0
        # operands as the unit sees them (subnormals flushed to zeros of their sign under ftz)
        fa = a if ka != ZERO else self._zero(sa)
        fb = b if kb != ZERO else self._zero(sb)
        if nan_a or nan_b:
            pick = sp.qnan if nan_a and nan_b else (fb if nan_a else fa)
            return 0, 0, 1, pick, pick, flags

        va, vb = _ordered(ka, sa, ma, ea, kb, sb, mb, eb)
        lt = int(va < vb)
        eq = int(va == vb)
        # minimumNumber / maximumNumber: order with -0 < +0
        below = va < vb or (va == vb and sa > sb)
        return lt, eq, 0, (fa if below else fb), (fb if below else fa), flags

    def convert(self, a: int, src: NumberFormat, dst: NumberFormat):
        """``a`` (a bit pattern of ``src``) converted to ``dst`` (this model's format when float)."""
        if not src.is_float:
            n = src.bits
            v = a - (1 << n) if a >> (n - 1) & 1 else a
            if v == 0:
                return 0, 0
            return round_pack(int(v < 0), abs(v), 0, False, self.sp, self.rounding, self.ftz)
        k, s, m, e = float_parts(a, src, self.ftz)
        if not dst.is_float:
            return _to_int(k, s, m, e, dst.bits, self.rounding)
        sp = self.sp
        if k >= QNAN:
            return self._nan(k)
        if k == INF:
            return self._inf(s), 0
        if k == ZERO:
            return self._zero(s), 0
        return round_pack(s, m, e, False, sp, self.rounding, self.ftz)


def _ordered(ka, sa, ma, ea, kb, sb, mb, eb):
    """Two non-NaN values as integers (or infinities) in the same scale, so < and == compare the values."""
    e = min(ea, eb)
    va = math.inf if ka == INF else ma << (ea - e)
    vb = math.inf if kb == INF else mb << (eb - e)
    return (-va if sa else va), (-vb if sb else vb)


def _to_int(kind, sign, m, e, n, rounding):
    """Round to an n-bit signed integer; NaN and out-of-range saturate (NaN to the largest) with
    invalid, as RISC-V does; inexact when rounded."""
    top, bottom = (1 << (n - 1)) - 1, 1 << (n - 1)  # largest, |smallest|
    if kind >= QNAN:
        return top, NV
    if kind == INF:
        return (bottom if sign else top), NV
    if kind == ZERO or m == 0:
        return 0, 0
    if e >= 0:
        v, inexact = m << e, False
    else:
        v, inexact = _round_int(m, -e, sign, rounding)
    if (sign and v > bottom) or (not sign and v > top):
        return (bottom if sign else top), NV
    bits = (-v if sign else v) & ((1 << n) - 1)
    return bits, NX if inexact else 0


# ------------------------------------------------------------------------------------------------
# platform arithmetic
# ------------------------------------------------------------------------------------------------
def _platform_dtype(fmt: NumberFormat):
    """(library, dtype, unsigned view dtype) of the platform type holding ``fmt`` exactly, or None."""
    if not fmt.is_float:
        return None
    key = (fmt.exponent_bits, fmt.significand_bits, fmt.nonfinite)
    npt = {(5, 11, "ieee"): np.float16, (8, 24, "ieee"): np.float32, (11, 53, "ieee"): np.float64}
    if key in npt:
        return "numpy", npt[key]
    import torch

    tt = {(8, 8, "ieee"): torch.bfloat16, (4, 4, "nan-only"): torch.float8_e4m3fn, (5, 3, "ieee"): torch.float8_e5m2}
    if key in tt:
        return "torch", tt[key]
    return None


def _to_float(bits: np.ndarray, fmt: NumberFormat):
    """Bit patterns -> values: a numpy array (numpy formats) or a torch tensor."""
    lib, dt = _platform_dtype(fmt)
    raw = np.asarray(bits, dtype=np.uint64)
    if lib == "numpy":
        return raw.astype({2: np.uint16, 4: np.uint32, 8: np.uint64}[np.dtype(dt).itemsize]).view(dt)
    import torch

    ut = {2: (np.int16, torch.int16), 1: (np.int8, torch.int8)}[torch.tensor([], dtype=dt).element_size()]
    return torch.from_numpy(raw.astype(np.int64).astype(ut[0])).view(dt)


def _to_bits(values, fmt: NumberFormat) -> np.ndarray:
    """Values (numpy array or torch tensor of ``fmt``) -> bit patterns (uint64), NaNs canonical."""
    sp = FloatSpec(fmt)
    if isinstance(values, np.ndarray):
        nan = np.isnan(values)
        raw = values.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[values.dtype.itemsize]).astype(np.uint64)
    else:
        import torch

        nan = torch.isnan(values.float()).numpy()
        ui = torch.int16 if values.element_size() == 2 else torch.int8
        raw = values.view(ui).numpy().astype(np.int64) & ((1 << (8 * values.element_size())) - 1)
        raw = raw.astype(np.uint64)
    raw[nan] = sp.qnan
    return raw


PLATFORM_OPS = ("add", "mul", "div", "sqrt", "compare", "convert")


def platform(op: str, fmt: NumberFormat, *operands, dst: NumberFormat | None = None, rounding="rne", ftz=False):
    """The operation in numpy/torch arithmetic: ``y`` bits (or for compare a dict of lt/eq/unordered),
    or None where the platform lacks the format or cannot round the operation correctly."""
    if rounding != "rne" or ftz or op not in PLATFORM_OPS:
        return None
    if op == "convert":
        return _platform_convert(fmt, dst, operands[0])
    kind = _platform_dtype(fmt)
    if kind is None:
        return None
    lib, dt = kind
    xs = [_to_float(o, fmt) for o in operands]
    if lib == "numpy":
        with np.errstate(all="ignore"):
            if op == "compare":
                a, b = xs
                return {"lt": (a < b).astype(np.uint64), "eq": (a == b).astype(np.uint64),
                        "unordered": (np.isnan(a) | np.isnan(b)).astype(np.uint64)}
            y = {"add": lambda: xs[0] + xs[1], "mul": lambda: xs[0] * xs[1], "div": lambda: xs[0] / xs[1],
                 "sqrt": lambda: np.sqrt(xs[0])}[op]()
            return _to_bits(np.asarray(y, dtype=dt), fmt)
    import torch

    fs = [x.float() for x in xs]  # exact
    if op == "compare":
        a, b = fs
        return {"lt": (a < b).numpy().astype(np.uint64), "eq": (a == b).numpy().astype(np.uint64),
                "unordered": (torch.isnan(a) | torch.isnan(b)).numpy().astype(np.uint64)}
    if dt == torch.bfloat16:  # torch's own bfloat16 kernels
        y = {"add": lambda: xs[0] + xs[1], "mul": lambda: xs[0] * xs[1], "div": lambda: xs[0] / xs[1],
             "sqrt": lambda: torch.sqrt(xs[0])}[op]()
    else:  # fp8: float32 arithmetic, one conversion
        y = {"add": lambda: fs[0] + fs[1], "mul": lambda: fs[0] * fs[1], "div": lambda: fs[0] / fs[1],
             "sqrt": lambda: torch.sqrt(fs[0])}[op]().to(dt)
    return _to_bits(y, fmt)


def _platform_convert(src: NumberFormat, dst: NumberFormat, a):
    with np.errstate(all="ignore"):
        return _platform_convert_(src, dst, a)


def _platform_convert_(src: NumberFormat, dst: NumberFormat, a):
    """Conversions the platform rounds once: numpy between float16/32/64 and from integers to them;
    torch from float32 (and the formats it holds exactly) to bfloat16 and fp8; floats to integers
    (in range, numpy rint) are left to the exact model because out-of-range results differ."""
    if not dst.is_float:
        return None
    dk = _platform_dtype(dst)
    if dk is None:
        return None
    a = np.asarray(a, dtype=np.uint64)
    if not src.is_float:
        if dk[0] != "numpy" or src.bits > 64:
            return None
        n = src.bits
        v = a.astype(object)
        v = np.array([int(x) - (1 << n) if int(x) >> (n - 1) & 1 else int(x) for x in v], dtype=np.int64)
        return _to_bits(v.astype(dk[1]), dst)
    sk = _platform_dtype(src)
    if sk is None:
        return None
    x = _to_float(a, src)
    if dk[0] == "numpy":
        if sk[0] != "numpy":
            x = x.float().numpy()  # exact
        return _to_bits(x.astype(dk[1]), dst)
    import torch

    if sk[0] == "numpy":
        if x.dtype == np.float64 and src.significand_bits > 24:
            return None  # torch rounds double -> float -> target: two roundings
        x = torch.from_numpy(x.astype(np.float32))
    return _to_bits(x.float().to(dk[1]), dst)


# ------------------------------------------------------------------------------------------------
# the registered references
# ------------------------------------------------------------------------------------------------
INPUTS = {"add": ("a", "b"), "mul": ("a", "b"), "fma": ("a", "b", "c"), "div": ("a", "b"), "sqrt": ("a",),
          "compare": ("a", "b"), "convert": ("a",)}


def _ints(values) -> list[int]:
    return [int(x) for x in np.asarray(values, dtype=object).ravel()]


def unit_reference(op: str):
    """The registry's reference factory for one operation: ``(format, rounding=..., ftz=..., **params)
    -> ref`` where ``ref({port: values}) -> {"y": ..., "flags": ...}`` (compare: lt, eq, unordered,
    min, max, flags). ``y`` comes from :func:`platform` where it exists, else from :class:`Exact`."""

    def factory(fmt: NumberFormat, rounding: str = "rne", ftz: bool = False, signaling: bool = False,
                to: "str | NumberFormat | None" = None, **_roles):
        from gatesim.formats import parse_format

        dst = parse_format(to) if to is not None else None
        model = Exact(dst if op == "convert" and dst.is_float else fmt, rounding, ftz)

        def ref(v):
            cols = [_ints(v[p]) for p in INPUTS[op]]
            if op == "compare":
                rows = [model.compare(a, b, signaling) for a, b in zip(*cols)]
                out = {k: np.array([r[i] for r in rows], dtype=object)
                       for i, k in enumerate(("lt", "eq", "unordered", "min", "max", "flags"))}
                pl = platform("compare", fmt, *[np.array(c, dtype=np.uint64) for c in cols], rounding=rounding, ftz=ftz)
                if pl is not None:
                    out.update({k: pl[k].astype(object) for k in ("lt", "eq", "unordered")})
                return out
            if op == "convert":
                rows = [model.convert(a, fmt, dst) for a in cols[0]]
            else:
                f = getattr(model, op)
                rows = [f(*xs) for xs in zip(*cols)]
            y = np.array([r[0] for r in rows], dtype=object)
            pl = platform(op, fmt, *[np.array(c, dtype=np.uint64) for c in cols], dst=dst, rounding=rounding, ftz=ftz)
            if pl is not None:
                y = pl.astype(object)
            return {"y": y, "flags": np.array([r[1] for r in rows], dtype=object)}

        probe = np.zeros(1, dtype=np.uint64)
        with np.errstate(all="ignore"):
            has = platform(op, fmt, *[probe] * len(INPUTS[op]), dst=dst, rounding=rounding, ftz=ftz) is not None
        target = dst if op == "convert" and dst is not None and dst.is_float else fmt
        kind = _platform_dtype(target) if has else None
        name = None
        if kind:
            name = f"numpy {np.dtype(kind[1]).name}" if kind[0] == "numpy" else str(kind[1]).replace("torch.", "torch ")
        what = "lt/eq/unordered" if op == "compare" else "y"
        ref.description = (f"{name} for {what}, exact model for the rest" if name else "exact model")
        return ref

    return factory


def describe_value(bits: int, fmt: NumberFormat) -> str:
    """``0x3c00 (1.0)``: a bit pattern with its value."""
    width = (fmt.bits + 3) // 4
    if not fmt.is_float:
        v = bits - (1 << fmt.bits) if bits >> (fmt.bits - 1) & 1 else bits
        return f"{bits:#0{width + 2}x} ({v})"
    kind, sign, m, e = float_parts(bits, fmt)
    if kind in (QNAN, SNAN):
        text = "sNaN" if kind == SNAN else "NaN"
    elif kind == INF:
        text = "-inf" if sign else "inf"
    else:
        from fractions import Fraction

        v = Fraction(m) * Fraction(2) ** e
        try:
            f = float(v)
            exact = Fraction(f) == v
        except OverflowError:
            exact = False
        text = ("-" if sign else "") + (repr(f) if exact else f"{m}*2**{e}")
    return f"{bits:#0{width + 2}x} ({text})"


def unit_decoder(op: str):
    """The registry's decode factory: ``(format, **params) -> (port, value) -> str``."""

    def factory(fmt: NumberFormat, to=None, **_params):
        from gatesim.formats import parse_format

        from .spec import flag_names

        out_fmt = parse_format(to) if op == "convert" and to is not None else fmt

        def describe(port: str, value: int) -> str:
            if port == "flags":
                return f"{value:#x} ({flag_names(value)})"
            if port in ("a", "b", "c", "min", "max"):
                return describe_value(value, fmt)
            if port == "y":
                return describe_value(value, out_fmt)
            return str(value)

        return describe

    return factory
