"""``--activity SPEC|sampled`` of ``gatesim table`` and ``gatesim estimate``: the operands tables simulate.

``sampled`` captures operand streams from the model (``--model`` for ``table``; ``estimate``'s own model) on the
CPU (:func:`gatesim.models.sampling.sample_operands`) and caches them under the table cache folder
(``samples/``), keyed by everything that decides them -- the model spec and the bytes of the file or module that
defines it, the input shapes, level, samples per family, seed, built-in options, and the versions of torch and of
the sampling code -- so a re-run reads the arrays back without importing torch or running the model.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import click

ACTIVITY_HELP = ("Operands the units are simulated under for switching TOs: an operand distribution (zeros, "
                 "sparse:0.5, normal:0,0.02+relu-normal, lowbits:4, ...; see `gatesim activity --operands`) or "
                 "'sampled' (operands captured from the model on the CPU). Default: the mode's random operands.")


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def _model_source(spec: str) -> dict:
    """What defines MODEL, without importing it: a file's bytes, a module file's bytes, or a zoo spec with the
    zoo packages' versions."""
    from importlib import metadata, util

    models = Path(__file__).resolve().parent.parent / "models"
    if ":" not in spec:  # a built-in (every other spec names where it lives)
        return {"builtin": spec, "source": _file_digest(models / "builtins.py")}
    if spec.split(":", 1)[0] in ("hf", "torchvision", "timm"):
        versions = {}
        for pkg in ("transformers", "torchvision", "timm"):
            try:
                versions[pkg] = metadata.version(pkg)
            except metadata.PackageNotFoundError:
                pass
        return {"zoo": spec, "versions": versions, "source": _file_digest(models / "zoo.py")}
    where = spec.rsplit(":", 1)[0]
    if where.endswith(".py") or "/" in where or "\\" in where:
        return {"file": str(Path(where).resolve()), "source": _file_digest(Path(where))}
    try:
        found = util.find_spec(where)
    except (ImportError, ValueError):
        found = None
    origin = getattr(found, "origin", None)
    return {"module": where, "source": _file_digest(Path(origin)) if origin else ""}


def _shape_text(text: str) -> str:
    """``"8, 3x224,224"`` -> ``"8,3,224,224"``: one spelling per shape, for the cache key."""
    import re

    return ",".join(p for p in re.split(r"\s*[,x]\s*", text.strip()))


def samples_key(model: str, input_shapes, level: str, samples: int, seed: int, options: dict) -> str:
    """Cache key of MODEL's samples (``input_shapes`` as given on the command line)."""
    from importlib import metadata

    here = Path(__file__).resolve().parent.parent
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:  # pragma: no cover
        torch_version = ""
    doc = {"model": model, "defined": _model_source(model), "shapes": [_shape_text(s) for s in input_shapes],
           "level": level, "samples": samples, "seed": seed, "options": options, "torch": torch_version,
           "code": _file_digest(here / "models" / "sampling.py") + _file_digest(here / "samples.py")}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:32]


def operand_samples(model: str, input_shapes, *, level: str, samples: int = 4096, seed: int = 0,
                    builtin_options: dict | None = None, dtype: str | None = None, cache: bool = True):
    """:class:`gatesim.samples.OperandSamples` of MODEL, from the cache or sampled now (progress on stderr)."""
    from ..samples import OperandSamples, SamplesError
    from ..tables import default_cache_dir

    options = {k: v for k, v in (builtin_options or {}).items() if v is not None}
    if dtype:
        options["dtype"] = dtype
    path = default_cache_dir() / "samples" / f"{samples_key(model, input_shapes, level, samples, seed, options)}.npz"
    if cache and path.exists():
        try:
            return OperandSamples.load(path)
        except SamplesError:
            pass  # a damaged cache file is sampled again
    from ..models.cli import _BUILTIN_DEFAULT_SHAPES, load_model, load_zoo, parse_shape
    from ..models.report import CountingError
    from ..models.sampling import sample_operands
    from ..models.zoo import is_zoo_spec

    shapes = tuple(parse_shape(s) for s in input_shapes)
    shapes = shapes or ((_BUILTIN_DEFAULT_SHAPES[model],) if model in _BUILTIN_DEFAULT_SHAPES else ())
    if not shapes and not is_zoo_spec(model):
        raise click.UsageError("--activity sampled needs --input-shape (the model runs on real CPU tensors)")
    click.echo(f"sampling operands of {model} on the CPU ({level}, {samples} per op family, seed {seed})...",
               err=True)
    try:
        if is_zoo_spec(model):
            zm = load_zoo(model)
            got = sample_operands(zm.factory, zm.inputs(shapes[0] if shapes else None), level=level, samples=samples,
                                  seed=seed, dtype=dtype, meta={"model": model})
        else:
            factory = load_model(model, builtin_options)
            shape = shapes[0] if len(shapes) == 1 else list(shapes)
            got = sample_operands(factory, input_shape=shape, level=level, samples=samples, seed=seed, dtype=dtype,
                                  meta={"model": model, "input_shape": [list(s) for s in shapes]})
    except CountingError as e:
        raise click.ClickException(str(e).splitlines()[0]) from None
    if cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            got.save(path)
        except OSError as e:
            print(f"warning: cannot cache operand samples in {path.parent} ({e.strerror or e})", file=sys.stderr)
    return got


def resolve_activity(activity: str | None, model: str | None, input_shapes=(), *, level: str = "training",
                     samples: int = 4096, seed: int = 0, builtin_options: dict | None = None,
                     dtype: str | None = None, cache: bool = True):
    """What ``build_table(activity=...)`` takes for ``--activity``: None, a checked spec string, or samples."""
    if activity is None or activity.strip().lower() == "default":
        return None
    if activity.strip().lower() == "sampled":
        if not model:
            raise click.UsageError("--activity sampled needs --model MODEL (and --input-shape) to sample from")
        return operand_samples(model, input_shapes, level=level, samples=samples, seed=seed,
                               builtin_options=builtin_options, dtype=dtype, cache=cache)
    from ..activity import parse_activity
    from ..errors import GatesimError

    try:
        parse_activity(activity)
    except GatesimError as e:
        raise click.UsageError(f"--activity: {e}") from None
    return activity


__all__ = ["resolve_activity", "operand_samples", "samples_key", "ACTIVITY_HELP"]
