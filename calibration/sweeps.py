"""Sweeps reproducing the paper's verification experiments (section III, Table II), logged run by run.

* DNN: 4 inputs, 3 hidden layers of width 4-18, 1 output; sigmoid / tanh / GELU; 1372 banknote-shaped synthetic
  instances (or a user CSV); batch 64.
* CNN: 2-10 convolutional layers of 32 channels with GELU, kernel 3 for models of up to 6 layers and 4, 5, 6, 7
  for 7, 8, 9, 10 layers (Table II's "layer 2-6: 3, layer 7-10: 4,5,6,7", read per model as
  :func:`gatesim.models.paper_cnn` does); 256x256x3 synthetic images; batch 64 (16 on GPU).

Every run (one training of one configuration) is appended to a JSONL log as soon as it finishes, keyed by
``(config key, repeat)``; :func:`run_sweep` with ``resume=True`` skips the keys already logged, so a killed
sweep loses and duplicates nothing. Several sweeps may share one log: every access holds ``LOG.lock`` (a
``filelock.FileLock``) and a run is *claimed* in ``LOG.claims`` before it starts, so no two sweeps run the same
``(key, repeat)``; a claim whose process has died (killed) is void. Repeats are interleaved (repeat 0 of every configuration, then repeat 1, ...)
so slow drifts in the machine's state spread over all configurations.
"""
from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .counting import default_count, workload_counts
from .errors import CalibrationError
from .meters import Meter, make_meter

LOG_FORMAT = "gatesim-calibration-run/1"
DNN_WIDTHS = tuple(range(4, 19))
DNN_ACTIVATIONS = ("sigmoid", "tanh", "gelu")
CNN_LAYERS = tuple(range(2, 11))


# -- models and data -----------------------------------------------------------------------------------------------------
def _act(name: str):
    from torch import nn

    acts = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "gelu": nn.GELU, "relu": nn.ReLU}
    try:
        return acts[name.lower()]()
    except KeyError:
        raise CalibrationError(f"unknown activation {name!r}; expected one of {', '.join(acts)}") from None


def dnn_model(width: int = 18, activation: str = "sigmoid", inputs: int = 4, outputs: int = 1, hidden_layers: int = 3):
    """The paper's feed-forward DNN (Banknote: 4 inputs, 3 hidden layers, 1 output)."""
    from torch import nn

    if width < 1 or hidden_layers < 1:
        raise CalibrationError("width and hidden_layers must be positive")
    layers, n = [], inputs
    for _ in range(hidden_layers):
        layers += [nn.Linear(n, width), _act(activation)]
        n = width
    layers.append(nn.Linear(n, outputs))
    return nn.Sequential(*layers)


def cnn_kernel(layers: int) -> int:
    return 3 if layers <= 6 else {7: 4, 8: 5, 9: 6}.get(layers, 7)


def cnn_model(layers: int = 6, channels: int = 32, kernel: int | None = None, activation: str = "gelu",
              in_channels: int = 3, classes: int = 2):
    """The paper's CNN: ``layers`` convolutions of ``channels`` with GELU, global average pool, linear head."""
    from torch import nn

    if layers < 1:
        raise CalibrationError("layers must be positive")
    k = kernel or cnn_kernel(layers)
    mods, c = [], in_channels
    for _ in range(layers):
        mods += [nn.Conv2d(c, channels, k), _act(activation)]
        c = channels
    mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes)]
    return nn.Sequential(*mods)


def banknote_like(n: int = 1372, seed: int = 0):
    """Synthetic data shaped like UCI Banknote: 4 real features (variance, skewness, curtosis, entropy of a wavelet
    transform), a binary label from a noisy linear rule. Returns float32 tensors ``(n, 4)`` and ``(n, 1)``."""
    import torch

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g) * torch.tensor([2.8, 5.9, 4.3, 2.1]) + torch.tensor([0.43, 1.9, 1.4, -1.2])
    score = -x[:, 0] - 0.5 * x[:, 1] - 0.3 * x[:, 2] + 0.5 * torch.randn(n, generator=g)
    return x, (score > 0).float().unsqueeze(1)


def csv_data(path: str | Path, inputs: int = 4):
    """A user CSV: the first ``inputs`` numeric columns are features, the next one the target (a header row is
    skipped when it is not numeric)."""
    import csv

    import torch

    rows = []
    try:
        with open(path, newline="") as fh:
            for i, row in enumerate(csv.reader(fh)):
                if not row:
                    continue
                try:
                    vals = [float(v) for v in row[: inputs + 1]]
                except ValueError:
                    if i == 0:
                        continue
                    raise CalibrationError(f"{path} line {i + 1}: non-numeric value") from None
                if len(vals) < inputs + 1:
                    raise CalibrationError(f"{path} line {i + 1}: needs {inputs + 1} columns, has {len(vals)}")
                rows.append(vals)
    except OSError as e:
        raise CalibrationError(f"cannot read {path}: {e.strerror or e}") from None
    if not rows:
        raise CalibrationError(f"{path} has no data rows")
    t = torch.tensor(rows, dtype=torch.float32)
    return t[:, :inputs], t[:, inputs:inputs + 1]


def synthetic_images(n: int = 120, image: int = 256, classes: int = 2, seed: int = 0):
    import torch

    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, image, image, generator=g), torch.randint(0, classes, (n,), generator=g)


# -- configurations ------------------------------------------------------------------------------------------------------
@dataclass
class Config:
    """One sweep configuration: what model, what data, how trained."""

    kind: str  # "dnn" | "cnn"
    params: dict  # model parameters (width/activation or layers/kernel)
    epochs: int
    batch_size: int
    samples: int
    image: int = 256
    data: str = "synthetic"  # or a CSV path (DNN)
    lr: float = 0.01

    @property
    def key(self) -> str:
        p = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return (f"{self.kind}[{p}]e{self.epochs}b{self.batch_size}n{self.samples}"
                + (f"i{self.image}" if self.kind == "cnn" else "") + ("" if self.data == "synthetic" else f"@{self.data}"))

    def to_dict(self) -> dict:
        return {"kind": self.kind, **self.params, "epochs": self.epochs, "batch_size": self.batch_size,
                "samples": self.samples, **({"image": self.image} if self.kind == "cnn" else {}), "data": self.data,
                "lr": self.lr}

    def model(self):
        return dnn_model(**self.params) if self.kind == "dnn" else cnn_model(**self.params)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return (4,) if self.kind == "dnn" else (3, self.image, self.image)

    @property
    def loss(self) -> str:
        return "mse" if self.kind == "dnn" else "cross-entropy"

    def dataset(self):
        if self.kind == "dnn":
            return banknote_like(self.samples) if self.data == "synthetic" else csv_data(self.data)
        return synthetic_images(self.samples, self.image)


def dnn_configs(widths: Iterable[int] = DNN_WIDTHS, activations: Iterable[str] = DNN_ACTIVATIONS, epochs: int = 2,
                batch_size: int = 64, samples: int = 1372, data: str = "synthetic") -> list[Config]:
    """Paper: widths 4-18, sigmoid/tanh/GELU, batch 64, 2000 (laptop) or 5000 (desktop) epochs."""
    out = []
    for a in activations:
        _act(a)
        for w in widths:
            out.append(Config("dnn", {"width": int(w), "activation": a}, epochs, batch_size, samples, data=data))
    if data != "synthetic":
        n = len(csv_data(data)[0])
        for c in out:
            c.samples = n
    return out


def cnn_configs(layers: Iterable[int] = CNN_LAYERS, epochs: int = 1, batch_size: int = 64, samples: int = 120,
                image: int = 256) -> list[Config]:
    """Paper: 2-10 convolutional layers, 120 images of 256x256x3, batch 64 (16 on GPU), 20-100 epochs."""
    out = []
    for n in layers:
        if n < 1:
            raise CalibrationError("layers must be positive")
        if image - n * (cnn_kernel(n) - 1) < 1:
            raise CalibrationError(f"image {image} is too small for {n} layers of kernel {cnn_kernel(n)}")
        out.append(Config("cnn", {"layers": int(n), "kernel": cnn_kernel(n)}, epochs, batch_size, samples, image))
    return out


# -- one run ---------------------------------------------------------------------------------------------------------------
def train_once(config: Config, meter: Meter, device: str = "cpu", seed: int = 0):
    """Train a fresh model of ``config`` for its epochs inside one metering window; returns the Measurement."""
    import torch

    torch.manual_seed(seed)
    x, y = config.dataset()
    model = config.model().to(device)
    x, y = x.to(device), y.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr)
    lossf = torch.nn.MSELoss() if config.loss == "mse" else torch.nn.CrossEntropyLoss()
    n, bs = len(x), config.batch_size
    with meter.measure() as m:
        for _ in range(config.epochs):
            for i in range(0, n, bs):
                opt.zero_grad(set_to_none=True)
                loss = lossf(model(x[i:i + bs]), y[i:i + bs])
                loss.backward()
                opt.step()
    return m


# -- hardware --------------------------------------------------------------------------------------------------------------
def describe_hardware(device: str = "cpu", threads: int | None = None) -> dict:
    """What ran the sweep: CPU model, cores, OS, torch and (on CUDA) the GPU."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    d: dict[str, Any] = {"cpu": cpu, "cpu_count": os.cpu_count(), "os": f"{platform.system()} {platform.release()}",
                         "python": platform.python_version(), "device": device}
    try:
        import torch

        d["torch"] = torch.__version__
        d["threads"] = threads if threads is not None else torch.get_num_threads()
        if device.startswith("cuda") and torch.cuda.is_available():
            d["gpu"] = torch.cuda.get_device_name(torch.device(device))
    except Exception:  # pragma: no cover
        pass
    return d


# -- the log ---------------------------------------------------------------------------------------------------------------
REQUIRED = ("key", "repeat", "joules", "tos", "flops")
_OPTIONAL = {  # fields a fit reads back, when present: JSON types allowed, what to say
    "kind": ((str,), "a string"), "meter": ((str,), "a string"), "level": ((str,), "a string"),
    "hardware": ((dict, type(None)), "an object"), "counting": ((dict, type(None)), "an object"),
    "table": ((dict, str, type(None)), "an object, a name or null"), "trim": ((int,), "an integer"),
}


LOCK_TIMEOUT = 120.0  # seconds a sweep or fit waits for another process to release a log


_LOCKS: dict[str, Any] = {}


def log_lock(path: str | Path):
    """The ``filelock.FileLock`` of a log (``LOG.lock`` beside it), one object per log in this process so that
    nested use re-enters it; its timeout is a one-line :class:`CalibrationError`."""
    from filelock import FileLock

    name = str(Path(path).absolute()) + ".lock"
    if name not in _LOCKS:
        _LOCKS[name] = FileLock(name, timeout=LOCK_TIMEOUT)
    return _LockGuard(_LOCKS[name], name)


class _LockUnavailable(CalibrationError):
    """The lock file cannot be created (a read-only folder)."""


class _LockGuard:
    def __init__(self, lock, name):
        self.lock, self.name = lock, name

    def __enter__(self):
        from filelock import Timeout

        try:
            self.lock.acquire()
        except Timeout:
            raise CalibrationError(f"{self.name} is held by another process for over {LOCK_TIMEOUT:g} s") from None
        except OSError as e:
            raise _LockUnavailable(f"cannot lock {self.name}: {e.strerror or e}") from None
        return self

    def __exit__(self, *exc):
        self.lock.release()
        return False


def read_log(path: str | Path, *, repair: bool = False) -> list[dict]:
    """The run records of a JSONL log. A malformed line is an error naming the line; with ``repair=True`` a
    truncated *last* line (a run killed while writing) is cut off the file instead. Holds the log's lock while
    reading when a sweep has made one (``LOG.lock``), so a sweep appending meanwhile is never read half-way."""
    p = Path(path)
    if not p.is_file():
        raise CalibrationError(f"no such log: {p}" if not p.exists() else f"{p} is not a file")
    if not repair and not Path(str(p.absolute()) + ".lock").exists():
        return _read_log(p, False)  # no sweep has used this log: nobody is appending to it
    try:
        with log_lock(p):
            return _read_log(p, repair)
    except _LockUnavailable:
        if repair:
            raise
    return _read_log(p, False)  # a read-only folder: no lock file, and nobody can be appending either


def _read_log(p: Path, repair: bool) -> list[dict]:
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise CalibrationError(f"no such log: {p}") from None
    except OSError as e:
        raise CalibrationError(f"cannot read log {p}: {e.strerror or e}") from None
    if repair and raw and not raw.endswith(b"\n"):
        cut = raw.rfind(b"\n") + 1
        with open(p, "r+b") as fh:
            fh.truncate(cut)
            fh.flush()
            os.fsync(fh.fileno())
        raw = raw[:cut]
    out = []
    for i, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            raise CalibrationError(f"{p} line {i}: not valid JSON ({e.msg})") from None
        if not isinstance(rec, dict):
            raise CalibrationError(f"{p} line {i}: expected a JSON object")
        missing = [k for k in REQUIRED if k not in rec]
        if missing:
            raise CalibrationError(f"{p} line {i}: missing {', '.join(missing)}")
        if not isinstance(rec["key"], str) or not rec["key"]:
            raise CalibrationError(f"{p} line {i}: key must be a non-empty string")
        if isinstance(rec["repeat"], bool) or not isinstance(rec["repeat"], int) or rec["repeat"] < 0:
            raise CalibrationError(f"{p} line {i}: repeat must be a non-negative integer")
        if not isinstance(rec["joules"], (int, float)) or isinstance(rec["joules"], bool):
            raise CalibrationError(f"{p} line {i}: joules must be a number")
        for k in ("tos", "flops"):
            if rec[k] is not None and (isinstance(rec[k], bool) or not isinstance(rec[k], (int, float))):
                raise CalibrationError(f"{p} line {i}: {k} must be a number or null")
        for k, (types, what) in _OPTIONAL.items():
            if k in rec and not isinstance(rec[k], types):
                raise CalibrationError(f"{p} line {i}: {k} must be {what}, got {rec[k]!r}")
        if rec.get("kind", "measurement") not in ("measurement", "estimate"):
            raise CalibrationError(f"{p} line {i}: kind must be measurement or estimate, got {rec['kind']!r}")
        if "trim" in rec and (type(rec["trim"]) is not int or rec["trim"] < 0):
            raise CalibrationError(f"{p} line {i}: trim must be a non-negative integer, got {rec['trim']!r}")
        out.append(rec)
    return out


def append_record(path: str | Path, record: dict) -> None:
    """Append one record as one line, under the log's lock, and force it to disk. On any failure (a full disk)
    the log is cut back to its previous length, so it never ends in half a line."""
    line = (json.dumps(record, sort_keys=True, allow_nan=False) + "\n").encode()
    with log_lock(path), open(path, "ab") as fh:
        size = fh.seek(0, os.SEEK_END)
        try:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        except BaseException:
            fh.truncate(size)
            raise


# -- claims: which (key, repeat) a running sweep has taken ---------------------------------------------------------------
CLAIMS_FORMAT = "gatesim-sweep-claims/1"


def _process_start(pid: int) -> str | None:
    """The kernel's start time of process ``pid`` (tells a live process from a later one with a reused id)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _claim_alive(c: dict) -> bool:
    if c.get("host") != platform.node():
        return True  # another machine's sweep on a shared folder: trust its claim
    pid = c.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = c.get("start")
    return start is None or start == _process_start(pid)


def _claims_path(log: Path) -> Path:
    return log.with_name(log.name + ".claims")


def _read_claims(log: Path) -> list[dict]:
    """Live claims on ``log`` (call with the log's lock held); dead processes' claims are dropped."""
    p = _claims_path(log)
    try:
        doc = json.loads(p.read_text())
        claims = doc["claims"] if isinstance(doc, dict) and doc.get("format") == CLAIMS_FORMAT else []
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError):
        claims = []  # unreadable claims are void: the log itself says what is done
    return [c for c in claims if isinstance(c, dict) and _claim_alive(c)]


def _write_claims(log: Path, claims: list[dict]) -> None:
    from gatesim.datafile import write_file_atomic

    p = _claims_path(log)
    if claims:
        write_file_atomic(p, json.dumps({"format": CLAIMS_FORMAT, "claims": claims}))
    else:
        p.unlink(missing_ok=True)


def _claim(log: Path, key: str, repeat: int) -> str:
    """Under the log's lock: ``"done"`` if the log has the run, ``"taken"`` if a live sweep claimed it, else claim it
    for this process and return ``"claimed"``."""
    with log_lock(log):
        if log.exists() and any(r["key"] == key and int(r["repeat"]) == repeat for r in _read_log(log, True)):
            return "done"
        claims = _read_claims(log)
        if any(c.get("key") == key and c.get("repeat") == repeat for c in claims):
            return "taken"
        me = os.getpid()
        claims.append({"key": key, "repeat": repeat, "pid": me, "host": platform.node(), "start": _process_start(me),
                       "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        _write_claims(log, claims)
        return "claimed"


def _release(log: Path, key: str, repeat: int, record: dict | None = None) -> None:
    """Under the log's lock: append ``record`` (if any) and drop this process's claim on ``(key, repeat)``."""
    with log_lock(log):
        try:
            if record is not None:
                append_record(log, record)
        finally:
            me = os.getpid()
            _write_claims(log, [c for c in _read_claims(log)
                                if not (c.get("key") == key and c.get("repeat") == repeat and c.get("pid") == me)])


def trim(records: Sequence[dict], k: int, by: str = "key", value: str = "joules") -> tuple[list[dict], list[str]]:
    """Drop the ``k`` highest and ``k`` lowest energies of each configuration (paper: 50 runs, 5 each side).
    Configurations with ``2k`` runs or fewer are kept whole and named in the returned notes."""
    if k < 0:
        raise CalibrationError("trim must be >= 0")
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(str(r.get(by)), []).append(r)
    out, notes = [], []
    for key, rs in groups.items():
        if k and len(rs) > 2 * k:
            out.extend(sorted(rs, key=lambda r: r[value])[k:len(rs) - k])
        else:
            if k:
                notes.append(f"{key}: {len(rs)} runs <= 2 x trim {k}; not trimmed")
            out.extend(rs)
    return out, notes


def _jsonable(d: dict) -> dict:
    """The plain (str, number, bool, None) entries of ``d``; objects such as tables are named by their type."""
    return {k: (v if v is None or isinstance(v, (str, int, float, bool)) else type(v).__name__) for k, v in d.items()}


@dataclass
class SweepResult:
    done: int  # runs this sweep made and logged
    skipped: int  # runs the log already had
    log: str
    records: list[dict] = field(default_factory=list)
    others: int = 0  # runs another sweep on the same log was making or made meanwhile


def run_sweep(configs: Sequence[Config], log: str | Path, *, repeats: int = 3, trim_k: int = 0,
              meter: Meter | None = None, count_fn: Callable | None = None, count_options: dict | None = None,
              run_fn: Callable = train_once, device: str = "cpu", threads: int | None = 1,
              cpu: int | None = None, resume: bool = False, progress: bool = True, seed: int = 0) -> SweepResult:
    """Run ``repeats`` trainings of every configuration, appending each to ``log`` when it finishes.

    ``count_fn(model, input_shape, level, **count_options)`` counts one step (default: :func:`default_count`);
    TOs/FLOPs of a run are those of all its steps. ``threads`` pins torch's CPU threads (paper: 1); ``cpu`` pins
    the process to one core. An existing non-empty log needs ``resume=True``.
    """
    import torch
    from tqdm import tqdm

    if repeats < 1:
        raise CalibrationError("repeats must be >= 1")
    if trim_k < 0 or (trim_k and repeats <= 2 * trim_k):
        raise CalibrationError(f"trim {trim_k} needs more than {2 * trim_k} repeats, got {repeats}")
    log = Path(log)
    done_keys: set[tuple[str, int]] = set()
    with log_lock(log):
        if log.exists() and log.stat().st_size > 0:
            if not resume:
                raise CalibrationError(f"{log} already has runs; pass --resume to continue it or choose another file")
            for r in _read_log(log, True):
                done_keys.add((r["key"], int(r["repeat"])))
    if threads is not None:
        torch.set_num_threads(int(threads))
    if cpu is not None:
        if not hasattr(os, "sched_setaffinity"):
            raise CalibrationError("pinning to a CPU core needs Linux (os.sched_setaffinity)")
        os.sched_setaffinity(0, {int(cpu)})
    meter = meter or make_meter("auto")
    count_fn = count_fn or default_count
    count_options = dict(count_options or {})
    hardware = describe_hardware(device, threads)
    def opts_for(c: Config) -> dict:
        return {"loss": c.loss, "optimizer": "sgd", **count_options}

    todo = [(c, r) for r in range(repeats) for c in configs if (c.key, r) not in done_keys]
    counts: dict[str, dict] = {}
    result = SweepResult(0, len(configs) * repeats - len(todo), str(log))
    bar = tqdm(total=len(todo), desc="sweep", unit="run", disable=not progress, dynamic_ncols=True)
    try:
        for c, rep in todo:
            if c.key not in counts:
                counts[c.key] = workload_counts(count_fn, c.model, c.sample_shape, c.samples, c.batch_size, c.epochs,
                                                "training", **opts_for(c))
            cnt = counts[c.key]
            state = _claim(log, c.key, rep)
            if state != "claimed":
                result.others += 1
                bar.update(1)
                continue
            try:
                m = run_fn(c, meter, device=device, seed=seed + rep)
            except BaseException:
                _release(log, c.key, rep)
                raise
            rec = {"format": LOG_FORMAT, "key": c.key, "repeat": rep, "config": c.to_dict(), "level": "training",
                   "tos": cnt.get("tos"), "flops": cnt.get("flops"), "steps": cnt.get("steps"),
                   "joules": m.joules, "seconds": m.seconds, "meter": m.meter, "kind": m.kind,
                   "meter_details": m.details, "hardware": hardware, "trim": trim_k, "repeats": repeats,
                   "table": cnt.get("table"), "counting": _jsonable(opts_for(c)), "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            _release(log, c.key, rep, rec)
            result.done += 1
            result.records.append(rec)
            bar.update(1)
    finally:
        bar.close()
    return result


__all__ = ["Config", "dnn_configs", "cnn_configs", "dnn_model", "cnn_model", "cnn_kernel", "banknote_like", "csv_data",
           "synthetic_images", "train_once", "describe_hardware", "read_log", "append_record", "log_lock", "trim", "run_sweep",
           "SweepResult", "LOG_FORMAT", "DNN_WIDTHS", "DNN_ACTIVATIONS", "CNN_LAYERS"]
