"""Recipes for the ops real models emit beyond the core set of :mod:`gatesim.models.recipes`: sorting and
selection, scatter/gather/index arithmetic, cumulative ops, upsampling and grid sampling, bit-wise and logical
ops, random numbers, FFTs and complex magnitudes, grouped and scaled (fp8) matmuls, int8 matmuls and the
quantized ops of ``torch.ao.quantization``, and the activations and norms the zoos use.

Pricing choices (each is a recipe: override it with :meth:`RecipeSet.register`):

* **sort** is priced as a *bitonic sorting network* on each row padded to a power of two N = 2^k:
  N/2 · k(k+1)/2 compare-exchanges, data independent, the network GPU segmented sorts run (radix sorts, which
  compare nothing, are the other GPU choice; a comparison sort's n·log2 n is the lower bound). **topk** keeps a
  binary heap of the k best: n·(1 + ⌈log2 k⌉) compares worst case, plus a bitonic sort of the k results when
  ``sorted``. **kthvalue / median** select with the same heap (k = the rank). **unique** sorts then compares
  neighbours; **searchsorted / bucketize** do ⌈log2(n + 1)⌉ compares per value (binary search).
* **bit-wise and logical ops** (and, or, xor, not, shifts) have no BO of their own: each is priced as one
  *compare* on its format, the cheapest unit a transistor table has (an upper bound: a w-bit AND is w gates).
* **index arithmetic** (tril/triu masks, arange) is counted in int64, the format indices are computed in.
* **random numbers**: uniform = scale and shift (mul, add); normal = Box-Muller (one log and one root per pair,
  a sine or cosine, three muls per value); the generator's integer rounds are not priced.
* **upsampling**: nearest computes one source index per output row/column (mul); linear, bilinear, trilinear
  and bicubic interpolate (2/6/14/20 mul and 1/3/7/15 add per output); backward scatters each gradient back.
* **FFT**: radix-2, (n/2)·⌈log2 n⌉ butterflies of one complex multiply and two complex adds (4 mul, 3 add,
  3 sub); half that for real-input (r2c) and real-output (c2r) transforms.
* **quantized int8**: quantize = x/scale + zero point, round and clamp (mul, add, 3 compare); dequantize =
  (q - zero point) · scale; int8 matmuls multiply in int8 (an 8-bit multiplier, whether the activations are
  uint8 or int8) and accumulate in int32; the
  requantization of each output is a multiply, zero-point corrections and a clamp in fp32.
* **_euclidean_dist** (``cdist``: a codec's nearest code) as ATen computes it: norms and one matmul.
* **linalg_solve_triangular** (chunked linear attention): substitution, n(n-1)/2 multiply-subtracts and n divisions
  per right-hand side.
* **_grouped_mm** (mixture-of-experts experts) and **_scaled_mm** (fp8 with scales) are dot products:
  multiplies in the input format, adds (and the scale multiplies) in the accumulator format.
"""
from __future__ import annotations

from typing import Any

from .bo import ZERO, BOVector, bo
from .recipes import EXP, LOG, SIN, SQRT, TANH, _arg, _numel, _prod, _reduced
from .recipes_quant import (_dequantize, _fake_quantize, _grouped_mm, _grouped_mm_flops,  # noqa: F401
                            _int_mm, _qbinary, _qconv, _qlinear, _qrequant_pointwise, _quantize, _quantize_dynamic,
                            _scaled_mm)
from .recipes_select import (_arange, _eye, _bincount, _bucketize, _count_nonzero, _cum,  # noqa: F401
                             _embedding_bag, _embedding_bag_backward, _histc, _index_add, _index_reduce, _isin,
                             _kthvalue, _log2ceil, _logcumsumexp, _median, _nonzero, _one_hot, _rows, _scatter,
                             _scatter_reduce, _searchsorted, _sort, _topk, _tri, _unique, _unique_consecutive,
                             bitonic_compares, out_fmt)

# -- upsampling, grid sampling, padding ------------------------------------------------------------------------
def _spatial_rows(out_shape, spatial: int) -> int:
    return sum(int(s) for s in out_shape[-spatial:]) if spatial else 0


def _upsample(spatial: int, mul: int, add: int, nearest: bool = False):
    def recipe(args, kwargs, out):
        o = out
        if nearest:
            return bo(mul=_spatial_rows(tuple(o.shape), spatial))  # one source index per output row/column
        return bo(mul=mul * o.numel(), add=add * o.numel()) + bo(mul=2 * _spatial_rows(tuple(o.shape), spatial))

    recipe.__name__ = f"upsample_{'nearest' if nearest else 'interp'}{spatial}d"
    return recipe


def _upsample_backward(taps: int, nearest: bool = False):
    def recipe(args, kwargs, out):
        g = args[0]
        gi = out
        if nearest:
            return bo(add=max(g.numel() - gi.numel(), 0))
        return bo(mul=taps * g.numel(), add=taps * g.numel())

    recipe.__name__ = "upsample_backward"
    return recipe


def _grid_sampler(args, kwargs, out):
    x, grid = args[0], args[1]
    mode = _arg(args, kwargs, 2, "interpolation_mode", 0)
    c = x.shape[1]
    locs = grid.numel() // grid.shape[-1]
    dims = grid.shape[-1]
    v = bo(mul=2 * dims * locs, add=2 * dims * locs)  # unnormalize each coordinate
    taps = 2 ** dims
    if mode == 0:  # bilinear / trilinear
        v = v + bo(mul=locs * taps * (dims - 1), sub=locs * dims) + bo(mul=taps * c * locs, add=(taps - 1) * c * locs)
    elif mode == 2:  # bicubic
        v = v + bo(mul=20 * c * locs, add=15 * c * locs)
    return v


def _grid_sampler_backward(args, kwargs, out):
    x, grid = args[1], args[2]
    c = x.shape[1]
    locs = grid.numel() // grid.shape[-1]
    taps = 2 ** grid.shape[-1]
    return bo(mul=2 * taps * c * locs, add=2 * taps * c * locs)


def _pad_backward(args, kwargs, out):
    g = args[0]
    return bo(add=max(g.numel() - _numel(out), 0))


def _col2im(args, kwargs, out):
    return bo(add=max(args[0].numel() - _numel(out), 0))


# -- activations, norms, misc arithmetic --------------------------------------------------------------------------
def _weight_norm(args, kwargs, out):
    v = args[0]
    dim = _arg(args, kwargs, 2, "dim", 0)
    rows = v.shape[dim] if v.dim() else 1
    n = v.numel() // rows if rows else 0
    # ||v|| per slice (n mul, n-1 add, root), g / ||v|| (div), w = v * that (mul)
    return bo(mul=rows * n + v.numel(), add=rows * (n - 1), root=rows, div=rows)


def _weight_norm_backward(args, kwargs, out):
    v = args[1]
    dim = _arg(args, kwargs, 4, "dim", 0)
    rows = v.shape[dim] if v.dim() else 1
    n = v.numel() // rows if rows else 0
    # grad_g = sum(gw * v) / ||v||; grad_v = g/||v|| * (gw - v * grad_g / ||v||)
    return bo(mul=rows * n * 4, add=rows * (n - 1), sub=rows * n, div=rows * 2)


def _rms_norm(args, kwargs, out):
    x, shape = args[0], args[1]
    w = _arg(args, kwargs, 2, "weight")
    n = _prod(shape)
    rows = x.numel() // n if n else 0
    # mean of squares (n mul, n-1 add, div), + eps, rsqrt (root, div), scale (n mul), weight (n mul)
    return bo(mul=rows * n * (3 if w is not None else 2), add=rows * n, div=rows * 2, root=rows)


def _rms_norm_backward(args, kwargs, out):
    x, shape = args[1], args[2]
    n = _prod(shape)
    rows = x.numel() // n if n else 0
    return bo(mul=rows * n * 5, add=rows * 2 * (n - 1), sub=rows * n, div=rows)


def _logsumexp(args, kwargs, out):
    x = args[0]
    dim = _arg(args, kwargs, 1, "dim")
    n, rows = _reduced(x, dim)
    return bo(compare=rows * (n - 1), sub=rows * n, add=rows * n) + EXP * (rows * n) + LOG * rows


def _prelu(args, kwargs, out):
    n = _numel(out)
    return bo(compare=n, mul=n)


def _prelu_backward(args, kwargs, out):
    g = args[0]
    n = g.numel()
    w = args[2]
    return bo(compare=n, mul=2 * n, add=max(n - w.numel(), 0))


def _glu(args, kwargs, out):
    n = _numel(out)
    from .recipes import SIGMOID

    return (SIGMOID + bo(mul=1)) * n


def _glu_backward(args, kwargs, out):
    n = args[0].numel()
    from .recipes import SIGMOID

    return (SIGMOID + bo(mul=3, sub=1)) * n


def _log_sigmoid_forward(args, kwargs, out):
    n = args[0].numel()
    # -softplus(-x) = min(x, 0) - log1p(exp(-|x|))
    return (EXP + LOG + bo(compare=2, add=1, sub=2)) * n


def _log_sigmoid_backward(args, kwargs, out):
    n = args[0].numel()
    return (bo(compare=1, add=1, div=1, mul=1, sub=1)) * n


def _addmm_activation(args, kwargs, out):
    from .recipes import GELU
    from .recipes_linear import _addmm

    use_gelu = _arg(args, kwargs, 5, "use_gelu", False)
    v = _addmm(args, kwargs, out)
    return v + (GELU if use_gelu else bo(compare=1)) * out.numel()


def _cdist(args, kwargs, out):
    x1 = args[0]
    p = _arg(args, kwargs, 2, "p", 2.0)
    d = x1.shape[-1]
    pairs = out.numel()
    v = bo(sub=pairs * d, add=pairs * (d - 1))
    if p == 2:
        v = v + bo(mul=pairs * d, root=pairs)
    elif p == 1:
        v = v + bo(compare=pairs * d)
    else:
        v = v + (EXP + LOG + bo(mul=1)) * (pairs * d)
    return v


def _dot(args, kwargs, out):
    a = args[0]
    n = a.shape[-1]
    rows = _numel(out)
    return bo(mul=rows * n, add=rows * (n - 1))


def _mv(args, kwargs, out):
    a = args[0]
    m, n = a.shape[-2], a.shape[-1]
    return bo(mul=m * n, add=m * (n - 1))


def _addmv(args, kwargs, out):
    a = args[1]
    m, n = a.shape[-2], a.shape[-1]
    return bo(mul=m * n, add=m * n)


def _addr(args, kwargs, out):
    n = _numel(out)
    return bo(mul=n, add=n)


def _addbmm(args, kwargs, out):
    a, b = args[1], args[2]
    bt, m, k = a.shape
    n = b.shape[-1]
    return bo(mul=bt * m * n * k, add=bt * m * n * k)


def _trig(extra: Any):
    return SIN + extra


def _abs(args, kwargs, out):
    x = args[0]
    n = _numel(out)
    if x.is_complex():  # |a + bi| = sqrt(a^2 + b^2), in the real format
        return {out_fmt(out): bo(mul=2 * n, add=n, root=n)}
    return bo(compare=n)


def _angle(args, kwargs, out):
    n = _numel(out)
    return {out_fmt(out): (bo(div=1, compare=2, add=1) + SIN) * n}  # atan2 by a polynomial


def _polar(args, kwargs, out):
    n = args[0].numel()
    return {out_fmt(args[0]): (SIN * 2 + bo(mul=2)) * n}


# -- random numbers ------------------------------------------------------------------------------------------------
def _uniform(args, kwargs, out):
    n = _numel(out) or _numel(args[0])
    return bo(mul=n, add=n)


def _normal(args, kwargs, out):
    n = _numel(out) or _numel(args[0])
    pairs = (n + 1) // 2
    return (LOG + SQRT + bo(mul=1)) * pairs + (SIN + bo(mul=3)) * n


def _randperm(args, kwargs, out):
    n = int(args[0])
    return bo(compare=bitonic_compares(n)) + _uniform((), {}, out)  # sort n random keys


def _exponential(args, kwargs, out):
    n = _numel(out) or _numel(args[0])
    return (LOG + bo(mul=1, sub=1)) * n


def _bernoulli(args, kwargs, out):
    n = _numel(out) or _numel(args[0])
    return bo(compare=n)


def _multinomial(args, kwargs, out):
    probs = args[0]
    k = int(_arg(args, kwargs, 1, "num_samples", 1))
    n, rows = _rows(probs, -1)
    # cumulative distribution (n-1 adds), normalize (n divs), k uniform draws each binary-searched
    return bo(add=rows * (n - 1), div=rows * n) + bo(compare=rows * k * (_log2ceil(n + 1) or 1), mul=rows * k)


# -- FFT --------------------------------------------------------------------------------------------------------------
def _butterflies(shape, dims) -> int:
    total = 0
    n_all = _prod(shape)
    for d in dims:
        n = int(shape[d])
        if n > 1:
            total += (n_all // n) * (n // 2) * _log2ceil(n)
    return total


def _fft(half: bool):
    def recipe(args, kwargs, out):
        x = args[0]
        dims = _arg(args, kwargs, 1, "dim")
        dims = [dims] if isinstance(dims, int) else list(dims)
        shape = list(x.shape if not half or not x.is_complex() else out.shape)
        b = _butterflies(shape, [d % len(shape) for d in dims])
        if half:
            b = (b + 1) // 2
        v = bo(mul=4 * b, add=3 * b, sub=3 * b)
        fmt = out_fmt(out) if not out.is_complex() else _real_of(out.dtype)
        return {fmt: v}

    recipe.__name__ = "fft_half" if half else "fft"
    return recipe


def _real_of(dtype) -> str:
    from .bo import COMPLEX_PARTS, format_of

    f = format_of(dtype)
    return COMPLEX_PARTS.get(f, f)


# -- losses and detection ops ---------------------------------------------------------------------------------------------
def _reduction(n: int, reduction) -> BOVector:
    if reduction in (1, 2):  # mean, sum
        return bo(add=max(n - 1, 0), div=1 if reduction == 1 else 0)
    return ZERO


def _bce_logits(args, kwargs, out):
    x = args[0]
    n = x.numel()
    w = _arg(args, kwargs, 2, "weight")
    pw = _arg(args, kwargs, 3, "pos_weight")
    # max(x, 0) - x y + log(1 + exp(-|x|))
    v = (bo(compare=2, mul=1, sub=2, add=1) + EXP + LOG) * n
    if w is not None:
        v = v + bo(mul=n)
    if pw is not None:
        v = v + bo(mul=2 * n, add=n)
    return v + _reduction(n, _arg(args, kwargs, 4, "reduction", 1))


def _bce_logits_backward(args, kwargs, out):
    from .recipes import SIGMOID

    n = args[1].numel()
    return (SIGMOID + bo(sub=1, mul=1)) * n + bo(div=1)


def _bce_backward(args, kwargs, out):
    n = args[1].numel()
    return bo(sub=2, mul=2, div=1) * n  # g (x - y) / (x (1 - x))


def _smooth_l1(args, kwargs, out):
    x = args[0]
    n = x.numel()
    return bo(sub=2, compare=2, mul=2, div=1) * n + _reduction(n, _arg(args, kwargs, 2, "reduction", 1))


def _smooth_l1_backward(args, kwargs, out):
    n = args[1].numel()
    return bo(sub=1, compare=2, div=1, mul=1) * n + bo(div=1)


def _l1(args, kwargs, out):
    n = args[0].numel()
    return bo(sub=1, compare=1) * n + _reduction(n, _arg(args, kwargs, 2, "reduction", 1))


#: intersection over union of two boxes: 4 max/min, clamp of width and height, areas, union, ratio
IOU = bo(compare=6, sub=6, mul=3, add=1, div=1)


def _nms(args, kwargs, out):
    boxes = args[0]
    n = boxes.shape[0]
    # sort by score, then (worst case) every pair's IoU against the threshold
    return bo(compare=bitonic_compares(n)) + (IOU + bo(compare=1)) * (n * (n - 1) // 2)


def _roi_align(args, kwargs, out):
    sampling = _arg(args, kwargs, 5, "sampling_ratio", -1)
    samples = (sampling if sampling and sampling > 0 else 2) ** 2
    n = out.numel()
    # per sample: bilinear weights (6 mul) and 4 taps (4 mul, 3 add); average of the samples per bin
    return bo(mul=10 * samples * n, add=3 * samples * n + (samples - 1) * n, div=n)


def _roi_align_backward(args, kwargs, out):
    sampling = _arg(args, kwargs, 8, "sampling_ratio", -1)
    samples = (sampling if sampling and sampling > 0 else 2) ** 2
    n = args[0].numel()
    return bo(mul=10 * samples * n, add=4 * samples * n, div=n)


def _roi_pool(args, kwargs, out):
    o = out[0] if isinstance(out, (list, tuple)) else out
    x = args[0]
    h, w = x.shape[-2], x.shape[-1]
    ph, pw = _arg(args, kwargs, 3, "pooled_height"), _arg(args, kwargs, 4, "pooled_width")
    per_bin = max(1, (h // max(ph, 1)) * (w // max(pw, 1)))
    return bo(compare=o.numel() * per_bin)


def _logspace(args, kwargs, out):
    n = _numel(out)
    return bo(mul=2 * n, add=n) + (EXP + LOG) * n  # base ** (start + i * step) = exp(log(base) * x)


def _all_true(args, kwargs, out):
    return bo(compare=max(args[0].numel() - 1, 0))  # a reduction of booleans


def _solve_triangular(args, kwargs, out):
    """Forward (or back) substitution, x_i = (b_i - sum_j<i a_ij x_j) / a_ii, for every right-hand side:
    n(n-1)/2 multiplies and subtractions and n divisions (none when ``unitriangular``) per column of B."""
    n = int(args[0].shape[-1])
    rhs = _numel(out) // n if n else 0
    pairs = rhs * n * (n - 1) // 2
    unit = bool(_arg(args, kwargs, 4, "unitriangular", False))
    return bo(mul=pairs, sub=pairs, div=0 if unit else rhs * n)


def _euclidean_dist(args, kwargs, out):
    """ATen's ``_euclidean_dist`` (``cdist``'s matmul path): squared norms of both sets, one matmul of
    [-2 x1, |x1|^2, 1] by [x2, 1, |x2|^2] (d + 2 terms per pair), then clamp at 0 and a square root per pair."""
    x1, x2 = args[0], args[1]
    d, n, m = int(x1.shape[-1]), int(x1.shape[-2]), int(x2.shape[-2])
    batch = _numel(out) // (n * m) if n * m else 0
    per = bo(mul=2 * n * d + m * d + n * m * (d + 2), add=(n + m) * (d - 1) + n * m * (d + 1), compare=n * m)
    return batch * (per + SQRT * (n * m))


# -- the table ---------------------------------------------------------------------------------------------------------
def zoo_recipes(exp=EXP, log=LOG, sin=SIN, tanh=TANH) -> dict:
    """Recipes keyed by op name (``aten.`` implied unless a namespace is given)."""
    logical = bo(compare=1)
    r: dict[str, Any] = {
        # sorting and selection
        "sort": _sort, "argsort": _sort, "msort": _sort, "topk": _topk, "kthvalue": _kthvalue,
        "median": _median, "nanmedian": _median, "_unique": _unique, "_unique2": _unique, "unique_dim": _unique,
        "unique_consecutive": _unique_consecutive, "searchsorted": _searchsorted, "bucketize": _bucketize,
        # scatter / gather / index arithmetic
        "scatter": _scatter, "scatter_reduce": _scatter_reduce, "index_reduce": _index_reduce,
        "index_add": _index_add, "histc": _histc, "bincount": _bincount, "nonzero": _nonzero,
        "nonzero_static": _nonzero, "argwhere": _nonzero, "masked_select": _nonzero,
        "count_nonzero": _count_nonzero, "one_hot": _one_hot, "tril": _tri, "triu": _tri, "eye": _eye, "arange": _arange,
        "linspace": _arange, "logspace": _logspace, "linalg_solve_triangular": _solve_triangular,
        "_euclidean_dist": _euclidean_dist, "_is_all_true": _all_true, "_is_any_true": _all_true,
        "isin": _isin, "_embedding_bag": _embedding_bag, "_embedding_bag_forward_only": _embedding_bag,
        "_embedding_bag_backward": _embedding_bag_backward, "_embedding_bag_dense_backward": _embedding_bag_backward,
        # cumulative
        "cumprod": _cum(bo(mul=1)), "cummax": _cum(bo(compare=1)), "cummin": _cum(bo(compare=1)),
        "logcumsumexp": _logcumsumexp, "_cummax_helper": _cum(bo(compare=1)), "_cummin_helper": _cum(bo(compare=1)),
        # bit-wise and logical: one compare each (see the module docstring)
        "bitwise_and": logical, "bitwise_or": logical, "bitwise_xor": logical, "bitwise_not": logical,
        "bitwise_left_shift": logical, "bitwise_right_shift": logical, "__and__": logical, "__or__": logical,
        "__xor__": logical, "__lshift__": logical, "__rshift__": logical, "logical_xor": logical,
        "isfinite": logical, "isposinf": logical, "isneginf": logical, "signbit": logical, "copysign": logical,
        "heaviside": bo(compare=2), "nan_to_num": bo(compare=3), "isreal": logical,
        # upsampling, grid sampling, padding backward
        "upsample_nearest1d": _upsample(1, 0, 0, True), "upsample_nearest2d": _upsample(2, 0, 0, True),
        "upsample_nearest3d": _upsample(3, 0, 0, True), "_upsample_nearest_exact1d": _upsample(1, 0, 0, True),
        "_upsample_nearest_exact2d": _upsample(2, 0, 0, True), "_upsample_nearest_exact3d": _upsample(3, 0, 0, True),
        "upsample_linear1d": _upsample(1, 2, 1), "upsample_bilinear2d": _upsample(2, 6, 3),
        "_upsample_bilinear2d_aa": _upsample(2, 6, 3), "upsample_trilinear3d": _upsample(3, 14, 7),
        "upsample_bicubic2d": _upsample(2, 20, 15), "_upsample_bicubic2d_aa": _upsample(2, 20, 15),
        "upsample_nearest1d_backward": _upsample_backward(1, True),
        "upsample_nearest2d_backward": _upsample_backward(1, True),
        "upsample_nearest3d_backward": _upsample_backward(1, True),
        "_upsample_nearest_exact1d_backward": _upsample_backward(1, True),
        "_upsample_nearest_exact2d_backward": _upsample_backward(1, True),
        "_upsample_nearest_exact3d_backward": _upsample_backward(1, True),
        "upsample_linear1d_backward": _upsample_backward(2), "upsample_bilinear2d_backward": _upsample_backward(4),
        "_upsample_bilinear2d_aa_backward": _upsample_backward(4),
        "upsample_trilinear3d_backward": _upsample_backward(8), "upsample_bicubic2d_backward": _upsample_backward(16),
        "_upsample_bicubic2d_aa_backward": _upsample_backward(16),
        "grid_sampler_2d": _grid_sampler, "grid_sampler_3d": _grid_sampler, "cudnn_grid_sampler": _grid_sampler,
        "grid_sampler_2d_backward": _grid_sampler_backward, "grid_sampler_3d_backward": _grid_sampler_backward,
        "reflection_pad1d_backward": _pad_backward, "reflection_pad2d_backward": _pad_backward,
        "reflection_pad3d_backward": _pad_backward, "replication_pad1d_backward": _pad_backward,
        "replication_pad2d_backward": _pad_backward, "replication_pad3d_backward": _pad_backward,
        "col2im": _col2im, "max_unpool2d": bo(), "max_unpool3d": bo(),
        # activations, norms, misc arithmetic
        "_weight_norm_interface": _weight_norm, "_weight_norm_interface_backward": _weight_norm_backward,
        "_fused_rms_norm": _rms_norm, "_fused_rms_norm_backward": _rms_norm_backward,
        "logsumexp": _logsumexp, "_prelu_kernel": _prelu, "_prelu_kernel_backward": _prelu_backward,
        "prelu": _prelu, "glu": _glu, "glu_backward": _glu_backward,
        "log_sigmoid_forward": _log_sigmoid_forward, "log_sigmoid_backward": _log_sigmoid_backward,
        "_addmm_activation": _addmm_activation, "_cdist_forward": _cdist, "dot": _dot, "vdot": _dot,
        "mv": _mv, "addmv": _addmv, "addr": _addr, "addbmm": _addbmm,
        "softshrink": bo(compare=2, sub=1), "hardshrink": bo(compare=2), "softshrink_backward": bo(compare=2),
        "hardshrink_backward": bo(compare=2), "rrelu_with_noise": bo(compare=1, mul=1),
        "selu": exp + bo(sub=1, mul=2, compare=1),
        "tan": sin * 2 + bo(div=1), "atan": sin + bo(div=1), "atan2": sin + bo(div=1, compare=2, add=1),
        "asin": sin + bo(root=1, mul=1, sub=1), "acos": sin + bo(root=1, mul=1, sub=2),
        "sinh": exp * 2 + bo(sub=1, mul=1), "cosh": exp * 2 + bo(add=1, mul=1), "asinh": log + bo(mul=1, add=2, root=1),
        "acosh": log + bo(mul=1, add=1, sub=1, root=1), "atanh": log + bo(add=1, sub=1, div=1, mul=1),
        "erfinv": log + bo(mul=9, add=8, root=1, div=1, sub=1), "lgamma": log * 2 + bo(mul=8, add=8, div=1),
        "digamma": log + bo(mul=8, add=8, div=2), "xlogy": log + bo(mul=1, compare=1),
        "special_xlog1py": log + bo(mul=1, add=1, compare=1), "sinc": sin + bo(mul=1, div=1, compare=1),
        "hypot": bo(mul=2, add=1, root=1), "logaddexp": exp + log + bo(compare=1, sub=1, add=1),
        "renorm": bo(mul=2, add=1, root=1, div=1, compare=1), "float_power": exp + log + bo(mul=1),
        "abs": _abs, "angle": _angle, "polar": _polar,
        # random numbers
        "uniform": _uniform, "rand": _uniform, "rand_like": _uniform, "randint": _uniform,
        "randint_like": _uniform, "randperm": _randperm, "normal": _normal, "randn": _normal, "randn_like": _normal,
        "exponential": _exponential, "bernoulli": _bernoulli, "multinomial": _multinomial,
        # FFT
        "_fft_c2c": _fft(False), "_fft_r2c": _fft(True), "_fft_c2r": _fft(True),
        # grouped, scaled, integer matmuls; quantized ops
        "_grouped_mm": _grouped_mm, "_scaled_mm": _scaled_mm, "_int_mm": _int_mm,
        "quantize_per_tensor": _quantize, "quantize_per_channel": _quantize,
        "quantize_per_tensor_dynamic": _quantize_dynamic, "dequantize": _dequantize,
        "fake_quantize_per_tensor_affine": _fake_quantize, "fake_quantize_per_channel_affine": _fake_quantize,
        "fake_quantize_per_tensor_affine_cachemask": _fake_quantize,
        "fake_quantize_per_channel_affine_cachemask": _fake_quantize,
        "_fake_quantize_per_tensor_affine_cachemask_tensor_qparams": _fake_quantize,
        "_fake_quantize_learnable_per_tensor_affine": _fake_quantize,
        "quantized.linear_dynamic": _qlinear(True), "quantized.linear_relu_dynamic": _qlinear(True),
        "quantized.linear_dynamic_fp16": None, "quantized.linear": _qlinear(False),
        "quantized.linear_relu": _qlinear(False), "quantized.conv1d": _qconv(False),
        "quantized.conv2d": _qconv(False), "quantized.conv3d": _qconv(False),
        "quantized.conv1d_relu": _qconv(True), "quantized.conv2d_relu": _qconv(True),
        "quantized.conv3d_relu": _qconv(True), "quantized.add": _qbinary("add", False),
        "quantized.add_relu": _qbinary("add", True), "quantized.mul": _qbinary("mul", False),
        "quantized.mul_relu": _qbinary("mul", True), "quantized.add_scalar": _qrequant_pointwise(bo(add=1)),
        "quantized.mul_scalar": _qrequant_pointwise(bo(mul=1)), "quantized.cat": _qrequant_pointwise(bo()),
        "quantized.batch_norm2d": _qrequant_pointwise(bo(mul=1, add=1)),
        "quantized.hardswish": _qrequant_pointwise(bo(add=1, div=1, mul=1, compare=2)),
        "quantized.layer_norm": _qrequant_pointwise(bo(mul=3, add=3, sub=1)),
        # losses and detection
        "binary_cross_entropy_with_logits": _bce_logits, "binary_cross_entropy_backward": _bce_backward,
        "smooth_l1_loss": _smooth_l1, "smooth_l1_loss_backward": _smooth_l1_backward, "huber_loss": _smooth_l1,
        "huber_loss_backward": _smooth_l1_backward, "l1_loss": _l1,
        "torchvision.nms": _nms, "torchvision.roi_align": _roi_align, "torchvision._roi_align_backward": _roi_align_backward,
        "torchvision.roi_pool": _roi_pool, "torchvision.ps_roi_align": _roi_align,
        "torchvision.ps_roi_pool": _roi_pool,
    }
    return {k: v for k, v in r.items() if v is not None}


#: FLOP formulas torch.utils.flop_counter lacks
ZOO_FLOPS = {"aten._grouped_mm": _grouped_mm_flops}
