"""Transistor counts of every registered design under every built-in cell library, as a Markdown table.

Also times build + compile + count of each netlist (one run, wall clock).
Run: python benchmarks/transistor_counts.py [--widths 11,24,53,64] [--kind adder]
"""
from __future__ import annotations

import argparse
import time

import circuits
from gatesim import builtin_libraries, compile_netlist, count


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--widths", default="11,24,53,64")
    ap.add_argument("--kind", default=None, help="only designs of this kind (adder, multiplier, ...)")
    args = ap.parse_args()
    widths = [int(w) for w in args.widths.split(",")]
    libs = builtin_libraries()
    print("| design | width | gates | logic depth | " + " | ".join(f"transistors ({lib})" for lib in libs) + " | build+compile+count (s) |")
    print("|---|---:|---:|---:|" + "---:|" * len(libs) + "---:|")
    for d in circuits.designs():
        if args.kind and d.kind != args.kind:
            continue
        for w in widths:
            if w < d.min_width or (d.max_width is not None and w > d.max_width):
                continue
            t0 = time.perf_counter()
            net = circuits.build(d.name, w)
            compile_netlist(net)
            results = [count(net, lib) for lib in libs]
            dt = time.perf_counter() - t0
            r = results[0]
            cells = " | ".join(f"{x.transistors:,}" for x in results)
            print(f"| {d.name} | {w} | {r.gate_count:,} | {r.logic_depth} | {cells} | {dt:.3f} |")


if __name__ == "__main__":
    main()
