"""Click commands of the calibration room: ``meters``, ``measure``, ``sweep``, ``fit``, ``predict``.

The main CLI registers each: ``for c in calibration.cli.COMMANDS: cli.add_command(c)``. Bad input exits 2
(``click.UsageError``) or 1 (``click.ClickException``) with one line, never a traceback.
"""
from __future__ import annotations

import json
import os
import re
from typing import Callable

import click


def _device(ctx, param, value):
    """``cpu`` or ``cuda[:N]``, and CUDA only where torch has it."""
    import re

    if not re.fullmatch(r"cpu|cuda(:\d+)?", value or ""):
        raise click.BadParameter(f"expected cpu or cuda[:N], got {value!r}")
    if value.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise click.BadParameter(f"{value}: this torch build sees no CUDA device")
    return value


def _in_existing_dir(ctx, param, value):
    """An output file whose folder exists."""
    if value is not None:
        from pathlib import Path

        parent = Path(value).expanduser().parent
        if not parent.is_dir():
            raise click.BadParameter(f"folder {parent} does not exist")
    return value


def _finite(ctx, param, value):
    """Reject NaN (which passes click's range checks)."""
    import math

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"must be a finite number, got {value}")
    return value

from .errors import CalibrationError

BUILTIN_MODELS = ("dnn", "cnn")


def _line(e: BaseException) -> str:
    s = str(e)
    return s.splitlines()[0] if s else type(e).__name__


def _ints(text: str, what: str) -> list[int]:
    """``"4-18"``, ``"2,4,8"`` or ``"4-8,12"`` -> integers."""
    out = []
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", part)
        try:
            if m:
                a, b = int(m.group(1)), int(m.group(2))
                if b < a:
                    raise ValueError
                out.extend(range(a, b + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise click.UsageError(f"{what}: expected integers like 4-18 or 2,4,8; got {text!r}") from None
    if not out or any(v < 1 for v in out):
        raise click.UsageError(f"{what}: needs positive integers; got {text!r}")
    return out


def _shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        shape = tuple(int(p) for p in re.split(r"\s*[,x]\s*", text.strip()))
    except ValueError:
        raise click.UsageError(f"--sample-shape must be integers like 3,32,32; got {text!r}") from None
    if not shape or any(d < 1 for d in shape):
        raise click.UsageError(f"--sample-shape needs positive integers; got {text!r}")
    return shape


def resolve_model(spec: str, *, width=None, activation=None, layers=None, image=None,
                  sample_shape: tuple[int, ...] | None = None, loss: str | None = None
                  ) -> tuple[Callable, tuple[int, ...], str]:
    """MODEL -> (factory, shape of one sample, loss). ``dnn`` / ``cnn`` are the sweep models; anything else goes
    through :func:`gatesim.models.cli.load_model` (paper-dnn, paper-cnn, path/to/file.py:factory,
    package.module:attr), which needs ``sample_shape`` unless it is a built-in."""
    from .sweeps import cnn_kernel, cnn_model, dnn_model

    if spec == "dnn":
        if layers is not None or image is not None:
            raise click.UsageError("--layers and --image apply to the cnn model")
        w, a = width or 18, activation or "sigmoid"
        dnn_model(w, a)
        return (lambda: dnn_model(w, a)), sample_shape or (4,), loss or "mse"
    if spec == "cnn":
        if width is not None:
            raise click.UsageError("--width applies to the dnn model")
        n, act, img = layers or 6, activation or "gelu", image or 256
        if img - n * (cnn_kernel(n) - 1) < 1:
            raise click.UsageError(f"--image {img} is too small for {n} layers")
        cnn_model(n, activation=act)
        return (lambda: cnn_model(n, activation=act)), sample_shape or (3, img, img), loss or "cross-entropy"
    try:
        from gatesim.models.cli import load_model
    except ImportError:  # pragma: no cover - the models room is part of gatesim
        load_model = None
    opts = {"width": width, "activation": activation, "layers": layers, "image": image}
    if load_model is not None:
        obj = load_model(spec, opts)
    else:  # pragma: no cover
        raise click.UsageError(f"MODEL must be dnn or cnn (gatesim.models is unavailable); got {spec!r}")
    defaults = {"paper-dnn": (4,), "paper-cnn": (3, image or 256, image or 256)}
    shape = sample_shape or defaults.get(spec)
    if shape is None:
        raise click.UsageError("--sample-shape is required for this MODEL (one sample, no batch), e.g. 3,32,32")
    from torch import nn

    factory = (lambda: obj) if isinstance(obj, nn.Module) else obj
    default_loss = "cross-entropy" if spec == "paper-cnn" else "mse"
    return factory, tuple(shape), loss or default_loss


def _count_options(table: str | None, no_tos: bool) -> dict:
    return {"table": None if no_tos else (table or "paper")}


def _meter(name: str, watts: float, rapl_root: str, poll: float):
    from .meters import make_meter

    return make_meter(name, rapl_root=rapl_root, watts=watts, poll_interval=poll)


def _wrap(fn):
    """Run ``fn``; calibration and gatesim errors become one-line ClickExceptions."""
    try:
        return fn()
    except click.ClickException:
        raise
    except CalibrationError as e:
        raise click.ClickException(_line(e)) from None
    except OSError as e:  # a file that cannot be written: a full disk, a missing permission
        where = f"{e.filename}: " if e.filename else ""
        raise click.ClickException(f"cannot write {where}{e.strerror or e}") from None
    except Exception as e:  # gatesim's own errors (CountingError, TableError) are one-liners too
        from gatesim.errors import GatesimError

        if isinstance(e, GatesimError):
            raise click.ClickException(_line(e)) from None
        raise


meter_options = [
    click.option("--meter", type=click.Choice(["auto", "nvml", "rapl", "estimate"]), default="auto", show_default=True,
                 help="auto: NVML on CUDA, else RAPL, else the labelled estimate."),
    click.option("--watts", type=click.FloatRange(min=0, min_open=True, max=1e6), default=15.0, callback=_finite, show_default=True,
                 help="Power for the estimate meter (TDP, or its per-core share): joules = watts x CPU time."),
    click.option("--rapl-root", default="/sys/class/powercap", show_default=True, help="Powercap sysfs folder."),
    click.option("--poll", type=click.FloatRange(min=0.01, max=3600), default=1.0, callback=_finite, show_default=True,
                 help="Seconds between RAPL counter reads (catches wraparound), 0.01-3600."),
]


def _apply(options):
    def deco(f):
        for o in reversed(options):
            f = o(f)
        return f

    return deco


model_options = [
    click.option("--width", type=click.IntRange(min=1), default=None, help="dnn / paper-dnn: hidden layer width (paper: 4-18)."),
    click.option("--activation", default=None, help="dnn / cnn: sigmoid, tanh, gelu or relu."),
    click.option("--layers", type=click.IntRange(min=1), default=None, help="cnn / paper-cnn: convolutional layers (paper: 2-10)."),
    click.option("--image", type=click.IntRange(min=1), default=None, help="cnn / paper-cnn: image side (paper: 256)."),
    click.option("--sample-shape", default=None, metavar="D,...",
                 help="Shape of one input sample, no batch (required for file/module models)."),
    click.option("--loss", type=click.Choice(["mse", "cross-entropy"]), default=None,
                 help="Loss (default: mse; cross-entropy for cnn)."),
    click.option("--batch-size", type=int, default=64, show_default=True),
    click.option("--samples", type=int, default=None, help="Samples per epoch (default: 1372 dnn, 120 otherwise)."),
    click.option("--epochs", type=int, default=1, show_default=True),
]


# -- meters -------------------------------------------------------------------------------------------------------------
@click.command("meters")
@click.option("--rapl-root", default="/sys/class/powercap", show_default=True, help="Powercap sysfs folder.")
@click.option("--watts", type=click.FloatRange(min=0, min_open=True, max=1e6), default=15.0, callback=_finite, show_default=True, help="Power of the estimate fallback.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def meters_cmd(rapl_root, watts, as_json):
    """List the energy meters of this machine; for each unavailable one, why."""
    from .meters import available_meters

    rows = available_meters(rapl_root, watts)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    for r in rows:
        state = "available" if r.available else "unavailable"
        click.echo(f"{r.name:<9} {state:<12} {r.reason}")


# -- measure ------------------------------------------------------------------------------------------------------------
@click.command("measure")
@click.argument("model")
@_apply(model_options)
@_apply(meter_options)
@click.option("--device", default="cpu", show_default=True, callback=_device, help="cpu or cuda[:N].")
@click.option("--threads", type=int, default=1, show_default=True, help="torch CPU threads (paper: 1).")
@click.option("--table", default="paper", show_default=True, help="Hardware profile name or transistor table JSON for TOs.")
@click.option("--no-count", is_flag=True, help="Do not count TOs and FLOPs.")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: when it is a terminal).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def measure_cmd(model, width, activation, layers, image, sample_shape, loss, batch_size, samples, epochs, meter, watts,
                rapl_root, poll, device, threads, table, no_count, progress, as_json):
    """Train MODEL once on synthetic data and measure its energy.

    MODEL: dnn, cnn (the sweep models), paper-dnn, paper-cnn, path/to/file.py:factory or package.module:attr.
    """
    if batch_size < 1 or epochs < 1 or (samples is not None and samples < 1) or threads < 1:
        raise click.UsageError("--batch-size, --samples, --epochs and --threads must be positive")

    def work():
        import torch

        from .counting import default_count, workload_counts
        from .sweeps import describe_hardware

        factory, shape, lossname = resolve_model(model, width=width, activation=activation, layers=layers, image=image,
                                                 sample_shape=_shape(sample_shape), loss=loss)
        n = samples or (1372 if len(shape) == 1 else 120)
        torch.set_num_threads(threads)
        m = _meter(meter, watts, rapl_root, poll)
        net = factory().to(device)
        g = torch.Generator().manual_seed(0)
        x = torch.rand((n, *shape), generator=g).to(device)
        with torch.no_grad():
            out = net(x[:1])
        if lossname == "mse":
            y = torch.rand((n, *out.shape[1:]), generator=g).to(device)
            lf = torch.nn.MSELoss()
        else:
            y = torch.randint(0, out.shape[1], (n,), generator=g).to(device)
            lf = torch.nn.CrossEntropyLoss()
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        import sys

        from tqdm import tqdm

        show = sys.stderr.isatty() if progress is None else progress
        bar = tqdm(total=epochs * -(-n // batch_size), desc=f"measure {model}", unit="step", disable=not show,
                   file=sys.stderr, mininterval=0.5)
        with bar, m.measure() as res:
            for _ in range(epochs):
                for i in range(0, n, batch_size):
                    opt.zero_grad(set_to_none=True)
                    lf(net(x[i:i + batch_size]), y[i:i + batch_size]).backward()
                    opt.step()
                    bar.update(1)
        d = {"model": model, "samples": n, "batch_size": batch_size, "epochs": epochs, **res.to_dict(),
             "hardware": describe_hardware(device, threads)}
        if not no_count:
            c = workload_counts(default_count, factory, shape, n, batch_size, epochs, "training", loss=lossname,
                                optimizer="sgd", table=table)
            d.update(tos=c.get("tos"), flops=c.get("flops"), steps=c.get("steps"))
        return d, res

    d, res = _wrap(work)
    if as_json:
        click.echo(json.dumps(d, indent=2, default=str))
        return
    click.echo(f"{model}: {res}")
    if "tos" in d:
        click.echo(f"TOs {d['tos']:,}  FLOPs {d['flops']:,}  steps {d['steps']}")
    if res.is_estimate:
        click.echo("note: ESTIMATE (given power x CPU time), not a measurement", err=True)


# -- sweep --------------------------------------------------------------------------------------------------------------
@click.command("sweep")
@click.argument("kind", type=click.Choice(["dnn", "cnn"]))
@click.option("-o", "--output", "log", required=True, type=click.Path(dir_okay=False), callback=_in_existing_dir,
              help="JSONL log to append runs to.")
@click.option("--repeats", type=int, default=3, show_default=True, help="Runs per configuration (paper: 50).")
@click.option("--trim", "trim_k", type=click.IntRange(min=0), default=0, show_default=True,
              help="Drop the K highest and K lowest runs of each configuration when fitting (paper: 5).")
@click.option("--resume", is_flag=True, help="Continue an existing log: skip the runs it already has.")
@click.option("--widths", default="4-18", show_default=True, help="dnn: hidden widths.")
@click.option("--activations", default="sigmoid,tanh,gelu", show_default=True, help="dnn: activations.")
@click.option("--data", default="synthetic", show_default=True,
              help="dnn: 'synthetic' (banknote-shaped) or a CSV (4 feature columns then the label).")
@click.option("--layers", "layer_list", default="2-10", show_default=True, help="cnn: numbers of conv layers.")
@click.option("--image", type=int, default=256, show_default=True, help="cnn: image side.")
@click.option("--samples", type=int, default=None, help="Instances (default: 1372 dnn, 120 cnn).")
@click.option("--epochs", type=int, default=None, help="Epochs per run (default: 2 dnn, 1 cnn; paper 2000 / 25).")
@click.option("--batch-size", type=int, default=None, help="Default 64 (cnn on cuda: 16).")
@_apply(meter_options)
@click.option("--device", default="cpu", show_default=True, callback=_device, help="cpu or cuda[:N].")
@click.option("--threads", type=int, default=1, show_default=True, help="torch CPU threads (paper: 1 core).")
@click.option("--cpu", type=click.IntRange(min=0, max=(os.cpu_count() or 1) - 1), default=None,
              help="Pin the process to this CPU core (Linux).")
@click.option("--table", default="paper", show_default=True, help="Hardware profile name or transistor table JSON for TOs.")
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def sweep_cmd(kind, log, repeats, trim_k, resume, widths, activations, data, layer_list, image, samples, epochs,
              batch_size, meter, watts, rapl_root, poll, device, threads, cpu, table, progress, as_json):
    """Run the paper's DNN or CNN sweep (Table II), appending every run to a JSONL log."""
    from .sweeps import cnn_configs, dnn_configs, run_sweep

    for name, v in (("--repeats", repeats), ("--samples", samples), ("--epochs", epochs), ("--batch-size", batch_size),
                    ("--image", image), ("--threads", threads)):
        if v is not None and v < 1:
            raise click.UsageError(f"{name} must be positive")
    if trim_k < 0 or (trim_k and repeats <= 2 * trim_k):
        raise click.UsageError(f"--trim {trim_k} needs more than {2 * trim_k} --repeats")

    def work():
        if kind == "dnn":
            configs = dnn_configs(_ints(widths, "--widths"), [a.strip() for a in activations.split(",") if a.strip()],
                                  epochs or 2, batch_size or 64, samples or 1372, data)
        else:
            bs = batch_size or (16 if device.startswith("cuda") else 64)
            configs = cnn_configs(_ints(layer_list, "--layers"), epochs or 1, bs, samples or 120, image)
        m = _meter(meter, watts, rapl_root, poll)
        if m.kind == "estimate":
            click.echo(f"note: logging ESTIMATES ({m.describe()}), not measurements; `meters` says why", err=True)
        return run_sweep(configs, log, repeats=repeats, trim_k=trim_k, meter=m, count_options={"table": table},
                         device=device, threads=threads, cpu=cpu, resume=resume, progress=progress)

    try:
        res = _wrap(work)
    except KeyboardInterrupt:
        raise click.ClickException(f"interrupted; finished runs are in {log}: rerun with --resume") from None
    if as_json:
        click.echo(json.dumps({"log": str(log), "done": res.done, "skipped": res.skipped, "others": res.others}))
        return
    click.echo(f"{res.done} run(s) logged to {log}" + (f"; {res.skipped} already there" if res.skipped else "")
               + (f"; {res.others} made by another sweep on the same log" if res.others else ""))


# -- fit ----------------------------------------------------------------------------------------------------------------
@click.command("fit")
@click.argument("log", type=click.Path(dir_okay=False), required=False)
@click.option("--features", "feature_specs", multiple=True, default=("tos,flops",), show_default=True,
              help="A feature set: comma-separated run columns (tos, flops, bos.mul, bos.*, bytes...); repeat to "
                   "compare sets. The polynomial takes the features of a set one at a time.")
@click.option("--model", "model_spec", default="poly", show_default=True,
              help="Comma list of poly (the paper's polynomial of one feature), linear (non-negative "
                   "coefficients), ridge, loglinear (a power law).")
@click.option("--cv", "cv_spec", default=None, help="Validation: split (seeded, --test-size), kfold:K, group:COLUMN "
              "(group:family: fit on the other families), given (--pen: test.csv). Default: split; given with --pen.")
@click.option("--pen", is_flag=True, help="Fit the shipped PEN measurements (counted here) instead of a LOG.")
@click.option("--pen-dir", type=click.Path(file_okay=False), default=None, help="Another copy of the PEN CSVs.")
@click.option("--table", default="paper", show_default=True, help="--pen: hardware profile or table JSON for TOs.")
@click.option("--report", is_flag=True, help="--pen: the README comparison (every feature set and model, on "
              "test.csv and across families) as Markdown.")
@click.option("--degree", "degrees", default="1,2,3", show_default=True, help="Polynomial degrees.")
@click.option("--trim", "trim_k", type=click.IntRange(min=0), default=None, help="Runs trimmed each side per configuration (default: the log's).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the 60/40 split.")
@click.option("--test-size", type=click.FloatRange(0.05, 0.95), default=0.4, show_default=True, help="Validation share.")
@click.option("--select", default=None, metavar="FEATURE:DEGREE", help="Default fit of the profile (default: best TOs fit).")
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False), default=None, help="Write PNG plots here.")
@click.option("-o", "--output", "profile", type=click.Path(dir_okay=False), default=None, callback=_in_existing_dir,
              help="Profile JSON to write.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def fit_cmd(log, feature_specs, model_spec, cv_spec, pen, pen_dir, table, report, degrees, trim_k, seed, test_size,
            select, plot_dir, profile, as_json):
    """Fit energy on TOs, FLOPs and any other counted feature, from a sweep LOG or the shipped PEN data.

    By default: the paper's polynomials (degrees 1-3) of each feature on a seeded 60/40 split, Table-III metrics.
    With --model/--cv/--pen/--report or several --features: multi-feature models, cross-validated.
    """
    from .fit import FEATURES

    if pen == bool(log):
        raise click.UsageError("give a sweep LOG or --pen (not both)" if pen else "missing LOG (or --pen)")
    models = [m.strip().lower() for m in model_spec.split(",") if m.strip()]
    if pen or report or cv_spec or models != ["poly"] or len(feature_specs) != 1:
        return _energy_fit(log, feature_specs, models, degrees, cv_spec, pen, pen_dir, table, report, trim_k, seed,
                           test_size, select, plot_dir, profile, as_json)
    features = feature_specs[0]
    feats = [f.strip().lower() for f in features.split(",") if f.strip()]
    bad = [f for f in feats if f not in FEATURES]
    if bad or not feats:
        raise click.UsageError(f"--features: expected a list of {', '.join(FEATURES)}; got {features!r}")
    degs = sorted(set(_ints(degrees, "--degree")))
    if not 0 < test_size < 1:
        raise click.UsageError("--test-size must be between 0 and 1")
    if trim_k is not None and trim_k < 0:
        raise click.UsageError("--trim must be >= 0")
    sel = None
    if select:
        m = re.fullmatch(r"(tos|flops):(\d+)", select.strip().lower())
        if not m:
            raise click.UsageError(f"--select: expected FEATURE:DEGREE like tos:1; got {select!r}")
        sel = (m.group(1), int(m.group(2)))
        if sel[0] not in feats or sel[1] not in degs:
            raise click.UsageError(f"--select {select} is not among the fitted features and degrees")

    def work():
        from .checks import unique_runs
        from .fit import plot_report
        from .profiles import fit_log
        from .sweeps import read_log, trim

        recs = read_log(log)
        report, prof = fit_log(recs, feats, degs, trim_k=trim_k, seed=seed, test_size=test_size, source=str(log),
                               warn=lambda w: click.echo(f"warning: {w}", err=True))
        if sel:
            prof.selected = sel
        plots = []
        if plot_dir:
            k = trim_k if trim_k is not None else int(recs[0].get("trim", 0) or 0)
            kept, _ = trim(unique_runs(recs)[0], k)
            plots = plot_report(report, {f: [float(r[f]) for r in kept] for f in feats},
                                [float(r["joules"]) for r in kept], plot_dir, estimate=prof.kind == "estimate")
        if profile:
            prof.save(profile)
        return report, prof, plots

    report, prof, plots = _wrap(work)
    if as_json:
        d = report.to_dict()
        d["selected"] = {"feature": prof.selected[0], "degree": prof.selected[1]}
        d["plots"] = plots
        from .checks import strict_json

        click.echo(_wrap(lambda: strict_json(d, "the report", indent=2)))
    else:
        click.echo(report.to_text())
        for p in plots:
            click.echo(f"plot: {p}")
        if profile:
            click.echo(f"profile: {profile} (default fit {prof.selected[0]} degree {prof.selected[1]})")


def _energy_fit(log, feature_specs, models, degrees, cv_spec, pen, pen_dir, table, report, trim_k, seed, test_size,
                select, plot_dir, profile, as_json):
    """``fit`` with several features, models or validations (:func:`calibration.fitcli.run_energy_fit`)."""
    from .energy_model import MODELS
    from .features import NOT_FEATURES

    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        raise click.UsageError(f"--model: expected a list of {', '.join(MODELS)}; got {','.join(models) or 'nothing'}")
    for spec in feature_specs:
        names = [f.strip().lower() for f in spec.split(",")]
        if not any(names) or any(not n or n in NOT_FEATURES for n in names):
            raise click.UsageError(f"--features: expected column names such as tos,flops,bos.mul; got {spec!r}")
    if not 0 < test_size < 1:
        raise click.UsageError("--test-size must be between 0 and 1")
    if (pen_dir or report or table != "paper") and not pen:
        raise click.UsageError("--pen-dir, --table and --report go with --pen")
    degs = sorted(set(_ints(degrees, "--degree")))

    def work():
        from .fitcli import run_energy_fit

        return run_energy_fit(log=log, pen=pen, pen_dir=pen_dir, table=table, feature_specs=feature_specs,
                              models=models, degrees=degs, cv_spec=cv_spec, seed=seed, test_size=test_size,
                              trim_k=trim_k, select=select, plot_dir=plot_dir, profile=profile, report=report,
                              as_json=as_json, progress=not as_json)

    from .energy_model import parse_cv

    try:  # a bad --cv is a usage error, found before any counting
        parse_cv(cv_spec or "split", test_size=test_size, seed=seed)
    except CalibrationError as e:
        raise click.UsageError(str(e)) from None
    _wrap(work)


# -- predict ------------------------------------------------------------------------------------------------------------
@click.command("predict")
@click.argument("model")
@click.option("--profile", "profile_path", required=True, type=click.Path(dir_okay=False), help="Calibration profile JSON.")
@_apply(model_options)
@click.option("--feature", type=click.Choice(["tos", "flops"]), default=None, help="Fit to use (default: the profile's).")
@click.option("--degree", type=int, default=None, help="Degree of the fit to use.")
@click.option("--level", "levels", multiple=True, type=click.Choice(["training", "validation", "inference"]),
              help="Levels to predict (default: all three).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def predict_cmd(model, profile_path, width, activation, layers, image, sample_shape, loss, batch_size, samples, epochs,
                feature, degree, levels, as_json):
    """Predict the energy of MODEL's training, validation and inference from a calibration profile, before running it."""
    if batch_size < 1 or epochs < 1 or (samples is not None and samples < 1):
        raise click.UsageError("--batch-size, --samples and --epochs must be positive")

    def work():
        from .profiles import Profile, predict_model

        factory, shape, lossname = resolve_model(model, width=width, activation=activation, layers=layers, image=image,
                                                 sample_shape=_shape(sample_shape), loss=loss)
        prof = Profile.load(profile_path)
        n = samples or (1372 if len(shape) == 1 else 120)
        res = predict_model(prof, factory, shape, batch_size=batch_size, samples=n, epochs=epochs,
                            levels=levels or ("training", "validation", "inference"), feature=feature, degree=degree,
                            count_options={"loss": lossname})
        res.update(model=model, samples=n, batch_size=batch_size, epochs=epochs, profile=str(profile_path))
        return res

    res = _wrap(work)
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    from .fit import label

    unit = res["unit"]
    how = f"model {res['energy_model']}" if "energy_model" in res else f"fit on {label(res['feature'])} degree {res['degree']}"
    click.echo(f"{model}: {res['epochs']} epoch(s) x {res['samples']} samples, batch {res['batch_size']}; {how}"
               + (" (profile built from ESTIMATES)" if res["kind"] == "estimate" else ""))
    for lv, v in res["levels"].items():
        tos = f"{v['tos']:,}" if v["tos"] is not None else "-"
        click.echo(f"  {lv:<10} {v['energy']:.4g} {unit}   TOs {tos}   FLOPs {v['flops']:,}")
    click.echo(f"note: {res['note']}")
    for lv, v in res["levels"].items():
        if v["energy"] is not None and v["energy"] <= 0:
            click.echo(f"warning: the fit predicts {v['energy']:.4g} {unit} for {lv}: no energy is negative; "
                       "this workload is outside what the profile was calibrated on", err=True)


COMMANDS = [meters_cmd, measure_cmd, sweep_cmd, fit_cmd, predict_cmd]


@click.group("calibration")
def main():
    """Energy calibration: meters, sweeps, fits, profiles and prediction."""


for _c in COMMANDS:
    main.add_command(_c)

__all__ = ["COMMANDS", "meters_cmd", "measure_cmd", "sweep_cmd", "fit_cmd", "predict_cmd", "resolve_model", "main"]
