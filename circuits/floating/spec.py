"""Python-side constants of a floating-point format, the rounding modes and the exception flags.

Shared by the gate-level units (``datapath`` and the unit modules), the exact reference model and
the test-vector generators, so all three read the encoding the same way.
"""
from __future__ import annotations

from gatesim.errors import DesignError
from gatesim.formats import NumberFormat

#: rounding modes: to nearest, ties to even (IEEE default); toward zero; down (toward -inf); up
#: (toward +inf); to nearest, ties away from zero
ROUNDINGS = ("rne", "rtz", "rdn", "rup", "rmm")

#: the ``flags`` output port, bit by bit (the RISC-V ``fflags`` layout): bit 0 inexact (NX), 1 underflow
#: (UF), 2 overflow (OF), 3 divide by zero (DZ), 4 invalid operation (NV)
FLAGS = ("inexact", "underflow", "overflow", "divide_by_zero", "invalid")
NX, UF, OF, DZ, NV = (1 << i for i in range(5))


class FloatSpec:
    """Encoding constants of a float :class:`NumberFormat` (all integers; bit patterns unsigned)."""

    def __init__(self, fmt: NumberFormat):
        if not fmt.is_float:
            raise ValueError(f"{fmt.name} is not a floating-point format")
        self.fmt = fmt
        self.E = fmt.exponent_bits
        self.P = fmt.significand_bits
        self.F = self.P - 1
        self.N = fmt.bits
        self.bias = fmt.bias
        self.nan_only = fmt.nonfinite == "nan-only"
        self.emax_field = fmt.max_exponent_field  # largest finite exponent field
        self.exp_ones = (1 << self.E) - 1
        self.frac_mask = (1 << self.F) - 1
        self.mag_mask = (1 << (self.N - 1)) - 1
        self.sign_bit = 1 << (self.N - 1)
        self.emin = 1 - self.bias  # unbiased exponent of the smallest normal number
        self.max_finite = (self.emax_field << self.F) | (self.frac_mask - 1 if self.nan_only else self.frac_mask)
        self.inf = None if self.nan_only else self.exp_ones << self.F
        #: the NaN every unit returns: sign 0, exponent all ones, fraction MSB set (all ones when nan-only)
        self.qnan = (self.exp_ones << self.F) | (self.frac_mask if self.nan_only else 1 << (self.F - 1))
        self.one = self.bias << self.F

    def overflow_value(self, sign: int, rounding: str) -> int:
        """Magnitude bits of an overflowed result: infinity where the rounding goes there, else the
        largest finite number (always, in a nan-only format: saturation)."""
        to_inf = rounding in ("rne", "rmm") or (rounding == "rup" and not sign) or (rounding == "rdn" and sign)
        return self.inf if to_inf and not self.nan_only else self.max_finite

    def is_nan(self, bits: int) -> bool:
        mag = bits & self.mag_mask
        if self.nan_only:
            return mag == self.mag_mask
        return (mag >> self.F) == self.exp_ones and (mag & self.frac_mask) != 0


def float_spec(design: str, fmt: NumberFormat) -> FloatSpec:
    """The spec of ``fmt``, or a one-line DesignError when it is not a floating-point format."""
    if not fmt.is_float:
        raise DesignError(f"{design}: needs a floating-point format, got the integer format {fmt.name}")
    return FloatSpec(fmt)


def check_options(design: str, rounding, ftz) -> None:
    """Raise a one-line DesignError for an unknown rounding mode or a non-boolean ftz."""
    if rounding not in ROUNDINGS:
        raise DesignError(f"{design}: rounding must be one of {', '.join(ROUNDINGS)}, got {rounding!r}")
    if not isinstance(ftz, bool):
        raise DesignError(f"{design}: ftz must be True or False, got {ftz!r}")


def flag_names(flags: int) -> str:
    """``"inexact|overflow"`` for a flags value, ``"none"`` for 0."""
    names = [n for i, n in enumerate(FLAGS) if flags >> i & 1]
    return "|".join(names) or "none"
