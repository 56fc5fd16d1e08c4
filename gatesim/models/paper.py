"""The paper's analytic counter (Algorithm 1): module-level formulas C_f, C_bp and C_loss.

Forward formulas are equations 2 and 3 of the paper; the backprop formulas (which the paper does not give)
are derived in ``docs/backprop.md`` and agree exactly with the trace counter run with the ``"paper"`` recipe
set. Supported layers: ``nn.Linear`` and ``nn.Conv2d`` (any stride, padding, groups), the activations
``nn.Sigmoid``, ``nn.Tanh``, ``nn.GELU`` (priced as the paper's tanh approximation) and ``nn.ReLU``;
``nn.Flatten``/``nn.Identity``/``nn.Unflatten`` cost nothing; a global ``nn.AdaptiveAvgPool2d(1)`` is a mean. Losses: MSE and cross-entropy. Any other layer
is reported as uncounted (an error in strict mode).
"""
from __future__ import annotations


import torch
from torch import nn

from .bo import ZERO, BOVector, bo, format_of, normalize_format
from .recipes import P_EXP, P_GELU, P_LOG, P_SIGMOID, P_TANH, _P_GELU_BW
from .report import LEVEL_PHASES, CountingError, Report

#: per-element forward cost of each activation (the paper's list order: add, sub, mul, div, root)
PAPER_ACTIVATIONS: dict[str | None, BOVector] = {
    "sigmoid": P_SIGMOID,  # 1 / (1 + e^{-x}): sub, add, div, root (eq. 2)
    "tanh": P_TANH,
    "gelu": P_GELU,  # 0.5 x (1 + tanh(...)): sub, add, div, root + 2 mul (eq. 3)
    "relu": bo(compare=1),
    None: ZERO,
}
#: per-element backward cost (dL/dxi = dL/dy * f'(xi)), see docs/backprop.md
PAPER_ACTIVATION_GRADS: dict[str | None, BOVector] = {
    "sigmoid": bo(sub=1, mul=2),  # g * y * (1 - y)
    "tanh": bo(sub=1, mul=2),  # g * (1 - y^2)
    "gelu": _P_GELU_BW,
    "relu": bo(compare=1),  # g where x > 0
    None: ZERO,
}
_ACT_MODULES = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.GELU: "gelu", nn.ReLU: "relu"}
_FREE_MODULES = (nn.Flatten, nn.Identity, nn.Unflatten)


def _act(activation) -> str | None:
    if activation is None:
        return None
    a = str(activation).lower()
    if a not in PAPER_ACTIVATIONS:
        raise CountingError(f"unknown activation {activation!r}; expected sigmoid, tanh, gelu, relu or none")
    return None if a == "none" else a


# ------------------------------------------------------------------------------------------------
# C_f: equations 2 and 3
# ------------------------------------------------------------------------------------------------
def linear_forward(i: int, o: int, activation: str | None = None, *, bias: bool = True, batch: int = 1) -> BOVector:
    """Equation 2: C_f of a full-connection layer with I inputs, O outputs and an activation.

    ``linear_forward(I, O, "sigmoid") == [(I+1)O, O, IO, O, O]`` (add, sub, mul, div, root).
    """
    potential = bo(mul=i * o, add=i * o if bias else (i - 1) * o)
    return (potential + PAPER_ACTIVATIONS[_act(activation)] * o) * batch


def conv2d_forward(m: int, k: int, c_in: int, c_out: int, activation: str | None = None, *, bias: bool = True,
                   batch: int = 1, groups: int = 1) -> BOVector:
    """Equation 3: C_f of a convolutional layer (output window m x m, kernel k x k) and its activation.

    With GELU: ``[m^2 c_out (1 + c_in k^2), m^2 c_out, m^2 c_out (2 + c_in k^2), m^2 c_out, m^2 c_out]``.
    """
    outputs = m * m * c_out
    macs = outputs * (c_in // groups) * k * k
    conv = bo(mul=macs, add=macs if bias else macs - outputs)
    return (conv + PAPER_ACTIVATIONS[_act(activation)] * outputs) * batch


# ------------------------------------------------------------------------------------------------
# C_bp (derived in docs/backprop.md)
# ------------------------------------------------------------------------------------------------
def linear_backward(i: int, o: int, activation: str | None = None, *, bias: bool = True, batch: int = 1,
                    input_grad: bool = True) -> BOVector:
    """C_bp of a full-connection layer on a batch of B instances.

    delta = g * f'(xi) (B O elements); dW = delta^T x (B O I mul, O I (B-1) add); db = sum_batch delta
    ((B-1) O add); dx = delta W (B O I mul, B I (O-1) add) unless the layer is the first with parameters.
    """
    b = batch
    v = PAPER_ACTIVATION_GRADS[_act(activation)] * (b * o)
    v = v + bo(mul=b * o * i, add=o * i * (b - 1))
    if bias:
        v = v + bo(add=(b - 1) * o)
    if input_grad:
        v = v + bo(mul=b * o * i, add=b * i * (o - 1))
    return v


def conv2d_backward(h_in: int, m: int, k: int, c_in: int, c_out: int, activation: str | None = None, *,
                    bias: bool = True, batch: int = 1, input_grad: bool = True, groups: int = 1,
                    w_in: int | None = None, w_out: int | None = None) -> BOVector:
    """C_bp of a convolutional layer (input h_in x w_in, output m x w_out, kernel k x k) on B instances.

    delta = g * f'(xi); dW = correlation of x with delta (MACs = forward MACs; adds = MACs - |W|);
    db = sum of delta over batch and positions; dx = transposed convolution of delta with W
    (MACs = forward MACs; adds = MACs - |x|) unless this is the first layer with parameters.
    """
    w_in = h_in if w_in is None else w_in
    w_out = m if w_out is None else w_out
    b = batch
    outputs = b * c_out * m * w_out
    macs = outputs * (c_in // groups) * k * k
    v = PAPER_ACTIVATION_GRADS[_act(activation)] * outputs
    v = v + bo(mul=macs, add=macs - c_out * (c_in // groups) * k * k)
    if bias:
        v = v + bo(add=outputs - c_out)
    if input_grad:
        v = v + bo(mul=macs, add=macs - b * c_in * h_in * w_in)
    return v


# ------------------------------------------------------------------------------------------------
# C_loss
# ------------------------------------------------------------------------------------------------
def loss_forward(loss: str, batch: int, outputs: int) -> BOVector:
    """C_loss on the output layer: MSE (mean over B O elements) or cross-entropy over O classes."""
    n = batch * outputs
    if loss == "mse":  # mean((y - t)^2)
        return bo(sub=n, mul=n, add=n - 1, div=1)
    if loss == "cross-entropy":  # log_softmax (max, shift, exp, sum, log, shift) + mean of -picked
        return (bo(compare=batch * (outputs - 1), sub=2 * n, add=batch * (outputs - 1)) + P_EXP * n + P_LOG * batch
                + bo(add=batch - 1, sub=1, div=1))
    raise CountingError(f"unknown loss {loss!r}; expected mse or cross-entropy")


def loss_backward(loss: str, batch: int, outputs: int) -> BOVector:
    """dL/dy of the loss, the first step of backprop."""
    n = batch * outputs
    if loss == "mse":  # (2 g / N) (y - t)
        return bo(sub=n, mul=n + 1, div=1)
    if loss == "cross-entropy":  # softmax(y) - onehot, scaled by g / B
        return bo(sub=1, div=1) + bo(add=batch * (outputs - 1), mul=n, sub=n) + P_EXP * n
    raise CountingError(f"unknown loss {loss!r}; expected mse or cross-entropy")


# ------------------------------------------------------------------------------------------------
# Algorithm 1 over a model
# ------------------------------------------------------------------------------------------------
def _layers(model: nn.Module, inputs: tuple) -> list[tuple[str, nn.Module, tuple, tuple]]:
    """Leaf modules in call order with their input and output shapes (one shape-only forward)."""
    names = {mod: "model" + ("." + n if n else "") for n, mod in model.named_modules()}
    calls: list = []
    hooks = []

    def hook(mod, inp, out):
        x = inp[0] if inp else None
        calls.append((names.get(mod, type(mod).__name__), mod, tuple(x.shape) if isinstance(x, torch.Tensor) else (),
                      tuple(out.shape) if isinstance(out, torch.Tensor) else ()))

    leaves = [m for m in model.modules() if not list(m.children())] or [model]
    for m in leaves:
        hooks.append(m.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(*inputs)
    except Exception as e:
        raise CountingError(f"shape pass failed: {type(e).__name__}: {e}") from e
    finally:
        for h in hooks:
            h.remove()
    return calls


def count_paper(model, inputs=None, *, input_shape=None, level: str = "training", loss: str = "mse",
                strict: bool = False, dtype=None, fmt: str | None = None, device: str = "meta") -> Report:
    """Algorithm 1 on ``model``: per-layer C_f (phase forward), C_bp (phase backward, including dL/dy of the
    loss under ``(loss)``) and C_loss (phase loss, under ``(loss)``), for a batch given by the input shape."""
    from .trace import _resolve_dtype, make_inputs, prepare_model

    if level not in LEVEL_PHASES:
        raise CountingError(f"unknown level {level!r}; expected one of {', '.join(LEVEL_PHASES)}")
    if loss not in ("mse", "cross-entropy"):
        raise CountingError(f"the paper counter supports losses mse and cross-entropy, not {loss!r}")
    m = prepare_model(model, device, dtype)
    if inputs is None:
        if input_shape is None:
            raise CountingError("give inputs or input_shape")
        inputs = make_inputs(m, input_shape, None, dtype, device)
    elif isinstance(inputs, torch.Tensor):
        inputs = (inputs,)
    inputs = tuple(x.to(device) for x in inputs)
    m.train(level == "training")
    calls = _layers(m, inputs)
    dt = _resolve_dtype(dtype) or next((p.dtype for p in m.parameters()), torch.float32)
    f = normalize_format(fmt) if fmt else format_of(dt)
    phases = LEVEL_PHASES[level]
    report = Report(level=level, counter="paper", recipes=None, phases=phases)
    seen_params = False
    out_shape: tuple = ()
    for name, mod, xs, ys in calls:
        out_shape = ys or out_shape
        report.op_counts[type(mod).__name__] += 1
        if isinstance(mod, nn.Linear):
            rows = _prod(xs) // mod.in_features
            fwd = linear_forward(mod.in_features, mod.out_features, None, bias=mod.bias is not None, batch=rows)
            bwd = linear_backward(mod.in_features, mod.out_features, None, bias=mod.bias is not None, batch=rows,
                                  input_grad=seen_params)
            flops = 2 * rows * mod.in_features * mod.out_features
            fl_f, fl_b = flops, flops * (2 if seen_params else 1)
            seen_params = True
        elif isinstance(mod, nn.Conv2d):
            if mod.padding_mode != "zeros":
                raise CountingError(f"{name}: padding_mode {mod.padding_mode!r} is not supported by the paper counter")
            b = xs[0] if len(xs) == 4 else 1
            kh, kw = mod.kernel_size
            h_in, w_in = xs[-2], xs[-1]
            m_h, m_w = ys[-2], ys[-1]
            outputs = b * mod.out_channels * m_h * m_w
            macs = outputs * (mod.in_channels // mod.groups) * kh * kw
            has_b = mod.bias is not None
            fwd = bo(mul=macs, add=macs if has_b else macs - outputs)
            if kh == kw and m_h == m_w:
                assert fwd == conv2d_forward(m_h, kh, mod.in_channels, mod.out_channels, bias=has_b, batch=b,
                                             groups=mod.groups)
            wsize = mod.out_channels * (mod.in_channels // mod.groups) * kh * kw
            bwd = bo(mul=macs, add=macs - wsize)
            if has_b:
                bwd = bwd + bo(add=outputs - mod.out_channels)
            if seen_params:
                bwd = bwd + bo(mul=macs, add=macs - b * mod.in_channels * h_in * w_in)
            fl_f, fl_b = 2 * macs, 2 * macs * (2 if seen_params else 1)
            seen_params = True
        elif type(mod) in _ACT_MODULES:
            a = _ACT_MODULES[type(mod)]
            n = _prod(ys)
            fwd = PAPER_ACTIVATIONS[a] * n
            bwd = PAPER_ACTIVATION_GRADS[a] * n if seen_params else ZERO
            fl_f = fl_b = 0
        elif isinstance(mod, nn.AdaptiveAvgPool2d) and tuple(ys[-2:]) == (1, 1):
            # global average pool (the paper CNN's head): a mean per channel; its gradient g / n per input
            fwd = bo(add=_prod(xs) - _prod(ys), div=_prod(ys))
            bwd = bo(div=_prod(xs)) if seen_params else ZERO
            fl_f = fl_b = 0
        elif isinstance(mod, _FREE_MODULES) or (isinstance(mod, nn.Dropout) and (not mod.training or mod.p == 0)):
            continue
        else:
            if strict:
                raise CountingError(f"the paper counter has no formula for {name} ({type(mod).__name__}); "
                                    f"use --counter trace")
            report.uncounted[type(mod).__name__] += 1
            report.uncounted_where.setdefault(type(mod).__name__, (name, "forward"))
            continue
        report.add(name, "forward", f, fwd, fl_f)
        if "backward" in phases:
            report.add(name, "backward", f, bwd, fl_b)
    if "loss" in phases:
        if not out_shape:
            raise CountingError("the model produced no output")
        classes = out_shape[-1] if len(out_shape) >= 1 else 1
        batch = _prod(out_shape) // classes
        if loss == "mse":
            report.add("(loss)", "loss", f, loss_forward("mse", batch, classes))
            if "backward" in phases:
                report.add("(loss)", "backward", f, loss_backward("mse", batch, classes))
        else:
            report.add("(loss)", "loss", f, loss_forward("cross-entropy", batch, classes))
            if "backward" in phases:
                report.add("(loss)", "backward", f, loss_backward("cross-entropy", batch, classes))
    return report


def _prod(xs) -> int:
    p = 1
    for x in xs:
        p *= int(x)
    return p
