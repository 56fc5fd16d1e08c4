"""Recipes for grouped (mixture-of-experts), scaled (fp8) and integer matmuls and the quantized ops of
``torch.ao.quantization`` (see :mod:`gatesim.models.recipes_zoo` for the pricing choices)."""
from __future__ import annotations

import torch

from .bo import bo
from .recipes import _arg, _numel, _prod
from .recipes_linear import accumulating
from .recipes_select import out_fmt


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
