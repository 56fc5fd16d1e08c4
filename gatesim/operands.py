"""Operand streams for switching activity: named distributions of the values an ALU sees, one after another.

A distribution is written ``NAME[:P1,P2,...]`` (:data:`DISTRIBUTIONS`). ``uniform`` is uniformly random bits (what
paper-mode tables use), ``finite`` uniformly random finite floats (what ieee-mode tables use); the others draw
real values, which reach a port as

* integers of the port's width in two's complement (negative values wrap, out-of-range values clip), when no
  number format is given -- an int8 multiplier fed ``normal:0,20`` sees int8-quantized Gaussian weights;
* a floating-point format's bit pattern (:func:`gatesim.formats.encode_floats`), when one is given (``uniform``
  then means uniformly random patterns of the format): a port as wide
  as the format takes the packed IEEE pattern (``a``, ``b`` of an IEEE unit), a port as wide as its significand
  takes the significand with the hidden bit (the paper-mode datapaths: fp32's 24-bit multiplier), a port as wide
  as its exponent field takes the biased exponent.

:class:`OperandSpec` assigns distributions to ports: ``normal:0,0.02`` (every port), ``normal:0,0.02+relu-normal``
(ports in order: Gaussian weights times ReLU activations) or ``b=zeros+a=uniform`` (by name).
:func:`operand_activity` simulates a netlist under each spec (seeded, cached on disk by netlist, library, specs,
format, vectors, seed and code version).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .errors import GatesimError
from .formats import NumberFormat, encode_floats, float_fields, get_format


class OperandError(GatesimError, ValueError):
    """An unknown or malformed operand distribution or assignment."""


@dataclass(frozen=True)
class Param:
    name: str
    default: float | None  # None: depends on the target (see :func:`_default_sigma`)
    lo: float = -math.inf
    hi: float = math.inf


#: name -> (parameters, description)
DISTRIBUTIONS: dict[str, tuple[tuple[Param, ...], str]] = {
    "uniform": ((), "uniformly random bits of the port (what paper-mode transistor tables use)"),
    "finite": ((), "floats: uniformly random finite values, every finite bit pattern of the format equally likely "
                   "(NaN and infinity patterns redrawn; what ieee-mode tables use); integers: as uniform"),
    "normal": ((Param("mean", 0.0), Param("std", None, 0.0)), "Gaussian values N(mean, std)"),
    "relu-normal": ((Param("mean", 0.0), Param("std", None, 0.0)), "max(0, N(mean, std)): ReLU activations"),
    "sparse": ((Param("p", 0.5, 0.0, 1.0), Param("std", None, 0.0)), "0 with probability p, else N(0, std)"),
    "zeros": ((), "every operand 0"),
    "constant": ((Param("value", 1.0),), "every operand the same value"),
    "repeated": ((Param("run", 8, 1), Param("std", None, 0.0)), "N(0, std) values, each held for `run` operations"),
    "lowbits": ((Param("bits", 4, 1), Param("std", None, 0.0)),
                "low bit entropy: integers below 2^bits; floats N(0, std) rounded to `bits` significand bits"),
    "sorted": ((Param("std", None, 0.0),), "N(0, std) values in ascending order"),
}


@dataclass(frozen=True)
class Distribution:
    """A named distribution with its parameters (None: the target's default)."""

    name: str
    params: tuple[float | None, ...] = ()

    @property
    def spec(self) -> str:
        """Canonical spelling: ``normal:0,0.02``."""
        defaults = [p.default for p in DISTRIBUTIONS[self.name][0]]
        given = list(self.params)
        while given and given[-1] == defaults[len(given) - 1]:
            given.pop()
        return self.name + (":" + ",".join("" if p is None else f"{p:g}" for p in given) if given else "")

    def sample(self, rng: np.random.Generator, n: int, width: int, fmt: NumberFormat | None) -> np.ndarray:
        """``n`` values for a port of ``width`` bits (``uint64``, object ints beyond 64 bits)."""
        if self.name in ("uniform", "finite"):
            if fmt is None:
                return _uniform_bits(rng, n, width)
            bits = _uniform_bits(rng, n, fmt.bits)  # uniform patterns of the format
            if self.name == "finite":
                bits = _redraw_nonfinite(rng, bits, fmt)
            return _port_view(bits, width, fmt)
        return _to_port(self.real(rng, n, width, fmt), width, fmt)

    def real(self, rng: np.random.Generator, n: int, width: int, fmt: NumberFormat | None) -> np.ndarray:
        """``n`` real values (float64) of a value distribution, for a ``width``-bit port of ``fmt`` (None: an
        integer port; the default std depends on both)."""
        ps = dict(zip((p.name for p in DISTRIBUTIONS[self.name][0]), self.params))
        std = ps.get("std")
        if std is None:
            std = _default_sigma(width, fmt)
        if self.name == "lowbits" and fmt is None:
            b = min(int(ps["bits"]), width)
            return rng.integers(0, 1 << b, n, dtype=np.uint64).astype(np.float64)
        real = _REAL[self.name](rng, n, std, ps)
        if self.name == "lowbits":
            real = _round_significand(real, int(ps["bits"]))
        return real


def _default_sigma(width: int, fmt: NumberFormat | None) -> float:
    """1 for floats; a quarter of the range for integers (2^(width-3): clipping is rare)."""
    return 1.0 if fmt is not None else float(2 ** max(width - 3, 0))


def _uniform_bits(rng, n, width) -> np.ndarray:
    words = rng.integers(0, 1 << 32, size=(n, (width + 31) // 32), dtype=np.uint64)
    if width <= 64:
        v = words[:, 0].copy()
        if words.shape[1] > 1:
            v |= words[:, 1] << np.uint64(32)
        return v & np.uint64((1 << width) - 1) if width < 64 else v
    vals = np.zeros(n, dtype=object)
    for k in range(words.shape[1]):
        vals = vals + (words[:, k].astype(object) << (32 * k))
    return vals & ((1 << width) - 1)


def _redraw_nonfinite(rng, bits: np.ndarray, fmt: NumberFormat) -> np.ndarray:
    """``bits`` with every NaN or infinity pattern of ``fmt`` replaced by a fresh uniform draw until none is left
    (at most a quarter of the patterns are non-finite, so this ends in a few rounds)."""
    ones, frac_ones = (1 << fmt.exponent_bits) - 1, (1 << fmt.fraction_bits) - 1
    while True:
        fields = float_fields(bits, fmt)
        bad = fields["exponent"] == ones
        if fmt.nonfinite == "nan-only":
            bad &= fields["fraction"] == frac_ones
        bad = np.asarray(bad, dtype=bool)
        k = int(bad.sum())
        if not k:
            return bits
        bits[bad] = _uniform_bits(rng, k, fmt.bits)


def _repeated(rng, n, std, ps):
    run = int(ps["run"])
    vals = rng.normal(0.0, std, (n + run - 1) // run)
    return np.repeat(vals, run)[:n]


_REAL: dict[str, Callable] = {
    "normal": lambda rng, n, std, ps: rng.normal(ps["mean"], std, n),
    "relu-normal": lambda rng, n, std, ps: np.maximum(rng.normal(ps["mean"], std, n), 0.0),
    "sparse": lambda rng, n, std, ps: np.where(rng.random(n) < ps["p"], 0.0, rng.normal(0.0, std, n)),
    "zeros": lambda rng, n, std, ps: np.zeros(n),
    "constant": lambda rng, n, std, ps: np.full(n, float(ps["value"])),
    "repeated": _repeated,
    "lowbits": lambda rng, n, std, ps: rng.normal(0.0, std, n),
    "sorted": lambda rng, n, std, ps: np.sort(rng.normal(0.0, std, n)),
}


def _round_significand(x: np.ndarray, bits: int) -> np.ndarray:
    """Reals rounded (to nearest) to ``bits`` significant bits."""
    m, e = np.frexp(x)
    return np.ldexp(np.round(m * (1 << bits)) / (1 << bits), e)


def _to_port(real: np.ndarray, width: int, fmt: NumberFormat | None) -> np.ndarray:
    if fmt is None:
        lo, hi = -(1 << (width - 1)), (1 << (width - 1)) - 1
        ints = np.clip(np.rint(real), lo, hi)
        if width <= 63:
            return (ints.astype(np.int64) & ((1 << width) - 1)).astype(np.uint64)
        return np.array([int(v) & ((1 << width) - 1) for v in ints], dtype=object if width > 64 else np.uint64)
    return _port_view(encode_floats(real, fmt), width, fmt)


def _port_view(bits: np.ndarray, width: int, fmt: NumberFormat) -> np.ndarray:
    """What a ``width``-bit port of a unit for ``fmt`` sees of these bit patterns."""
    if width == fmt.bits:
        return bits
    fields = float_fields(bits, fmt)
    if width == fmt.significand_bits:
        return fields["significand"]
    if width == fmt.exponent_bits:
        return fields["exponent"]
    raise OperandError(f"a {width}-bit port cannot take {fmt.name} operands (the packed pattern is {fmt.bits} bits, "
                       f"the significand {fmt.significand_bits}, the exponent {fmt.exponent_bits})")


def parse_distribution(text: str) -> Distribution:
    """``NAME[:P1,P2,...]``; empty parameters take their defaults (``sparse:,0.1``)."""
    name, _, args = text.strip().partition(":")
    name = name.strip().lower()
    if name not in DISTRIBUTIONS:
        raise OperandError(f"unknown operand distribution {name!r} (known: {', '.join(DISTRIBUTIONS)})")
    params, _ = DISTRIBUTIONS[name]
    raw = [a.strip() for a in args.split(",")] if args.strip() else []
    if len(raw) > len(params):
        raise OperandError(f"{name} takes {len(params)} parameter(s) ({', '.join(p.name for p in params) or 'none'}), "
                           f"got {len(raw)} in {text!r}")
    values: list[float | None] = []
    for p, r in zip(params, raw + [""] * (len(params) - len(raw))):
        if r == "":
            values.append(p.default)
            continue
        try:
            v = float(r)
        except ValueError:
            raise OperandError(f"{name} {p.name} must be a number, got {r!r}") from None
        if not (math.isfinite(v) and p.lo <= v <= p.hi):
            raise OperandError(f"{name} {p.name} must be in [{p.lo:g}, {p.hi:g}], got {r!r}")
        values.append(v)
    if name in ("repeated", "lowbits") and values[0] != int(values[0]):
        raise OperandError(f"{name} {params[0].name} must be an integer, got {values[0]:g}")
    return Distribution(name, tuple(values))


@dataclass(frozen=True)
class OperandSpec:
    """Distributions per input port: ``by_name`` (port -> distribution) or ``ordered`` (in port order); a single
    distribution applies to every port."""

    by_name: tuple[tuple[str, Distribution], ...] = ()
    ordered: tuple[Distribution, ...] = ()

    @property
    def text(self) -> str:
        if self.by_name:
            return "+".join(f"{p}={d.spec}" for p, d in self.by_name)
        return "+".join(d.spec for d in self.ordered)

    def resolve(self, ports: Sequence[str]) -> dict[str, Distribution]:
        if self.by_name:
            named = dict(self.by_name)
            unknown = [p for p in named if p not in ports]
            if unknown:
                raise OperandError(f"no input port {unknown[0]!r} (inputs: {', '.join(ports)})")
            missing = [p for p in ports if p not in named]
            if missing:
                raise OperandError(f"operands {self.text!r} give no distribution for input port {missing[0]!r}")
            return {p: named[p] for p in ports}
        if len(self.ordered) == 1:
            return {p: self.ordered[0] for p in ports}
        if len(self.ordered) != len(ports):
            raise OperandError(f"operands {self.text!r} give {len(self.ordered)} distributions for "
                               f"{len(ports)} input ports ({', '.join(ports)})")
        return dict(zip(ports, self.ordered))


def parse_operands(text: str) -> OperandSpec:
    """``DIST``, ``DIST+DIST`` (ports in order) or ``PORT=DIST+PORT=DIST``."""
    parts = [p for p in text.strip().split("+")]
    if not text.strip() or any(not p.strip() for p in parts):
        raise OperandError(f"empty operand distribution in {text!r}")
    named = [p for p in parts if "=" in p]
    if named and len(named) != len(parts):
        raise OperandError(f"operands {text!r}: name every port (a=...+b=...) or none")
    if named:
        pairs = [(p.split("=", 1)[0].strip(), parse_distribution(p.split("=", 1)[1])) for p in parts]
        if len({n for n, _ in pairs}) != len(pairs):
            raise OperandError(f"operands {text!r} name a port twice")
        return OperandSpec(by_name=tuple(pairs))
    return OperandSpec(ordered=tuple(parse_distribution(p) for p in parts))


def operand_vectors(widths: dict[str, int], spec: OperandSpec, n: int, seed: int = 0,
                    fmt: "NumberFormat | str | None" = None) -> dict[str, np.ndarray]:
    """``n`` operands per input port under ``spec``: port k draws from a generator seeded with ``(seed, k)``, so
    a port's stream depends only on its own distribution and the seed."""
    f = get_format(fmt) if isinstance(fmt, str) else fmt
    if f is not None and not f.is_float:
        f = None  # an integer format: plain two's complement integers
    dists = spec.resolve(list(widths))
    return {p: dists[p].sample(np.random.default_rng([seed, k]), n, w, f) for k, (p, w) in enumerate(widths.items())}


def _cache_key(c, library, spec: OperandSpec, fmt: str | None, vectors: int, seed: int) -> str:
    from .tables import code_version

    h = hashlib.sha256()
    for arr in (c.op, c.fanin):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(json.dumps({"inputs": {p: list(map(int, s)) for p, s in c.inputs.items()},
                         "library": library.to_dict(), "operands": spec.text, "format": fmt, "vectors": vectors,
                         "seed": seed, "code": code_version()}, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def operand_activity(net, specs: Sequence["OperandSpec | str"], *, vectors: int = 100_000, seed: int = 0,
                     library="static-cmos", fmt: "NumberFormat | str | None" = None, cache: bool = True) -> list:
    """:class:`gatesim.simulation.Activity` of ``net`` under each operand spec (seeded; every spec draws its own
    streams). With ``cache``, results live under the table cache folder (``activity/``), keyed by the compiled
    netlist, library, spec, format, vectors, seed and code version."""
    from .compile import compile_netlist
    from .datafile import write_file_atomic
    from .library import load_library
    from .simulation import Activity, switching_activity
    from .tables import default_cache_dir

    lib = load_library(library)
    f = get_format(fmt) if isinstance(fmt, str) else fmt
    c = compile_netlist(net)
    widths = {p: len(b) for p, b in net.inputs.items()}
    out = []
    for s in specs:
        spec = parse_operands(s) if isinstance(s, str) else s
        path = None
        if cache:
            path = default_cache_dir() / "activity" / f"{_cache_key(c, lib, spec, f.name if f else None, vectors, seed)}.json"
            try:
                d = json.loads(path.read_text())
                out.append(Activity(d["design"], d["library"], int(d["vectors"]), dict(d["toggles"]),
                                    d["weighted_toggles"]))
                continue
            except (OSError, ValueError, KeyError, TypeError):
                pass  # not cached yet, or a damaged file: simulate
        act = switching_activity(net, library=lib, **operand_vectors(widths, spec, vectors, seed, f))
        out.append(act)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                write_file_atomic(path, json.dumps(act.to_dict()))
            except OSError:
                pass  # an unwritable cache only costs time
    return out


__all__ = ["DISTRIBUTIONS", "Distribution", "OperandSpec", "OperandError", "parse_distribution", "parse_operands",
           "operand_vectors", "operand_activity"]
