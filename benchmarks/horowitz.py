"""Transistor-table ratios beside published per-operation energies (Horowitz, ISSCC 2014, 45 nm).

Horowitz's energies (pJ): 16-bit FP add 0.4, mult 1.1; 32-bit FP add 0.9, mult 3.7;
32-bit int add 0.1, mult 3.1. For each hardware profile we print, per format, the mul:add ratio
and the fp32:fp16 ratio of transistors and of transistor-weighted toggles per operation, beside
the same ratios of the measured energies.

Run: python benchmarks/horowitz.py [--hardware paper,throughput] [--vectors 20000]
"""
from __future__ import annotations

import argparse
import time

from gatesim.hardware import load_hardware
from gatesim.tables import build_table

HOROWITZ_PJ = {("add", "fp16"): 0.4, ("mul", "fp16"): 1.1, ("add", "fp32"): 0.9, ("mul", "fp32"): 3.7,
               ("add", "int32"): 0.1, ("mul", "int32"): 3.1}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hardware", default="paper,throughput")
    ap.add_argument("--vectors", type=int, default=20_000)
    args = ap.parse_args()
    for name in args.hardware.split(","):
        prof = load_hardware(name)
        t0 = time.perf_counter()
        tab = build_table(prof.selection, prof.library, prof.mode, ("fp16", "fp32", "int32"), ("add", "mul"),
                          vectors=args.vectors, name=prof.name)
        dt = time.perf_counter() - t0
        tr = lambda op, f: tab.entry(op, f).transistors  # noqa: E731
        tg = lambda op, f: tab.entry(op, f).mean_weighted_toggles  # noqa: E731
        hz = HOROWITZ_PJ
        print(f"\nprofile {prof.name} (library {prof.library}; adder {prof.selection.adder}, "
              f"multiplier {prof.selection.multiplier}); table built in {dt:.1f} s")
        print(f"{'ratio':24s} {'Horowitz energy':>16s} {'transistors':>12s} {'weighted toggles':>17s}")
        for label, (n, d) in {
            "fp16 mul : add": (("mul", "fp16"), ("add", "fp16")),
            "fp32 mul : add": (("mul", "fp32"), ("add", "fp32")),
            "int32 mul : add": (("mul", "int32"), ("add", "int32")),
            "add fp32 : fp16": (("add", "fp32"), ("add", "fp16")),
            "mul fp32 : fp16": (("mul", "fp32"), ("mul", "fp16")),
            "fp32 add : int32 add": (("add", "fp32"), ("add", "int32")),
        }.items():
            print(f"{label:24s} {hz[n] / hz[d]:16.2f} {tr(*n) / tr(*d):12.2f} {tg(*n) / tg(*d):17.2f}")


if __name__ == "__main__":
    main()
