"""Switching cost of a multiply-accumulate under different operands, beside the GPU studies' measured power changes.

A multiply-accumulate (MAC) of a dot product in fmt: the fp-multiplier of fmt on (weight, activation) plus the
fp32 fp-adder accumulating the product into the running sum (how tensor cores accumulate 16-bit products); the
last column is the fused fp32 fp-fma. Units are the ``gpu-like`` profile's complete IEEE 754 units (Kogge-Stone
adders, Dadda multipliers, static CMOS), simulated bit-parallel; the cost is transistor-weighted toggles per
operation: switching TOs per MAC. Operands (``gatesim.activity``: value distributions describe the dot
product's inputs x, y; the adder sees the running sum and x*y):

* zeros; sparse 50% (half zeros, else N(0, 1)); normal N(0, 1); Gaussian weights x ReLU activations;
  low entropy (N(0, 1) rounded to 4 significant bits); uniform: every finite bit pattern of the format equally
  likely (what ieee tables use, the reference);
* sampled: operands captured from a ResNet-18 forward on the CPU (batch 8, 224x224; weights as initialized).

Run: python benchmarks/mac_activity.py [--vectors 20000] [--plot docs/images/mac_activity.png] [--no-sampled]
Prints a markdown table (switching TOs per MAC and the change against uniform operands).
"""
from __future__ import annotations

import argparse
import time

from gatesim.hardware import load_hardware

ROWS = [("zeros", "zeros"), ("sparse:0.5", "sparse 50% (zeros, else N(0,1))"), ("normal", "normal N(0,1)"),
        ("normal:0,0.02+relu-normal", "N(0,0.02) weights x ReLU activations"),
        ("lowbits:4", "low entropy (4 significant bits)"), ("finite", "uniform (random finite patterns)")]
FORMATS = ("fp16", "bf16", "fp32")


def mac_costs(prof, activity, vectors):
    tab = prof.build_table(list(FORMATS), operations=["mul", "add", "fma"], vectors=vectors, activity=activity)
    out = {f: tab.weighted_toggles("mul", f) + tab.weighted_toggles("add", "fp32") for f in FORMATS}
    out["fp32 fma"] = tab.weighted_toggles("fma", "fp32")
    return out, tab


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors", type=int, default=20_000)
    ap.add_argument("--plot", default=None, help="write the bar chart PNG here")
    ap.add_argument("--no-sampled", action="store_true", help="leave out the sampled ResNet-18 row")
    args = ap.parse_args()
    prof = load_hardware("gpu-like")
    rows = list(ROWS)
    results = {}
    t0 = time.perf_counter()
    for spec, label in rows:
        results[label], _ = mac_costs(prof, spec, args.vectors)
    if not args.no_sampled:
        from gatesim.models.builtins import resnet18
        from gatesim.models.sampling import sample_operands

        t = time.perf_counter()
        samples = sample_operands(resnet18, input_shape=(8, 3, 224, 224), level="inference")
        label = "sampled: ResNet-18 forward (batch 8)"
        results[label], tab = mac_costs(prof, samples, args.vectors)
        rows.append((samples, label))
        print(f"(sampled {sum(f['samples'] for f in samples.families.values()):,} operations from "
              f"{len(samples.families)} op families in {time.perf_counter() - t:.1f} s; table activity {tab.activity})")
    ref = results["uniform (random finite patterns)"]
    cols = list(FORMATS) + ["fp32 fma"]
    print(f"\n(gpu-like units, {args.vectors:,} operations per unit, {time.perf_counter() - t0:.0f} s)\n")
    print("| operands | " + " | ".join(f"{c} MAC" if c in FORMATS else "fp32 FMA" for c in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for _, label in rows:
        r = results[label]
        print(f"| {label} | " + " | ".join(f"{r[c]:,.0f} ({100 * (r[c] / ref[c] - 1):+.0f}%)" for c in cols) + " |")
    z = results["zeros"]
    print("\nzeros vs uniform: " + ", ".join(f"{c} {100 * (1 - z[c] / ref[c]):.0f}% fewer" for c in cols))
    if args.plot:
        plot(results, [label for _, label in rows], cols, ref, args.plot)
        print(f"wrote {args.plot}")


def plot(results, labels, cols, ref, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(10, 4.8))
    x = np.arange(len(labels))
    w = 0.8 / len(cols)
    for k, c in enumerate(cols):
        vals = [results[lab][c] / ref[c] for lab in labels]
        ax.bar(x + (k - (len(cols) - 1) / 2) * w, vals, w, label=f"{c} MAC" if c != "fp32 fma" else "fp32 FMA")
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    import textwrap

    ax.set_xticks(x, [textwrap.fill(lab, 16) for lab in labels], fontsize=8)
    for i, lab in enumerate(labels):
        if all(results[lab][c] == 0 for c in cols):
            ax.text(i, 0.02, "0", ha="center", fontsize=9)
    ax.set_ylabel("switching TOs per MAC / uniform operands")
    ax.set_title("Switching cost of a multiply-accumulate by operands (gpu-like IEEE units)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
