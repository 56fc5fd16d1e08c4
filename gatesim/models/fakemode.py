"""Fake tensors that keep the values of what the inputs alone determine.

The counter's ``fake`` device runs a step under ``FakeTensorMode`` with a shape environment and torch's
real-tensor propagation switched on *after* the model is built: the model's parameters and buffers are fake
(no memory, no values), the inputs are made real, and every op whose tensor arguments all carry real values
(token ids, attention masks, position ids, image grids, ``torch.arange``) is also run for real beside its fake
kernel. So a step that branches on, or sizes a tensor from, a value the inputs decide (``.item()`` of a
position id, ``nonzero`` of an image-token mask, the patches of an image grid) runs with the true value and
costs only the memory of those small integer tensors; anything that touches a parameter stays fake.

A size that depends on the parameters' values (expert routing, non-maximum suppression) has no real value; it
is an unbacked symbol, and :class:`AssumedSizes` gives it a documented assumption, recorded in the report.
"""
from __future__ import annotations

import contextlib
from collections import Counter

import torch
from torch.utils import _pytree as pytree
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode, _disable_current_modes


_SCALAR = (torch.ops.aten._local_scalar_dense.default,)


def is_fake(x) -> bool:
    return type(x).__name__ == "FakeTensor"


def make_fake_mode():
    """A ``FakeTensorMode`` with a shape environment (static shapes: only data-dependent sizes are symbols)."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv

    return FakeTensorMode(allow_non_fake_inputs=True, shape_env=ShapeEnv(), static_shapes=True)


def propagate_input_values(mode) -> None:
    """From now on, run ops whose tensor arguments all hold real values for real too (inputs, and tensors made
    inside ``forward`` from no tensor), beside their fake kernels. Call after the model is built: a parameter
    made under propagation would be allocated for real."""
    mode.propagate_real_tensors = True
    conv = mode.fake_tensor_converter.meta_converter
    conv.copy_data = conv.describer.copy_data = True
    mode.cache_enabled = False


@contextlib.contextmanager
def propagation_settings():
    """While a step runs: where a fake kernel disagrees with the real one on a propagated value (``prims.sum``
    of integers: int32 fake, int64 real), the real one decides; guards that real values resolve are not
    logged."""
    import logging

    import torch._functorch.config as fconfig

    log = logging.getLogger("torch.fx.experimental.symbolic_shapes")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with fconfig.patch(generate_fake_kernels_from_real_mismatches=True):
            yield
    finally:
        log.setLevel(level)


class RealValues(TorchDispatchMode):
    """Between the counter and the fake mode: an op whose result depends on values (``.item()``, ``nonzero``,
    ``unique``, ``equal``...) whose arguments all carry real values gets the real result, as a plain number or
    a fake tensor of concrete shape that carries it, instead of an unbacked symbol that model code could not
    hash, slice by or branch on."""

    def __init__(self, mode):
        super().__init__()
        self.mode = mode
        self.assumed: Counter = Counter()  # op name -> data-dependent sizes given their upper bound

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        flat = [a for a in pytree.tree_leaves((args, kwargs)) if isinstance(a, torch.Tensor)]
        real = all(not is_fake(a) or a.real_tensor is not None for a in flat)
        dependent = func in _SCALAR or _data_dependent(func)
        if dependent and flat and real and all(not is_fake(a) or a.constant is None for a in flat):
            vals = pytree.tree_map(lambda a: a.real_tensor if isinstance(a, torch.Tensor) and is_fake(a) else a,
                                   (args, kwargs))
            with _disable_current_modes():
                out = func(*vals[0], **vals[1])
            return pytree.tree_map(lambda t: self.mode.from_tensor(t, static_shapes=True)
                                   if isinstance(t, torch.Tensor) else t, out)
        # only an op whose arguments all hold real values (or a factory called by the model) runs for real: not
        # the factories inside the decomposition of an op on parameters (a cast allocates its output)
        name = str(getattr(func, "overloadpacket", func))
        if name in _KEEP_ALL and flat and not real:
            # a selection the parameters decide keeps every candidate: every index of the mask, every box
            self.assumed[name] += 1
            with _disable_current_modes():
                value = _KEEP_ALL[name](args)
            return self.mode.from_tensor(value, static_shapes=True)
        mode = self.mode
        mode.propagate_real_tensors = real
        try:
            out = func(*args, **kwargs)
        finally:
            mode.propagate_real_tensors = True
        if dependent and func not in _SCALAR:
            self._assume(func, args, kwargs, out)
        elif name in _CHOICES and not real:
            self._first_choices(name, args, kwargs, out)
        elif name in _FLAGS and not real:
            self._usual_flag(name, out)
        return out

    def _usual_flag(self, name, out) -> None:
        """A test the parameters decide (``any`` of a mask of rejected samples, ``all`` of ``isfinite``) gets the
        usual case as its real value: nothing found by ``any``, everything by ``all``, so a rejection sampler
        accepts its first draw and an overflow guard does not clamp."""
        if not isinstance(out, torch.Tensor) or not is_fake(out) or out.real_tensor is not None:
            return
        with _disable_current_modes():
            out.real_tensor = torch.full(tuple(int(d) for d in out.shape), name == "aten.all", dtype=out.dtype)
        self.assumed[name] += 1

    def _first_choices(self, name, args, kwargs, out) -> None:
        """Indices the parameters choose (``topk``, ``sort``, ``argmax``: experts, anchors, classes) get the
        first candidates as real values: the k chosen are the first k, in order. How much work follows (k experts
        per token, the top n boxes per level) does not depend on which candidates win, and the masks and gathers
        made from them keep real values."""
        idx = out[1] if isinstance(out, (tuple, list)) else out
        if not isinstance(idx, torch.Tensor) or not is_fake(idx) or idx.real_tensor is not None:
            return
        shape = tuple(int(d) for d in idx.shape)
        with _disable_current_modes():
            if name in ("aten.argmax", "aten.argmin") or not shape:
                real = torch.zeros(shape, dtype=idx.dtype)
            else:
                dim = _arg(args, kwargs, 1 if name in ("aten.sort", "aten.argsort") else 2, "dim", -1)
                if name in ("aten.sort", "aten.argsort") and isinstance(dim, bool):
                    dim = -1  # argsort.stable's keyword layout
                dim = (dim if isinstance(dim, int) else -1) % len(shape)
                view = [1] * len(shape)
                view[dim] = shape[dim]
                real = torch.arange(shape[dim], dtype=idx.dtype).view(view).expand(shape).contiguous()
        idx.real_tensor = real
        self.assumed[name] += 1

    def _assume(self, func, args, kwargs, out) -> None:
        """Give each new data-dependent size of ``out`` (no real value: it depends on the parameters) its upper
        bound: every candidate kept (all elements nonzero, NMS keeps every box, all values unique)."""
        env = self.mode.shape_env
        known = env.real_tensor_prop_unbacked_vals
        name = str(getattr(func, "overloadpacket", func))
        masks = [a for a in pytree.tree_leaves(args[1:]) if isinstance(a, torch.Tensor) and a.dtype == torch.bool] \
            if name in _MASKED else []
        if masks:  # x[mask], masked_select: as many as the mask keeps (its real count when the inputs decide it;
            # masked_select broadcasts the mask to the input's shape first)
            shape = tuple(args[0].shape) if name == "aten.masked_select" else None
            bound = max(_kept(m, shape) for m in masks)
        else:
            bound = max((int(a.numel()) for a in pytree.tree_leaves((args, kwargs)) if isinstance(a, torch.Tensor)),
                        default=0)
        exact = bool(masks) and all(not is_fake(m) or m.real_tensor is not None for m in masks)
        for t in pytree.tree_leaves(out):
            sizes = t.shape if isinstance(t, torch.Tensor) else [t] if isinstance(t, torch.SymInt) else []
            for s in sizes:
                if isinstance(s, torch.SymInt) and s.node.expr.is_Symbol and s.node.expr not in known:
                    env.set_real_tensor_prop_unbacked_vals(s.node.expr, bound)
                    if not exact:
                        self.assumed[name] += 1


#: selections by a boolean mask (the mask is an argument after the first)
_MASKED = frozenset({"aten.index", "aten.masked_select"})


def _kept(mask: torch.Tensor, shape: tuple | None = None) -> int:
    """Elements a boolean mask keeps (broadcast to ``shape`` where given): its real count when it carries real
    values, else all of them."""
    full = torch.broadcast_shapes(shape, tuple(mask.shape)) if shape is not None else tuple(mask.shape)
    value = mask.real_tensor if is_fake(mask) else mask  # (a real input, not converted)
    if value is not None:
        with _disable_current_modes():
            return int(value.expand(full).count_nonzero())
    return int(torch.Size(full).numel())


def _all_indices(args) -> torch.Tensor:
    shape = tuple(int(d) for d in args[0].shape)
    return torch.ones(shape, dtype=torch.bool).nonzero()


#: selections whose result, when the parameters decide it, is assumed to keep every candidate (a real value)
_KEEP_ALL = {
    "aten.nonzero": _all_indices,
    "aten.argwhere": _all_indices,
    "torchvision.nms": lambda args: torch.arange(int(args[0].shape[0])),
}

#: tests whose boolean output, when the parameters decide it, is given the usual case
#: (:meth:`RealValues._usual_flag`)
_FLAGS = frozenset({"aten.any", "aten.all"})

#: ops whose index output the parameters choose (given the first candidates by :meth:`RealValues._first_choices`)
_CHOICES = frozenset({"aten.topk", "aten.sort", "aten.argsort", "aten.argmax", "aten.argmin"})


def _arg(args, kwargs, i, name, default):
    if name in kwargs:
        return kwargs[name]
    return args[i] if len(args) > i else default


#: data-dependent ops outside aten (their fake kernels make a dynamic size)
_DEPENDENT_NAMES = frozenset({"torchvision.nms"})


def _data_dependent(func) -> bool:
    tags = getattr(func, "tags", ())
    return (torch.Tag.dynamic_output_shape in tags or torch.Tag.data_dependent_output in tags
            or str(getattr(func, "overloadpacket", "")) in _DEPENDENT_NAMES)


class _TensorsFromValues(TorchFunctionMode):
    """``torch.tensor([...])`` of fake tensors that carry real values (a list of per-sample offsets) reads the
    values, which fake tensors do not hold in memory: give it the real ones."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in (torch.tensor, torch.as_tensor) and args and isinstance(args[0], (list, tuple)):
            leaves = pytree.tree_leaves(args[0])
            if any(isinstance(x, torch.Tensor) and is_fake(x) for x in leaves) and all(
                    not isinstance(x, torch.Tensor) or (is_fake(x) and x.real_tensor is not None) for x in leaves):
                data = pytree.tree_map(lambda x: x.real_tensor.item() if isinstance(x, torch.Tensor) else x, args[0])
                args = (data,) + tuple(args[1:])
        return func(*args, **kwargs)


@contextlib.contextmanager
def fake_step(mode):
    """Inside ``mode``: the settings and the :class:`RealValues` layer a counted step on it runs under (yielded:
    its ``assumed`` counts go in the report)."""
    with propagation_settings(), RealValues(mode) as rv, _TensorsFromValues():
        yield rv


def buffer_values(model: torch.nn.Module, factory) -> int:
    """Give the fake model's buffers that hold no value (it was built on fake or meta tensors) the values its
    constructor gives them: ``factory()`` is built again with its parameters on meta (nothing allocated but a
    layer's own tensors while it registers them) and its buffers on the CPU, and each buffer of the same name,
    shape and dtype lends its values. A branch on a buffer (EoMT's query-masking probabilities, ``prob < 1``)
    then takes its real course instead of stopping the fake step. Returns how many buffers got values; 0 when
    the rebuild fails (the step goes on without them, as before). A model given as a module lends its own
    buffers' values."""
    wanting = {n: b for n, b in model.named_buffers() if is_fake(b) and b.real_tensor is None}
    if not wanting or not callable(factory):
        return 0
    try:
        if isinstance(factory, torch.nn.Module):
            ref = factory
        else:
            with _disable_current_modes(), _parameters_to_meta():
                ref = factory()
        ref_bufs = dict(ref.named_buffers()) if isinstance(ref, torch.nn.Module) else {}
    except Exception:
        return 0
    done = 0
    for name, fake in wanting.items():
        real = ref_bufs.get(name)
        if isinstance(real, torch.Tensor) and real.device.type == "cpu" and real.shape == fake.shape \
                and real.dtype == fake.dtype:
            fake.real_tensor = real.detach().clone()
            done += 1
    return done


@contextlib.contextmanager
def _parameters_to_meta():
    """Every parameter a module registers goes to meta; buffers stay where they are made (the CPU)."""
    register_parameter = torch.nn.Module.register_parameter

    def parameter(self, name, param):
        if param is not None and param.device.type != "meta":
            param = type(param)(param.to("meta"), requires_grad=param.requires_grad)
        register_parameter(self, name, param)

    torch.nn.Module.register_parameter = parameter
    try:
        yield
    finally:
        torch.nn.Module.register_parameter = register_parameter


def adopt_strays(model: torch.nn.Module, mode) -> int:
    """Put the parameters and buffers of ``model`` that are fake tensors of another fake mode into ``mode``.
    A constructor that deep-copies a layer under the fake mode (OneFormer's and DETR-style ``_get_clones``)
    gets copies that belong to a new mode of their own, and the step then fails on them ("t.real_tensor must
    not be None when copy_data is True"). Each stray becomes an empty fake tensor of ``mode`` with its shape,
    strides, dtype and ``requires_grad`` (fake tensors hold no values; tied ones stay tied). Returns how many
    were adopted."""
    memo: dict[int, torch.Tensor] = {}
    strays: list[torch.Tensor] = []  # kept until the end: an id is only unique while its tensor lives
    for mod in model.modules():
        for store in (mod._parameters, mod._buffers):
            for key, t in list(store.items()):
                if t is None or not is_fake(t) or t.fake_mode is mode:
                    continue
                new = memo.get(id(t))
                if new is None:
                    with mode:
                        new = torch.empty_strided(tuple(t.shape), t.stride(), dtype=t.dtype, device=t.device)
                    if isinstance(t, torch.nn.Parameter):
                        new = torch.nn.Parameter(new, requires_grad=t.requires_grad)
                    if getattr(t, "real_tensor", None) is not None:
                        new.real_tensor = t.real_tensor
                    memo[id(t)] = new
                    strays.append(t)
                store[key] = new
    return len(memo)
