"""Recipes for sorting, selection, scatter/gather/index arithmetic and cumulative ops (see
:mod:`gatesim.models.recipes_zoo` for the pricing choices: bitonic sort, heap top-k, binary search, index
arithmetic in int64)."""
from __future__ import annotations

import torch

from .bo import ZERO, bo, format_of
from .recipes import EXP, LOG, _arg, _numel, _reduced

INDEX_FORMAT = "int64"


def _log2ceil(n: int) -> int:
    return max(int(n) - 1, 0).bit_length()


def out_fmt(out) -> str:
    """The format of an op's (first) output."""
    o = out[0] if isinstance(out, (list, tuple)) else out
    return format_of(o.dtype)


def bitonic_compares(n: int) -> int:
    """Compare-exchanges of a bitonic sorting network on n values padded to N = 2^k: N/2 · k(k+1)/2."""
    if n <= 1:
        return 0
    k = _log2ceil(n)
    return (1 << k) // 2 * k * (k + 1) // 2


def heap_select_compares(n: int, k: int) -> int:
    """Worst-case compares to keep the k best of n values in a binary heap: n · (1 + ⌈log2 k⌉)."""
    if n <= 1 or k <= 0:
        return 0
    return n * (1 + _log2ceil(max(k, 1)))


def _rows(x: torch.Tensor, dim) -> tuple[int, int]:
    """(length of ``dim``, number of rows) of ``x``."""
    if x.dim() == 0:
        return 1, 1
    d = dim % x.dim() if isinstance(dim, int) else -1
    n = x.shape[d]
    return n, (x.numel() // n if n else 0)


# -- sorting and selection ---------------------------------------------------------------------------------
def _sort(args, kwargs, out):
    x = args[0]
    dim = kwargs.get("dim", -1)
    for a in args[1:]:
        if isinstance(a, int) and not isinstance(a, bool):
            dim = a
            break
    n, rows = _rows(x, dim)
    return bo(compare=rows * bitonic_compares(n))


def _topk(args, kwargs, out):
    x, k = args[0], int(_arg(args, kwargs, 1, "k"))
    dim = _arg(args, kwargs, 2, "dim", -1)
    is_sorted = _arg(args, kwargs, 4, "sorted", True)
    n, rows = _rows(x, dim)
    c = heap_select_compares(n, k) + (bitonic_compares(k) if is_sorted else 0)
    return bo(compare=rows * c)


def _kthvalue(args, kwargs, out):
    x, k = args[0], int(_arg(args, kwargs, 1, "k"))
    dim = _arg(args, kwargs, 2, "dim", -1)
    n, rows = _rows(x, dim)
    return bo(compare=rows * heap_select_compares(n, min(k, n - k + 1)))


def _median(args, kwargs, out):
    x = args[0]
    dim = _arg(args, kwargs, 1, "dim")
    if dim is None:
        n, rows = x.numel(), 1
    else:
        n, rows = _rows(x, dim)
    return bo(compare=rows * heap_select_compares(n, (n + 1) // 2))


def _unique(args, kwargs, out):
    x = args[0]
    n = x.numel()
    return bo(compare=bitonic_compares(n) + max(n - 1, 0))


def _unique_consecutive(args, kwargs, out):
    return bo(compare=max(args[0].numel() - 1, 0))


def _searchsorted(args, kwargs, out):
    seq, values = args[0], args[1]
    n = seq.shape[-1] if seq.dim() else 1
    m = values.numel() if isinstance(values, torch.Tensor) else 1
    return bo(compare=m * (_log2ceil(n + 1) or 1))


def _bucketize(args, kwargs, out):
    x, boundaries = args[0], args[1]
    m = x.numel() if isinstance(x, torch.Tensor) else 1
    return bo(compare=m * (_log2ceil(boundaries.numel() + 1) or 1))


# -- scatter, gather, index ----------------------------------------------------------------------------------
_REDUCE_BO = {"sum": bo(add=1), "add": bo(add=1), "prod": bo(mul=1), "multiply": bo(mul=1), "mean": bo(add=1),
              "amax": bo(compare=1), "amin": bo(compare=1)}


def _scatter(args, kwargs, out):
    src = _arg(args, kwargs, 3, "src")
    reduce = kwargs.get("reduce") or (args[4] if len(args) > 4 else None)
    n = src.numel() if isinstance(src, torch.Tensor) else _arg(args, kwargs, 2, "index").numel()
    if reduce is None:
        return ZERO
    return _REDUCE_BO.get(reduce, bo(add=1)) * n


def _scatter_reduce(args, kwargs, out):
    src = _arg(args, kwargs, 3, "src")
    reduce = _arg(args, kwargs, 4, "reduce", "sum")
    include_self = _arg(args, kwargs, 5, "include_self", True)
    v = _REDUCE_BO.get(reduce, bo(add=1)) * src.numel()
    if reduce == "mean":
        v = v + bo(div=out.numel(), add=out.numel() if include_self else 0)
    return v


def _index_reduce(args, kwargs, out):
    source = _arg(args, kwargs, 3, "source")
    reduce = _arg(args, kwargs, 4, "reduce", "prod")
    v = _REDUCE_BO.get(reduce, bo(add=1)) * source.numel()
    if reduce == "mean":
        v = v + bo(div=out.numel())
    return v


def _histc(args, kwargs, out):
    n = args[0].numel()
    # bin = (x - min) * bins / (max - min): sub, mul; two range compares; one count add
    return bo(sub=n, mul=n, compare=2 * n, add=n)


def _bincount(args, kwargs, out):
    n = args[0].numel()
    weights = _arg(args, kwargs, 1, "weights")
    return {INDEX_FORMAT: bo(add=n)} if weights is None else {out_fmt(out): bo(add=n)}


def _nonzero(args, kwargs, out):
    n = args[0].numel()
    # x != 0 per element, then a prefix sum of the flags for the output positions (index arithmetic)
    return {"in": bo(compare=n), INDEX_FORMAT: bo(add=n)}


def _count_nonzero(args, kwargs, out):
    n = args[0].numel()
    return {"in": bo(compare=n), INDEX_FORMAT: bo(add=max(n - _numel(out), 0))}


def _one_hot(args, kwargs, out):
    return {INDEX_FORMAT: bo(compare=_numel(out))}


def _tri(args, kwargs, out):
    return {INDEX_FORMAT: bo(compare=_numel(out))}  # row - col >= diagonal, per element


def _eye(args, kwargs, out):
    return {INDEX_FORMAT: bo(compare=_numel(out))}  # row == col, per element


def _arange(args, kwargs, out):
    n = _numel(out)
    return bo(mul=n, add=n)  # start + i * step, in the output's format


def _isin(args, kwargs, out):
    e, t = args[0], args[1]
    m = e.numel() if isinstance(e, torch.Tensor) else 1
    n = t.numel() if isinstance(t, torch.Tensor) else 1
    return bo(compare=m * n)


def _embedding_bag(args, kwargs, out):
    w, idx = args[0], args[1]
    mode = _arg(args, kwargs, 4, "mode", 0)
    d = w.shape[-1]
    o = out[0]
    bags = o.numel() // d if d else 0
    n = idx.numel()
    psw = _arg(args, kwargs, 6, "per_sample_weights")
    v = bo(add=max(n - bags, 0) * d) if mode in (0, 1) else bo(compare=max(n - bags, 0) * d)
    if mode == 1:
        v = v + bo(div=bags * d)
    if psw is not None:
        v = v + bo(mul=n * d)
    return v


def _embedding_bag_backward(args, kwargs, out):
    return bo(add=args[0].numel())


def _index_add(args, kwargs, out):
    return bo(add=_arg(args, kwargs, 3, "source").numel())


# -- cumulative ----------------------------------------------------------------------------------------------
def _cum(v_per):
    def recipe(args, kwargs, out):
        x = args[0]
        dim = _arg(args, kwargs, 1, "dim", 0)
        n, rows = _reduced(x, dim)
        return v_per * (rows * max(n - 1, 0))

    recipe.__name__ = f"cumulative({v_per})"
    return recipe


def _logcumsumexp(args, kwargs, out):
    x = args[0]
    dim = _arg(args, kwargs, 1, "dim", 0)
    n, rows = _reduced(x, dim)
    # running log-sum-exp: max, two exps, add, log per step
    return (bo(compare=1, sub=2, add=1) + EXP * 2 + LOG) * (rows * max(n - 1, 0))


def _cumsum_backward_like(args, kwargs, out):
    return bo(add=_numel(out))
