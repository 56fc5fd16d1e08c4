"""Transistors before and after gatesim.optimize, and its time, as a Markdown table.

Run: python benchmarks/optimize.py [--widths 24,53] [--kind multiplier,divider,sqrt] [--libraries yosys-cmos,paper]
Times are CPU seconds of one optimize call (the netlist already compiled, garbage collected before), so
other load on the machine does not count.
"""
from __future__ import annotations

import argparse
import gc
import time

import circuits
from gatesim import compile_netlist, count, optimize


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--widths", default="24,53")
    ap.add_argument("--kind", default="multiplier,divider,sqrt", help="design kinds, comma separated")
    ap.add_argument("--libraries", default="yosys-cmos,paper")
    args = ap.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    kinds = args.kind.split(",")
    libs = args.libraries.split(",")
    head = "| design | width | gates | gates optimized | " + " | ".join(f"{lib} | {lib} optimized" for lib in libs)
    print(head + " | optimize (s) |")
    print("|---|---:|---:|---:|" + "---:|---:|" * len(libs) + "---:|")
    for d in circuits.designs():
        if d.kind not in kinds:
            continue
        for w in widths:
            if w < d.min_width or (d.max_width is not None and w > d.max_width):
                continue
            net = circuits.build(d.name, w)
            compile_netlist(net)
            gc.collect()  # garbage of earlier designs is not this call's
            t0 = time.process_time()
            opt = optimize(net)
            dt = time.process_time() - t0
            raw = [count(net, lib) for lib in libs]
            new = [count(opt, lib) for lib in libs]
            cols = " | ".join(f"{r.transistors:,} | {n.transistors:,}" for r, n in zip(raw, new))
            print(f"| {d.name} | {w} | {raw[0].gate_count:,} | {new[0].gate_count:,} | {cols} | {dt:.2f} |")


if __name__ == "__main__":
    main()
