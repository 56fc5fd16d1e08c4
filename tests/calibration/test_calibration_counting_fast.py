"""What makes counting PEN fast changes no count: the meta shape cache, repeated blocks counted twice and
extrapolated, optimizer steps from three probes, tables built one entry at a time."""
import pytest
import torch
from torch import nn

from calibration.counting import (LazyTable, meta_shape_cache, numeric_counts, optimizer_cost, parameter_bank,
                                  parameter_count, workload_counts)
from calibration.errors import CalibrationError
from calibration.pen import count_step, load_splits, parse_model_string, repeated_blocks
from calibration.pennet import build_model

pytest.importorskip("gatesim.models")
from calibration.counting import default_count  # noqa: E402


def _count(model, shape, **kw):
    return numeric_counts(default_count(model, shape, "training", table=None, loss="cross-entropy", **kw))


@pytest.fixture(scope="module")
def archs():
    """A ResNet-like (residual branches), a DenseNet-like (channel padding), a ConvNeXt-like (layer norm,
    depthwise) and a VGG-like architecture of the shipped data."""
    runs = load_splits()["test"]
    picks = {}
    for r in runs:
        kinds = {s.kind for s in r.layers}
        key = ("convnext" if "layernorm" in kinds else "vgg" if "dropout" in kinds and r.family == "cnn"
               else "cnn-bn" if "batchnorm" in kinds else r.family)
        picks.setdefault(key, r)
    return picks


def test_meta_shape_cache_changes_no_count(archs):
    assert {"convnext", "vgg", "cnn-bn", "mlp"} <= set(archs)
    cache = meta_shape_cache()
    for r in archs.values():
        plain = _count(r.model(), (2, *r.input_shape))
        with cache:
            cached = _count(r.model(), (2, *r.input_shape))
        assert cached == plain, r.model_string[:60]
    assert cache.hits > cache.misses > 0


def test_meta_shape_cache_leaves_real_tensors_alone():
    with meta_shape_cache() as c:
        x = torch.arange(6.0).reshape(2, 3)
        y = (x * 2).relu_().sum(0)
    assert y.tolist() == [6.0, 10.0, 14.0] and c.hits == 0


def test_repeated_blocks_are_counted_twice_and_extrapolated():
    body = " ".join(["dense 6 6 nl_activation relu"] * 12)
    text = f"dense input LIST_4_2_1 dense 8 6 nl_activation relu {body} dense output 6 3 untrained C 10 4 SGD"
    layers, shape, _ = parse_model_string(text)
    assert repeated_blocks(layers) == [(1, 2, 12)]  # (relu, dense 6 6) x 12 after the first dense
    got = count_step(layers, shape, 4, default_count, table=None, loss="cross-entropy", optimizer=None)
    direct = build_model(layers, shape)
    want = _count(direct, (4, *shape), optimizer=None)
    assert {k: got[k] for k in want} == want
    assert got["params"] == sum(p.numel() for p in direct.parameters())
    assert got["tensors"] == len(list(direct.parameters()))


def test_no_repeats_in_cnns_or_short_runs():
    layers, _, _ = parse_model_string("dense input LIST_4 dense 4 4 " + "dense 4 4 " * 6 +
                                      "dense output 4 2 untrained C 10 4 SGD")
    assert repeated_blocks(layers) == []  # 7 repeats: below MIN_REPEATS
    layers, _, _ = parse_model_string("dense input LIST_8_8_3 " + "convolutional 3 3 LIST_3_3 LIST_1_1 LIST_1_1 " * 10
                                      + "dense output 192 2 untrained C 10 4 SGD")
    assert repeated_blocks(layers) == []


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "ASGD", "Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam",
                                  "RMSprop", "Rprop"])
def test_optimizer_cost_matches_a_direct_count(name):
    cls = getattr(torch.optim, name)
    cost = optimizer_cost(default_count, lambda ps: cls(ps), table=None)
    sizes = [7, 130, 3]
    kw = dict(table=None, loss="mse", device="cpu")
    with_opt = numeric_counts(default_count(parameter_bank(sizes), (1, 1), "training", optimizer=lambda ps: cls(ps), **kw))
    without = numeric_counts(default_count(parameter_bank(sizes), (1, 1), "training", optimizer=None, **kw))
    direct = {k: with_opt[k] - without.get(k, 0) for k in with_opt}
    assert cost(sum(sizes), len(sizes)) == direct
    assert direct["bos.add"] + direct["bos.mul"] >= sum(sizes)  # an update touches every parameter


def test_sparse_adam_cannot_be_counted():
    with pytest.raises(CalibrationError, match="cannot count a step of this optimizer.*dense gradients"):
        optimizer_cost(default_count, lambda ps: torch.optim.SparseAdam(ps), table=None)


def test_lazy_table_builds_only_what_is_priced():
    from gatesim.hardware import load_hardware

    t = LazyTable(load_hardware("paper"))
    assert t.transistors("add", "fp32") == 240  # a 24-bit ripple-carry adder of 10-transistor full adders
    assert list(t._parts) == [("fp32", ("add",))]
    assert "int64" in t.format_names and "fp64" in t.format_names


def test_workload_counts_sum_every_column():
    def fake(model, shape, level, **_):
        return {"tos": 10 * shape[0], "flops": shape[0], "bytes": 3 * shape[0], "bos": {"mul": shape[0], "add": 1}}

    c = workload_counts(fake, lambda: None, (4,), samples=10, batch_size=4, epochs=2)
    # 2 full batches of 4 and a remainder of 2, twice
    assert (c["tos"], c["flops"], c["bytes"], c["bos.mul"], c["bos.add"], c["steps"]) == (200, 20, 60, 20, 6, 6)
    p = workload_counts(parameter_count, lambda: nn.Linear(3, 2), (3,), samples=4, batch_size=4)
    assert p["flops"] == 2 * 8 * 4 * 3
