"""Real models: device fallback, formats as they run (autocast, accumulators, int8, complex), FMA pairs, bytes
moved, recurrent layers priced from their shapes, sorting and the ops the zoos emit."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gatesim.models import CountingError, TraceCounter, bo, count
from gatesim.models.recipes_select import bitonic_compares, heap_select_compares


def meta(*shape, dtype=torch.float32):
    return torch.empty(*shape, device="meta", dtype=dtype)


def _ops(fn, *tensors, **kw):
    with TraceCounter(**kw) as tc:
        fn(*tensors)
    return tc.report


# -- fallback -------------------------------------------------------------------------------------------------------
class ItemModel(nn.Module):
    """Branches on a value, as BART's end-of-sequence check does: meta and fake tensors cannot answer .item()."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x):
        h = self.a(x)
        scale = float(h.abs().max().item()) + 1.0
        return self.b(h / scale)


class CpuTensorInside(nn.Module):
    """Makes a tensor on the CPU inside forward (XLNet does): meta fails, fake tensors take it."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) + torch.ones(4)


def test_item_falls_back_to_real_cpu_tensors_and_says_so():
    r = count(ItemModel, input_shape=(2, 4), optimizer="adam")
    assert r.device == "cpu"
    assert [d for d, _ in r.attempts] == ["meta", "fake"]
    assert "meta" in r.attempts[0][1] and "item" in r.attempts[0][1].lower()
    assert not r.uncounted and r.bos(module="model.b", phase="forward") == bo(mul=2 * 4 * 4, add=2 * 4 * 4)
    d = r.to_dict()
    assert d["device"] == "cpu" and d["fallbacks"][0]["device"] == "meta"
    assert "not counted on meta" in r.to_table()


def test_fallback_respects_the_size_limit_and_forced_devices():
    with pytest.raises(CountingError, match=r"needs real values.*limit"):
        count(ItemModel, input_shape=(2, 4), cpu_limit=100)
    with pytest.raises(CountingError, match="item"):
        count(ItemModel, input_shape=(2, 4), device="meta")
    # a shape error is no reason to fall back: it is reported at once, from meta
    with pytest.raises(CountingError, match="reduction dim") as e:
        count(ItemModel, input_shape=(2, 5))
    assert "on fake" not in str(e.value)


class WidthsFromATensor(nn.Module):
    """Computes its layer widths with tensor arithmetic in the constructor, as torchvision's RegNet does: on meta
    as the default device ``.tolist()`` has no values."""

    def __init__(self):
        super().__init__()
        widths = (torch.round(torch.arange(1, 3) * 2.6) * 4).int().tolist()  # [12, 20]
        self.register_buffer("scale", torch.ones(widths[1]))
        self.a = nn.Linear(4, widths[0])
        self.b = nn.Linear(widths[0], widths[1])

    def forward(self, x):
        return self.b(self.a(x)) * self.scale


def test_a_constructor_that_reads_its_own_tensors_builds_on_meta():
    r = count(WidthsFromATensor, input_shape=(2, 4), level="inference")
    assert r.device == "meta" and not r.attempts
    assert r.bos(module="model.b") == bo(mul=2 * 12 * 20, add=2 * 12 * 20)


class CodesThenAudio(nn.Module):
    """Returns integer codes before the decoded values, as audio codecs (EnCodec, Mimi) do."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(4, 4)
        self.dec = nn.Linear(4, 4)

    def forward(self, x):
        codes = self.enc(x).argmax(-1)
        return codes, self.dec(x)


def test_the_loss_is_taken_on_the_first_floating_point_output():
    r = count(CodesThenAudio, input_shape=(2, 4), optimizer="sgd")
    assert r.bos(module="model.dec", phase="backward").mul > 0 and r.bos(module="model.enc", phase="backward") == bo()


class ConvertsInForward(nn.Module):
    """Converts a layer to float64 inside forward, as Switch Transformers' router does under autocast."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        self.fc.to(torch.float64)
        return self.fc(x.double()).float()


def test_a_module_that_converts_its_parameters_in_forward_falls_back_from_fake_tensors():
    r = count(ConvertsInForward, input_shape=(2, 4), optimizer="adamw", amp="bf16")  # autocast: fake first
    assert r.device == "cpu" and r.attempts[0][0] == "fake" and "swap" in r.attempts[0][1]
    assert r.bos_by_format(phase="forward")["fp64"].mul == 2 * 4 * 4  # the Linear, in the format it chose


def test_tensor_made_on_the_cpu_inside_forward_counts_on_fake_tensors():
    r = count(CpuTensorInside, input_shape=(2, 4), level="inference")
    assert r.device == "fake" and r.attempts[0][0] == "meta"
    assert r.bos().add == 2 * 4 * 4 + 2 * 4  # the Linear's dot products and bias, then + ones(4)


# -- formats ----------------------------------------------------------------------------------------------------------
def test_bf16_autocast_matmul_multiplies_in_bf16_and_accumulates_in_fp32():
    b, i, o = 8, 16, 4
    r = count(lambda: nn.Linear(i, o), input_shape=(b, i), level="inference", amp="bf16")
    by = r.bos_by_format()
    assert r.amp == "bf16" and r.device == "fake"
    assert by["bf16"] == bo(mul=b * i * o)
    assert by["fp32"].add == b * o * i  # k - 1 adds per output plus the bias
    assert r.to_dict()["by_format"]["bf16"]["mul"] == b * i * o
    # --accumulate moves the adds; fp32 models are untouched by the default
    r16 = count(lambda: nn.Linear(i, o), input_shape=(b, i), level="inference", amp="bf16", accumulate="bf16")
    assert set(r16.bos_by_format()) == {"bf16"}
    assert count(lambda: nn.Linear(i, o), input_shape=(b, i), level="inference").formats() == ["fp32"]


def test_fma_pairs_are_priced_as_fma_only_when_the_table_has_one():
    class Table:
        def __init__(self, fma):
            self.fma = fma

        def transistors(self, op, fmt):
            if op == "fma" and not self.fma:
                raise KeyError("no fma")
            return {"add": 10, "sub": 10, "mul": 100, "div": 100, "root": 100, "compare": 1, "fma": 105}[op]

    r = count(lambda: nn.Linear(16, 4, bias=False), input_shape=(8, 16), level="inference")
    pairs = r.fma_pairs()["fp32"]
    assert pairs == 8 * 4 * 15  # min(mul, add) of the dot products: one product per output starts the chain
    v = r.bos()
    assert r.tos(Table(False)) == v.mul * 100 + v.add * 10
    assert r.tos(Table(True)) == pairs * 105 + (v.mul - pairs) * 100 + (v.add - pairs) * 10


def test_complex_arithmetic_is_priced_as_real_operations():
    z = torch.randn(5, dtype=torch.complex64)
    r = _ops(lambda a: a * a, z)
    assert r.bos_by_format() == {"fp32": bo(mul=4 * 5, add=5, sub=5)}
    assert _ops(torch.abs, z).bos_by_format() == {"fp32": bo(mul=10, add=5, root=5)}
    n = 16
    fft = _ops(torch.fft.fft, torch.randn(n, dtype=torch.complex64)).bos()
    assert fft == bo(mul=4, add=3, sub=3) * (n // 2 * 4)


def test_real_inputs_hold_finite_values():
    """Uninitialized CPU inputs could hold NaN, which made quantization observers fail now and then."""
    from gatesim.models.trace import make_inputs

    (x,) = make_inputs(nn.Linear(4, 2), (64, 4), device="cpu")
    (y,) = make_inputs(nn.Linear(4, 2), (64, 4), device="cpu")
    assert torch.isfinite(x).all() and x.std() > 0.5 and torch.equal(x, y)
    assert make_inputs(nn.Linear(4, 2), (2, 4))[0].device.type == "meta"


def test_int8_dynamic_quantized_linear():
    b, i, o = 4, 32, 8
    r = count(lambda: nn.Sequential(nn.Linear(i, o), nn.ReLU()), input_shape=(b, i), level="inference",
              quantize="int8-dynamic")
    by = r.bos_by_format()
    assert r.device == "cpu" and "quantized.linear_dynamic" in r.op_counts and not r.uncounted
    assert by["int8"].mul == b * o * i
    assert by["int32"].add == b * o * (i - 1)
    assert by["fp32"].compare >= 3 * b * i  # quantizing the activations: round and clamp
    with pytest.raises(CountingError, match="backward"):
        count(lambda: nn.Linear(i, o), input_shape=(b, i), quantize="int8-dynamic")


def test_int8_static_quantized_conv_net():
    from torch.ao import quantization as q

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.quant, self.dequant = q.QuantStub(), q.DeQuantStub()
            self.conv = nn.Conv2d(3, 4, 3)
            self.relu = nn.ReLU()
            self.fc = nn.Linear(4 * 6 * 6, 5)

        def forward(self, x):
            x = self.relu(self.conv(self.quant(x)))
            return self.dequant(self.fc(x.flatten(1)))

    torch.manual_seed(0)
    m = Net().eval()
    m.qconfig = q.get_default_qconfig("fbgemm")
    q.fuse_modules(m, [["conv", "relu"]], inplace=True)
    q.prepare(m, inplace=True)
    m(torch.randn(2, 3, 8, 8))
    q.convert(m, inplace=True)
    r = count(m, input_shape=(2, 3, 8, 8), level="inference")
    assert r.device == "cpu" and not r.uncounted, r.uncounted
    by = r.bos_by_format()
    conv_macs = 2 * 4 * 6 * 6 * 3 * 9
    assert by["int8"].mul == conv_macs + 2 * 5 * 4 * 6 * 6  # 8-bit products
    assert by["int32"].add > 0 and by["fp32"].mul > 0  # accumulation; (re)quantization


# -- bytes --------------------------------------------------------------------------------------------------------------
def test_linear_training_step_bytes_equal_a_hand_computation():
    b, i, o, f = 4, 3, 2, 4  # batch, inputs, outputs, bytes per fp32
    r = count(lambda: nn.Linear(i, o), input_shape=(b, i), optimizer="sgd")
    fwd = f * (o + b * i + o * i) + f * b * o  # addmm reads bias, x, W; writes y
    loss = f * b * o + (f * 2 * b * o + f)  # zero target written; mse reads y and target, writes a scalar
    bwd = (f  # d loss = 1
           + f * (1 + 2 * b * o) + f * b * o  # mse backward reads g, y, target; writes dy
           + f * (b * o + b * i) + f * o * i  # dW = dy^T x
           + f * b * o + f * o)  # db = sum(dy)
    opt = 2 * (f * o * i + f * o) + 3 * (f * o * i + f * o)  # momentum buffer = clone(grad); p += -lr buf
    assert r.bytes(phase="forward") == fwd
    assert r.bytes(phase="loss") == loss
    assert r.bytes(phase="backward") == bwd
    assert r.bytes(phase="optimizer") == opt
    assert r.bytes() == fwd + loss + bwd + opt
    d = r.to_dict()
    assert d["total"]["bytes"] == r.bytes() == d["total"]["bytes_read"] + d["total"]["bytes_written"]
    assert d["by_phase"]["forward"]["launches"] == 1
    assert "bytes" in r.to_table().splitlines()[0]
    assert all("bytes" in row for row in d["rows"])


def test_views_move_no_bytes_and_broadcasts_are_read_once():
    x = meta(64, 32)
    assert _ops(lambda a: a.t().unsqueeze(0).view(1, 32, 64).expand(3, 32, 64), x).bytes() == 0
    bias = meta(32)
    r = _ops(lambda a, c: a + c.expand(64, 32), x, bias)
    assert r.bytes() == 4 * (64 * 32 + 32) + 4 * 64 * 32


# -- recurrent layers ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [nn.GRU, nn.LSTM])
def test_recurrent_layers_priced_from_shapes_equal_the_step_by_step_count(cls):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.r = cls(4, 6, num_layers=2, batch_first=True, dropout=0.1)
            self.h = nn.Linear(6, 3)

        def forward(self, x):
            return self.h(self.r(x)[0])

    fast = count(M, input_shape=(2, 30, 4), optimizer="adam")
    slow = count(M, input_shape=(2, 30, 4), optimizer="adam", recurrent=False)
    assert set(fast.records) == set(slow.records)
    for key, rec in slow.records.items():
        mine = fast.records[key]
        assert (mine.counts, mine.flops, mine.bytes, mine.ops, mine.fma) == \
               (rec.counts, rec.flops, rec.bytes, rec.ops, rec.fma), key
    assert fast.op_counts == slow.op_counts
    assert sum(fast.op_counts.values()) > 30 * 40  # the step-by-step count, without running it


def test_long_gru_does_not_run_its_steps():
    m = lambda: nn.GRU(8, 16, batch_first=True)  # noqa: E731
    short = count(m, input_shape=(1, 100, 8), optimizer="adam")
    long = count(m, input_shape=(1, 50_000, 8), optimizer="adam")
    per_step = (short.bos(phase="forward").mul - count(m, input_shape=(1, 99, 8), optimizer="adam")
                .bos(phase="forward").mul)
    assert long.bos(phase="forward").mul == short.bos(phase="forward").mul + (50_000 - 100) * per_step > 0


# -- sorting, selection, zoo ops ------------------------------------------------------------------------------------------
def test_sort_and_topk_are_priced_as_compares():
    assert bitonic_compares(8) == 4 * 3 * 4 // 2 == 24
    assert bitonic_compares(5) == bitonic_compares(8) and bitonic_compares(1) == 0
    n = 1 << 20
    x = meta(n)
    r = _ops(lambda a: (torch.sort(a), torch.topk(a, 10)), x)
    assert r.bos() == bo(compare=bitonic_compares(n) + heap_select_compares(n, 10) + bitonic_compares(10))
    assert r.bos().compare == (n // 2) * 20 * 21 // 2 + n * (1 + 4) + 8 // 2 * 4 * 5 // 2 * 2
    assert not r.uncounted


def test_ops_the_zoos_emit_have_recipes():
    x = meta(2, 3, 8, 8)
    ids = torch.zeros(4, 6, dtype=torch.long, device="meta")
    calls = [
        lambda: F.interpolate(x, scale_factor=2, mode="nearest"),
        lambda: F.interpolate(x, scale_factor=2, mode="bilinear"),
        lambda: ids & 1, lambda: ~(ids > 0), lambda: torch.cumsum(ids.int(), 1),
        lambda: torch.zeros(4, 6, device="meta").scatter_add(1, ids, meta(4, 6)),
        lambda: torch.gather(meta(4, 6), 1, ids), lambda: torch.searchsorted(meta(10), meta(3)),
        lambda: torch.tril(meta(5, 5)), lambda: torch.randn(3, 4, device="meta"),
        lambda: torch.linspace(0, 1, 7, device="meta"), lambda: torch.logspace(0, 2, 7, device="meta"),
        lambda: torch._is_all_true(ids > 0),
        lambda: torch.nn.utils.parametrizations.weight_norm(nn.Linear(3, 3, device="meta"))(meta(2, 3)),
    ]
    for call in calls:
        with TraceCounter(strict=True):
            call()
    r = _ops(lambda: F.interpolate(x, scale_factor=2, mode="bilinear"))
    assert r.bos() == bo(mul=6 * 2 * 3 * 16 * 16 + 2 * 32, add=3 * 2 * 3 * 16 * 16)
    assert _ops(lambda: torch.cumsum(ids.int(), 1)).bos_by_format() == {"int32": bo(add=4 * 5)}
    # substitution with a 2 x (5 x 5) triangle for 3 right-hand sides: 10 multiply-subtracts and 5 divisions each
    a, b = meta(2, 5, 5), meta(2, 5, 3)
    assert _ops(lambda: torch.linalg.solve_triangular(a, b, upper=False)).bos() == bo(mul=60, sub=60, div=30)
    assert _ops(lambda: torch.linalg.solve_triangular(a, b, upper=True, unitriangular=True)).bos() == bo(
        mul=60, sub=60)
    assert _ops(lambda: torch.aminmax(meta(4, 6), dim=1)).bos() == bo(compare=2 * 4 * 5)
    # distances between 4 and 6 points in 3-D (a codec's nearest code): norms, one matmul of d + 2 terms, roots
    assert _ops(lambda: torch._euclidean_dist(meta(4, 3), meta(6, 3))).bos() == bo(
        mul=2 * 4 * 3 + 6 * 3 + 24 * 5, add=10 * 2 + 24 * 4, compare=24, root=24)


def test_grouped_mm_counts_on_meta_in_fp32():
    a, w = meta(12, 8), meta(3, 8, 5)
    offs = torch.tensor([4, 8, 12], dtype=torch.int32, device="meta")
    r = _ops(lambda: torch._grouped_mm(a, w, offs=offs))
    assert r.bos() == bo(mul=12 * 8 * 5, add=12 * 5 * 7) and r.flops() == 2 * 12 * 8 * 5
    half = _ops(lambda: torch._grouped_mm(a.bfloat16(), w.bfloat16(), offs=offs)).bos_by_format()
    assert half["bf16"] == bo(mul=12 * 8 * 5) and half["fp32"] == bo(add=12 * 5 * 7)


class HugeExperts(nn.Module):
    """1024 experts of 8192 x 8192 in fp32 (256 GiB): their weight gradient exists only as a fake tensor."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.empty(1024, 8192, 8192))

    def forward(self, x):
        offs = torch.full((1024,), x.shape[0], dtype=torch.int32, device=x.device)  # every token to the last one
        return torch._grouped_mm(x, self.w, offs=offs)


def test_grouped_mm_in_fp32_on_fake_tensors_allocates_nothing():
    # the meta kernel refuses fp32; the output made in its place must be fake too, not a real 256 GiB tensor
    r = count(HugeExperts, input_shape=(16, 8192), device="fake", optimizer="sgd")
    assert not r.uncounted and r.bos(phase="forward").mul == 16 * 8192 * 8192
    # the weights' gradient (the input needs none), after the MSE gradient's scale per output
    assert r.bos(phase="backward").mul == 16 * 8192 * 8192 + 16 * 8192 + 1


def test_scaled_mm_fp8():
    a = meta(16, 32, dtype=torch.float8_e4m3fn)
    b = meta(64, 32, dtype=torch.float8_e4m3fn).t()
    one = torch.ones((), device="meta")
    r = _ops(lambda: torch._scaled_mm(a, b, one, one, out_dtype=torch.bfloat16))
    by = r.bos_by_format()
    assert by["fp8-e4m3"] == bo(mul=16 * 64 * 32)
    assert by["fp32"] == bo(add=16 * 64 * 31, mul=2 * 16 * 64)  # accumulation, then scale_a * scale_b


def test_a_zoo_without_its_package_is_a_clear_usage_error():
    from click.testing import CliRunner

    from gatesim.cli import cli
    from gatesim.models.zoo import zoo_status

    ok, why = zoo_status("torchvision")
    if ok:
        pytest.skip("torchvision works here")
    res = CliRunner().invoke(cli, ["estimate", "torchvision:resnet18", "--no-tos"])
    assert res.exit_code == 2 and "torchvision is not usable here" in res.output and "Traceback" not in res.output


def test_an_operation_the_table_has_no_unit_for_is_left_out_and_named():
    from gatesim.tables import TransistorTable

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.e = nn.Embedding(50, 4)

        def forward(self, ids):
            return self.e(ids) + self.e(torch.arange(ids.shape[1], device=ids.device) // 2)

    r = count(M, input_shape=(2, 6), level="inference")
    assert r.bos_by_format()["int64"].div == 6
    ints = {"add": 3, "sub": 4, "mul": 30, "compare": 5}  # an integer datapath without a divider
    tab = TransistorTable.from_numbers({"fp32": {"add": 1, "sub": 1, "mul": 1, "div": 1, "root": 1, "compare": 1},
                                        "int64": ints})
    assert r.unpriced(tab) == {"int64": {"div": 6}}
    v = r.bos_by_format()
    want = sum(v["fp32"].to_dict().values()) + sum(n * ints[op] for op, n in v["int64"].items() if n and op != "div")
    assert r.to_dict(table=tab)["total"]["tos"] == want and r.to_dict(table=tab)["tos_unpriced"] == {"int64": {"div": 6}}
    assert "div on int64 x6" in r.to_table(table=tab)
    with pytest.raises(CountingError, match="div on int64"):
        r.tos(tab)  # the API without unpriced= still refuses
    with pytest.raises(CountingError, match="fp16"):
        count(M, input_shape=(2, 6), level="inference", dtype="fp16").to_dict(table=tab)  # a missing format


def test_cli_int8_amp_and_accumulate(tmp_path):
    import json

    from click.testing import CliRunner

    from gatesim.models.cli import estimate

    f = tmp_path / "m.py"
    f.write_text("from torch import nn\n\ndef net():\n    return nn.Sequential(nn.Linear(8, 4), nn.ReLU())\n")
    run = lambda *a: CliRunner().invoke(estimate, [f"{f}:net", "--input-shape", "2,8", "--json", *a])  # noqa: E731
    d = json.loads(run("--dtype", "int8").output)  # quantized, and counted at inference level
    assert d["phases"] == ["forward"] and d["by_format"]["int8"]["mul"] == 2 * 4 * 8 and d["device"] == "cpu"
    d = json.loads(run("--amp", "bf16", "--level", "inference", "--accumulate", "fp32").output)
    assert d["amp"] == "bf16" and d["by_format"]["bf16"]["mul"] == 2 * 4 * 8 and d["by_format"]["fp32"]["add"] > 0
    res = run("--quantize", "int8-dynamic", "--level", "training")
    assert res.exit_code == 2 and "no backward" in res.output
    res = run("--dtype", "int16")
    assert res.exit_code == 2 and "int8" in res.output
    res = run("--accumulate", "fp7")
    assert res.exit_code == 2 and "fp7" in res.output


class TopkRouter(nn.Module):
    """Routes each row to its top-2 of 3 experts (a mixture of experts): which experts win depends on the
    parameters, how many rows each gets is read off the chosen indices."""

    def __init__(self):
        super().__init__()
        self.gate = nn.Linear(4, 3)
        self.experts = nn.ModuleList(nn.Linear(4, 4) for _ in range(3))

    def forward(self, x):
        _, idx = self.gate(x).topk(2, dim=-1)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            rows = (idx == e).any(-1).nonzero().squeeze(-1)
            if rows.numel() == 0:
                continue
            out = out.index_add(0, rows, expert(x[rows]))
        return out


def test_topk_indices_the_parameters_choose_are_the_first_candidates_on_fake_tensors():
    r = count(TopkRouter, input_shape=(5, 4), level="inference")
    assert r.device == "fake" and not r.uncounted
    per = [r.bos(module=f"model.experts.{e}", phase="forward") for e in range(3)]
    assert per == [bo(mul=5 * 16, add=5 * 16)] * 2 + [bo()]  # every row picks experts 0 and 1: k work per row
    assert any("top-k" in n for n in r.notes)


class MaskedRows(nn.Module):
    """Keeps the rows an input mask selects (``h[ids > 0]``): the size comes from the inputs, the rows from the
    parameters."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x, ids):
        return self.fc(x)[ids > 0] * 2


def test_rows_an_input_mask_selects_count_as_on_the_cpu():
    def inputs(model, device):
        return torch.randn(6, 4).to(device), torch.tensor([1, 0, 2, 0, 3, 4]).to(device)

    fake = count(MaskedRows, inputs, optimizer="adam")
    assert fake.device == "fake"  # the counts and bytes are data-dependent sizes (symbols) with real values
    cpu = count(MaskedRows, inputs, optimizer="adam", device="cpu")
    for phase in cpu.phases:
        assert fake.bos(phase=phase) == cpu.bos(phase=phase) and fake.bytes(phase=phase) == cpu.bytes(phase=phase)
    assert fake.bos(module="model", phase="forward").mul == 6 * 16 + 4 * 4  # the Linear on 6 rows, then 4 kept


def test_a_training_step_of_a_frozen_model_is_a_clear_error():
    def frozen():
        return nn.Linear(4, 4).requires_grad_(False)

    with pytest.raises(CountingError, match="no trainable parameters"):
        count(frozen, input_shape=(2, 4), optimizer="adamw")
