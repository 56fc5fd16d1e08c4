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

from .bo import dtype_of, format_of, normalize_format
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


class TraceCounter(TorchDispatchMode):
    """Counts BOs (and FLOPs) of every aten op run inside it into ``self.report``.

    Set ``counter.phase`` to ``"forward"``, ``"loss"``, ``"backward"`` or ``"optimizer"`` between steps
    (:func:`count_trace` does this). ``fmt`` forces the number format of every op; by default it follows the
    dtype of each op's first tensor argument.
    """

    def __init__(self, recipes: "str | RecipeSet" = "default", *, model: nn.Module | None = None,
                 fmt: str | None = None, strict: bool = False, report: Report | None = None,
                 flops: bool = True):
        super().__init__()
        self.recipes = get_recipes(recipes)
        self.fmt = normalize_format(fmt) if fmt else None
        self.strict = strict
        self.phase = "forward"
        self.flops = flops
        self.report = report if report is not None else Report(level="custom", counter="trace",
                                                               recipes=self.recipes.name, phases=())
        self.tracker = _Tracker(model)
        self._entries: dict[Any, tuple] = {}
        self._fmt_cache: dict[torch.dtype, str] = {}

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
        e = (name, recipe, flop)
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
        if (dt is None or not dt.is_floating_point) and isinstance(out, torch.Tensor) and out.dtype.is_floating_point:
            dt = out.dtype
        if dt is None:
            return "none"
        f = self._fmt_cache.get(dt)
        if f is None:
            f = self._fmt_cache[dt] = format_of(dt)
        return f

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        try:
            out = func(*args, **kwargs)
        except CountingError:
            raise
        except Exception as e:
            raise CountingError(f"op {func} failed in module {self.current_module()} during {self.phase}: "
                                f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from e
        entry = self._entries.get(func)
        if entry is None:
            entry = self._entry(func)
        name, recipe, flop = entry
        report = self.report
        report.op_counts[name] += 1
        if recipe is FREE:
            return out
        module = self.tracker.leaf(self.phase)
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
        report.add(module, self.phase, self._format(args, out), v, int(f))
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
            with fake_mode:
                m = copy.deepcopy(model)
        elif params and all(p.device.type == torch.device(device).type for p in params):
            m = model
        else:
            m = copy.deepcopy(model).to(device)
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


def count_trace(model, inputs: Sequence | torch.Tensor | None = None, *, input_shape=None, input_dtype=None,
                target=None, level: str = "training", loss="mse", optimizer=None,
                recipes: "str | RecipeSet" = "default", strict: bool = False, device: str = "meta",
                dtype=None, fmt: str | None = None) -> Report:
    """Run one step of ``model`` under :class:`TraceCounter` and return the :class:`Report`.

    ``model``: an ``nn.Module`` or a zero-argument factory (built directly on ``device``: best for huge models).
    ``inputs`` (tensors) or ``input_shape``; ``level``: training (forward + loss + backward [+ optimizer]),
    validation (forward + loss, no grad), inference (forward, no grad). ``loss``: "mse", "cross-entropy" or a
    callable ``loss(output[, target])``. ``optimizer``: None, "sgd", "adam", "adamw", an optimizer or a
    factory ``f(params)``; counted as the ``optimizer`` phase at training level. ``dtype`` casts the model
    (``"fp16"``); ``fmt`` forces the number format of every op in the report.
    """
    if level not in LEVEL_PHASES:
        raise CountingError(f"unknown level {level!r}; expected one of {', '.join(LEVEL_PHASES)}")
    if not callable(loss) and loss not in LOSSES:
        raise CountingError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)} or a callable")
    rs = get_recipes(recipes)
    fake_mode = None
    if device == "fake":
        from torch._subclasses.fake_tensor import FakeTensorMode

        fake_mode = FakeTensorMode(allow_non_fake_inputs=True)
    m = prepare_model(model, device, dtype, fake_mode)
    dev = "cpu" if device == "fake" else device
    with (fake_mode if fake_mode is not None else contextlib.nullcontext()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*data pointer of FakeTensor.*")
        if inputs is None:
            if input_shape is None:
                raise CountingError("give inputs or input_shape")
            inputs = make_inputs(m, input_shape, input_dtype, dtype, dev)
        elif isinstance(inputs, torch.Tensor):
            inputs = (inputs,)
        if device != "fake":
            inputs = tuple(x.to(dev) if isinstance(x, torch.Tensor) else x for x in inputs)
            if isinstance(target, torch.Tensor):
                target = target.to(dev)
        dt = _resolve_dtype(dtype)
        if dt is not None:
            inputs = tuple(x.to(dt) if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in inputs)
        phases = LEVEL_PHASES[level]
        training = level == "training"
        opt = _optimizer(optimizer, [p for p in m.parameters() if p.requires_grad]) if training else None
        if opt is not None:
            phases = phases + ("optimizer",)
        report = Report(level=level, counter="trace", recipes=rs.name, phases=phases)
        counter = TraceCounter(rs, model=m, fmt=fmt, strict=strict, report=report)
        m.train(training)
        grad = torch.enable_grad() if training else torch.no_grad()
        try:
            with grad, counter:
                counter.phase = "forward"
                out = m(*inputs)
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
