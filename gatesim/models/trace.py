"""Driving a model through one step (forward, loss, backward, optimizer) under the trace counter
(:class:`~gatesim.models.counter.TraceCounter`), on meta tensors first and falling back to fake and real ones.

By default the model runs on ``meta`` tensors (shapes only: no memory, no arithmetic), so counting a
multi-billion-parameter model is cheap; ``device="fake"`` uses ``FakeTensorMode`` (CPU kernels' choices,
e.g. the fused CPU flash attention) and any real device runs real arithmetic.
"""
from __future__ import annotations

import contextlib
import copy
import warnings

import torch
from torch import nn

from .bo import dtype_of, normalize_format
from .counter import TraceCounter  # noqa: F401  (gatesim.models.trace.TraceCounter, as before)
from .recipes import RecipeSet, get_recipes
from .report import LEVEL_PHASES, CountingError, Report

# ------------------------------------------------------------------------------------------------
# driving a model through forward, loss, backward and the optimizer step
# ------------------------------------------------------------------------------------------------
LOSSES = ("mse", "cross-entropy")
OPTIMIZERS = ("sgd", "adam", "adamw")


def _tensors(x):
    """The tensors of a model output, in order (tensors, lists, tuples, dicts, outputs with ``logits``)."""
    if isinstance(x, torch.Tensor):
        yield x
    elif isinstance(x, (dict, list, tuple)):
        for y in (x.values() if isinstance(x, dict) else x):
            yield from _tensors(y)
    elif hasattr(x, "logits"):
        yield from _tensors(x.logits)


def _first_tensor(x, trainable: bool = False):
    """The output a loss is taken on: the first floating-point tensor of ``x`` (a codec returns its integer
    codes before its decoded audio), else the first tensor; None if it holds none. With ``trainable``, the first
    floating-point tensor that requires grad comes first (a keypoint detector returns its keypoints'
    coordinates, which no parameter reaches, before their scores)."""
    first = floating = None
    for t in _tensors(x):
        if t.is_floating_point():
            if not trainable or t.requires_grad:
                return t
            floating = t if floating is None else floating
        if first is None:
            first = t
    return floating if floating is not None else first


def _first_leaf(model: nn.Module):
    for m in model.modules():
        if not list(m.children()):
            return m
    return model


def _resolve_dtype(dtype) -> torch.dtype | None:
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    try:
        return dtype_of(dtype)
    except ValueError as e:
        raise CountingError(str(e)) from None


def build_on_meta(factory):
    """``factory()`` with meta as the default device; if that fails (a constructor that reads values it computes:
    torchvision's RegNet rounds its stage widths with ``torch.round(...).tolist()``), again with tensors made on
    the CPU and parameters and buffers moved to meta as modules register them (only the constructor's own small
    tensors hold memory)."""
    try:
        with torch.device("meta"):
            return _stray_parameters_to_meta(factory())
    except Exception as first:
        try:
            with _parameters_on_meta():
                return factory()
        except Exception:
            raise first from None


def _stray_parameters_to_meta(m):
    """Parameters a constructor made on the CPU whatever the default device (the legacy ``torch.Tensor(n, d)``
    ignores it: OneFormer's level embeddings, LW-DETR's layer scales; uninitialized memory, no value to keep)
    moved to meta, so that the step does not mix devices."""
    if isinstance(m, nn.Module):
        moved: dict = {}  # a parameter shared by modules stays shared
        for mod in m.modules():
            for key, p in list(mod._parameters.items()):
                if p is not None and p.device.type != "meta":
                    if p not in moved:
                        moved[p] = nn.Parameter(p.to("meta"), requires_grad=p.requires_grad)
                    mod._parameters[key] = moved[p]
    return m


@contextlib.contextmanager
def _parameters_on_meta():
    """Every parameter and buffer a module registers goes to meta (moving to meta copies nothing)."""
    register_parameter, register_buffer = nn.Module.register_parameter, nn.Module.register_buffer

    def parameter(self, name, param):
        if param is not None and param.device.type != "meta":
            param = type(param)(param.to("meta"), requires_grad=param.requires_grad)
        register_parameter(self, name, param)

    def buffer(self, name, tensor, persistent=True):
        register_buffer(self, name, tensor.to("meta") if tensor is not None else None, persistent)

    nn.Module.register_parameter, nn.Module.register_buffer = parameter, buffer
    try:
        yield
    finally:
        nn.Module.register_parameter, nn.Module.register_buffer = register_parameter, register_buffer


def prepare_model(model, device: str = "meta", dtype=None, fake_mode=None) -> nn.Module:
    """An ``nn.Module`` on ``device``: built there from a zero-argument factory, or a copy moved there."""
    dt = _resolve_dtype(dtype)
    if device == "fake" and fake_mode is None:
        raise CountingError("device 'fake' is for the trace counter; use device 'meta' here")
    if isinstance(model, nn.Module):
        params = list(model.parameters()) + list(model.buffers())
        if device == "fake":
            if fake_mode is None:
                raise CountingError("device='fake' needs a FakeTensorMode")
            try:
                with fake_mode:
                    m = copy.deepcopy(model)
            except Exception as e:
                raise CountingError(f"copying the model into fake tensors failed: {type(e).__name__}: "
                                    f"{str(e).splitlines()[0] if str(e) else ''}") from e
        elif params and all(p.device.type == torch.device(device).type for p in params):
            m = model
        else:
            try:
                m = copy.deepcopy(model).to(device)
            except Exception as e:  # quantized modules keep CPU-only packed weights
                raise CountingError(f"moving the model to {device} failed: {type(e).__name__}: "
                                    f"{str(e).splitlines()[0] if str(e) else ''}") from e
    elif callable(model):
        try:
            if device == "fake":
                try:
                    with fake_mode:
                        m = model()
                except Exception as e:
                    # an initializer reads values (timm's do) or a module converts a fake parameter in place
                    # (``.to(dtype)`` cannot swap one): build on meta, then give it fake CPU storage (fake tensors
                    # never show values, so none are lost)
                    try:
                        m = build_on_meta(model)
                        if isinstance(m, nn.Module):
                            with fake_mode:
                                m = m.to_empty(device="cpu")
                    except Exception:
                        raise e from None
            elif device == "meta":
                m = build_on_meta(model)
            else:
                with torch.device(device):
                    m = model()
        except CountingError:
            raise
        except Exception as e:
            raise CountingError(f"model factory failed: {type(e).__name__}: {e}") from e
        if not isinstance(m, nn.Module):
            raise CountingError(f"model factory returned {type(m).__name__}, not a torch.nn.Module")
    else:
        raise CountingError(f"expected a torch.nn.Module or a factory returning one, got {type(model).__name__}")
    if dt is not None and any(p.is_floating_point() and p.dtype != dt for p in m.parameters()):
        if device == "fake":  # fake parameters cannot be converted in place
            raise CountingError(f"device 'fake' counts the model in its own dtype; use device 'meta' for {dt}")
        m = m.to(dt)
    return m


def make_inputs(model: nn.Module, input_shape, input_dtype=None, dtype=None, device="meta") -> tuple:
    """Input tensors for ``input_shape`` (one shape or a list of shapes). Integer inputs (token ids) if
    ``input_dtype`` is an integer dtype, or by default when the model's first layer is an ``nn.Embedding``.
    Floating inputs on a real device hold standard normal values (seed 0), never uninitialized memory."""
    if input_shape and isinstance(input_shape[0], int):
        shapes = [tuple(input_shape)]
    else:
        shapes = [tuple(s) for s in input_shape]
    idt = _resolve_dtype(input_dtype) if input_dtype is not None else None
    if idt is None:
        idt = torch.long if isinstance(_first_leaf(model), nn.Embedding) else (_resolve_dtype(dtype) or torch.float32)
    out = []
    for s in shapes:
        if any((not isinstance(d, int)) or d < 1 for d in s):
            raise CountingError(f"input shape {s} must be positive integers")
        if idt.is_floating_point and str(device) == "meta":
            out.append(torch.empty(s, dtype=idt, device=device))
        elif idt.is_floating_point:  # real values: uninitialized memory may hold NaN (quantization observers fail)
            values = torch.randn(s, generator=torch.Generator().manual_seed(0))
            out.append(values.to(dtype=idt, device=device))
        else:
            out.append(torch.zeros(s, dtype=idt, device=device))
    return tuple(out)


def _loss_value(loss, out, target):
    if callable(loss):
        return loss(out, target) if target is not None else loss(out)
    if loss == "mse":
        return nn.functional.mse_loss(out, target if target is not None else torch.zeros_like(out))
    if loss == "cross-entropy":
        logits = out
        if logits.dim() == 1:
            logits = logits.unsqueeze(0)
        elif logits.dim() > 2:  # (..., classes): tokens or positions as rows
            logits = logits.reshape(-1, logits.shape[-1])
        if target is None:
            target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
        else:
            target = target.reshape(-1) if target.dim() > 1 else target
        return nn.functional.cross_entropy(logits, target)
    raise CountingError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)} or a callable")


def _inference_only(model) -> bool:
    """True if the model's ``forward`` is decorated with ``torch.inference_mode()`` (transformers' video
    trackers): no gradient can flow through it, so it has no training step."""
    import inspect

    f = getattr(type(model), "forward", None)
    if getattr(getattr(f, "__code__", None), "co_name", "") != "decorate_context":
        return False
    try:
        ctx = getattr(inspect.getclosurevars(f).nonlocals.get("ctx_factory"), "__self__", None)
    except (TypeError, ValueError):
        return False
    return isinstance(ctx, torch.inference_mode) and bool(getattr(ctx, "mode", True))


def _optimizer(optimizer, params):
    if optimizer is None:
        return None
    if not params:
        raise CountingError("the model has no trainable parameters: a training step has nothing to update "
                            "(count --level validation, or pass no optimizer)")
    if isinstance(optimizer, str):
        name = optimizer.lower()
        if name == "sgd":
            return torch.optim.SGD(params, lr=0.01, momentum=0.9)
        if name == "adam":
            return torch.optim.Adam(params, lr=1e-3)
        if name == "adamw":
            return torch.optim.AdamW(params, lr=1e-3)
        raise CountingError(f"unknown optimizer {optimizer!r}; expected one of {', '.join(OPTIMIZERS)}")
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    return optimizer(params)


DEVICES = ("auto", "meta", "fake", "cpu", "cuda")
QUANTIZE = ("int8-dynamic",)
#: real CPU tensors are the last resort of ``device="auto"``: allowed when parameters, gradients and optimizer
#: state (activations come on top) fit in this many bytes; ``cpu_limit`` or $GATESIM_CPU_LIMIT_BYTES change it
CPU_FALLBACK_LIMIT = 4 * 2**30

#: what an error says when the step needs real values or CPU kernels, not only shapes (or, "couldn't swap", a
#: module that converts its parameters inside forward, as Switch Transformers' router does: fake ones cannot be)
_REAL_VALUE_SIGNS = ("meta", "fake", "data-dependent", "data dependent", "same device", "item()", "data pointer",
                     "unbacked", "_local_scalar_dense", "nonzero", "dynamic output shape", "not implemented",
                     "quantized", "symbolic", "guard", "device type", "couldn't swap")
_REAL_VALUE_TYPES = ("NotImplementedError", "DataDependentOutputException", "DynamicOutputShapeException",
                     "UnsupportedOperatorException", "GuardOnDataDependentSymNode", "UnsupportedFakeTensorException",
                     "DataDependentOutputException")


def needs_real_values(e: BaseException) -> bool:
    """Whether a counting failure looks cured by another device (meta -> fake -> cpu): ``.item()`` on meta, a
    data-dependent shape, a tensor made on another device, an op without a meta or fake kernel."""
    seen = set()
    x: BaseException | None = e
    while x is not None and id(x) not in seen:
        seen.add(id(x))
        if type(x).__name__ in _REAL_VALUE_TYPES:
            return True
        if not isinstance(x, CountingError):
            msg = str(x).lower()
            if any(sign in msg for sign in _REAL_VALUE_SIGNS):
                return True
        x = x.__cause__ or x.__context__
    return False


def _first_line(e: BaseException) -> str:
    s = str(e)
    return s.splitlines()[0] if s else type(e).__name__


def state_bytes(model, level: str, optimizer) -> int:
    """Bytes of parameters and buffers, plus gradients and optimizer state for a training step (SGD with
    momentum: 1 state per parameter; Adam/AdamW: 2), of ``model`` or of what its factory builds (on meta)."""
    m = model if isinstance(model, nn.Module) else prepare_model(model, "meta")
    params = sum(p.numel() * p.element_size() for p in m.parameters())
    buffers = sum(b.numel() * b.element_size() for b in m.buffers())
    copies = 1
    if level == "training":
        copies = 2 + {"sgd": 1, "adam": 2, "adamw": 2}.get(optimizer if isinstance(optimizer, str) else "", 0)
    return params * copies + buffers


def count_trace(model, inputs=None, *, input_shape=None, input_dtype=None,
                target=None, level: str = "training", loss="mse", optimizer=None,
                recipes: "str | RecipeSet" = "default", strict: bool = False, device: str = "auto",
                dtype=None, fmt: str | None = None, accumulate: str | None = None, amp: str | None = None,
                quantize: str | None = None, cpu_limit: int | None = None, recurrent: bool = True) -> Report:
    """Run one step of ``model`` under :class:`TraceCounter` and return the :class:`Report`.

    ``model``: an ``nn.Module`` or a zero-argument factory (built directly on ``device``: best for huge models).
    ``inputs``: tensors, a dict of keyword tensors, or ``inputs(model, device)`` returning either; or
    ``input_shape``. ``level``: training (forward + loss + backward [+ optimizer]), validation (forward + loss, no
    grad), inference (forward, no grad). ``loss``: "mse", "cross-entropy" or a callable ``loss(output[, target])``.
    ``optimizer``: None, "sgd", "adam", "adamw", an optimizer or a factory ``f(params)``; counted as the
    ``optimizer`` phase at training level. ``dtype`` casts the model (``"fp16"``); ``fmt`` forces the number
    format of every op; ``accumulate`` the format dot products accumulate in (default: fp32 for narrower floats,
    int32 for int8); ``amp`` (``"bf16"``, ``"fp16"``) runs forward and loss under CPU autocast (fake tensors:
    autocast does not apply to meta ones); ``quantize="int8-dynamic"`` quantizes Linear and recurrent layers
    with ``torch.ao.quantization.quantize_dynamic`` (real CPU weights; inference or validation level).

    ``device="auto"`` tries meta tensors, then ``FakeTensorMode`` (when the step needs CPU kernels or tensors made
    inside forward), then real CPU tensors when the step needs real values (``.item()``, data-dependent shapes)
    and the model's state fits ``cpu_limit`` bytes (default :data:`CPU_FALLBACK_LIMIT`); the report's
    ``device`` and ``attempts`` say which ran and why the others did not. Any other device forces that one.
    ``recurrent``: price RNN/LSTM/GRU layers of many steps from two short runs (exact; counting time does not
    grow with the sequence length).
    """
    import os

    if level not in LEVEL_PHASES:
        raise CountingError(f"unknown level {level!r}; expected one of {', '.join(LEVEL_PHASES)}")
    if not callable(loss) and loss not in LOSSES:
        raise CountingError(f"unknown loss {loss!r}; expected one of {', '.join(LOSSES)} or a callable")
    if device not in DEVICES:
        raise CountingError(f"unknown device {device!r}; expected one of {', '.join(DEVICES)}")
    if amp is not None:
        amp = normalize_format(amp)
        if amp not in ("bf16", "fp16"):
            raise CountingError(f"amp must be bf16 or fp16, got {amp!r}")
    if quantize is not None:
        if quantize not in QUANTIZE:
            raise CountingError(f"unknown quantization {quantize!r}; expected one of {', '.join(QUANTIZE)}")
        if level == "training":
            raise CountingError("a dynamically quantized model has no backward pass: count it at level inference "
                                "or validation")
    if device == "auto":
        chain = ["cpu"] if quantize else ["fake", "cpu"] if amp else ["meta", "fake", "cpu"]
    else:
        if amp and device == "meta":
            raise CountingError("autocast does not apply to meta tensors; use device fake (or auto) with amp")
        if quantize and device in ("meta", "fake"):
            raise CountingError("quantization needs real weights; use device cpu (or auto) with quantize")
        chain = [device]
    if cpu_limit is None:
        cpu_limit = int(os.environ.get("GATESIM_CPU_LIMIT_BYTES", CPU_FALLBACK_LIMIT))
    attempts: list[tuple[str, str]] = []
    for i, dev in enumerate(chain):
        if dev == "cpu" and device == "auto":
            need = state_bytes(model, level, optimizer)
            if need > cpu_limit:
                why = f"; {attempts[-1][0]}: {attempts[-1][1]}" if attempts else ""
                raise CountingError(f"the step needs real values{why}; real CPU tensors would hold {need:,} bytes "
                                    f"of parameters and state, over the {cpu_limit:,}-byte limit "
                                    f"(cpu_limit / GATESIM_CPU_LIMIT_BYTES)")
        try:
            report = _count_once(model, inputs, input_shape=input_shape, input_dtype=input_dtype, target=target,
                                 level=level, loss=loss, optimizer=optimizer, recipes=recipes, strict=strict,
                                 device=dev, dtype=dtype, fmt=fmt, accumulate=accumulate, amp=amp,
                                 quantize=quantize, recurrent=recurrent)
        except CountingError as e:
            # a step that fails on meta for want of real values goes on down the chain whatever the next
            # device says (a fake kernel can be stricter than the CPU's); any other failure is final
            if i == len(chain) - 1 or (not attempts and not needs_real_values(e)):
                if attempts:
                    raise CountingError(f"{_first_line(e)} (on {dev}; on {attempts[0][0]}: {attempts[0][1]})") from e
                raise
            attempts.append((dev, _first_line(e)))
            continue
        report.device = dev
        report.attempts = attempts
        report.amp = amp
        for d, why in attempts:
            report.notes.append(f"not counted on {d}: {why}")
        if quantize:
            report.notes.append(f"quantized with torch.ao.quantization.quantize_dynamic ({quantize})")
        return report
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def _quiet_fake_tensor_log():
    """FakeTensorMode logs a traceback for every op it cannot run; the counter reports the failure itself."""
    import logging

    log = logging.getLogger("torch._subclasses.fake_tensor")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _quantize(m: nn.Module, quantize: str) -> nn.Module:
    from torch.ao.quantization import quantize_dynamic

    m.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(m, {nn.Linear, nn.LSTM, nn.GRU, nn.LSTMCell, nn.GRUCell, nn.RNNCell},
                                dtype=torch.qint8)


def _count_once(model, inputs, *, input_shape, input_dtype, target, level, loss, optimizer, recipes, strict,
                device, dtype, fmt, accumulate, amp, quantize, recurrent) -> Report:
    rs = get_recipes(recipes)
    fake_mode = None
    if device == "fake":
        from .fakemode import make_fake_mode

        fake_mode = make_fake_mode()
    m = prepare_model(model, device, dtype, fake_mode)
    if quantize:
        m = _quantize(m, quantize)
    if fake_mode is not None:
        from .fakemode import adopt_strays, buffer_values, propagate_input_values

        adopt_strays(m, fake_mode)  # layers deep-copied under the fake mode hold tensors of a mode of their own
        propagate_input_values(fake_mode)  # inputs and what they alone decide keep real values
        buffer_values(m, model)  # and the buffers, the values their constructor gives them
    dev = "cpu" if device == "fake" else device
    from .fakemode import fake_step

    settings = fake_step(fake_mode) if fake_mode is not None else contextlib.nullcontext()
    with (fake_mode if fake_mode is not None else contextlib.nullcontext()), warnings.catch_warnings(), \
            _quiet_fake_tensor_log(), settings as real_values:
        warnings.filterwarnings("ignore", message=".*data pointer of FakeTensor.*")
        if callable(inputs) and not isinstance(inputs, torch.Tensor):
            try:
                inputs = inputs(m, dev)
            except CountingError:
                raise
            except Exception as e:
                raise CountingError(f"making the inputs failed: {type(e).__name__}: {_first_line(e)}") from e
        if inputs is None:
            if input_shape is None:
                raise CountingError("give inputs or input_shape")
            inputs = make_inputs(m, input_shape, input_dtype, dtype, dev)
        elif isinstance(inputs, torch.Tensor):
            inputs = (inputs,)
        kw_inputs = dict(inputs) if isinstance(inputs, dict) else None
        pos_inputs = () if kw_inputs is not None else tuple(inputs)

        def move(x):
            if not isinstance(x, torch.Tensor):
                return x
            if device != "fake":
                x = x.to(dev)
            return x.to(dt) if dt is not None and x.is_floating_point() else x

        dt = _resolve_dtype(dtype)
        pos_inputs = tuple(move(x) for x in pos_inputs)
        if kw_inputs is not None:
            kw_inputs = {k: move(v) for k, v in kw_inputs.items()}
        if device != "fake" and isinstance(target, torch.Tensor):
            target = target.to(dev)
        phases = LEVEL_PHASES[level]
        training = level == "training"
        if training and _inference_only(m):
            raise CountingError("the model's forward runs under torch.inference_mode: it has no training step "
                                "(count --level inference)")
        opt = _optimizer(optimizer, [p for p in m.parameters() if p.requires_grad]) if training else None
        if opt is not None:
            phases = phases + ("optimizer",)
        report = Report(level=level, counter="trace", recipes=rs.name, phases=phases)
        counter = TraceCounter(rs, model=m, fmt=fmt, strict=strict, report=report, accumulate=accumulate)
        m.train(training and not quantize)
        grad = torch.enable_grad() if training else torch.no_grad()
        autocast = (torch.autocast("cpu", dtype=dtype_of(amp)) if amp else contextlib.nullcontext())
        from .recurrent import RecurrentShortcut

        shortcut = RecurrentShortcut(counter) if recurrent else contextlib.nullcontext()
        try:
            with grad, counter, shortcut:
                counter.phase = "forward"
                with autocast:
                    out = m(**kw_inputs) if kw_inputs is not None else m(*pos_inputs)
                    y = _first_tensor(out, trainable=training)
                    if y is None:
                        raise CountingError(f"model returned {type(out).__name__}, which holds no tensor")
                    if "loss" in phases:
                        counter.phase = "loss"
                        if not y.is_floating_point():
                            raise CountingError(f"model output has dtype {y.dtype}; a loss needs floating point")
                        l = _loss_value(loss, y, target)
                if training:
                    counter.phase = "backward"
                    if not l.requires_grad:
                        raise CountingError("the loss does not require grad: the model has no trainable "
                                            "parameters on the path to the output")
                    l.backward()
                if opt is not None:
                    counter.phase = "optimizer"
                    opt.step()
                    opt.zero_grad(set_to_none=True)
        except CountingError:
            raise
        except Exception as e:
            where = counter.current_module()
            msg = str(e).splitlines()[0] if str(e) else ""
            raise CountingError(f"{counter.phase} failed in module {where}: {type(e).__name__}: {msg}") from e
        if real_values is not None and real_values.assumed:
            report.notes.append("selections the parameters decide keep every candidate (nonzero: every index, "
                                "NMS: every box; other data-dependent sizes at their upper bound; the indices top-k, sort and "
                                "argmax choose: the first candidates; any / all of what they decide: none / all, the usual case): " +
                                ", ".join(f"{k} x{v}" for k, v in sorted(real_values.assumed.items())))
    return report
