"""Number formats: how many exponent and significand bits an operation works on.

``significand_bits`` counts the hidden bit (IEEE fp32: 24). Integer formats have only a width
(two's complement, signed).

Floating-point encodings (``nonfinite``):

* ``"ieee"`` -- IEEE 754 binary interchange: the all-ones exponent holds infinities (fraction 0) and
  NaNs (fraction != 0; quiet when the fraction's top bit is 1, signaling otherwise). fp16, bf16,
  tf32, fp32, fp64 and OCP fp8 E5M2 (``torch.float8_e5m2``).
* ``"nan-only"`` -- OCP 8-bit floating point E4M3 (``torch.float8_e4m3fn``): no infinities; the
  all-ones exponent is an ordinary binade except for the all-ones fraction, the one NaN pattern per
  sign. A result IEEE would round to an infinity (overflow, x/0, an infinite operand of a conversion)
  saturates to the largest finite value of that sign, as torch's conversions to ``float8_e4m3fn``
  do; the exception flags are IEEE's.

Formats by name: the built-ins below, ``eXmY`` for X exponent bits and Y stored fraction bits
(``e6m9``; ``e4m3fn`` for the nan-only encoding), ``intN`` for an N-bit integer.

Floating-point operands as the bit patterns a unit sees: :func:`encode_floats`, :func:`decode_floats`,
:func:`float_fields`,
:func:`float_parts` (one pattern as sign, integer significand and exponent: the exact reference models' view).
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np

from .errors import GatesimError

NONFINITE = ("ieee", "nan-only")


class FormatError(GatesimError, ValueError):
    """An unknown or malformed number format."""


@dataclass(frozen=True)
class NumberFormat:
    """A floating-point (``exponent_bits`` > 0) or integer (``kind="int"``) format."""

    name: str
    kind: str  # "float" or "int"
    exponent_bits: int = 0
    significand_bits: int = 0  # floats: hidden bit included; ints: the width
    nonfinite: str = "ieee"  # floats: "ieee" or "nan-only" (see the module docstring)

    def __post_init__(self):
        if self.kind not in ("float", "int"):
            raise FormatError(f"format {self.name!r}: kind must be 'float' or 'int', got {self.kind!r}")
        for field, v, lo in (("exponent_bits", self.exponent_bits, 2 if self.kind == "float" else 0),
                             ("significand_bits", self.significand_bits, 2)):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo or v > 128:
                raise FormatError(f"format {self.name!r}: {field} must be an integer in {lo}..128, got {v!r}")
        if self.kind == "int" and self.exponent_bits:
            raise FormatError(f"format {self.name!r}: an integer format has no exponent")
        if self.nonfinite not in NONFINITE:
            raise FormatError(f"format {self.name!r}: nonfinite must be one of {', '.join(NONFINITE)}, got {self.nonfinite!r}")
        if self.kind == "int" and self.nonfinite != "ieee":
            raise FormatError(f"format {self.name!r}: an integer format has no NaN encoding")
        if self.kind == "float" and self.nonfinite == "nan-only" and self.significand_bits < 3:
            raise FormatError(f"format {self.name!r}: a nan-only format needs at least 2 fraction bits")

    @property
    def is_float(self) -> bool:
        return self.kind == "float"

    @property
    def bits(self) -> int:
        """Storage width: sign + exponent + fraction for floats, the width for integers."""
        return 1 + self.exponent_bits + self.significand_bits - 1 if self.is_float else self.significand_bits

    @property
    def fraction_bits(self) -> int:
        """Stored fraction bits (significand bits less the hidden bit)."""
        return self.significand_bits - 1

    @property
    def bias(self) -> int:
        """Exponent bias, 2**(e-1) - 1."""
        return (1 << (self.exponent_bits - 1)) - 1

    @property
    def has_infinity(self) -> bool:
        return self.nonfinite == "ieee"

    @property
    def max_exponent_field(self) -> int:
        """Largest biased exponent field of a finite number."""
        return (1 << self.exponent_bits) - (2 if self.has_infinity else 1)

    @property
    def spec(self) -> str:
        """A name :func:`parse_format` reads back to this format: the built-in name, else ``eXmY`` / ``intN``."""
        if BUILTIN_FORMATS.get(self.name) == self:
            return self.name
        if not self.is_float:
            return f"int{self.significand_bits}"
        return f"e{self.exponent_bits}m{self.fraction_bits}" + ("fn" if self.nonfinite == "nan-only" else "")

    def to_dict(self) -> dict:
        d = {"name": self.name, "kind": self.kind, "exponent_bits": self.exponent_bits, "significand_bits": self.significand_bits}
        if self.nonfinite != "ieee":
            d["nonfinite"] = self.nonfinite
        return d


BUILTIN_FORMATS: dict[str, NumberFormat] = {
    f.name: f
    for f in [
        NumberFormat("fp8-e4m3", "float", 4, 4, "nan-only"),
        NumberFormat("fp8-e5m2", "float", 5, 3),
        NumberFormat("fp16", "float", 5, 11),
        NumberFormat("bf16", "float", 8, 8),
        NumberFormat("tf32", "float", 8, 11),
        NumberFormat("fp32", "float", 8, 24),
        NumberFormat("fp64", "float", 11, 53),
        NumberFormat("int8", "int", 0, 8),
        NumberFormat("int16", "int", 0, 16),
        NumberFormat("int32", "int", 0, 32),
        NumberFormat("int64", "int", 0, 64),
    ]
}

_SPEC = re.compile(r"^e(\d+)m(\d+)(fn)?$")
_INT = re.compile(r"^int(\d+)$")


def get_format(name: str, custom: dict[str, NumberFormat] | None = None) -> NumberFormat:
    """A built-in format by name, one of ``custom``, or a spec: ``eXmY`` (``eXmYfn``: nan-only), ``intN``."""
    if custom and name in custom:
        return custom[name]
    f = BUILTIN_FORMATS.get(name)
    if f is not None:
        return f
    m = _SPEC.match(name) if isinstance(name, str) else None
    if m:
        return NumberFormat(name, "float", int(m.group(1)), int(m.group(2)) + 1, "nan-only" if m.group(3) else "ieee")
    m = _INT.match(name) if isinstance(name, str) else None
    if m:
        return NumberFormat(name, "int", 0, int(m.group(1)))
    known = ", ".join(dict.fromkeys(list(BUILTIN_FORMATS) + list(custom or {})))
    raise FormatError(f"unknown number format {name!r} (known: {known}; or eXmY, eXmYfn, intN)")


def parse_format(value: "str | NumberFormat") -> NumberFormat:
    """A :class:`NumberFormat` as given, or read from a name or spec by :func:`get_format`."""
    if isinstance(value, NumberFormat):
        return value
    if not isinstance(value, str):
        raise FormatError(f"a number format is a name such as 'fp32' or 'e6m9', got {value!r}")
    return get_format(value)


def format_from_mapping(name: str, data: dict) -> NumberFormat:
    """A custom format from a profile table: ``exponent_bits`` and ``significand_bits`` (hidden bit
    included) or ``mantissa_bits`` (stored fraction bits, hidden bit excluded); ``kind`` and
    ``nonfinite`` (``"ieee"`` or ``"nan-only"``) optional."""
    if not isinstance(data, dict):
        raise FormatError(f"format {name!r}: expected a table with exponent_bits and significand_bits")
    unknown = set(data) - {"kind", "exponent_bits", "significand_bits", "mantissa_bits", "nonfinite"}
    if unknown:
        raise FormatError(f"format {name!r}: unknown key {sorted(unknown)[0]!r}")
    kind = data.get("kind", "float" if "exponent_bits" in data else "int")
    if "mantissa_bits" in data:
        if "significand_bits" in data:
            raise FormatError(f"format {name!r}: give significand_bits or mantissa_bits, not both")
        m = data["mantissa_bits"]
        lo, hi = (1, 127) if kind == "float" else (2, 128)  # so that significand_bits is in 2..128
        if isinstance(m, bool) or not isinstance(m, int) or not lo <= m <= hi:
            raise FormatError(f"format {name!r}: mantissa_bits must be an integer in {lo}..{hi}, got {m!r}")
        sig = m + 1 if kind == "float" else m
    else:
        sig = data.get("significand_bits")
    return NumberFormat(name, kind, data.get("exponent_bits", 0), sig, data.get("nonfinite", "ieee"))


# -- floating-point operands: reals <-> bit patterns --------------------------------------------------------------------
def _field_masks(fmt: NumberFormat) -> tuple[int, int, int]:
    frac_bits = fmt.significand_bits - 1
    return frac_bits, (1 << fmt.exponent_bits) - 1, (1 << fmt.exponent_bits - 1) - 1


def _encode_exact(values: np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """IEEE-754 style encoding of float64 values into ``fmt`` (bias 2^(E-1)-1, subnormals, round to nearest even),
    exactly, with integer arithmetic: ``uint64`` patterns (object ints beyond 64 bits). NaNs become the quiet NaN
    of their sign; overflows and infinities become infinities, or in a nan-only format the largest finite value of
    their sign (saturation, as torch's conversions to ``float8_e4m3fn`` do)."""
    frac_bits, emax_field, bias = _field_masks(fmt)
    nan_only = fmt.nonfinite == "nan-only"
    frac_ones = (1 << frac_bits) - 1
    # (field, fraction) of a NaN, of what an overflow becomes, and the first pattern past the largest finite value
    nan = (emax_field, frac_ones if nan_only else 1 << (frac_bits - 1))
    over = (emax_field, frac_ones - 1) if nan_only else (emax_field, 0)
    past = (emax_field, frac_ones) if nan_only else (emax_field, 0)
    out = np.empty(values.size, dtype=object)
    for i, x in enumerate(values.tolist()):
        sign = 1 if math.copysign(1.0, x) < 0 else 0
        a = abs(x)
        if math.isnan(x):
            e, f = nan
        elif math.isinf(a):
            e, f = over
        elif a == 0:
            e, f = 0, 0
        else:
            m, ex = math.frexp(a)  # a = m 2^ex, m in [0.5, 1)
            big = int(m * (1 << 53))  # a = big 2^(ex - 53), exactly
            eb = ex - 1 + bias  # biased exponent of the leading bit
            shift = 53 - fmt.significand_bits + (1 - eb if eb < 1 else 0)
            if shift <= 0:
                q = big << -shift
            else:
                q, rem = big >> shift, big & ((1 << shift) - 1)
                half = 1 << (shift - 1)
                if rem > half or (rem == half and q & 1):
                    q += 1
            if eb < 1:  # subnormal: q counts units of the smallest subnormal; q = 2^frac_bits is the smallest normal
                e, f = (1, 0) if q >> frac_bits else (0, q)
            else:
                if q >> fmt.significand_bits:  # rounding carried into a new leading bit
                    q >>= 1
                    eb += 1
                e, f = eb, q - (1 << frac_bits)
                if (e, f) >= past:
                    e, f = over
        out[i] = (sign << (fmt.exponent_bits + frac_bits)) | (e << frac_bits) | f
    return out if fmt.bits > 64 else out.astype(np.uint64)


def encode_floats(values, fmt: "NumberFormat | str") -> np.ndarray:
    """Bit patterns (``uint64``; object ints beyond 64 bits) of real ``values`` in a floating-point format, each
    rounded to nearest even: numpy's casts for fp16/fp32/fp64, torch's for bf16 and fp8 (``fp8-e4m3`` is OCP's
    E4M3FN: no infinities; torch saturates overflows and infinities to +-448), tf32 as fp32 rounded to 10 fraction bits, and exact integer
    arithmetic (:func:`_encode_exact`, IEEE-style) for any custom format. Bit 0 is the last fraction bit."""
    f = fmt if isinstance(fmt, NumberFormat) else get_format(fmt)
    if not f.is_float:
        raise FormatError(f"format {f.name!r} is an integer format; floats encode into float formats")
    x = np.asarray(values, dtype=np.float64).ravel()
    native = {("fp64", 11, 53): np.float64, ("fp32", 8, 24): np.float32, ("fp16", 5, 11): np.float16}
    key = (f.name, f.exponent_bits, f.significand_bits)
    if key in native:
        dt = native[key]
        with np.errstate(over="ignore", invalid="ignore"):
            bits = x.astype(dt).view(np.dtype(f"u{np.dtype(dt).itemsize}"))
        return bits.astype(np.uint64)
    if key == ("tf32", 8, 11):
        return encode_floats(_encode_tf32(x), "fp32") >> np.uint64(13)
    torch_names = {("bf16", 8, 8): "bfloat16", ("fp8-e4m3", 4, 4): "float8_e4m3fn", ("fp8-e5m2", 5, 3): "float8_e5m2"}
    if key in torch_names:
        import torch

        t = torch.from_numpy(x).to(getattr(torch, torch_names[key]))
        ints = t.view(torch.uint8 if t.element_size() == 1 else torch.int16).numpy().astype(np.int64)
        return (ints & ((1 << f.bits) - 1)).astype(np.uint64)
    return _encode_exact(x, f)


def _encode_tf32(x: np.ndarray) -> np.ndarray:
    """fp32 values rounded (to nearest even) to tf32's 10 fraction bits, as float64."""
    b = encode_floats(x, "fp32").astype(np.uint64)
    low = b & np.uint64(0x1FFF)
    keep = b >> np.uint64(13)
    up = (low > 0x1000) | ((low == 0x1000) & ((keep & np.uint64(1)) == 1))
    special = ((b >> np.uint64(23)) & np.uint64(0xFF)) == 0xFF
    r = np.where(special, b, (keep + up.astype(np.uint64)) << np.uint64(13))
    return r.astype(np.uint32).view(np.float32).astype(np.float64)


#: what a bit pattern holds (:func:`float_parts`)
ZERO, FINITE, INF, QNAN, SNAN = range(5)


@functools.cache
def _layout(fmt: NumberFormat) -> tuple:
    F, E = fmt.significand_bits - 1, fmt.exponent_bits
    return F, fmt.bits - 1, (1 << E) - 1, (1 << F) - 1, 1 - fmt.bias - F, fmt.bias + F, fmt.nonfinite == "nan-only"


def float_parts(bits: int, fmt: NumberFormat, ftz: bool = False) -> tuple[int, int, int, int]:
    """``(kind, sign, m, e)`` of one bit pattern of a floating-point format: its value is (-1)**sign * m * 2**e
    (integers) for finite numbers; zeros have m = 0 and the subnormals' exponent. ``kind`` is one of ZERO,
    FINITE, INF, QNAN, SNAN (a nan-only format's NaN is QNAN). ``ftz``: subnormals read as zeros of their sign."""
    F, top, exp_ones, frac_mask, e_sub, e_off, nan_only = _layout(fmt)
    sign = bits >> top & 1
    field = bits >> F & exp_ones
    frac = bits & frac_mask
    if nan_only:
        if field == exp_ones and frac == frac_mask:
            return QNAN, sign, 0, 0
    elif field == exp_ones:
        if frac == 0:
            return INF, sign, 0, 0
        return (QNAN if frac >> (F - 1) & 1 else SNAN), sign, 0, 0
    if field == 0:
        if frac == 0 or ftz:
            return ZERO, sign, 0, e_sub
        return FINITE, sign, frac, e_sub
    return FINITE, sign, frac | (1 << F), field - e_off


def decode_floats(bits, fmt: "NumberFormat | str") -> np.ndarray:
    """float64 values of bit patterns of a floating-point format (exact where float64 holds them; beyond its
    range, infinities of the sign)."""
    f = fmt if isinstance(fmt, NumberFormat) else get_format(fmt)
    out = []
    for b in np.asarray(bits, dtype=object).ravel().tolist():
        kind, sign, m, e = float_parts(int(b), f)
        s = -1.0 if sign else 1.0
        if kind >= QNAN:
            out.append(math.nan)
        elif kind == INF:
            out.append(s * math.inf)
        else:
            try:
                out.append(s * math.ldexp(m, e))
            except OverflowError:
                out.append(s * math.inf)
    return np.asarray(out, dtype=np.float64)


def float_fields(bits, fmt: "NumberFormat | str") -> dict[str, np.ndarray]:
    """``sign``, ``exponent`` (biased field), ``fraction`` and ``significand`` (fraction with the hidden bit, 0
    for zeros and subnormals' missing bit) of bit patterns: what a datapath port of that width sees."""
    f = fmt if isinstance(fmt, NumberFormat) else get_format(fmt)
    frac_bits, emax_field, _ = _field_masks(f)
    b = np.asarray(bits, dtype=object)
    exp = (b >> frac_bits) & emax_field
    frac = b & ((1 << frac_bits) - 1)
    sig = frac | (np.where(exp != 0, 1, 0).astype(object) << frac_bits)
    cast = (lambda a: a.astype(np.uint64)) if f.bits <= 64 else (lambda a: a)
    return {"sign": cast((b >> (f.bits - 1)) & 1), "exponent": cast(exp), "fraction": cast(frac),
            "significand": cast(sig)}
