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
* **_grouped_mm** (mixture-of-experts experts) and **_scaled_mm** (fp8 with scales) are dot products:
  multiplies in the input format, adds (and the scale multiplies) in the accumulator format.
"""
from __future__ import annotations

from typing import Any

import torch

from .bo import ZERO, BOVector, bo
from .recipes import EXP, LOG, SIN, SQRT, TANH, _arg, _numel, _prod, _reduced, accumulating

INDEX_FORMAT = "int64"


def _log2ceil(n: int) -> int:
    return max(int(n) - 1, 0).bit_length()


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


def out_fmt(out) -> str:
    from .bo import format_of

    o = out[0] if isinstance(out, (list, tuple)) else out
    return format_of(o.dtype)


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
    g, x, grid = args[0], args[1], args[2]
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
    v, g = args[0], args[1]
    dim = _arg(args, kwargs, 2, "dim", 0)
    rows = v.shape[dim] if v.dim() else 1
    n = v.numel() // rows if rows else 0
    # ||v|| per slice (n mul, n-1 add, root), g / ||v|| (div), w = v * that (mul)
    return bo(mul=rows * n + v.numel(), add=rows * (n - 1), root=rows, div=rows)


def _weight_norm_backward(args, kwargs, out):
    gw, v = args[0], args[1]
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
    g, x, shape = args[0], args[1], args[2]
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
    from .recipes import GELU, _addmm

    use_gelu = _arg(args, kwargs, 5, "use_gelu", False)
    v = _addmm(args, kwargs, out)
    return v + (GELU if use_gelu else bo(compare=1)) * out.numel()


def _cdist(args, kwargs, out):
    x1, x2 = args[0], args[1]
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
    a, b = args[0], args[1]
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


# -- grouped, scaled and integer matmuls, quantized ops -------------------------------------------------------------
def _grouped_macs(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor, offs) -> tuple[int, int]:
    """(multiplies, adds) of ``_grouped_mm``: 2D x 3D (tokens routed to experts), 3D x 3D (batched),
    2D x 2D (per-group weight gradients: offsets split the contraction dim), 3D x 2D."""
    groups = offs.numel() if isinstance(offs, torch.Tensor) else 1
    if a.dim() == 2 and b.dim() == 3:
        s, k = a.shape
        n = b.shape[-1]
        return s * k * n, s * n * (k - 1)
    if a.dim() == 3 and b.dim() == 3:
        g, m, k = a.shape
        n = b.shape[-1]
        return g * m * n * k, g * m * n * (k - 1)
    if a.dim() == 2 and b.dim() == 2:
        m, s = a.shape
        n = b.shape[-1]
        return m * s * n, m * n * max(s - groups, 0)
    # 3D x 2D: each group's rows of b against its own a
    g, m, k = a.shape
    n = b.shape[-1]
    return m * k * n, m * n * max(k - 1, 0) if n else 0


@accumulating
def _grouped_mm(args, kwargs, out):
    a, b = args[0], args[1]
    offs = _arg(args, kwargs, 2, "offs")
    bias = _arg(args, kwargs, 3, "bias")
    muls, adds = _grouped_macs(a, b, out, offs)
    return bo(mul=muls, add=adds + (out.numel() if bias is not None else 0))


def _grouped_mm_flops(args, kwargs, out):
    a, b = args[0], args[1]
    muls, _ = _grouped_macs(a, b, out, _arg(args, kwargs, 2, "offs"))
    return 2 * muls


def _scaled_mm(args, kwargs, out):
    a, b = args[0], args[1]
    bias = _arg(args, kwargs, 4, "bias")
    m, k = a.shape[-2], a.shape[-1]
    n = b.shape[-1]
    o = m * n
    # fp8 products, fp32 accumulation, then the dequantizing scales (scale_a * scale_b per output) and bias
    return {"in": bo(mul=m * n * k), "acc": bo(add=o * (k - 1) + (o if bias is not None else 0), mul=2 * o)}


def _int_mm(args, kwargs, out):
    a, b = args[0], args[1]
    m, k = a.shape
    n = b.shape[-1]
    return {"in": bo(mul=m * n * k), "acc": bo(add=m * n * (k - 1))}


#: per element: x * (1/scale) + zero point, round, clamp to the integer range
QUANTIZE = bo(mul=1, add=1, compare=3)
#: per element: (q - zero point) * scale
DEQUANTIZE = bo(sub=1, mul=1)


def _quantize(args, kwargs, out):
    x = args[0]
    return {"fp32" if not x.is_floating_point() else out_fmt(x): QUANTIZE * x.numel()}


def _quantize_dynamic(args, kwargs, out):
    x = args[0]
    n = x.numel()
    # min and max of the tensor, scale = (max - min) / 255 and zero point, then quantize
    return {out_fmt(x): QUANTIZE * n + bo(compare=2 * max(n - 1, 0), sub=1, div=2, add=1)}


def _dequantize(args, kwargs, out):
    x = args[0]
    n = x.numel() if isinstance(x, torch.Tensor) else sum(t.numel() for t in x)
    return {"fp32": DEQUANTIZE * n}


def _fake_quantize(args, kwargs, out):
    n = args[0].numel()
    return QUANTIZE * n + DEQUANTIZE * n


def _unpack(packed):
    """(weight, bias) of a quantized packed-parameter object, or (None, None)."""
    for attempt in (lambda p: p.unpack(), lambda p: torch.ops.quantized.linear_unpack(p),
                    lambda p: torch.ops.quantized.conv2d_unpack(p)):
        try:
            w, b = attempt(packed)
            return w, b
        except Exception:
            continue
    return None, None


def _int8_dot(in_fmt: str, macs: int, adds: int) -> dict:
    return {in_fmt: bo(mul=macs), "int32": bo(add=adds)}


def _qlinear(dynamic: bool):
    def recipe(args, kwargs, out):
        x, packed = args[0], args[1]
        i = x.shape[-1]
        o = out.shape[-1]
        rows = x.numel() // i if i else 0
        w, b = _unpack(packed)
        macs = rows * o * i
        parts = _int8_dot("int8", macs, rows * o * (i - 1))
        # output: (acc - zero-point corrections) * combined scale (+ bias), per output
        post = bo(sub=rows * o, mul=rows * o, add=rows * o if b is not None else 0)
        if dynamic:
            pre = QUANTIZE * x.numel() + bo(compare=2 * max(x.numel() - 1, 0), sub=1, div=2, add=1)
            parts["fp32"] = pre + post
        else:
            parts["fp32"] = post + bo(add=rows * o, compare=3 * rows * o)  # requantize: + zero point, round, clamp
        return parts

    recipe.__name__ = "quantized_linear_dynamic" if dynamic else "quantized_linear"
    return recipe


def _qconv(relu: bool):
    def recipe(args, kwargs, out):
        x, packed = args[0], args[1]
        w, b = _unpack(packed)
        per_out = _prod(w.shape[1:]) if w is not None else x.shape[1]
        n = out.numel()
        parts = _int8_dot("int8", n * per_out, n * max(per_out - 1, 0))
        parts["fp32"] = bo(sub=n, mul=n, add=n * (2 if b is not None else 1), compare=n * (4 if relu else 3))
        return parts

    recipe.__name__ = "quantized_conv_relu" if relu else "quantized_conv"
    return recipe


def _qbinary(kind: str, relu: bool):
    def recipe(args, kwargs, out):
        n = _numel(out)
        # dequantize both (2 x (sub, mul)), the op, requantize (mul, add, 3 compare)
        v = DEQUANTIZE * (2 * n) + QUANTIZE * n + bo(**{kind: n})
        if relu:
            v = v + bo(compare=n)
        return {"fp32": v}

    recipe.__name__ = f"quantized_{kind}"
    return recipe


def _qrequant_pointwise(extra):
    def recipe(args, kwargs, out):
        n = _numel(out)
        return {"fp32": (DEQUANTIZE + QUANTIZE + extra) * n}

    recipe.__name__ = "quantized_pointwise"
    return recipe


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
        "count_nonzero": _count_nonzero, "one_hot": _one_hot, "tril": _tri, "triu": _tri, "arange": _arange,
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


def _grouped_mm_shape(args, kwargs) -> tuple[list[int], torch.dtype]:
    a, b = args[0], args[1]
    offs = _arg(args, kwargs, 2, "offs")
    dtype = kwargs.get("out_dtype") or (args[4] if len(args) > 4 and args[4] is not None else a.dtype)
    if a.dim() == 2 and b.dim() == 3:
        return [a.shape[0], b.shape[-1]], dtype
    if a.dim() == 3 and b.dim() == 3:
        return [a.shape[0], a.shape[1], b.shape[-1]], dtype
    if a.dim() == 2 and b.dim() == 2:
        return [offs.numel(), a.shape[0], b.shape[-1]], dtype
    return [a.shape[1], b.shape[-1]], dtype


#: ops whose meta kernel is stricter than the real kernels (dtype, alignment): on meta and fake tensors their
#: output is made from these shape rules when the meta kernel refuses
META_SHAPES = {"aten._grouped_mm": _grouped_mm_shape}

#: FLOP formulas torch.utils.flop_counter lacks
ZOO_FLOPS = {"aten._grouped_mm": _grouped_mm_flops}
