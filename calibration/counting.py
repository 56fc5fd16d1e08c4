"""The injected counting function: ``count_fn(model, input_shape, level, **options) -> {"tos", "flops", ...}``.

Calibration does not count operations itself. The default, :func:`default_count`, lazily imports
:func:`gatesim.models.count` (shapes only, on the ``meta`` device) and prices BOs with a transistor table:
``table`` may be a table object (``transistors(op, fmt)``), a path to a table JSON, or a hardware profile name
(default ``"paper"``). Tests and users may pass any function with the same signature.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Protocol

from .errors import CalibrationError

LEVELS = ("training", "validation", "inference")


class CountFn(Protocol):
    def __call__(self, model, input_shape: tuple[int, ...], level: str, **options) -> dict: ...


@lru_cache(maxsize=8)
def _table_for(spec: str):
    from pathlib import Path

    from gatesim.tables import TransistorTable

    if spec.endswith(".json") or Path(spec).is_file():
        return TransistorTable.load(spec)
    from gatesim.formats import get_format
    from gatesim.hardware import load_hardware

    prof = load_hardware(spec)
    custom = {f.name: f for f in prof.formats}
    names = [f.name for f in prof.formats]
    for extra in ("fp32", "int64"):  # optimizer state and step counters
        if extra not in names:
            names.append(extra)
    from gatesim.tables import build_table

    return build_table(prof.selection, prof.library, prof.mode, [get_format(n, custom) for n in names], name=prof.name)


def table_description(table) -> dict:
    """A compact, JSON-able description of a transistor table: name, mode and ``{format: {operation: n}}``."""
    numbers: dict[str, dict[str, int]] = {}
    entries = getattr(table, "entries", None)
    if isinstance(entries, dict):
        for (op, fmt), e in entries.items():
            numbers.setdefault(fmt, {})[op] = int(getattr(e, "transistors", e))
    return {"name": getattr(table, "name", ""), "mode": getattr(table, "mode", ""),
            "library": getattr(table, "library", ""), "transistors": numbers}


def table_from_description(desc: dict):
    """Rebuild a table from :func:`table_description` output (plain numbers)."""
    from gatesim.tables import TransistorTable

    nums = desc.get("transistors") if isinstance(desc, dict) else None
    if not nums:
        raise CalibrationError("the profile's transistor table has no numbers to price TOs with")
    return TransistorTable.from_numbers(nums, name=desc.get("name") or "profile")


def resolve_table(table: Any = "paper"):
    if table is None:
        return None
    if isinstance(table, str):
        try:
            return _table_for(table)
        except Exception as e:
            raise CalibrationError(f"cannot load transistor table {table!r}: {e}") from None
    if isinstance(table, dict):
        return table_from_description(table)
    return table


def default_count(model, input_shape, level: str = "training", *, table: Any = "paper", loss: str = "mse",
                  optimizer: str | None = None, counter: str = "trace", device: str = "meta",
                  dtype: str | None = None, **kwargs) -> dict:
    """BOs, FLOPs and TOs of one step of ``model`` on a batch of ``input_shape`` via :mod:`gatesim.models`."""
    if level not in LEVELS:
        raise CalibrationError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    try:
        from gatesim.models import count
    except ImportError as e:  # pragma: no cover
        raise CalibrationError(f"model counting (gatesim.models) is unavailable: {e}") from None
    kw = dict(input_shape=tuple(input_shape), level=level, loss=loss, device=device, counter=counter, **kwargs)
    if counter == "trace":
        kw["optimizer"] = optimizer
    if dtype:
        kw["dtype"] = dtype
    report = count(model, **kw)
    phases = report.phases
    tab = resolve_table(table)
    out = {"flops": int(report.flops(phase=phases)), "bos": report.bos(phase=phases).to_dict()}
    if tab is not None:
        out["tos"] = int(report.tos(tab, phase=phases))
        out["table"] = table_description(tab)
    if report.uncounted:
        out["uncounted"] = dict(report.uncounted)
    return out


def parameter_count(model, input_shape, level: str = "training", **_) -> dict:
    """A trivial counter (for tests and dry runs): FLOPs = 2 x parameters x batch x (3 at training level),
    TOs = 1000 x FLOPs. Not a real operation count."""
    n = sum(p.numel() for p in model.parameters())
    factor = {"training": 3, "validation": 1, "inference": 1}.get(level, 1)
    flops = 2 * n * int(input_shape[0]) * factor
    return {"flops": flops, "tos": 1000 * flops, "table": {"name": "parameter-count", "transistors": {}}}


def workload_counts(count_fn: Callable, model_factory: Callable, sample_shape: tuple[int, ...], samples: int,
                    batch_size: int, epochs: int = 1, level: str = "training", **options) -> dict:
    """TOs and FLOPs of a whole workload: ``epochs`` passes over ``samples`` in batches of ``batch_size`` (the
    last batch may be smaller) = epochs x (full batches x count(batch) + count(remainder))."""
    if samples < 1 or batch_size < 1 or epochs < 1:
        raise CalibrationError("samples, batch size and epochs must be positive")
    full, rem = divmod(samples, batch_size)
    total: dict[str, Any] = {"tos": 0, "flops": 0}
    extra: dict = {}
    for bs, n in ((batch_size, full), (rem, 1)):
        if bs == 0 or n == 0:
            continue
        c = count_fn(model_factory(), (bs, *sample_shape), level, **options)
        for k in ("tos", "flops"):  # a counter without TOs (no table) leaves them None
            total[k] = None if total[k] is None or c.get(k) is None else total[k] + int(c[k]) * n * epochs
        extra = {k: v for k, v in c.items() if k not in ("tos", "flops", "bos")}
    total.update(extra)
    total["steps"] = (full + (1 if rem else 0)) * epochs
    return total


__all__ = ["default_count", "parameter_count", "workload_counts", "table_description", "table_from_description",
           "resolve_table", "LEVELS", "CountFn"]
