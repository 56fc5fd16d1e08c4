"""Operand samples from a real model: the values its ALUs see, captured from real tensors on the CPU.

:func:`sample_operands` runs one step of a model (forward, and at training level the loss and backward) on real
CPU tensors -- weights as the model initializes them (seeded), inputs drawn N(0, 1) (token ids uniformly) -- under
:class:`OperandSampler`, a ``TorchDispatchMode`` that reads operand values out of the tensors of the ops it
sees. What a unit sees one operation after another is what switching activity depends on, so samples are *runs*
of consecutive operations, not loose values:

* **dot products** (``mm``, ``addmm``, ``bmm``, ``baddbmm``, ``convolution``, ``convolution_backward``): one
  output element's multiply-accumulate chain, as an output-stationary MAC unit runs it -- ``run`` consecutive
  terms of the reduction with their operands ``a``, ``b`` and the partial sum ``c`` before each term. In backward
  the same ops are the gradient pairs: gradients times weights (the input's gradient) and gradients times
  activations (the weight's gradient; ``convolution_backward`` gives both).
* **elementwise ops**: consecutive output elements of ``add``/``sub``/``mul``/``div`` (both operands,
  broadcast), ``sqrt``/``rsqrt``, and the compares of ``relu``, ``threshold_backward``, max pooling (the running
  maximum against the next value), ``maximum``/``minimum``/``clamp`` and the comparison ops.

An *op family* is one aten op in one phase (``forward:aten.convolution``, ``backward:aten.mm``). Each family
gets the same fixed number of samples (``samples`` operations, in runs of ``run``), drawn -- seeded -- from the
family's ops in proportion to the work each does, so one huge convolution and a tiny one are not weighted alike.

The result, :class:`OperandSamples`, is plain numpy arrays per table operation (``mul``: ``a``, ``b``; ``add``:
the accumulation ``c + a*b`` as ``a`` = ``c``, ``b`` = ``a*b``, plus elementwise adds; ``fma``: ``a``, ``b``,
``c``; ``sub``, ``div``, ``compare``: ``a``, ``b``; ``root``: ``a``), for a transistor table to simulate
(:func:`gatesim.tables.build_table` ``activity=``); this module knows nothing of circuits.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from ..samples import STREAM_PORTS, OperandSamples
from .report import CountingError


_DOT = {"aten.mm", "aten.addmm", "aten.bmm", "aten.baddbmm", "aten.convolution", "aten._convolution",
        "aten.convolution_backward"}
#: elementwise aten op -> the table operation it feeds
_ELEMENTWISE = {
    "aten.add": "add", "aten.add_": "add", "aten.sub": "sub", "aten.sub_": "sub", "aten.rsub": "sub",
    "aten.mul": "mul", "aten.mul_": "mul", "aten.div": "div", "aten.div_": "div",
    "aten.sqrt": "root", "aten.rsqrt": "root",
    "aten.relu": "compare", "aten.relu_": "compare", "aten.threshold_backward": "compare",
    "aten.maximum": "compare", "aten.minimum": "compare", "aten.clamp": "compare", "aten.clamp_min": "compare",
    "aten.gt": "compare", "aten.lt": "compare", "aten.ge": "compare", "aten.le": "compare", "aten.eq": "compare",
    "aten.max_pool2d_with_indices": "compare",
}


class _Family:
    """Candidate runs of one op family: each op adds up to ``per_op`` runs, each weighted by the op's work over
    the runs it gave."""

    def __init__(self, operation: str):
        self.operation = operation
        self.runs: list[dict[str, np.ndarray]] = []
        self.weights: list[float] = []
        self.ops = 0

    def add(self, runs: list[dict[str, np.ndarray]], work: float) -> None:
        self.ops += 1
        if runs:
            w = max(float(work), 1.0) / len(runs)
            self.runs += runs
            self.weights += [w] * len(runs)

    def draw(self, rng: np.random.Generator, n_runs: int) -> list[dict[str, np.ndarray]]:
        if len(self.runs) <= n_runs:
            return list(self.runs)
        p = np.asarray(self.weights) / np.sum(self.weights)
        idx = np.sort(rng.choice(len(self.runs), size=n_runs, replace=False, p=p))
        return [self.runs[i] for i in idx]


def _np(t) -> np.ndarray:
    if isinstance(t, np.ndarray):
        return t.astype(np.float64)
    return t.detach().to(torch.float64).cpu().numpy()


def _view(t: torch.Tensor) -> np.ndarray:
    """A numpy view of a CPU tensor (no copy for fp16/fp32/fp64; other formats are widened to fp32): numpy's
    fancy indexing is what sampling does, and it is far quicker than torch's on a few elements."""
    t = t.detach()
    if t.dtype not in (torch.float16, torch.float32, torch.float64):
        t = t.to(torch.float32)
    return t.numpy()


def _chain(a: np.ndarray, b: np.ndarray, start: int, run: int, c0: float = 0.0) -> dict[str, np.ndarray]:
    """Terms ``start .. start+run`` of the dot product of ``a`` and ``b`` with the partial sum before each."""
    prod = a * b
    c = c0 + np.concatenate(([0.0], np.cumsum(prod)[:-1]))
    s = slice(start, start + run)
    return {"a": a[s], "b": b[s], "c": c[s]}


class OperandSampler(TorchDispatchMode):
    """Samples operand runs from the real tensors of the ops it sees (see the module docstring). Set ``phase``
    between steps; :meth:`result` draws each family's fixed share."""

    def __init__(self, samples: int = 4096, run: int = 32, seed: int = 0):
        super().__init__()
        if samples < 1 or run < 1:
            raise CountingError("samples and run must be positive")
        self.samples, self.run, self.seed = int(samples), int(run), int(seed)
        self.n_runs = max(1, math.ceil(self.samples / self.run))
        self.per_op = max(1, min(32, self.n_runs))
        self.phase = "forward"
        self.families: dict[str, _Family] = {}
        self.rng = np.random.default_rng([seed, 1])
        self.skipped: dict[str, str] = {}

    # -- dispatch --------------------------------------------------------------------------------
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = str(getattr(func, "overloadpacket", func))
        try:
            if name in _DOT:
                self._dot(name, args, out)
            elif name in _ELEMENTWISE:
                self._elementwise(name, args, out)
        except Exception as e:  # a layout the sampler does not read: the op runs, its family is noted
            self.skipped.setdefault(f"{self.phase}:{name}", f"{type(e).__name__}: {e}")
        return out

    def _family(self, name: str, operation: str) -> _Family:
        key = f"{self.phase}:{name}"
        f = self.families.get(key)
        if f is None:
            f = self.families[key] = _Family(operation)
        return f

    def _float(self, *ts) -> bool:
        return all(isinstance(t, torch.Tensor) and t.is_floating_point() and t.device.type == "cpu" for t in ts)

    # dot products ---------------------------------------------------------------------------------
    def _dot(self, name, args, out):
        if name in ("aten.mm", "aten.bmm"):
            a, b = args[0], args[1]
        elif name in ("aten.addmm", "aten.baddbmm"):
            a, b = args[1], args[2]  # args[0], the added bias, is not a product operand
        elif name == "aten.convolution_backward":
            return self._conv_backward(name, args)
        else:
            return self._conv(name, args)
        if not self._float(a, b):
            return
        if a.dim() == 2:
            a, b = a.unsqueeze(0), b.unsqueeze(0)
        a, b = _view(a), _view(b)
        k = a.shape[-1]
        runs = []
        for _ in range(self.per_op):
            z = int(self.rng.integers(a.shape[0]))
            i, j = int(self.rng.integers(a.shape[1])), int(self.rng.integers(b.shape[2]))
            start = int(self.rng.integers(max(k - self.run, 0) + 1))
            runs.append(_chain(_np(a[z, i, :]), _np(b[z, :, j]), start, self.run))
        self._family(name, "dot").add(runs, a.shape[0] * a.shape[1] * b.shape[2] * k)

    def _conv_geometry(self, args):
        stride, padding, dilation = list(args[3]), list(args[4]), list(args[5])
        return stride, padding, dilation

    def _conv(self, name, args):
        x, w = args[0], args[1]
        transposed = bool(args[6]) if len(args) > 6 else False
        if transposed or not self._float(x, w) or x.dim() not in (3, 4):
            if transposed or x.dim() not in (3, 4):
                self.skipped.setdefault(f"{self.phase}:{name}", "only 1-D and 2-D, non-transposed convolutions")
            return
        groups = int(args[8]) if len(args) > 8 else 1
        x4, w4 = (x.unsqueeze(2), w.unsqueeze(2)) if x.dim() == 3 else (x, w)
        x4, w4 = _view(x4), _view(w4)
        (sh, sw), (ph, pw), (dh, dw) = (_pair(v, x.dim()) for v in self._conv_geometry(args))
        n, cin, hh, ww = x4.shape
        cout, cin_g, kh, kw = w4.shape
        oh = (hh + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        ow = (ww + 2 * pw - dw * (kw - 1) - 1) // sw + 1
        k = cin_g * kh * kw
        runs = []
        for _ in range(self.per_op):
            b_, o = int(self.rng.integers(n)), int(self.rng.integers(cout))
            i, j = int(self.rng.integers(oh)), int(self.rng.integers(ow))
            g = o // (cout // groups)
            rows = np.arange(kh) * dh + i * sh - ph
            cols = np.arange(kw) * dw + j * sw - pw
            inside = ((rows >= 0) & (rows < hh))[:, None] & ((cols >= 0) & (cols < ww))[None, :]
            patch = x4[b_, g * cin_g:(g + 1) * cin_g][:, rows.clip(0, hh - 1)][:, :, cols.clip(0, ww - 1)] * inside
            start = int(self.rng.integers(max(k - self.run, 0) + 1))
            runs.append(_chain(_np(w4[o]).ravel(), _np(patch).ravel(), start, self.run))
        self._family(name, "dot").add(runs, n * cout * oh * ow * k)

    def _conv_backward(self, name, args):
        gout, x, w = args[0], args[1], args[2]
        stride, padding, dilation = list(args[4]), list(args[5]), list(args[6])
        transposed, groups, mask = bool(args[7]), int(args[9]), list(args[10])
        if transposed or x.dim() not in (3, 4) or not self._float(gout, x, w):
            if transposed or x.dim() not in (3, 4):
                self.skipped.setdefault(f"{self.phase}:{name}", "only 1-D and 2-D, non-transposed convolutions")
            return
        if x.dim() == 3:
            gout, x, w = gout.unsqueeze(2), x.unsqueeze(2), w.unsqueeze(2)
            stride, padding, dilation = [1] + stride, [0] + padding, [1] + dilation
        gout, w = _view(gout), _view(w)
        (sh, sw), (ph, pw), (dh, dw) = (_pair(v, 4) for v in (stride, padding, dilation))
        n, cin, ih, iw = x.shape
        cout, cin_g, kh, kw = w.shape
        _, _, oh, ow = gout.shape
        cout_g = cout // groups
        runs_w, runs_x = [], []
        if mask[1]:  # the weight's gradient: input x output gradient over (batch, output positions)
            xp = _view(F.pad(x, (pw, pw, ph, ph)))
            for _ in range(self.per_op):
                o, c = int(self.rng.integers(cout)), int(self.rng.integers(cin_g))
                u, v = int(self.rng.integers(kh)), int(self.rng.integers(kw))
                g = o // cout_g
                a = xp[:, g * cin_g + c, u * dh:u * dh + sh * (oh - 1) + 1:sh, v * dw:v * dw + sw * (ow - 1) + 1:sw]
                red = n * oh * ow
                start = int(self.rng.integers(max(red - self.run, 0) + 1))
                runs_w.append(_chain(_np(a).ravel(), _np(gout[:, o]).ravel(), start, self.run))
            self._family(name + "[weight]", "dot").add(runs_w, n * oh * ow * cout * cin_g * kh * kw)
        if mask[0]:  # the input's gradient: output gradient x weight over (output channels, kernel taps)
            for _ in range(self.per_op):
                b_, c = int(self.rng.integers(n)), int(self.rng.integers(cin))
                y, z = int(self.rng.integers(ih)), int(self.rng.integers(iw))
                g = c // cin_g
                taps = [(u, v, (y + ph - u * dh) // sh, (z + pw - v * dw) // sw) for u in range(kh) for v in range(kw)
                        if (y + ph - u * dh) % sh == 0 and (z + pw - v * dw) % sw == 0
                        and 0 <= (y + ph - u * dh) // sh < oh and 0 <= (z + pw - v * dw) // sw < ow]
                if not taps:
                    continue
                us, vs, ys, zs = (np.asarray(t) for t in zip(*taps))
                go = gout[b_, g * cout_g:(g + 1) * cout_g][:, ys, zs]  # (cout_g, taps)
                wk = w[g * cout_g:(g + 1) * cout_g, c - g * cin_g][:, us, vs]
                red = go.size
                start = int(self.rng.integers(max(red - self.run, 0) + 1))
                runs_x.append(_chain(_np(go).ravel(), _np(wk).ravel(), start, self.run))
            self._family(name + "[input]", "dot").add(runs_x, n * cin * ih * iw * cout_g * kh * kw)

    # elementwise ------------------------------------------------------------------------------------
    def _positions(self, numel: int) -> list[np.ndarray]:
        out = []
        for _ in range(self.per_op):
            start = int(self.rng.integers(max(numel - self.run, 0) + 1))
            out.append(np.arange(start, min(start + self.run, numel)))
        return out

    def _elementwise(self, name, args, out):
        op = _ELEMENTWISE[name]
        x = args[0] if args else None
        if not self._float(x):
            return
        if name == "aten.max_pool2d_with_indices":  # the running maximum of a window against its next value
            runs = []
            for pos in self._positions(x.numel()):
                v = _gather(x, x.shape, pos)
                runs.append({"a": np.maximum.accumulate(v), "b": np.roll(v, -1)})
            self._family(name, op).add(runs, x.numel())
            return
        if op == "root" or name in ("aten.relu", "aten.relu_"):
            other = None if op == "root" else 0.0
        elif name == "aten.threshold_backward":  # (grad, self, threshold): compares self with the threshold
            x, other = args[1], float(args[2])
        elif name in ("aten.clamp", "aten.clamp_min"):
            other = args[1] if len(args) > 1 and args[1] is not None else (args[2] if len(args) > 2 else 0.0)
        else:
            other = args[1] if len(args) > 1 else None
            if other is None:
                return
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else tuple(x.shape)
        if isinstance(other, torch.Tensor) and not other.is_floating_point():
            return
        numel = math.prod(shape)
        runs = []
        for pos in self._positions(numel):
            r = {"a": _gather(x, shape, pos)}
            if isinstance(other, torch.Tensor):
                r["b"] = _gather(other, shape, pos)
            elif other is not None:
                r["b"] = np.full(len(pos), float(other))
            runs.append(r)
        self._family(name, op).add(runs, numel)

    # result ---------------------------------------------------------------------------------------------
    def result(self, meta: dict | None = None) -> OperandSamples:
        """Each family's fixed share, drawn by work (seeded), concatenated per table operation in family order."""
        rng = np.random.default_rng([self.seed, 2])
        parts: dict[str, dict[str, list]] = {}
        families = {}
        for key in sorted(self.families):
            fam = self.families[key]
            runs = fam.draw(rng, self.n_runs)
            if not runs:
                continue
            n = sum(len(r["a"]) for r in runs)
            families[key] = {"operation": fam.operation, "samples": n, "ops": fam.ops}
            for r in runs:
                if fam.operation == "dot":
                    _put(parts, "mul", {"a": r["a"], "b": r["b"]})
                    _put(parts, "add", {"a": r["c"], "b": r["a"] * r["b"]})
                    _put(parts, "fma", r)
                else:
                    _put(parts, fam.operation, r)
        streams = {op: {p: np.concatenate(v) for p, v in d.items()} for op, d in parts.items()}
        for op, d in streams.items():  # an op's runs may mix one- and two-operand ops (relu against 0): none here
            if len({len(v) for v in d.values()}) != 1:
                raise CountingError(f"operand samples for {op} have streams of different lengths")
        return OperandSamples(streams, families, dict(meta or {}, skipped=dict(self.skipped)))


def _gather(t: torch.Tensor, shape: tuple, pos: np.ndarray) -> np.ndarray:
    """Values of ``t`` broadcast to ``shape`` at flat (row-major) positions ``pos``, without materializing the
    broadcast."""
    idx = np.unravel_index(pos, shape)
    lead = len(shape) - t.dim()
    if not t.dim():
        return np.full(len(pos), float(t))
    v = _view(t)
    return v[tuple(i if v.shape[d] != 1 else np.zeros_like(i) for d, i in enumerate(idx[lead:]))].astype(np.float64)


def _put(parts: dict, op: str, run: dict) -> None:
    d = parts.setdefault(op, {})
    ports = STREAM_PORTS[op]
    if any(p not in run for p in ports):
        return  # a one-operand run (sqrt) cannot feed a two-operand unit
    for p in ports:
        d.setdefault(p, []).append(np.asarray(run[p], dtype=np.float64))


def _pair(v, dim: int) -> tuple[int, int]:
    v = list(v) if isinstance(v, (list, tuple)) else [v]
    if len(v) == 1:
        return (1, int(v[0])) if dim == 3 else (int(v[0]), int(v[0]))
    return int(v[0]), int(v[1])


def _first_embedding(model: nn.Module):
    for m in model.modules():
        if not list(m.children()):
            return m if isinstance(m, nn.Embedding) else None
    return None


def sample_operands(model, inputs=None, *, input_shape=None, level: str = "training", samples: int = 4096,
                    run: int = 32, seed: int = 0, loss: str = "mse", dtype=None, input_dtype=None,
                    cpu_limit: int | None = None, meta: dict | None = None) -> OperandSamples:
    """Operand samples of one step of ``model`` (an ``nn.Module`` or a zero-argument factory) on real CPU tensors.

    ``inputs``: tensors (or a dict of keyword tensors); else ``input_shape``, filled N(0, 1) (token ids uniformly
    below the first embedding's size). ``level``: ``inference`` (forward) or ``training`` (forward, loss,
    backward; the optimizer step is not sampled). Seeded (``seed``: the model's initial weights, the inputs and
    every draw). ``samples`` operations per op family, in runs of ``run`` consecutive ones. A model whose
    parameters, gradients and state exceed ``cpu_limit`` bytes (default as the counter's CPU fallback) is refused.
    """
    import os

    from .report import LEVEL_PHASES
    from .trace import CPU_FALLBACK_LIMIT, _first_tensor, _loss_value, _resolve_dtype, make_inputs, prepare_model, \
        state_bytes

    if level not in LEVEL_PHASES:
        raise CountingError(f"unknown level {level!r}; expected one of {', '.join(LEVEL_PHASES)}")
    limit = cpu_limit if cpu_limit is not None else int(os.environ.get("GATESIM_CPU_LIMIT_BYTES", CPU_FALLBACK_LIMIT))
    need = state_bytes(model, level, None)
    if need > limit:
        raise CountingError(f"sampling operands runs the model on real CPU tensors: its parameters and state hold "
                            f"{need:,} bytes, over the {limit:,}-byte limit (cpu_limit / GATESIM_CPU_LIMIT_BYTES)")
    torch.manual_seed(seed)
    if isinstance(model, nn.Module):  # the caller's module keeps its gradients and running statistics
        import copy

        model = copy.deepcopy(model)
    m = prepare_model(model, "cpu", dtype)
    gen = torch.Generator().manual_seed(seed + 1)
    if inputs is None:
        if input_shape is None:
            raise CountingError("give inputs or input_shape")
        templ = make_inputs(m, input_shape, input_dtype, dtype, "meta")
        emb = _first_embedding(m)
        inputs = tuple(torch.randn(t.shape, generator=gen, dtype=t.dtype) if t.is_floating_point() else
                       torch.randint(0, emb.num_embeddings if emb is not None else 2, t.shape, generator=gen,
                                     dtype=t.dtype) for t in templ)
    elif isinstance(inputs, torch.Tensor):
        inputs = (inputs,)
    kw = dict(inputs) if isinstance(inputs, dict) else None
    pos = () if kw is not None else tuple(inputs)
    sampler = OperandSampler(samples, run, seed)
    training = level == "training"
    m.train(training)
    try:
        with (torch.enable_grad() if training else torch.no_grad()), sampler:
            sampler.phase = "forward"
            out = m(**kw) if kw is not None else m(*pos)
            y = _first_tensor(out)
            if y is None:
                raise CountingError(f"model returned {type(out).__name__}, which holds no tensor")
            if "loss" in LEVEL_PHASES[level]:
                sampler.phase = "loss"
                target = None
                if loss == "cross-entropy":
                    classes = y.shape[-1]
                    rows = y.reshape(-1, classes).shape[0] if y.dim() > 1 else 1
                    target = torch.randint(0, classes, (rows,), generator=gen)
                lv = _loss_value(loss, y, target)
            if training:
                sampler.phase = "backward"
                lv.backward()
    except CountingError:
        raise
    except Exception as e:
        msg = str(e).splitlines()[0] if str(e) else ""
        raise CountingError(f"sampling operands: {sampler.phase} failed: {type(e).__name__}: {msg}") from e
    info = {"level": level, "samples_per_family": samples, "run": run, "seed": seed, "loss": loss,
            "dtype": str(_resolve_dtype(dtype) or "model's own"), "torch": torch.__version__,
            "weights": "as initialized (seeded)", "inputs": "N(0, 1); token ids uniform" if inputs is not None else ""}
    return sampler.result({**info, **(meta or {})})


__all__ = ["OperandSampler", "OperandSamples", "sample_operands"]
