"""Recurrent layers priced from their shapes: counting time that does not grow with the sequence length.

``nn.RNN``/``nn.LSTM``/``nn.GRU`` run ``torch._VF.rnn_tanh/rnn_relu/lstm/gru``, which decompose into a few dozen
aten ops per time step (and as many again in backward): 50,000 steps cost minutes of dispatch. Every step runs
the same ops on the same shapes, so the counts of a T-step call are linear in T: c(T) = c(2) + (T - 2)(c(3) - c(2)),
exactly (the first step differs from the others, which is why the two samples are 2 and 3 steps long). The
:class:`RecurrentShortcut` mode counts the layer at 2 and 3 steps (forward, and in backward with the gradients
that really arrive), books the extrapolated counts on the running module and phase, and stands in for the
layer with an autograd function that returns outputs of the right shapes without computing them.

This is only used where values are not needed (meta and fake tensors); on real tensors the layer runs for real.
"""
from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode

from .report import Record, Report

#: a call with fewer steps than this just runs
MIN_STEPS = 8

_FUNCS = {}
for _name in ("lstm", "gru", "rnn_tanh", "rnn_relu"):
    _f = getattr(torch._VF, _name, None)
    if _f is not None:
        _FUNCS[_f] = _name


def _time_dim(x: torch.Tensor, batch_first: bool) -> int:
    return 1 if (batch_first and x.dim() == 3) else 0


def _flat(hx) -> list:
    return list(hx) if isinstance(hx, (list, tuple)) else [hx]


class _Sample:
    """Counts of one call at 2 and 3 steps: forward reports, and backward reports per gradient pattern."""

    def __init__(self):
        self.forward: list[Report] = []
        self.backward: dict[tuple, list[Report]] = {}
        self.out_meta: list[tuple] = []  # (shape with the time dim as None, dtype) per output


class RecurrentShortcut(TorchFunctionMode):
    """A torch-function mode, entered inside a :class:`~gatesim.models.trace.TraceCounter`, that prices
    recurrent layers of at least :data:`MIN_STEPS` steps from two short runs (see the module docstring)."""

    def __init__(self, counter):
        super().__init__()
        self.counter = counter
        self._samples: dict[tuple, _Sample] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        kind = _FUNCS.get(func)
        if kind is None or kwargs or self.counter.paused or len(args) != 9 or not isinstance(args[2], (list, tuple)):
            return func(*args, **kwargs)
        x, hx, params = args[0], args[1], list(args[2])
        if not isinstance(x, torch.Tensor) or x.device.type not in ("meta",) and not _is_fake(x):
            return func(*args, **kwargs)
        batch_first = bool(args[8])
        tdim = _time_dim(x, batch_first)
        steps = x.shape[tdim]
        if steps < MIN_STEPS:
            return func(*args, **kwargs)
        rest = args[3:]
        hxs = _flat(hx)
        key = (kind, tuple(x.shape[:tdim]) + tuple(x.shape[tdim + 1:]), tdim, x.dtype, x.requires_grad,
               tuple((tuple(h.shape), h.dtype, h.requires_grad) for h in hxs),
               tuple((tuple(p.shape), p.dtype, p.requires_grad) for p in params), rest,
               torch.is_grad_enabled(), torch.is_autocast_enabled("cpu"))
        sample = self._samples.get(key)
        if sample is None:
            sample = self._samples[key] = _Sample()
            for t in (2, 3):
                sample.forward.append(self._run(func, kind, x, tdim, t, hx, params, rest, sample, None))
        counter = self.counter
        module = counter.current_module()
        depth = _book(counter.report, sample.forward, steps, module, counter.phase)
        shapes = [([steps if d is None else d for d in shape], dtype, order) for shape, dtype, order in sample.out_meta]
        tensors = [x, *hxs, *params]
        if not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors)):
            out = tuple(_empty(counter, shapes, x.device))
        else:
            out = _Stand.apply(self, (func, kind, key, x, tdim, hx, params, rest, steps), shapes, *tensors)
        counter.chain(tensors, out, depth)
        return out

    def _run(self, func, kind, x, tdim, t, hx, params, rest, sample, grad_pattern):
        """Count the call at ``t`` steps: its forward, or (``grad_pattern`` given) its backward."""
        from .trace import TraceCounter

        outer = self.counter
        shape = list(x.shape)
        shape[tdim] = t
        inner = TraceCounter(outer.recipes, fmt=outer.fmt, strict=outer.strict, accumulate=outer.accumulate,
                             report=Report(level="custom", counter="trace", phases=("forward", "backward")))
        outer.paused = True
        try:
            xs = torch.empty(shape, dtype=x.dtype, device=x.device).requires_grad_(x.requires_grad)
            with inner:
                inner.phase = "forward"
                outs = _as_list(func(xs, hx, params, *rest))
                if grad_pattern is None:
                    if not sample.out_meta:  # shapes (time dim None), dtypes and memory order of the outputs
                        sample.out_meta = [(tuple(None if (i == 0 and d == tdim) else n for d, n in enumerate(o.shape)),
                                            o.dtype, _dim_order(o)) for i, o in enumerate(outs)]
                    return inner.report
                inputs = [xs, *_flat(hx), *params]
                want = [i for i, t_ in enumerate(inputs) if t_.requires_grad]
                pairs = [(o, torch.empty_like(o)) for o, g in zip(outs, grad_pattern) if g and o.requires_grad]
                inner.report = Report(level="custom", counter="trace", phases=("forward", "backward"))
                inner.phase = "backward"
                if pairs and want:
                    torch.autograd.grad([o for o, _ in pairs], [inputs[i] for i in want], [g for _, g in pairs],
                                        allow_unused=True)
                return inner.report
        finally:
            outer.paused = False


def _is_fake(x) -> bool:
    return type(x).__name__ == "FakeTensor"


def _as_list(out) -> list:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _dim_order(t: torch.Tensor) -> tuple[int, ...]:
    """Dimensions from outermost to innermost in memory (a batch-first output is a transposed view)."""
    return tuple(sorted(range(t.dim()), key=lambda d: -t.stride(d)))


def _empty(counter, shapes, device) -> list:
    """Uncounted empty tensors of the given shapes, dtypes and memory orders."""
    counter.paused = True
    try:
        out = []
        for shape, dtype, order in shapes:
            t = torch.empty([shape[d] for d in order], dtype=dtype, device=device)
            inverse = sorted(range(len(order)), key=lambda i: order[i])
            out.append(t.permute(inverse))
        return out
    finally:
        counter.paused = False


def _book(report: Report, samples: list[Report], steps: int, module: str, phase: str) -> int:
    """Add c(steps) = c(2) + (steps - 2)(c(3) - c(2)) of every record, op count and uncounted op; return the
    sequential depth of the call, extrapolated alike."""
    two, three = samples
    k = steps - 2
    for fmt in {f for (_, _, f) in two.records} | {f for (_, _, f) in three.records}:
        a = _sum_fmt(two, fmt)
        b = _sum_fmt(three, fmt)
        dst = report.record(module, phase, fmt)
        dst.merge(a)
        for name in Record.__slots__:
            if name == "counts":
                for i in range(6):
                    dst.counts[i] += k * (b.counts[i] - a.counts[i])
            elif name == "costs":
                for key in set(a.costs) | set(b.costs):
                    dst.costs[key] += k * (b.costs[key] - a.costs[key])
            else:
                setattr(dst, name, getattr(dst, name) + k * (getattr(b, name) - getattr(a, name)))
    for name in set(two.op_counts) | set(three.op_counts):
        report.op_counts[name] += two.op_counts[name] + k * (three.op_counts[name] - two.op_counts[name])
    for name in set(two.uncounted) | set(three.uncounted):
        report.uncounted[name] += two.uncounted[name] + k * (three.uncounted[name] - two.uncounted[name])
        report.uncounted_where.setdefault(name, (module, phase))
    d2, d3 = (max(r.depths.values(), default=0) for r in (two, three))  # chains within the sampled pass
    return d2 + k * (d3 - d2)


def _sum_fmt(r: Report, fmt: str) -> Record:
    out = Record()
    for (_, _, f), rec in r.records.items():
        if f == fmt:
            out.merge(rec)
    return out


class _Stand(torch.autograd.Function):
    """Stands in for a recurrent call: outputs of the right shapes, backward priced from the samples."""

    @staticmethod
    def forward(ctx, shortcut, call, shapes, *tensors):
        ctx.shortcut = shortcut
        ctx.call = call
        ctx.set_materialize_grads(False)
        ctx.meta = [(t.shape, t.dtype, t.device) for t in tensors]
        return tuple(_empty(shortcut.counter, shapes, tensors[0].device))

    @staticmethod
    def backward(ctx, *grads):
        shortcut = ctx.shortcut
        func, kind, key, x, tdim, hx, params, rest, steps = ctx.call
        pattern = tuple(g is not None for g in grads)
        sample = shortcut._samples[key]
        reports = sample.backward.get(pattern)
        if reports is None:
            with torch.enable_grad():
                reports = sample.backward[pattern] = [shortcut._run(func, kind, x, tdim, t, hx, params, rest, sample,
                                                                    pattern) for t in (2, 3)]
        counter = shortcut.counter
        depth = _book(counter.report, reports, steps, counter.current_module(), counter.phase)
        counter.paused = True
        try:
            res = [torch.empty(s, dtype=d, device=dev) if ctx.needs_input_grad[3 + i] else None
                   for i, (s, d, dev) in enumerate(ctx.meta)]
        finally:
            counter.paused = False
        counter.chain([g for g in grads if g is not None], [r for r in res if r is not None], depth)
        return (None, None, None, *res)
