"""Time the trace counter against torch.utils.flop_counter.FlopCounterMode on the same step.

1. In-process, best of N: a GPT-2-small-like language model (12 blocks, d=768, 12 heads, seq 128, vocab 50257,
   built from torch.nn) and a ResNet-50-like CNN (bottleneck blocks 3-4-6-3, 224x224), one training step on meta
   tensors (forward + cross-entropy loss + backward); target: trace counter <= 1.1x FlopCounterMode, same FLOPs.
2. Whole process (``--llama``, needs transformers): a Llama-architecture 7B model (``LlamaConfig()`` defaults,
   batch 1, sequence 2048) built on meta, inference and a training step, each a fresh Python process (imports,
   model construction and the step): gatesim's ``count`` against the same step under ``FlopCounterMode``;
   target <= 1.5x. The inputs carry an explicit 4-D causal mask: without one, transformers' mask code asks for a
   value (``.item()``) that meta tensors do not have, and FlopCounterMode cannot run the step at all.
3. A GRU over 50,000 time steps (``--gru``): a training step with Adam, counted in seconds (target < 5 s).

    python benchmarks/count_models.py [--repeat 5] [--batch 8] [--llama] [--gru]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from gatesim.models import TraceCounter
from gatesim.models.report import Report


# -- GPT-2 small ------------------------------------------------------------------------------------
class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.act = nn.GELU(approximate="tanh")
        self.out = nn.Linear(4 * d, d)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        b, s, d = x.shape
        q, k, v = self.attn(self.ln1(x)).split(d, dim=-1)
        q, k, v = (t.view(b, s, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(b, s, d)))
        return x + self.drop(self.out(self.act(self.fc(self.ln2(x)))))


class GPT2(nn.Module):
    def __init__(self, vocab=50257, seq=128, d=768, heads=12, blocks=12):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(seq, d)
        self.drop = nn.Dropout(0.1)
        self.h = nn.ModuleList(Block(d, heads) for _ in range(blocks))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.drop(self.wte(ids) + self.wpe(pos))
        for blk in self.h:
            x = blk(x)
        return self.lm_head(self.ln_f(x))


# -- ResNet-50 -----------------------------------------------------------------------------------------
class Bottleneck(nn.Module):
    def __init__(self, c_in, width, stride):
        super().__init__()
        c_out = width * 4
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.down = None
        if stride != 1 or c_in != c_out:
            self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.down is None else self.down(x)))


def resnet50(classes=1000):
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    c = 64
    for width, n, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(n):
            layers.append(Bottleneck(c, width, stride if i == 0 else 1))
            c = width * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, classes)]
    return nn.Sequential(*layers)


# -- timing --------------------------------------------------------------------------------------------
def step(model, x, classes):
    out = model(x)
    logits = out.reshape(-1, out.shape[-1])
    target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
    F.cross_entropy(logits, target).backward()


def time_flop_counter(model, x, classes):
    model.zero_grad(set_to_none=True)
    t = time.perf_counter()
    with FlopCounterMode(display=False) as fc:
        step(model, x, classes)
    return time.perf_counter() - t, fc.get_total_flops()


def time_trace(model, x, classes):
    model.zero_grad(set_to_none=True)
    t = time.perf_counter()
    tc = TraceCounter("default", model=model, report=Report(level="training", counter="trace", recipes="default",
                                                            phases=("forward", "loss", "backward")))
    with tc:
        step(model, x, classes)  # phases are not switched here: the step is the same code FlopCounterMode runs
    return time.perf_counter() - t, tc.report


def bench(name, model, x, classes, repeat):
    model.train()
    time_flop_counter(model, x, classes)  # warm-up both (lazy imports, caches)
    time_trace(model, x, classes)
    fc_times, tr_times = [], []
    for _ in range(repeat):
        t, flops = time_flop_counter(model, x, classes)
        fc_times.append(t)
        t, report = time_trace(model, x, classes)
        tr_times.append(t)
    fc_t, tr_t = min(fc_times), min(tr_times)
    ops = sum(report.op_counts.values())
    print(f"{name}: FlopCounterMode {fc_t:.3f} s (median {statistics.median(fc_times):.3f}), "
          f"trace counter {tr_t:.3f} s (median {statistics.median(tr_times):.3f}), ratio {tr_t / fc_t:.2f}x "
          f"[target <= 1.1x]; {ops} aten ops, {len(report.uncounted)} uncounted kinds; "
          f"FLOPs {report.flops():.4g} (FlopCounterMode {flops:.4g}, equal: {report.flops() == flops}); "
          f"BOs {report.bos().total():.4g}")
    return tr_t / fc_t


_LLAMA = """
import time, torch, warnings
warnings.simplefilter("ignore")
from transformers import LlamaConfig, LlamaForCausalLM
level = {level!r}
config = LlamaConfig(use_cache=False)
def factory():
    return LlamaForCausalLM(config)
def inputs(model, device):
    ids = torch.zeros(1, 2048, dtype=torch.long, device=device)
    mask = torch.ones(1, 1, 2048, 2048, dtype=torch.bool, device=device).tril()
    return dict(input_ids=ids, attention_mask=mask)
if {which!r} == "gatesim":
    from gatesim.models import count
    r = count(factory, inputs, level=level, device="meta", loss="cross-entropy")
    print("FLOPS", r.flops(), "UNCOUNTED", dict(r.uncounted))
else:
    import torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode
    with torch.device("meta"):
        m = factory()
    m.train(level == "training")
    x = inputs(m, "meta")
    with FlopCounterMode(display=False) as fc, (torch.enable_grad() if level == "training" else torch.no_grad()):
        logits = m(**x).logits
        if level == "training":
            F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.zeros(2048, dtype=torch.long,
                            device="meta")).backward()
    print("FLOPS", fc.get_total_flops())
"""


def llama_whole_process(repeat: int) -> None:
    import subprocess
    import sys

    for level in ("inference", "training"):
        times = {}
        for which in ("flop_counter", "gatesim"):
            best = None
            for _ in range(repeat):
                t = time.perf_counter()
                proc = subprocess.run([sys.executable, "-c", _LLAMA.format(level=level, which=which)],
                                      capture_output=True, text=True)
                dt = time.perf_counter() - t
                if proc.returncode != 0:
                    raise SystemExit(f"{which} {level} failed: {proc.stderr[-1500:]}")
                best = dt if best is None else min(best, dt)
            times[which] = (best, proc.stdout.strip())
        print(f"Llama 7B ({level}, batch 1, seq 2048), whole process: FlopCounterMode {times['flop_counter'][0]:.2f} s, "
              f"gatesim {times['gatesim'][0]:.2f} s, ratio {times['gatesim'][0] / times['flop_counter'][0]:.2f}x "
              f"[target <= 1.5x]; {times['gatesim'][1]} (FlopCounterMode {times['flop_counter'][1]})")


def gru_long() -> None:
    from gatesim.models import count

    t = time.perf_counter()
    r = count(lambda: nn.GRU(64, 128, batch_first=True), input_shape=(1, 50_000, 64), optimizer="adam")
    dt = time.perf_counter() - t
    print(f"GRU(64 -> 128) over 50,000 steps, training step with Adam: counted in {dt:.2f} s [target < 5 s]; "
          f"{r.bos().total():.4g} BOs, {sum(r.op_counts.values()):,} aten ops priced")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--llama", action="store_true", help="also the Llama 7B whole-process comparison")
    ap.add_argument("--gru", action="store_true", help="also the 50,000-step GRU")
    args = ap.parse_args()
    if args.gru:
        gru_long()
    if args.llama:
        llama_whole_process(max(1, min(args.repeat, 3)))
    torch.manual_seed(0)
    with torch.device("meta"):
        gpt = GPT2()
        ids = torch.zeros(args.batch, 128, dtype=torch.long)
        rn = resnet50()
        img = torch.empty(args.batch, 3, 224, 224)
    r1 = bench("GPT-2 small (12 x 768, seq 128)", gpt, ids, 50257, args.repeat)
    r2 = bench("ResNet-50 (224 x 224)", rn, img, 1000, args.repeat)
    from gatesim.models import count

    for name, factory, shape in (("GPT-2 small", GPT2, (args.batch, 128)), ("ResNet-50", resnet50,
                                                                         (args.batch, 3, 224, 224))):
        t = time.perf_counter()
        r = count(factory, input_shape=shape, loss="cross-entropy", optimizer="adam")
        print(f"{name}: whole count() call (build on meta + forward + loss + backward + Adam step): "
              f"{time.perf_counter() - t:.3f} s, {sum(r.op_counts.values())} aten ops, "
              f"uncounted: {dict(r.uncounted) or 'none'}")
    print(f"worst ratio {max(r1, r2):.2f}x ({'meets' if max(r1, r2) <= 1.1 else 'misses'} the 1.1x target)")


if __name__ == "__main__":
    main()
