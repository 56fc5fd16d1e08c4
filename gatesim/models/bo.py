"""Basic-operation (BO) vectors: exact integer counts of add, sub, mul, div, root and compare.

The paper (section II.A) orders the five BOs as ``[n_add, n_sub, n_mul, n_div, n_root]``;
``compare`` (max, ReLU, pooling, argmax, ...) is a sixth count the paper does not have.
"""
from __future__ import annotations

from typing import Iterable, Mapping

import torch

OPERATIONS: tuple[str, ...] = ("add", "sub", "mul", "div", "root", "compare")
PAPER_OPERATIONS: tuple[str, ...] = ("add", "sub", "mul", "div", "root")


def symbolic_value(v: "torch.SymInt") -> int:
    """The value of a size symbol on fake tensors: the real value it carries when the inputs decide it, else the
    upper bound :class:`~gatesim.models.fakemode.RealValues` gave it."""
    try:
        return int(v)
    except Exception as e:  # an unbacked symbol without a value yet: its shape environment's hint
        node = v.node
        hint = node.shape_env.size_hint(node.expr, allow_none=True) if node.shape_env is not None else None
        if hint is None:
            raise TypeError(f"a count depends on a size no value decides: {v!r}") from e
        return int(hint)


class BOVector:
    """An immutable vector of exact integer BO counts. ``a + b``, ``n * a``, ``a == b``, ``to_dict()``."""

    __slots__ = ("add", "sub", "mul", "div", "root", "compare")

    def __init__(self, add: int = 0, sub: int = 0, mul: int = 0, div: int = 0, root: int = 0, compare: int = 0):
        for name, v in zip(OPERATIONS, (add, sub, mul, div, root, compare)):
            if isinstance(v, torch.SymInt):  # a data-dependent size (fake tensors): its real or assumed value
                v = symbolic_value(v)
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
            if type(n).__name__ != "SymInt":  # a data-dependent size on fake tensors: its known value
                return NotImplemented
            n = int(n)
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
    torch.bool: "int8",  # booleans are stored, compared and combined as bytes
    torch.complex64: "complex64",
    torch.complex128: "complex128",
    torch.complex32: "complex32",
    # quantized tensors carry their integers in these formats
    torch.qint8: "int8",
    torch.quint8: "uint8",
    torch.qint32: "int32",
}
# fp8 names as the transistor tables spell them (gatesim.formats): fp8-e4m3, fp8-e5m2
for _name, _fmt in (("float8_e4m3fn", "fp8-e4m3"), ("float8_e5m2", "fp8-e5m2"),
                    ("float8_e4m3fnuz", "fp8-e4m3fnuz"), ("float8_e5m2fnuz", "fp8-e5m2fnuz")):
    if hasattr(torch, _name):
        _DTYPE_FORMATS[getattr(torch, _name)] = _fmt

FORMAT_DTYPES = {v: k for k, v in _DTYPE_FORMATS.items() if k not in (torch.qint8, torch.quint8, torch.qint32, torch.bool)}

#: the real format a complex format computes in (a complex multiply is 4 real multiplies and 2 adds)
COMPLEX_PARTS = {"complex32": "fp16", "complex64": "fp32", "complex128": "fp64"}

#: where a dot product of each input format accumulates by default: fp32 for narrower floats (GPU tensor cores,
#: CPU bf16 kernels), int32 for 8- and 16-bit integers; wider formats accumulate in themselves
DEFAULT_ACCUMULATE = {"fp8-e4m3": "fp32", "fp8-e5m2": "fp32", "fp8-e4m3fnuz": "fp32", "fp8-e5m2fnuz": "fp32",
                      "fp16": "fp32", "bf16": "fp32", "tf32": "fp32", "int8": "int32", "uint8": "int32",
                      "int16": "int32"}


def _format_bits(fmt: str) -> int | None:
    try:
        from ..formats import get_format

        return get_format(fmt).bits
    except Exception:
        dt = FORMAT_DTYPES.get(fmt)
        return dt.itemsize * 8 if dt is not None else None


def accumulator_format(fmt: str, accumulate: str | None = None) -> str:
    """The format a dot product (matmul, convolution, attention) of ``fmt`` inputs accumulates in.

    ``accumulate`` (``"fp32"``, ``"fp16"``, ``"int32"``...) overrides the default for inputs of the same kind
    (float or integer) that are not wider than it; otherwise :data:`DEFAULT_ACCUMULATE`, else ``fmt`` itself."""
    if accumulate:
        acc = normalize_format(accumulate)
        is_int = fmt.startswith(("int", "uint"))
        if is_int == acc.startswith(("int", "uint")):
            a_bits, f_bits = _format_bits(acc), _format_bits(fmt)
            if a_bits is None or f_bits is None or a_bits >= f_bits:
                return acc
            return fmt
    return DEFAULT_ACCUMULATE.get(fmt, fmt)
FORMAT_ALIASES = {"float32": "fp32", "float": "fp32", "fp-32": "fp32", "float16": "fp16", "half": "fp16",
                  "fp-16": "fp16", "bfloat16": "bf16", "float64": "fp64", "double": "fp64", "fp-64": "fp64",
                  "fp8_e4m3fn": "fp8-e4m3", "float8_e4m3fn": "fp8-e4m3", "fp8_e4m3": "fp8-e4m3",
                  "fp8_e5m2": "fp8-e5m2", "float8_e5m2": "fp8-e5m2", "char": "int8", "byte": "uint8",
                  "int": "int32", "long": "int64", "short": "int16", "qint8": "int8", "quint8": "uint8"}


def complex_bos(v: "BOVector") -> "BOVector":
    """Real BOs of complex arithmetic: (a+bi)(c+di) = 4 mul, 1 add, 1 sub; a division multiplies by the conjugate
    and divides both parts by c^2 + d^2; a square root takes |z| (2 mul, add, root) and two more roots."""
    return BOVector(add=2 * v.add + v.mul + 2 * v.div + 2 * v.root, sub=2 * v.sub + v.mul + v.div + v.root,
                    mul=4 * v.mul + 6 * v.div + 3 * v.root, div=2 * v.div + v.root, root=3 * v.root,
                    compare=2 * v.compare)


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
