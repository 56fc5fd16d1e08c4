"""PEN loader: every row of both CSVs becomes a meta-device model whose parameters match its string."""
from pathlib import Path

import pytest
import torch

from calibration.counting import parameter_count
from calibration.errors import CalibrationError
from calibration.pen import count_runs, load_pen, parse_model_string

PEN = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pen"
pytestmark = pytest.mark.skipif(not (PEN / "training.csv").is_file(), reason=f"PEN data not found at {PEN}")


def expected_parameters(run) -> int:
    ln = any(s.kind == "layernorm" for s in run.layers)
    n = 0
    for s in run.layers:
        a = s.args
        if s.kind == "dense":
            n += a["in"] * a["out"] + a["out"]
        elif s.kind == "conv":
            groups = a["in"] if ln and a["in"] == a["out"] and a["kernel"] == (7, 7) and a["stride"] == (1, 1) else 1
            n += a["in"] * a["out"] * a["kernel"][0] * a["kernel"][1] // groups + a["out"]
        elif s.kind in ("batchnorm", "layernorm"):
            n += 2 * a["channels"]
    return n


@pytest.fixture(scope="module")
def runs():
    return load_pen(PEN / "training.csv") + load_pen(PEN / "test.csv")


def test_every_row_parses(runs):
    assert len(runs) == 801 + 201
    assert {r.epochs for r in runs} == {10}
    assert {r.batch_size for r in runs} == {16, 64, 128}
    assert {r.weights for r in runs} <= {"untrained", "IMAGENET1K_V1", "IMAGENET1K_V2"}
    assert {r.input_shape for r in runs} == {(3, 224, 224)}
    assert all(r.energy > 0 for r in runs)
    assert all(hasattr(torch.optim, r.optimizer) for r in runs)


def test_every_architecture_builds_on_meta_and_runs(runs):
    archs = {}
    for r in runs:
        archs.setdefault(r.architecture, r)
    assert len(archs) > 50
    for r in archs.values():
        m = r.model()
        params = list(m.parameters())
        assert all(p.device.type == "meta" for p in params)
        assert sum(p.numel() for p in params) == expected_parameters(r)
        out_features = [s for s in r.layers if s.kind == "dense"][-1].args["out"]
        y = m(torch.empty(2, *r.input_shape, device="meta"))
        assert tuple(y.shape) == (2, out_features), r.model_string[:80]


def test_known_torchvision_sizes(runs):
    sizes = {sum(p.numel() for p in r.model().parameters()) for r in runs if r.weights != "untrained"}
    assert 138_357_544 in sizes  # VGG-16
    assert 61_100_840 in sizes  # AlexNet


def test_mlp_parameters_by_hand(runs):
    r = runs[0]  # dense 150528 2, nine dense 2 2, output 2 10
    assert r.model_string.startswith("dense input LIST_224_224_3 dense 150528 2")
    assert sum(p.numel() for p in r.model().parameters()) == 150528 * 2 + 2 + 9 * 6 + 2 * 10 + 10
    assert r.optimizer == "AdamW" and r.batch_size == 128 and r.epochs == 10


def test_count_subset_with_injected_counter(runs):
    sub = runs[:5]
    counts = count_runs(sub, parameter_count, optimizer=False)
    for r, c in zip(sub, counts):
        n = expected_parameters(r)
        assert c["flops"] == 10 * 2 * n * r.batch_size * 3
        assert c["energy"] == r.energy


def test_count_one_with_default_counter(runs):
    pytest.importorskip("gatesim.models")
    r = runs[0]
    c = count_runs([r], table={"name": "n", "transistors": {f: {"add": 10, "sub": 10, "mul": 100, "div": 200,
                                                                   "root": 200, "compare": 5}
                                                               for f in ("fp32", "int64")}})[0]
    assert c["flops"] > 10 * 2 * 150528 * 2 * r.batch_size and c["tos"] > c["flops"]


@pytest.mark.parametrize("text,msg", [
    ("dense input LIST_4 untrained Constant", "too short"),
    ("dense input LIST_4 dense 4 2 untrained Constant 10", "tail"),
    ("dense input LIST_224_224_3 dense 150528 2 untrained Constant ten 128 SGD", "tail"),
    ("conv input LIST_224_224_3 dense 150528 2 untrained Constant 10 128 SGD", "must start"),
    ("dense input LIST_224_224_3 wobble 150528 2 untrained Constant 10 128 SGD", "unknown layer token 'wobble'"),
    ("dense input LIST_224_224_3 convolutional 3 64 LIST_3_3 untrained Constant 10 128 SGD", "ends inside"),
    ("dense input LIST_224_224_3 pooling spiral LIST_2_2 LIST_2_2 0 untrained Constant 10 128 SGD", "unknown pooling"),
])
def test_malformed_strings(text, msg):
    with pytest.raises(CalibrationError, match=msg):
        parse_model_string(text)


def test_missing_file(tmp_path):
    with pytest.raises(CalibrationError, match="no such PEN file"):
        load_pen(tmp_path / "x.csv")
    (tmp_path / "bad.csv").write_text("Model,Other\nx,1\n")
    with pytest.raises(CalibrationError, match="expected columns"):
        load_pen(tmp_path / "bad.csv")
