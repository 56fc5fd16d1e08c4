"""Number formats: how many exponent and significand bits an operation works on.

``significand_bits`` counts the hidden bit (IEEE fp32: 24). Integer formats have only a width.
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import GatesimError


class FormatError(GatesimError, ValueError):
    """An unknown or malformed number format."""


@dataclass(frozen=True)
class NumberFormat:
    """A floating-point (``exponent_bits`` > 0) or integer (``kind="int"``) format."""

    name: str
    kind: str  # "float" or "int"
    exponent_bits: int = 0
    significand_bits: int = 0  # floats: hidden bit included; ints: the width

    def __post_init__(self):
        if self.kind not in ("float", "int"):
            raise FormatError(f"format {self.name!r}: kind must be 'float' or 'int', got {self.kind!r}")
        for field, v, lo in (("exponent_bits", self.exponent_bits, 2 if self.kind == "float" else 0),
                             ("significand_bits", self.significand_bits, 2)):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo or v > 128:
                raise FormatError(f"format {self.name!r}: {field} must be an integer in {lo}..128, got {v!r}")
        if self.kind == "int" and self.exponent_bits:
            raise FormatError(f"format {self.name!r}: an integer format has no exponent")

    @property
    def is_float(self) -> bool:
        return self.kind == "float"

    @property
    def bits(self) -> int:
        """Storage width: sign + exponent + fraction for floats, the width for integers."""
        return 1 + self.exponent_bits + self.significand_bits - 1 if self.is_float else self.significand_bits

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "exponent_bits": self.exponent_bits, "significand_bits": self.significand_bits}


BUILTIN_FORMATS: dict[str, NumberFormat] = {
    f.name: f
    for f in [
        NumberFormat("fp8-e4m3", "float", 4, 4),
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


def get_format(name: str, custom: dict[str, NumberFormat] | None = None) -> NumberFormat:
    """A built-in format by name, or one of ``custom``."""
    if custom and name in custom:
        return custom[name]
    f = BUILTIN_FORMATS.get(name)
    if f is None:
        known = ", ".join(dict.fromkeys(list(BUILTIN_FORMATS) + list(custom or {})))
        raise FormatError(f"unknown number format {name!r} (known: {known})")
    return f


def format_from_mapping(name: str, data: dict) -> NumberFormat:
    """A custom format from a profile table: ``exponent_bits`` and ``significand_bits`` (hidden bit
    included) or ``mantissa_bits`` (stored fraction bits, hidden bit excluded); ``kind`` optional."""
    if not isinstance(data, dict):
        raise FormatError(f"format {name!r}: expected a table with exponent_bits and significand_bits")
    unknown = set(data) - {"kind", "exponent_bits", "significand_bits", "mantissa_bits"}
    if unknown:
        raise FormatError(f"format {name!r}: unknown key {sorted(unknown)[0]!r}")
    kind = data.get("kind", "float" if "exponent_bits" in data else "int")
    if "mantissa_bits" in data:
        if "significand_bits" in data:
            raise FormatError(f"format {name!r}: give significand_bits or mantissa_bits, not both")
        m = data["mantissa_bits"]
        if isinstance(m, bool) or not isinstance(m, int):
            raise FormatError(f"format {name!r}: mantissa_bits must be an integer, got {m!r}")
        sig = m + 1 if kind == "float" else m
    else:
        sig = data.get("significand_bits")
    return NumberFormat(name, kind, data.get("exponent_bits", 0), sig)
