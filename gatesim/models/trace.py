"""The trace counter: a ``TorchDispatchMode`` that prices every aten op of forward, loss, backward and the
optimizer step with a recipe set, attributing each op to the innermost running module and the phase.

By default the model runs on ``meta`` tensors (shapes only: no memory, no arithmetic), so counting a
multi-billion-parameter model is cheap; ``device="fake"`` uses ``FakeTensorMode`` (CPU kernels' choices,
e.g. the fused CPU flash attention) and any real device runs real arithmetic.
"""
from __future__ import annotations

import contextlib
import copy
import warnings
from typing import Any, Sequence

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.module_tracker import ModuleTracker

from .bo import COMPLEX_PARTS, BOVector, accumulator_format, complex_bos, dtype_of, format_of, normalize_format
from .recipes import FLOP_FORMULAS, FREE, RecipeSet, get_recipes
from .report import LEVEL_PHASES, CountingError, Report

_GLOBAL_NAMES = {"forward": "model", "loss": "(loss)", "backward": "(loss)", "optimizer": "(optimizer)"}


class _Tracker(ModuleTracker):
    """ModuleTracker whose names are the model's dotted paths rooted at ``model`` (``model.layers.0``)."""

    def __init__(self, model: nn.Module | None):
        super().__init__()
        if model is not None and hasattr(self, "_known_modules") and hasattr(self, "_seen_modules"):
            for name, mod in model.named_modules():
                self._known_modules[mod] = "model" + ("." + name if name else "")
                self._seen_modules.add(mod)

        # the most recently entered module that is still running wins: in backward a sibling branch can stay in
        # ``parents`` until the gradient of its input is complete, so "deepest" would misattribute
        self._order: dict[str, None] = {}

    def _get_append_fn(self, name, is_bw):
        fn = super()._get_append_fn(name, is_bw)
        order = self._order

        prefix = name + "."
        parents = lambda: self.parents  # noqa: E731  (the set object is replaced on reset)

        def append(*args):
            fn(*args)
            order.pop(name, None)
            order[name] = None
            # a module and its last child share their output tensor, so in backward the parent's hook can run
            # after the child's: keep running descendants on top
            active = parents()
            for other in [o for o in order if o.startswith(prefix) and o in active]:
                del order[other]
                order[other] = None

        return append

    def _get_pop_fn(self, name, is_bw):
        fn = super()._get_pop_fn(name, is_bw)
        order = self._order

        def pop(*args):
            fn(*args)
            order.pop(name, None)

        return pop

    def leaf(self, phase: str) -> str:
        parents = self.parents
        for name in reversed(self._order):
            if name in parents:
                return name
        return _GLOBAL_NAMES.get(phase, "model")


#: ops that neither compute nor move data (allocation without a fill, metadata, storage tricks)
_NO_DATA = frozenset({
    "aten.empty", "aten.empty_like", "aten.empty_strided", "aten.new_empty", "aten.new_empty_strided", "aten.set_",
    "aten.resize_", "aten.lift_fresh", "aten.sym_size", "aten.sym_stride", "aten.sym_numel",
    "aten.sym_storage_offset", "aten.is_same_size", "aten._has_compatible_shallow_copy_type", "aten._assert_async",
    "aten._assert_tensor_metadata", "aten._functional_assert_async", "aten._make_dep_token", "aten._pin_memory",
    "aten.detach", "aten.alias", "aten.lift_fresh_copy", "aten.sym_constrain_range_for_size",
})


#: ops that write their output without reading their tensor arguments' data (shape and dtype only)
_WRITE_ONLY = frozenset("aten." + n for n in (
    "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "randint_like", "new_zeros", "new_ones",
    "new_full", "zeros", "ones", "full", "scalar_tensor", "fill", "zero", "rand", "randn", "randint", "arange",
    "uniform", "normal", "bernoulli", "exponential", "randperm", "fill_", "zero_", "uniform_", "normal_",
    "bernoulli_", "exponential_", "random_"))


def _moves_data(func, name: str) -> bool:
    """Whether ``func`` reads or writes tensor data: not a view (its schema returns an alias it does not write),
    not an allocation without a fill, not metadata."""
    if name in _NO_DATA or not name.startswith(("aten.", "quantized.", "prims.")):
        return name not in _NO_DATA and not name.startswith(("profiler.", "prim."))
    schema = getattr(func, "_schema", None)
    if schema is None:
        return True
    for r in schema.returns:
        info = r.alias_info
        if info is not None and not info.is_write:
            return False
    return True


def tensor_bytes(x) -> int:
    """Bytes a kernel touches in ``x`` (a tensor or a list of them): its elements, but no more than its storage
    (a broadcast or expanded tensor is read from its storage once)."""
    if isinstance(x, torch.Tensor):
        n = x.numel() * x.element_size()
        if n and not x.is_contiguous():
            try:
                n = min(n, x.untyped_storage().nbytes())
            except Exception:
                pass
        return n
    if isinstance(x, (list, tuple)):
        return sum(tensor_bytes(y) for y in x if isinstance(y, (torch.Tensor, list, tuple)))
    return 0


def _meta_retry(func, args, kwargs, error):
    """The output of ``func`` on meta or fake tensors whose meta kernel is stricter than the real kernels (it
    rejects dtypes or strides the CPU or a GPU computes): an empty tensor of the shape the op's rule gives
    (:data:`gatesim.models.recipes_zoo.META_SHAPES`). None when the op has no such rule."""
    from .recipes_zoo import META_SHAPES

    rule = META_SHAPES.get(str(getattr(func, "overloadpacket", func)))
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if rule is None or not tensors or not all(t.device.type == "meta" or type(t).__name__ == "FakeTensor"
                                              for t in tensors):
        return None
    try:
        shape, dtype = rule(args, kwargs)
        return torch.empty(shape, dtype=dtype, device=tensors[0].device)
    except Exception:
        return None


class _Replay:
    """Stands for an op whose output was already computed (by :func:`_meta_retry`): calling it returns that."""

    def __init__(self, func, out):
        self.func, self.out = func, out
        self.overloadpacket = getattr(func, "overloadpacket", func)
        self._schema = getattr(func, "_schema", None)

    def __call__(self, *args, **kwargs):
        return self.out

    def __hash__(self):
        return hash(self.func)

    def __eq__(self, other):
        return isinstance(other, _Replay) and other.func == self.func


class TraceCounter(TorchDispatchMode):
    """Counts BOs, FLOPs and bytes moved of every aten op run inside it into ``self.report``.

    Set ``counter.phase`` to ``"forward"``, ``"loss"``, ``"backward"`` or ``"optimizer"`` between steps
    (:func:`count_trace` does this). ``fmt`` forces the number format of every op; by default it follows the
    dtype of each op's first tensor argument. A dot product (matmul, convolution, attention: recipes marked
    ``accumulates``) has its multiplies in that format and its other BOs (the accumulating adds, softmax) in the
    accumulator format: :func:`gatesim.models.bo.accumulator_format` of it and ``accumulate``.
    """

    def __init__(self, recipes: "str | RecipeSet" = "default", *, model: nn.Module | None = None,
                 fmt: str | None = None, strict: bool = False, report: Report | None = None,
                 flops: bool = True, accumulate: str | None = None, count_bytes: bool = True):
        super().__init__()
        self.recipes = get_recipes(recipes)
        self.fmt = normalize_format(fmt) if fmt else None
        self.accumulate = normalize_format(accumulate) if accumulate else None
        self.strict = strict
        self.phase = "forward"
        self.flops = flops
        self.count_bytes = count_bytes
        self.paused = False  # while True, ops run uncounted (a recurrent layer priced from its shapes)
        self.report = report if report is not None else Report(level="custom", counter="trace",
                                                               recipes=self.recipes.name, phases=())
        self.report.accumulate = self.accumulate
        self.tracker = _Tracker(model)
        self._entries: dict[Any, tuple] = {}
        self._fmt_cache: dict[torch.dtype, str] = {}
        self._acc_cache: dict[str, str] = {}

    # -- context ----------------------------------------------------------------------------------
    def __enter__(self):
        self.tracker.__enter__()
        try:
            return super().__enter__()
        except BaseException:
            self.tracker.__exit__(None, None, None)
            raise

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            self.tracker.__exit__(*exc)

    def current_module(self) -> str:
        return self.tracker.leaf(self.phase)

    # -- dispatch ---------------------------------------------------------------------------------
    def _entry(self, func):
        packet = getattr(func, "overloadpacket", func)
        name = str(packet)
        recipe = self.recipes.lookup(packet)
        flop = FLOP_FORMULAS.get(packet) if self.flops else None
        moves = (2 if name in _WRITE_ONLY else 1) if self.count_bytes and _moves_data(func, name) else 0
        acc = bool(getattr(recipe, "accumulates", False))
        e = (name, recipe, flop, moves, acc)
        self._entries[func] = e
        return e

    def _format(self, args, out) -> str:
        if self.fmt is not None:
            return self.fmt
        dt = None
        a0 = args[0] if args else None
        if isinstance(a0, torch.Tensor):
            dt = a0.dtype
        elif isinstance(a0, (list, tuple)) and a0 and isinstance(a0[0], torch.Tensor):
            dt = a0[0].dtype
        if dt is None or not (dt.is_floating_point or dt.is_complex):
            o = out[0] if isinstance(out, (list, tuple)) and out else out
            if isinstance(o, torch.Tensor) and (o.dtype.is_floating_point or o.dtype.is_complex or dt is None):
                dt = o.dtype
        if dt is None:
            return "none"
        f = self._fmt_cache.get(dt)
        if f is None:
            f = self._fmt_cache[dt] = format_of(dt)
        return f

    def accumulator(self, fmt: str) -> str:
        a = self._acc_cache.get(fmt)
        if a is None:  # a forced format covers the accumulators too, unless ``accumulate`` names one
            a = self._acc_cache[fmt] = (fmt if self.fmt is not None and self.accumulate is None
                                        else accumulator_format(fmt, self.accumulate))
        return a

    def _bytes(self, args, kwargs, out) -> tuple[int, int]:
        read = 0
        for a in args:
            if isinstance(a, (torch.Tensor, list, tuple)):
                read += tensor_bytes(a)
        if kwargs:
            for a in kwargs.values():
                if isinstance(a, (torch.Tensor, list, tuple)):
                    read += tensor_bytes(a)
        return read, tensor_bytes(out)

    def _book(self, module, fmt, v, flops, acc):
        """Add one op's BOs: a dict of {format or role ("in", "acc"): BOVector}, or a BOVector in ``fmt`` (split
        into multiplies in ``fmt`` and the rest in the accumulator format when ``acc``)."""
        report, phase = self.report, self.phase
        if isinstance(v, dict):
            first = True
            for key, part in v.items():
                f = fmt if key == "in" else self.accumulator(fmt) if key == "acc" else key
                report.record(module, phase, f).add(part, flops if first else 0, 1 if first else 0)
                first = False
            return
        if fmt in COMPLEX_PARTS:
            v = complex_bos(v)
            fmt = COMPLEX_PARTS[fmt]
        if acc:
            a = self.accumulator(fmt)
            if a != fmt:
                report.record(module, phase, fmt).add(BOVector(mul=v.mul), flops)
                report.record(module, phase, a).add(BOVector(v.add, v.sub, 0, v.div, v.root, v.compare), 0, 0)
                return
            rec = report.record(module, phase, fmt)
            rec.add(v, flops)
            rec.fma += min(v.mul, v.add)
            return
        report.record(module, phase, fmt).add(v, flops)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        try:
            out = func(*args, **kwargs)
        except CountingError:
            raise
        except Exception as e:
            out = _meta_retry(func, args, kwargs, e)
            if out is not None:
                return self.__torch_dispatch__(_Replay(func, out), types, args, kwargs)
            raise CountingError(f"op {func} failed in module {self.current_module()} during {self.phase}: "
                                f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from e
        if self.paused:
            return out
        entry = self._entries.get(func)
        if entry is None:
            entry = self._entry(func)
        name, recipe, flop, moves, acc = entry
        report = self.report
        report.op_counts[name] += 1
        if recipe is FREE and not moves:
            return out
        module = self.tracker.leaf(self.phase)
        fmt = self._format(args, out)
        if moves:
            if moves == 2:
                read, written = 0, tensor_bytes(out)
            else:
                read, written = self._bytes(args, kwargs, out)
            rec = report.record(module, self.phase, fmt)
            rec.bytes_read += read
            rec.bytes_written += written
            if recipe is FREE:
                rec.ops += 1
                return out
        if recipe is None:
            if self.strict:
                raise CountingError(f"no recipe for op {name} (in module {module} during {self.phase}); "
                                    f"register one with gatesim.models.register_recipe or drop --strict")
            report.uncounted[name] += 1
            report.uncounted_where.setdefault(name, (module, self.phase))
            return out
        try:
            v = recipe(args, kwargs, out)
            f = flop(args, kwargs, out) if flop is not None else 0
        except Exception as e:
            raise CountingError(f"recipe for {name} failed in module {module} during {self.phase}: "
                                f"{type(e).__name__}: {e}") from e
        self._book(module, fmt, v, int(f), acc)
        return out


# ------------------------------------------------------------------------------------------------
# driving a model through forward, loss, backward and the optimizer step
# ------------------------------------------------------------------------------------------------
LOSSES = ("mse", "cross-entropy")
OPTIMIZERS = ("sgd", "adam", "adamw")


def _first_tensor(x):
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, dict):
        x = list(x.values())
    if isinstance(x, (list, tuple)):
        for y in x:
            t = _first_tensor(y)
            if t is not None:
                return t
    if hasattr(x, "logits"):
        return x.logits
    return None


def _first_leaf(model: nn.Module):
    for m in model.modules():
        if not list(m.children()):
            return m
    return model


def _resolve_dtype(dtype) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    try:
        return dtype_of(dtype)
    except ValueError as e:
        raise CountingError(str(e)) from None


def prepare_model(model, device: str = "meta", dtype=None, fake_mode=None) -> nn.Module:
    """An ``nn.Module`` on ``device``: built there from a zero-argument factory, or a copy moved there."""
    dt = _resolve_dtype(dtype)
    if device == "fake" and fake_mode is None:
        raise CountingError("device 'fake' is for the trace counter; use device 'meta' here")
    if isinstance(model, nn.Module):
        params = list(model.parameters()) + list(model.buffers())
        if device == "fake":
            if fake_mode is None:
                raise CountingError("device='fake' needs a FakeTensorMode")
            try:
                with fake_mode:
                    m = copy.deepcopy(model)
            except Exception as e:
                raise CountingError(f"copying the model into fake tensors failed: {type(e).__name__}: "
                                    f"{str(e).splitlines()[0] if str(e) else ''}") from e
        elif params and all(p.device.type == torch.device(device).type for p in params):
            m = model
        else:
            try:
                m = copy.deepcopy(model).to(device)
            except Exception as e:  # quantized modules keep CPU-only packed weights
                raise CountingError(f"moving the model to {device} failed: {type(e).__name__}: "
                                    f"{str(e).splitlines()[0] if str(e) else ''}") from e
    elif callable(model):
        try:
            if device == "fake":
                with fake_mode:
                    m = model()
            else:
                with torch.device(device):
                    m = model()
        except CountingError:
            raise
        except Exception as e:
            raise CountingError(f"model factory failed: {type(e).__name__}: {e}") from e
        if not isinstance(m, nn.Module):
            raise CountingError(f"model factory returned {type(m).__name__}, not a torch.nn.Module")
    else:
        raise CountingError(f"expected a torch.nn.Module or a factory returning one, got {type(model).__name__}")
    if dt is not None and any(p.is_floating_point() and p.dtype != dt for p in m.parameters()):
        if device == "fake":  # fake parameters cannot be converted in place
            raise CountingError(f"device 'fake' counts the model in its own dtype; use device 'meta' for {dt}")
        m = m.to(dt)
    return m


def make_inputs(model: nn.Module, input_shape, input_dtype=None, dtype=None, device="meta") -> tuple:
    """Input tensors for ``input_shape`` (one shape or a list of shapes). Integer inputs (token ids) if
    ``input_dtype`` is an integer dtype, or by default when the model's first layer is an ``nn.Embedding``."""
    if input_shape and isinstance(input_shape[0], int):
        shapes = [tuple(input_shape)]
    else:
        shapes = [tuple(s) for s in input_shape]
    idt = _resolve_dtype(input_dtype) if input_dtype is not None else None
    if idt is None:
        idt = torch.long if isinstance(_first_leaf(model), nn.Embedding) else (_resolve_dtype(dtype) or torch.float32)
    out = []
    for s in shapes:
        if any((not isinstance(d, int)) or d < 1 for d in s):
            raise CountingError(f"input shape {s} must be positive integers")
        if idt.is_floating_point:
            out.append(torch.empty(s, dtype=idt, device=device))
        else:
            out.append(torch.zeros(s, dtype=idt, device=device))
    return tuple(out)


def _loss_value(loss, out, target):
    if callable(loss):
        return loss(out, target) if target is not None else loss(out)
    if loss == "mse":
        return nn.functional.mse_loss(out, target if target is not None else torch.zeros_like(out))
    if loss == "cross-entropy":
        logits = out
        if logits.dim() == 1:
            logits = logits.unsqueeze(0)
        elif logits.dim() > 2:  # (..., classes): tokens or positions as rows
            logits = logits.reshape(-1, logits.shape[-1])
        if target is None:
            target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
        else:
            target = target.reshape(-1) if target.dim() > 1 else target
        return nn.functional.cross_entropy(logits, target)
    raise CountingError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)} or a callable")


def _optimizer(optimizer, params):
    if optimizer is None:
        return None
    if isinstance(optimizer, str):
        name = optimizer.lower()
        if name == "sgd":
            return torch.optim.SGD(params, lr=0.01, momentum=0.9)
        if name == "adam":
            return torch.optim.Adam(params, lr=1e-3)
        if name == "adamw":
            return torch.optim.AdamW(params, lr=1e-3)
        raise CountingError(f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    return optimizer(params)


DEVICES = ("auto", "meta", "fake", "cpu", "cuda")
QUANTIZE = ("int8-dynamic",)
#: real CPU tensors are the last resort of ``device="auto"``: allowed when parameters, gradients and optimizer
#: state (activations come on top) fit in this many bytes; ``cpu_limit`` or $GATESIM_CPU_LIMIT_BYTES change it
CPU_FALLBACK_LIMIT = 4 * 2**30

#: what an error says when the step needs real values or CPU kernels, not only shapes
_REAL_VALUE_SIGNS = ("meta", "fake", "data-dependent", "data dependent", "same device", "item()", "data pointer",
                     "unbacked", "_local_scalar_dense", "nonzero", "dynamic output shape", "not implemented",
                     "quantized", "symbolic", "guard", "device type")
_REAL_VALUE_TYPES = ("NotImplementedError", "DataDependentOutputException", "DynamicOutputShapeException",
                     "UnsupportedOperatorException", "GuardOnDataDependentSymNode", "UnsupportedFakeTensorException",
                     "DataDependentOutputException")


def needs_real_values(e: BaseException) -> bool:
    """Whether a counting failure looks cured by another device (meta -> fake -> cpu): ``.item()`` on meta, a
    data-dependent shape, a tensor made on another device, an op without a meta or fake kernel."""
    seen = set()
    x: BaseException | None = e
    while x is not None and id(x) not in seen:
        seen.add(id(x))
        if type(x).__name__ in _REAL_VALUE_TYPES:
            return True
        if not isinstance(x, CountingError):
            msg = str(x).lower()
            if any(sign in msg for sign in _REAL_VALUE_SIGNS):
                return True
        x = x.__cause__ or x.__context__
    return False


def _first_line(e: BaseException) -> str:
    s = str(e)
    return s.splitlines()[0] if s else type(e).__name__


def state_bytes(model, level: str, optimizer) -> int:
    """Bytes of parameters and buffers, plus gradients and optimizer state for a training step (SGD with
    momentum: 1 state per parameter; Adam/AdamW: 2), of ``model`` or of what its factory builds (on meta)."""
    m = model if isinstance(model, nn.Module) else prepare_model(model, "meta")
    params = sum(p.numel() * p.element_size() for p in m.parameters())
    buffers = sum(b.numel() * b.element_size() for b in m.buffers())
    copies = 1
    if level == "training":
        copies = 2 + {"sgd": 1, "adam": 2, "adamw": 2}.get(optimizer if isinstance(optimizer, str) else "", 0)
    return params * copies + buffers


def count_trace(model, inputs=None, *, input_shape=None, input_dtype=None,
                target=None, level: str = "training", loss="mse", optimizer=None,
                recipes: "str | RecipeSet" = "default", strict: bool = False, device: str = "auto",
                dtype=None, fmt: str | None = None, accumulate: str | None = None, amp: str | None = None,
                quantize: str | None = None, cpu_limit: int | None = None, recurrent: bool = True) -> Report:
    """Run one step of ``model`` under :class:`TraceCounter` and return the :class:`Report`.

    ``model``: an ``nn.Module`` or a zero-argument factory (built directly on ``device``: best for huge models).
    ``inputs``: tensors, a dict of keyword tensors, or ``inputs(model, device)`` returning either; or
    ``input_shape``. ``level``: training (forward + loss + backward [+ optimizer]), validation (forward + loss, no
    grad), inference (forward, no grad). ``loss``: "mse", "cross-entropy" or a callable ``loss(output[, target])``.
    ``optimizer``: None, "sgd", "adam", "adamw", an optimizer or a factory ``f(params)``; counted as the
    ``optimizer`` phase at training level. ``dtype`` casts the model (``"fp16"``); ``fmt`` forces the number
    format of every op; ``accumulate`` the format dot products accumulate in (default: fp32 for narrower floats,
    int32 for int8); ``amp`` (``"bf16"``, ``"fp16"``) runs forward and loss under CPU autocast (fake tensors:
    autocast does not apply to meta ones); ``quantize="int8-dynamic"`` quantizes Linear and recurrent layers
    with ``torch.ao.quantization.quantize_dynamic`` (real CPU weights; inference or validation level).

    ``device="auto"`` tries meta tensors, then ``FakeTensorMode`` (when the step needs CPU kernels or tensors made
    inside forward), then real CPU tensors when the step needs real values (``.item()``, data-dependent shapes)
    and the model's state fits ``cpu_limit`` bytes (default :data:`CPU_FALLBACK_LIMIT`); the report's
    ``device`` and ``attempts`` say which ran and why the others did not. Any other device forces that one.
    ``recurrent``: price RNN/LSTM/GRU layers of many steps from two short runs (exact; counting time does not
    grow with the sequence length).
    """
    import os

    if level not in LEVEL_PHASES:
        raise CountingError(f"unknown level {level!r}; expected one of {', '.join(LEVEL_PHASES)}")
    if not callable(loss) and loss not in LOSSES:
        raise CountingError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)} or a callable")
    if device not in DEVICES:
        raise CountingError(f"unknown device {device!r}; expected one of {', '.join(DEVICES)}")
    if amp is not None:
        amp = normalize_format(amp)
        if amp not in ("bf16", "fp16"):
            raise CountingError(f"amp must be bf16 or fp16, got {amp!r}")
    if quantize is not None:
        if quantize not in QUANTIZE:
            raise CountingError(f"unknown quantization {quantize!r}; expected one of {', '.join(QUANTIZE)}")
        if level == "training":
            raise CountingError("a dynamically quantized model has no backward pass: count it at level inference "
                                "or validation")
    if device == "auto":
        chain = ["cpu"] if quantize else ["fake", "cpu"] if amp else ["meta", "fake", "cpu"]
    else:
        if amp and device == "meta":
            raise CountingError("autocast does not apply to meta tensors; use device fake (or auto) with amp")
        if quantize and device in ("meta", "fake"):
            raise CountingError("quantization needs real weights; use device cpu (or auto) with quantize")
        chain = [device]
    if cpu_limit is None:
        cpu_limit = int(os.environ.get("GATESIM_CPU_LIMIT_BYTES", CPU_FALLBACK_LIMIT))
    attempts: list[tuple[str, str]] = []
    for i, dev in enumerate(chain):
        if dev == "cpu" and device == "auto":
            need = state_bytes(model, level, optimizer)
            if need > cpu_limit:
                why = f"; {attempts[-1][0]}: {attempts[-1][1]}" if attempts else ""
                raise CountingError(f"the step needs real values{why}; real CPU tensors would hold {need:,} bytes "
                                    f"of parameters and state, over the {cpu_limit:,}-byte limit "
                                    f"(cpu_limit / GATESIM_CPU_LIMIT_BYTES)")
        try:
            report = _count_once(model, inputs, input_shape=input_shape, input_dtype=input_dtype, target=target,
                                 level=level, loss=loss, optimizer=optimizer, recipes=recipes, strict=strict,
                                 device=dev, dtype=dtype, fmt=fmt, accumulate=accumulate, amp=amp,
                                 quantize=quantize, recurrent=recurrent)
        except CountingError as e:
            # a step that fails on meta for want of real values goes on down the chain whatever the next
            # device says (a fake kernel can be stricter than the CPU's); any other failure is final
            if i == len(chain) - 1 or (not attempts and not needs_real_values(e)):
                if attempts:
                    raise CountingError(f"{_first_line(e)} (on {dev}; on {attempts[0][0]}: {attempts[0][1]})") from e
                raise
            attempts.append((dev, _first_line(e)))
            continue
        report.device = dev
        report.attempts = attempts
        report.amp = amp
        for d, why in attempts:
            report.notes.append(f"not counted on {d}: {why}")
        if quantize:
            report.notes.append(f"quantized with torch.ao.quantization.quantize_dynamic ({quantize})")
        return report
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def _quiet_fake_tensor_log():
    """FakeTensorMode logs a traceback for every op it cannot run; the counter reports the failure itself."""
    import logging

    log = logging.getLogger("torch._subclasses.fake_tensor")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _quantize(m: nn.Module, quantize: str) -> nn.Module:
    from torch.ao.quantization import quantize_dynamic

    m.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(m, {nn.Linear, nn.LSTM, nn.GRU, nn.LSTMCell, nn.GRUCell, nn.RNNCell},
                                dtype=torch.qint8)


def _count_once(model, inputs, *, input_shape, input_dtype, target, level, loss, optimizer, recipes, strict,
                device, dtype, fmt, accumulate, amp, quantize, recurrent) -> Report:
    rs = get_recipes(recipes)
    fake_mode = None
    if device == "fake":
        from torch._subclasses.fake_tensor import FakeTensorMode

        fake_mode = FakeTensorMode(allow_non_fake_inputs=True)
    m = prepare_model(model, device, dtype, fake_mode)
    if quantize:
        m = _quantize(m, quantize)
    dev = "cpu" if device == "fake" else device
    with (fake_mode if fake_mode is not None else contextlib.nullcontext()), warnings.catch_warnings(), \
            _quiet_fake_tensor_log():
        warnings.filterwarnings("ignore", message=".*data pointer of FakeTensor.*")
        if callable(inputs) and not isinstance(inputs, torch.Tensor):
            try:
                inputs = inputs(m, dev)
            except CountingError:
                raise
            except Exception as e:
                raise CountingError(f"making the inputs failed: {type(e).__name__}: {_first_line(e)}") from e
        if inputs is None:
            if input_shape is None:
                raise CountingError("give inputs or input_shape")
            inputs = make_inputs(m, input_shape, input_dtype, dtype, dev)
        elif isinstance(inputs, torch.Tensor):
            inputs = (inputs,)
        kw_inputs = dict(inputs) if isinstance(inputs, dict) else None
        pos_inputs = () if kw_inputs is not None else tuple(inputs)

        def move(x):
            if not isinstance(x, torch.Tensor):
                return x
            if device != "fake":
                x = x.to(dev)
            return x.to(dt) if dt is not None and x.is_floating_point() else x

        dt = _resolve_dtype(dtype)
        pos_inputs = tuple(move(x) for x in pos_inputs)
        if kw_inputs is not None:
            kw_inputs = {k: move(v) for k, v in kw_inputs.items()}
        if device != "fake" and isinstance(target, torch.Tensor):
            target = target.to(dev)
        phases = LEVEL_PHASES[level]
        training = level == "training"
        opt = _optimizer(optimizer, [p for p in m.parameters() if p.requires_grad]) if training else None
        if opt is not None:
            phases = phases + ("optimizer",)
        report = Report(level=level, counter="trace", recipes=rs.name, phases=phases)
        counter = TraceCounter(rs, model=m, fmt=fmt, strict=strict, report=report, accumulate=accumulate)
        m.train(training and not quantize)
        grad = torch.enable_grad() if training else torch.no_grad()
        autocast = (torch.autocast("cpu", dtype=dtype_of(amp)) if amp else contextlib.nullcontext())
        from .recurrent import RecurrentShortcut

        shortcut = RecurrentShortcut(counter) if recurrent else contextlib.nullcontext()
        try:
            with grad, counter, shortcut:
                counter.phase = "forward"
                with autocast:
                    out = m(**kw_inputs) if kw_inputs is not None else m(*pos_inputs)
                    y = _first_tensor(out)
                    if y is None:
                        raise CountingError(f"model returned {type(out).__name__}, which holds no tensor")
                    if "loss" in phases:
                        counter.phase = "loss"
                        if not y.is_floating_point():
                            raise CountingError(f"model output has dtype {y.dtype}; a loss needs floating point")
                        l = _loss_value(loss, y, target)
                if training:
                    counter.phase = "backward"
                    if not l.requires_grad:
                        raise CountingError("the loss does not require grad: the model has no trainable "
                                            "parameters on the path to the output")
                    l.backward()
                if opt is not None:
                    counter.phase = "optimizer"
                    opt.step()
                    opt.zero_grad(set_to_none=True)
        except CountingError:
            raise
        except Exception as e:
            where = counter.current_module()
            msg = str(e).splitlines()[0] if str(e) else ""
            raise CountingError(f"{counter.phase} failed in module {where}: {type(e).__name__}: {msg}") from e
    return report
