"""How long an op takes on a hardware profile: a roofline per op plus a launch overhead, read from ``[timing]``.

A hardware profile (:mod:`gatesim.hardware`) may carry a ``[timing]`` table::

    [timing]
    source = "NVIDIA A100 40GB datasheet, dense"   # where the numbers come from
    launch_seconds = 5e-6                          # fixed cost of every launched op (kernel launch, dispatch)
    memory_bytes_per_second = 1.555e12             # bandwidth of the memory the ops' tensors live in

    [timing.matrix_ops_per_second]                 # dot products (matmul, convolution, attention)
    bf16 = 312e12                                  # basic operations per second: a multiply-add is 2
    fp32 = 19.5e12
    default = 19.5e12                              # any format not named

    [timing.vector_ops_per_second]                 # every other op
    default = 19.5e12

An op that performs ``ops`` basic operations (BOs: a multiply-add is two, as FLOPs count it) and reads and writes
``nbytes`` takes ``max(ops / peak, nbytes / bandwidth) + launch_seconds``, ``peak`` the matrix rate of its
input format for a dot product (the vector rate where the matrix table has no entry and no ``default``), else
the vector rate. Summed over every op a step launches, one after another, that is the step's ``est_seconds``
(:meth:`gatesim.models.Report.est_seconds`): a latency-bound step (many small ops) is priced by its launches, a
large matmul by its arithmetic, an elementwise op by its bytes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import GatesimError


class TimingError(GatesimError, ValueError):
    """A malformed ``[timing]`` table."""


@dataclass(frozen=True)
class Timing:
    """Roofline numbers of one machine (see the module docstring); ``op_seconds`` is what a model report asks."""

    name: str
    launch_seconds: float
    memory_bytes_per_second: float
    matrix_ops_per_second: dict = field(default_factory=dict)
    vector_ops_per_second: dict = field(default_factory=dict)
    source: str = ""

    def peak(self, fmt: str, dot: bool) -> float:
        """Basic operations per second of an op on ``fmt`` (a dot product on the matrix units when ``dot``)."""
        if dot:
            rate = self.matrix_ops_per_second.get(fmt, self.matrix_ops_per_second.get("default"))
            if rate is not None:
                return rate
        return self.vector_ops_per_second.get(fmt, self.vector_ops_per_second["default"])

    def op_seconds(self, fmt: str, dot: bool, ops: float, nbytes: float) -> float:
        """Seconds of one op: ``max(ops / peak, nbytes / bandwidth) + launch_seconds``."""
        return max(ops / self.peak(fmt, dot), nbytes / self.memory_bytes_per_second) + self.launch_seconds

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source, "launch_seconds": self.launch_seconds,
                "memory_bytes_per_second": self.memory_bytes_per_second,
                "matrix_ops_per_second": dict(self.matrix_ops_per_second),
                "vector_ops_per_second": dict(self.vector_ops_per_second)}


def _positive(value, what: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise TimingError(f"{where}: {what} must be a positive number, got {value!r}")
    return float(value)


def timing_from_mapping(data: dict, name: str = "", where: str = "[timing]") -> Timing:
    """A :class:`Timing` from a profile's ``[timing]`` table; one line naming the key for anything malformed."""
    if not isinstance(data, dict):
        raise TimingError(f"{where} must be a table")
    known = {"source", "launch_seconds", "memory_bytes_per_second", "matrix_ops_per_second", "vector_ops_per_second"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise TimingError(f"{where}: unknown key {unknown[0]!r} (keys: {', '.join(sorted(known))})")
    for key in ("launch_seconds", "memory_bytes_per_second", "vector_ops_per_second"):
        if key not in data:
            raise TimingError(f"{where}: {key} is missing")
    launch = data["launch_seconds"]
    if isinstance(launch, bool) or not isinstance(launch, (int, float)) or not math.isfinite(launch) or launch < 0:
        raise TimingError(f"{where}: launch_seconds must be a non-negative number, got {launch!r}")
    rates = {}
    for key in ("matrix_ops_per_second", "vector_ops_per_second"):
        table = data.get(key, {})
        if not isinstance(table, dict):
            raise TimingError(f"{where}: {key} must be a table of format = operations per second")
        rates[key] = {str(f): _positive(v, f"{key}.{f}", where) for f, v in table.items()}
    if "default" not in rates["vector_ops_per_second"]:
        raise TimingError(f"{where}: vector_ops_per_second needs a default (the rate of any format not named)")
    return Timing(name, float(launch), _positive(data["memory_bytes_per_second"], "memory_bytes_per_second", where),
                  rates["matrix_ops_per_second"], rates["vector_ops_per_second"], str(data.get("source", "")))


__all__ = ["Timing", "TimingError", "timing_from_mapping"]
