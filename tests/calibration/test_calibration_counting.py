"""The default counter (gatesim.models + the paper's transistor table) and table descriptions."""
import pytest

from calibration.counting import default_count, parameter_count, table_description, table_from_description
from calibration.errors import CalibrationError
from calibration.sweeps import dnn_model

pytest.importorskip("gatesim.models")


def test_default_count_prices_with_paper_table():
    c = default_count(dnn_model(8, "gelu"), (64, 4), "training", loss="mse", optimizer="sgd")
    assert c["tos"] > c["flops"] > 0
    assert c["table"]["name"] == "paper" and c["table"]["transistors"]["fp32"]["mul"] > 0
    again = default_count(dnn_model(8, "gelu"), (64, 4), "training", loss="mse", optimizer="sgd",
                          table=table_from_description(c["table"]))
    assert again["tos"] == c["tos"]
    inf = default_count(dnn_model(8, "gelu"), (64, 4), "inference")
    assert inf["tos"] < c["tos"]


def test_default_count_errors():
    with pytest.raises(CalibrationError, match="unknown level"):
        default_count(dnn_model(4), (1, 4), "sleeping")
    with pytest.raises(CalibrationError, match="cannot load transistor table"):
        default_count(dnn_model(4), (1, 4), "inference", table="no-such-profile")
    with pytest.raises(CalibrationError, match="no numbers"):
        table_from_description({"name": "x"})


def test_parameter_count_is_simple():
    m = dnn_model(4)
    n = sum(p.numel() for p in m.parameters())
    assert parameter_count(m, (10, 4), "inference")["flops"] == 2 * n * 10
    assert table_description(object())["transistors"] == {}
