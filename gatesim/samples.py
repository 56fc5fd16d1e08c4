"""Operand samples: the values a model's ALUs saw, as plain numpy arrays per table operation.

:func:`gatesim.models.sampling.sample_operands` captures them from a real model; a transistor table simulates
its units under them (:func:`gatesim.tables.build_table` ``activity=``, :mod:`gatesim.activity`). This module is
the hand-over between the two rooms: numpy only, no torch, no circuits, so a cached sample file is read without
importing either.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field

import numpy as np

from .errors import GatesimError

#: operations a table prices, with the operand names their samples carry
STREAM_PORTS = {"mul": ("a", "b"), "add": ("a", "b"), "fma": ("a", "b", "c"), "sub": ("a", "b"), "div": ("a", "b"),
                "root": ("a",), "compare": ("a", "b")}
SAMPLES_FORMAT = "gatesim-operand-samples/1"


class SamplesError(GatesimError, ValueError):
    """An unreadable or malformed operand-sample file."""


@dataclass
class OperandSamples:
    """Sampled operand streams per table operation (``{op: {"a": float64 array, ...}}``: see
    :mod:`gatesim.models.sampling` for what each operand is), what each op family
    contributed (``families``: ``{family: {"operation": ..., "samples": n, "ops": ops seen}}``) and how they were
    taken (``meta``: model, input shape, level, seed, samples per family, run length, torch version)."""

    streams: dict[str, dict[str, np.ndarray]]
    families: dict[str, dict] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def digest(self) -> str:
        """sha256 of every stream (operation, operand name, values): what a cache key holds."""
        h = hashlib.sha256()
        for op in sorted(self.streams):
            for port in sorted(self.streams[op]):
                arr = np.ascontiguousarray(self.streams[op][port], dtype=np.float64)
                h.update(f"{op}.{port}:{arr.size};".encode())
                h.update(arr.tobytes())
        return h.hexdigest()

    @property
    def label(self) -> str:
        return f"sampled:{self.digest()[:12]}"

    def save(self, path) -> None:
        """An ``.npz`` file: one array per ``op.port`` plus the families and meta as JSON (atomic write)."""
        from .datafile import write_file_atomic

        buf = io.BytesIO()
        arrays = {f"{op}.{p}": np.asarray(v, dtype=np.float64) for op, d in self.streams.items() for p, v in d.items()}
        doc = {"format": SAMPLES_FORMAT, "families": self.families, "meta": self.meta}
        np.savez_compressed(buf, __meta__=np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8), **arrays)
        write_file_atomic(path, buf.getvalue())

    @classmethod
    def load(cls, path) -> "OperandSamples":
        try:
            with np.load(path, allow_pickle=False) as z:
                doc = json.loads(bytes(z["__meta__"]).decode())
                streams: dict = {}
                for name in z.files:
                    if name != "__meta__":
                        op, _, port = name.partition(".")
                        streams.setdefault(op, {})[port] = z[name]
        except (OSError, ValueError, KeyError) as e:
            raise SamplesError(f"cannot read operand samples {path}: {e}") from None
        if doc.get("format") != SAMPLES_FORMAT:
            raise SamplesError(f"{path} is not a gatesim operand-sample file ({SAMPLES_FORMAT})")
        return cls(streams, doc.get("families", {}), doc.get("meta", {}))


__all__ = ["OperandSamples", "SamplesError", "STREAM_PORTS", "SAMPLES_FORMAT"]
