"""Transistor-table ratios beside published per-operation energies (Horowitz, ISSCC 2014, 45 nm).

Horowitz's energies (pJ): 16-bit FP add 0.4, mult 1.1; 32-bit FP add 0.9, mult 3.7;
32-bit int add 0.1, mult 3.1. For each hardware profile we print, per format, the mul:add ratio
and the fp32:fp16 ratio of transistors and of transistor-weighted toggles per operation, beside
the same ratios of the measured energies. ``default`` is what ``gatesim table`` builds with no
options (ieee mode, the default designs, the paper library); the other names are hardware profiles.
Issue 10's targets for the ieee mode: fp32 mul:add between 2 and 8, mul fp32:fp16 between 2 and 6.

Tables draw uniformly random operands (ieee mode: uniformly random finite values, every finite bit
pattern equally likely). For the ieee profiles a last column gives the toggle ratios under Gaussian
operands instead (operand distribution ``normal``: N(0, 1) floats, N(0, 2^(w-3)) integers), the
values a network's tensors hold, where a sum's operands have close exponents.

Run: python benchmarks/horowitz.py [--hardware paper,throughput,default,gpu-like] [--vectors 20000]
"""
from __future__ import annotations

import argparse
import time

from gatesim import optimize
from gatesim.formats import get_format
from gatesim.hardware import HardwareProfile, load_hardware
from gatesim.ieee_mode import ieee_operation
from gatesim.operands import operand_activity
from gatesim.tables import DEFAULT_MODE, DesignSelection, build_table

HOROWITZ_PJ = {("add", "fp16"): 0.4, ("mul", "fp16"): 1.1, ("add", "fp32"): 0.9, ("mul", "fp32"): 3.7,
               ("add", "int32"): 0.1, ("mul", "int32"): 3.1}
RATIOS = {
    "fp16 mul : add": (("mul", "fp16"), ("add", "fp16")),
    "fp32 mul : add": (("mul", "fp32"), ("add", "fp32")),
    "int32 mul : add": (("mul", "int32"), ("add", "int32")),
    "add fp32 : fp16": (("add", "fp32"), ("add", "fp16")),
    "mul fp32 : fp16": (("mul", "fp32"), ("mul", "fp16")),
    "fp32 add : int32 add": (("add", "fp32"), ("add", "int32")),
}
TARGETS = {"fp32 mul : add": (2, 8), "mul fp32 : fp16": (2, 6)}  # issue 10, ieee mode


def profile(name: str) -> HardwareProfile:
    if name == "default":
        return HardwareProfile("default", DesignSelection(), "paper", DEFAULT_MODE)
    return load_hardware(name)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hardware", default="paper,throughput,default,gpu-like")
    ap.add_argument("--vectors", type=int, default=20_000)
    args = ap.parse_args()
    for name in args.hardware.split(","):
        prof = profile(name)
        t0 = time.perf_counter()
        tab = build_table(prof.selection, prof.library, prof.mode, ("fp16", "fp32", "int32"), ("add", "mul"),
                          vectors=args.vectors, name=prof.name)
        dt = time.perf_counter() - t0
        tr = lambda op, f: tab.entry(op, f).transistors  # noqa: E731
        tg = lambda op, f: tab.entry(op, f).mean_weighted_toggles  # noqa: E731
        hz = HOROWITZ_PJ
        print(f"\nprofile {prof.name}: mode {prof.mode}, library {prof.library}; adder {prof.selection.adder}, "
              f"multiplier {prof.selection.multiplier}; table built in {dt:.1f} s")
        ieee = prof.mode == "ieee"
        if ieee:
            gauss = {(op, f): normal_toggles(prof, op, f, args.vectors) for op in ("add", "mul")
                     for f in ("fp16", "fp32", "int32")}
        print(f"{'ratio':24s} {'Horowitz energy':>16s} {'transistors':>12s} {'weighted toggles':>17s}"
              + (f" {'toggles, N(0,1)':>16s}" if ieee else ""))
        for label, (n, d) in RATIOS.items():
            target = gaussian = ""
            if ieee:
                gaussian = f" {gauss[n] / gauss[d]:16.2f}"
                if label in TARGETS:
                    lo, hi = TARGETS[label]
                    target = f"   target {lo}..{hi}: {'met' if lo <= tr(*n) / tr(*d) <= hi else 'MISSED'}"
            print(f"{label:24s} {hz[n] / hz[d]:16.2f} {tr(*n) / tr(*d):12.2f} {tg(*n) / tg(*d):17.2f}{gaussian}{target}")


def normal_toggles(prof: HardwareProfile, op: str, fmt: str, vectors: int) -> float:
    """Transistor-weighted toggles per operation of the ieee composite under N(0, 1) operands."""
    net = optimize(ieee_operation(op, get_format(fmt), prof.selection).net)
    act, = operand_activity(net, ["normal"], vectors=vectors, library=prof.library, fmt=fmt)
    return act.mean_weighted_toggles


if __name__ == "__main__":
    main()
