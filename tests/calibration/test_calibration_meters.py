"""Meters: a fake powercap tree (wraparound, unreadable files), a mocked NVML, the labelled estimate."""
import os
import threading
import time
from pathlib import Path

import pytest

from calibration import meters
from calibration.errors import MeterError
from calibration.meters import (ESTIMATE, MEASUREMENT, EstimateMeter, NvmlMeter, RaplMeter, available_meters,
                                make_meter, rapl_zones, trapezoid)

MAX = 1_000_000  # µJ: a counter that wraps every joule


def make_tree(root: Path, packages=1, dram=True, core=True, energy=0, max_range=MAX) -> Path:
    for p in range(packages):
        z = root / f"intel-rapl:{p}"
        z.mkdir(parents=True)
        (z / "name").write_text(f"package-{p}\n")
        (z / "energy_uj").write_text(f"{energy}\n")
        (z / "max_energy_range_uj").write_text(f"{max_range}\n")
        subs = []
        if core:
            subs.append("core")
        if dram:
            subs.append("dram")
        for i, name in enumerate(subs):
            s = z / f"intel-rapl:{p}:{i}"
            s.mkdir()
            (s / "name").write_text(name + "\n")
            (s / "energy_uj").write_text(f"{energy}\n")
            (s / "max_energy_range_uj").write_text(f"{max_range}\n")
    return root


def set_energy(root: Path, zone: str, value: int):
    """Replace the counter file in one step, as sysfs does: a background poll must never see it half written."""
    f = next(root.rglob(zone)) / "energy_uj"
    tmp = f.with_name("energy_uj.new")
    tmp.write_text(f"{value}\n")
    os.replace(tmp, f)


def test_zones_are_packages_and_dram(tmp_path):
    root = make_tree(tmp_path / "powercap", packages=2)
    zones = rapl_zones(root)
    assert sorted(z.name for z in zones) == ["dram", "dram", "package-0", "package-1"]
    assert all(z.max_range_uj == MAX for z in zones)


def test_counter_without_wrap(tmp_path):
    root = make_tree(tmp_path, energy=100)
    m = RaplMeter(root, poll_interval=None)
    with m.measure() as res:
        set_energy(root, "intel-rapl:0", 400_100)
        set_energy(root, "intel-rapl:0:1", 100_100)
    assert res.joules == pytest.approx(0.5)
    assert res.kind == MEASUREMENT and res.meter == "rapl:package-0+dram"
    assert res.details["wraps"] == 0


def test_several_wraps_in_one_window(tmp_path):
    """Polling catches every wrap: 3.5 counter ranges pass during the window."""
    root = make_tree(tmp_path, dram=False, energy=900_000)
    m = RaplMeter(root, poll_interval=None)
    with m.measure() as res:
        # 900000 -> 200000 (wrap, +300000) -> 700000 (+500000) -> 100000 (wrap, +400000) -> 50000 (wrap, +950000)
        for v in (200_000, 700_000, 100_000, 50_000):
            set_energy(root, "intel-rapl:0", v)
            m.window.poll()
    assert res.details["wraps"] == 3
    assert res.joules == pytest.approx((300_000 + 500_000 + 400_000 + 950_000) / 1e6)


def test_background_thread_polls_through_wraps(tmp_path):
    root = make_tree(tmp_path, dram=False, energy=0)
    m = RaplMeter(root, poll_interval=0.005)
    with m.measure() as res:
        w = m.window
        for step in range(1, 9):  # 8 steps of 0.6 J: 4.8 J, 4 wraps
            set_energy(root, "intel-rapl:0", (step * 600_000) % MAX)
            seen = w.polls
            deadline = time.time() + 5
            while w.polls < seen + 2 and time.time() < deadline:
                time.sleep(0.002)
    assert res.joules == pytest.approx(4.8)
    assert res.details["wraps"] == 4


def test_permission_denied_says_how_to_grant_access(tmp_path, monkeypatch):
    root = make_tree(tmp_path)
    real = meters._read_text

    def deny(path):
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(meters, "_read_text", deny)
    with pytest.raises(MeterError, match="permission denied.*chmod o\\+r .*energy_uj"):
        RaplMeter(root)
    st = {s.name: s for s in available_meters(rapl_root=root)}
    assert not st["rapl"].available and "udev" in st["rapl"].reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_by_mode(tmp_path):
    root = make_tree(tmp_path)
    f = root / "intel-rapl:0" / "energy_uj"
    f.chmod(0)
    with pytest.raises(MeterError, match="permission denied"):
        RaplMeter(root)


def test_missing_or_empty_powercap(tmp_path):
    with pytest.raises(MeterError, match="no powercap sysfs"):
        RaplMeter(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MeterError, match="no intel-rapl zones"):
        RaplMeter(tmp_path / "empty")


def test_garbage_counter(tmp_path):
    root = make_tree(tmp_path)
    (root / "intel-rapl:0" / "energy_uj").write_text("lots\n")
    with pytest.raises(MeterError, match="cannot read"):
        RaplMeter(root)


# -- NVML ------------------------------------------------------------------------------------------------------------------
class FakeNvml:
    """Stands in for pynvml: device 0 has an energy counter (mJ), device 1 raises NotSupported for it."""

    class NVMLError(Exception):
        def __init__(self, value=999):
            self.value = value

    NVML_ERROR_NOT_SUPPORTED = 3

    def __init__(self, counter_supported=(True, False), init_error=None):
        class NotSupported(self.NVMLError):
            def __init__(self):
                super().__init__(3)

        self.NVMLError_NotSupported = NotSupported
        self.counter_supported = counter_supported
        self.init_error = init_error
        self.energy_mj = [1_000_000, 0]
        self.power_mw = [0, 150_000]  # 150 W on the sampled device
        self.lock = threading.Lock()

    def nvmlInit(self):
        if self.init_error:
            raise self.NVMLError(9)

    def nvmlShutdown(self):
        pass

    def nvmlDeviceGetCount(self):
        return len(self.counter_supported)

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        if not self.counter_supported[h]:
            raise self.NVMLError_NotSupported()
        return self.energy_mj[h]

    def nvmlDeviceGetPowerUsage(self, h):
        return self.power_mw[h]


def test_nvml_counter_and_sampling(monkeypatch):
    fake = FakeNvml()
    monkeypatch.setattr(meters, "_pynvml", lambda: fake)
    m = NvmlMeter(sample_interval=0.005)
    assert m.methods == ["counter", "sampling"]
    assert m.describe() == "nvml:gpu0(counter)+gpu1(sampling)"
    with m.measure() as res:
        fake.energy_mj[0] += 2500  # 2.5 J on device 0
        time.sleep(0.05)
    assert res.details["devices"]["gpu0"] == pytest.approx(2.5)
    # constant 150 W over the window
    assert res.details["devices"]["gpu1"] == pytest.approx(150 * res.seconds, rel=0.05)
    assert res.joules == pytest.approx(2.5 + res.details["devices"]["gpu1"])
    assert res.kind == MEASUREMENT


def test_nvml_all_not_supported_uses_sampling(monkeypatch):
    fake = FakeNvml(counter_supported=(False,))
    fake.power_mw = [80_000]
    monkeypatch.setattr(meters, "_pynvml", lambda: fake)
    m = NvmlMeter(0, sample_interval=0.002)
    assert m.methods == ["sampling"]
    with m.measure() as res:
        time.sleep(0.03)
    assert res.joules == pytest.approx(80 * res.seconds, rel=1e-9)  # samples and seconds span the same window
    with pytest.raises(MeterError, match="energy counter unavailable"):
        NvmlMeter(0, method="counter")


def test_nvml_unavailable(monkeypatch):
    monkeypatch.setattr(meters, "_pynvml", lambda: FakeNvml(init_error=True))
    with pytest.raises(MeterError, match="NVML unavailable"):
        NvmlMeter()
    monkeypatch.setattr(meters, "_pynvml", lambda: FakeNvml(counter_supported=()))
    with pytest.raises(MeterError, match="no NVIDIA GPU"):
        NvmlMeter()
    monkeypatch.setattr(meters, "_pynvml", lambda: FakeNvml())
    with pytest.raises(MeterError, match="no GPU 5"):
        NvmlMeter(5)


def test_nvml_with_real_module_functions_patched(monkeypatch):
    """The real pynvml module with its functions monkeypatched: NotSupported is pynvml's own class."""
    pynvml = pytest.importorskip("pynvml")
    monkeypatch.setattr(pynvml, "nvmlInit", lambda: None)
    monkeypatch.setattr(pynvml, "nvmlDeviceGetCount", lambda: 1)
    monkeypatch.setattr(pynvml, "nvmlDeviceGetHandleByIndex", lambda i: i)

    def no_counter(h):
        raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)

    monkeypatch.setattr(pynvml, "nvmlDeviceGetTotalEnergyConsumption", no_counter)
    monkeypatch.setattr(pynvml, "nvmlDeviceGetPowerUsage", lambda h: 50_000)
    m = NvmlMeter(sample_interval=0.002)
    assert m.methods == ["sampling"]
    with m.measure() as res:
        time.sleep(0.02)
    assert res.joules == pytest.approx(50 * res.seconds, rel=0.05)


def test_trapezoid():
    assert trapezoid([(0, 10), (1, 20), (3, 20)]) == pytest.approx(15 + 40)
    assert trapezoid([(0, 5)]) == 0


# -- estimate and discovery ----------------------------------------------------------------------------------------------
def test_estimate_is_labelled():
    t = iter([10.0, 12.5])
    m = EstimateMeter(watts=20, clock=lambda: next(t))
    with m.measure() as res:
        pass
    assert res.kind == ESTIMATE and res.is_estimate
    assert res.joules == pytest.approx(50.0)
    assert "ESTIMATE" in str(res) and "not a measurement" in res.details["note"]
    with pytest.raises(MeterError):
        EstimateMeter(0)


def test_estimate_counts_cpu_time():
    m = EstimateMeter(watts=10)
    with m.measure() as res:
        s = 0
        for i in range(300_000):
            s += i
    assert res.joules > 0 and res.details["cpu_seconds"] > 0


def test_available_meters_and_auto(tmp_path, monkeypatch):
    monkeypatch.setattr(meters, "_pynvml", lambda: FakeNvml(init_error=True))
    st = available_meters(rapl_root=tmp_path / "none")
    assert [s.name for s in st] == ["nvml", "rapl", "estimate"]
    assert not st[0].available and "NVML" in st[0].reason
    assert not st[1].available and "powercap" in st[1].reason
    assert st[2].available and st[2].kind == ESTIMATE
    assert isinstance(make_meter("auto", rapl_root=tmp_path / "none"), EstimateMeter)
    root = make_tree(tmp_path / "pc")
    assert isinstance(make_meter("auto", rapl_root=root), RaplMeter)
    with pytest.raises(MeterError, match="unknown meter"):
        make_meter("wattmeter")


from hypothesis import given, settings, strategies as st  # noqa: E402


class _MemZone(meters.RaplZone):
    def __init__(self, start, max_range):
        super().__init__(Path("/mem"), "package-0", max_range)
        self.value = start

    def read_uj(self):
        return self.value


@settings(max_examples=200, deadline=None)
@given(max_range=st.integers(10, 10**12), start_frac=st.floats(0, 1, exclude_max=True),
       steps=st.lists(st.floats(0, 1, exclude_max=True), max_size=30))
def test_wrap_accounting_property(max_range, start_frac, steps):
    """Whatever the counter range and the increments (each under one range per poll), the total is their sum."""
    zone = _MemZone(int(start_frac * max_range), max_range)
    w = meters.RaplWindow([zone])
    total = 0
    for f in steps:
        inc = int(f * max_range)
        zone.value = (zone.value + inc) % max_range
        total += inc
        w.poll()
    assert w.total_uj[0] == total
