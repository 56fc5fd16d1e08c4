import pytest
import torch

from gatesim.models import OPERATIONS, BOVector, bo, dtype_of, format_of


def test_fields_order_and_dict():
    v = BOVector(1, 2, 3, 4, 5, 6)
    assert OPERATIONS == ("add", "sub", "mul", "div", "root", "compare")
    assert v.to_dict() == {"add": 1, "sub": 2, "mul": 3, "div": 4, "root": 5, "compare": 6}
    assert v.paper_list() == [1, 2, 3, 4, 5]
    assert v.total() == 21


def test_arithmetic_is_exact_integers():
    big = 10**30
    a = bo(add=big, mul=3)
    b = bo(add=1, div=2)
    assert (a + b).add == big + 1 and (a + b).div == 2
    assert (a * 3).add == 3 * big and (3 * a).mul == 9
    assert sum([a, b, b]) == a + b + b
    assert isinstance((a + b).add, int)


def test_equality_with_paper_lists():
    assert bo(add=90, sub=18, mul=72, div=18, root=18) == [90, 18, 72, 18, 18]
    assert bo(add=1, compare=1) != [1, 0, 0, 0, 0]
    assert BOVector.from_list([1, 2, 3, 4, 5]) == bo(add=1, sub=2, mul=3, div=4, root=5)
    assert BOVector.from_dict({"root": 2}) == bo(root=2)


def test_rejects_non_integers_and_is_immutable():
    with pytest.raises(TypeError):
        BOVector(add=1.5)
    with pytest.raises(ValueError):
        BOVector.from_dict({"exp": 1})
    v = bo(add=1)
    with pytest.raises(AttributeError):
        v.add = 2
    assert hash(v) == hash(bo(add=1))


def test_formats():
    assert format_of(torch.float32) == "fp32"
    assert format_of(torch.float16) == "fp16"
    assert format_of(torch.bfloat16) == "bf16"
    assert format_of(torch.float64) == "fp64"
    assert dtype_of("fp16") is torch.float16 and dtype_of("bfloat16") is torch.bfloat16
    with pytest.raises(ValueError):
        dtype_of("fp7")
