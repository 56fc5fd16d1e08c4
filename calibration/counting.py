"""The injected counting function: ``count_fn(model, input_shape, level, **options) -> {"tos", "flops", ...}``.

Calibration does not count operations itself. The default, :func:`default_count`, lazily imports
:func:`gatesim.models.count` (shapes only, on the ``meta`` device) and prices BOs with a transistor table:
``table`` may be a table object (``transistors(op, fmt)``), a path to a table JSON, or a hardware profile name
(default ``"paper"``; built lazily, one format when a count first needs it). Tests and users may pass any function
with the same signature.

Besides ``tos`` and ``flops`` a count carries every other number the model counter reports (``bytes``,
``launches`` where it has them) and the BOs per operation; :func:`numeric_counts` flattens them into the columns a
run record and a fit use (``bos.mul``, ...). :func:`optimizer_cost` prices an optimizer step for any parameter
count from three tiny probes; :func:`meta_shape_cache` makes repeated meta-device shapes cost nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Protocol

from .errors import CalibrationError

LEVELS = ("training", "validation", "inference")


class CountFn(Protocol):
    def __call__(self, model, input_shape: tuple[int, ...], level: str, **options) -> dict: ...


class LazyTable:
    """A hardware profile's transistor table built one entry at a time, when a count first prices that operation
    on that format (a PEN fit needs fp32 and a few int64 operations, not the profile's fp64 multipliers).
    :attr:`entries` builds every format of the profile (plus fp32 and int64, for optimizer state and step
    counters)."""

    def __init__(self, profile):
        self.profile = profile
        self.name = profile.name
        self.mode = profile.mode
        self.library = getattr(profile.library, "name", str(profile.library))
        self._parts: dict[tuple, Any] = {}

    def _part(self, fmt: str, operations=None):
        key = (fmt, tuple(operations) if operations else None)
        t = self._parts.get(key)
        if t is None:
            kw = {"operations": operations} if operations else {}
            t = self._parts[key] = self.profile.build_table([fmt], **kw)
        return t

    def transistors(self, operation: str, fmt: str) -> int:
        return self.entry(operation, fmt).transistors

    def weighted_toggles(self, operation: str, fmt: str) -> float:
        """Transistor-weighted toggles per operation (switching TOs), under the profile's random operands."""
        return self.entry(operation, fmt).mean_weighted_toggles

    activity = ""  # the mode's own random operands
    vectors = 20_000

    @property
    def timing(self):
        """The profile's ``[timing]`` (est_seconds), or None."""
        return getattr(self.profile, "timing", None)

    def entry(self, operation: str, fmt: str):
        full = self._parts.get((fmt, None))
        return (full or self._part(fmt, [operation])).entry(operation, fmt)

    @property
    def format_names(self) -> list[str]:
        names = [f.name for f in self.profile.formats]
        return names + [n for n in ("fp32", "int64") if n not in names]

    @property
    def entries(self) -> dict:
        out = {}
        for f in self.format_names:
            out.update(self._part(f).entries)
        return out


@lru_cache(maxsize=8)
def _table_for(spec: str):
    from pathlib import Path

    from gatesim.tables import TransistorTable

    if spec.endswith(".json") or Path(spec).is_file():
        return TransistorTable.load(spec)
    from gatesim.hardware import default_profile, load_hardware

    return LazyTable(default_profile() if spec == "default" else load_hardware(spec))


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
                  dtype: str | None = None, describe_table: bool = True, **kwargs) -> dict:
    """BOs, FLOPs and TOs of one step of ``model`` on a batch of ``input_shape`` via :mod:`gatesim.models`; with
    ``describe_table`` the result carries the table's numbers (``table``; a lazy table builds all of them)."""
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
    return report_counts(report, resolve_table(table), describe=describe_table)


#: numbers a model counter's report may have beyond BOs and FLOPs, read by name where present
EXTRA_COUNTS = ("bytes", "launches", "depth")
#: numbers priced from the table: switching TOs (its toggles) and est_seconds (its profile's timing); floats
PRICED_COUNTS = ("switching_tos", "est_seconds")


def report_counts(report, table=None, describe: bool = True) -> dict:
    """``flops``, ``bos`` (per operation), ``tos`` (priced with ``table``), any of :data:`EXTRA_COUNTS` the
    report has, ``switching_tos`` where the table has toggles and ``est_seconds`` where it has a timing
    (``table.timing``: a hardware profile's roofline), over the report's own phases."""
    phases = report.phases
    out: dict[str, Any] = {"flops": int(report.flops(phase=phases)), "bos": report.bos(phase=phases).to_dict()}
    for name in EXTRA_COUNTS:
        fn = getattr(report, name, None)
        if callable(fn):
            out[name] = int(fn(phases) if name == "depth" else fn(phase=phases))
    timing = getattr(table, "timing", None)
    if timing is not None and callable(getattr(report, "est_seconds", None)):
        out["est_seconds"] = float(report.est_seconds(timing, phase=phases))
    if table is not None:
        out["tos"] = int(report.tos(table, phase=phases))
        sw = report.switching_tos(table, phase=phases) if callable(getattr(report, "switching_tos", None)) else None
        if sw is not None:
            out["switching_tos"] = float(sw)
        if describe:
            out["table"] = table_description(table)
    if report.uncounted:
        out["uncounted"] = dict(report.uncounted)
    return out


def numeric_counts(c: dict) -> dict[str, int | float]:
    """The additive numbers of a count as flat columns: ``tos``, ``flops``, ``bytes``, ``launches``, ``depth`` where
    present (integers), ``switching_tos`` and ``est_seconds`` (floats), and ``bos.<operation>``. Missing TOs (no
    table) stay out."""
    out: dict[str, int | float] = {k: int(v) for k, v in c.items()
                                   if k in ("tos", "flops", *EXTRA_COUNTS) and v is not None}
    out.update({k: float(c[k]) for k in PRICED_COUNTS if c.get(k) is not None})
    for op, n in (c.get("bos") or {}).items():
        out[f"bos.{op}"] = int(n)
    return out


@dataclass(frozen=True)
class OptimizerCost:
    """Counts of one optimizer step as ``per_element x elements + per_tensor x tensors + fixed`` for every column
    of :func:`numeric_counts`; call it with ``(elements, tensors)``."""

    per_element: dict
    per_tensor: dict
    fixed: dict

    def __call__(self, n_elements: int, n_tensors: int = 1) -> dict[str, int]:
        return {k: self.per_element[k] * int(n_elements) + self.per_tensor[k] * int(n_tensors) + self.fixed[k]
                for k in self.per_element}


def parameter_bank(sizes):
    """A module holding one zero parameter tensor per size (CPU), whose output ``x * sum(all parameters)`` makes
    every parameter receive a gradient: what an optimizer step is counted on."""
    import torch
    from torch import nn

    class ParameterBank(nn.Module):
        def __init__(self):
            super().__init__()
            self.ps = nn.ParameterList(nn.Parameter(torch.zeros(n)) for n in sizes)

        def forward(self, x):
            return x * sum(p.sum() for p in self.ps)

    return ParameterBank()


def optimizer_cost(count_fn: Callable, optimizer_factory: Callable, probe: int = 64, **options) -> OptimizerCost:
    """How one step of an optimizer scales, from three probes instead of the model's own parameters: a step is
    elementwise over parameters plus fixed bookkeeping per tensor (the step counter), so its counts are
    ``a x elements + b x tensors + c``. The probes are real CPU tensors (one of ``probe`` and one of ``2 probe``
    elements, two of ``probe``), each counted as training with the optimizer minus training without.
    Raises :class:`CalibrationError` when the optimizer cannot step plain dense parameters (``SparseAdam``), or
    when its counts are not of that form."""
    opts = {k: v for k, v in options.items() if k not in ("optimizer", "loss", "device")}

    def step(sizes):
        try:
            w = count_fn(parameter_bank(sizes), (1, 1), "training", optimizer=optimizer_factory, loss="mse", device="cpu", **opts)
            wo = count_fn(parameter_bank(sizes), (1, 1), "training", optimizer=None, loss="mse", device="cpu", **opts)
        except Exception as e:  # noqa: BLE001 - any failure of the optimizer itself
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise CalibrationError(f"cannot count a step of this optimizer: {msg}") from None
        a, b = numeric_counts(w), numeric_counts(wo)
        return {k: a[k] - b.get(k, 0) for k in a}

    p1, p2, p3 = step([probe]), step([2 * probe]), step([probe, probe])
    per_element, per_tensor, fixed = {}, {}, {}
    for k in p1:
        if isinstance(p1[k], float):  # priced columns (seconds, switching TOs): linear up to rounding
            a, rem = (p2[k] - p1[k]) / probe, 0
            b = p3[k] - p2[k]
            c = p1[k] - a * probe - b
            tol = 1e-9 * max(abs(p1[k]), abs(p2[k]), abs(p3[k]), 1e-300)
            a, b, c = (0.0 if abs(v) <= tol else v for v in (a, b, c))
        else:
            a, rem = divmod(p2[k] - p1[k], probe)
            b = p3[k] - p2[k]
            c = p1[k] - a * probe - b
        if rem or min(a, b, c) < 0:
            raise CalibrationError(f"the optimizer step's {k} is not linear in the parameters "
                                   f"({p1[k]}, {p2[k]}, {p3[k]} for the probes)")
        per_element[k], per_tensor[k], fixed[k] = a, b, c
    return OptimizerCost(per_element, per_tensor, fixed)


_META_CACHE_CLASS = None


def _meta_cache_class():
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    scalars = (int, float, bool, str, type(None), torch.dtype, torch.device, torch.layout, torch.memory_format)
    Tensor = torch.Tensor

    def key_of(x, key) -> bool:
        """Append the metadata of ``x`` (tensors, scalars, lists, tuples, dicts of them) to ``key``; False for
        anything else or a tensor off the meta device."""
        if isinstance(x, Tensor):
            if x.device.type != "meta":
                return False
            key.append((x.shape, x.stride(), x.dtype))
            return True
        if isinstance(x, scalars):
            key.append(x)
            return True
        if isinstance(x, (list, tuple)):
            key.append(len(x))
            return all(key_of(y, key) for y in x)
        if isinstance(x, dict):
            key.append(tuple(x))
            return all(key_of(y, key) for y in x.values())
        return False

    def meta(t):
        return (t.shape, t.stride(), t.dtype)

    def fresh(m):
        return torch.empty_strided(m[0], m[1], dtype=m[2], device="meta")

    class MetaShapeCache(TorchDispatchMode):
        """See :func:`meta_shape_cache`."""

        def __init__(self):
            super().__init__()
            self.cache: dict = {}
            self.kind: dict = {}
            self.hits = self.misses = 0

        def _kind(self, func) -> str:
            k = self.kind.get(func)
            if k is None:
                s = func._schema
                rets, args = s.returns, s.arguments
                writes = [a for a in args if a.alias_info is not None and a.alias_info.is_write]
                if not s.is_mutable and rets and all(r.alias_info is None for r in rets):
                    k = "pure"
                elif (len(rets) == 1 and rets[0].alias_info is not None and rets[0].alias_info.is_write
                      and len(writes) == 1 and args and writes[0] is args[0]):
                    k = "inplace"
                else:
                    k = "other"
                self.kind[func] = k
            return k

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            kind = self._kind(func)
            if kind == "other":
                return func(*args, **kwargs)
            key = [func]
            if not (key_of(args, key) and key_of(kwargs, key)):
                return func(*args, **kwargs)
            key = tuple(key)
            hit = self.cache.get(key)
            if hit is not None:
                self.hits += 1
                if hit == "self":
                    return args[0]
                if hit[0] == "t":
                    return fresh(hit[1])
                return hit[1](fresh(m) for m in hit[2])
            self.misses += 1
            if kind == "inplace":
                before = meta(args[0])
                out = func(*args, **kwargs)
                if out is args[0] and meta(out) == before:
                    self.cache[key] = "self"
                return out
            out = func(*args, **kwargs)
            if isinstance(out, Tensor):
                if out.device.type == "meta":
                    self.cache[key] = ("t", meta(out))
            elif (isinstance(out, (tuple, list)) and out
                  and all(isinstance(o, Tensor) and o.device.type == "meta" for o in out)):
                self.cache[key] = ("seq", type(out), [meta(o) for o in out])
            return out

    return MetaShapeCache


def meta_shape_cache():
    """A dispatch mode to enter *outside* a counter (so the counter sees every op first): a meta-device op seen
    before with the same argument shapes, strides, dtypes and scalars gets fresh tensors of the recorded output
    shapes instead of running its Python meta kernel again; an in-place op that returned its first argument with
    its shape unchanged returns it again. Only ops whose schema neither aliases nor mutates, or mutates only its
    first argument in place, are cached; any other op, and any tensor off the meta device, runs as usual. Counts
    are unchanged (tested); PEN's counting is about twice as fast."""
    global _META_CACHE_CLASS
    if _META_CACHE_CLASS is None:
        _META_CACHE_CLASS = _meta_cache_class()
    return _META_CACHE_CLASS()


def parameter_count(model, input_shape, level: str = "training", **_) -> dict:
    """A trivial counter (for tests and dry runs): FLOPs = 2 x parameters x batch x (3 at training level),
    TOs = 1000 x FLOPs. Not a real operation count."""
    n = sum(p.numel() for p in model.parameters())
    factor = {"training": 3, "validation": 1, "inference": 1}.get(level, 1)
    flops = 2 * n * int(input_shape[0]) * factor
    return {"flops": flops, "tos": 1000 * flops, "table": {"name": "parameter-count", "transistors": {}}}


def workload_counts(count_fn: Callable, model_factory: Callable, sample_shape: tuple[int, ...], samples: int,
                    batch_size: int, epochs: int = 1, level: str = "training", **options) -> dict:
    """TOs, FLOPs and every other column of :func:`numeric_counts` (``bos.mul``, ``bytes``...) of a whole
    workload: ``epochs`` passes over ``samples`` in batches of ``batch_size`` (the last batch may be smaller) =
    epochs x (full batches x count(batch) + count(remainder))."""
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
        for k, v in numeric_counts(c).items():
            if k not in ("tos", "flops"):
                total[k] = total.get(k, 0) + v * n * epochs
        extra = {k: v for k, v in c.items() if k not in ("tos", "flops", "bos", *EXTRA_COUNTS)}
    total.update(extra)
    total["steps"] = (full + (1 if rem else 0)) * epochs
    return total


__all__ = ["default_count", "parameter_count", "workload_counts", "table_description", "table_from_description",
           "resolve_table", "report_counts", "numeric_counts", "optimizer_cost", "OptimizerCost", "parameter_bank", "meta_shape_cache", "LazyTable",
           "EXTRA_COUNTS", "LEVELS", "CountFn"]
