"""The PEN / ABCD measured-power data set: its architecture grammar, its rows, and what one run's work was.

The data ships with gatesim (``calibration/data/pen``: ``training.csv``, ``test.csv``, MIT, Mehmet Cengiz,
`PowerEstimationNetworks <https://github.com/cengizmehmet/PowerEstimationNetworks>`_; see the README there).
:func:`load_pen` reads those or any file of the same protocol (the upstream ``unknown.csv`` of recurrent networks).

**Grammar.** A row's ``Model`` is ``dense input LIST_H_W_C`` (the input shape), the layers, then the training tail.
Every layer token the data set uses is in :data:`LAYER_GRAMMAR` (token -> arguments); :func:`parse_model_string`
turns a string into :class:`LayerSpec` objects and fails on the first token it cannot read with one message that
names it and its position.

**The tail** is ``WEIGHTS SCHEDULER EPOCHS BATCH OPTIMIZER``. The data set's documentation (upstream README,
``data/README.md``, the notebook, which only tokenizes the string) does not define it, so the reading rests on the
data: in ``training.csv``/``test.csv`` EPOCHS is always 10 and BATCH is 16, 64 or 128, and for one architecture
and optimizer a run of batch 64 uses about 3.5-4x the energy of a run of batch 16 (its duration, energy over
median power, grows the same way): a run is a fixed number of steps per epoch, each of BATCH samples. The
upstream ``unknown.csv`` has other values (``10 10`` and ``25 4``); for one recurrent network, ``25 4`` uses
2.2x the energy of ``10 10``: 25/10 = 2.5 epochs, while the samples per epoch, BATCH x steps, fall 2.5x; a
recurrent network over 50,176 time steps is latency-bound, so its time follows the steps, not the batch. Both
fit ``EPOCHS BATCH`` with a fixed number of steps per epoch (unknown; any constant factor is absorbed by a fit).

The target ``Avg_Power_Simpson`` is treated as the *energy of the run in arbitrary but consistent units* (its
values scale with the size of the run while the median power stays between 3.4 and 6.8 W), never as joules.

The torch module a string describes is built by :mod:`calibration.pennet`.
"""
from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from .errors import CalibrationError

TARGET = "Avg_Power_Simpson"
ENERGY_UNIT = "a.u. (PEN Avg_Power_Simpson, energy in arbitrary units)"
SPLITS = ("training", "test")


def default_pen_dir() -> Path:
    """The PEN data shipped inside the package (``calibration/data/pen``)."""
    return Path(__file__).resolve().parent / "data" / "pen"


# -- grammar ------------------------------------------------------------------------------------------------------------
@dataclass
class LayerSpec:
    """One layer of a PEN string. ``kind``: dense, conv, batchnorm, layernorm, maxpool, avgpool, adaptive_avg, act,
    dropout, reshape, recurrent. ``output``: the string marks it as the output layer."""

    kind: str
    args: dict
    output: bool = False


class _Tokens:
    """A cursor over the layer tokens; every read names what it expected and where."""

    def __init__(self, tokens: list[str], offset: int = 0):
        self.t, self.i, self.offset = tokens, 0, offset
        self.layer_start, self.layer = 0, ""

    def done(self) -> bool:
        return self.i >= len(self.t)

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def fail(self, msg: str, at: int | None = None) -> CalibrationError:
        at = self.i if at is None else at
        return CalibrationError(f"token {at + self.offset + 1}: {msg}")

    def next(self, what: str) -> str:
        if self.i >= len(self.t):
            raise self.fail(f"the string ends inside a {self.layer!r} layer (expected {what})", self.layer_start)
        tok = self.t[self.i]
        self.i += 1
        return tok

    def _conv(self, what: str, fn, kind: str, ok=lambda v: True, rule: str = ""):
        tok = self.next(what)
        try:
            v = fn(tok)
        except ValueError:
            raise self.fail(f"{self.layer!r} {what}: expected {kind}, got {tok!r}", self.i - 1) from None
        if not ok(v):
            raise self.fail(f"{self.layer!r} {what} must be {rule}, got {tok!r}", self.i - 1)
        return v

    def int(self, what: str, minimum: int = 1) -> int:
        tok = self.t[self.i] if self.i < len(self.t) else ""
        if tok.isdigit() and int(tok) >= minimum:  # the common case, fast
            self.i += 1
            return int(tok)
        return self._conv(what, int, "an integer", lambda v: v >= minimum, f">= {minimum}")

    def float(self, what: str, lo: float = 0.0, hi: float | None = None) -> float:
        return self._conv(what, float, "a number", lambda v: lo <= v and (hi is None or v <= hi),
                          f"in [{lo}, {hi}]" if hi is not None else f">= {lo}")

    def bool(self, what: str) -> bool:
        tok = self.next(what)
        if tok not in ("True", "False"):
            raise self.fail(f"{self.layer!r} {what}: expected True or False, got {tok!r}", self.i - 1)
        return tok == "True"

    def dims(self, what: str, n: int | None = None, allow_zero: bool = False) -> tuple[int, ...]:
        """``LIST_a_b...`` (``LIST_a`` repeats a to ``n`` dims); ``0`` for zeros where allowed."""
        tok = self.next(what)
        if allow_zero and tok == "0":
            return (0,) * (n or 1)
        m = _LIST.match(tok)
        if not m:
            raise self.fail(f"{self.layer!r} {what}: expected LIST_a_b" + (" or 0" if allow_zero else "")
                            + f", got {tok!r}", self.i - 1)
        v = tuple(int(x) for x in m.group(1).strip("_").split("_"))
        if n is not None:
            if len(v) == 1:
                v = v * n
            elif len(v) != n:
                raise self.fail(f"{self.layer!r} {what}: expected {n} numbers, got {tok!r}", self.i - 1)
        return v


_LIST = re.compile(r"^LIST((?:_\d+)+)$")
_ACTIVATIONS = ("relu", "gelu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "silu")
RECURRENT_CELLS = ("gru", "lstm", "rnn")


def _dense(t: _Tokens) -> LayerSpec:
    out = t.peek() == "output"
    if out:
        t.next("output")
    return LayerSpec("dense", {"in": t.int("input features"), "out": t.int("output features")}, out)


def _conv(t: _Tokens) -> LayerSpec:
    a = {"in": t.int("input channels"), "out": t.int("output channels"), "kernel": t.dims("kernel", 2),
         "stride": t.dims("stride", 2), "padding": t.dims("padding", 2, allow_zero=True)}
    if min(a["kernel"]) < 1 or min(a["stride"]) < 1:
        raise t.fail("'convolutional' kernel and stride must be positive", t.layer_start)
    return LayerSpec("conv", a)


def _normalization(t: _Tokens) -> LayerSpec:
    kind = t.next("batch or layer")
    if kind == "batch":
        return LayerSpec("batchnorm", {"channels": t.int("channels"), "eps": t.float("eps"),
                                       "momentum": t.float("momentum", 0.0, 1.0)})
    if kind == "layer":
        return LayerSpec("layernorm", {"channels": t.int("channels"), "eps": t.float("eps")})
    raise t.fail(f"unknown normalization {kind!r} (known: batch, layer)", t.i - 1)


def _pooling(t: _Tokens) -> LayerSpec:
    kind = t.next("max, average or adaptive_avg")
    if kind == "adaptive_avg":
        return LayerSpec("adaptive_avg", {"size": t.dims("output size", 2)})
    if kind in ("max", "average"):
        return LayerSpec("maxpool" if kind == "max" else "avgpool",
                         {"kernel": t.dims("kernel", 2), "stride": t.dims("stride", 2),
                          "padding": t.dims("padding", 2, allow_zero=True)})
    raise t.fail(f"unknown pooling {kind!r} (known: max, average, adaptive_avg)", t.i - 1)


def _activation(t: _Tokens) -> LayerSpec:
    name = t.next("activation name")
    if name.lower() not in _ACTIVATIONS:
        raise t.fail(f"unknown activation {name!r} (known: {', '.join(_ACTIVATIONS)})", t.i - 1)
    return LayerSpec("act", {"name": name.lower()})


def _dropout(t: _Tokens) -> LayerSpec:
    return LayerSpec("dropout", {"p": t.float("probability", 0.0, 1.0)})


def _reshape(t: _Tokens) -> LayerSpec:
    return LayerSpec("reshape", {"shape": t.dims("shape")})


def _recurrent(t: _Tokens) -> LayerSpec:
    """``recurrent gru|lstm|rnn IN HIDDEN [LAYERS] FLAG``: the upstream ``unknown.csv`` writes both
    ``recurrent gru 3 128 1 True`` and ``recurrent gru 3 64 True`` (stacked as separate layers). The arguments
    read as the PyTorch constructor's ``input_size hidden_size [num_layers] batch_first``; the flag is True in
    every row, and the input is reshaped to (batch, steps, features), which only batch_first=True reads as a
    sequence per sample. The counts do not depend on it."""
    cell = t.next("gru, lstm or rnn")
    if cell not in RECURRENT_CELLS:
        raise t.fail(f"unknown recurrent cell {cell!r} (known: {', '.join(RECURRENT_CELLS)})", t.i - 1)
    a: dict[str, Any] = {"cell": cell, "in": t.int("input features"), "hidden": t.int("hidden features"),
                         "layers": 1}
    if t.peek() not in ("True", "False"):
        a["layers"] = t.int("number of layers")
    a["batch_first"] = t.bool("batch_first flag")
    return LayerSpec("recurrent", a)


#: layer token -> its parser, in the style of a flop-counter registry; the docstring lists the arguments
LAYER_GRAMMAR: dict[str, Callable[[_Tokens], LayerSpec]] = {
    "dense": _dense,                  # dense [output] IN OUT
    "convolutional": _conv,           # convolutional CIN COUT LIST_kh_kw LIST_sh_sw LIST_ph_pw|0
    "normalization": _normalization,  # normalization batch C EPS MOMENTUM | normalization layer C EPS
    "pooling": _pooling,              # pooling max|average LIST_k LIST_s LIST_p|0 | pooling adaptive_avg LIST_h_w
    "nl_activation": _activation,     # nl_activation relu|gelu|sigmoid|tanh|softmax|...
    "dropout": _dropout,              # dropout P
    "reshape": _reshape,              # reshape LIST_d1_d2... (per sample)
    "recurrent": _recurrent,          # recurrent gru|lstm|rnn IN HIDDEN [LAYERS] True|False
}


def parse_model_string(text: str) -> tuple[list[LayerSpec], tuple[int, ...], dict]:
    """Layers, input shape (``(C, H, W)`` torch order for ``LIST_H_W_C``; ``(F,)`` for ``LIST_F``) and the tail
    ``{weights, scheduler, epochs, batch_size, optimizer}``. Raises :class:`CalibrationError` naming the first
    token it cannot read."""
    t = text.split()
    if len(t) < 9:
        raise CalibrationError(f"model string too short ({len(t)} tokens): {text[:60]!r}")
    meta = _parse_tail(t[-5:], len(t) - 5)
    body = t[:-5]
    if body[:2] != ["dense", "input"]:
        raise CalibrationError(f"model string must start with 'dense input LIST_H_W_C', got {' '.join(body[:3])!r}")
    m = _LIST.match(body[2])
    dims = [int(x) for x in m.group(1).strip("_").split("_")] if m else []
    if len(dims) == 3:
        input_shape: tuple[int, ...] = (dims[2], dims[0], dims[1])
    elif len(dims) == 1:
        input_shape = (dims[0],)
    else:
        raise CalibrationError(f"token 3: bad input shape {body[2]!r} (expected LIST_H_W_C or LIST_F)")
    if min(input_shape) < 1:
        raise CalibrationError(f"token 3: input shape {body[2]!r} has a zero dimension")
    return list(_parse_layers(" ".join(body[3:]))), input_shape, meta


@lru_cache(maxsize=4096)
def _parse_layers(text: str) -> tuple[LayerSpec, ...]:
    """The layers of a string's body (after the input shape); memoized: a data set repeats its architectures."""
    cur = _Tokens(text.split(), offset=3)
    layers = []
    while not cur.done():
        cur.layer_start = cur.i
        tok = cur.next("a layer")
        parser = LAYER_GRAMMAR.get(tok)
        if parser is None:
            raise cur.fail(f"unknown layer token {tok!r} (known: {', '.join(LAYER_GRAMMAR)})", cur.i - 1)
        cur.layer = tok
        layers.append(parser(cur))
    if not layers:
        raise CalibrationError("model string has no layers")
    return tuple(layers)


def _parse_tail(tail: list[str], offset: int) -> dict:
    weights, scheduler, epochs, batch, optimizer = tail
    for k, (name, tok) in enumerate((("epochs", epochs), ("batch size", batch))):
        if not tok.isdigit() or int(tok) < 1:
            raise CalibrationError(f"token {offset + 3 + k}: the tail is 'WEIGHTS SCHEDULER EPOCHS BATCH OPTIMIZER'; "
                                   f"{name} must be a positive integer, got {tok!r}")
    resolve_optimizer(optimizer)
    return {"weights": weights, "scheduler": scheduler, "epochs": int(epochs), "batch_size": int(batch),
            "optimizer": optimizer}


@lru_cache(maxsize=1)
def _optimizer_classes() -> dict:
    import torch

    return {n.lower(): getattr(torch.optim, n) for n in dir(torch.optim)
            if isinstance(getattr(torch.optim, n), type) and issubclass(getattr(torch.optim, n), torch.optim.Optimizer)
            and n != "Optimizer"}


def resolve_optimizer(name: str):
    """The ``torch.optim`` class a PEN optimizer name means, matched without regard to case (the data writes
    ``RAdam`` and ``Radam``)."""
    classes = _optimizer_classes()
    cls = classes.get(name.lower())
    if cls is None:
        raise CalibrationError(f"unknown optimizer {name!r} (torch.optim has: "
                               f"{', '.join(sorted(c.__name__ for c in classes.values()))})")
    return cls


# -- runs ---------------------------------------------------------------------------------------------------------------
@dataclass
class PENRun:
    """One row: the architecture, the training workload and the measured energy (arbitrary units)."""

    model_string: str
    layers: list[LayerSpec]
    input_shape: tuple[int, ...]  # (C, H, W), torch order; (F,) for a flat input
    weights: str
    scheduler: str
    epochs: int
    batch_size: int
    optimizer: str  # as the data spells it; optimizer_class resolves it
    energy: float
    row: int = 0
    source: str = ""
    columns: dict = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        """The model string without the training tail: equal architectures compare equal."""
        return " ".join(self.model_string.split()[:-5])

    @property
    def architecture_id(self) -> str:
        """A short stable name of the architecture (for grouping: "a model you never measured")."""
        return "arch-" + hashlib.sha1(self.architecture.encode()).hexdigest()[:10]

    @property
    def family(self) -> str:
        """``rnn`` (a recurrent layer), ``cnn`` (a convolution) or ``mlp``."""
        kinds = {s.kind for s in self.layers}
        return "rnn" if "recurrent" in kinds else "cnn" if "conv" in kinds else "mlp"

    @property
    def optimizer_class(self):
        return resolve_optimizer(self.optimizer)

    def model(self, device: Any = "meta"):
        """A fresh :class:`calibration.pennet.PENNet` (on the meta device by default: shapes only, no memory)."""
        from .pennet import build_model

        return build_model(self.layers, self.input_shape, device=device)

    def optimizer_factory(self) -> Callable:
        cls = self.optimizer_class
        return lambda params: cls(params)


def load_pen(path: str | Path, limit: int | None = None) -> list[PENRun]:
    """Every row of a PEN CSV as a :class:`PENRun`. Errors name the file, line and token."""
    p = Path(path)
    try:
        fh = open(p, newline="")
    except FileNotFoundError:
        raise CalibrationError(f"no such PEN file: {p}") from None
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
                text = row["Model"] or ""
                layers, shape, meta = parse_model_string(text)
                energy = float(row[TARGET])
            except CalibrationError as e:
                raise CalibrationError(f"{p} line {n}: {e}") from None
            except (TypeError, ValueError):
                raise CalibrationError(f"{p} line {n}: {TARGET} is not a number") from None
            del row["Model"]
            runs.append(PENRun(text, layers, shape, energy=energy, row=n, source=p.name, columns=row, **meta))
    return runs


def load_splits(pen_dir: str | Path | None = None, limit: int | None = None) -> dict[str, list[PENRun]]:
    """``{"training": runs, "test": runs}`` from ``pen_dir`` (default: the shipped copy)."""
    d = Path(pen_dir) if pen_dir is not None else default_pen_dir()
    return {s: load_pen(d / f"{s}.csv", limit) for s in SPLITS}


# -- counting ------------------------------------------------------------------------------------------------------------
def count_runs(runs: Iterable[PENRun], count_fn: Callable | None = None, *, steps_per_epoch: int = 1,
               optimizer: bool = True, uncountable: str = "error", progress: bool = False, fast: bool = True,
               **count_options) -> list[dict]:
    """One record per run: what its training did, ``epochs x steps_per_epoch x`` one step (forward, cross-entropy
    loss and backward at the run's batch size, and with ``optimizer`` the run's optimizer step), as the columns of
    :func:`calibration.counting.numeric_counts` (``tos``, ``flops``, ``bos.mul``, ``bytes``... whatever the counter
    reports), beside ``energy``, ``family``, ``architecture`` (:attr:`PENRun.architecture_id`), ``split``, ``row``,
    ``optimizer``, ``batch_size``, ``epochs``, ``steps``, ``params`` and ``notes``.

    Each distinct (architecture, batch) is counted once, under :func:`calibration.counting.meta_shape_cache`; each
    optimizer's step is priced from three probes (:func:`calibration.counting.optimizer_counts`) and scaled to the
    model's parameters. An optimizer that cannot be counted (``SparseAdam`` cannot step dense gradients) raises
    :class:`CalibrationError` with ``uncountable="error"``; with ``"exclude"`` its runs come back with an
    ``excluded`` reason and no counts, for the caller to leave out and report. ``fast=False`` counts every model
    whole and without the shape cache (same numbers, for benchmarks)."""
    from tqdm import tqdm

    from .counting import default_count, meta_shape_cache, optimizer_cost

    if uncountable not in ("error", "exclude"):
        raise CalibrationError(f"uncountable must be 'error' or 'exclude', got {uncountable!r}")
    if steps_per_epoch < 1:
        raise CalibrationError(f"steps_per_epoch must be positive, got {steps_per_epoch}")
    count_fn = count_fn or default_count
    runs = list(runs)
    steps: dict[tuple, dict] = {}
    opt_unit: dict[str, Any] = {}
    import contextlib

    cache = meta_shape_cache() if fast else contextlib.nullcontext()
    if count_fn is default_count:
        count_options = {"describe_table": False, **count_options}
    opts = {"loss": "cross-entropy", **count_options, "optimizer": None}
    keys = list(dict.fromkeys((r.architecture, r.batch_size) for r in runs))
    first = {}
    for r in runs:
        first.setdefault((r.architecture, r.batch_size), r)
    with cache:
        for key in tqdm(keys, desc="counting architectures", unit="arch", disable=not progress):
            r = first[key]
            steps[key] = count_step(r.layers, r.input_shape, r.batch_size, count_fn, repeats=fast, **opts)
    out = []
    for r in runs:
        s = steps[(r.architecture, r.batch_size)]
        numbers = {k: v for k, v in s.items() if k not in ("params", "tensors", "uncounted")}
        rec: dict[str, Any] = {"split": Path(r.source).stem, "row": r.row, "architecture": r.architecture_id,
                               "family": r.family, "optimizer": r.optimizer, "batch_size": r.batch_size,
                               "epochs": r.epochs, "steps": r.epochs * steps_per_epoch, "params": s["params"],
                               "energy": r.energy, "uncounted": s["uncounted"], "notes": []}
        if optimizer:
            name = r.optimizer_class.__name__
            if name not in opt_unit:
                try:
                    opt_unit[name] = optimizer_cost(count_fn, r.optimizer_factory(), **count_options)
                except CalibrationError as e:
                    opt_unit[name] = f"{r.optimizer}: {e}"
            cost = opt_unit[name]
            if isinstance(cost, str):
                if uncountable == "error":
                    raise CalibrationError(f"{r.source or 'PEN'} line {r.row}: {cost}")
                rec["excluded"] = cost
                out.append(rec)
                continue
            for k, v in cost(s["params"], s["tensors"]).items():
                numbers[k] = numbers.get(k, 0) + v
        for k, v in numbers.items():
            rec[k] = v * rec["steps"]
        out.append(rec)
    return out


#: a run of at least this many identical shape-preserving blocks is counted at 2 and 3 repeats and extrapolated
MIN_REPEATS = 8
_REPEATABLE = ("dense", "act", "dropout")


def repeated_blocks(layers: list[LayerSpec], max_period: int = 3) -> list[tuple[int, int, int]]:
    """``(start, period, repeats)`` of every run of at least :data:`MIN_REPEATS` identical consecutive blocks of
    shape-preserving layers (dense N->N, activations, dropout) after the first layer, in an MLP. PEN's deepest
    MLPs are 1,088 repeats of ``dense 2 2, relu``."""
    if any(s.kind not in ("dense", "act", "dropout", "batchnorm") for s in layers):
        return []

    def same_shape(s):
        return s.kind in _REPEATABLE and (s.kind != "dense" or (s.args["in"] == s.args["out"] and not s.output))

    out, i, n = [], 1, len(layers)
    while i < n:
        for p in range(1, max_period + 1):
            block = layers[i:i + p]
            if len(block) < p or not all(same_shape(s) for s in block):
                continue
            m = 1
            while layers[i + m * p:i + (m + 1) * p] == block:
                m += 1
            if m >= MIN_REPEATS:
                out.append((i, p, m))
                i += p * m
                break
        else:
            i += 1
    return out


def count_step(layers: list[LayerSpec], input_shape, batch_size: int, count_fn: Callable, *, repeats: bool = True,
               **options) -> dict:
    """Numbers (:func:`calibration.counting.numeric_counts`) of one training step of the model ``layers``
    describe, plus ``params`` and ``tensors`` (its parameters) and ``uncounted``. A run of R identical
    shape-preserving blocks (:func:`repeated_blocks`) adds the same work per block: the model is counted with 2
    and with 3 repeats of each run and extrapolated, ``c(R) = c(2) + (R - 2)(c(3) - c(2))`` (exact: the second
    and later blocks see identical shapes forward and backward; tested against a direct count)."""
    from .counting import numeric_counts
    from .pennet import build_model

    runs = repeated_blocks(layers) if repeats else []

    def one(repeats: list[int]) -> dict:
        specs, last = [], 0
        for (start, p, m), k in zip(runs, repeats):
            specs += layers[last:start] + layers[start:start + p] * k
            last = start + p * m
        specs += layers[last:]
        model = build_model(specs, input_shape)
        c = count_fn(model, (batch_size, *input_shape), "training", **options)
        params = list(model.parameters())
        return dict(numeric_counts(c), params=sum(p.numel() for p in params), tensors=len(params),
                    uncounted=c.get("uncounted") or {})

    base = one([2] * len(runs))
    total = {k: v for k, v in base.items() if k != "uncounted"}
    for j, (_, _, m) in enumerate(runs):
        more = one([3 if k == j else 2 for k in range(len(runs))])
        for k in total:
            total[k] += (m - 2) * (more[k] - base[k])
    total["uncounted"] = base["uncounted"]
    return total


__all__ = ["PENRun", "LayerSpec", "LAYER_GRAMMAR", "RECURRENT_CELLS", "parse_model_string", "resolve_optimizer",
           "load_pen", "load_splits", "count_runs", "count_step", "repeated_blocks", "default_pen_dir", "TARGET", "ENERGY_UNIT", "SPLITS"]
