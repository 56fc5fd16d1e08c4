"""The paper counter: equations 2 and 3 exactly, levels, and backprop formulas against the trace counter."""
import pytest
from torch import nn

from gatesim.models import bo, conv2d_forward, count, count_paper, linear_forward
from gatesim.models.builtins import paper_cnn, paper_dnn
from gatesim.models.paper import conv2d_backward, linear_backward


@pytest.mark.parametrize("i,o", [(4, 18), (18, 18), (1, 1), (7, 3)])
def test_equation_2_linear_sigmoid(i, o):
    # C_f(l_full-connection) = [(I+1)O, O, IO, O, O]  (add, sub, mul, div, root)
    assert linear_forward(i, o, "sigmoid").paper_list() == [(i + 1) * o, o, i * o, o, o]
    assert linear_forward(i, o, "sigmoid").compare == 0


@pytest.mark.parametrize("m,k,c_in,c_out", [(254, 3, 3, 32), (10, 5, 32, 32), (1, 1, 1, 1)])
def test_equation_3_conv_gelu(m, k, c_in, c_out):
    v = conv2d_forward(m, k, c_in, c_out, "gelu")
    n = m * m * c_out
    assert v.paper_list() == [n * (1 + c_in * k * k), n, n * (2 + c_in * k * k), n, n]


def test_count_paper_reproduces_equation_2_on_a_module():
    r = count_paper(nn.Sequential(nn.Linear(4, 18), nn.Sigmoid()), input_shape=(1, 4), level="inference")
    assert r.bos(phase="forward") == [(4 + 1) * 18, 18, 4 * 18, 18, 18]
    assert r.bos(module="model.0") + r.bos(module="model.1") == linear_forward(4, 18, "sigmoid")


def test_count_paper_reproduces_equation_3_on_a_module():
    model = nn.Sequential(nn.Conv2d(3, 32, 3), nn.GELU(approximate="tanh"))
    r = count_paper(model, input_shape=(1, 3, 12, 12), level="inference")
    assert r.bos() == conv2d_forward(10, 3, 3, 32, "gelu")


def test_levels():
    model = lambda: paper_dnn(6, "tanh")
    inf = count_paper(model, input_shape=(64, 4), level="inference")
    val = count_paper(model, input_shape=(64, 4), level="validation")
    tr = count_paper(model, input_shape=(64, 4), level="training")
    assert inf.phases == ("forward",) and val.phases == ("forward", "loss")
    assert tr.phases == ("forward", "loss", "backward")
    assert inf.bos() == val.bos(phase="forward") == tr.bos(phase="forward")
    assert val.bos(phase="loss") == tr.bos(phase="loss") == bo(sub=64, mul=64, add=63, div=1)
    assert tr.bos(phase="backward").total() > 0
    assert tr.bos() == tr.bos(phase="forward") + tr.bos(phase="loss") + tr.bos(phase="backward")


def _same(a, b):
    """Per module and phase, the paper counter equals the trace counter with the paper recipe set."""
    assert a.phases == b.phases
    for phase in a.phases:
        for m in set(a.modules()) | set(b.modules()):
            assert a.bos(phase=phase, module=m) == b.bos(phase=phase, module=m), (phase, m)
    assert a.bos() == b.bos()
    assert not a.uncounted and not b.uncounted


@pytest.mark.parametrize("act", ["sigmoid", "tanh", "gelu", "relu"])
@pytest.mark.parametrize("loss", ["mse", "cross-entropy"])
@pytest.mark.parametrize("level", ["training", "validation", "inference"])
def test_paper_counter_equals_trace_with_paper_recipes_dnn(act, loss, level):
    model = lambda: paper_dnn(7, act, outputs=3)
    kw = dict(input_shape=(5, 4), level=level, loss=loss)
    _same(count(model, counter="paper", **kw), count(model, counter="trace", recipes="paper", **kw))


@pytest.mark.parametrize("loss", ["mse", "cross-entropy"])
def test_paper_counter_equals_trace_with_paper_recipes_cnn(loss):
    def model():
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.GELU(approximate="tanh"), nn.Conv2d(4, 5, 2, stride=2, padding=1),
                             nn.Sigmoid(), nn.Conv2d(5, 3, 3, bias=False), nn.Tanh(), nn.Flatten(), nn.Linear(12, 2))
    kw = dict(input_shape=(2, 3, 9, 9), loss=loss)
    _same(count(model, counter="paper", **kw), count(model, counter="trace", recipes="paper", **kw))


@pytest.mark.parametrize("loss", ["mse", "cross-entropy"])
def test_builtin_paper_models_equal_trace_with_paper_recipes(loss):
    cnn = lambda: paper_cnn(layers=3, channels=4, image=12)
    kw = dict(input_shape=(2, 3, 12, 12), loss=loss)
    _same(count(cnn, counter="paper", **kw), count(cnn, counter="trace", recipes="paper", **kw))
    dnn = lambda: paper_dnn(18, "sigmoid")
    kw = dict(input_shape=(64, 4), loss=loss)
    _same(count(dnn, counter="paper", **kw), count(dnn, counter="trace", recipes="paper", **kw))


def test_unsupported_layers_are_reported_not_silently_zero():
    model = lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 2))
    r = count_paper(model, input_shape=(1, 3, 6, 6))
    assert r.uncounted == {"MaxPool2d": 1}
    assert "MaxPool2d x1" in r.to_table()
    with pytest.raises(Exception, match="MaxPool2d"):
        count_paper(model, input_shape=(1, 3, 6, 6), strict=True)


def test_backprop_formula_for_one_instance():
    # derived in docs/backprop.md: C_bp(Linear+sigmoid) = [I(O-1), O, 2IO + 2O, 0, 0]; first layer: no dX
    i, o = 4, 18
    assert linear_backward(i, o, "sigmoid") == [i * (o - 1), o, 2 * i * o + 2 * o, 0, 0]
    assert linear_backward(i, o, "sigmoid", input_grad=False) == [0, o, i * o + 2 * o, 0, 0]


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_backward_formula_matches_trace(first, bias):
    b, i, o = 6, 5, 4
    layers = [nn.Linear(i, o, bias=bias), nn.Sigmoid()]
    if not first:
        layers = [nn.Linear(3, i)] + layers
    model = nn.Sequential(*layers)
    r = count(model, input_shape=(b, 3 if not first else i), recipes="paper")
    idx = 0 if first else 1
    got = r.bos(phase="backward", module=f"model.{idx}") + r.bos(phase="backward", module=f"model.{idx + 1}")
    assert got == linear_backward(i, o, "sigmoid", bias=bias, batch=b, input_grad=not first)


@pytest.mark.parametrize("first", [True, False])
def test_conv_backward_formula_matches_trace(first):
    b, c_in, c_out, k, h = 2, 3, 4, 3, 8
    layers = [nn.Conv2d(c_in, c_out, k), nn.GELU(approximate="tanh")]
    if not first:
        layers = [nn.Conv2d(c_in, c_in, 1)] + layers
    r = count(nn.Sequential(*layers), input_shape=(b, c_in, h, h), recipes="paper")
    idx = 0 if first else 1
    got = r.bos(phase="backward", module=f"model.{idx}") + r.bos(phase="backward", module=f"model.{idx + 1}")
    assert got == conv2d_backward(h, h - k + 1, k, c_in, c_out, "gelu", batch=b, input_grad=not first)


def test_paper_flops():
    r = count_paper(nn.Sequential(nn.Linear(4, 18), nn.Sigmoid(), nn.Linear(18, 1)), input_shape=(64, 4))
    assert r.flops(phase="forward") == 2 * 64 * (4 * 18 + 18 * 1)
    # dW for both layers, dx only for the second
    assert r.flops(phase="backward") == 2 * 64 * (4 * 18 + 2 * 18 * 1)
