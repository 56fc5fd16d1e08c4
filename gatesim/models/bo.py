"""Basic-operation (BO) vectors: exact integer counts of add, sub, mul, div, root and compare.

The paper (section II.A) orders the five BOs as ``[n_add, n_sub, n_mul, n_div, n_root]``;
``compare`` (max, ReLU, pooling, argmax, ...) is a sixth count the paper does not have.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import torch

OPERATIONS: tuple[str, ...] = ("add", "sub", "mul", "div", "root", "compare")
PAPER_OPERATIONS: tuple[str, ...] = ("add", "sub", "mul", "div", "root")


class BOVector:
    """An immutable vector of exact integer BO counts. ``a + b``, ``n * a``, ``a == b``, ``to_dict()``."""

    __slots__ = ("add", "sub", "mul", "div", "root", "compare")

    def __init__(self, add: int = 0, sub: int = 0, mul: int = 0, div: int = 0, root: int = 0, compare: int = 0):
        for name, v in zip(OPERATIONS, (add, sub, mul, div, root, compare)):
            if isinstance(v, bool) or not isinstance(v, int):
                try:
                    iv = int(v)
                except (TypeError, ValueError):
                    raise TypeError(f"BO count {name} must be an integer, got {v!r}") from None
                if iv != v:
                    raise TypeError(f"BO count {name} must be an integer, got {v!r}")
                v = iv
            if v < 0:
                raise ValueError(f"BO count {name} must not be negative, got {v}")
            object.__setattr__(self, name, v)

    def __setattr__(self, name, value):  # immutable
        raise AttributeError("BOVector is immutable")

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_list(cls, values: Iterable[int]) -> "BOVector":
        """From the paper's 5-list ``[add, sub, mul, div, root]`` or a 6-list with compare."""
        vals = list(values)
        if len(vals) not in (5, 6):
            raise ValueError(f"expected 5 or 6 counts, got {len(vals)}")
        return cls(*vals)

    @classmethod
    def from_dict(cls, d: Mapping[str, int]) -> "BOVector":
        unknown = set(d) - set(OPERATIONS)
        if unknown:
            raise ValueError(f"unknown basic operation(s) {sorted(unknown)}; expected {list(OPERATIONS)}")
        return cls(**dict(d))

    # -- views ---------------------------------------------------------------------------------
    def as_tuple(self) -> tuple[int, ...]:
        return (self.add, self.sub, self.mul, self.div, self.root, self.compare)

    def paper_list(self) -> list[int]:
        """The paper's five-element list ``[add, sub, mul, div, root]`` (compare dropped)."""
        return [self.add, self.sub, self.mul, self.div, self.root]

    def to_dict(self) -> dict[str, int]:
        return dict(zip(OPERATIONS, self.as_tuple()))

    def total(self) -> int:
        return sum(self.as_tuple())

    def items(self):
        return zip(OPERATIONS, self.as_tuple())

    # -- arithmetic ----------------------------------------------------------------------------
    def __add__(self, other):
        if isinstance(other, BOVector):
            return BOVector(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple())))
        if other == 0:  # so sum() works
            return self
        return NotImplemented

    __radd__ = __add__

    def __mul__(self, n):
        if isinstance(n, bool) or not isinstance(n, int):
            return NotImplemented
        return BOVector(*(a * n for a in self.as_tuple()))

    __rmul__ = __mul__

    def __eq__(self, other):
        if isinstance(other, BOVector):
            return self.as_tuple() == other.as_tuple()
        if isinstance(other, (list, tuple)) and len(other) in (5, 6):
            return list(self.as_tuple()[: len(other)]) == list(other) and (len(other) == 6 or self.compare == 0)
        return NotImplemented

    def __hash__(self):
        return hash(self.as_tuple())

    def __bool__(self):
        return any(self.as_tuple())

    def __repr__(self):
        inner = ", ".join(f"{k}={v}" for k, v in self.items() if v)
        return f"BOVector({inner})"


ZERO = BOVector()


def bo(**counts: int) -> BOVector:
    """Shorthand: ``bo(add=1, mul=2)``."""
    return BOVector(**counts)


# -- number formats ----------------------------------------------------------------------------
_DTYPE_FORMATS = {
    torch.float32: "fp32",
    torch.float16: "fp16",
    torch.bfloat16: "bf16",
    torch.float64: "fp64",
    torch.int8: "int8",
    torch.uint8: "uint8",
    torch.int16: "int16",
    torch.int32: "int32",
    torch.int64: "int64",
    torch.bool: "bool",
    torch.complex64: "complex64",
    torch.complex128: "complex128",
}
# fp8 names as the transistor tables spell them (gatesim.formats): fp8-e4m3, fp8-e5m2
for _name, _fmt in (("float8_e4m3fn", "fp8-e4m3"), ("float8_e5m2", "fp8-e5m2"),
                    ("float8_e4m3fnuz", "fp8-e4m3fnuz"), ("float8_e5m2fnuz", "fp8-e5m2fnuz")):
    if hasattr(torch, _name):
        _DTYPE_FORMATS[getattr(torch, _name)] = _fmt

FORMAT_DTYPES = {v: k for k, v in _DTYPE_FORMATS.items()}
FORMAT_ALIASES = {"float32": "fp32", "float": "fp32", "fp-32": "fp32", "float16": "fp16", "half": "fp16",
                  "fp-16": "fp16", "bfloat16": "bf16", "float64": "fp64", "double": "fp64", "fp-64": "fp64",
                  "fp8_e4m3fn": "fp8-e4m3", "float8_e4m3fn": "fp8-e4m3", "fp8_e4m3": "fp8-e4m3",
                  "fp8_e5m2": "fp8-e5m2", "float8_e5m2": "fp8-e5m2"}


def format_of(dtype: torch.dtype) -> str:
    """The table format name for a torch dtype: ``torch.float32`` -> ``"fp32"``."""
    try:
        return _DTYPE_FORMATS[dtype]
    except KeyError:
        return str(dtype).replace("torch.", "")


def normalize_format(fmt: str) -> str:
    f = fmt.strip().lower()
    return FORMAT_ALIASES.get(f, f)


def dtype_of(fmt: str) -> torch.dtype:
    """``"fp16"`` -> ``torch.float16``; raises ValueError on an unknown name."""
    f = normalize_format(fmt)
    try:
        return FORMAT_DTYPES[f]
    except KeyError:
        raise ValueError(f"unknown number format {fmt!r}; known: {', '.join(sorted(FORMAT_DTYPES))}") from None
