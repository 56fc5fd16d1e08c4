"""The operands a transistor table's entries are simulated under: their *activity*.

By default a table simulates each unit under its mode's random operands (uniformly random bits; uniformly random
finite values for the packed floats of complete IEEE units). :func:`parse_activity` names other operands:

* an operand distribution (:mod:`gatesim.operands`: ``zeros``, ``sparse:0.5``, ``normal:0,0.02+relu-normal``,
  ``lowbits:4``, ...). Value distributions describe the two inputs ``x``, ``y`` of a dot product (weights and
  activations), and each unit sees what a dot product's unit sees: ``mul`` x and y; ``fma`` x, y and the running
  sum ``s`` (the accumulator, restarted every :data:`DOT_LENGTH` terms); ``add`` accumulates, ``s`` and ``x*y``;
  ``sub``, ``div``, ``compare`` x and y; ``root`` ``|x|``. Bit-level distributions (``uniform``, ``finite``), or a
  spec naming ports (``a=zeros+b=normal``), feed every operand independently.
* ``sampled``: operand streams captured from a real model (:func:`gatesim.models.sampling.sample_operands`):
  any object with ``streams`` (``{operation: {"a": values, "b": ..., "c": ...}}``) and ``digest()``. An entry
  whose operation has no samples, or whose format is an integer one, keeps the mode's random operands.

Values reach a unit's ports through its format: a packed float port takes the pattern
(:func:`gatesim.formats.encode_floats`, round to nearest even), a paper-mode datapath port ``a_sig``/``a_exp``/
``a_sign`` the significand (hidden bit included), biased exponent or sign, a compare port one bit narrower than
the format the magnitude; an integer port the value in two's complement (rounded, clipped).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import GatesimError
from .formats import NumberFormat, encode_floats, float_fields
from .operands import OperandSpec, _to_port, parse_operands

#: terms of the dot product whose running sum an ``add``/``fma`` sees under a value distribution
DOT_LENGTH = 256
_BIT_LEVEL = ("uniform", "finite")
_OPERANDS = ("a", "b", "c")


class ActivityError(GatesimError, ValueError):
    """Operands that cannot reach a unit's ports."""


@dataclass(frozen=True)
class Activity:
    """A table's operands: an operand distribution spec, or sampled streams (``samples``)."""

    spec: OperandSpec | None = None
    samples: object | None = None

    @property
    def label(self) -> str:
        """How tables and reports name it: ``normal:0,0.02`` or ``sampled:<first 12 hex of the digest>``."""
        return self.spec.text if self.spec is not None else f"sampled:{self.digest[:12]}"

    @property
    def digest(self) -> str:
        return self.samples.digest() if self.samples is not None else ""

    @property
    def key(self) -> str:
        """What a cache key holds: the canonical spec or the samples' full digest."""
        return self.spec.text if self.spec is not None else f"sampled:{self.digest}"

    def covers(self, op: str, fmt: NumberFormat) -> bool:
        """Whether an entry simulates under these operands (else it keeps the mode's random ones)."""
        if self.spec is not None:
            return True
        return fmt.is_float and bool(self.samples.streams.get(op))


def parse_activity(value) -> Activity | None:
    """None / ``"default"`` (the mode's random operands), a spec string, an :class:`OperandSpec`, an
    :class:`Activity`, or sampled streams (an object with ``streams`` and ``digest()``)."""
    if value is None or isinstance(value, Activity):
        return value
    if isinstance(value, OperandSpec):
        return Activity(spec=value)
    if isinstance(value, str):
        if value.strip().lower() in ("", "default"):
            return None
        if value.strip().lower() == "sampled":
            raise ActivityError("activity 'sampled' needs operand samples from a model (--model, or "
                                "gatesim.models.sampling.sample_operands)")
        return Activity(spec=parse_operands(value))
    if hasattr(value, "streams") and callable(getattr(value, "digest", None)):
        return Activity(samples=value)
    raise ActivityError(f"activity must be a distribution spec or operand samples, got {type(value).__name__}")


def _operand_values(activity: Activity, op: str, names: list[str], fmt: NumberFormat, n: int,
                    seed: int) -> dict[str, np.ndarray]:
    """Per operand name: real values (float64), or, under a bit-level distribution, packed patterns already in
    ``fmt`` (marked by an unsigned integer dtype)."""
    if activity.samples is not None:
        stream = activity.samples.streams[op]
        missing = [x for x in names if x not in stream]
        if missing:
            raise ActivityError(f"operand samples for {op} have no operand {missing[0]!r} (have: {', '.join(stream)})")
        return {x: np.asarray(stream[x], dtype=np.float64)[:n] for x in names}
    spec = activity.spec
    if spec.by_name:
        dists = spec.resolve(names)
        plain = True
    else:
        order = list(spec.ordered)
        dists = dict(zip(("x", "y", "z"), order if len(order) > 1 else order * 3))
        dists.setdefault("y", dists["x"])
        plain = any(d.name in _BIT_LEVEL for d in order)
        if plain:
            dists = {x: dists.get(k, dists["y"]) for x, k in zip(names, ("x", "y", "z"))}
    width = fmt.bits
    drawn = {}
    for k, (name, d) in enumerate(dists.items()):
        rng = np.random.default_rng([seed, k])
        if d.name in _BIT_LEVEL:
            drawn[name] = d.sample(rng, n, width, fmt if fmt.is_float else None)
        else:
            drawn[name] = d.real(rng, n, width, fmt if fmt.is_float else None)
    if plain:
        return drawn
    x, y = drawn["x"], drawn["y"]
    prod = x * y
    s = np.zeros(n)
    for start in range(0, n, DOT_LENGTH):  # the accumulator before each term, restarted every DOT_LENGTH terms
        seg = prod[start:start + DOT_LENGTH]
        s[start:start + len(seg)] = np.concatenate(([0.0], np.cumsum(seg)[:-1]))
    per_op = {"mul": (x, y), "fma": (x, y, s), "add": (s, prod), "root": (np.abs(x),)}
    vals = per_op.get(op, (x, y))
    if len(vals) < len(names):
        raise ActivityError(f"{op} takes {len(names)} operands; the activity gives {len(vals)}")
    return dict(zip(names, vals))


def _encode(values: np.ndarray, fmt: NumberFormat, width: int) -> np.ndarray:
    """Packed patterns of ``fmt`` for real values (patterns pass through)."""
    if values.dtype.kind in "uO":
        return values
    if fmt.is_float:
        return encode_floats(values, fmt)
    return _to_port(values, width, None)


def _port_view(patterns: np.ndarray, port: str, field: str, width: int, fmt: NumberFormat) -> np.ndarray:
    if not fmt.is_float:
        if width == fmt.bits:
            return patterns
        return _to_port(np.asarray([_signed(int(v), fmt.bits) for v in patterns], dtype=np.float64), width, None)
    fields = float_fields(patterns, fmt)
    if field == "sig" or (not field and width == fmt.significand_bits and width != fmt.bits):
        return fields["significand"]
    if field == "exp" or (not field and width == fmt.exponent_bits and width != fmt.bits):
        return fields["exponent"]
    if field == "sign" and width == 1:
        return fields["sign"]
    if not field and width == fmt.bits:
        return patterns
    if not field and width == fmt.bits - 1:  # a magnitude comparator on exponent and fraction
        mask = (1 << width) - 1
        return patterns & (np.uint64(mask) if patterns.dtype == np.uint64 else mask)
    raise ActivityError(f"input port {port!r} ({width} bits) takes no field of a {fmt.name} operand "
                        f"({fmt.bits}-bit pattern, {fmt.significand_bits}-bit significand, "
                        f"{fmt.exponent_bits}-bit exponent)")


def _signed(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) else v


def entry_operands(comp, net, fmt: NumberFormat, op: str, activity: Activity, vectors: int,
                   seed: int) -> dict[str, np.ndarray]:
    """Values for every input port of ``net`` (the composite ``comp`` built, perhaps optimized) under
    ``activity``: ports are named ``a``, ``b``, ``c`` or ``a_sig``, ``a_exp``, ``a_sign`` (see the module
    docstring); normalized significand ports keep their top bit set, non-negative float ports their sign clear."""
    roles = {}
    for port, bits in net.inputs.items():
        base, _, field = port.partition("_")
        if base not in _OPERANDS:
            raise ActivityError(f"input port {port!r} of {net.name} is not an operand a, b or c (or a_sig, a_exp, "
                                f"a_sign): operand distributions cannot reach it")
        roles[port] = (base, field, len(bits))
    names = [x for x in _OPERANDS if any(r[0] == x for r in roles.values())]
    values = _operand_values(activity, op, names, fmt, vectors, seed)
    n = min(len(v) for v in values.values())
    if n < 2:
        raise ActivityError(f"{op}: fewer than two operations of operands to simulate")
    patterns = {x: _encode(values[x][:n], fmt, fmt.bits) for x in names}
    floats = getattr(comp, "floats", {})
    out = {}
    for port, (base, field, width) in roles.items():
        v = _port_view(patterns[base], port, field, width, fmt)
        if port in floats and floats[port][1]:  # a non-negative operand (square root): sign clear
            mask = (1 << (width - 1)) - 1
            v = v & (np.uint64(mask) if v.dtype == np.uint64 else mask)
        if port in comp.normalized:
            v = v | (np.uint64(1 << (width - 1)) if v.dtype == np.uint64 else 1 << (width - 1))
        out[port] = v
    return out


__all__ = ["Activity", "ActivityError", "parse_activity", "entry_operands", "DOT_LENGTH"]
