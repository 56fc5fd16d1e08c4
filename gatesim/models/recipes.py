"""Recipes: how many basic operations (BOs) one aten op costs.

A *recipe set* maps aten ops to recipes, in the style of ``torch.utils.flop_counter``'s registry.
A recipe is one of

* a :class:`BOVector` (or a dict like ``{"add": 1, "div": 1}``): the cost **per output element**
  of a pointwise op (``sigmoid``, ``mul``, ...);
* a function ``recipe(args, kwargs, out) -> BOVector`` that reads shapes (``mm``, ``convolution``,
  ``native_layer_norm``, reductions, attention, ...);
* ``None`` / :data:`FREE`: the op costs nothing (views, copies, allocation) -- an explicit zero.

Ops in no recipe set are *uncounted*: the trace counter reports them by name and count (and raises in
strict mode); it never prices them as a silent zero.

Two built-in sets: ``"default"`` (more precise: a transcendental is priced as the range reduction and
polynomial a math library evaluates) and ``"paper"`` (the paper's per-element costs: sigmoid =
sub + add + div + root, GELU = sub + add + div + root + 2 mul, every exp/tanh priced as one *root*).
In-place variants (``add_``) and ``_foreach_*`` variants of a pointwise op are derived automatically.
Users copy a set and override entries::

    rs = get_recipes("default").copy("mine")
    rs.register("aten.sigmoid", {"add": 1, "sub": 1, "div": 1, "root": 1})
    rs.register(torch.ops.aten.mm, lambda args, kwargs, out: ...)
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import torch

from .bo import ZERO, BOVector, bo

aten = torch.ops.aten

Recipe = Callable[[tuple, dict, Any], BOVector]


class _Free:
    """Sentinel: an op that costs nothing (a view, a copy, an allocation)."""

    def __repr__(self):
        return "FREE"


FREE = _Free()


# ------------------------------------------------------------------------------------------------
# shape helpers
# ------------------------------------------------------------------------------------------------
def _numel(t) -> int:
    if isinstance(t, torch.Tensor):
        return t.numel()
    if isinstance(t, (list, tuple)):
        for x in t:
            if isinstance(x, torch.Tensor):
                return x.numel()
    return 0


def _shape(t) -> tuple[int, ...]:
    return tuple(t.shape)


def _prod(xs) -> int:
    p = 1
    for x in xs:
        p *= int(x)
    return p


def _dims(dim, ndim: int) -> list[int]:
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return list(range(ndim))
    if isinstance(dim, int):
        dim = [dim]
    return [d % ndim if ndim else 0 for d in dim]


def _reduced(t: torch.Tensor, dim) -> tuple[int, int]:
    """(elements per reduced group n, number of groups) for reducing ``t`` over ``dim``."""
    if t.dim() == 0:
        return 1, 1
    ds = _dims(dim, t.dim())
    n = _prod(t.shape[d] for d in ds)
    return n, (t.numel() // n if n else 0)


def _arg(args, kwargs, i, name, default=None):
    if len(args) > i:
        return args[i]
    return kwargs.get(name, default)


# ------------------------------------------------------------------------------------------------
# cost constants of the precise ("default") set: how a math library evaluates transcendentals
# ------------------------------------------------------------------------------------------------
#: exp(x): x*log2(e) (mul), r = x - n*ln2 (mul, sub), degree-5 Horner polynomial (5 mul, 5 add),
#: scale by 2^n (one exponent add)
EXP = bo(add=6, sub=1, mul=7)
#: log(x): m in [1,2): t = (m-1)/(m+1) (sub, add, div), t^2 (mul), degree-4 Horner (4 mul, 4 add),
#: *t (mul), + e*ln2 (mul, add)
LOG = bo(add=6, sub=1, mul=7, div=1)
#: tanh(x) = (1 - e^{-2x}) / (1 + e^{-2x})
TANH = bo(mul=1, sub=1, add=1, div=1) + EXP
#: sigmoid(x) = 1 / (1 + e^{-x})  (negation counted as a sub, like the paper)
SIGMOID = bo(sub=1, add=1, div=1) + EXP
#: erf by Abramowitz-Stegun 7.1.26: t = 1/(1+p|x|) (mul, add, div), degree-5 polynomial (5 mul, 4 add),
#: * exp(-x^2) (2 mul + exp), 1 - (...) (sub)
ERF = bo(mul=8, add=5, div=1, sub=1) + EXP
#: GELU exact 0.5 x (1 + erf(x / sqrt 2))
GELU = ERF + bo(mul=3, add=1)
#: GELU tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
GELU_TANH = TANH + bo(mul=6, add=2)
SQRT = bo(root=1)
#: sin/cos: range reduction (mul, sub) + degree-7 polynomial (7 mul, 7 add)
SIN = bo(mul=8, sub=1, add=7)

# the paper's per-element costs (section II.A: eq. 2 and 3)
P_SIGMOID = bo(sub=1, add=1, div=1, root=1)
P_TANH = bo(sub=1, add=1, div=1, root=1)  # assumption: priced like sigmoid (tanh = 2 sigmoid(2x) - 1)
P_GELU = bo(sub=1, add=1, div=1, root=1, mul=2)
P_EXP = bo(root=1)  # the paper prices exp (inside sigmoid) as one "root"
P_LOG = bo(root=1)


# ------------------------------------------------------------------------------------------------
# the registry
# ------------------------------------------------------------------------------------------------
def _packet(op) -> Any:
    """Normalise ``"aten.mm"``, ``"mm"``, ``torch.ops.aten.mm`` or ``torch.ops.aten.mm.default``."""
    if isinstance(op, torch._ops.OpOverload):
        return op.overloadpacket
    if isinstance(op, torch._ops.OpOverloadPacket):
        return op
    if isinstance(op, str):
        name = op
        ns = "aten"
        if "." in name:
            parts = name.split(".")
            if parts[0] in ("torch", "ops"):
                parts = [p for p in parts if p not in ("torch", "ops")]
            ns, name = parts[0], parts[1]
        try:
            return getattr(getattr(torch.ops, ns), name)
        except (AttributeError, RuntimeError):
            raise ValueError(f"unknown op {op!r}") from None
    return op  # higher-order operators and others: used as given


def _as_recipe(recipe) -> Any:
    if recipe is None or recipe is FREE:
        return FREE
    if isinstance(recipe, Mapping):
        recipe = BOVector.from_dict(recipe)
    if isinstance(recipe, BOVector) or callable(recipe):
        return recipe
    raise TypeError(f"a recipe is a BOVector, a dict of counts, a callable or None; got {recipe!r}")


class RecipeSet:
    """A named, overridable map from aten ops to recipes (see the module docstring)."""

    def __init__(self, name: str, recipes: Mapping | None = None):
        self.name = name
        self._recipes: dict[Any, Any] = {}
        self._cache: dict[Any, Any] = {}
        self._pending: dict[str, Any] = {}  # "namespace.op" -> recipe, for ops of libraries loaded later
        for op, r in (recipes or {}).items():
            self.register(op, r)

    # -- editing --------------------------------------------------------------------------------
    def register(self, op, recipe) -> None:
        """Set the recipe of ``op`` (any form :func:`_packet` accepts; all its overloads)."""
        self._recipes[_packet(op)] = _as_recipe(recipe)
        self._cache.clear()

    def update(self, recipes: Mapping) -> None:
        for op, r in recipes.items():
            self.register(op, r)

    def remove(self, op) -> None:
        self._recipes.pop(_packet(op), None)
        self._cache.clear()

    def copy(self, name: str | None = None) -> "RecipeSet":
        rs = RecipeSet(name or self.name)
        rs._recipes = dict(self._recipes)
        rs._pending = dict(self._pending)
        return rs

    # -- reading --------------------------------------------------------------------------------
    def __contains__(self, op) -> bool:
        return self.lookup(_packet(op)) is not None

    def get(self, op):
        """The recipe registered for ``op`` itself (no derivation), or None."""
        return self._recipes.get(_packet(op))

    def ops(self) -> list[str]:
        return sorted(str(p) for p in self._recipes)

    def free_ops(self) -> list[str]:
        """The explicit list of ops that cost nothing (views, copies, allocation)."""
        return sorted(str(p) for p, r in self._recipes.items() if r is FREE)

    def per_element(self, op) -> BOVector | None:
        r = self._recipes.get(_packet(op))
        return r if isinstance(r, BOVector) else None

    def describe(self) -> dict[str, Any]:
        """A data view: op name -> per-element counts dict, ``"free"``, or the function's name."""
        out = {}
        for p, r in sorted(self._recipes.items(), key=lambda kv: str(kv[0])):
            if r is FREE:
                out[str(p)] = "free"
            elif isinstance(r, BOVector):
                out[str(p)] = {"per_element": r.to_dict()}
            else:
                out[str(p)] = getattr(r, "__name__", repr(r))
        return out

    def lookup(self, packet):
        """A callable ``(args, kwargs, out) -> BOVector``, :data:`FREE`, or None (no recipe)."""
        try:
            return self._cache[packet]
        except KeyError:
            pass
        r = self._resolve(packet)
        self._cache[packet] = r
        return r

    def _resolve(self, packet):
        r = self._recipes.get(packet)
        if r is None and self._pending:
            r = self._pending.get(str(packet))
        if r is None:
            name = getattr(packet, "__name__", "")
            ns = getattr(packet, "_qualified_op_name", "aten::").split("::")[0]
            if name.startswith("_foreach_"):
                base = self._base(ns, name[len("_foreach_"):].rstrip("_"))
                if base is None:
                    return None
                if isinstance(getattr(base, "per_element", None), BOVector):
                    base = base.per_element
                if isinstance(base, BOVector):
                    return _foreach(base)
                if base is FREE:
                    return FREE
                return None
            if name.endswith("_") and not name.endswith("__"):
                base = self._base(ns, name[:-1])
                if base is None:
                    return None
                r = base
            else:
                return None
        if isinstance(r, BOVector):
            return _pointwise(r)
        return r

    def _base(self, ns, name):
        try:
            p = getattr(getattr(torch.ops, ns), name)
        except (AttributeError, RuntimeError):
            return None
        return self._recipes.get(p)


def _pointwise(v: BOVector):
    def recipe(args, kwargs, out):
        return v * _numel(out)

    recipe.__name__ = f"per_element({v})"
    recipe.per_element = v
    return recipe


def _foreach(v: BOVector):
    def recipe(args, kwargs, out):
        n = sum(t.numel() for t in args[0] if isinstance(t, torch.Tensor))
        return v * n

    recipe.__name__ = f"foreach_per_element({v})"
    return recipe


# ------------------------------------------------------------------------------------------------
# matmul, convolution, attention
# ------------------------------------------------------------------------------------------------
def accumulating(recipe):
    """Mark ``recipe`` as a dot product: the trace counter prices its multiplies in the op's input format and its
    other BOs (the accumulating adds, an attention's softmax) in the accumulator format (fp32 for bf16/fp16/fp8
    inputs, int32 for int8 ones, unless ``accumulate`` says otherwise), and counts min(mul, add) FMA pairs when
    both are in one format."""
    recipe.accumulates = True
    return recipe


@accumulating
def _mm(args, kwargs, out):
    a, b = args[0], args[1]
    m, k = a.shape[-2], a.shape[-1]
    n = b.shape[-1]
    batch = _prod(a.shape[:-2]) if a.dim() > 2 else 1
    return bo(mul=batch * m * n * k, add=batch * m * n * max(k - 1, 0))  # k = 0: an expert no token reached


@accumulating
def _addmm(args, kwargs, out):
    # beta * self + alpha * (m1 @ m2): one add per output for the bias (alpha = beta = 1 assumed)
    a, b = args[1], args[2]
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    batch = _prod(a.shape[:-2]) if a.dim() > 2 else 1
    return bo(mul=batch * m * n * k, add=batch * m * n * k)


def _conv_macs(x_shape, w_shape, out_shape, transposed=False) -> int:
    """Multiply-accumulates of a convolution, exactly as ``torch.utils.flop_counter.conv_flop_count`` / 2."""
    batch = x_shape[0]
    conv_shape = (x_shape if transposed else out_shape)[2:]
    c_out, c_in, *filt = w_shape
    return _prod(conv_shape) * _prod(filt) * batch * c_out * c_in


@accumulating
def _convolution(args, kwargs, out):
    x, w = args[0], args[1]
    bias = _arg(args, kwargs, 2, "bias")
    transposed = bool(_arg(args, kwargs, 6, "transposed", False))
    macs = _conv_macs(_shape(x), _shape(w), _shape(out), transposed)
    adds = macs - out.numel() + (out.numel() if bias is not None else 0)
    return bo(mul=macs, add=max(adds, 0))


def _t(shape):
    return [shape[1], shape[0]] + list(shape[2:])


@accumulating
def _convolution_backward(args, kwargs, out):
    grad_out, x, w = args[0], args[1], args[2]
    bias_sizes = _arg(args, kwargs, 3, "bias_sizes")
    transposed = bool(_arg(args, kwargs, 7, "transposed", False))
    mask = _arg(args, kwargs, 10, "output_mask", [True, True, True])
    go, xs, ws = _shape(grad_out), _shape(x), _shape(w)
    total = ZERO
    if mask[0] and out[0] is not None:
        macs = _conv_macs(go, ws, _shape(out[0]), not transposed)
        total = total + bo(mul=macs, add=max(macs - out[0].numel(), 0))
    if mask[1] and out[1] is not None:
        gw = _shape(out[1])
        if transposed:
            macs = _conv_macs(_t(go), _t(xs), _t(gw))
        else:
            macs = _conv_macs(_t(xs), _t(go), _t(gw))
        total = total + bo(mul=macs, add=max(macs - out[1].numel(), 0))
    if len(mask) > 2 and mask[2] and bias_sizes is not None:
        total = total + bo(add=grad_out.numel() - grad_out.shape[1])
    return total


def _attn_dims(q, k, v, layout: str):
    """(batch*heads, s_q, s_k, d_qk, d_v) from q/k/v in layout "bhsd" or "bshd"."""
    if layout == "bhsd":
        *lead, s_q, d = q.shape
        s_k, d_v = k.shape[-2], v.shape[-1]
    else:  # (batch, seq, heads, dim)
        b, s_q, h, d = q.shape
        lead = [b, h]
        s_k, d_v = k.shape[1], v.shape[-1]
    return _prod(lead), s_q, s_k, d, d_v


def _softmax_rows(rows, n, exp=EXP) -> BOVector:
    # max (n-1 compares), x - max (n subs), exp, sum (n-1 adds), normalise (n divs)
    return bo(compare=rows * (n - 1), sub=rows * n, add=rows * (n - 1), div=rows * n) + exp * (rows * n)


def _attention_forward(bh, s_q, s_k, d, d_v, exp=EXP, masked=False) -> BOVector:
    scores = bo(mul=bh * s_q * s_k * d + bh * s_q * s_k, add=bh * s_q * s_k * (d - 1))  # QK^T and scale
    if masked:
        scores = scores + bo(add=bh * s_q * s_k)
    soft = _softmax_rows(bh * s_q, s_k, exp)
    pv = bo(mul=bh * s_q * d_v * s_k, add=bh * s_q * d_v * (s_k - 1))
    return scores + soft + pv


def _attention_backward(bh, s_q, s_k, d, d_v, exp=EXP) -> BOVector:
    # recompute P = softmax(scale * QK^T) (flash style), then
    # dV = P^T dO, dP = dO V^T, D = rowsum(dO * O), dS = P * (dP - D), dQ = scale dS K, dK = scale dS^T Q
    recompute = bo(mul=bh * s_q * s_k * (d + 1), add=bh * s_q * s_k * (d - 1), sub=bh * s_q * s_k,
                   div=bh * s_q * s_k) + exp * (bh * s_q * s_k)
    dv = bo(mul=bh * s_k * d_v * s_q, add=bh * s_k * d_v * (s_q - 1))
    dp = bo(mul=bh * s_q * s_k * d_v, add=bh * s_q * s_k * (d_v - 1))
    dd = bo(mul=bh * s_q * d_v, add=bh * s_q * (d_v - 1))
    ds = bo(sub=bh * s_q * s_k, mul=bh * s_q * s_k)
    dq = bo(mul=bh * s_q * d * s_k + bh * s_q * d, add=bh * s_q * d * (s_k - 1))
    dk = bo(mul=bh * s_k * d * s_q + bh * s_k * d, add=bh * s_k * d * (s_q - 1))
    return recompute + dv + dp + dd + ds + dq + dk


def _attention(q_index: int, layout: str, backward: bool, mask_index: int | None = None, exp=EXP):
    def recipe(args, kwargs, out):
        q, k, v = args[q_index], args[q_index + 1], args[q_index + 2]
        dims = _attn_dims(q, k, v, layout)
        if backward:
            return _attention_backward(*dims, exp=exp)
        masked = mask_index is not None and _arg(args, kwargs, mask_index, "attn_mask") is not None
        return _attention_forward(*dims, exp=exp, masked=masked)

    recipe.__name__ = f"attention_{'backward' if backward else 'forward'}_{layout}"
    return accumulating(recipe)


# ------------------------------------------------------------------------------------------------
# reductions
# ------------------------------------------------------------------------------------------------
def _sum(args, kwargs, out):
    x = args[0]
    return bo(add=max(x.numel() - _numel(out), 0))


def _mean(args, kwargs, out):
    x = args[0]
    return bo(add=max(x.numel() - _numel(out), 0), div=_numel(out))


def _compare_reduce(args, kwargs, out):
    x = args[0]
    if len(args) > 1 and isinstance(args[1], torch.Tensor):  # max.other / min.other: elementwise
        return bo(compare=_numel(out))
    return bo(compare=max(x.numel() - _numel(out), 0))


def _aminmax(args, kwargs, out):
    return bo(compare=2 * max(args[0].numel() - _numel(out[0]), 0))  # a running min and a running max


def _var_like(with_root: bool, with_mean_out: bool = False):
    def recipe(args, kwargs, out):
        x = args[0]
        dim = _arg(args, kwargs, 1, "dim")
        n, groups = _reduced(x, dim)
        # mean (n-1 adds, 1 div), deviations (n subs), squares (n muls), sum (n-1 adds), / (n - correction)
        v = bo(add=groups * 2 * (n - 1), div=groups * 2, sub=groups * n, mul=groups * n)
        if with_root:
            v = v + bo(root=groups)
        return v

    recipe.__name__ = "std" if with_root else "var"
    return recipe


def _norm(args, kwargs, out):
    x = args[0]
    ord_ = _arg(args, kwargs, 1, "ord", 2)
    dim = _arg(args, kwargs, 2, "dim")
    n, groups = _reduced(x, dim)
    if ord_ == 1:
        return bo(add=groups * (n - 1))
    if ord_ in (math.inf, -math.inf):
        return bo(compare=groups * (n - 1))
    return bo(mul=groups * n, add=groups * (n - 1), root=groups)


def _softmax(exp, log=None):
    def recipe(args, kwargs, out):
        x = args[0]
        dim = _arg(args, kwargs, 1, "dim")
        n, rows = _reduced(x, dim)
        if log is None:
            return _softmax_rows(rows, n, exp)
        # log_softmax: (x - max) - log(sum exp(x - max)): no division, one log per row
        return (bo(compare=rows * (n - 1), sub=2 * rows * n, add=rows * (n - 1)) + exp * (rows * n)
                + log * rows)

    recipe.__name__ = "log_softmax" if log is not None else "softmax"
    return recipe


def _softmax_backward(args, kwargs, out):
    # grad_in = y * (g - sum(g * y))
    g = args[0]
    dim = args[2]
    n, rows = _reduced(g, dim)
    return bo(mul=2 * rows * n, add=rows * (n - 1), sub=rows * n)


def _log_softmax_backward(exp):
    def recipe(args, kwargs, out):
        # grad_in = g - exp(y) * sum(g)
        g = args[0]
        dim = args[2]
        n, rows = _reduced(g, dim)
        return bo(add=rows * (n - 1), mul=rows * n, sub=rows * n) + exp * (rows * n)

    recipe.__name__ = "log_softmax_backward"
    return recipe


def _cumsum(args, kwargs, out):
    x = args[0]
    dim = _arg(args, kwargs, 1, "dim")
    n, rows = _reduced(x, dim)
    return bo(add=rows * (n - 1))


# ------------------------------------------------------------------------------------------------
# normalisation
# ------------------------------------------------------------------------------------------------
def _stats(rows, n) -> BOVector:
    # mean (n-1 adds, div), deviations (n subs), squares (n muls), sum (n-1 adds), div, + eps, sqrt, 1/
    return bo(add=rows * (2 * (n - 1) + 1), div=rows * 3, sub=rows * n, mul=rows * n, root=rows)


def _normalize(rows, n, affine_w, affine_b) -> BOVector:
    v = bo(mul=rows * n)  # (x - mean) * rstd, deviations reused from the statistics
    if affine_w:
        v = v + bo(mul=rows * n)
    if affine_b:
        v = v + bo(add=rows * n)
    return v


def _layer_norm(args, kwargs, out):
    x, shape = args[0], args[1]
    w, b = _arg(args, kwargs, 2, "weight"), _arg(args, kwargs, 3, "bias")
    n = _prod(shape)
    rows = x.numel() // n if n else 0
    return _stats(rows, n) + _normalize(rows, n, w is not None, b is not None)


def _norm_backward_rows(rows, n, has_w) -> BOVector:
    # dx = rstd/n * (n*g' - sum(g') - xhat * sum(g' * xhat)), g' = g * w
    v = bo(mul=rows * n * 4, add=rows * 2 * (n - 1), sub=rows * 2 * n, div=rows)
    if has_w:
        v = v + bo(mul=rows * n)
    return v


def _layer_norm_backward(args, kwargs, out):
    _g, x, shape = args[0], args[1], args[2]
    w = _arg(args, kwargs, 5, "weight")
    mask = _arg(args, kwargs, 7, "output_mask", [True, True, True])
    n = _prod(shape)
    rows = x.numel() // n if n else 0
    v = _norm_backward_rows(rows, n, w is not None) if mask[0] else ZERO
    if mask[1]:  # sum over rows of g * xhat
        v = v + bo(mul=rows * n, add=(rows - 1) * n)
    if mask[2]:
        v = v + bo(add=(rows - 1) * n)
    return v


def _batch_norm(training_index: int | None, w_index=1, b_index=2, always_training=False):
    def recipe(args, kwargs, out):
        x = args[0]
        w, b = _arg(args, kwargs, w_index, "weight"), _arg(args, kwargs, b_index, "bias")
        c = x.shape[1] if x.dim() > 1 else 1
        m = x.numel() // c if c else 0
        running = _arg(args, kwargs, 3, "running_mean")
        if isinstance(running, bool):  # _native_batch_norm_legit.no_stats(input, weight, bias, training, ...)
            training, running = running, None
        else:
            training = always_training or (training_index is not None
                                           and bool(_arg(args, kwargs, training_index, "training")))
        if training:
            v = _stats(c, m)
            if running is not None:  # running = (1-momentum) running + momentum stat, var unbiased by m/(m-1)
                v = v + bo(mul=c * 5, add=c * 2, sub=c)
        else:  # (x - running_mean) * rsqrt(running_var + eps)
            v = bo(sub=c * m, add=c, root=c, div=c)
        return v + _normalize(c, m, w is not None, b is not None)

    recipe.__name__ = "batch_norm"
    return recipe


def _batch_norm_backward(g_index=0, x_index=1, w_index=2, mask_index=None):
    def recipe(args, kwargs, out):
        _g, x = args[g_index], args[x_index]
        w = _arg(args, kwargs, w_index, "weight")
        c = x.shape[1] if x.dim() > 1 else 1
        m = x.numel() // c if c else 0
        mask = [True, True, True]
        if mask_index is not None:
            mask = _arg(args, kwargs, mask_index, "output_mask", mask)
        # sum(g) and sum(g * xhat) per channel are needed for dx anyway; they are grad_bias and grad_weight
        v = bo(add=c * 2 * (m - 1), mul=c * 2 * m)  # xhat recompute (mul) + g * xhat
        if mask[0]:
            v = v + bo(mul=c * m * 3, sub=c * m * 2, div=c)
            if w is not None:
                v = v + bo(mul=c)
        return v

    recipe.__name__ = "batch_norm_backward"
    return recipe


def _group_norm(args, kwargs, out):
    _x, w, b = args[0], args[1], args[2]
    n_, c, hxw, groups = args[3], args[4], args[5], args[6]
    rows = n_ * groups
    n = (c // groups) * hxw
    return _stats(rows, n) + _normalize(rows, n, w is not None, b is not None)


def _group_norm_backward(args, kwargs, out):
    _g, _x, w = args[0], args[1], args[4]
    n_, c, hxw, groups, mask = args[5], args[6], args[7], args[8], args[9]
    rows = n_ * groups
    n = (c // groups) * hxw
    v = _norm_backward_rows(rows, n, w is not None) if mask[0] else ZERO
    if mask[1]:
        v = v + bo(mul=n_ * c * hxw, add=c * (n_ * hxw - 1))
    if mask[2]:
        v = v + bo(add=c * (n_ * hxw - 1))
    return v


# ------------------------------------------------------------------------------------------------
# pooling, embedding, losses, dropout, misc
# ------------------------------------------------------------------------------------------------
def _window(args, kwargs, ks_index=1) -> int:
    ks = _arg(args, kwargs, ks_index, "kernel_size")
    if isinstance(ks, int):
        ks = [ks]
    x = args[0]
    spatial = x.dim() - 2 if x.dim() >= 3 else 1
    if len(ks) == 1:
        ks = list(ks) * spatial
    return _prod(ks)


def _max_pool(args, kwargs, out):
    o = out[0] if isinstance(out, (tuple, list)) else out
    return bo(compare=o.numel() * (_window(args, kwargs) - 1))


def _max_pool_backward(args, kwargs, out):
    return bo(add=args[0].numel())  # scatter-add of grad_out into the zeroed grad_input


def _avg_pool(args, kwargs, out):
    k = _window(args, kwargs)
    return bo(add=out.numel() * (k - 1), div=out.numel())


def _avg_pool_backward(args, kwargs, out):
    g = args[0]
    k = _window(args, kwargs, ks_index=2)
    return bo(div=g.numel(), add=g.numel() * k)


def _adaptive_avg(args, kwargs, out):
    x = args[0]
    return bo(add=max(x.numel() - out.numel(), 0), div=out.numel())


def _adaptive_avg_backward(args, kwargs, out):
    g, x = args[0], args[1]
    return bo(div=g.numel(), add=x.numel())


def _adaptive_max(args, kwargs, out):
    x = args[0]
    o = out[0] if isinstance(out, (tuple, list)) else out
    return bo(compare=max(x.numel() - o.numel(), 0))


def _scatter_add_grad(args, kwargs, out):
    return bo(add=args[0].numel())


def _index_accumulate(args, kwargs, out):
    values = _arg(args, kwargs, 2, "values")
    accumulate = _arg(args, kwargs, 3, "accumulate", False)
    return bo(add=values.numel()) if accumulate else ZERO


def _mse(args, kwargs, out):
    x = args[0]
    n = x.numel()
    reduction = _arg(args, kwargs, 2, "reduction", 1)
    v = bo(sub=n, mul=n)
    if reduction in (1, 2):
        v = v + bo(add=n - 1)
    if reduction == 1:
        v = v + bo(div=1)
    return v


def _mse_backward(args, kwargs, out):
    # grad = (2 / N) * g * (x - y): scalar 2*g/N (mul, div), then sub and mul per element
    x = args[1]
    n = x.numel()
    return bo(sub=n, mul=n + 1, div=1)


def _nll(args, kwargs, out):
    # -(1/N) sum_i x[i, t_i]: gather (free), N-1 adds, negate (sub), mean (div)
    _x, target = args[0], args[1]
    reduction = _arg(args, kwargs, 3, "reduction", 1)
    n = target.numel()
    if reduction == 0:
        return bo(sub=n)
    return bo(add=max(n - 1, 0), sub=1, div=1 if reduction == 1 else 0)


def _nll_backward(args, kwargs, out):
    target = args[2]
    reduction = _arg(args, kwargs, 4, "reduction", 1)
    n = target.numel()
    return bo(sub=1, div=1 if reduction == 1 else 0) if reduction else bo(sub=n)


def _bce(args, kwargs, out):
    x = args[0]
    n = x.numel()
    return bo(mul=2 * n, sub=2 * n, add=n + n - 1, div=1) + LOG * (2 * n)


def _dropout(args, kwargs, out):
    n = args[0].numel()
    return bo(compare=n, mul=n)  # mask = rand < 1-p; y = x * mask * (1/(1-p)) with the scale folded


def _dropout_backward(args, kwargs, out):
    n = args[0].numel()
    return bo(mul=2 * n)


def _pow_scalar(exp=EXP, log=LOG):
    def recipe(args, kwargs, out):
        e = args[1]
        n = _numel(out)
        if isinstance(e, torch.Tensor):
            return (exp + log + bo(mul=1)) * n
        if e == 0 or e == 1:
            return ZERO
        if e == 0.5:
            return bo(root=n)
        if e == -0.5:
            return bo(root=n, div=n)
        if e == -1:
            return bo(div=n)
        if float(e).is_integer():
            k = abs(int(e))
            muls = k.bit_length() - 1 + bin(k).count("1") - 1  # square-and-multiply
            return bo(mul=muls * n, div=n if e < 0 else 0)
        return (exp + log + bo(mul=1)) * n

    recipe.__name__ = "pow_scalar"
    return recipe


def _add_alpha(base: str):
    def recipe(args, kwargs, out):
        n = _numel(out)
        alpha = kwargs.get("alpha", args[2] if len(args) > 2 else 1)
        v = bo(**{base: n})
        if alpha != 1:
            v = v + bo(mul=n)
        return v

    recipe.__name__ = f"{base}_alpha"
    recipe.per_element = bo(**{base: 1})  # used by the derived _foreach_ variant (alpha ignored there)
    return recipe


def _where(args, kwargs, out):
    return bo(compare=_numel(out))


def _lstm_dims(args, kwargs, input_index, hidden_index, batch_first_index, w_ih_index):
    x = args[input_index]
    hidden = int(args[hidden_index])
    batch_first = bool(args[batch_first_index])
    steps = x.shape[1] if (batch_first and x.dim() == 3) else x.shape[0]
    batch = (x.shape[0] if batch_first else x.shape[1]) if x.dim() == 3 else 1
    i = args[w_ih_index].shape[-1]
    return steps * batch, i, hidden


def _mkldnn_lstm(exp_sigmoid, tanh):
    """Fused CPU LSTM layer: per step and sequence, gates = W_ih x + W_hh h + b_ih + b_hh (4H rows),
    3 sigmoid + 2 tanh gates, c' = f c + i g, h' = o tanh(c')."""
    def recipe(args, kwargs, out):
        n, i, h = _lstm_dims(args, kwargs, 0, 10, 14, 1)
        gates = bo(mul=n * 4 * h * (i + h), add=n * 4 * h * (i + h - 1) + n * 4 * h * 3)
        cell = exp_sigmoid * (n * 3 * h) + tanh * (n * 2 * h) + bo(mul=n * 3 * h, add=n * h)
        return gates + cell

    recipe.__name__ = "mkldnn_lstm_layer"
    return accumulating(recipe)


@accumulating
def _mkldnn_lstm_backward(args, kwargs, out):
    # d gates from the stored activations (sigmoid' and tanh' from outputs: 5H x (sub, 2 mul), cell chain
    # 6H mul + 2H add), then dW_ih, dW_hh (accumulated over steps), dx and dh: four products of 4H x (I or H)
    n, i, h = _lstm_dims(args, kwargs, 0, 15, 21, 1)
    point = bo(sub=n * 5 * h, mul=n * 10 * h + n * 6 * h, add=n * 2 * h)
    macs = n * 4 * h * (i + h)
    return point + bo(mul=2 * macs, add=2 * macs) + bo(add=n * 4 * h * 2)


def _mkldnn_lstm_flops(args, kwargs, out):
    n, i, h = _lstm_dims(args, kwargs, 0, 10, 14, 1)
    return 2 * n * 4 * h * (i + h)


def _mkldnn_lstm_backward_flops(args, kwargs, out):
    n, i, h = _lstm_dims(args, kwargs, 0, 15, 21, 1)
    return 4 * n * 4 * h * (i + h)


# ------------------------------------------------------------------------------------------------
# op lists
# ------------------------------------------------------------------------------------------------
#: ops that cost nothing: views, reshapes, copies, allocation, metadata, RNG state, profiler markers
FREE_OPS = [
    "view", "_unsafe_view", "reshape", "_reshape_alias", "expand", "expand_as", "t", "transpose", "permute",
    "squeeze", "unsqueeze", "select", "slice", "narrow", "split", "split_with_sizes", "unsafe_split",
    "unsafe_split_with_sizes", "chunk", "unbind", "as_strided", "alias", "detach", "lift_fresh",
    "lift_fresh_copy", "clone", "copy", "_to_copy", "contiguous", "empty", "empty_like", "empty_strided",
    "new_empty", "new_empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like",
    "new_zeros", "new_ones", "new_full", "fill", "zero", "scalar_tensor", "stack", "cat",
    "index_select", "gather", "embedding", "flatten", "unflatten", "_unsafe_index", "index", "repeat",
    "roll", "flip", "select_backward", "slice_backward", "expand_copy", "view_copy",
    "permute_copy", "transpose_copy", "t_copy", "unsqueeze_copy", "squeeze_copy", "diagonal",
    "_local_scalar_dense", "item", "constant_pad_nd", "pad", "select_scatter", "slice_scatter",
    "as_strided_scatter", "diagonal_backward", "masked_fill", "_unsafe_view_copy", "set_",
    "resize_", "_pin_memory", "sym_size", "sym_stride", "sym_numel", "sym_storage_offset", "is_same_size",
    "_has_compatible_shallow_copy_type", "index_put", "_reshape_copy", "movedim", "_conj", "conj",
    "_neg_view", "resolve_conj", "resolve_neg", "dropout", "_assert_async", "_assert_tensor_metadata",
    "_functional_assert_async", "_make_dep_token", "_safe_softmax_placeholder",
    "_index_put_impl", "pixel_shuffle", "pixel_unshuffle", "native_channel_shuffle", "channel_shuffle",
    "reflection_pad1d", "reflection_pad2d", "reflection_pad3d", "replication_pad1d", "replication_pad2d",
    "replication_pad3d", "im2col", "view_as_real", "view_as_complex", "index_copy", "index_fill", "masked_scatter",
    "masked_scatter_backward",
    "take", "take_along_dim", "diag_embed", "unfold", "_unsafe_masked_index", "diag", "block_diag", "tile",
    "repeat_interleave", "split_copy", "unbind_copy", "slice_copy", "select_copy", "alias_copy", "detach_copy",
    "col_indices", "crow_indices", "values", "_copy_from", "_copy_from_and_resize", "unfold_backward",
    "as_strided_copy", "new_empty_strided", "_unsafe_index_put", "fill_diagonal_", "_nested_tensor_from_mask",
    "lift_fresh_copy", "complex", "real", "imag", "masked_fill_", "_to_dense",
]
_NON_ATEN_FREE = [
    "profiler._record_function_enter_new", "profiler._record_function_exit", "profiler._record_function_enter",
    "prim.device", "prim.layout",
]

#: binary and unary pointwise ops priced the same in both sets (per output element)
_ARITH = {
    "add": None, "sub": None, "rsub": bo(sub=1), "mul": bo(mul=1), "div": bo(div=1), "true_divide": bo(div=1),
    "neg": bo(sub=1), "reciprocal": bo(div=1), "square": bo(mul=1), "abs": bo(compare=1),
    "relu": bo(compare=1), "relu6": bo(compare=2), "threshold": bo(compare=1), "threshold_backward": bo(compare=1),
    "hardtanh": bo(compare=2), "hardtanh_backward": bo(compare=2), "clamp": bo(compare=2),
    "clamp_min": bo(compare=1), "clamp_max": bo(compare=1), "clip": bo(compare=2),
    "leaky_relu": bo(compare=1, mul=1), "leaky_relu_backward": bo(compare=1, mul=1),
    "maximum": bo(compare=1), "minimum": bo(compare=1), "fmax": bo(compare=1), "fmin": bo(compare=1),
    "eq": bo(compare=1), "ne": bo(compare=1), "lt": bo(compare=1), "le": bo(compare=1), "gt": bo(compare=1),
    "ge": bo(compare=1), "logical_not": bo(compare=1), "logical_and": bo(compare=1), "logical_or": bo(compare=1),
    "sign": bo(compare=2), "sgn": bo(compare=2), "isnan": bo(compare=1), "isinf": bo(compare=1),
    "where": bo(compare=1), "masked_fill_": None,
    "addcmul": bo(mul=2, add=1), "addcdiv": bo(div=1, mul=1, add=1), "lerp": bo(sub=1, mul=1, add=1),
    "sqrt": SQRT, "rsqrt": bo(root=1, div=1), "floor": bo(compare=1), "ceil": bo(compare=1),
    "round": bo(compare=1), "trunc": bo(compare=1), "frac": bo(sub=1, compare=1),
    "remainder": bo(div=1, mul=1, sub=1), "fmod": bo(div=1, mul=1, sub=1), "floor_divide": bo(div=1, compare=1),
    "hardsigmoid": bo(add=1, div=1, compare=2), "hardswish": bo(add=1, div=1, mul=1, compare=2),
    "hardsigmoid_backward": bo(div=1, compare=2), "hardswish_backward": bo(div=2, mul=1, add=1, compare=2),
    "bernoulli_": bo(compare=1), "native_dropout": None, "native_dropout_backward": None,
}


def _transcendental_table(exp, log, tanh, sigmoid, gelu, gelu_tanh, erf, sin) -> dict:
    """Per-element costs of transcendental activations and their backward ops, built from the constants."""
    silu = sigmoid + bo(mul=1)
    return {
        "exp": exp, "exp2": exp, "expm1": exp + bo(sub=1), "log": log, "log2": log + bo(mul=1),
        "log10": log + bo(mul=1), "log1p": log + bo(add=1), "tanh": tanh, "sigmoid": sigmoid, "erf": erf,
        "erfc": erf + bo(sub=1), "sin": sin, "cos": sin, "silu": silu, "mish": log + exp + tanh + bo(add=1, mul=1),
        "softplus": exp + log + bo(add=1, compare=1), "elu": exp + bo(sub=1, mul=1, compare=1),
        "celu": exp + bo(sub=1, mul=1, div=1, compare=1),
        "logit": log + bo(sub=1, div=1),
        # backward ops, from the stored output y or input x
        "sigmoid_backward": bo(sub=1, mul=2),  # g * y * (1 - y)
        "tanh_backward": bo(sub=1, mul=2),  # g * (1 - y^2)
        "silu_backward": sigmoid + bo(sub=1, mul=3, add=1),  # g * s * (1 + x (1 - s))
        "softplus_backward": sigmoid + bo(mul=2),
        "elu_backward": bo(mul=2, add=1, compare=1),
        "mish_backward": exp + log + tanh + sigmoid + bo(add=2, mul=4, sub=1),
        "logit_backward": bo(sub=1, mul=2, div=1),
    }


def _gelu(exact, tanh_form):
    def recipe(args, kwargs, out):
        approx = _arg(args, kwargs, 1, "approximate", "none")
        return (tanh_form if approx == "tanh" else exact) * _numel(out)

    recipe.__name__ = "gelu"
    return recipe


def _gelu_backward(exact, tanh_form):
    def recipe(args, kwargs, out):
        approx = _arg(args, kwargs, 2, "approximate", "none")
        return (tanh_form if approx == "tanh" else exact) * _numel(out)

    recipe.__name__ = "gelu_backward"
    return recipe


def _common(exp, log, sigmoid_cost, tanh_cost) -> dict:
    r: dict[Any, Any] = {}
    for name in FREE_OPS:
        r[name] = FREE
    for name in _NON_ATEN_FREE:
        try:
            r[_packet(name)] = FREE
        except ValueError:
            pass
    for name, v in _ARITH.items():
        if v is not None:
            r[name] = v
    r.update({
        "add": _add_alpha("add"), "sub": _add_alpha("sub"), "where": _where, "masked_fill": _where,
        "native_dropout": _dropout, "native_dropout_backward": _dropout_backward,
        "pow": _pow_scalar(exp, log),
        "mm": _mm, "bmm": _mm, "matmul": _mm, "addmm": _addmm, "baddbmm": _addmm,
        "convolution": _convolution, "_convolution": _convolution, "convolution_backward": _convolution_backward,
        "sum": _sum, "mean": _mean, "nansum": _sum, "prod": lambda a, k, o: bo(mul=max(a[0].numel() - _numel(o), 0)),
        "amax": _compare_reduce, "amin": _compare_reduce, "aminmax": _aminmax, "max": _compare_reduce, "min": _compare_reduce,
        "argmax": _compare_reduce, "argmin": _compare_reduce, "any": _compare_reduce, "all": _compare_reduce,
        "var": _var_like(False), "std": _var_like(True), "var_mean": _var_like(False), "std_mean": _var_like(True),
        "_foreach_norm": lambda a, k, o: sum((_norm((t,) + tuple(a[1:2]), {}, None) for t in a[0]), ZERO),
        "linalg_vector_norm": _norm, "norm": _norm, "cumsum": _cumsum,
        "_softmax": _softmax(exp), "_safe_softmax": _softmax(exp), "softmax": _softmax(exp),
        "_log_softmax": _softmax(exp, log), "log_softmax": _softmax(exp, log),
        "_softmax_backward_data": _softmax_backward, "_log_softmax_backward_data": _log_softmax_backward(exp),
        "native_layer_norm": _layer_norm, "native_layer_norm_backward": _layer_norm_backward,
        "native_batch_norm": _batch_norm(5), "_native_batch_norm_legit": _batch_norm(5),
        "_native_batch_norm_legit_functional": _batch_norm(5),
        "_native_batch_norm_legit_no_training": _batch_norm(None),
        "_batch_norm_with_update": _batch_norm(None, always_training=True),
        "_batch_norm_no_update": _batch_norm(None),
        "native_batch_norm_backward": _batch_norm_backward(0, 1, 2, 9),
        "batch_norm_backward": _batch_norm_backward(0, 1, 2, 9),
        "native_group_norm": _group_norm, "native_group_norm_backward": _group_norm_backward,
        "max_pool2d_with_indices": _max_pool, "max_pool3d_with_indices": _max_pool, "max_pool2d": _max_pool,
        "max_pool1d": _max_pool, "max_pool2d_with_indices_backward": _max_pool_backward,
        "max_pool3d_with_indices_backward": _max_pool_backward,
        "avg_pool2d": _avg_pool, "avg_pool3d": _avg_pool, "avg_pool1d": _avg_pool,
        "avg_pool2d_backward": _avg_pool_backward, "avg_pool3d_backward": _avg_pool_backward,
        "_adaptive_avg_pool2d": _adaptive_avg, "_adaptive_avg_pool3d": _adaptive_avg,
        "adaptive_avg_pool1d": _adaptive_avg,
        "_adaptive_avg_pool2d_backward": _adaptive_avg_backward,
        "_adaptive_avg_pool3d_backward": _adaptive_avg_backward,
        "adaptive_max_pool2d": _adaptive_max, "adaptive_max_pool2d_backward": _max_pool_backward,
        "embedding_dense_backward": _scatter_add_grad, "embedding_backward": _scatter_add_grad,
        "index_add": lambda a, k, o: bo(add=_arg(a, k, 3, "source").numel()),
        "index_put": _index_accumulate, "_index_put_impl": _index_accumulate,
        "scatter_add": lambda a, k, o: bo(add=_arg(a, k, 3, "src").numel()),
        "mkldnn_rnn_layer": _mkldnn_lstm(sigmoid_cost, tanh_cost),
        "mkldnn_rnn_layer_backward": _mkldnn_lstm_backward,
        "mse_loss": _mse, "mse_loss_backward": _mse_backward,
        "nll_loss_forward": _nll, "nll_loss_backward": _nll_backward,
        "nll_loss2d_forward": _nll, "nll_loss2d_backward": _nll_backward,
        "binary_cross_entropy": _bce,
        # attention (fused kernels); the math path decomposes into bmm + softmax and needs no recipe here
        "_scaled_dot_product_flash_attention_for_cpu": _attention(0, "bhsd", False, 5, exp),
        "_scaled_dot_product_flash_attention_for_cpu_backward": _attention(1, "bhsd", True, exp=exp),
        "_scaled_dot_product_flash_attention": _attention(0, "bhsd", False, exp=exp),
        "_scaled_dot_product_flash_attention_backward": _attention(1, "bhsd", True, exp=exp),
        "_scaled_dot_product_efficient_attention": _attention(0, "bhsd", False, 3, exp),
        "_scaled_dot_product_efficient_attention_backward": _attention(1, "bhsd", True, exp=exp),
        "_scaled_dot_product_cudnn_attention": _attention(0, "bhsd", False, 3, exp),
        "_scaled_dot_product_cudnn_attention_backward": _attention(1, "bhsd", True, exp=exp),
        "_flash_attention_forward": _attention(0, "bshd", False, exp=exp),
        "_flash_attention_backward": _attention(1, "bshd", True, exp=exp),
        "_efficient_attention_forward": _attention(0, "bshd", False, 3, exp),
        "_efficient_attention_backward": _attention(1, "bshd", True, exp=exp),
    })
    from .recipes_zoo import zoo_recipes

    r.update(zoo_recipes(exp=exp, log=log))
    return r


def _build(name: str, *, exp, log, tanh, sigmoid, gelu, gelu_tanh, erf, sin,
           gelu_bw, gelu_tanh_bw) -> RecipeSet:
    r = _common(exp, log, sigmoid, tanh)
    r.update(_transcendental_table(exp, log, tanh, sigmoid, gelu, gelu_tanh, erf, sin))
    r["gelu"] = _gelu(gelu, gelu_tanh)
    r["gelu_backward"] = _gelu_backward(gelu_bw, gelu_tanh_bw)
    rs = RecipeSet(name)
    for op, rec in r.items():
        try:
            rs.register(op, rec)
        except ValueError:  # an op this torch build does not have, or a library not loaded yet (torchvision)
            if "." in op:
                rs._pending[op] = _as_recipe(rec)
    return rs


# gelu'(x) exact = Phi(x) + x phi(x): Phi = 0.5 (1 + erf(x/sqrt2)), phi = exp(-x^2/2)/sqrt(2 pi); times g
_GELU_BW = ERF + EXP + bo(mul=7, add=2)
# gelu'(x) tanh = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2), t = tanh(c (x + a x^3)); times g
_GELU_TANH_BW = TANH + bo(mul=12, add=4, sub=1)
# the paper's pricing of the same expressions (tanh = sub + add + div + root); see docs/backprop.md
_P_GELU_BW = P_TANH + bo(mul=12, add=4, sub=1)

DEFAULT_RECIPES = _build("default", exp=EXP, log=LOG, tanh=TANH, sigmoid=SIGMOID, gelu=GELU, gelu_tanh=GELU_TANH,
                         erf=ERF, sin=SIN, gelu_bw=_GELU_BW, gelu_tanh_bw=_GELU_TANH_BW)
PAPER_RECIPES = _build("paper", exp=P_EXP, log=P_LOG, tanh=P_TANH, sigmoid=P_SIGMOID, gelu=P_GELU,
                       gelu_tanh=P_GELU, erf=P_TANH, sin=bo(root=1), gelu_bw=_P_GELU_BW, gelu_tanh_bw=_P_GELU_BW)

_RECIPE_SETS: dict[str, RecipeSet] = {"default": DEFAULT_RECIPES, "paper": PAPER_RECIPES}


def get_recipes(name_or_set: "str | RecipeSet" = "default") -> RecipeSet:
    """A recipe set by name (``"default"``, ``"paper"`` or one added with :func:`add_recipe_set`)."""
    if isinstance(name_or_set, RecipeSet):
        return name_or_set
    if isinstance(name_or_set, str) and name_or_set not in _RECIPE_SETS and name_or_set.endswith((".json", ".toml")):
        return load_recipes(name_or_set)
    try:
        return _RECIPE_SETS[name_or_set]
    except KeyError:
        raise ValueError(f"unknown recipe set {name_or_set!r}; known: {', '.join(sorted(_RECIPE_SETS))}") from None


def load_recipes(path, base: "str | RecipeSet" = "default", name: str | None = None) -> RecipeSet:
    """A copy of ``base`` with the per-element overrides of a JSON or TOML file::

        {"aten.sigmoid": {"add": 1, "sub": 1, "div": 1, "root": 1}, "aten.clone": "free"}

    (TOML: ``[recipes]`` table or top-level keys, quoted op names). Shape-dependent recipes stay code.
    """
    import pathlib

    from ..datafile import read_data_file

    p = pathlib.Path(path)
    data = read_data_file(p, "recipe file", ValueError, default="json")
    if p.suffix.lower() == ".toml":
        data = data.get("recipes", data)
    if not isinstance(data, dict):
        raise ValueError(f"recipe file {path} must map op names to counts")
    rs = get_recipes(base).copy(name or p.stem)
    for op, rec in data.items():
        if rec == "free":
            rec = FREE
        elif not isinstance(rec, dict):
            raise ValueError(f"recipe file {path}: {op} must be a table of counts or \"free\", got {rec!r}")
        try:
            rs.register(op, rec)
        except (ValueError, TypeError) as e:
            raise ValueError(f"recipe file {path}: {op}: {e}") from None
    return rs


def add_recipe_set(rs: RecipeSet) -> None:
    _RECIPE_SETS[rs.name] = rs


def recipe_sets() -> list[str]:
    return sorted(_RECIPE_SETS)


def register_recipe(op, recipe, recipes: "str | RecipeSet" = "default") -> None:
    """Register (override) ``op``'s recipe in a named set (``"default"`` unless given)."""
    get_recipes(recipes).register(op, recipe)


# ------------------------------------------------------------------------------------------------
# FLOPs: 2 per multiply-accumulate of mm / conv / attention, torch.utils.flop_counter's formulas
# ------------------------------------------------------------------------------------------------
def _flop_registry() -> dict:
    from torch.utils import flop_counter as fc

    reg: dict[Any, Callable] = {}
    for packet, fn in fc.flop_registry.items():
        reg[packet] = (lambda f: (lambda args, kwargs, out: f(*args, **kwargs, out_val=out)))(fn)

    def sdpa_cpu(args, kwargs, out):
        q, k, v = args[0], args[1], args[2]
        return fc.sdpa_flop_count(tuple(q.shape), tuple(k.shape), tuple(v.shape))

    def sdpa_cpu_bw(args, kwargs, out):
        g, q, k, v = args[0], args[1], args[2], args[3]
        return fc.sdpa_backward_flop_count(tuple(g.shape), tuple(q.shape), tuple(k.shape), tuple(v.shape))

    from .recipes_zoo import ZOO_FLOPS

    for name, f in ZOO_FLOPS.items():
        try:
            reg.setdefault(_packet(name), f)
        except ValueError:
            pass
    for name, f in (("mkldnn_rnn_layer", _mkldnn_lstm_flops), ("mkldnn_rnn_layer_backward", _mkldnn_lstm_backward_flops),
                    ("_scaled_dot_product_flash_attention_for_cpu", sdpa_cpu),
                    ("_scaled_dot_product_flash_attention_for_cpu_backward", sdpa_cpu_bw)):
        try:
            reg[_packet(name)] = f
        except ValueError:
            pass
    return reg


#: aten op packet -> ``f(args, kwargs, out) -> int`` FLOPs (torch.utils.flop_counter's formulas, plus the CPU
#: flash-attention kernels FlopCounterMode does not count)
FLOP_FORMULAS: dict[Any, Callable] = _flop_registry()


def register_flop_formula(op, formula: Callable) -> None:
    """Add or override a FLOP formula ``formula(args, kwargs, out) -> int``."""
    FLOP_FORMULAS[_packet(op)] = formula
