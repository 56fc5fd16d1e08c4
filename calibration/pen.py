"""Loader for the PEN / ABCD measured-power data set (``../shared/data/pen/``; see its README).

Each row's ``Model`` string is a flat list of layers followed by a tail ``WEIGHTS SCHEDULER EPOCHS BATCH OPTIMIZER``
(``WEIGHTS`` is ``untrained`` or a torchvision weight tag such as ``IMAGENET1K_V1``). Checked on the data: the
tail's first number is 10 in every row and the second is 16, 64 or 128; for the same architecture, runs with
batch 64 use about 4x the energy of runs with batch 16, so a run processes a fixed number of batches of that size:
we read the tail as ``EPOCHS BATCH`` and model a run's work as ``EPOCHS x steps_per_epoch x one step of BATCH``
with ``steps_per_epoch`` unknown (default 1; any constant is absorbed by the fit).

The target ``Avg_Power_Simpson`` is treated as the *energy of the run in arbitrary but consistent units* (its
values scale with model size while the median power stays near 4-6 W, so it behaves like integrated power), never
as joules.

Architectures from torchvision (ResNet, DenseNet, ConvNeXt, VGG, AlexNet) were flattened into the string in module
order, so residual branches and concatenations are not written down. :class:`PENNet` runs the layers in order
and adapts where the string does not chain: a layer expecting C channels takes the most recent earlier tensor with
C channels (a ResNet downsample branch, added back to the main path when its shape matches), else the current
tensor is padded or cut to C channels (DenseNet's concatenation; free of arithmetic). In ConvNeXt-like strings
(those with layer norm) a 7x7 stride-1 convolution with equal in and out channels is depthwise (groups = C), as
in torchvision. Identity residual additions are not in the string and are not counted.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import CalibrationError

TARGET = "Avg_Power_Simpson"
ENERGY_UNIT = "a.u. (PEN Avg_Power_Simpson, energy in arbitrary units)"
OPTIMIZERS = ("SGD", "Adam", "AdamW", "Adamax", "Adagrad", "Adadelta", "RMSprop", "Rprop", "ASGD", "NAdam", "RAdam")


def default_pen_dir() -> Path:
    """``../shared/data/pen`` beside the repository (the checkout that holds this package)."""
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "pen"


@dataclass
class LayerSpec:
    kind: str  # dense, conv, batchnorm, layernorm, maxpool, avgpool, adaptive_avg, act, dropout
    args: dict
    output: bool = False


@dataclass
class PENRun:
    """One row: the architecture, the training workload and the measured energy (arbitrary units)."""

    model_string: str
    layers: list[LayerSpec]
    input_shape: tuple[int, int, int]  # (C, H, W), torch order
    weights: str
    scheduler: str
    epochs: int
    batch_size: int
    optimizer: str
    energy: float
    row: int = 0
    columns: dict = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        """The model string without the training tail: equal architectures compare equal."""
        return " ".join(self.model_string.split()[:-5])

    def model(self, device: Any = "meta"):
        """A fresh :class:`PENNet` (on the meta device by default: shapes only, no memory)."""
        return build_model(self.layers, self.input_shape, device=device)

    def optimizer_factory(self) -> Callable:
        import torch

        cls = getattr(torch.optim, self.optimizer)
        return lambda params: cls(params)


_LIST = re.compile(r"^LIST((?:_\d+)+)$")


def _pair(tok: str, what: str) -> tuple[int, int]:
    if tok == "0":
        return (0, 0)
    m = _LIST.match(tok)
    if not m:
        raise CalibrationError(f"expected LIST_a_b or 0 for {what}, got {tok!r}")
    v = tuple(int(x) for x in m.group(1).strip("_").split("_"))
    return (v[0], v[0]) if len(v) == 1 else (v[0], v[1])


def parse_model_string(text: str) -> tuple[list[LayerSpec], tuple[int, int, int], dict]:
    """Layers, input shape ``(C, H, W)`` and the tail ``{weights, scheduler, epochs, batch_size, optimizer}``."""
    t = text.split()
    if len(t) < 8:
        raise CalibrationError(f"model string too short: {text[:60]!r}")
    tail = t[-5:]
    try:
        meta = {"weights": tail[0], "scheduler": tail[1], "epochs": int(tail[2]), "batch_size": int(tail[3]),
                "optimizer": tail[4]}
    except ValueError:
        raise CalibrationError(f"model string tail is not 'WEIGHTS SCHEDULER EPOCHS BATCH OPTIMIZER': "
                               f"{' '.join(tail)!r}") from None
    t = t[:-5]
    if t[:2] != ["dense", "input"]:
        raise CalibrationError(f"model string must start with 'dense input LIST_H_W_C', got {' '.join(t[:3])!r}")
    m = _LIST.match(t[2])
    if not m:
        raise CalibrationError(f"bad input shape {t[2]!r}")
    dims = [int(x) for x in m.group(1).strip("_").split("_")]
    if len(dims) == 3:
        input_shape = (dims[2], dims[0], dims[1])
    elif len(dims) == 1:
        input_shape = (dims[0], 1, 1)
    else:
        raise CalibrationError(f"input shape {t[2]!r}: expected H_W_C")
    i, layers = 3, []

    def need(n):
        if i + n > len(t):
            raise CalibrationError(f"model string ends inside a {t[i]!r} layer")

    try:
        while i < len(t):
            tok = t[i]
            if tok == "dense":
                out = t[i + 1] == "output"
                j = i + 2 if out else i + 1
                need(j - i + 2)
                layers.append(LayerSpec("dense", {"in": int(t[j]), "out": int(t[j + 1])}, out))
                i = j + 2
            elif tok == "convolutional":
                need(6)
                layers.append(LayerSpec("conv", {"in": int(t[i + 1]), "out": int(t[i + 2]), "kernel": _pair(t[i + 3], "kernel"),
                                                 "stride": _pair(t[i + 4], "stride"), "padding": _pair(t[i + 5], "padding")}))
                i += 6
            elif tok == "normalization":
                kind = t[i + 1]
                if kind == "batch":
                    need(5)
                    layers.append(LayerSpec("batchnorm", {"channels": int(t[i + 2]), "eps": float(t[i + 3]),
                                                          "momentum": float(t[i + 4])}))
                    i += 5
                elif kind == "layer":
                    need(4)
                    layers.append(LayerSpec("layernorm", {"channels": int(t[i + 2]), "eps": float(t[i + 3])}))
                    i += 4
                else:
                    raise CalibrationError(f"unknown normalization {kind!r}")
            elif tok == "pooling":
                kind = t[i + 1]
                if kind == "adaptive_avg":
                    need(3)
                    layers.append(LayerSpec("adaptive_avg", {"size": _pair(t[i + 2], "output size")}))
                    i += 3
                elif kind in ("max", "average"):
                    need(5)
                    layers.append(LayerSpec("maxpool" if kind == "max" else "avgpool",
                                            {"kernel": _pair(t[i + 2], "kernel"), "stride": _pair(t[i + 3], "stride"),
                                             "padding": _pair(t[i + 4], "padding")}))
                    i += 5
                else:
                    raise CalibrationError(f"unknown pooling {kind!r}")
            elif tok == "nl_activation":
                need(2)
                layers.append(LayerSpec("act", {"name": t[i + 1]}))
                i += 2
            elif tok == "dropout":
                need(2)
                layers.append(LayerSpec("dropout", {"p": float(t[i + 1])}))
                i += 2
            else:
                raise CalibrationError(f"unknown layer token {tok!r} at position {i}")
    except (ValueError, IndexError) as e:
        raise CalibrationError(f"malformed layer near token {i} ({' '.join(t[i:i + 4])!r}): {e}") from None
    if not layers:
        raise CalibrationError("model string has no layers")
    return layers, input_shape, meta


_ACTS = {"relu": "ReLU", "gelu": "GELU", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
         "leaky_relu": "LeakyReLU", "elu": "ELU", "silu": "SiLU"}


def _module(spec: LayerSpec, depthwise_ok: bool):
    from torch import nn

    a = spec.args
    if spec.kind == "dense":
        return nn.Linear(a["in"], a["out"])
    if spec.kind == "conv":
        groups = 1
        if depthwise_ok and a["in"] == a["out"] and a["kernel"] == (7, 7) and a["stride"] == (1, 1):
            groups = a["in"]
        return nn.Conv2d(a["in"], a["out"], a["kernel"], a["stride"], a["padding"], groups=groups)
    if spec.kind == "batchnorm":
        return nn.BatchNorm2d(a["channels"], eps=a["eps"], momentum=a["momentum"])
    if spec.kind == "layernorm":
        return nn.LayerNorm(a["channels"], eps=a["eps"])
    if spec.kind == "maxpool":
        return nn.MaxPool2d(a["kernel"], a["stride"], a["padding"])
    if spec.kind == "avgpool":
        return nn.AvgPool2d(a["kernel"], a["stride"], a["padding"])
    if spec.kind == "adaptive_avg":
        return nn.AdaptiveAvgPool2d(a["size"])
    if spec.kind == "dropout":
        return nn.Dropout(a["p"])
    if spec.kind == "act":
        name = _ACTS.get(a["name"].lower())
        if name is None:
            raise CalibrationError(f"unknown activation {a['name']!r}")
        return nn.Softmax(dim=1) if name == "Softmax" else getattr(nn, name)()
    raise CalibrationError(f"unknown layer kind {spec.kind!r}")  # pragma: no cover


def _channels_needed(spec: LayerSpec) -> int | None:
    if spec.kind in ("conv", "dense"):
        return spec.args["in"]
    if spec.kind in ("batchnorm", "layernorm"):
        return spec.args["channels"]
    return None


def _PENNet():
    import torch
    from torch import nn

    class PENNet(nn.Module):
        """The layers of a PEN model string run in order, adapting where the flattened string does not chain
        (see the module docstring of :mod:`calibration.pen`)."""

        def __init__(self, specs: list[LayerSpec], input_shape):
            super().__init__()
            self.specs = list(specs)
            self.input_shape = tuple(input_shape)
            depthwise_ok = any(s.kind == "layernorm" for s in specs)
            self.channels_last_mlp = depthwise_ok
            self.layers = nn.ModuleList(_module(s, depthwise_ok) for s in specs)

        def forward(self, x):
            history = [x]
            main = None  # the main path while a residual branch runs
            for spec, layer in zip(self.specs, self.layers):
                need = _channels_needed(spec)
                if spec.kind in ("conv", "dense", "maxpool", "avgpool", "adaptive_avg") and main is not None:
                    if main.shape == x.shape:  # close the residual branch
                        x = main + x
                    main = None
                if spec.kind == "dense":
                    x = self._dense(layer, x, need, history)
                elif spec.kind == "layernorm":
                    x = self._fit_channels(x, need, history)
                    x = layer(x.movedim(1, -1)).movedim(-1, 1) if x.dim() == 4 else layer(x)
                elif spec.kind in ("conv", "batchnorm"):
                    if x.dim() == 2 and spec.kind == "batchnorm":
                        x = self._fit_features(x, need)
                        x = nn.functional.batch_norm(x, layer.running_mean, layer.running_var, layer.weight,
                                                     layer.bias, self.training, layer.momentum, layer.eps)
                    else:
                        if x.dim() == 4 and x.shape[1] != need:
                            older = self._find(history, need)
                            if older is not None and spec.kind == "conv":
                                if main is None:
                                    main = x
                                x = older
                            else:
                                x = self._fit_channels(x, need, history)
                        x = layer(x)
                else:
                    x = layer(x)
                history.append(x)
            if main is not None and main.shape == x.shape:
                x = main + x
            return x

        @staticmethod
        def _find(history, c):
            for h in reversed(history[:-1]):
                if h.dim() == 4 and h.shape[1] == c:
                    return h
            return None

        @staticmethod
        def _fit_channels(x, c, history):
            if x.dim() != 4 or x.shape[1] == c:
                return x
            if x.shape[1] > c:
                return x[:, :c]
            pad = x.new_zeros((x.shape[0], c - x.shape[1], *x.shape[2:]))
            return torch.cat([x, pad], dim=1)  # a concatenation: no arithmetic

        @staticmethod
        def _fit_features(x, n):
            if x.shape[1] == n:
                return x
            if x.shape[1] > n:
                return x[:, :n]
            return torch.cat([x, x.new_zeros((x.shape[0], n - x.shape[1]))], dim=1)

        def _dense(self, layer, x, n, history):
            if x.dim() == 4:
                if x.shape[1] == n and x.shape[2] * x.shape[3] > 1:
                    if self.channels_last_mlp:
                        return layer(x.movedim(1, -1)).movedim(-1, 1)  # a channels-last MLP (ConvNeXt)
                    x = nn.functional.adaptive_avg_pool2d(x, 1)  # torchvision's functional pool (DenseNet)
                x = x.flatten(1)
            elif x.dim() > 2:
                x = x.flatten(1)
            return layer(self._fit_features(x, n))

    return PENNet


_PENNET = None


def build_model(layers: list[LayerSpec], input_shape, device: Any = "meta"):
    """A :class:`PENNet` built directly on ``device`` (``meta``: no memory however large the model)."""
    import torch

    global _PENNET
    if _PENNET is None:
        _PENNET = _PENNet()
    with torch.device(device):
        return _PENNET(layers, input_shape)


def load_pen(path: str | Path, limit: int | None = None) -> list[PENRun]:
    """Every row of a PEN CSV as a :class:`PENRun`. Errors name the file and row."""
    p = Path(path)
    try:
        fh = open(p, newline="")
    except FileNotFoundError:
        raise CalibrationError(f"no such PEN file: {p} (the data lives in ../shared/data/pen/)") from None
    except OSError as e:
        raise CalibrationError(f"cannot read {p}: {e.strerror or e}") from None
    runs = []
    with fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "Model" not in reader.fieldnames or TARGET not in reader.fieldnames:
            raise CalibrationError(f"{p}: expected columns Model and {TARGET}")
        for n, row in enumerate(reader, 2):
            if limit is not None and len(runs) >= limit:
                break
            try:
                layers, shape, meta = parse_model_string(row["Model"])
                energy = float(row[TARGET])
            except CalibrationError as e:
                raise CalibrationError(f"{p} line {n}: {e}") from None
            except (TypeError, ValueError):
                raise CalibrationError(f"{p} line {n}: {TARGET} is not a number") from None
            runs.append(PENRun(row["Model"], layers, shape, energy=energy, row=n,
                               columns={k: v for k, v in row.items() if k not in ("Model",)}, **meta))
    return runs


def _optimizer_step_counts(count_fn: Callable, n_params: int, optimizer_factory: Callable, **options) -> dict:
    """TOs and FLOPs of one optimizer step over ``n_params`` parameters: counted on a proxy with a single
    parameter tensor of that size (training with the optimizer minus training without), since an optimizer's
    work is elementwise over parameters. Per-tensor scalar bookkeeping (a few ops per tensor) is left out."""
    import torch
    from torch import nn

    def proxy():
        with torch.device("meta"):
            return nn.Linear(1, n_params, bias=False)

    opts = {k: v for k, v in options.items() if k not in ("optimizer", "loss")}
    with_opt = count_fn(proxy(), (1, 1), "training", optimizer=optimizer_factory, loss="mse", **opts)
    without = count_fn(proxy(), (1, 1), "training", optimizer=None, loss="mse", **opts)
    return {k: (None if with_opt.get(k) is None or without.get(k) is None else int(with_opt[k]) - int(without[k]))
            for k in ("tos", "flops")}


def count_runs(runs: Iterable[PENRun], count_fn: Callable | None = None, *, steps_per_epoch: int = 1,
               optimizer: bool = True, progress: bool = False, **count_options) -> list[dict]:
    """TOs and FLOPs of every run's training: ``epochs x steps_per_epoch x`` one training step (forward,
    cross-entropy loss, backward at the run's batch size and, with ``optimizer``, the run's optimizer step).

    Forward + backward is counted once per (architecture, batch); the optimizer step once per (parameter count,
    optimizer) on a one-tensor proxy (see :func:`_optimizer_step_counts`). An optimizer that cannot be counted
    on the meta device (ASGD calls ``.item()``) contributes nothing and the run says so in ``notes``."""
    from tqdm import tqdm

    from .counting import default_count

    count_fn = count_fn or default_count
    step_cache: dict[tuple, dict] = {}
    opt_cache: dict[tuple, dict] = {}
    out = []
    runs = list(runs)
    for r in tqdm(runs, desc="counting", unit="run", disable=not progress):
        key = (r.architecture, r.batch_size)
        if key not in step_cache:
            opts = {"loss": "cross-entropy", **count_options, "optimizer": None}
            model = r.model()
            c = count_fn(model, (r.batch_size, *r.input_shape), "training", **opts)
            c = dict(c, n_params=sum(p.numel() for p in model.parameters()))
            step_cache[key] = c
        c = step_cache[key]
        tos, flops = c.get("tos"), c.get("flops")
        notes = []
        if optimizer:
            okey = (c["n_params"], r.optimizer)
            if okey not in opt_cache:
                try:
                    opt_cache[okey] = _optimizer_step_counts(count_fn, c["n_params"], r.optimizer_factory(),
                                                             **count_options)
                except Exception as e:  # noqa: BLE001 - e.g. ASGD on meta tensors
                    opt_cache[okey] = {"tos": 0, "flops": 0, "error": f"{type(e).__name__}: {str(e)[:120]}"}
            o = opt_cache[okey]
            if "error" in o:
                notes.append(f"{r.optimizer} step not counted ({o['error']})")
            tos = None if tos is None or o.get("tos") is None else tos + o["tos"]
            flops = None if flops is None or o.get("flops") is None else flops + o["flops"]
        k = r.epochs * steps_per_epoch
        out.append({"tos": None if tos is None else int(tos) * k, "flops": None if flops is None else int(flops) * k,
                    "energy": r.energy, "uncounted": c.get("uncounted"), "notes": notes})
    return out


__all__ = ["PENRun", "LayerSpec", "parse_model_string", "build_model", "load_pen", "count_runs", "default_pen_dir",
           "TARGET", "ENERGY_UNIT", "OPTIMIZERS"]
