"""Build + compile + count time, and 100k-vector simulation time, of the paper's ALU designs at 53 bits.

Targets (issue 3): each build+compile+count < 1 s, each 100k-vector simulation < 1 s, one core.
Run: python benchmarks/build.py [--width 53] [--vectors 100000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import circuits
from gatesim import compile_netlist, count, simulate
from gatesim.verify import random_vectors

DESIGNS = ["booth-wallace-multiplier", "srt-divider", "newton-raphson-sqrt"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--width", type=int, default=53)
    ap.add_argument("--vectors", type=int, default=100_000)
    args = ap.parse_args()
    circuits.build("ripple-carry-adder", 4)  # load the numba kernels once
    simulate(circuits.build("ripple-carry-adder", 4), a=1, b=2, cin=0)
    print(f"{'design':26s} {'width':>5s} {'gates':>7s} {'build+compile+count':>20s} {'simulate ' + str(args.vectors):>17s}")
    for name in DESIGNS:
        builds = []
        for _ in range(3):  # fresh builds (shared sub-designs are cached after the first)
            t0 = time.perf_counter()
            net = circuits.build(name, args.width)
            c = compile_netlist(net)
            count(net, "static-cmos")
            builds.append(time.perf_counter() - t0)
        vecs = random_vectors({p: len(b) for p, b in net.inputs.items()}, args.vectors, np.random.default_rng(0))
        t0 = time.perf_counter()
        simulate(net, **vecs)
        sim = time.perf_counter() - t0
        print(f"{name:26s} {args.width:5d} {c.n_gates:7d} {f'{builds[0]:.3f} s (then {min(builds[1:]):.3f})':>20s} {sim:15.3f} s")


if __name__ == "__main__":
    main()
