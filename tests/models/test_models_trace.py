"""The trace counter: recipes, registry overrides, uncounted ops, strict mode, meta tensors, formats, TOs."""
import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gatesim.models import (DEFAULT_RECIPES, FREE, CountingError, TraceCounter, bo, count,
                            get_recipes, transistor_operations)
from gatesim.models.recipes import EXP, GELU, GELU_TANH, SIGMOID, TANH


class NumbersTable:
    """A stand-in transistor table built from plain numbers."""

    def __init__(self, numbers):
        self.numbers = numbers

    def transistors(self, operation, fmt):
        return self.numbers[fmt][operation]


TABLE = NumbersTable({
    "fp32": {"add": 10, "sub": 11, "mul": 100, "div": 120, "root": 500, "compare": 7},
    "fp16": {"add": 5, "sub": 6, "mul": 30, "div": 40, "root": 200, "compare": 4},
})


def _ops(fn, *tensors, recipes="default", **kw):
    with TraceCounter(recipes, **kw) as tc:
        fn(*tensors)
    return tc.report


def meta(*shape, dtype=torch.float32):
    return torch.empty(*shape, device="meta", dtype=dtype)


def test_mm_addmm_bmm_conv_recipes():
    assert _ops(torch.mm, meta(3, 5), meta(5, 7)).bos() == bo(mul=3 * 5 * 7, add=3 * 7 * 4)
    assert _ops(torch.addmm, meta(7), meta(3, 5), meta(5, 7)).bos() == bo(mul=105, add=105)
    assert _ops(torch.bmm, meta(2, 3, 5), meta(2, 5, 7)).bos() == bo(mul=210, add=2 * 21 * 4)
    x, w = meta(2, 3, 10, 10), meta(4, 3, 3, 3)
    r = _ops(lambda a, b: F.conv2d(a, b, torch.empty(4, device="meta")), x, w)
    macs = 2 * 4 * 8 * 8 * 3 * 9
    assert r.bos() == bo(mul=macs, add=macs)
    assert r.flops() == 2 * macs
    assert _ops(F.conv2d, x, w).bos() == bo(mul=macs, add=macs - 2 * 4 * 8 * 8)


def test_pointwise_per_element_and_inplace_and_foreach():
    x = meta(4, 6)
    assert _ops(torch.sigmoid, x).bos() == SIGMOID * 24
    assert _ops(torch.sigmoid, x, recipes="paper").bos() == bo(add=24, sub=24, div=24, root=24)
    assert _ops(lambda t: t.sigmoid_(), meta(4, 6)).bos() == SIGMOID * 24
    assert _ops(torch.tanh, x).bos() == TANH * 24
    assert _ops(F.gelu, x).bos() == GELU * 24
    assert _ops(lambda t: F.gelu(t, approximate="tanh"), x).bos() == GELU_TANH * 24
    assert _ops(torch.exp, x).bos() == EXP * 24
    assert _ops(lambda a: torch._foreach_mul_([a, meta(3)], 2.0), x).bos() == bo(mul=27)
    assert _ops(lambda a: a * 2 + 1, x).bos() == bo(mul=24, add=24)
    assert _ops(lambda a: a.pow(2), x).bos() == bo(mul=24)
    assert _ops(lambda a: a.pow(0.5), x).bos() == bo(root=24)
    assert _ops(F.relu, x).bos() == bo(compare=24)


def test_reductions_norms_softmax():
    x = meta(4, 6)
    assert _ops(lambda a: a.sum(), x).bos() == bo(add=23)
    assert _ops(lambda a: a.mean(-1), x).bos() == bo(add=20, div=4)
    assert _ops(lambda a: a.amax(-1), x).bos() == bo(compare=20)
    sm = _ops(lambda a: F.softmax(a, -1), x).bos()
    assert sm == bo(compare=20, sub=24, add=20, div=24) + EXP * 24
    ln = _ops(lambda a: F.layer_norm(a, (6,)), x).bos()
    assert ln.root == 4 and ln.mul == 2 * 24
    assert _ops(lambda a: F.batch_norm(a, None, None, training=True), meta(2, 3, 4)).bos().root == 3
    assert _ops(lambda a: F.group_norm(a, 2), meta(2, 4, 5)).bos().root == 4


def test_views_and_copies_are_explicitly_free():
    for op in ("aten.view", "aten.t", "aten.transpose", "aten.clone", "aten.detach", "aten.expand", "aten._to_copy"):
        assert DEFAULT_RECIPES.lookup(__import__("gatesim.models.recipes", fromlist=["_packet"])._packet(op)) is FREE
    r = _ops(lambda a: a.view(6, 4).t().contiguous().clone(), meta(4, 6))
    assert r.bos().total() == 0 and not r.uncounted and r.op_counts["aten.view"] == 1
    assert "aten.view" in DEFAULT_RECIPES.free_ops()


def test_uncounted_ops_are_reported_by_name_and_count_and_strict_raises():
    rs = DEFAULT_RECIPES.copy("no-sigmoid")
    rs.remove("aten.sigmoid")
    model = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 3), nn.Sigmoid())
    r = count(model, input_shape=(2, 4), recipes=rs)
    assert r.uncounted == {"aten.sigmoid": 2}
    assert r.uncounted_where["aten.sigmoid"] == ("model.1", "forward")
    assert "aten.sigmoid x2" in r.to_table()
    assert r.to_dict()["uncounted"] == {"aten.sigmoid": 2}
    with pytest.raises(CountingError, match=r"aten.sigmoid.*model.1.*forward"):
        count(model, input_shape=(2, 4), recipes=rs, strict=True)


def test_user_override_changes_counts_and_leaves_builtin_sets_alone():
    rs = get_recipes("default").copy("mine")
    rs.register("aten.sigmoid", {"div": 1})
    rs.register(torch.ops.aten.mm, lambda args, kwargs, out: bo(mul=1))
    assert _ops(torch.sigmoid, meta(5), recipes=rs).bos() == bo(div=5)
    assert _ops(torch.mm, meta(3, 5), meta(5, 7), recipes=rs).bos() == bo(mul=1)
    assert _ops(torch.sigmoid, meta(5)).bos() == SIGMOID * 5
    assert isinstance(rs.describe()["aten.sigmoid"], dict)
    with pytest.raises(ValueError):
        rs.register("aten.no_such_op_xyz", {"add": 1})
    with pytest.raises(TypeError):
        rs.register("aten.exp", 3)


def test_phases_and_module_attribution():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    r = count(model, input_shape=(16, 4), optimizer="sgd")
    assert r.phases == ("forward", "loss", "backward", "optimizer")
    assert r.bos(phase="forward", module="model.1") == TANH * 16 * 8
    assert r.bos(phase="backward", module="model.1") == bo(sub=128, mul=256)
    assert r.bos(phase="loss", module="(loss)").total() > 0
    assert r.bos(phase="optimizer", module="(optimizer)").total() > 0
    assert r.bos(module="model") == sum(r.bos(module=f"model.{i}") for i in range(3))
    assert count(model, input_shape=(16, 4), level="validation").phases == ("forward", "loss")
    inf = count(model, input_shape=(16, 4), level="inference")
    assert inf.phases == ("forward",) and inf.bos() == r.bos(phase="forward")


def test_meta_tensors_make_huge_models_free():
    # 4 x 50k x 50k parameters: 40 GB in fp32 if materialised
    factory = lambda: nn.Sequential(*[nn.Linear(50_000, 50_000) for _ in range(4)])
    t = time.perf_counter()
    r = count(factory, input_shape=(8, 50_000), optimizer="adam")
    assert time.perf_counter() - t < 10
    assert r.bos(phase="forward").mul == 4 * 8 * 50_000 * 50_000


def test_module_instance_is_not_modified():
    model = nn.Linear(3, 2)
    w = model.weight.detach().clone()
    count(model, input_shape=(4, 3), optimizer="sgd")
    assert model.weight.device.type == "cpu" and torch.equal(model.weight, w)


def test_integer_inputs_and_cross_entropy():
    model = nn.Sequential(nn.Embedding(100, 8), nn.Linear(8, 100))
    r = count(model, input_shape=(2, 5), loss="cross-entropy")
    assert r.bos(phase="backward", module="model.0") == bo(add=2 * 5 * 8)  # embedding_dense_backward
    assert not r.uncounted


def test_dtype_follows_tensors_and_can_be_forced():
    model = lambda: nn.Sequential(nn.Linear(4, 4), nn.GELU())
    r16 = count(model, input_shape=(2, 4), dtype="fp16")
    # the Linear layers' dot products accumulate in fp32; everything else stays in fp16
    assert r16.formats() == ["fp16", "fp32"]
    assert r16.bos_by_format()["fp32"].mul == 0 and r16.bos_by_format()["fp32"].add > 0
    assert count(model, input_shape=(2, 4), dtype="fp16", accumulate="fp16").formats() == ["fp16"]
    r32 = count(model, input_shape=(2, 4))
    assert r32.formats() == ["fp32"] and r16.bos() == r32.bos()
    forced = count(model, input_shape=(2, 4), fmt="fp16")
    assert forced.formats() == ["fp16"]


def test_tos_join_with_a_table_of_plain_numbers():
    model = lambda: nn.Sequential(nn.Linear(4, 18), nn.Sigmoid(), nn.Linear(18, 1))
    r = count(model, input_shape=(64, 4), recipes="paper")
    v = r.bos()
    expected = sum(n * TABLE.numbers["fp32"][op] for op, n in v.items())
    assert r.tos(TABLE) == expected == transistor_operations(v, TABLE, "fp32")
    assert r.tos(TABLE, fmt="fp16") == sum(n * TABLE.numbers["fp16"][op] for op, n in v.items())
    r16 = count(model, input_shape=(64, 4), recipes="paper", dtype="fp16", accumulate="fp16")
    assert r16.tos(TABLE) == r.tos(TABLE, fmt="fp16")
    mixed = count(model, input_shape=(64, 4), recipes="paper", dtype="fp16")  # dot products accumulate in fp32
    by = mixed.bos_by_format()
    assert mixed.tos(TABLE) == sum(n * TABLE.numbers[f][op] for f, v in by.items() for op, n in v.items())
    assert by["fp32"].add > 0 and by["fp32"].mul == 0
    d = r.to_dict(table=TABLE)
    assert d["total"]["tos"] == expected and d["rows"][-1]["tos"] == expected
    assert r.tos(TABLE, phase="forward") + r.tos(TABLE, phase="loss") + r.tos(TABLE, phase="backward") == expected
    with pytest.raises(CountingError, match="bf16"):
        count(model, input_shape=(64, 4), dtype="bf16").tos(TABLE)


def test_bad_arguments_raise_counting_errors():
    with pytest.raises(CountingError, match="level"):
        count(nn.Linear(2, 2), input_shape=(1, 2), level="testing")
    with pytest.raises(CountingError, match="loss"):
        count(nn.Linear(2, 2), input_shape=(1, 2), loss="hinge")
    with pytest.raises(CountingError, match="counter"):
        count(nn.Linear(2, 2), input_shape=(1, 2), counter="fvcore")
    with pytest.raises(CountingError, match=r"model\.0"):
        count(nn.Sequential(nn.Linear(3, 2)), input_shape=(1, 4))
    with pytest.raises(ValueError):
        get_recipes("nope")


def test_table_csv_json_outputs():
    r = count(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), input_shape=(2, 4))
    text = r.to_table(table=TABLE)
    assert "(total)" in text and "tos" in text and "uncounted ops: none" in text
    csv = r.to_csv()
    assert csv.splitlines()[0].startswith("module,phase,add,sub,mul,div,root,compare")
    assert '"level": "training"' in r.to_json()


def test_attention_fused_cpu_flops_match_torch_formula():
    from torch.utils.flop_counter import sdpa_flop_count

    q = torch.randn(2, 3, 8, 4)
    r = _ops(lambda a: F.scaled_dot_product_attention(a, a, a), q)
    assert "aten._scaled_dot_product_flash_attention_for_cpu" in r.op_counts
    assert r.flops() == sdpa_flop_count((2, 3, 8, 4), (2, 3, 8, 4), (2, 3, 8, 4))
    assert r.bos().mul >= 2 * 2 * 3 * 8 * 8 * 4


def test_load_recipes_from_toml(tmp_path):
    from gatesim.models import load_recipes

    f = tmp_path / "costs.toml"
    f.write_text('[recipes]\n"aten.sigmoid" = {div = 2}\n"aten.exp" = "free"\n')
    rs = load_recipes(f)
    assert rs.name == "costs"
    assert _ops(torch.sigmoid, meta(3), recipes=rs).bos() == bo(div=6)
    assert _ops(torch.exp, meta(3), recipes=rs).bos().total() == 0
    assert _ops(torch.sigmoid, meta(3)).bos() == SIGMOID * 3  # the base set is unchanged


def test_fused_attention_variants_share_one_recipe_and_torch_flops():
    from torch.utils.flop_counter import FlopCounterMode

    aten = torch.ops.aten
    q = meta(2, 3, 8, 4)  # (batch, heads, seq, dim)
    qs = meta(2, 8, 3, 4)  # (batch, seq, heads, dim) for the raw kernels
    calls = {
        "efficient": lambda: aten._scaled_dot_product_efficient_attention(q, q, q, None, True),
        "flash": lambda: aten._scaled_dot_product_flash_attention(q, q, q),
        "cudnn": lambda: aten._scaled_dot_product_cudnn_attention(q, q, q, None, True),
        "flash_cpu": lambda: aten._scaled_dot_product_flash_attention_for_cpu(q, q, q),
        "raw_flash": lambda: aten._flash_attention_forward(qs, qs, qs, None, None, 8, 8, 0.0, False, False),
        "raw_efficient": lambda: aten._efficient_attention_forward(qs, qs, qs, None, None, None, 8, 8, 0.0, 0, True),
    }
    results = {}
    for name, call in calls.items():
        with TraceCounter() as tc:
            call()
        assert not tc.report.uncounted, name
        results[name] = tc.report.bos()
        if name in ("efficient", "flash", "cudnn"):
            with FlopCounterMode(display=False) as fc:
                call()
            assert tc.report.flops() == fc.get_total_flops() == 2 * 2 * (2 * 3 * 8 * 8 * 4)
    assert len(set(results.values())) == 1
    bh, s, d = 6, 8, 4
    assert results["flash"].mul == bh * s * s * d * 2 + bh * s * s + EXP.mul * bh * s * s  # QK^T, PV, scale, exp
    assert results["flash"].compare == bh * s * (s - 1)  # row max of the softmax


def test_training_loss_goes_on_the_first_output_a_parameter_reaches():
    """A keypoint detector returns coordinates no parameter reaches before the scores that are trained: the loss
    of a training step is taken on the scores (the first floating-point output that requires grad)."""
    class Detector(nn.Module):
        def __init__(self):
            super().__init__()
            self.score = nn.Linear(8, 1)

        def forward(self, x):
            coords = (x[:, :2] * 2).detach()  # no parameter on its path
            return coords, self.score(x)

    r = count(Detector(), torch.randn(4, 8), optimizer="sgd")
    assert r.bos(phase="backward").mul > 0 and r.bos(phase="loss").mul > 0


def test_a_model_with_only_integer_outputs_has_no_training_step():
    class Codes(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(8, 4)

        def forward(self, x):
            return self.proj(x).argmax(-1)

    with pytest.raises(CountingError, match="model output has dtype torch.int64"):
        count(Codes(), torch.randn(4, 8))
    assert count(Codes(), torch.randn(4, 8), level="inference").bos().mul == 4 * 8 * 4


def test_inference_mode_counts_what_autograd_would_have_decomposed():
    """Under torch.inference_mode (a model's own forward may use it) composite ops such as aten.linear and
    aten.layer_norm reach the counter whole: they are counted through their parts, as without it."""
    m = nn.Sequential(nn.Linear(8, 4), nn.GELU(), nn.LayerNorm(4))
    x = torch.randn(2, 8)
    plain = count(m, x, level="inference")
    with torch.inference_mode():
        inside = count(m, x, level="inference")
    assert not inside.uncounted and inside.bos() == plain.bos() and inside.flops() == plain.flops()


class _Tracker(nn.Module):
    """A video tracker's shape: a learned query (a parameter passed to a sub-module) and a forward under
    torch.inference_mode, as transformers' SAM video models have."""

    class Inner(nn.Module):
        def forward(self, q, x):
            return q @ x.T

    def __init__(self):
        super().__init__()
        self.latents = nn.Parameter(torch.randn(4, 8))
        self.inner = self.Inner()

    @torch.inference_mode()
    def forward(self, x):
        return self.inner(self.latents, x)


def test_a_forward_under_inference_mode_has_no_training_step_and_counts_as_inference():
    with pytest.raises(CountingError, match="forward runs under torch.inference_mode: it has no training step"):
        count(_Tracker(), torch.randn(2, 8))
    r = count(_Tracker(), torch.randn(2, 8), level="inference")  # a parameter given to a module: tracked too
    assert not r.uncounted and r.bos(module="model.inner").mul == 4 * 8 * 2
