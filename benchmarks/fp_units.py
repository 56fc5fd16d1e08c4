"""The IEEE 754 units: transistors per unit and format under yosys-cmos beside Berkeley HardFloat, and
the speed targets of issue 10, in one run.

* Counts: every unit at fp16, bf16, fp32 and fp64 with the default integer designs (ripple-carry
  adders, Booth-Wallace multiplier, SRT divider, Newton-Raphson root, logarithmic shifter, tree
  leading-zero counter), round to nearest even, subnormals; optimized by ``gatesim.optimize`` when
  the engine has it (the "raw" column is the netlist as built). HardFloat: its addRecFN / mulRecFN
  synthesized by Yosys (``stat -tech cmos``, before ABC), the figures issue 10 quotes.
* Speed: build + optimize + count of the fp64 FMA (target < 3 s); fp32 multiplies simulated on one
  core, by the numba kernel alone and through ``simulate()`` with packing (target >= 5M ops/s).

``--hardware gpu-like`` builds the units of a hardware profile's designs instead (the library stays
yosys-cmos, HardFloat's).

Run: python benchmarks/fp_units.py [--formats fp16,bf16,fp32,fp64] [--units fp-adder,...] [--hardware NAME]
     [--speed-only]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np

import circuits
import gatesim
from gatesim import compile_netlist, count, simulate
from gatesim.simulation import pack_inputs, set_threads, simulate_planes

HARDFLOAT = {  # Yosys raw `stat -tech cmos` transistors of HardFloat's units (issue 10)
    ("fp-adder", "fp16"): 10_694, ("fp-multiplier", "fp16"): 12_550,
    ("fp-adder", "fp32"): 22_788, ("fp-multiplier", "fp32"): 43_554,
    ("fp-adder", "fp64"): 50_744, ("fp-multiplier", "fp64"): 173_476,
}
UNITS = ["fp-adder", "fp-multiplier", "fp-fma", "fp-divider", "fp-sqrt", "fp-compare", "fp-convert"]
OPTIMIZE = getattr(gatesim, "optimize", None)


def convert_params(fmt: str) -> dict:
    return {"to": "fp32" if fmt != "fp32" else "fp16"}


def counts(units, formats, designs=None):
    opt = "optimized" if OPTIMIZE else "as built (gatesim.optimize not available)"
    print(f"Transistors under yosys-cmos, {opt}; fp-convert converts to fp32 (fp32 to fp16); designs: "
          f"{designs or 'the defaults'}\n")
    print("| unit | format | gates | logic depth | transistors | raw | HardFloat | ours / HardFloat | build (s) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for unit in units:
        for fmt in formats:
            t0 = time.perf_counter()
            roles = {r: v for r, v in (designs or {}).items() if r in circuits.get(unit).roles}
            net = circuits.build(unit, format=fmt, **roles, **(convert_params(fmt) if unit == "fp-convert" else {}))
            raw = count(net, "yosys-cmos")
            c = count(OPTIMIZE(net), "yosys-cmos") if OPTIMIZE else raw
            dt = time.perf_counter() - t0
            hf = HARDFLOAT.get((unit, fmt))
            ratio = f"{c.transistors / hf:.2f}" if hf else ""
            print(f"| {unit} | {fmt} | {c.gate_count:,} | {c.logic_depth} | {c.transistors:,} | {raw.transistors:,} | "
                  f"{f'{hf:,}' if hf else ''} | {ratio} | {dt:.2f} |", flush=True)


def speed(vectors: int):
    t0 = time.perf_counter()
    net = circuits.build("fp-fma", format="fp64")
    if OPTIMIZE:
        net = OPTIMIZE(net)
    c = count(net, "yosys-cmos")
    dt = time.perf_counter() - t0
    print(f"\nfp64 FMA: build{' + optimize' if OPTIMIZE else ''} + count {dt:.2f} s "
          f"({c.gate_count:,} gates, {c.transistors:,} transistors; target < 3 s)")
    net = circuits.build("fp-multiplier", format="fp32")
    if OPTIMIZE:
        net = OPTIMIZE(net)
    cn = compile_netlist(net)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 1 << 32, vectors, dtype=np.uint64)
    b = rng.integers(0, 1 << 32, vectors, dtype=np.uint64)
    set_threads(1)  # one core
    simulate(net, a=a[:4096], b=b[:4096])  # compile the kernels
    best_k = best_s = float("inf")
    planes, n = pack_inputs(cn, {"a": a, "b": b})
    for _ in range(3):
        t0 = time.perf_counter()
        simulate_planes(cn, planes, n, threads=1)
        best_k = min(best_k, time.perf_counter() - t0)
        t0 = time.perf_counter()
        simulate(net, a=a, b=b)
        best_s = min(best_s, time.perf_counter() - t0)
    print(f"fp32 multiplier ({cn.n_gates:,} gates), {vectors:,} random operand pairs, one core: kernel "
          f"{vectors / best_k / 1e6:.2f} M ops/s, simulate() with packing {vectors / best_s / 1e6:.2f} M ops/s "
          f"(target >= 5 M ops/s)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--formats", default="fp16,bf16,fp32,fp64")
    ap.add_argument("--units", default=",".join(UNITS))
    ap.add_argument("--vectors", type=int, default=4_000_000, help="operand pairs for the simulation speed")
    ap.add_argument("--hardware", help="build the units of this hardware profile's designs (e.g. gpu-like)")
    ap.add_argument("--speed-only", action="store_true")
    args = ap.parse_args()
    designs = None
    if args.hardware:
        from gatesim.hardware import load_hardware

        designs = load_hardware(args.hardware).selection.choices
    if not args.speed_only:
        counts(args.units.split(","), args.formats.split(","), designs)
    speed(args.vectors)


if __name__ == "__main__":
    main()
