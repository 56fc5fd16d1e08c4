"""Sweeps: JSONL log, resume after a kill with exactly the missing runs, trimming, tiny real trainings."""
import json

import pytest

from calibration.counting import parameter_count, workload_counts
from calibration.errors import CalibrationError
from calibration.meters import EstimateMeter, Measurement
from calibration.sweeps import (cnn_configs, cnn_kernel, cnn_model, csv_data, dnn_configs, dnn_model, read_log,
                                run_sweep, train_once, trim)


class Killed(Exception):
    pass


def fake_run(limit=None, calls=None):
    """A run function that measures nothing real: joules from the config; KeyboardInterrupt after ``limit`` runs."""
    calls = calls if calls is not None else []

    def run(config, meter, device="cpu", seed=0):
        if limit is not None and len(calls) >= limit:
            raise KeyboardInterrupt
        calls.append((config.key, seed))
        return Measurement(meter="fake", joules=1.0 + config.params["width"] + 0.01 * seed, seconds=0.1, done=True)

    return run


def configs():
    return dnn_configs(widths=[4, 5, 6], activations=["sigmoid", "gelu"], epochs=1, samples=100)


def test_killed_sweep_resumes_with_exactly_the_missing_runs(tmp_path):
    log = tmp_path / "log.jsonl"
    cs = configs()
    with pytest.raises(KeyboardInterrupt):
        run_sweep(cs, log, repeats=4, meter=EstimateMeter(), count_fn=parameter_count, run_fn=fake_run(limit=7),
                  progress=False, threads=None)
    first = read_log(log)
    assert len(first) == 7
    with pytest.raises(CalibrationError, match="--resume"):
        run_sweep(cs, log, repeats=4, meter=EstimateMeter(), count_fn=parameter_count, run_fn=fake_run(),
                  progress=False, threads=None)
    calls = []
    res = run_sweep(cs, log, repeats=4, meter=EstimateMeter(), count_fn=parameter_count, run_fn=fake_run(calls=calls),
                    resume=True, progress=False, threads=None)
    assert res.done == 24 - 7 and res.skipped == 7 and len(calls) == 17
    recs = read_log(log)
    keys = [(r["key"], r["repeat"]) for r in recs]
    assert len(keys) == 24 and len(set(keys)) == 24
    assert set(keys) == {(c.key, r) for c in cs for r in range(4)}
    done_before = {(r["key"], r["repeat"]) for r in first}
    assert not done_before & {(k, s) for k, s in calls}
    # a third resume has nothing left to do
    res = run_sweep(cs, log, repeats=4, meter=EstimateMeter(), count_fn=parameter_count, run_fn=fake_run(),
                    resume=True, progress=False, threads=None)
    assert res.done == 0 and res.skipped == 24


def test_truncated_last_line_is_repaired_on_resume(tmp_path):
    log = tmp_path / "log.jsonl"
    cs = configs()[:2]
    with pytest.raises(KeyboardInterrupt):
        run_sweep(cs, log, repeats=2, meter=EstimateMeter(), count_fn=parameter_count, run_fn=fake_run(limit=3),
                  progress=False, threads=None)
    with open(log, "a") as fh:
        fh.write('{"key": "half a run')  # killed while writing
    with pytest.raises(CalibrationError, match="line 4: not valid JSON"):
        read_log(log)
    res = run_sweep(cs, log, repeats=2, meter=EstimateMeter(), count_fn=parameter_count, run_fn=fake_run(),
                    resume=True, progress=False, threads=None)
    assert res.done == 1
    assert len(read_log(log)) == 4


def test_record_fields(tmp_path):
    log = tmp_path / "log.jsonl"
    run_sweep(configs()[:1], log, repeats=1, trim_k=0, meter=EstimateMeter(), count_fn=parameter_count,
              run_fn=fake_run(), progress=False, threads=None)
    rec = json.loads(log.read_text().splitlines()[0])
    for k in ("key", "repeat", "config", "tos", "flops", "joules", "seconds", "meter", "kind", "hardware", "table"):
        assert k in rec
    assert rec["config"]["width"] == 4 and rec["config"]["activation"] == "sigmoid"
    assert rec["counting"] == {"loss": "mse", "optimizer": "sgd"}
    assert rec["hardware"]["cpu_count"] >= 1
    # 100 samples in batches of 64: one full batch and one of 36
    n = sum(p.numel() for p in dnn_model(4, "sigmoid").parameters())
    assert rec["flops"] == 2 * n * 3 * (64 + 36) and rec["steps"] == 2


@pytest.mark.parametrize("line,msg", [
    ("not json", "line 1: not valid JSON"),
    ("[1, 2]", "line 1: expected a JSON object"),
    ('{"key": "a", "repeat": 0, "tos": 1, "flops": 1}', "line 1: missing joules"),
    ('{"key": "a", "repeat": 0, "tos": 1, "flops": 1, "joules": "many"}', "joules must be a number"),
    ('{"key": "a", "repeat": 0, "tos": "x", "flops": 1, "joules": 1}', "tos must be a number"),
])
def test_malformed_logs(tmp_path, line, msg):
    p = tmp_path / "bad.jsonl"
    p.write_text(line + "\n")
    with pytest.raises(CalibrationError, match=msg):
        read_log(p)


def test_missing_log(tmp_path):
    with pytest.raises(CalibrationError, match="no such log"):
        read_log(tmp_path / "none.jsonl")


def test_trim_drops_extremes_per_config():
    recs = [{"key": "a", "joules": j} for j in (5, 1, 3, 100, 4)] + [{"key": "b", "joules": 1}]
    kept, notes = trim(recs, 1)
    assert sorted(r["joules"] for r in kept if r["key"] == "a") == [3, 4, 5]
    assert [r["joules"] for r in kept if r["key"] == "b"] == [1]
    assert notes and "b: 1 runs" in notes[0]


def test_bad_sweep_arguments(tmp_path):
    with pytest.raises(CalibrationError, match="trim"):
        run_sweep(configs(), tmp_path / "l.jsonl", repeats=4, trim_k=2, count_fn=parameter_count, progress=False)
    with pytest.raises(CalibrationError, match="activation"):
        dnn_configs(activations=["swish!"])
    with pytest.raises(CalibrationError, match="too small"):
        cnn_configs(layers=[10], image=20)


def test_cnn_kernels_follow_table_ii():
    assert [cnn_kernel(n) for n in range(2, 11)] == [3, 3, 3, 3, 3, 4, 5, 6, 7]
    m = cnn_model(8)
    assert m[0].kernel_size == (5, 5) and m[0].out_channels == 32


def test_workload_counts_last_batch():
    c = workload_counts(parameter_count, lambda: dnn_model(4), (4,), samples=130, batch_size=64, epochs=3)
    n = sum(p.numel() for p in dnn_model(4).parameters())
    assert c["flops"] == 3 * 2 * n * 3 * 130 and c["steps"] == 9


def test_tiny_real_trainings(tmp_path):
    """Real training runs (estimate meter) of the DNN and a tiny CNN, counted by the trivial counter."""
    log = tmp_path / "log.jsonl"
    cs = dnn_configs(widths=[4], activations=["tanh"], epochs=1, samples=130)
    cs += cnn_configs(layers=[2], epochs=1, batch_size=2, samples=3, image=12)
    res = run_sweep(cs, log, repeats=1, meter=EstimateMeter(), count_fn=parameter_count, progress=False)
    assert res.done == 2
    for r in read_log(log):
        assert r["kind"] == "estimate" and r["joules"] >= 0 and r["seconds"] > 0


def test_user_csv(tmp_path):
    p = tmp_path / "bank.csv"
    p.write_text("a,b,c,d,label\n" + "\n".join(f"{i},{i * 2},{-i},{i % 3},{i % 2}" for i in range(70)) + "\n")
    x, y = csv_data(p)
    assert x.shape == (70, 4) and y.shape == (70, 1)
    cs = dnn_configs(widths=[5], activations=["gelu"], epochs=1, data=str(p))
    assert cs[0].samples == 70
    m = train_once(cs[0], EstimateMeter())
    assert m.kind == "estimate"
    (tmp_path / "bad.csv").write_text("1,2,3\n")
    with pytest.raises(CalibrationError, match="needs 5 columns"):
        csv_data(tmp_path / "bad.csv")
