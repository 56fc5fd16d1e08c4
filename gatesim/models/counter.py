"""The trace counter: a ``TorchDispatchMode`` that prices every aten op with a recipe set and books its BOs (in
the formats it computes in), FLOPs and bytes moved on the innermost running module and the phase."""
from __future__ import annotations

import itertools
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.module_tracker import ModuleTracker

from .bo import COMPLEX_PARTS, BOVector, accumulator_format, complex_bos, format_of, normalize_format, symbolic_value
from .recipes import FLOP_FORMULAS, FREE, RecipeSet, get_recipes
from .report import CountingError, Report

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

    # where no gradient can be taken (torch.no_grad, a forward under torch.inference_mode) there is no backward
    # to track: the module is entered and left, and no gradient hook is hung on its tensors (torch's own would
    # fail on a parameter passed to a module under inference mode: its view has no grad_fn)
    def _fw_pre_hook(self, mod, input) -> None:
        if torch.is_grad_enabled():
            return super()._fw_pre_hook(mod, input)
        self._get_append_fn(self._get_mod_name(mod), False)()

    def _fw_post_hook(self, mod, input, output) -> None:
        if torch.is_grad_enabled():
            return super()._fw_post_hook(mod, input, output)
        self._get_pop_fn(self._get_mod_name(mod), False)()

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
        if type(n) is not int:
            n = symbolic_value(n)
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
    from .recipes_quant import META_SHAPES

    rule = META_SHAPES.get(str(getattr(func, "overloadpacket", func)))
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if rule is None or not tensors or not all(t.device.type == "meta" or type(t).__name__ == "FakeTensor"
                                              for t in tensors):
        return None
    try:
        shape, dtype = rule(args, kwargs)
        # made from an argument that holds no real value: on fake tensors a factory, or an op on an input's real
        # value, would also run for real (and allocate the whole output)
        src = next((t for t in tensors if getattr(t, "real_tensor", None) is None), tensors[0])
        return src.new_empty(shape, dtype=dtype)
    except Exception:
        return None


#: prefix of the attribute a counted op's output tensors carry, one name per counter (a tensor that outlives a
#: count, a parameter the optimizer updated, starts no chain in the next): (longest chain of launched ops ending
#: in it over the step, the phase that wrote it, the longest such chain within that phase)
DEPTH_ATTR = "_gatesim_depth"
_COUNTERS = itertools.count()


def _depth_of(x, phase: str, best: list, attr: str) -> None:
    """Fold the depths of the tensors in ``x`` (a tensor or a list of them) into ``best = [step, in phase]``."""
    if isinstance(x, torch.Tensor):
        d = getattr(x, attr, None)
        if d is not None:
            if d[0] > best[0]:
                best[0] = d[0]
            if d[1] == phase and d[2] > best[1]:
                best[1] = d[2]
    elif isinstance(x, (list, tuple)):
        for y in x:
            if isinstance(y, (torch.Tensor, list, tuple)):
                _depth_of(y, phase, best, attr)


def _set_depth(x, value: tuple, attr: str) -> None:
    if isinstance(x, torch.Tensor):
        try:
            setattr(x, attr, value)
        except Exception:  # a tensor subclass that takes no attributes: its chain is not followed
            pass
    elif isinstance(x, (list, tuple)):
        for y in x:
            _set_depth(y, value, attr)


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
                 flops: bool = True, accumulate: str | None = None, count_bytes: bool = True,
                 depth_attr: str | None = None):
        super().__init__()
        # a counter follows its own chains (one nested in another, or run after it, ignores the other's)
        self.depth_attr = depth_attr or f"{DEPTH_ATTR}_{next(_COUNTERS)}"
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
        self._composite: dict[Any, bool] = {}  #: op -> counted through its parts (:meth:`_decomposes`)
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

    def chain(self, inputs, outputs, launches: int = 1) -> None:
        """Sequential depth: ``outputs`` end a chain ``launches`` ops longer than the longest one ending in any of
        ``inputs``; the report keeps the longest chains (:meth:`Report.depth`). Views pass ``launches=0``."""
        best = [0, 0]
        _depth_of(inputs, self.phase, best, self.depth_attr)
        value = (best[0] + launches, self.phase, best[1] + launches)
        _set_depth(outputs, value, self.depth_attr)
        if launches:
            r = self.report
            if value[0] > r.depth_total:
                r.depth_total = value[0]
            if value[2] > r.depths.get(self.phase, 0):
                r.depths[self.phase] = value[2]

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
        if not self.paused and self._decomposes(func):
            out = self._decompose(func, args, kwargs)
            if out is not NotImplemented:
                return out
        try:
            out = func(*args, **kwargs)
        except CountingError:
            raise
        except Exception as e:
            out = _meta_retry(func, args, kwargs, e)
            if out is None:
                raise CountingError(f"op {func} failed in module {self.current_module()} during {self.phase}: "
                                    f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from e
        if self.paused:
            return out
        return self._count(func, args, kwargs, out)

    def _decomposes(self, func) -> bool:
        """True for an op with no recipe that autograd would have decomposed (a CompositeImplicitAutograd op:
        ``aten.linear``, ``aten.layer_norm``); it reaches the counter whole where autograd is off
        (``torch.inference_mode``, which a model's own forward may use), and is counted through its parts."""
        d = self._composite.get(func)
        if d is None:
            entry = self._entries.get(func) or self._entry(func)
            d = entry[1] is None and torch._C._dispatch_has_kernel_for_dispatch_key(
                func.name(), "CompositeImplicitAutograd")
            self._composite[func] = d
        return d

    def _decompose(self, func, args, kwargs):
        """``func`` run as its parts, each dispatched through this counter again."""
        TorchDispatchMode.__enter__(self)  # the mode alone: the module tracker is already on
        try:
            return func.decompose(*args, **kwargs)
        finally:
            TorchDispatchMode.__exit__(self, None, None, None)

    def _count(self, func, args, kwargs, out):
        """Book one op that ran: its call, bytes, BOs and FLOPs (or its name, if it has no recipe)."""
        entry = self._entries.get(func)
        if entry is None:
            entry = self._entry(func)
        name, recipe, flop, moves, acc = entry
        report = self.report
        report.op_counts[name] += 1
        if recipe is FREE and not moves:
            self.chain((args, tuple(kwargs.values())) if kwargs else args, out, 0)
            return out
        self.chain((args, tuple(kwargs.values())) if kwargs else args, out)
        module = self.tracker.leaf(self.phase)
        fmt = self._format(args, out)
        nbytes = 0
        if moves:
            if moves == 2:
                read, written = 0, tensor_bytes(out)
            else:
                read, written = self._bytes(args, kwargs, out)
            nbytes = read + written
            rec = report.record(module, self.phase, fmt)
            rec.bytes_read += read
            rec.bytes_written += written
            if recipe is FREE:
                rec.ops += 1
                rec.costs[(False, 0, nbytes)] += 1
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
        n = sum(p.total() for p in v.values()) if isinstance(v, dict) else v.total()
        report.record(module, self.phase, fmt).costs[(acc, n, nbytes)] += 1
        return out
