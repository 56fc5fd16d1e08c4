"""Operand samples from real tensors: the sampler reads the operands the ops really multiply and add."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gatesim.models.sampling import OperandSampler, sample_operands


def _runs(sampler, family):
    return sampler.families[family].runs


def _check_dot_runs(runs, results):
    """Every run is a stretch of one real dot product: c grows by a*b, and over the whole reduction the sum is an
    element of the op's result."""
    flat = results.reshape(-1)
    for r in runs:
        assert np.allclose(r["c"][1:], r["c"][:-1] + (r["a"] * r["b"])[:-1], atol=1e-9)
        total = r["c"][-1] + r["a"][-1] * r["b"][-1]
        assert np.min(np.abs(flat - total)) < 1e-4 * (1 + abs(total)), total


def test_matmul_runs_are_rows_times_columns():
    torch.manual_seed(0)
    a, b, bias = torch.randn(5, 7), torch.randn(7, 3), torch.randn(3)
    s = OperandSampler(samples=64, run=7, seed=0)
    with s:
        mm = a @ b
        fc = torch.addmm(bias, a, b)
    runs = _runs(s, "forward:aten.mm")
    _check_dot_runs(runs, mm.numpy().astype(np.float64))
    for r in runs:  # a is a row of a, b a column of b
        assert any(np.allclose(r["a"], row) for row in a.double().numpy())
        assert any(np.allclose(r["b"], col) for col in b.double().numpy().T)
    _check_dot_runs(_runs(s, "forward:aten.addmm"), (fc - bias).numpy().astype(np.float64))


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 1, 1, 1), (2, 0, 1, 1), (2, 2, 2, 2)])
def test_convolution_runs_forward_and_backward(stride, padding, dilation, groups):
    torch.manual_seed(1)
    x = torch.randn(2, 4, 7, 6, requires_grad=True)
    w = torch.randn(6, 4 // groups, 3, 2, requires_grad=True)
    s = OperandSampler(samples=256, run=10_000, seed=2)  # a run covers the whole reduction
    with s:
        y = F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
        s.phase = "backward"
        g = torch.randn_like(y)
        y.backward(g)
    _check_dot_runs(_runs(s, "forward:aten.convolution"), y.detach().double().numpy())
    _check_dot_runs(_runs(s, "backward:aten.convolution_backward[weight]"), w.grad.double().numpy())
    _check_dot_runs(_runs(s, "backward:aten.convolution_backward[input]"), x.grad.double().numpy())


def test_elementwise_and_compare_runs():
    s = OperandSampler(samples=16, run=4, seed=0)
    x = torch.arange(24.0).reshape(2, 3, 4)
    bias = torch.tensor([100.0, 200.0, 300.0, 400.0])
    with s:
        x + bias
        torch.relu(x - 5)
        torch.sqrt(x)
    for r in _runs(s, "forward:aten.add"):  # consecutive elements, the bias broadcast along the last dim
        assert np.array_equal(r["b"] - 100 * (1 + r["a"] % 4), np.zeros(len(r["a"])))
    assert all(np.all(r["b"] == 0) for r in _runs(s, "forward:aten.relu"))
    assert all("b" not in r for r in _runs(s, "forward:aten.sqrt"))


def test_families_get_a_fixed_share_seeded():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 6 * 6, 5))
    one = sample_operands(net, input_shape=(2, 3, 8, 8), samples=96, run=8, seed=0)
    assert one.families["forward:aten.convolution"]["samples"] == 96
    assert {"backward:aten.convolution_backward[weight]", "backward:aten.mm", "forward:aten.addmm"} <= set(one.families)
    assert len(one.streams["mul"]["a"]) == len(one.streams["fma"]["c"]) == len(one.streams["add"]["a"]) - \
        sum(f["samples"] for f in one.families.values() if f["operation"] == "add")
    assert one.digest() == sample_operands(net, input_shape=(2, 3, 8, 8), samples=96, run=8, seed=0).digest()
    assert one.digest() != sample_operands(net, input_shape=(2, 3, 8, 8), samples=96, run=8, seed=1).digest()
    inf = sample_operands(net, input_shape=(2, 3, 8, 8), samples=96, run=8, level="inference")
    assert not any(k.startswith("backward") for k in inf.families)


def test_sampling_refuses_what_does_not_fit():
    from gatesim.models import CountingError

    with pytest.raises(CountingError, match="over the 100-byte limit"):
        sample_operands(nn.Linear(100, 100), input_shape=(1, 100), cpu_limit=100)
