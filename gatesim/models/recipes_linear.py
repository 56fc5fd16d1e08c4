"""Recipes of the dot-product ops: matrix products, convolutions and their backward, fused attention, and the
LSTM layer of the CPU (mkldnn) kernels. Each is marked :func:`accumulating`: the counter prices its multiplies
in the input format and its adds in the accumulator format. Collected into the recipe sets by
:func:`linear_recipes` (see :mod:`gatesim.models.recipes`)."""
from __future__ import annotations

from .bo import ZERO, BOVector, bo
from .recipes import EXP, _arg, _prod, _shape
from .recipes_reduce import _softmax_rows

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


def linear_recipes(exp, sigmoid_cost, tanh_cost) -> dict:
    """Op name -> recipe for the dot-product ops, under a recipe set's exponential, sigmoid and tanh costs."""
    return {
        "mm": _mm, "bmm": _mm, "matmul": _mm, "addmm": _addmm, "baddbmm": _addmm,
        "convolution": _convolution, "_convolution": _convolution, "convolution_backward": _convolution_backward,
        "mkldnn_rnn_layer": _mkldnn_lstm(sigmoid_cost, tanh_cost),
        "mkldnn_rnn_layer_backward": _mkldnn_lstm_backward,
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
    }
