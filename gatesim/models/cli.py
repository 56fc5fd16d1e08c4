"""``gatesim estimate``: BOs, FLOPs (and TOs, given a transistor table) of one step of a PyTorch model.

The command object is :data:`estimate`; the main CLI registers it with ``cli.add_command(estimate)``.
A transistor table (any object with ``transistors(operation, fmt) -> int``) reaches the command through
``ctx.obj["transistor_table"]`` (and ``ctx.obj["transistor_format"]`` to force a format), or through the
``table`` argument of :func:`run_estimate`.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import click

from .builtins import BUILTINS
from .report import LEVEL_PHASES, CountingError, Report

_BUILTIN_DEFAULT_SHAPES = {"paper-dnn": (64, 4), "paper-cnn": (64, 3, 256, 256), "resnet18": (8, 3, 224, 224)}


def parse_shape(text: str) -> tuple[int, ...]:
    """``"64,4"`` (or ``"64x4"``) -> ``(64, 4)``."""
    import re

    parts = re.split(r"\s*[,x]\s*", text.strip())
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        raise click.UsageError(f"--input-shape must be comma-separated integers like 64,4; got {text!r}") from None
    if not shape or any(d < 1 for d in shape):
        raise click.UsageError(f"--input-shape needs positive integers; got {text!r}")
    return shape


def load_model(spec: str, builtin_options: dict[str, Any] | None = None):
    """A zero-argument factory for MODEL: a built-in name, ``path/to/file.py:attr`` or ``package.module:attr``.

    ``attr`` may be an ``nn.Module`` instance, a class or a function returning a module.
    """
    builtin_options = {k: v for k, v in (builtin_options or {}).items() if v is not None}
    from .zoo import is_zoo_spec

    if is_zoo_spec(spec):
        if builtin_options:
            raise click.UsageError(f"--{', --'.join(sorted(builtin_options))} only apply to the built-in models "
                                   f"({', '.join(BUILTINS)})")
        return load_zoo(spec).factory
    if spec in BUILTINS:
        fn = BUILTINS[spec]
        import inspect

        allowed = set(inspect.signature(fn).parameters)
        bad = set(builtin_options) - allowed
        if bad:
            raise click.UsageError(f"{spec} does not take --{', --'.join(sorted(bad))}")
        try:
            fn(**builtin_options)  # validate eagerly on the CPU: small models
        except (ValueError, TypeError) as e:
            raise click.UsageError(f"{spec}: {e}") from None
        return lambda: fn(**builtin_options)
    if builtin_options:
        raise click.UsageError(f"--{', --'.join(sorted(builtin_options))} only apply to the built-in models "
                               f"({', '.join(BUILTINS)})")
    if ":" not in spec:
        raise click.UsageError(f"MODEL must be a built-in ({', '.join(BUILTINS)}), path/to/file.py:factory or "
                               f"package.module:attr; got {spec!r}")
    where, attr = spec.rsplit(":", 1)
    if not attr.isidentifier():
        raise click.UsageError(f"{attr!r} in MODEL is not a Python name")
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        if not path.is_file():
            raise click.UsageError(f"no such file: {where}")
        name = f"_gatesim_user_model_{abs(hash(str(path.resolve())))}"
        try:
            mod_spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(mod_spec)
            sys.modules[name] = module
            mod_spec.loader.exec_module(module)
        except Exception as e:
            raise click.ClickException(f"cannot load {where}: {type(e).__name__}: {_line(e)}") from None
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as e:
            raise click.UsageError(f"cannot import {where}: {_line(e)}") from None
        except Exception as e:
            raise click.ClickException(f"importing {where} failed: {type(e).__name__}: {_line(e)}") from None
    if not hasattr(module, attr):
        raise click.UsageError(f"{where} has no attribute {attr!r}")
    obj = getattr(module, attr)
    from torch import nn

    if isinstance(obj, nn.Module):
        return obj
    if not callable(obj):
        raise click.UsageError(f"{spec} is neither a torch.nn.Module nor a factory")
    return obj


def load_zoo(spec: str, config_only: bool = False):
    """A :class:`gatesim.models.zoo.ZooModel` for ``hf:``, ``torchvision:`` or ``timm:``; usage errors (exit 2)
    for unknown names and missing packages."""
    from .zoo import ZooError, load_zoo_model

    try:
        return load_zoo_model(spec, config_only=config_only)
    except ZooError as e:
        raise click.UsageError(_line(e)) from None


def _line(e: BaseException) -> str:
    s = str(e)
    return s.splitlines()[0] if s else ""


def run_estimate(model: str, input_shapes: tuple[tuple[int, ...], ...] = (), *, level: str = "training",
                 dtype: str = "fp32", counter: str = "trace", loss: str = "mse", strict: bool = False,
                 optimizer: str | None = None, recipes="default", device: str = "auto",
                 input_dtype: str | None = None, builtin_options: dict | None = None, amp: str | None = None,
                 accumulate: str | None = None, quantize: str | None = None, config_only: bool = False) -> Report:
    """The work of ``gatesim estimate`` without the output: load MODEL and count it."""
    from .api import count
    from .zoo import is_zoo_spec

    extra: dict[str, Any] = {}
    if amp or accumulate or quantize:
        if counter != "trace":
            raise click.UsageError("--amp, --accumulate and --quantize only apply to --counter trace")
        extra = dict(amp=amp, accumulate=accumulate, quantize=quantize)
    if is_zoo_spec(model):
        if counter != "trace":
            raise click.UsageError("zoo models are counted with --counter trace")
        zm = load_zoo(model, config_only)
        if len(input_shapes) > 1:
            raise click.UsageError(f"{model} takes one --input-shape (its main input)")
        report = count(zm.factory, zm.inputs(input_shapes[0] if input_shapes else None), level=level, loss=loss,
                       strict=strict, dtype=dtype, device=device, optimizer=optimizer, recipes=recipes, **extra)
        report.notes.extend(zm.notes)  # what the loader changed in the configuration
        return report
    if config_only:
        raise click.UsageError("--config-only applies to hf: models")
    factory = load_model(model, builtin_options)
    shapes = tuple(input_shapes)
    if not shapes:
        if model in _BUILTIN_DEFAULT_SHAPES:
            shapes = (_BUILTIN_DEFAULT_SHAPES[model],)
            if model == "paper-cnn" and builtin_options and builtin_options.get("image"):
                img = builtin_options["image"]
                shapes = ((64, 3, img, img),)
        else:
            raise click.UsageError("--input-shape is required, e.g. --input-shape 64,4")
    shape_arg = shapes[0] if len(shapes) == 1 else list(shapes)
    kw: dict[str, Any] = dict(input_shape=shape_arg, level=level, loss=loss, strict=strict, dtype=dtype,
                              device=device)
    if counter == "trace":
        kw.update(optimizer=optimizer, recipes=recipes, input_dtype=input_dtype, **extra)
    else:
        if optimizer or getattr(recipes, "name", recipes) != "default" or input_dtype:
            raise click.UsageError("--optimizer, --recipes and --input-dtype only apply to --counter trace")
        if device == "auto":
            kw["device"] = "meta"
    return count(factory, counter=counter, **kw)


def render(report: Report, output: str = "table", *, table=None, fmt: str | None = None,
           per_layer: bool = True, timing=None) -> str:
    """The report as ``"table"`` (fvcore-like text), ``"json"`` or ``"csv"``; ``timing`` (a hardware profile's
    :class:`gatesim.timing.Timing`) adds ``est_seconds``."""
    if output == "json":
        return report.to_json(table=table, fmt=fmt, per_layer=per_layer, timing=timing)
    if output == "csv":
        return report.to_csv(table=table, fmt=fmt, per_layer=per_layer, timing=timing).rstrip("\n")
    return report.to_table(table=table, fmt=fmt, per_layer=per_layer, timing=timing)


@click.command("estimate")
@click.argument("model")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="N,D,...",
              help="Input tensor shape, batch first (repeat for several inputs). Built-ins have defaults.")
@click.option("--level", type=click.Choice(list(LEVEL_PHASES)), default="training", show_default=True,
              help="training = forward + loss + backprop; validation = forward + loss; inference = forward.")
@click.option("--dtype", default="fp32", show_default=True, help="Number format of the model: fp32, fp16, bf16, fp64; int8 = --quantize int8-dynamic.")
@click.option("--counter", type=click.Choice(["trace", "paper"]), default="trace", show_default=True,
              help="trace: every aten op via a dispatch mode; paper: the paper's module-level formulas.")
@click.option("--loss", type=click.Choice(["mse", "cross-entropy"]), default="mse", show_default=True)
@click.option("--optimizer", type=click.Choice(["none", "sgd", "adam", "adamw"]), default="none", show_default=True,
              help="Also count one optimizer step (training level, trace counter).")
@click.option("--recipes", default="default", show_default=True, help="Recipe set of the trace counter: default, paper, or a .json/.toml file of overrides.")
@click.option("--input-dtype", default=None, help="Input dtype, e.g. int64 for token ids (default: int64 when the "
                                                   "first layer is an Embedding, else --dtype).")
@click.option("--device", type=click.Choice(["auto", "meta", "fake", "cpu", "cuda"]), default="auto", show_default=True,
              help="auto: meta tensors, falling back to fake tensors and then real CPU tensors (models whose "
                   "state fits 4 GiB) when the step needs real values; meta: shapes only; fake: FakeTensorMode with "
                   "CPU kernel choices; cpu/cuda: real tensors.")
@click.option("--amp", type=click.Choice(["bf16", "fp16"]), default=None,
              help="Run forward and loss under torch autocast (CPU rules) in this format.")
@click.option("--accumulate", default=None, metavar="FMT",
              help="Format dot products accumulate in (default fp32 for bf16/fp16/fp8 inputs, int32 for int8).")
@click.option("--quantize", type=click.Choice(["int8-dynamic"]), default=None,
              help="Quantize Linear and recurrent layers to int8 (torch.ao.quantization.quantize_dynamic) and count "
                   "inference.")
@click.option("--config-only", is_flag=True,
              help="hf: models: use a configuration already on disk (Hugging Face cache), never download.")
@click.option("--strict", is_flag=True, help="Fail on any op without a recipe instead of reporting it.")
@click.option("--per-layer/--totals-only", default=True, show_default=True, help="Per-module rows or totals only.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.option("--width", type=int, default=None, help="paper-dnn: hidden layer width (paper: 4-18).")
@click.option("--activation", default=None, help="paper-dnn / paper-cnn: sigmoid, tanh, gelu or relu.")
@click.option("--layers", type=int, default=None, help="paper-cnn: number of convolutional layers (paper: 2-10).")
@click.option("--image", type=int, default=None, help="paper-cnn: image side (paper: 256).")
@click.pass_context
def estimate(ctx, model, input_shapes, level, dtype, counter, loss, optimizer, recipes, input_dtype, device, amp,
             accumulate, quantize, config_only, strict, per_layer, as_json, as_csv, width, activation, layers, image):
    """Estimate basic operations (BOs), FLOPs, bytes moved and transistor operations of MODEL.

    MODEL is a built-in (paper-dnn, paper-cnn, resnet18), path/to/file.py:factory, package.module:attr, or a zoo model:
    hf:MODEL_TYPE|hf:path/config.json|hf:org/name, torchvision:NAME, timm:NAME.
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    from .recipes import get_recipes

    try:
        recipes_obj = get_recipes(recipes)
    except ValueError as e:
        raise click.UsageError(f"--recipes: {e} (or a .json/.toml file of per-element overrides)") from None
    from .bo import dtype_of

    try:
        model_dtype = dtype_of(dtype)
        if input_dtype:
            dtype_of(input_dtype)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    if not model_dtype.is_floating_point:
        if dtype.lower() not in ("int8", "qint8"):
            raise click.UsageError(f"--dtype {dtype}: integer models are int8 (dynamically quantized); use "
                                   "--input-dtype for integer inputs")
        if quantize not in (None, "int8-dynamic"):
            raise click.UsageError("--dtype int8 is --quantize int8-dynamic")
        quantize, dtype = "int8-dynamic", "fp32"  # int8 weights and products, fp32 activations between layers
    if quantize and level == "training":
        if ctx.get_parameter_source("level") == click.core.ParameterSource.DEFAULT:
            level = "inference"
        else:
            raise click.UsageError("a quantized model has no backward pass: use --level inference or validation")
    if accumulate:
        try:
            dtype_of(accumulate)
        except ValueError as e:
            raise click.UsageError(f"--accumulate: {e}") from None
    if width is not None and width < 1 or layers is not None and layers < 1 or image is not None and image < 1:
        raise click.UsageError("--width, --layers and --image must be positive")
    shapes = tuple(parse_shape(s) for s in input_shapes)
    builtin_options = {"width": width, "activation": activation, "layers": layers, "image": image}
    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    table = obj.get("transistor_table")
    fmt = obj.get("transistor_format")
    try:
        report = run_estimate(model, shapes, level=level, dtype=dtype, counter=counter, loss=loss, strict=strict,
                              optimizer=None if optimizer == "none" else optimizer, recipes=recipes_obj, device=device,
                              input_dtype=input_dtype, builtin_options=builtin_options, amp=amp,
                              accumulate=accumulate, quantize=quantize, config_only=config_only)
        if table is None and callable(obj.get("transistor_table_for")):
            table = obj["transistor_table_for"](report.formats())  # every format the model's ops use
        text = render(report, "json" if as_json else "csv" if as_csv else "table", table=table, fmt=fmt,
                      per_layer=per_layer, timing=obj.get("timing"))
        annotate = obj.get("annotate")  # (report, table, fmt, timing) -> (JSON keys, text lines): the energy line
        if annotate is not None and not as_csv:
            keys, lines = annotate(report, table, fmt, obj.get("timing"))
            if as_json:
                import json

                text = json.dumps({**json.loads(text), **keys}, indent=2)
            elif lines:
                text = text + "\n" + "\n".join(lines)
    except CountingError as e:
        raise click.ClickException(_line(e)) from None
    click.echo(text)
    if as_csv and report.uncounted:
        click.echo(report.uncounted_line(), err=True)
