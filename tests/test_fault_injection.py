"""Fault injection (issue 14): ``table``, ``sweep``, ``fit -o`` and ``export -o`` are killed with SIGKILL at random
moments, again and again. After every kill each file the command writes is absent, the old one or the complete new
one (a cache entry, the log's lines, the output file); the next run finishes the work with nothing lost or
duplicated, and removes the temporary files the killed writers could not.

The four kill loops run side by side (separate processes). CI runs a few kills per command; ``pytest --run-slow``
runs many more.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

NUMBERS = {f: {"add": 200, "sub": 200, "mul": 3000, "div": 5000, "root": 5000, "compare": 100} for f in ("fp32", "int64")}
OLD = "the old file\n"


class Loop:
    """Run ``argv`` repeatedly, killing it after a random delay in ``window`` seconds; ``check()`` after each run."""

    def __init__(self, name, argv, window, check, env, rng):
        self.name, self.argv, self.window, self.check, self.env, self.rng = name, argv, window, check, env, rng
        self.killed = self.finished = 0
        self.error: BaseException | None = None

    def run_once(self, kill: bool) -> subprocess.CompletedProcess | None:
        p = subprocess.Popen([sys.executable, "-m", "gatesim.cli", *map(str, self.argv)], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            if kill:
                try:
                    p.wait(timeout=self.rng.uniform(*self.window))
                except subprocess.TimeoutExpired:
                    p.send_signal(signal.SIGKILL)
                    p.wait()
                    self.killed += 1
                    return None
            out, err = p.communicate(timeout=300)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.finished += 1
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    def loop(self, kills: int):
        try:
            for i in range(kills):
                self.run_once(kill=True)
                self.check(final=False, result=None)
            self.check(final=True, result=self.run_once(kill=False))
        except BaseException as e:  # reported by the test thread
            self.error = e


def _temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp"))


def _kill_everything(tmp_path: Path, kills: int, seed: int):
    import circuits
    from calibration.profiles import Profile, fit_log
    from calibration.sweeps import _read_log, dnn_configs
    from gatesim import to_verilog
    from gatesim.tables import TransistorTable, build_table

    rng = random.Random(seed)
    env = dict(os.environ, GATESIM_CACHE_DIR=str(tmp_path / "cache"), PYTHONHASHSEED="0")
    table_json = tmp_path / "numbers.json"
    TransistorTable.from_numbers(NUMBERS, name="numbers").save(table_json)

    # export -o: the old Verilog or the complete new one
    exp_dir = tmp_path / "export"
    exp_dir.mkdir()
    verilog = exp_dir / "ks32.v"
    verilog.write_text(OLD)
    verilog_new = to_verilog(circuits.build("kogge-stone-adder", 32))

    def check_export(final, result):
        assert verilog.read_text() in (OLD, verilog_new)
        if final:
            assert result.returncode == 0, result.stderr
            assert verilog.read_text() == verilog_new and _temporaries(exp_dir) == []

    # table -o: every cache entry whole (no warning on the last run), the output old or complete
    tab_dir = tmp_path / "table"
    tab_dir.mkdir()
    tab_out = tab_dir / "t.json"
    tab_out.write_text(OLD)
    table_args = dict(mode="paper", formats=("fp16", "bf16"), operations=("add", "sub", "mul"), vectors=2000)
    tab_new = build_table(**table_args, cache=False).to_json() + "\n"

    def check_table(final, result):
        assert tab_out.read_text() in (OLD, tab_new)
        if final:
            assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
            assert tab_out.read_text() == tab_new
            cache = tmp_path / "cache" / "tables"
            assert len(list(cache.glob("*.json"))) == 6 and _temporaries(tab_dir) == []

    # sweep: the log's lines are whole and unique after every kill; the last --resume completes the set
    sw_dir = tmp_path / "sweep"
    sw_dir.mkdir()
    log = sw_dir / "log.jsonl"
    configs = dnn_configs(widths=[4, 5], activations=["sigmoid"], epochs=6, samples=256)
    want = {(c.key, r) for c in configs for r in range(3)}

    def logged(repair):
        if not log.exists():
            return []
        return [(r["key"], r["repeat"]) for r in _read_log(log, repair)]

    def check_sweep(final, result):
        raw = log.read_bytes() if log.exists() else b""
        body = raw[: raw.rfind(b"\n") + 1]  # a kill mid-append may leave half a line (cut off by the next run)
        keys = [(r["key"], r["repeat"]) for r in map(json.loads, body.decode().splitlines())]
        assert len(keys) == len(set(keys)) and set(keys) <= want, keys
        if final:
            assert result.returncode == 0, result.stderr
            keys = logged(False)
            assert sorted(keys) == sorted(want), keys  # nothing lost, nothing duplicated
            assert not (sw_dir / "log.jsonl.claims").exists()

    # fit -o: the old profile or a complete new one, equal to the uninterrupted fit
    fit_dir = tmp_path / "fit"
    fit_dir.mkdir()
    fit_log_path = fit_dir / "runs.jsonl"
    recs = [{"key": f"cfg{c}", "repeat": r, "tos": 1e9 * (c + 1), "flops": 2e7 * (c + 1),
             "joules": 2.0 * (c + 1) * (1 + 0.01 * r), "kind": "measurement", "trim": 0,
             "table": {"name": "numbers", "transistors": NUMBERS}} for c in range(4) for r in range(3)]
    fit_log_path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    prof_out = fit_dir / "profile.json"
    prof_out.write_text(OLD)
    _, ref = fit_log(recs, ["tos", "flops"], [1, 2, 3])

    def check_fit(final, result):
        if prof_out.read_text() != OLD:
            got = Profile.load(prof_out)
            assert [f.coef_z for f in got.fits] == [f.coef_z for f in ref.fits]
        if final:
            assert result.returncode == 0, result.stderr
            assert prof_out.read_text() != OLD and _temporaries(fit_dir) == []

    loops = [
        Loop("export", ["export", "kogge-stone-adder", "--width", 32, "-o", verilog], (0.2, 2.0), check_export, env, rng),
        Loop("table", ["table", "--mode", "paper", "--formats", "fp16,bf16", "--operations", "add,sub,mul", "--vectors", 2000, "--json",
                       "-o", tab_out], (0.2, 3.5), check_table, env, rng),
        Loop("sweep", ["sweep", "dnn", "--widths", "4-5", "--activations", "sigmoid", "--repeats", 3, "--epochs", 6,
                       "--samples", 256, "--meter", "estimate", "--table", table_json, "--resume", "--no-progress",
                       "-o", log], (1.0, 5.0), check_sweep, env, rng),
        Loop("fit", ["fit", fit_log_path, "-o", prof_out], (0.3, 3.0), check_fit, env, rng),
    ]
    threads = [threading.Thread(target=lp.loop, args=(kills,)) for lp in loops]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for lp in loops:
        if lp.error is not None:
            raise AssertionError(f"{lp.name} (seed {seed}, {lp.killed} kills): {lp.error!r}") from lp.error
    return {lp.name: lp.killed for lp in loops}


def test_sigkill_at_random_moments(tmp_path):
    seed = int.from_bytes(os.urandom(4), "little")
    killed = _kill_everything(tmp_path, kills=3, seed=seed)
    assert sum(killed.values()) >= 1, killed  # at least one command was really killed
    print(f"seed {seed}: killed {killed}")


@pytest.mark.slow
def test_sigkill_at_random_moments_long(tmp_path):
    seed = int.from_bytes(os.urandom(4), "little")
    killed = _kill_everything(tmp_path, kills=25, seed=seed)
    assert all(k >= 5 for k in killed.values()), killed
    print(f"seed {seed}: killed {killed}")
