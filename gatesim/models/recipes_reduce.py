"""Recipes of reductions, normalization, pooling, losses, dropout and the small pointwise ops that read their
arguments (``add`` with ``alpha``, ``where``, ``pow``). Collected into the recipe sets by
:func:`reduction_recipes` (see :mod:`gatesim.models.recipes`)."""
from __future__ import annotations

import math

import torch

from .bo import ZERO, BOVector, bo
from .recipes import EXP, LOG, _arg, _numel, _prod, _reduced

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


def _softmax_rows(rows, n, exp=EXP) -> BOVector:
    # max (n-1 compares), x - max (n subs), exp, sum (n-1 adds), normalise (n divs)
    return bo(compare=rows * (n - 1), sub=rows * n, add=rows * (n - 1), div=rows * n) + exp * (rows * n)


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


def reduction_recipes(exp, log) -> dict:
    """Op name -> recipe for reductions, normalization, pooling, losses and dropout, under a recipe set's
    exponential and logarithm costs."""
    return {
        "add": _add_alpha("add"), "sub": _add_alpha("sub"), "where": _where, "masked_fill": _where,
        "native_dropout": _dropout, "native_dropout_backward": _dropout_backward,
        "pow": _pow_scalar(exp, log),
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
        "mse_loss": _mse, "mse_loss_backward": _mse_backward,
        "nll_loss_forward": _nll, "nll_loss_backward": _nll_backward,
        "nll_loss2d_forward": _nll, "nll_loss2d_backward": _nll_backward,
        "binary_cross_entropy": _bce,
    }
