"""Switching TOs, est_seconds and depth as fit features: counted, scaled like any other column, compared on PEN."""
import pytest
import torch
from torch import nn

from calibration.counting import default_count, numeric_counts, optimizer_cost, parameter_bank, report_counts, \
    resolve_table
from calibration.penfit import report_feature_sets


def test_counts_carry_depth_switching_tos_and_est_seconds():
    table = resolve_table("paper")
    c = default_count(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)), (16, 4), "training",
                      table=table, describe_table=False)
    n = numeric_counts(c)
    assert isinstance(n["depth"], int) and n["depth"] > 3
    assert isinstance(n["switching_tos"], float) and 0 < n["switching_tos"] < n["tos"]
    assert isinstance(n["est_seconds"], float) and n["est_seconds"] >= n["launches"] * table.timing.launch_seconds
    assert "est_seconds" not in numeric_counts(default_count(nn.Linear(4, 2), (1, 4), "training", table=None))


def test_priced_optimizer_columns_scale_with_the_parameters():
    kw = dict(table="paper", loss="mse", device="cpu", describe_table=False)
    cost = optimizer_cost(default_count, lambda ps: torch.optim.Adam(ps), **{k: v for k, v in kw.items()
                                                                              if k != "device"})
    sizes = [7, 130, 3]
    with_opt = numeric_counts(default_count(parameter_bank(sizes), (1, 1), "training",
                                            optimizer=lambda ps: torch.optim.Adam(ps), **kw))
    without = numeric_counts(default_count(parameter_bank(sizes), (1, 1), "training", optimizer=None, **kw))
    got = cost(sum(sizes), len(sizes))
    for k in ("est_seconds", "switching_tos", "tos", "depth"):
        assert got[k] == pytest.approx(with_opt[k] - without[k], rel=1e-9), k


def test_report_feature_sets_pair_every_count_with_bytes_and_time():
    rec = {"flops": 1, "tos": 2, "switching_tos": 1.5, "bytes": 3, "launches": 4, "est_seconds": 0.1, "depth": 5,
           "bos.add": 1, "bos.mul": 2, "energy": 9}
    sets = report_feature_sets([rec])
    assert ("switching_tos",) in sets and ("bos.add", "bos.mul") in sets
    for c in ("flops", "tos", "switching_tos"):
        assert (c, "bytes") in sets and (c, "bytes", "est_seconds", "launches") in sets
    assert report_feature_sets([{"flops": 1, "tos": 2, "energy": 1}]) == [("flops",), ("tos",)]


def test_report_counts_of_a_paper_count_have_no_costs_per_op_but_still_a_time():
    from gatesim.models import count

    table = resolve_table("paper")
    r = count(nn.Linear(8, 8), input_shape=(4, 8), counter="paper", level="inference")
    c = report_counts(r, table, describe=False)
    assert c["est_seconds"] > 0 and c["tos"] > 0
