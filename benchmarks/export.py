"""Export time against count time, per format, as a Markdown table.

Run: python benchmarks/export.py [--designs newton-raphson-sqrt:53,booth-wallace-multiplier:53,kogge-stone-adder:64]
A row times what the commands do after building: ``gatesim count`` (optimize + count) and ``gatesim export``
(optimize + write), in CPU seconds (best of --repeat runs, a fresh netlist each), so other load on the
machine does not count. The ratio is export over count.
"""
from __future__ import annotations

import argparse
import gc
import time
from functools import partial

import circuits
from gatesim import count, optimize, to_json
from gatesim.hdl import to_blif, to_verilog, to_yosys_json

WRITERS = {
    "verilog": to_verilog,
    "yosys-verilog": lambda n: to_verilog(n, style="yosys"),
    "yosys-json": to_yosys_json,
    "blif": to_blif,
    "json": to_json,
}


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--designs", default="newton-raphson-sqrt:53,booth-wallace-multiplier:53,kogge-stone-adder:64")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print("| design | width | gates | count (s) | " + " | ".join(f"{f} (s)" for f in WRITERS) + " | worst ratio |")
    print("|---|---:|---:|---:|" + "---:|" * len(WRITERS) + "---:|")
    for item in args.designs.split(","):
        name, width = item.split(":")
        w = int(width)
        t_build = best(partial(circuits.build, name, w), args.repeat)
        t_count = best(partial(count_command, name, w), args.repeat) - t_build
        gates = count(optimize(circuits.build(name, w))).gate_count
        cols = [best(partial(export_command, f, name, w), args.repeat) - t_build for f in WRITERS]
        print(f"| {name} | {width} | {gates:,} | {t_count:.2f} | " + " | ".join(f"{t:.2f}" for t in cols)
              + f" | {max(cols) / t_count:.1f}x |")


def count_command(name: str, width: int):
    return count(optimize(circuits.build(name, width)), "static-cmos")


def export_command(fmt: str, name: str, width: int):
    return WRITERS[fmt](optimize(circuits.build(name, width)))


if __name__ == "__main__":
    main()
