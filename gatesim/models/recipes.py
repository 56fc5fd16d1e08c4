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

This module holds the registry, the shared shape helpers and cost constants, the pointwise tables and the FLOP
formulas; the shape-reading recipes live by op family: :mod:`~gatesim.models.recipes_linear` (matmuls,
convolutions, attention, LSTM), :mod:`~gatesim.models.recipes_reduce` (reductions, normalization, pooling, losses),
:mod:`~gatesim.models.recipes_select` (sorting, selection, indexing, cumulative ops),
:mod:`~gatesim.models.recipes_quant` (grouped, scaled and quantized matmuls) and
:mod:`~gatesim.models.recipes_zoo` (the rest real models emit).
Users copy a set and override entries::

    rs = get_recipes("default").copy("mine")
    rs.register("aten.sigmoid", {"add": 1, "sub": 1, "div": 1, "root": 1})
    rs.register(torch.ops.aten.mm, lambda args, kwargs, out: ...)
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import torch

from .bo import BOVector, bo

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
    from .recipes_linear import linear_recipes
    from .recipes_reduce import reduction_recipes
    from .recipes_zoo import zoo_recipes

    r.update(reduction_recipes(exp, log))
    r.update(linear_recipes(exp, sigmoid_cost, tanh_cost))
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

    from .recipes_linear import _mkldnn_lstm_backward_flops, _mkldnn_lstm_flops
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
