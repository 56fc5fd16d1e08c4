"""What sets the time of a step: launches, sequential depth and the roofline estimate (est_seconds)."""
import math

import pytest
import torch
from torch import nn

from gatesim.models import count
from gatesim.timing import Timing, TimingError, timing_from_mapping


def _timing(launch=0.0, bw=math.inf, peak=math.inf):
    return Timing("t", launch, bw, {"default": peak}, {"default": peak})


class Branches(nn.Module):
    """Two branches of two ops each, then a sum: three ops deep, five launched."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x):
        return torch.relu(self.a(x)) + torch.sigmoid(self.b(x))


def test_depth_follows_the_longest_chain_not_the_number_of_ops():
    chain = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    r = count(chain, input_shape=(3, 4), level="inference")
    assert r.depth("forward") == r.depth() == 5 == r.launches(phase=r.phases)  # addmm relu addmm relu addmm
    r = count(Branches(), input_shape=(3, 4), level="inference")
    assert r.launches(phase=r.phases) == 5 and r.depth() == 3
    deep = count(nn.Sequential(*[nn.Linear(4, 4) for _ in range(7)]), input_shape=(3, 4), level="inference")
    wide = count(nn.Sequential(nn.Linear(4, 4096), nn.Linear(4096, 4)), input_shape=(3, 4), level="inference")
    assert deep.depth() == 7 and wide.depth() == 2


def test_training_depth_per_phase_and_over_the_step():
    r = count(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)), input_shape=(5, 4), optimizer="sgd")
    assert set(r.depths) == {"forward", "loss", "backward", "optimizer"}
    assert r.depth("forward") == 3
    # the step's chain runs through every phase: longer than any phase alone, no longer than all of them
    assert max(r.depths.values()) < r.depth() <= sum(r.depths.values())
    d = r.to_dict()
    assert d["total"]["depth"] == r.depth() and d["by_phase"]["forward"]["depth"] == 3


def test_est_seconds_is_a_roofline_per_op():
    m = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 4))
    r = count(m, input_shape=(8, 16), optimizer="adam")
    ph = r.phases
    # launch-bound: one launch overhead per op that computes or moves data
    assert r.est_seconds(_timing(launch=1.0), phase=ph) == pytest.approx(r.launches(phase=ph))
    # memory-bound: every byte at the bandwidth
    assert r.est_seconds(_timing(bw=1e9), phase=ph) == pytest.approx(r.bytes(phase=ph) / 1e9)
    # compute-bound: every BO at the peak
    assert r.est_seconds(_timing(peak=1e9), phase=ph) == pytest.approx(r.bos(phase=ph).total() / 1e9)
    # per op the slower of the two, not the sum of the totals
    both = r.est_seconds(_timing(bw=1e9, peak=1e9), phase=ph)
    assert max(r.bytes(phase=ph), r.bos(phase=ph).total()) / 1e9 <= both
    assert both < (r.bytes(phase=ph) + r.bos(phase=ph).total()) / 1e9


def test_dot_products_take_the_matrix_rate():
    r = count(nn.Linear(64, 64, bias=False), input_shape=(64, 64), level="inference")
    fast = Timing("t", 0.0, math.inf, {"fp32": 1e12}, {"default": 1e9})
    slow = Timing("t", 0.0, math.inf, {}, {"default": 1e9})
    assert r.est_seconds(slow) == pytest.approx(1000 * r.est_seconds(fast))


def test_recurrent_shortcut_keeps_depth_and_time():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.out = nn.LSTM(4, 8, num_layers=2), nn.Linear(8, 3)

        def forward(self, x):
            return self.out(self.rnn(x)[0])

    t = _timing(launch=1e-6, bw=1e9, peak=1e9)
    short, full = (count(Net(), input_shape=(12, 2, 4), recurrent=rec) for rec in (True, False))
    assert short.depths == full.depths and short.depth() == full.depth()
    assert short.est_seconds(t) == pytest.approx(full.est_seconds(t), rel=1e-12)
    assert short.depth("forward") > 12  # one chain through every time step


def test_timing_table_errors():
    good = {"launch_seconds": 1e-6, "memory_bytes_per_second": 1e9, "vector_ops_per_second": {"default": 1e9}}
    t = timing_from_mapping(good, "x")
    assert t.peak("bf16", True) == 1e9 and t.op_seconds("fp32", False, 1e9, 0) == pytest.approx(1 + 1e-6)
    for bad, msg in (({**good, "speed": 1}, "unknown key 'speed'"),
                     ({**good, "vector_ops_per_second": {"fp32": 1e9}}, "needs a default"),
                     ({**good, "memory_bytes_per_second": -1}, "memory_bytes_per_second must be a positive"),
                     ({k: v for k, v in good.items() if k != "launch_seconds"}, "launch_seconds is missing")):
        with pytest.raises(TimingError, match=msg):
            timing_from_mapping(bad)


def test_profiles_carry_timing(tmp_path):
    from gatesim.hardware import load_hardware
    from gatesim.tables import TableError

    assert load_hardware("paper").timing.memory_bytes_per_second > 0
    f = tmp_path / "p.toml"
    f.write_text('name = "p"\n[timing]\nlaunch_seconds = "soon"\nmemory_bytes_per_second = 1\n'
                 "vector_ops_per_second = { default = 1 }\n")
    with pytest.raises(TableError, match=r"p.toml: \[timing\]: launch_seconds must be"):
        load_hardware(f)
