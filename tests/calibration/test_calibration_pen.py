"""PEN data: shipped with the package, every row parses, every architecture builds on meta with the right parameters;
the grammar's recurrent and reshape layers; one-line errors; the tail and optimizer names; counting runs."""
import hashlib

import pytest
import torch

from calibration.counting import meta_shape_cache, parameter_count
from calibration.errors import CalibrationError
from calibration.pen import (LAYER_GRAMMAR, count_runs, default_pen_dir, load_pen, load_splits, parse_model_string,
                             resolve_optimizer)

# architecture strings of the upstream unknown.csv (recurrent networks), copied verbatim
GRU = ("dense input LIST_224_224_3 reshape LIST_50176_3 recurrent gru 3 128 1 True dense 128 10 nl_activation softmax "
       "untrained Constant 10 10 Adagrad")
GRU3 = ("dense input LIST_224_224_3 reshape LIST_50176_3 recurrent gru 3 64 True recurrent gru 64 64 True recurrent gru "
        "64 64 True dense 64 10 nl_activation softmax untrained Constant 10 10 NAdam")
LSTM = ("dense input LIST_224_224_3 reshape LIST_50176_3 recurrent lstm 3 64 1 True dense 64 10 nl_activation softmax "
        "untrained ReduceLROnPlateau 25 4 SGD")
RNN = ("dense input LIST_224_224_3 reshape LIST_50176_3 recurrent rnn 3 128 1 True dense 128 10 nl_activation softmax "
       "untrained ReduceLROnPlateau 10 10 Radam")


def expected_parameters(layers) -> int:
    ln = any(s.kind == "layernorm" for s in layers)
    n = 0
    for s in layers:
        a = s.args
        if s.kind == "dense":
            n += a["in"] * a["out"] + a["out"]
        elif s.kind == "conv":
            groups = a["in"] if ln and a["in"] == a["out"] and a["kernel"] == (7, 7) and a["stride"] == (1, 1) else 1
            n += a["in"] * a["out"] * a["kernel"][0] * a["kernel"][1] // groups + a["out"]
        elif s.kind in ("batchnorm", "layernorm"):
            n += 2 * a["channels"]
        elif s.kind == "recurrent":
            gates = {"gru": 3, "lstm": 4, "rnn": 1}[a["cell"]]
            h = a["hidden"]
            for k in range(a["layers"]):
                n += gates * ((a["in"] if k == 0 else h) * h + h * h + 2 * h)
    return n


@pytest.fixture(scope="module")
def runs():
    s = load_splits()
    return s["training"] + s["test"]


@pytest.fixture(scope="module")
def models(runs):
    """One meta model per architecture, built once for the module."""
    out = {}
    with meta_shape_cache():
        for r in runs:
            if r.architecture not in out:
                out[r.architecture] = (r, r.model())
    return out


def test_data_ships_with_the_package():
    d = default_pen_dir()
    assert d.parts[-3:] == ("calibration", "data", "pen")
    assert "MIT License" in (d / "LICENSE").read_text() and "Mehmet" in (d / "LICENSE").read_text()
    readme = (d / "README.md").read_text()
    for f in ("training.csv", "test.csv"):  # the README's checksums are the files'
        assert hashlib.sha256((d / f).read_bytes()).hexdigest() in readme


def test_every_row_parses(runs):
    assert len(runs) == 801 + 201
    assert {r.epochs for r in runs} == {10}
    assert {r.batch_size for r in runs} == {16, 64, 128}
    assert {r.weights for r in runs} <= {"untrained", "IMAGENET1K_V1", "IMAGENET1K_V2"}
    assert {r.input_shape for r in runs} == {(3, 224, 224)}
    assert {r.family for r in runs} == {"mlp", "cnn"}
    assert all(r.energy > 0 for r in runs)
    assert {r.optimizer_class.__name__ for r in runs} >= {"SGD", "Adam", "RAdam", "ASGD", "SparseAdam"}
    assert len({r.architecture_id for r in runs}) == len({r.architecture for r in runs})


def test_every_architecture_builds_on_meta_and_runs(models):
    assert len(models) > 50
    with meta_shape_cache():
        for r, m in models.values():
            params = list(m.parameters())
            assert all(p.device.type == "meta" for p in params)
            assert sum(p.numel() for p in params) == expected_parameters(r.layers)
            out_features = [s for s in r.layers if s.kind == "dense"][-1].args["out"]
            y = m(torch.empty(2, *r.input_shape, device="meta"))
            assert tuple(y.shape) == (2, out_features), r.model_string[:80]


def test_known_torchvision_sizes(models):
    sizes = {sum(p.numel() for p in m.parameters()) for r, m in models.values() if r.weights != "untrained"}
    assert 138_357_544 in sizes  # VGG-16
    assert 61_100_840 in sizes  # AlexNet


def test_mlp_parameters_by_hand(runs):
    r = runs[0]  # dense 150528 2, nine dense 2 2, output 2 10
    assert r.model_string.startswith("dense input LIST_224_224_3 dense 150528 2")
    assert sum(p.numel() for p in r.model().parameters()) == 150528 * 2 + 2 + 9 * 6 + 2 * 10 + 10
    assert r.optimizer == "AdamW" and r.batch_size == 128 and r.epochs == 10


@pytest.mark.parametrize("text,cell,layers", [(GRU, "gru", 1), (GRU3, "gru", 3), (LSTM, "lstm", 1), (RNN, "rnn", 1)])
def test_recurrent_strings_of_the_upstream_unknown_split(text, cell, layers):
    specs, shape, meta = parse_model_string(text)
    assert shape == (3, 224, 224)
    assert specs[0].kind == "reshape" and specs[0].args["shape"] == (50176, 3)
    rec = [s for s in specs if s.kind == "recurrent"]
    assert len(rec) == layers and {s.args["cell"] for s in rec} == {cell}
    assert all(s.args["batch_first"] and s.args["layers"] == 1 for s in rec)
    from calibration.pennet import build_model

    m = build_model(specs, shape)
    assert sum(p.numel() for p in m.parameters()) == expected_parameters(specs)
    assert isinstance(m.layers[1], getattr(torch.nn, cell.upper()))


def test_recurrent_model_runs_over_a_sequence():
    """The same grammar on a short sequence: reshape (channels last) -> GRU stack -> dense on the last step, with
    real numbers, against the same layers run by hand."""
    text = GRU3.replace("LIST_224_224_3", "LIST_4_4_3").replace("LIST_50176_3", "LIST_16_3")
    specs, shape, _ = parse_model_string(text)
    from calibration.pennet import build_model

    torch.manual_seed(0)
    m = build_model(specs, shape, device="cpu")
    x = torch.randn(5, *shape)
    seq = x.movedim(1, -1).reshape(5, 16, 3)
    h = seq
    for layer in (m.layers[1], m.layers[2], m.layers[3]):
        h = layer(h)[0]
    ref = torch.softmax(m.layers[4](h[:, -1]), dim=1)
    assert torch.allclose(m(x), ref)


def test_recurrent_step_count_is_linear_in_the_sequence_length():
    """A recurrent run's BOs grow by the same amount per time step (what makes 50,176 steps countable)."""
    pytest.importorskip("gatesim.models")
    from calibration.counting import default_count
    from calibration.pennet import build_model

    counts = []
    for t in (8, 16, 24):
        text = GRU.replace("LIST_224_224_3", f"LIST_{t}_1_3").replace("LIST_50176_3", f"LIST_{t}_3")
        specs, shape, _ = parse_model_string(text)
        counts.append(default_count(build_model(specs, shape), (2, *shape), "training", table=None,
                                    loss="cross-entropy")["bos"]["mul"])
    assert counts[2] - counts[1] == counts[1] - counts[0] > 0


@pytest.mark.parametrize("text,msg", [
    ("dense input LIST_4 untrained Constant", "too short"),
    ("dense input LIST_4 dense 4 2 dense 2 2 untrained Constant 10", "tail"),
    ("dense input LIST_224_224_3 dense 150528 2 untrained Constant ten 128 SGD", "epochs must be a positive integer"),
    ("dense input LIST_224_224_3 dense 150528 2 untrained Constant 10 0 SGD", "batch size must be a positive integer"),
    ("dense input LIST_224_224_3 dense 150528 2 untrained Constant 10 128 Lion", "unknown optimizer 'Lion'"),
    ("conv input LIST_224_224_3 dense 150528 2 untrained Constant 10 128 SGD", "must start"),
    ("dense input LIST_224_224_3 wobble 150528 2 untrained Constant 10 128 SGD",
     "token 4: unknown layer token 'wobble' (known: dense, convolutional"),
    ("dense input LIST_224_224_3 convolutional 3 64 LIST_3_3 untrained Constant 10 128 SGD",
     "token 4: the string ends inside a 'convolutional' layer (expected stride)"),
    ("dense input LIST_224_224_3 pooling spiral LIST_2_2 LIST_2_2 0 untrained Constant 10 128 SGD",
     "token 5: unknown pooling 'spiral'"),
    ("dense input LIST_224_224_3 dense 150528 x untrained Constant 10 128 SGD",
     "token 6: 'dense' output features: expected an integer, got 'x'"),
    ("dense input LIST_224_224_3 recurrent transformer 3 8 True untrained Constant 10 128 SGD",
     "token 5: unknown recurrent cell 'transformer'"),
    ("dense input LIST_224_224_3 recurrent gru 3 8 1 Maybe untrained Constant 10 128 SGD",
     "token 9: 'recurrent' batch_first flag: expected True or False, got 'Maybe'"),
    ("dense input LIST_224_224_3 reshape 50176 untrained Constant 10 128 SGD", "'reshape' shape: expected LIST_a_b"),
    ("dense input LIST_224_224_3 dropout 1.5 untrained Constant 10 128 SGD", "'dropout' probability must be in"),
    ("dense input LIST_224_224_3 nl_activation swish untrained Constant 10 128 SGD", "unknown activation 'swish'"),
])
def test_malformed_strings_fail_with_one_message(text, msg):
    with pytest.raises(CalibrationError) as e:
        parse_model_string(text)
    assert msg in str(e.value)
    assert str(e.value).count(":") <= 3 and "malformed" not in str(e.value)  # one message, not nested


def test_grammar_covers_every_layer_token_of_the_data(runs):
    import re

    tokens = {t for r in runs[::20] for t in r.architecture.split()[3:] if re.fullmatch(r"[a-z_]+", t)}
    layer_tokens = {"dense", "convolutional", "normalization", "pooling", "nl_activation", "dropout"}
    assert tokens & set(LAYER_GRAMMAR) == layer_tokens & tokens
    assert {"reshape", "recurrent"} <= set(LAYER_GRAMMAR)


def test_optimizer_names_as_the_data_spells_them():
    assert resolve_optimizer("Radam") is torch.optim.RAdam
    assert resolve_optimizer("RAdam") is torch.optim.RAdam
    assert resolve_optimizer("adamw") is torch.optim.AdamW
    with pytest.raises(CalibrationError, match="unknown optimizer 'Adamish'"):
        resolve_optimizer("Adamish")


def test_count_subset_with_injected_counter(runs):
    sub = runs[:5]
    counts = count_runs(sub, parameter_count, optimizer=False)
    for r, c in zip(sub, counts):
        n = expected_parameters(r.layers)
        assert c["flops"] == 10 * 2 * n * r.batch_size * 3
        assert c["energy"] == r.energy and c["family"] == "mlp" and c["params"] == n and c["split"] == "training"


def test_an_optimizer_that_cannot_be_counted_is_an_error_not_zero(runs):
    sparse = [r for r in runs if r.optimizer == "SparseAdam"]
    assert len(sparse) == 1
    pytest.importorskip("gatesim.models")
    with pytest.raises(CalibrationError, match="line 55: SparseAdam: cannot count a step.*dense gradients"):
        count_runs(sparse, table=None)
    rec = count_runs(sparse, table=None, uncountable="exclude")[0]
    assert "dense gradients" in rec["excluded"] and "tos" not in rec and "flops" not in rec


def test_count_one_with_default_counter(runs):
    pytest.importorskip("gatesim.models")
    r = runs[0]
    table = {"name": "n", "transistors": {f: {"add": 10, "sub": 10, "mul": 100, "div": 200, "root": 200, "compare": 5}
                                          for f in ("fp32", "int64")}}
    c = count_runs([r], table=table)[0]
    assert c["flops"] > 10 * 2 * 150528 * 2 * r.batch_size and c["tos"] > c["flops"]
    price = {"add": 10, "sub": 10, "mul": 100, "div": 200, "root": 200, "compare": 5}
    assert c["bos.mul"] > 0 and c["tos"] == sum(c[f"bos.{op}"] * n for op, n in price.items())


def test_missing_file(tmp_path):
    with pytest.raises(CalibrationError, match="no such PEN file"):
        load_pen(tmp_path / "x.csv")
    (tmp_path / "bad.csv").write_text("Model,Other\nx,1\n")
    with pytest.raises(CalibrationError, match="expected columns"):
        load_pen(tmp_path / "bad.csv")
    (tmp_path / "row.csv").write_text("Model,Avg_Power_Simpson\n"
                                      "dense input LIST_4 dense 4 2 dense 2 2 wobble untrained C 10 8 SGD,1\n")
    with pytest.raises(CalibrationError, match=r"row.csv line 2: token 10: unknown layer token 'wobble'"):
        load_pen(tmp_path / "row.csv")
