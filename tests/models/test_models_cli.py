"""``gatesim estimate`` through click's CliRunner on the command object."""
import json
import textwrap

import pytest
from click.testing import CliRunner

from gatesim.models.cli import estimate

MODEL_FILE = textwrap.dedent("""
    from torch import nn

    def factory():
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

    instance = nn.Sequential(nn.Linear(4, 2), nn.Sigmoid())
    not_a_model = 3

    def broken():
        raise RuntimeError("boom\\nsecond line")
""")


@pytest.fixture
def model_file(tmp_path):
    p = tmp_path / "mymodel.py"
    p.write_text(MODEL_FILE)
    return str(p)


def run(*args, obj=None):
    res = CliRunner().invoke(estimate, list(args), obj=obj)
    assert "Traceback" not in res.output
    return res


def test_builtin_paper_dnn_table():
    res = run("paper-dnn", "--width", "18", "--activation", "sigmoid", "--input-shape", "64,4")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].split("|")[0].strip() == "module"
    assert any(l.startswith("(total) | all") for l in lines)
    assert "uncounted ops: none" in res.output


def test_builtin_paper_cnn_json_paper_counter():
    res = run("paper-cnn", "--layers", "2", "--image", "16", "--counter", "paper", "--json", "--level", "validation")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["counter"] == "paper" and d["phases"] == ["forward", "loss"]
    assert d["total"]["mul"] > 0 and d["uncounted"] == {}


def test_json_matches_api(model_file):
    from gatesim.models import count
    from gatesim.models.cli import load_model

    res = run(f"{model_file}:factory", "--input-shape", "16,4", "--json", "--optimizer", "adam")
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    r = count(load_model(f"{model_file}:factory"), input_shape=(16, 4), optimizer="adam")
    assert d["total"]["bos"] == r.bos(phase=r.phases).total()
    assert d["phases"] == ["forward", "loss", "backward", "optimizer"]
    assert d["rows"][-1]["module"] == "(total)"


def test_csv_and_module_attr(model_file):
    res = run(f"{model_file}:instance", "--input-shape", "3,4", "--csv", "--level", "inference")
    assert res.exit_code == 0, res.output
    rows = res.output.splitlines()
    assert rows[0].startswith("module,phase,add,sub,mul,div,root,compare")
    assert rows[-1].startswith("(total),all,")
    res = run("torch.nn:Identity", "--input-shape", "3,4", "--level", "inference", "--totals-only")
    assert res.exit_code == 0, res.output


def test_tos_column_when_a_table_is_passed_in(model_file):
    class Table:
        def transistors(self, operation, fmt):
            return {"add": 1, "sub": 1, "mul": 10, "div": 10, "root": 10, "compare": 1}[operation]

    res = run(f"{model_file}:factory", "--input-shape", "2,4", "--json", obj={"transistor_table": Table()})
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    t = d["total"]
    assert t["tos"] == t["add"] + t["sub"] + 10 * (t["mul"] + t["div"] + t["root"]) + t["compare"]


@pytest.mark.parametrize("args,code,msg", [
    (["nope"], 2, "MODEL must be"),
    (["missing.py:f", "--input-shape", "2,4"], 2, "no such file"),
    (["torch.nn:NoSuchThing", "--input-shape", "2,4"], 2, "no attribute"),
    (["no_such_package_xyz:f", "--input-shape", "2,4"], 2, "cannot import"),
    (["paper-dnn", "--layers", "3"], 2, "does not take"),
    (["paper-dnn", "--activation", "swish"], 2, "unknown activation"),
    (["paper-dnn", "--input-shape", "64,x"], 2, "comma-separated"),
    (["paper-dnn", "--json", "--csv"], 2, "one of"),
    (["paper-dnn", "--dtype", "fp7"], 2, "unknown number format"),
    (["paper-dnn", "--level", "testing"], 2, "testing"),
    (["paper-dnn", "--input-shape", "64,5"], 1, "model.0"),
    (["paper-dnn", "--counter", "paper", "--optimizer", "sgd"], 2, "only apply"),
])
def test_bad_input_gives_one_clear_line(args, code, msg):
    res = run(*args)
    assert res.exit_code == code, res.output
    assert msg in res.output


def test_bad_model_files(model_file):
    res = run(f"{model_file}:broken", "--input-shape", "2,4")
    assert res.exit_code == 1 and "boom" in res.output and "second line" not in res.output
    res = run(f"{model_file}:not_a_model", "--input-shape", "2,4")
    assert res.exit_code == 2 and "neither" in res.output
    res = run(f"{model_file}:factory")
    assert res.exit_code == 2 and "--input-shape is required" in res.output


def test_strict_and_uncounted_reporting(model_file, monkeypatch):
    from gatesim.models import DEFAULT_RECIPES

    saved = DEFAULT_RECIPES.get("aten.relu")
    DEFAULT_RECIPES.remove("aten.relu")
    try:
        res = run(f"{model_file}:factory", "--input-shape", "2,4")
        assert res.exit_code == 0 and "aten.relu x1" in res.output
        res = run(f"{model_file}:factory", "--input-shape", "2,4", "--json")
        assert json.loads(res.output)["uncounted"] == {"aten.relu": 1}
        res = run(f"{model_file}:factory", "--input-shape", "2,4", "--strict")
        assert res.exit_code == 1 and "aten.relu" in res.output and "model.1" in res.output
    finally:
        DEFAULT_RECIPES.register("aten.relu", saved)


def test_recipe_file_overrides(tmp_path, model_file):
    f = tmp_path / "mine.json"
    f.write_text('{"aten.relu": {"compare": 5}}')
    base = json.loads(run(f"{model_file}:factory", "--input-shape", "2,4", "--json", "--level", "inference").output)
    res = run(f"{model_file}:factory", "--input-shape", "2,4", "--json", "--level", "inference", "--recipes", str(f))
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["recipes"] == "mine" and d["total"]["compare"] == 5 * base["total"]["compare"]
    t = tmp_path / "bad.toml"
    t.write_text('[recipes]\n"aten.relu" = 3\n')
    res = run(f"{model_file}:factory", "--input-shape", "2,4", "--recipes", str(t))
    assert res.exit_code == 2 and "aten.relu" in res.output
    res = run(f"{model_file}:factory", "--input-shape", "2,4", "--recipes", "nonsense")
    assert res.exit_code == 2 and "unknown recipe set" in res.output
