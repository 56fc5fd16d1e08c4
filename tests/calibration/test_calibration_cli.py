"""The calibration commands through click's CliRunner: happy paths and one-line errors (never a traceback)."""
import json

import pytest
from click.testing import CliRunner

from calibration.cli import COMMANDS, fit_cmd, measure_cmd, meters_cmd, predict_cmd, sweep_cmd


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A small transistor table JSON (plain numbers) so the commands don't build circuits."""
    from gatesim.tables import TransistorTable

    nums = {f: {"add": 200, "sub": 200, "mul": 3000, "div": 5000, "root": 5000, "compare": 100}
            for f in ("fp32", "int64")}
    p = tmp_path_factory.mktemp("t") / "table.json"
    TransistorTable.from_numbers(nums, name="test").save(p)
    return str(p)


def invoke(cmd, args):
    res = CliRunner().invoke(cmd, args, catch_exceptions=False)
    return res


def test_commands_exported():
    assert [c.name for c in COMMANDS] == ["meters", "measure", "sweep", "fit", "predict"]


def test_meters(tmp_path):
    res = invoke(meters_cmd, ["--rapl-root", str(tmp_path / "none"), "--json"])
    assert res.exit_code == 0
    rows = json.loads(res.output)
    assert [r["name"] for r in rows] == ["nvml", "rapl", "estimate"]
    assert rows[2]["kind"] == "estimate"
    res = invoke(meters_cmd, ["--rapl-root", str(tmp_path / "none")])
    assert "unavailable" in res.output and "ESTIMATE" in res.output


def test_measure_dnn(table):
    res = invoke(measure_cmd, ["dnn", "--width", "5", "--samples", "100", "--meter", "estimate", "--table", table,
                               "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["kind"] == "estimate" and d["tos"] > d["flops"] > 0 and d["steps"] == 2


def test_sweep_fit_predict_end_to_end(tmp_path, table):
    log = tmp_path / "log.jsonl"
    args = ["dnn", "-o", str(log), "--widths", "4-9", "--activations", "gelu", "--epochs", "1", "--samples", "200",
            "--repeats", "3", "--trim", "1", "--meter", "estimate", "--table", table, "--no-progress"]
    res = invoke(sweep_cmd, args)
    assert res.exit_code == 0, res.output
    assert "18 run(s) logged" in res.output
    res = invoke(sweep_cmd, args)
    assert res.exit_code == 1 and "--resume" in res.output and "Traceback" not in res.output
    res = invoke(sweep_cmd, args + ["--resume"])
    assert res.exit_code == 0 and "0 run(s) logged" in res.output and "18 already there" in res.output
    prof = tmp_path / "p.json"
    res = invoke(fit_cmd, [str(log), "--degree", "1", "--plot", str(tmp_path / "plots"), "-o", str(prof)])
    assert res.exit_code == 0, res.output
    assert "TOs" in res.output and "FLOPs" in res.output and "trimmed 1" in res.output
    assert (tmp_path / "plots" / "energy_vs_tos.png").is_file()
    res = invoke(fit_cmd, [str(log), "--degree", "1", "--json", "--features", "flops"])
    assert json.loads(res.stdout)["fits"][0]["feature"] == "flops"  # (stderr may name noisy runs as outliers)
    res = invoke(predict_cmd, ["dnn", "--width", "7", "--profile", str(prof), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert set(d["levels"]) == {"training", "validation", "inference"}
    assert d["levels"]["training"]["tos"] > d["levels"]["inference"]["tos"]
    # the same workload as the sweep's width-7 runs gets exactly their TOs and FLOPs (same table, same optimizer)
    res = invoke(predict_cmd, ["dnn", "--width", "7", "--activation", "gelu", "--samples", "200", "--epochs", "1",
                               "--profile", str(prof), "--json"])
    tr = json.loads(res.output)["levels"]["training"]
    rec = next(json.loads(line) for line in log.read_text().splitlines() if '"width": 7' in line)
    assert (tr["tos"], tr["flops"]) == (rec["tos"], rec["flops"])
    res = invoke(predict_cmd, ["dnn", "--width", "7", "--profile", str(prof)])
    assert res.exit_code == 0 and "training" in res.output and "ESTIMATES" in res.output


def test_cnn_sweep_tiny(tmp_path, table):
    log = tmp_path / "c.jsonl"
    res = invoke(sweep_cmd, ["cnn", "-o", str(log), "--layers", "2,3", "--image", "10", "--samples", "2",
                             "--batch-size", "2", "--repeats", "1", "--meter", "estimate", "--table", table,
                             "--no-progress"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["config"]["layers"] for r in recs] == [2, 3]


def test_interrupted_sweep_says_resume(tmp_path, table, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("calibration.sweeps.run_sweep", boom)
    res = invoke(sweep_cmd, ["dnn", "-o", str(tmp_path / "l.jsonl"), "--meter", "estimate", "--no-progress"])
    assert res.exit_code == 1 and "--resume" in res.output


@pytest.mark.parametrize("cmd,args,code,text", [
    (sweep_cmd, ["dnn", "-o", "x.jsonl", "--widths", "9-4"], 2, "--widths"),
    (sweep_cmd, ["dnn", "-o", "x.jsonl", "--repeats", "2", "--trim", "1"], 2, "--trim 1"),
    (sweep_cmd, ["mlp", "-o", "x.jsonl"], 2, "mlp"),
    (fit_cmd, ["missing.jsonl"], 1, "no such log"),
    (fit_cmd, ["log.jsonl", "--features", "joules"], 2, "--features"),
    (fit_cmd, ["log.jsonl", "--select", "tos"], 2, "--select"),
    (predict_cmd, ["dnn", "--profile", "missing.json"], 1, "no such profile"),
    (predict_cmd, ["nosuchmodel", "--profile", "p.json"], 2, "MODEL"),
    (measure_cmd, ["dnn", "--epochs", "0"], 2, "positive"),
    (measure_cmd, ["dnn", "--meter", "estimate", "--watts", "0"], 2, "0<x<=1000000.0"),
])
def test_bad_input_is_one_line(tmp_path, monkeypatch, cmd, args, code, text):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "log.jsonl").write_text("garbage\n")
    (tmp_path / "p.json").write_text("{}")
    res = CliRunner().invoke(cmd, args)
    assert res.exit_code == code, res.output
    assert text in res.output
    assert "Traceback" not in res.output and not (res.exception and not isinstance(res.exception, SystemExit))


def test_malformed_log_and_profile(tmp_path):
    (tmp_path / "log.jsonl").write_text('{"key": "a"}\n')
    res = CliRunner().invoke(fit_cmd, [str(tmp_path / "log.jsonl")])
    assert res.exit_code == 1 and "line 1: missing" in res.output
    (tmp_path / "p.json").write_text('{"format": "nope"}')
    res = CliRunner().invoke(predict_cmd, ["dnn", "--profile", str(tmp_path / "p.json")])
    assert res.exit_code == 1 and "not a calibration profile" in res.output


def test_model_from_file(tmp_path, table):
    f = tmp_path / "m.py"
    f.write_text("from torch import nn\n\ndef make():\n    return nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))\n")
    res = invoke(measure_cmd, [f"{f}:make", "--sample-shape", "3", "--samples", "50", "--meter", "estimate",
                               "--table", table, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["flops"] > 0
    res = CliRunner().invoke(measure_cmd, [f"{f}:make", "--meter", "estimate"])
    assert res.exit_code == 2 and "--sample-shape" in res.output
