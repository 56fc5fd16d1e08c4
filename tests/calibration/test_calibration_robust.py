"""Regression tests of issue 14 for the calibration room: fits refuse nonsense energies, profiles are strict JSON,
concurrent sweeps neither duplicate nor lose runs, the NVML window is stamped after its last sample, a full disk
never leaves half a line in a log, plots say when energies are estimates, ``measure`` shows progress."""
import json
import multiprocessing
import os
import time

import pytest
from click.testing import CliRunner

from calibration import meters, sweeps
from calibration.errors import CalibrationError
from calibration.meters import EstimateMeter, Measurement, NvmlMeter
from calibration.profiles import Profile, fit_log
from calibration.sweeps import dnn_configs, read_log, run_sweep
from gatesim.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


TABLE = {"name": "numbers", "mode": "numbers", "library": "", "transistors": {
    f: {"add": 200, "sub": 200, "mul": 3000, "div": 5000, "root": 5000, "compare": 100} for f in ("fp32", "int64")}}


def runs(n_configs=3, repeats=3, joules=None):
    """Records as a sweep logs them: energy roughly proportional to TOs, a little noise per repeat; TOs priced by
    a plain-numbers table (so that predicting builds no circuits)."""
    out = []
    for c in range(n_configs):
        for r in range(repeats):
            tos = 1e9 * (c + 1)
            e = 2.0 * (c + 1) * (1 + 0.01 * r) if joules is None else joules(c, r)
            out.append({"key": f"cfg{c}", "repeat": r, "tos": tos, "flops": tos / 50, "joules": e, "kind": "measurement",
                        "trim": 0, "table": TABLE})
    return out


def write_log(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# -- 3. fit refuses nonsense energies ------------------------------------------------------------------------------
@pytest.mark.parametrize("energy,message", [
    (lambda c, r: -1.0 if (c, r) == (1, 1) else 1.0 + c, "cfg1 repeat 1: energy must be a finite positive number"),
    (lambda c, r: 0.0, "energy must be a finite positive number of joules, got 0.0"),
    (lambda c, r: 2.5, "every run has the same energy"),
    (lambda c, r: float("nan") if c == 2 else 1.0 + c, "cfg2 repeat 0: energy must be a finite positive"),
])
@pytest.mark.parametrize("how", [["--degree", "1"], ["--model", "linear", "--features", "tos"]])
def test_fit_refuses_nonsense_energies(tmp_path, energy, message, how):
    log = write_log(tmp_path / "log.jsonl", runs(joules=energy))
    prof = tmp_path / "p.json"
    r = invoke("fit", log, *how, "-o", prof)
    assert r.exit_code == 1 and message in r.stderr, r.output
    assert r.stderr.count("\n") == 1 and not prof.exists()


def test_an_overflowing_run_is_named_and_no_profile_is_written(tmp_path):
    log = write_log(tmp_path / "log.jsonl", runs(joules=lambda c, r: 1e308 if (c, r) == (1, 2) else 2.0 + c + r / 10))
    prof = tmp_path / "p.json"
    r = invoke("fit", log, "-o", prof)
    assert r.exit_code == 1 and not prof.exists(), r.output
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("warning: 1 outlier run(s): cfg1 repeat 2 (1e+308 J")
    assert lines[-1].startswith("Error: the fit on tos of degree") and "cfg1 repeat 2" in lines[-1]
    assert "RuntimeWarning" not in r.output and len(lines) == 2  # no numpy warnings


def test_outliers_are_named_and_the_fit_goes_on(tmp_path):
    log = write_log(tmp_path / "log.jsonl", runs(joules=lambda c, r: (2.0 + c) * (40 if (c, r) == (0, 1) else 1 + r / 50)))
    r = invoke("fit", log, "--degree", "1", "--json")
    assert r.exit_code == 0, r.output
    assert "warning: 1 outlier run(s): cfg0 repeat 1" in r.stderr
    assert any("cfg0 repeat 1" in n for n in json.loads(r.stdout)["notes"])


def test_profile_is_strict_json_and_predict_refuses_non_finite_ones(tmp_path):
    log = write_log(tmp_path / "log.jsonl", runs())
    report, prof = fit_log(read_log(log), ["tos"], [1])
    good = tmp_path / "good.json"
    prof.save(good)
    r = invoke("predict", "dnn", "--width", "4", "--profile", good, "--json")
    assert r.exit_code == 0 and all(v["energy"] > 0 for v in json.loads(r.stdout)["levels"].values()), r.output
    json.loads(good.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in a profile"))
    prof.fits[0].coef_z[1] = float("nan")
    with pytest.raises(CalibrationError, match="NaN or Infinity"):
        prof.save(tmp_path / "bad.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.json", "log.jsonl"]
    doc = json.loads(good.read_text())
    for name, edit in {"nan": lambda d: d["fits"][0]["train"].update(r2=float("nan")),
                       "inf": lambda d: d["fits"][0]["coef_z"].__setitem__(0, float("inf")),
                       "huge": lambda d: d["fits"][0].update(coef_z=[1e308, 1e308], mean=-1e300)}.items():
        d = json.loads(json.dumps(doc))
        edit(d)
        p = tmp_path / f"{name}.json"
        p.write_text(json.dumps(d))  # json.dumps writes NaN / Infinity: not JSON
        r = invoke("predict", "dnn", "--width", "4", "--profile", p)
        assert r.exit_code in (1, 2) and r.stderr.startswith("Error:"), (name, r.output)
        assert "J" not in r.stdout
        with pytest.raises(CalibrationError):
            Profile.load(p)


# -- 4. concurrent sweeps --------------------------------------------------------------------------------------------
def _fake_run(config, meter, device="cpu", seed=0):
    time.sleep(0.05)
    return Measurement(meter="fake", joules=1.0 + config.params["width"] + 0.01 * seed, seconds=0.05, done=True)


def _sweep_in_process(log, resume):
    cs = dnn_configs(widths=[4, 5, 6], activations=["sigmoid"], epochs=1, samples=64)
    from calibration.counting import parameter_count

    res = run_sweep(cs, log, repeats=3, meter=EstimateMeter(), count_fn=parameter_count, run_fn=_fake_run,
                    progress=False, threads=None, resume=resume)
    return res.done


def test_concurrent_sweeps_run_each_run_once(tmp_path):
    log = tmp_path / "csw.jsonl"
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        done = pool.starmap(_sweep_in_process, [(str(log), True)] * 4)
    keys = [(r["key"], r["repeat"]) for r in read_log(log)]
    assert len(keys) == 9 and len(set(keys)) == 9 and sum(done) == 9
    assert not (tmp_path / "csw.jsonl.claims").exists()


def test_a_dead_sweeps_claim_is_void(tmp_path):
    log = tmp_path / "log.jsonl"
    cs = dnn_configs(widths=[4], activations=["sigmoid"], epochs=1, samples=64)
    dead = multiprocessing.get_context("fork").Process(target=lambda: None)
    dead.start()
    dead.join()  # a process id that no longer runs
    claims = {"format": "gatesim-sweep-claims/1", "claims": [
        {"key": cs[0].key, "repeat": 0, "pid": dead.pid, "host": os.uname().nodename, "start": None}]}
    (tmp_path / "log.jsonl.claims").write_text(json.dumps(claims))
    from calibration.counting import parameter_count

    res = run_sweep(cs, log, repeats=1, meter=EstimateMeter(), count_fn=parameter_count, run_fn=_fake_run,
                    progress=False, threads=None)
    assert res.done == 1 and len(read_log(log)) == 1


def test_fit_drops_duplicate_runs_with_a_warning(tmp_path):
    recs = runs()
    log = write_log(tmp_path / "log.jsonl", recs + recs[:4])
    r = invoke("fit", log, "--degree", "1", "--json")
    assert r.exit_code == 0, r.output
    assert "warning: ignored 4 duplicate run(s) of the same (key, repeat)" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["n_train"] + doc["n_validation"] == 9
    r = invoke("fit", log, "--model", "linear", "--features", "tos", "--json")  # the multi-feature path too
    assert r.exit_code == 0 and "warning: ignored 4 duplicate run(s)" in r.stderr, r.output


def test_full_disk_never_leaves_half_a_line_in_the_log(tmp_path, monkeypatch):
    import errno

    log = write_log(tmp_path / "log.jsonl", runs()[:2])
    before = log.read_bytes()

    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError):
        sweeps.append_record(log, {"key": "x", "repeat": 0, "joules": 1.0, "tos": 1, "flops": 1})
    assert log.read_bytes() == before


# -- 9. the NVML window ------------------------------------------------------------------------------------------------
def test_nvml_seconds_cover_the_sampled_window(monkeypatch):
    """A slow sampler stop (a busy machine) must not put samples outside the stamped window: with constant power
    the energy is exactly power x seconds."""
    from test_calibration_meters import FakeNvml

    fake = FakeNvml(counter_supported=(False,))
    fake.power_mw = [80_000]
    monkeypatch.setattr(meters, "_pynvml", lambda: fake)
    real_stop = meters._Poller.stop

    def slow_stop(self):
        time.sleep(0.05)
        real_stop(self)

    monkeypatch.setattr(meters._Poller, "stop", slow_stop)
    m = NvmlMeter(0, sample_interval=0.002)
    with m.measure() as res:
        time.sleep(0.01)
    assert res.joules == pytest.approx(80 * res.seconds, rel=1e-9)


def test_nvml_sample_interval_must_be_positive(monkeypatch):
    from test_calibration_meters import FakeNvml

    monkeypatch.setattr(meters, "_pynvml", lambda: FakeNvml(counter_supported=(False,)))
    with pytest.raises(meters.MeterError, match="positive"):
        NvmlMeter(0, sample_interval=0)


# -- 10. plots and progress --------------------------------------------------------------------------------------------
def test_plots_label_estimated_energy(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    labels = []
    real = Figure.savefig

    def savefig(self, *a, **k):
        labels.extend([self.axes[0].get_ylabel(), self.axes[0].get_title(), self._suptitle.get_text() if self._suptitle else ""])
        return real(self, *a, **k)

    monkeypatch.setattr(Figure, "savefig", savefig)
    recs = runs()
    for r in recs:
        r["kind"] = "estimate"
    log = write_log(tmp_path / "log.jsonl", recs)
    r = invoke("fit", log, "--features", "tos", "--degree", "1", "--plot", tmp_path / "plots")
    assert r.exit_code == 0, r.output
    energy_vs, residuals = labels[:3], labels[3:]
    assert energy_vs[0].startswith("ESTIMATED energy") and "ESTIMATE" in energy_vs[1]
    assert "ESTIMATE" in residuals[2]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["energy_vs_tos.png", "residuals_tos.png"]
    labels.clear()
    r = invoke("fit", log, "--model", "linear", "--features", "tos", "--plot", tmp_path / "models")
    assert r.exit_code == 0, r.output
    assert "ESTIMATED" in labels[0] and "ESTIMATED" in labels[2]  # predicted vs measured: axis and figure title


def test_measure_shows_progress():
    r = invoke("measure", "dnn", "--width", "4", "--samples", "128", "--batch-size", "32", "--meter", "estimate",
               "--no-count", "--progress")
    assert r.exit_code == 0, r.output
    assert "measure dnn" in r.stderr and "4/4" in r.stderr
