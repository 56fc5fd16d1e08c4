"""Energy meters: one context-manager API, ``with meter.measure() as m: ...`` then ``m.joules``, ``m.seconds``,
``m.meter`` and ``m.kind`` (``"measurement"`` or ``"estimate"``).

* :class:`RaplMeter` -- CPU package and DRAM energy through Linux powercap (``/sys/class/powercap``; Intel and
  AMD both appear as ``intel-rapl:*`` zones). Counters wrap at ``max_energy_range_uj``; a background thread
  polls so that any number of wraps in a long window is counted.
* :class:`NvmlMeter` -- NVIDIA GPUs through ``nvidia-ml-py`` (``import pynvml``): the total-energy counter
  (Volta and newer) or, where it is not supported, power samples from a background thread integrated with the
  trapezoid rule. ``torch.cuda.synchronize()`` runs at both window edges.
* :class:`EstimateMeter` -- when nothing can be measured: a *given* power (e.g. TDP) x CPU time of this process.
  Its results carry ``kind="estimate"`` and are never presented as measurements.

:func:`available_meters` says which meters work here and, for each that does not, why.
"""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import MeterError

MEASUREMENT = "measurement"
ESTIMATE = "estimate"
POWERCAP_ROOT = "/sys/class/powercap"
RAPL_PERMISSION_HINT = (
    "grant read access with `sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj "
    "/sys/class/powercap/intel-rapl:*/*/energy_uj` (until reboot), or permanently with a udev rule such as "
    "ACTION==\"add\", SUBSYSTEM==\"powercap\", RUN+=\"/bin/chmod o+r /sys%p/energy_uj\" in "
    "/etc/udev/rules.d/90-powercap.rules, or run as root")


@dataclass
class Measurement:
    """The result of one metering window. ``joules`` and ``seconds`` are filled when the window closes."""

    meter: str
    kind: str = MEASUREMENT
    joules: float = 0.0
    seconds: float = 0.0
    details: dict = field(default_factory=dict)
    done: bool = False

    @property
    def is_estimate(self) -> bool:
        return self.kind == ESTIMATE

    @property
    def watts(self) -> float:
        return self.joules / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("done")
        return d

    def __str__(self) -> str:
        label = "ESTIMATE" if self.is_estimate else "measured"
        return f"{self.joules:.3f} J in {self.seconds:.3f} s ({label}, {self.meter})"


class Meter:
    """Base class. Subclasses implement :meth:`_start` and :meth:`_stop`; use :meth:`measure`."""

    name = "meter"
    kind = MEASUREMENT

    def measure(self) -> "_Window":
        """A context manager yielding a :class:`Measurement` that is complete when the block ends."""
        return _Window(self)

    def _start(self, m: Measurement) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _stop(self, m: Measurement, state: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:
        return self.name


class _Window:
    def __init__(self, meter: Meter):
        self.meter = meter
        self.m = Measurement(meter=meter.describe(), kind=meter.kind)
        self._state = None
        self._t0 = 0.0

    def __enter__(self) -> Measurement:
        self._state = self.meter._start(self.m)
        self._t0 = time.perf_counter()
        return self.m

    def __exit__(self, *exc):
        t1 = time.perf_counter()
        self.m.seconds = t1 - self._t0
        self.meter._stop(self.m, self._state)
        if self.m.details.get("seconds") is not None:  # a meter that measured its own window edges
            self.m.seconds = self.m.details.pop("seconds")
        self.m.done = True
        return False


def _cuda_sync() -> None:
    torch = sys.modules.get("torch")
    if torch is None:
        return
    try:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()
    except Exception:  # pragma: no cover - a broken CUDA must not break metering
        pass


class _Poller:
    """Calls ``fn`` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, fn: Callable[[], None], interval: float):
        self.fn = fn
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gatesim-meter", daemon=True)
        self.error: BaseException | None = None

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            try:
                self.fn()
            except BaseException as e:  # noqa: BLE001 - reported when the window closes
                self.error = e
                return

    def stop(self):
        self._stop.set()
        self._thread.join()


# -- RAPL ----------------------------------------------------------------------------------------------------------------
def _read_text(path: Path) -> str:
    return path.read_text()


@dataclass
class RaplZone:
    """One powercap zone: ``path`` (its sysfs folder), ``name`` (package-0, dram, ...), counter range in µJ."""

    path: Path
    name: str
    max_range_uj: int

    @property
    def label(self) -> str:
        return f"{self.path.name}({self.name})"

    def read_uj(self) -> int:
        p = self.path / "energy_uj"
        try:
            return int(_read_text(p).strip())
        except PermissionError:
            raise MeterError(f"cannot read {p}: permission denied; {RAPL_PERMISSION_HINT}") from None
        except (OSError, ValueError) as e:
            raise MeterError(f"cannot read {p}: {e}") from None


def rapl_zones(root: str | Path = POWERCAP_ROOT, domains: tuple[str, ...] = ("package", "dram")) -> list[RaplZone]:
    """Powercap RAPL zones under ``root`` whose name starts with one of ``domains``: top-level package zones
    (``intel-rapl:N``, also used by AMD) and their ``dram`` sub-zones. Core/uncore sub-zones are part of the
    package and are not added again. Raises :class:`MeterError` with the reason when there are none."""
    root = Path(root)
    if not root.is_dir():
        raise MeterError(f"no powercap sysfs at {root} (not Linux, or the intel_rapl / amd RAPL driver is not loaded)")
    folders = sorted(p for p in root.glob("intel-rapl:*") if p.is_dir())
    folders += sorted(p for top in folders for p in top.glob("intel-rapl:*:*") if p.is_dir())
    if not folders:
        raise MeterError(f"no intel-rapl zones under {root} (CPU or kernel without RAPL powercap support)")
    zones, seen = [], set()
    for f in folders:
        real = f.resolve()
        if real in seen:
            continue
        seen.add(real)
        try:
            name = _read_text(f / "name").strip()
        except OSError:
            name = f.name
        if not any(name.startswith(d) for d in domains):
            continue
        try:
            max_range = int(_read_text(f / "max_energy_range_uj").strip())
        except PermissionError:
            raise MeterError(f"cannot read {f / 'max_energy_range_uj'}: permission denied; {RAPL_PERMISSION_HINT}") from None
        except (OSError, ValueError) as e:
            raise MeterError(f"cannot read {f / 'max_energy_range_uj'}: {e}") from None
        zones.append(RaplZone(f, name, max_range))
    if not zones:
        raise MeterError(f"no RAPL zone named {' or '.join(domains)} under {root}")
    return zones


class RaplWindow:
    """Accumulated energy of each zone with wraparound: every :meth:`poll` adds the delta since the last read."""

    def __init__(self, zones: list[RaplZone]):
        self.zones = zones
        self.last = [z.read_uj() for z in zones]
        self.total_uj = [0] * len(zones)
        self.wraps = [0] * len(zones)
        self.polls = 0
        self._lock = threading.Lock()

    def poll(self) -> None:
        with self._lock:
            for i, z in enumerate(self.zones):
                cur = z.read_uj()
                prev = self.last[i]
                if cur >= prev:
                    self.total_uj[i] += cur - prev
                else:  # the counter wrapped once since the last poll (poll faster than the wrap period)
                    self.total_uj[i] += z.max_range_uj - prev + cur
                    self.wraps[i] += 1
                self.last[i] = cur
            self.polls += 1


class RaplMeter(Meter):
    """CPU energy from Linux powercap RAPL: the sum of package zones and their DRAM sub-zones.

    ``root`` is the sysfs powercap folder (a fake tree in tests). ``poll_interval`` seconds between reads in a
    background thread (``None``: no thread; reads only at the window edges and on ``window.poll()``): it must
    be shorter than the counter's wrap period (max_energy_range_uj / power; minutes to hours).
    """

    name = "rapl"

    def __init__(self, root: str | Path = POWERCAP_ROOT, domains: tuple[str, ...] = ("package", "dram"),
                 poll_interval: float | None = 1.0):
        if poll_interval is not None and not (isinstance(poll_interval, (int, float)) and 0 < poll_interval < float("inf")):
            raise MeterError(f"the RAPL poll interval must be a positive number of seconds, got {poll_interval!r}")
        self.root = Path(root)
        self.domains = tuple(domains)
        self.poll_interval = poll_interval
        self.zones = rapl_zones(self.root, self.domains)
        self.zones[0].read_uj()  # permission check now, not mid-run
        self.window: RaplWindow | None = None

    def describe(self) -> str:
        return "rapl:" + "+".join(z.name for z in self.zones)

    def _start(self, m):
        self.window = w = RaplWindow(self.zones)
        poller = _Poller(w.poll, self.poll_interval).start() if self.poll_interval else None
        return w, poller

    def _stop(self, m, state):
        w, poller = state
        if poller is not None:
            poller.stop()
        w.poll()
        if poller is not None and poller.error is not None:
            raise poller.error
        m.joules = sum(w.total_uj) / 1e6
        m.details = {"zones": {z.label: t / 1e6 for z, t in zip(w.zones, w.total_uj)},
                     "wraps": sum(w.wraps), "polls": w.polls}


# -- NVML ----------------------------------------------------------------------------------------------------------------
def _pynvml():
    try:
        import pynvml
    except ImportError:
        raise MeterError("nvidia-ml-py is not installed (pip install nvidia-ml-py)") from None
    return pynvml


def _nvml_init(pynvml):
    try:
        pynvml.nvmlInit()
    except Exception as e:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        raise MeterError(f"NVML unavailable: {e} (no NVIDIA driver?)") from None


def _is_not_supported(pynvml, e: BaseException) -> bool:
    ns = getattr(pynvml, "NVMLError_NotSupported", None)
    if ns is not None and isinstance(e, ns):
        return True
    return getattr(e, "value", None) == getattr(pynvml, "NVML_ERROR_NOT_SUPPORTED", 3)


class NvmlMeter(Meter):
    """NVIDIA GPU energy via NVML for ``devices`` (indices; default: all). Per device, the total-energy counter
    (mJ, Volta and newer) when supported, else power samples (mW) every ``sample_interval`` s integrated with
    the trapezoid rule. ``method``: "auto", "counter" or "sampling"."""

    name = "nvml"

    def __init__(self, devices: list[int] | int | None = None, sample_interval: float = 0.02, method: str = "auto"):
        if method not in ("auto", "counter", "sampling"):
            raise MeterError(f"unknown NVML method {method!r}; expected auto, counter or sampling")
        if not (isinstance(sample_interval, (int, float)) and 0 < sample_interval < float("inf")):
            raise MeterError(f"the NVML sample interval must be a positive number of seconds, got {sample_interval!r}")
        self.pynvml = p = _pynvml()
        _nvml_init(p)
        try:
            n = p.nvmlDeviceGetCount()
        except Exception as e:
            raise MeterError(f"NVML cannot count devices: {e}") from None
        if n == 0:
            raise MeterError("NVML sees no NVIDIA GPU")
        if devices is None:
            devices = list(range(n))
        elif isinstance(devices, int):
            devices = [devices]
        bad = [d for d in devices if not 0 <= d < n]
        if bad:
            raise MeterError(f"no GPU {bad[0]}: NVML sees {n} device(s)")
        self.devices = list(devices)
        self.handles = [p.nvmlDeviceGetHandleByIndex(d) for d in self.devices]
        self.sample_interval = sample_interval
        self.methods = []
        for h in self.handles:
            use = method
            if method in ("auto", "counter"):
                try:
                    p.nvmlDeviceGetTotalEnergyConsumption(h)
                    use = "counter"
                except Exception as e:
                    if not _is_not_supported(p, e) or method == "counter":
                        if method == "counter":
                            raise MeterError(f"NVML energy counter unavailable: {e}") from None
                        raise MeterError(f"NVML energy counter failed: {e}") from None
                    use = "sampling"
            if use == "sampling":
                try:
                    p.nvmlDeviceGetPowerUsage(h)
                except Exception as e:
                    raise MeterError(f"NVML supports neither the energy counter nor power readings: {e}") from None
            self.methods.append(use)

    def describe(self) -> str:
        return "nvml:" + "+".join(f"gpu{d}({m})" for d, m in zip(self.devices, self.methods))

    def _sample(self, state) -> float:
        """Append a power sample of every sampling device, stamped with the time it was taken; returns that time."""
        t = time.perf_counter()
        for i, h in enumerate(self.handles):
            if self.methods[i] == "sampling":
                state["samples"][i].append((t, self.pynvml.nvmlDeviceGetPowerUsage(h) / 1000.0))
        return t

    def _start(self, m):
        _cuda_sync()
        p = self.pynvml
        state = {"start": [p.nvmlDeviceGetTotalEnergyConsumption(h) if meth == "counter" else None
                           for h, meth in zip(self.handles, self.methods)],
                 "samples": [[] for _ in self.handles]}
        state["t0"] = self._sample(state)
        state["poller"] = (_Poller(lambda: self._sample(state), self.sample_interval).start()
                           if "sampling" in self.methods else None)
        return state

    def _stop(self, m, state):
        # the window is [first sample, last sample]: the sampler stops and the last sample is taken before the end
        # is stamped, so the integrated power and the seconds cover the same interval
        _cuda_sync()
        p = self.pynvml
        if state["poller"] is not None:
            state["poller"].stop()
        t1 = self._sample(state)
        per = {}
        for i, (d, h, meth) in enumerate(zip(self.devices, self.handles, self.methods)):
            if meth == "counter":
                per[f"gpu{d}"] = (p.nvmlDeviceGetTotalEnergyConsumption(h) - state["start"][i]) / 1000.0
            else:
                per[f"gpu{d}"] = trapezoid(state["samples"][i])
        if state["poller"] is not None and state["poller"].error is not None:
            raise MeterError(f"NVML power sampling failed: {state['poller'].error}")
        m.joules = sum(per.values())
        m.details = {"devices": per, "methods": dict(zip((f"gpu{d}" for d in self.devices), self.methods)),
                     "seconds": t1 - state["t0"]}


def trapezoid(samples: list[tuple[float, float]]) -> float:
    """Integral of (time s, power W) samples with the trapezoid rule, in joules."""
    total = 0.0
    for (t0, p0), (t1, p1) in zip(samples, samples[1:]):
        total += (t1 - t0) * (p0 + p1) / 2.0
    return total


# -- estimate ------------------------------------------------------------------------------------------------------------
def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (user + system)."""
    total = time.process_time()  # all threads of this process, high resolution
    try:
        import resource

        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        total += ru.ru_utime + ru.ru_stime
    except (ImportError, OSError):  # pragma: no cover - not on Unix
        pass
    return total


class EstimateMeter(Meter):
    """NOT a measurement: ``watts`` (a given TDP, or the per-core share of it for single-thread runs) x CPU
    seconds of this process. Results have ``kind="estimate"``."""

    name = "estimate"
    kind = ESTIMATE

    def __init__(self, watts: float = 15.0, clock: Callable[[], float] = _cpu_seconds):
        if not watts > 0:
            raise MeterError(f"the estimate needs a positive power in watts, got {watts}")
        self.watts = float(watts)
        self.clock = clock

    def describe(self) -> str:
        return f"estimate:{self.watts:g}W x cpu-time"

    def _start(self, m):
        return self.clock()

    def _stop(self, m, state):
        cpu = self.clock() - state
        m.joules = self.watts * cpu
        m.details = {"cpu_seconds": cpu, "watts": self.watts,
                     "note": "estimate = given power x CPU time; not a measurement"}


# -- discovery -----------------------------------------------------------------------------------------------------------
@dataclass
class MeterStatus:
    name: str
    available: bool
    reason: str  # what it would measure, or why it cannot
    kind: str = MEASUREMENT

    def to_dict(self) -> dict:
        return asdict(self)


METERS = ("nvml", "rapl", "estimate")


def make_meter(name: str = "auto", *, rapl_root: str | Path = POWERCAP_ROOT, watts: float = 15.0,
               devices=None, poll_interval: float = 1.0) -> Meter:
    """A meter by name: ``nvml``, ``rapl``, ``estimate``, or ``auto`` (NVML when CUDA is in use, else RAPL,
    else the labelled estimate)."""
    if name == "nvml":
        return NvmlMeter(devices)
    if name == "rapl":
        return RaplMeter(rapl_root, poll_interval=poll_interval)
    if name == "estimate":
        return EstimateMeter(watts)
    if name == "auto":
        order = ["rapl"]
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            order.insert(0, "nvml")
        for n in order:
            try:
                return make_meter(n, rapl_root=rapl_root, devices=devices, poll_interval=poll_interval)
            except MeterError:
                continue
        return EstimateMeter(watts)
    raise MeterError(f"unknown meter {name!r}; expected one of auto, {', '.join(METERS)}")


def available_meters(rapl_root: str | Path = POWERCAP_ROOT, watts: float = 15.0) -> list[MeterStatus]:
    """Every meter with whether it works here and what it measures, or why not."""
    out = []
    try:
        m = NvmlMeter()
        out.append(MeterStatus("nvml", True, m.describe()))
    except MeterError as e:
        out.append(MeterStatus("nvml", False, str(e)))
    try:
        m = RaplMeter(rapl_root, poll_interval=None)
        out.append(MeterStatus("rapl", True, m.describe()))
    except MeterError as e:
        out.append(MeterStatus("rapl", False, str(e)))
    out.append(MeterStatus("estimate", True, f"ESTIMATE, not a measurement: {watts:g} W x CPU time", ESTIMATE))
    return out


__all__ = ["Measurement", "Meter", "RaplMeter", "RaplZone", "RaplWindow", "rapl_zones", "NvmlMeter", "EstimateMeter",
           "MeterStatus", "available_meters", "make_meter", "trapezoid", "MEASUREMENT", "ESTIMATE", "METERS",
           "RAPL_PERMISSION_HINT", "POWERCAP_ROOT"]
